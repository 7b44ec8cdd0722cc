//! The change feed of stored rankings: one row each time a ranking is stored, recomputed,
//! becomes outdated under a new rule release, or current again. Partners pull it from a
//! cursor (its id); rows are committed in id order (the writers take one lock), so a pull
//! never skips a row that appears later.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScoreChange {
    Table,
    Id,
    SnapshotId,
    Kind,
    RuleSet,
    Level,
    Period,
    Version,
    ContentHash,
    /// For `outdated`: the scoring script's hash in effect for the period now.
    InEffectHash,
    ChangedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScoreChange::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ScoreChange::Id))
                    .col(big_integer(ScoreChange::SnapshotId))
                    .col(string_len(ScoreChange::Kind, 16))
                    .col(string(ScoreChange::RuleSet))
                    .col(string(ScoreChange::Level))
                    .col(string(ScoreChange::Period))
                    .col(string(ScoreChange::Version))
                    .col(string(ScoreChange::ContentHash))
                    .col(string_null(ScoreChange::InEffectHash))
                    .col(timestamp_with_time_zone(ScoreChange::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_score_change_snapshot")
                    .table(ScoreChange::Table)
                    .col(ScoreChange::SnapshotId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScoreChange::Table).to_owned())
            .await
    }
}
