//! What the HTTP benchmarks share: where the database is, percentiles, clean-up.

use std::time::Duration;

/// The database the bench uses — `QII_BENCH_DATABASE_URL`, else a fresh SQLite file named
/// after `name` — and its label.
pub fn database(name: &str) -> (String, &'static str) {
    match std::env::var("QII_BENCH_DATABASE_URL") {
        Ok(url) => (url, "PostgreSQL"),
        Err(_) => {
            let path = std::env::temp_dir().join(format!("qii-{name}-{}.db", std::process::id()));
            (format!("sqlite://{}?mode=rwc", path.display()), "SQLite")
        }
    }
}

/// The `data` of a GraphQL request to the server at `base` as the bearer of `token`,
/// panicking on errors; one client (and its kept-alive connections) for every call.
#[allow(dead_code)] // Not every bench includes this file to post through it.
pub async fn data(
    base: &str,
    token: &str,
    query: &str,
    variables: serde_json::Value,
) -> serde_json::Value {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let response: serde_json::Value = CLIENT
        .get_or_init(reqwest::Client::new)
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    assert!(response.get("errors").is_none(), "{response:#}");
    response["data"].clone()
}

/// A numeric setting from the environment.
pub fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0–1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Prints a table row: the request, its p50, p95 and slowest time, and its SQL statements.
pub fn print_row(name: &str, times: &mut [Duration], statements: u64) {
    times.sort();
    println!(
        "| {name} | {:.1?} | {:.1?} | {:.1?} | {statements} |",
        percentile(times, 0.5),
        percentile(times, 0.95),
        times[times.len() - 1]
    );
}

/// Removes a SQLite database file the bench made (nothing for PostgreSQL).
pub fn remove_sqlite(url: &str) {
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap_or_default();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
}

/// A server on the bench's database with the demo data set loaded at `scale`, and a city
/// administrator's token for it.
pub struct Bench {
    pub server: qii_server::http::Server,
    pub url: String,
    pub label: &'static str,
    pub load_time: Duration,
    pub token: String,
}

/// Builds the server for the bench `name` and loads the demo data.
pub async fn start(name: &str, scale: f64) -> anyhow::Result<(Bench, qii_demo::DemoSummary)> {
    start_configured(name, scale, |_| {}).await
}

/// As [`start`], with the server's settings changed by `change` first.
pub async fn start_configured(
    name: &str,
    scale: f64,
    change: impl FnOnce(&mut qii_domain::config::Config),
) -> anyhow::Result<(Bench, qii_demo::DemoSummary)> {
    let (url, label) = database(name);
    let mut config = qii_domain::config::Config::for_database(url.clone());
    // The bench measures requests, not the per-caller rate limit it would run into.
    config.limits.rate_per_minute = 0;
    change(&mut config);
    let server = qii_server::http::Server::build(&config).await?;
    let started = std::time::Instant::now();
    let options = qii_demo::DemoOptions {
        scale,
        progress: false,
        ..Default::default()
    };
    let summary = qii_demo::load(&server.state.db, &options).await?;
    let load_time = started.elapsed();
    // Read as a city administrator would.
    let token = server
        .state
        .auth
        .issue(
            "bench",
            &qii_domain::identity::Role::CityAdmin,
            Duration::from_secs(3600),
        )
        .token;
    let bench = Bench {
        server,
        url,
        label,
        load_time,
        token,
    };
    Ok((bench, summary))
}
