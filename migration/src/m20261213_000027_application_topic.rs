//! An application may name the platform's online topic (话题) it is for, as it may name an
//! activity: cultural goods go to activities *and topics* with more than 100 participants
//! (DOMAIN.md §5.3), counted on the topic.

use sea_orm_migration::prelude::*;

use crate::common::{drop_column, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IncentiveApplication {
    Table,
    TopicId,
}

/// SQLite adds no foreign key to a table but in a column's own definition, which both
/// databases read alike.
const ADD: &str = "ALTER TABLE incentive_application ADD COLUMN topic_id BIGINT NULL \
     CONSTRAINT fk_incentive_application_topic REFERENCES topic (id) ON DELETE RESTRICT";

const INDEX: &str = "idx_incentive_application_topic_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(ADD).await?;
        let (table, column) = (IncentiveApplication::Table, IncentiveApplication::TopicId);
        index(manager, INDEX, table, [column]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(IncentiveApplication::Table)
                    .to_owned(),
            )
            .await?;
        let (table, column) = (IncentiveApplication::Table, IncentiveApplication::TopicId);
        drop_column(manager, table, column).await
    }
}
