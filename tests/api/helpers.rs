//! Test harness: a real qii server on port 0 with a fresh database per test.
//!
//! SQLite always; PostgreSQL when `QII_TEST_DATABASE_URL` points at a server, in a
//! database created for the test and dropped after it.

use qii_domain::{
    auth::Authenticator,
    config::Config,
    db::StatementCounter,
    identity::{Role, Scope},
};
use qii_server::http::Server;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{json, Value};

/// A running server and a direct connection to its database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub statements: StatementCounter,
    /// Direct access to the test's database, for checking what was (not) written.
    pub db: DatabaseConnection,
    url: String,
    rules_dir: std::path::PathBuf,
    cleanup: Cleanup,
    /// Mints tokens the server accepts (it shares the server's secret).
    pub auth: std::sync::Arc<Authenticator>,
    /// The token sent by [`TestApp::graphql`]: a city administrator's.
    pub token: String,
    /// The server's data directory (uploaded photos), removed after the test.
    pub data_dir: std::path::PathBuf,
}

/// The signing secret of test servers.
pub const TEST_SECRET: &str = "test-secret-of-at-least-32-characters";

enum Cleanup {
    /// A replica: the database belongs to the first server.
    Nothing,
    File(std::path::PathBuf),
    PgDatabase {
        admin_url: String,
        name: String,
    },
}

impl TestApp {
    /// A server on a fresh SQLite file.
    pub async fn sqlite() -> Self {
        Self::sqlite_with_rules(&shipped_rules()).await
    }

    /// A server on a fresh SQLite file, scoring with the rules in `rules_dir`.
    pub async fn sqlite_with_rules(rules_dir: &std::path::Path) -> Self {
        let path = std::env::temp_dir().join(format!("qii-test-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::start(&url, Cleanup::File(path), rules_dir).await
    }

    /// A server on a fresh PostgreSQL database, or none when no server is configured.
    /// Under CI a missing configuration is a failure, so PostgreSQL is never skipped there.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_with_rules(&shipped_rules()).await
    }

    /// A server on a fresh PostgreSQL database scoring with the rules in `rules_dir`, or
    /// none when no server is configured.
    pub async fn postgres_with_rules(rules_dir: &std::path::Path) -> Option<Self> {
        let (url, cleanup) = Self::pg_database().await?;
        Some(Self::start(&url, cleanup, rules_dir).await)
    }

    /// A fresh PostgreSQL database, dropped after the test; none when no server is configured.
    async fn pg_database() -> Option<(String, Cleanup)> {
        let Ok(admin_url) = std::env::var("QII_TEST_DATABASE_URL") else {
            assert!(
                std::env::var("CI").is_err(),
                "CI must set QII_TEST_DATABASE_URL"
            );
            eprintln!("QII_TEST_DATABASE_URL not set: skipping the PostgreSQL run");
            return None;
        };
        let name = format!("qii_t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url)
            .await
            .expect("connect to QII_TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = replace_database(&admin_url, &name);
        Some((url, Cleanup::PgDatabase { admin_url, name }))
    }

    async fn start(url: &str, cleanup: Cleanup, rules_dir: &std::path::Path) -> Self {
        let mut config = Config::for_database(url);
        Self::configure(&mut config);
        Self::start_with(config, cleanup, rules_dir).await
    }

    /// The settings every test server shares.
    fn configure(config: &mut Config) {
        config.auth.jwt_secret = Some(TEST_SECRET.into());
        // Stored files of each server apart, and never in the working directory.
        config.data_dir =
            std::env::temp_dir().join(format!("qii-test-data-{}", uuid::Uuid::new_v4()));
        // Many requests per test: the limit is tested on its own servers.
        config.limits.rate_per_minute = 0;
        // Live rankings answer soon after a write.
        config.live.debounce = std::time::Duration::from_millis(200);
    }

    /// A server on a fresh SQLite file with settings changed by `change` (limits, keys).
    pub async fn sqlite_configured(change: impl FnOnce(&mut Config)) -> Self {
        let path = std::env::temp_dir().join(format!("qii-test-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut config = Config::for_database(&url);
        Self::configure(&mut config);
        change(&mut config);
        Self::start_with(config, Cleanup::File(path), &shipped_rules()).await
    }

    /// A server on a fresh PostgreSQL database with settings changed by `change`, or none
    /// when no server is configured.
    pub async fn postgres_configured(change: impl FnOnce(&mut Config)) -> Option<Self> {
        let (url, cleanup) = Self::pg_database().await?;
        let mut config = Config::for_database(&url);
        Self::configure(&mut config);
        change(&mut config);
        Some(Self::start_with(config, cleanup, &shipped_rules()).await)
    }

    async fn start_with(mut config: Config, cleanup: Cleanup, rules_dir: &std::path::Path) -> Self {
        // Tests run many servers at once on two cores: a wide batching window keeps the
        // statement counts of the batching tests independent of the machine's load.
        config.batch_window_ms = 25;
        config.rules_dir = rules_dir.to_owned();
        let url = config.effective_database_url();
        let url = url.as_str();
        let server = Server::build(&config).await.expect("server starts");
        let (addr, statements, _handle) = server.spawn().expect("server spawns");
        let db = Database::connect(url)
            .await
            .expect("test connects to its database");
        let auth = std::sync::Arc::new(
            Authenticator::with_secret(TEST_SECRET, &config.auth).expect("test authenticator"),
        );
        let token = auth
            .issue(
                "test-admin",
                &Role::CityAdmin,
                std::time::Duration::from_secs(3600),
            )
            .token;
        Self {
            auth,
            token,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            statements,
            db,
            url: url.to_owned(),
            rules_dir: rules_dir.to_owned(),
            cleanup,
            data_dir: config.data_dir.clone(),
        }
    }

    /// A second server on the same database and rules folder, as another replica behind a
    /// load balancer would be.
    pub async fn replica(&self) -> TestApp {
        Self::start(&self.url, Cleanup::Nothing, &self.rules_dir).await
    }

    /// Another replica, with settings changed by `change` (say, how often it polls).
    pub async fn replica_configured(&self, change: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config::for_database(&self.url);
        Self::configure(&mut config);
        change(&mut config);
        Self::start_with(config, Cleanup::Nothing, &self.rules_dir).await
    }

    /// POSTs a GraphQL request as a city administrator and returns the whole JSON response.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(Some(&self.token), query, variables).await
    }

    /// POSTs a GraphQL request with `token` (none: anonymously); the whole JSON response.
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.post_as(token, query, variables)
            .await
            .json()
            .await
            .expect("response is JSON")
    }

    /// POSTs a GraphQL request with `token`; the HTTP response.
    pub async fn post_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request reaches the server")
    }

    /// A token for `role` named `subject`, valid for an hour.
    pub fn token_for(&self, role: Role, subject: &str) -> String {
        self.auth
            .issue(subject, &role, std::time::Duration::from_secs(3600))
            .token
    }

    /// A partner token with `scores:read`.
    pub fn partner_token(&self) -> String {
        self.token_for(Role::Partner(vec![Scope::ScoresRead]), "partner-test")
    }

    /// The `data` of a request sent with `token` that must succeed.
    pub async fn data_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let response = self.graphql_as(token, query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// The first error of a request sent with `token` that must fail: (code, message).
    pub async fn error_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (String, String) {
        first_error(self.graphql_as(token, query, variables).await)
    }

    /// The `data` of a request that must succeed.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// The first error of a request that must fail: (code, message).
    pub async fn error(&self, query: &str, variables: Value) -> (String, String) {
        first_error(self.graphql(query, variables).await)
    }
}

/// The first error of a response that must have one: (code, message).
pub fn first_error(response: Value) -> (String, String) {
    let error = &response["errors"][0];
    assert!(!error.is_null(), "expected an error, got {response:#}");
    (
        error["extensions"]["code"]
            .as_str()
            .unwrap_or("<no code>")
            .to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

impl TestApp {
    /// Number of rows in a table, read directly from the database.
    pub async fn count(&self, table: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count query")
            .expect("count row");
        row.try_get::<i64>("", "n").expect("count value")
    }

    /// Loads the Dongguan demo data set at a small scale.
    pub async fn load_demo(&self, scale: f64) {
        let options = qii_demo::DemoOptions {
            scale,
            progress: false,
            ..Default::default()
        };
        qii_demo::load(&self.db, &options)
            .await
            .expect("demo loads");
    }

    /// The id of an org unit by its code.
    pub async fn unit_id(&self, code: &str) -> String {
        let data = self
            .data(
                "query($c: String) { orgUnit(code: $c) { id } }",
                json!({ "c": code }),
            )
            .await;
        data["orgUnit"]["id"]
            .as_str()
            .expect("unit exists")
            .to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        match &self.cleanup {
            Cleanup::Nothing => {}
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PgDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(rt) = rt {
                        rt.block_on(async {
                            if let Ok(admin) = Database::connect(&admin_url).await {
                                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                                let _ = admin.execute_unprepared(&sql).await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

/// QII v3.0 for tests: the shipped v2 with other weights, effective from January 2018.
pub fn qii_v3() -> String {
    qii_v2_reweighted()
        .replace("version: \"2.0.1\"", "version: \"3.0\"")
        .replace("effective_from: \"2017-10\"", "effective_from: \"2018-01\"")
}

/// Test cases for [`qii_v3`] (and any reweighting of v2): the shipped v2's first case, a
/// town leading every indicator, which scores 100 whatever the weights.
pub fn qii_v3_tests() -> String {
    let cases: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(shipped_rules().join("qii/v2.tests.json")).unwrap(),
    )
    .unwrap();
    serde_json::Value::Array(cases.into_iter().take(1).collect()).to_string()
}

/// [`qii_v2_reweighted`] under a version label of its own, `2.1`: what an administrator
/// publishes in place of `qii/v2.rhai` (a version stands for one content).
pub fn qii_v2_revised() -> String {
    qii_v2_reweighted().replace("version: \"2.0.1\"", "version: \"2.1\"")
}

/// Publishes a rule file through the API as the test administrator; a `qii` script goes
/// with [`qii_v3_tests`] (a scoring script needs test cases). The `publishRuleSet` data.
pub async fn publish_rules(app: &TestApp, path: &str, source: &str) -> serde_json::Value {
    let tests = path.starts_with("qii/").then(qii_v3_tests);
    app.data(
        "mutation($p: String!, $s: String!, $t: String) { publishRuleSet(path: $p, source: $s, tests: $t) { changed release { id } } }",
        serde_json::json!({ "p": path, "s": source, "t": tests }),
    )
    .await["publishRuleSet"]
        .clone()
}

/// The shipped `qii/v2.rhai` with other weights (still adding up to 100 %).
pub fn qii_v2_reweighted() -> String {
    let v2 = std::fs::read_to_string(shipped_rules().join("qii/v2.rhai")).unwrap();
    let edited = v2
        .replace(
            "indicator(\"work_integration\", \"eligible_activities\", 40.0)",
            "indicator(\"work_integration\", \"eligible_activities\", 30.0)",
        )
        .replace(
            "weight: 15.0, transform: [\"log1p\"]",
            "weight: 25.0, transform: [\"log1p\"]",
        );
    assert_ne!(edited, v2, "the shipped v2 changed: update the test's edit");
    edited
}

/// The rules shipped in the repository.
pub fn shipped_rules() -> std::path::PathBuf {
    concat!(env!("CARGO_MANIFEST_DIR"), "/rules").into()
}

/// The same server URL with another database name.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    // postgres://user@host:port/db → keep everything up to the path, swap the name.
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let mut out = match base[authority_start..].find('/') {
        Some(i) => format!("{}/{}", &base[..authority_start + i], name),
        None => format!("{base}/{name}"),
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Declares a test that runs once on SQLite and once on PostgreSQL:
/// `both_databases! { async fn name(app) { ... } }` gives `name::on_sqlite` and
/// `name::on_postgres`.
#[macro_export]
macro_rules! both_databases {
    ($( $(#[$meta:meta])* async fn $name:ident($app:ident) $body:block )*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::helpers::*;

            async fn run($app: TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                run(TestApp::sqlite().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                if let Some(app) = TestApp::postgres().await {
                    run(app).await
                }
            }
        }
    )*};
}

/// The activity rules shipped in `rules/eligibility/activity.rhai`, with the sign-ups an
/// activity needs set to `min_signups`.
pub fn shipped_activity_rules(min_signups: i64) -> qii_engine::rules::activity::ActivityRules {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut rules = qii_engine::rules::Registry::load(&dir)
        .unwrap()
        .activity_rules()
        .unwrap();
    for c in &mut rules.conditions {
        if c.figure == qii_engine::rules::activity::ActivityFigure::Signups {
            c.at_least = min_signups;
        }
    }
    rules
}
