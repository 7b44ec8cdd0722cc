//! Screen-query benchmark: loads the demo data set into a fresh database, starts the real
//! server, and times the GraphQL requests behind the front-ends' screens over HTTP.
//!
//! `cargo bench --bench screens` (SQLite); set `QII_BENCH_DATABASE_URL` to a PostgreSQL
//! database to run there instead. `QII_BENCH_SCALE` (default 1.0) sizes the data set and
//! `QII_BENCH_ROUNDS` (default 50) the repetitions. Results go to standard output in the
//! form used in BENCHMARKS.md.

use std::time::{Duration, Instant};

use api::{config::Config, demo, http::Server};
use serde_json::{json, Value};

/// The requests timed: (name, query).
const SCREENS: &[(&str, &str)] = &[
    ("districts with towns", "{ districts { name towns { name } } }"),
    (
        "towns → activities → sign-up counts",
        "{ orgUnits(filter: {kind: TOWN}, first: 100) { nodes { name activities { title signupCount } } } }",
    ),
    (
        "activity list page (town, month)",
        "{ activities(filter: {startsFrom: \"2017-10-31T16:00:00Z\", startsBefore: \"2017-11-30T16:00:00Z\"}, first: 20) { totalCount nodes { title startsAt capacity signupCount orgUnit { name town { name } } } } }",
    ),
    (
        "members page deep in the list",
        "{ members(first: 50, orderBy: REGISTERED_AT) { totalCount pageInfo { endCursor } nodes { nickname homeTown { name } } } }",
    ),
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let scale: f64 = std::env::var("QII_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let rounds: usize = std::env::var("QII_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let (url, label) = match std::env::var("QII_BENCH_DATABASE_URL") {
        Ok(url) => (url, "PostgreSQL"),
        Err(_) => {
            let path = std::env::temp_dir().join(format!("qii-bench-{}.db", std::process::id()));
            (format!("sqlite://{}?mode=rwc", path.display()), "SQLite")
        }
    };

    let server = Server::build(&Config::for_database(url.clone())).await?;
    let started = Instant::now();
    let summary = demo::load(
        &server.state.db,
        &demo::DemoOptions {
            scale,
            progress: false,
            ..Default::default()
        },
    )
    .await?;
    let load_time = started.elapsed();
    let (addr, statements, _task) = server.spawn()?;
    let client = reqwest::Client::new();
    let endpoint = format!("http://{addr}/graphql");

    println!(
        "database: {label}; demo scale {scale}: loaded in {:.2?} ({summary:?})",
        load_time
    );
    println!("| request | p50 | p95 | max | SQL statements |");
    println!("|---|---|---|---|---|");
    for (name, query) in SCREENS {
        let mut times = Vec::with_capacity(rounds);
        let mut per_request = 0;
        for round in 0..rounds + 3 {
            let before = statements.get();
            let t = Instant::now();
            let body: Value = client
                .post(&endpoint)
                .json(&json!({ "query": query }))
                .send()
                .await?
                .json()
                .await?;
            let elapsed = t.elapsed();
            anyhow::ensure!(body.get("errors").is_none(), "{name}: {body}");
            per_request = statements.get() - before;
            if round >= 3 {
                times.push(elapsed); // the first rounds warm caches and connections
            }
        }
        times.sort();
        println!(
            "| {name} | {:.1?} | {:.1?} | {:.1?} | {per_request} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times[times.len() - 1]
        );
    }
    if label == "SQLite" {
        let path = url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap_or_default()
            .to_owned();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    Ok(())
}
