//! One vote per member and topic: a partial unique index over votes only (comments may
//! repeat). The service checks first for a clear message; this index settles races.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Partial indexes are written the same way on SQLite and PostgreSQL.
const CREATE: &str = "CREATE UNIQUE INDEX uq_topic_participation_vote \
     ON topic_participation (topic_id, member_id) WHERE kind = 'vote'";
const DROP: &str = "DROP INDEX uq_topic_participation_vote";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(CREATE).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DROP).await?;
        Ok(())
    }
}
