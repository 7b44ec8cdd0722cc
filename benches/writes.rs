//! Writes benchmark: what the rollup triggers add to writes made through the API, as a
//! front-end makes them. The demo data set is loaded (`QII_BENCH_SCALE`, default 0.2), the
//! real server started on loopback, an activity of a Youth Home opened for sign-up (so that
//! every sign-up also moves the Youth Home's rollups), then `QII_BENCH_WRITES` members
//! (default 100) per round sign up over HTTP, one request each, as a city administrator,
//! in `QII_BENCH_ROUNDS` rounds (default 10) alternating with the triggers in place and
//! dropped. The rows written without triggers are not kept in the rollups: the data set is
//! thrown away after the run.
//!
//! `cargo bench --bench writes` uses a fresh SQLite file; set `QII_BENCH_DATABASE_URL` to an
//! empty PostgreSQL database to run there instead. Results go to standard output in the
//! form used in BENCHMARKS.md.

#[path = "support.rs"]
#[allow(dead_code)] // Its table printer serves the other benches.
mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{data, percentile, remove_sqlite, setting};

/// Sign-ups made untimed first (connections, the planner).
const WARM_UP: usize = 5;

fn mean(times: &[Duration]) -> Duration {
    times.iter().sum::<Duration>() / times.len().max(1) as u32
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let scale: f64 = setting("QII_BENCH_SCALE", 0.2);
    let rounds: usize = setting("QII_BENCH_ROUNDS", 10);
    let writes: usize = setting("QII_BENCH_WRITES", 100);
    let (bench, _) = support::start("writes", scale).await?;
    let (url, label, token) = (bench.url.clone(), bench.label, bench.token.clone());
    let db = bench.server.state.db.clone();
    let (addr, _, _) = bench.server.spawn()?;
    let base = format!("http://{addr}");

    let home = data(
        &base,
        &token,
        "{ orgUnits(first: 1, filter: {kind: YOUTH_HOME}) { nodes { id } } }",
        json!({}),
    )
    .await["orgUnits"]["nodes"][0]["id"]
        .clone();
    let starts = chrono::Utc::now() + chrono::Duration::days(30);
    let activity = data(
        &base,
        &token,
        "mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }",
        json!({ "i": {
            "orgUnitId": home,
            "title": "写入基准",
            "category": "OTHER",
            "kind": "OFFLINE",
            "startsAt": starts.to_rfc3339(),
            "endsAt": (starts + chrono::Duration::hours(2)).to_rfc3339(),
        }}),
    )
    .await["createActivity"]["id"]
        .clone();

    // Members enough for every sign-up, a page at a time.
    let wanted = rounds * writes + WARM_UP;
    let mut members: Vec<Value> = Vec::with_capacity(wanted);
    let mut after = Value::Null;
    while members.len() < wanted {
        let page = data(&base,
            &token,
            "query($after: String) { members(first: 100, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }",
            json!({ "after": after }),
        )
        .await;
        let connection = &page["members"];
        members.extend(
            connection["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| n["id"].clone()),
        );
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    anyhow::ensure!(
        members.len() >= wanted,
        "the demo data has {} members, {wanted} wanted: raise QII_BENCH_SCALE or lower QII_BENCH_WRITES",
        members.len()
    );

    let sign_up =
        "mutation($a: ID!, $m: ID!) { signUp(input: {activityId: $a, memberId: $m}) { id } }";
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let mut next = members.into_iter();
    let sign = |member: Value| {
        data(
            &base,
            &token,
            sign_up,
            json!({ "a": activity, "m": member }),
        )
    };
    for member in next.by_ref().take(WARM_UP) {
        sign(member).await;
    }
    for round in 0..rounds {
        let triggers = round % 2 == 0;
        if !triggers {
            migration::rollup::drop_triggers(&db).await?;
        }
        for member in next.by_ref().take(writes) {
            let started = Instant::now();
            sign(member).await;
            let took = started.elapsed();
            if triggers {
                with.push(took)
            } else {
                without.push(took)
            }
        }
        if !triggers {
            migration::rollup::create_triggers(&db).await?;
        }
    }
    with.sort();
    without.sort();
    println!(
        "## Writes through the API ({label}, demo scale {scale}, {rounds} rounds of {writes})\n"
    );
    println!("| write | with triggers p50 / mean | without p50 / mean | added (mean) |\n|---|---|---|---|");
    let (m1, m0) = (mean(&with), mean(&without));
    println!(
        "| sign-up (`signUp`, a Youth Home's activity) | {:.2?} / {:.2?} | {:.2?} / {:.2?} | {:+.0} µs ({:+.1} %) |",
        percentile(&with, 0.5),
        m1,
        percentile(&without, 0.5),
        m0,
        (m1.as_secs_f64() - m0.as_secs_f64()) * 1e6,
        (m1.as_secs_f64() / m0.as_secs_f64() - 1.0) * 100.0,
    );
    remove_sqlite(&url);
    Ok(())
}
