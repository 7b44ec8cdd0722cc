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
    open(config, None).await
}

/// The pool a server answers requests with: as [`connect`], and on PostgreSQL every
/// statement is cancelled at the request deadline, even when the request was dropped.
/// (SQLite statements are bounded by page sizes and run in process.)
pub async fn connect_for_requests(
    config: &Config,
) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    open(config, Some(config.limits.request_timeout)).await
}

async fn open(
    config: &Config,
    statement_timeout: Option<Duration>,
) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let url = config.effective_database_url();
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A connection in steady use is not pinged before each statement (a round trip
        // to the database per statement, the largest part of a small screen's latency);
        // one that sat idle is, so a restarted database does not fail the next request.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    if let Some(timeout) = statement_timeout {
        let millis = timeout.as_millis().max(1).to_string();
        options.map_sqlx_postgres_opts(move |opts| {
            opts.options([("statement_timeout", millis.clone())])
        });
    }
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

/// `column IN (keys)` with every key in one bound parameter — a `bigint[]` on PostgreSQL,
/// a JSON array on SQLite — so that the statement reads the same for any number of keys:
/// its prepared form is reused and no limit on parameters applies. On PostgreSQL the
/// parameter is bound as an array, not as text to cast: a cast from text is not folded
/// into the plan, and a sequential scan would parse the list again for every row.
pub fn any_of<C: sea_orm::ColumnTrait>(
    backend: sea_orm::DbBackend,
    column: C,
    keys: &[i64],
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::Expr;
    let target = Expr::col(column.as_column_ref());
    match backend {
        sea_orm::DbBackend::Postgres => Expr::cust_with_exprs(
            "$1 = ANY(CAST($2 AS bigint[]))",
            [target, Expr::val(keys.to_vec())],
        ),
        _ => {
            let list = keys
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            Expr::cust_with_exprs(
                "? IN (SELECT value FROM json_each(?))",
                [target, Expr::val(format!("[{list}]"))],
            )
        }
    }
}

/// Begins a transaction that writes. On SQLite it starts `IMMEDIATE`: it takes the
/// database's single write lock up front, waiting up to the busy timeout behind other
/// writers, instead of failing with "database is locked" when a read inside it would
/// have to upgrade. On PostgreSQL it is an ordinary transaction.
pub async fn write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::TransactionTrait;
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Serialises the writers of one thing (a key such as `ranking|qii|town|2017-10`) inside
/// a write transaction: on PostgreSQL a transaction-scoped advisory lock, so that a second
/// writer waits for the first to commit and then sees its rows instead of colliding on a
/// unique key; on SQLite the `IMMEDIATE` transaction of [`write`] already holds the
/// database's single write lock.
pub async fn serialise(tx: &sea_orm::DatabaseTransaction, key: &str) -> Result<(), DbErr> {
    use sea_orm::ConnectionTrait;
    if tx.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    // FNV-1a: stable across processes and releases, as every replica must agree.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    tx.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [i64::from_ne_bytes(hash.to_ne_bytes()).into()],
    ))
    .await?;
    Ok(())
}

/// The request pool's connections: how many are open and how many of those are idle.
pub fn pool_figures(db: &DatabaseConnection) -> (u32, usize) {
    // Every connection of the server is a pool of the backend it names (see `open`).
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, EntityTrait, QueryFilter, QueryTrait};

    use super::any_of;

    #[test]
    fn two_key_lists_in_one_statement_keep_their_own_parameters() {
        use sea_orm::ColumnTrait;
        let backend = DbBackend::Sqlite;
        let statement = entities::activity::Entity::find()
            .filter(any_of(backend, entities::activity::Column::Id, &[1]))
            .filter(entities::activity::Column::Title.eq("x"))
            .filter(any_of(backend, entities::activity::Column::OrgUnitId, &[2]))
            .build(backend);
        assert_eq!(statement.sql.matches('?').count(), 3, "{}", statement.sql);
        let backend = DbBackend::Postgres;
        let statement = entities::activity::Entity::find()
            .filter(any_of(backend, entities::activity::Column::Id, &[1]))
            .filter(entities::activity::Column::Title.eq("x"))
            .filter(any_of(backend, entities::activity::Column::OrgUnitId, &[2]))
            .build(backend);
        assert!(statement.sql.contains("$3"), "{}", statement.sql);
        assert!(!statement.sql.contains("$4"), "{}", statement.sql);
    }

    #[test]
    fn keys_are_bound_as_one_array_parameter() {
        let select = |backend| {
            entities::activity::Entity::find()
                .filter(any_of(backend, entities::activity::Column::Id, &[3, 5, 8]))
                .build(backend)
        };
        let pg = select(DbBackend::Postgres);
        assert!(
            pg.sql
                .ends_with(r#"WHERE "activity"."id" = ANY(CAST($1 AS bigint[]))"#),
            "{}",
            pg.sql
        );
        assert_eq!(pg.values.map(|v| v.0.len()), Some(1));
        let sqlite = select(DbBackend::Sqlite);
        assert!(
            sqlite
                .sql
                .ends_with(r#"WHERE "activity"."id" IN (SELECT value FROM json_each(?))"#),
            "{}",
            sqlite.sql
        );
    }
}
