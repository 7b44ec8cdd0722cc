//! Database connections: SQLite (embedded default) or PostgreSQL, migrated at start.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::Config;

/// Counts the SQL statements a connection pool has executed for requests and jobs. Tests
/// read it to prove that nested queries are batched; operators can read it as a load
/// figure. The rule store's once-a-second look for a newer release and the revocation
/// check every signed-in request makes are left out, so that the count of one request
/// does not depend on when that look happens to fall or on who asks.
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Statements executed so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens the pool for the configured database. The SQLite file is created if missing;
/// SQLite connections use WAL so that readers are not blocked by a writer.
pub async fn connect(config: &Config) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let url = config.effective_database_url();
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    if url.starts_with("sqlite:") {
        ensure_parent_dir(&url);
    }
    let mut db = Database::connect(options).await?;
    let counter = StatementCounter::default();
    let seen = counter.0.clone();
    // The rule store's release check and the token revocation check run on their own
    // schedule or once per request, whatever the query: not counted.
    db.set_metric_callback(move |info| {
        let sql = &info.statement.sql;
        if !sql.contains("rule_release") && !sql.contains("token_revocation") {
            seen.fetch_add(1, Ordering::Relaxed);
        }
    });
    Ok((db, counter))
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

fn ensure_parent_dir(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return;
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            let _ = std::fs::create_dir_all(parent);
        }
    }
}
