//! Figure rollups (see [`crate::rollup`]): the table `figure_rollup`, each activity's kept
//! loop counts and approval, the conditions of the activity rules in force (written by the
//! server when it puts activity rules in force), the triggers that keep them, and the rows
//! computed once from the events already stored.

use sea_orm_migration::prelude::*;

use crate::rollup;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The activity columns this migration adds: the loop counts and the approval.
const ACTIVITY_COLUMNS: &[(&str, &str)] = &[
    ("checkin_count", "BIGINT NOT NULL DEFAULT 0"),
    ("comment_count", "BIGINT NOT NULL DEFAULT 0"),
    ("review_count", "BIGINT NOT NULL DEFAULT 0"),
    ("photo_count", "BIGINT NOT NULL DEFAULT 0"),
    ("photos_after_end_count", "BIGINT NOT NULL DEFAULT 0"),
    ("like_count", "BIGINT NOT NULL DEFAULT 0"),
    ("heavyweight_approved", "BOOLEAN NOT NULL DEFAULT FALSE"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for (column, ty) in ACTIVITY_COLUMNS {
            db.execute_unprepared(&format!("ALTER TABLE activity ADD COLUMN {column} {ty}"))
                .await?;
        }
        db.execute_unprepared(&rollup::create_table(backend, "figure_rollup", false))
            .await?;
        // Scoring reads the rows of a grain and a span of days.
        db.execute_unprepared(
            "CREATE INDEX idx_figure_rollup_grain_day ON figure_rollup (grain, day)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE TABLE activity_rule_condition (figure TEXT NOT NULL \
             CONSTRAINT pk_activity_rule_condition PRIMARY KEY, at_least BIGINT NOT NULL)",
        )
        .await?;
        // The rollups read the rest of the activity rules from here (migration 24 made it
        // for databases created before it).
        db.execute_unprepared(rollup::CREATE_SETTINGS).await?;
        let (from, to) = rollup::all_days(backend);
        for (_, statement) in rollup::rebuild_plan(backend, &from, &to) {
            db.execute_unprepared(&statement).await?;
        }
        rollup::create_triggers(db).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        rollup::drop_triggers(db).await?;
        db.execute_unprepared("DROP TABLE activity_rule_condition")
            .await?;
        db.execute_unprepared("DROP TABLE IF EXISTS rule_setting")
            .await?;
        db.execute_unprepared("DROP TABLE figure_rollup").await?;
        for (column, _) in ACTIVITY_COLUMNS {
            db.execute_unprepared(&format!("ALTER TABLE activity DROP COLUMN {column}"))
                .await?;
        }
        Ok(())
    }
}
