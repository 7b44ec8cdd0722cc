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

    /// How often each server looks at the rules folder and the database for a new rule
    /// release, e.g. `1s`. On PostgreSQL a release is also announced to every server as
    /// it commits, so this is the fallback there.
    #[arg(long = "rules-poll", env = "QII_RULES_POLL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub rules_poll: std::time::Duration,

    /// Rule sets whose scoring or policy scripts may be published without test cases,
    /// comma-separated (e.g. `hdi`); every other one must carry them.
    #[arg(
        long = "rules-untested",
        env = "QII_RULES_UNTESTED",
        value_delimiter = ',',
        default_value = ""
    )]
    pub rules_untested: Vec<String>,

    /// Where scoring reads the platform's figures: `rollups` (kept per unit and day, the
    /// default) or `events` (counted from the raw events on every ranking: slower, and the
    /// independent computation the rollups are checked against).
    #[arg(long = "figures", env = "QII_FIGURES", default_value = "rollups", value_parser = ["rollups", "events"])]
    pub figures: String,

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

    #[command(flatten)]
    pub auth: AuthConfig,

    #[command(flatten)]
    pub limits: Limits,

    #[command(flatten)]
    pub persisted: PersistedQueries,

    #[command(flatten)]
    pub live: LiveConfig,

    #[command(flatten)]
    pub photos: PhotoLimits,

    /// Redis, e.g. `redis://127.0.0.1:6379/0`: when set, the rate limits are kept there and
    /// shared by every replica; without it, each server keeps its own.
    #[arg(long = "redis-url", env = "QII_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Where traces go, as OpenTelemetry (OTLP over HTTP, e.g. `http://collector:4318`):
    /// one span per request and per GraphQL operation, resolver and statement. Without
    /// it, traces only reach the log.
    #[arg(long = "otlp-endpoint", env = "QII_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,

    /// When set, `/metrics` answers only requests that carry it as
    /// `Authorization: Bearer <token>`; without it, `/metrics` is open (keep it on an
    /// internal network).
    #[arg(long = "metrics-token", env = "QII_METRICS_TOKEN")]
    pub metrics_token: Option<Secret>,
}

/// Subscriptions: how live rankings follow the data.
#[derive(Debug, Clone, Args)]
pub struct LiveConfig {
    /// How long a live ranking waits after a change for more before it is computed again
    /// and pushed, e.g. `1s`: a burst of writes costs one computation.
    #[arg(long = "live-debounce", env = "QII_LIVE_DEBOUNCE", default_value = "1s", value_parser = humantime::parse_duration)]
    pub debounce: std::time::Duration,

    /// Most subscriptions one WebSocket connection may hold open at once.
    #[arg(
        long = "max-subscriptions-per-connection",
        env = "QII_MAX_SUBSCRIPTIONS_PER_CONNECTION",
        default_value_t = 8
    )]
    pub max_per_connection: usize,

    /// Most subscriptions one server holds open at once, all connections together.
    #[arg(
        long = "max-subscriptions",
        env = "QII_MAX_SUBSCRIPTIONS",
        default_value_t = 2000
    )]
    pub max_total: usize,

    /// Most rankings (rule set, period, level) one server follows live at once, each
    /// computed again after writes whatever its number of subscribers.
    #[arg(
        long = "max-live-rankings",
        env = "QII_MAX_LIVE_RANKINGS",
        default_value_t = 32
    )]
    pub max_rankings: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            debounce: std::time::Duration::from_secs(1),
            max_per_connection: 8,
            max_total: 2000,
            max_rankings: 32,
        }
    }
}

/// Photos uploaded to activities (`uploadActivityPhoto`): how large a file and a picture
/// may be. Files are kept under `<data dir>/photos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct PhotoLimits {
    /// Largest photo file accepted, in bytes. A multipart request (an upload) may be this
    /// much larger than `--max-body-bytes`.
    #[arg(
        long = "photo-max-bytes",
        env = "QII_PHOTO_MAX_BYTES",
        default_value_t = 10 * 1024 * 1024
    )]
    pub max_bytes: usize,

    /// Most pixels (width × height) a photo may have. The size is read from the file's
    /// header and a larger picture is refused before it is decoded, so that a small file
    /// that unpacks to a huge image cannot exhaust the server's memory.
    #[arg(
        long = "photo-max-pixels",
        env = "QII_PHOTO_MAX_PIXELS",
        default_value_t = 40_000_000
    )]
    pub max_pixels: u64,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }
}

/// Which operations the server runs, and how clients may name them by hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PersistedMode {
    /// Any valid operation; a client may also send a query's SHA-256 alone
    /// (`extensions.persistedQuery`, as Apollo clients do) once the server has seen its
    /// text, or when it is registered.
    #[default]
    Automatic,
    /// Only the operations registered with `qii queries register`, by hash or by their
    /// exact text; anything else is refused with `OPERATION_NOT_REGISTERED`.
    AllowList,
    /// Query text only: a request naming a hash is refused with
    /// `PERSISTED_QUERY_NOT_SUPPORTED`.
    Off,
}

/// Persisted queries: automatic, allow-listed, or off.
#[derive(Debug, Clone, Args)]
pub struct PersistedQueries {
    /// `automatic`, `allow-list` (production: only registered operations run) or `off`.
    #[arg(
        long = "persisted-queries",
        env = "QII_PERSISTED_QUERIES",
        value_enum,
        default_value = "automatic"
    )]
    pub mode: PersistedMode,

    /// Bytes of query text each server keeps for persisted queries (the least recently
    /// used go first); a client whose hash is no longer kept is asked for the text again.
    #[arg(
        long = "persisted-query-cache-bytes",
        env = "QII_PERSISTED_QUERY_CACHE_BYTES",
        default_value_t = 8 * 1024 * 1024
    )]
    pub cache_bytes: usize,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        Self {
            mode: PersistedMode::Automatic,
            cache_bytes: 8 * 1024 * 1024,
        }
    }
}

/// A secret value: it never prints (`Debug` shows `Secret(***)`, and there is no
/// `Display`); [`Secret::expose`] is the one way to read it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.into())
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// How callers prove who they are.
#[derive(Debug, Clone, Args)]
pub struct AuthConfig {
    /// Secret for signing and checking this server's own tokens (HS256). Every replica
    /// and the `qii token` command must share it. When absent, a secret kept in the
    /// database is used (created on first start), which every replica on that database shares.
    #[arg(long = "jwt-secret", env = "QII_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// The `iss` claim of this server's tokens.
    #[arg(long = "jwt-issuer", env = "QII_JWT_ISSUER", default_value = "qii")]
    pub issuer: String,

    /// The `aud` claim every accepted token must carry.
    #[arg(long = "jwt-audience", env = "QII_JWT_AUDIENCE", default_value = "qii")]
    pub audience: String,

    /// A partner's identity provider whose tokens are accepted, as
    /// `ISSUER|ALGORITHM|PUBLIC_KEY_PEM_FILE` with ALGORITHM one of RS256, RS384, RS512,
    /// ES256, ES384, EdDSA. Its tokens act as partners with the scopes in their `scope`
    /// claim. Repeat the flag (or separate with `;` in the variable) for several.
    #[arg(
        long = "trusted-issuer",
        env = "QII_JWT_TRUSTED_ISSUERS",
        value_delimiter = ';'
    )]
    pub trusted_issuers: Vec<String>,

    /// Lifetime of an access token from `login` or `refreshToken`, e.g. `15m`.
    #[arg(long = "access-token-ttl", env = "QII_ACCESS_TOKEN_TTL", default_value = "15m", value_parser = humantime::parse_duration)]
    pub access_ttl: std::time::Duration,

    /// Lifetime of a refresh token, e.g. `14d`.
    #[arg(long = "refresh-token-ttl", env = "QII_REFRESH_TOKEN_TTL", default_value = "14d", value_parser = humantime::parse_duration)]
    pub refresh_ttl: std::time::Duration,

    /// Failed sign-ins in a row after which an account is locked (a city administrator
    /// lifts it with `unlockUser`, or it lifts itself after `--login-lockout`).
    #[arg(
        long = "login-max-failures",
        env = "QII_LOGIN_MAX_FAILURES",
        default_value_t = 5
    )]
    pub login_max_failures: u32,

    /// How long an account stays locked after too many failed sign-ins, e.g. `15m`.
    #[arg(long = "login-lockout", env = "QII_LOGIN_LOCKOUT", default_value = "15m", value_parser = humantime::parse_duration)]
    pub login_lockout: std::time::Duration,

    /// Sign-in attempts one client address may make a minute, whatever the accounts
    /// (every `login` of a request counts, aliases included).
    #[arg(
        long = "login-per-minute",
        env = "QII_LOGIN_PER_MINUTE",
        default_value_t = 10
    )]
    pub login_per_minute: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            issuer: "qii".into(),
            audience: "qii".into(),
            trusted_issuers: Vec::new(),
            access_ttl: std::time::Duration::from_secs(15 * 60),
            refresh_ttl: std::time::Duration::from_secs(14 * 24 * 3600),
            login_max_failures: 5,
            login_lockout: std::time::Duration::from_secs(15 * 60),
            login_per_minute: 10,
        }
    }
}

/// What one request may cost.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Deepest nesting of fields a query may use.
    #[arg(long = "max-depth", env = "QII_MAX_DEPTH", default_value_t = 16)]
    pub max_depth: usize,

    /// Largest complexity of a query: every field selected counts 1, and a connection
    /// counts what one of its nodes costs times the page size asked for (`first`, 20 by
    /// default), so nested pages multiply. A query over the limit is refused before it runs.
    #[arg(
        long = "max-complexity",
        env = "QII_MAX_COMPLEXITY",
        default_value_t = 20_000
    )]
    pub max_complexity: usize,

    /// Most fields an operation may select at its root, aliases and fragments counted.
    #[arg(
        long = "max-root-fields",
        env = "QII_MAX_ROOT_FIELDS",
        default_value_t = 20
    )]
    pub max_root_fields: usize,

    /// Most operations one HTTP request may carry as a batch (a JSON array); each counts
    /// against the rate limit.
    #[arg(long = "max-batch", env = "QII_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,

    /// Largest response, in bytes of JSON; a request whose answer grows past it is stopped
    /// and refused with `RESPONSE_TOO_LARGE`.
    #[arg(
        long = "max-response-bytes",
        env = "QII_MAX_RESPONSE_BYTES",
        default_value_t = 8 * 1024 * 1024
    )]
    pub max_response_bytes: usize,

    /// Longest string any input may carry, in characters (rule scripts included); fields
    /// have tighter limits of their own.
    #[arg(
        long = "max-string-chars",
        env = "QII_MAX_STRING_CHARS",
        default_value_t = 300_000
    )]
    pub max_string_chars: usize,

    /// How long a request may run before it is stopped (its database statements with it)
    /// and answered `TIMEOUT`, e.g. `10s`.
    #[arg(long = "request-timeout", env = "QII_REQUEST_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub request_timeout: std::time::Duration,

    /// Largest request body, in bytes; larger ones are answered 413.
    #[arg(long = "max-body-bytes", env = "QII_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Requests per minute one token (or, without a token, one client address) may make;
    /// more are answered 429 with `Retry-After`. 0 turns the limit off.
    #[arg(
        long = "rate-limit",
        env = "QII_RATE_LIMIT_PER_MINUTE",
        default_value_t = 600
    )]
    pub rate_per_minute: u32,

    /// Requests one token may make at once before the per-minute pace applies.
    #[arg(
        long = "rate-burst",
        env = "QII_RATE_LIMIT_BURST",
        default_value_t = 60
    )]
    pub rate_burst: u32,

    /// Whether the schema can be read by introspection (GraphiQL needs it). Turn it off
    /// in production with `QII_INTROSPECTION=false`.
    #[arg(long = "introspection", env = "QII_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 16,
            max_complexity: 20_000,
            max_root_fields: 20,
            max_batch: 10,
            max_response_bytes: 8 * 1024 * 1024,
            max_string_chars: 300_000,
            request_timeout: std::time::Duration::from_secs(10),
            max_body_bytes: 2 * 1024 * 1024,
            rate_per_minute: 600,
            rate_burst: 60,
            introspection: true,
        }
    }
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
            rules_poll: std::time::Duration::from_secs(1),
            rules_untested: Vec::new(),
            figures: "rollups".into(),
            batch_window_ms: 2,
            db_max_connections: 5,
            auth: AuthConfig::default(),
            limits: Limits::default(),
            persisted: PersistedQueries::default(),
            live: LiveConfig::default(),
            photos: PhotoLimits::default(),
            redis_url: None,
            otlp_endpoint: None,
            metrics_token: None,
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

    #[test]
    fn the_jwt_secret_never_prints() {
        let mut config = Config::for_database("x");
        config.auth.jwt_secret = Some("a-secret-of-at-least-32-characters!".into());
        let printed = format!("{config:?}");
        assert!(!printed.contains("a-secret-of"), "{printed}");
        assert!(printed.contains("Secret(***)"), "{printed}");
        let parsed: Secret = "from-the-command-line".parse().unwrap();
        assert_eq!(parsed.expose(), "from-the-command-line");
    }
}
