//! Screen-query benchmark: loads the demo data set into a fresh database, starts the real
//! server, and times the GraphQL requests behind the front-ends' screens over HTTP.
//!
//! `cargo bench --bench screens` (SQLite); set `QII_BENCH_DATABASE_URL` to a PostgreSQL
//! database to run there instead. `QII_BENCH_SCALE` (default 1.0) sizes the data set and
//! `QII_BENCH_ROUNDS` (default 50) the repetitions. Results go to standard output in the
//! form used in BENCHMARKS.md.

#[path = "support.rs"]
mod support;

use std::time::Instant;

use serde_json::{json, Value};
use support::{print_row, remove_sqlite, setting};

/// The requests timed: (name, query).
const SCREENS: &[(&str, &str)] = &[
    ("districts with towns", "{ districts { nodes { name towns(first: 100) { nodes { name } } } } }"),
    (
        "towns → activities → sign-up counts",
        "{ orgUnits(filter: {kind: TOWN}, first: 40) { nodes { name activities(first: 100) { nodes { title signupCount } } } } }",
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let scale: f64 = setting("QII_BENCH_SCALE", 1.0);
    let rounds: usize = setting("QII_BENCH_ROUNDS", 50);
    let (bench, summary) = support::start("bench", scale).await?;
    let (url, label, load_time, token) = (bench.url, bench.label, bench.load_time, bench.token);
    let (addr, statements, _task) = bench.server.spawn()?;
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
                .bearer_auth(&token)
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
        print_row(name, &mut times, per_request);
    }
    remove_sqlite(&url);
    Ok(())
}
