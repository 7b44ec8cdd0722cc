//! Refused changes of the rules are kept beside the releases: every attempt that failed its
//! checks (from the folder or from the API) is a row of `rule_release` with the outcome
//! `rejected` and every error, so that the history and the audit log show it. A rejected
//! attempt has no parent and holds no files; the release in force is the latest one
//! `released`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RuleRelease {
    Table,
    /// `released` or `rejected`.
    Outcome,
    /// For a rejected attempt, its errors (JSON: a list of `{ script, line, column, keyPath,
    /// message }`).
    Errors,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RuleRelease::Table)
                    .add_column(string(RuleRelease::Outcome).default("released"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RuleRelease::Table)
                    .add_column(text_null(RuleRelease::Errors))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rule_release_outcome")
                    .table(RuleRelease::Table)
                    .col(RuleRelease::Outcome)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM rule_release WHERE outcome = 'rejected'")
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_rule_release_outcome")
                    .table(RuleRelease::Table)
                    .to_owned(),
            )
            .await?;
        for column in [RuleRelease::Errors, RuleRelease::Outcome] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RuleRelease::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
