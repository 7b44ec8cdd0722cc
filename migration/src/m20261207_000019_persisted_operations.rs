//! Persisted operations: the GraphQL documents the front-end teams register (`qii queries
//! register`). In allow-list mode the server runs only these; every replica reads the same
//! list from the database.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersistedOperation {
    Table,
    /// SHA-256 of the document's exact text, in lowercase hex: what clients send as
    /// `extensions.persistedQuery.sha256Hash`.
    Hash,
    Body,
    OperationNames,
    Kind,
    Source,
    RegisteredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PersistedOperation::Table)
                    .if_not_exists()
                    .col(string_len(PersistedOperation::Hash, 64).primary_key())
                    .col(text(PersistedOperation::Body))
                    .col(text(PersistedOperation::OperationNames))
                    .col(string_len(PersistedOperation::Kind, 16))
                    .col(text(PersistedOperation::Source))
                    .col(timestamp_with_time_zone(PersistedOperation::RegisteredAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersistedOperation::Table).to_owned())
            .await
    }
}
