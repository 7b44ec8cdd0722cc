//! A stored ranking names every script that fed it, not only the scoring script: the
//! eligibility rules decide which activities count and the targets script sets the targets
//! some indicators are measured against. `rules_hash` is the SHA-256 over all of them, so a
//! change of any marks the stored ranking outdated. Rankings stored before have none.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000009_score_snapshots::ScoreSnapshot;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Column {
    RulesHash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ScoreSnapshot::Table)
                    .add_column(string_null(Column::RulesHash))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ScoreSnapshot::Table)
                    .drop_column(Column::RulesHash)
                    .to_owned(),
            )
            .await
    }
}
