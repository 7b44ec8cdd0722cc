//! Bulk insertion of generated rows with pre-assigned ids, a progress bar per stage and a log
//! line per table.
//!
//! Ids are assigned by the generator (starting after the table's current `MAX(id)`) so that
//! children can reference their parents without reading anything back. PostgreSQL's identity
//! sequences do not see explicit ids, so [`Loader::finish`] moves each one past the new maximum.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, IntoActiveModel, Iterable,
    Statement,
};

/// Rows per INSERT statement: with at most 17 columns this stays far below SQLite's limit of
/// 32,766 bound parameters (and PostgreSQL's 65,535).
/// Bound parameters per INSERT: below SQLite's limit of 32,766 (PostgreSQL allows 65,535).
/// Few large statements load far faster than many small ones, on PostgreSQL especially.
const MAX_PARAMS: usize = 30_000;

/// Inserts generated rows into one transaction.
pub(crate) struct Loader<'a> {
    txn: &'a DatabaseTransaction,
    progress: bool,
    /// Tables that received explicit ids, for the PostgreSQL sequence reset.
    tables: Vec<String>,
    /// The rollup triggers are dropped for the load (rebuilt and recreated by `finish`).
    rollups_suspended: bool,
}

impl<'a> Loader<'a> {
    pub fn new(txn: &'a DatabaseTransaction, progress: bool) -> Self {
        Self {
            txn,
            progress,
            tables: Vec::new(),
            rollups_suspended: false,
        }
    }

    /// The first free id of a table: one past its current maximum.
    pub async fn next_id<E: EntityTrait + Default>(&self) -> anyhow::Result<i64> {
        let table = E::default().table_name().to_owned();
        let backend = self.txn.get_database_backend();
        let sql = format!("SELECT MAX(id) AS max_id FROM {}", quote(backend, &table));
        let row = self
            .txn
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .with_context(|| format!("reading the largest id of {table}"))?;
        let max: Option<i64> = match row {
            Some(row) => row
                .try_get("", "max_id")
                .with_context(|| format!("MAX(id) of {table}"))?,
            None => None,
        };
        Ok(max.unwrap_or(0) + 1)
    }

    /// Inserts `rows` in chunks, showing a progress bar labelled `stage`.
    pub async fn insert<E>(
        &mut self,
        stage: &'static str,
        rows: Vec<E::Model>,
    ) -> anyhow::Result<u64>
    where
        E: EntityTrait + Default,
        E::Model: IntoActiveModel<E::ActiveModel> + Send,
    {
        let table = E::default().table_name().to_owned();
        let total = rows.len() as u64;
        if !self.rollups_suspended {
            // Row by row, the triggers would cost more than the load: the rollups are
            // computed once from everything loaded instead.
            migration::rollup::drop_triggers(self.txn)
                .await
                .context("suspending the rollup triggers for the load")?;
            self.rollups_suspended = true;
        }
        let bar = self.bar(stage, total);
        let per_chunk = MAX_PARAMS / E::Column::iter().count().max(1);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<E::ActiveModel> = rows
                .by_ref()
                .take(per_chunk)
                .map(IntoActiveModel::into_active_model)
                .collect();
            let n = chunk.len() as u64;
            E::insert_many(chunk)
                .exec_without_returning(self.txn)
                .await
                .with_context(|| format!("inserting demo rows into {table}"))?;
            bar.inc(n);
        }
        bar.finish();
        tracing::info!(stage, table = %table, rows = total, "demo: inserted");
        if !self.tables.contains(&table) {
            self.tables.push(table);
        }
        Ok(total)
    }

    /// Recomputes the rollups from everything loaded and recreates their triggers, and lets
    /// PostgreSQL's identity sequences continue after the explicitly assigned ids.
    pub async fn finish(self) -> anyhow::Result<()> {
        let backend = self.txn.get_database_backend();
        if self.rollups_suspended {
            let bar = self.bar("rollups", 0);
            let (from, to) = migration::rollup::all_days(backend);
            let statements = migration::rollup::rebuild_plan(backend, &from, &to);
            bar.set_length(statements.len() as u64);
            for (_, statement) in statements {
                self.txn
                    .execute_unprepared(&statement)
                    .await
                    .context("computing the rollups of the loaded rows")?;
                bar.inc(1);
            }
            migration::rollup::create_triggers(self.txn)
                .await
                .context("recreating the rollup triggers")?;
            bar.finish();
        }
        if backend != DbBackend::Postgres {
            return Ok(());
        }
        for table in &self.tables {
            // `setval` with a NULL (empty table) is a no-op returning NULL, not an error.
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {}))",
                quote(backend, table)
            );
            self.txn
                .execute_unprepared(&sql)
                .await
                .with_context(|| format!("resetting the id sequence of {table}"))?;
        }
        Ok(())
    }

    fn bar(&self, stage: &'static str, total: u64) -> ProgressBar {
        // indicatif hides a stderr bar by itself when stderr is not a terminal.
        let target = if self.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let style =
            ProgressStyle::with_template("{prefix:>22} [{bar:32}] {pos:>6}/{len:6} {elapsed}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        ProgressBar::with_draw_target(Some(total), target)
            .with_style(style)
            .with_prefix(stage)
    }
}

/// A table name quoted for the backend (all demo tables have plain lower-case names).
fn quote(backend: DbBackend, table: &str) -> String {
    match backend {
        DbBackend::MySql => format!("`{table}`"),
        _ => format!("\"{table}\""),
    }
}
