//! Rows kept for reading at scale (see [`crate::rollup`]): `figure_rollup` accepts the
//! towns' totals (`M`, `Y`) and the all-time rows (`a`), its triggers keep them, and they are
//! added up once from the month and year rows already kept. The Youth Homes of a town are
//! counted from an index of the org units.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DbBackend, TransactionTrait};

use crate::rollup;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The room kept free on the pages of the tables updated by every write (PostgreSQL).
const FILL_FACTORS: &[&str] = &[
    "ALTER TABLE figure_rollup SET (fillfactor = 70)",
    "ALTER TABLE activity SET (fillfactor = 90)",
];

/// The rows of the grains this migration adds.
const ADDED_ROWS: &str = "DELETE FROM figure_rollup WHERE grain IN ('M', 'Y', 'a')";

const GRAIN_INDEX: &str = "CREATE INDEX idx_figure_rollup_grain_day ON figure_rollup (grain, day)";

/// Replaces the grain check of `figure_rollup` with `check`: in place on PostgreSQL; on
/// SQLite, which cannot alter a constraint, by copying the table (its triggers are dropped
/// meanwhile).
async fn grain_check(
    db: &SchemaManagerConnection<'_>,
    backend: DbBackend,
    check: &str,
) -> Result<(), DbErr> {
    match backend {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "ALTER TABLE figure_rollup DROP CONSTRAINT ck_figure_rollup_grain, \
                 ADD CONSTRAINT ck_figure_rollup_grain CHECK ({check})"
            ))
            .await?;
        }
        _ => {
            // One connection throughout: another one of the pool could still hold the
            // schema from before the copy (and take the index for one that exists).
            let tx = db.begin().await?;
            let created = rollup::create_table(backend, "figure_rollup_next", false)
                .replace(rollup::GRAIN_CHECK, check);
            tx.execute_unprepared(&created).await?;
            tx.execute_unprepared("INSERT INTO figure_rollup_next SELECT * FROM figure_rollup")
                .await?;
            tx.execute_unprepared("DROP TABLE figure_rollup").await?;
            tx.execute_unprepared("ALTER TABLE figure_rollup_next RENAME TO figure_rollup")
                .await?;
            tx.execute_unprepared(GRAIN_INDEX).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        rollup::drop_triggers(db).await?;
        grain_check(db, backend, rollup::GRAIN_CHECK).await?;
        db.execute_unprepared(ADDED_ROWS).await?;
        let (first, last) = rollup::all_days(backend);
        for (_, statement) in rollup::town_rows(backend, "figure_rollup", &first, &last) {
            db.execute_unprepared(&statement).await?;
        }
        db.execute_unprepared(&rollup::all_time_rows(backend, "figure_rollup"))
            .await?;
        rollup::create_triggers(db).await?;
        db.execute_unprepared(
            "CREATE INDEX idx_org_unit_kind_town ON org_unit (kind, town_id, registered, founded_on)",
        )
        .await?;
        if backend == DbBackend::Postgres {
            // Room on each page for the new versions of the rows every write updates (a
            // rollup's counts, an activity's kept counts): updated in place of the page
            // (HOT), without touching the indexes. Pages written from now on; `VACUUM FULL`
            // applies it to the pages of an existing table.
            for statement in FILL_FACTORS {
                db.execute_unprepared(statement).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        db.execute_unprepared("DROP INDEX idx_org_unit_kind_town")
            .await?;
        if backend == DbBackend::Postgres {
            for table in ["figure_rollup", "activity"] {
                db.execute_unprepared(&format!("ALTER TABLE {table} RESET (fillfactor)"))
                    .await?;
            }
        }
        // The triggers of the version before, which keep none of those rows.
        rollup::drop_triggers(db).await?;
        db.execute_unprepared(ADDED_ROWS).await?;
        grain_check(db, backend, "grain IN ('d', 'm', 'y')").await?;
        for statement in rollup::trigger_statements(backend, rollup::Keeping::PerUnit) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
