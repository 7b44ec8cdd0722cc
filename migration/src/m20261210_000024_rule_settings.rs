//! What the activity rules decide beyond their conditions — what makes a question valid,
//! whether answers count only to valid questions, whether a heavyweight activity counts
//! before its application is approved, and which date puts an activity in a period — is
//! kept in `rule_setting`, which the rollups' triggers read. The settings written here are
//! those the rollups were kept by until now, so nothing they hold changes; the server puts
//! the values of its rules in force when it starts (re-deriving what they move).

use sea_orm_migration::prelude::*;

use crate::rollup;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // A database created since this migration was written has the table already
        // (migration 21 makes it, as its triggers read it).
        db.execute_unprepared(rollup::CREATE_SETTINGS).await?;
        rollup::drop_triggers(db).await?;
        for statement in rollup::write_settings(rollup::SETTINGS) {
            db.execute_unprepared(&statement).await?;
        }
        rollup::create_triggers(db).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The triggers read the table; with the settings of before, they count as before.
        let db = manager.get_connection();
        for statement in rollup::write_settings(rollup::SETTINGS) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
