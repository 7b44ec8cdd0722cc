//! Typed configuration: one struct, read from command-line flags and the environment.

use std::{net::SocketAddr, path::PathBuf};

use clap::Args;

/// Settings shared by every command that touches the database or serves HTTP.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address the HTTP server listens on.
    #[arg(long = "addr", env = "QII_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    /// When absent, an SQLite database `qii.db` in the data directory is used.
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory for the embedded database and stored files (photos).
    #[arg(long = "data-dir", env = "QII_DATA_DIR", default_value = ".")]
    pub data_dir: PathBuf,

    /// The rules folder: rule sets, eligibility scripts and their test cases.
    #[arg(long = "rules-dir", env = "QII_RULES_DIR", default_value = "rules")]
    pub rules_dir: PathBuf,

    /// Log filter, e.g. `info`, `qii=debug,sea_orm=info`.
    #[arg(long = "log", env = "QII_LOG", default_value = "info")]
    pub log: String,

    /// How long (milliseconds) loads of one relation are gathered into a single SQL
    /// statement. Wider windows batch more reliably on a busy machine, at that much latency
    /// per nesting level.
    #[arg(
        long = "batch-window-ms",
        env = "QII_BATCH_WINDOW_MS",
        default_value_t = 2
    )]
    pub batch_window_ms: u64,

    /// Largest number of pooled database connections.
    #[arg(
        long = "db-max-connections",
        env = "QII_DB_MAX_CONNECTIONS",
        default_value_t = 10
    )]
    pub db_max_connections: u32,
}

impl Config {
    /// The database URL in effect: the configured one, or the embedded SQLite file.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("qii.db").to_string_lossy()
            ),
        }
    }

    /// A configuration for tests and tools: loopback on a free port, the given database.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: Some(database_url.into()),
            data_dir: PathBuf::from("."),
            log: "warn".into(),
            rules_dir: PathBuf::from("rules"),
            batch_window_ms: 2,
            db_max_connections: 5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_database_lives_in_the_data_dir() {
        let mut config = Config::for_database("x");
        config.database_url = None;
        config.data_dir = PathBuf::from("/var/lib/qii");
        assert_eq!(
            config.effective_database_url(),
            "sqlite:///var/lib/qii/qii.db?mode=rwc"
        );
    }
}
