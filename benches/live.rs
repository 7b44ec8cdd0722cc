//! Subscriptions benchmark: two servers on one database (PostgreSQL: two replicas as behind
//! a load balancer; SQLite: one server, both roles), the demo data loaded, and
//!
//! (1) how long a rule release published on the first server takes to reach a
//!     `ruleReleaseChanged` subscriber of the second (from the publish's answer), and
//! (2) how long a write on the first server takes to reach every one of
//!     `QII_BENCH_SUBSCRIBERS` (default 200) `rankingUpdated` subscribers of the second
//!     (one connection each), with the debounce set to `QII_BENCH_DEBOUNCE_MS` (default 0:
//!     the bare path — announcement, one computation of the ranking, the pushes),
//!
//! each `QII_BENCH_ROUNDS` times (default 20), with how many times the second server
//! computed the ranking (once per write, whatever the number of subscribers).
//!
//! `cargo bench --bench live` uses a fresh SQLite file; set `QII_BENCH_DATABASE_URL` to an
//! empty PostgreSQL database to run there instead. `QII_BENCH_SCALE` (default 0.2) sizes
//! the demo data. Results go to standard output in the form used in BENCHMARKS.md.

#[path = "support.rs"]
#[allow(dead_code)] // Its table printer serves the other benches.
mod support;
#[path = "../tests/support/ws.rs"]
mod ws;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{data, percentile, remove_sqlite, setting};

fn summary(name: &str, times: &mut [Duration]) {
    times.sort();
    println!(
        "| {name} | {:.1?} | {:.1?} | {:.1?} |",
        percentile(times, 0.5),
        percentile(times, 0.95),
        times[times.len() - 1]
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let scale: f64 = setting("QII_BENCH_SCALE", 0.2);
    let rounds: usize = setting("QII_BENCH_ROUNDS", 20);
    let subscribers: usize = setting("QII_BENCH_SUBSCRIBERS", 200);
    let debounce = Duration::from_millis(setting("QII_BENCH_DEBOUNCE_MS", 0));
    let configure = |config: &mut qii_domain::config::Config| {
        config.limits.rate_per_minute = 0;
        config.live.debounce = debounce;
        config.live.max_total = subscribers + 10;
        config.db_max_connections = 10;
    };
    let (bench, _) = support::start_configured("live", scale, configure).await?;
    let (url, label, token, first) = (bench.url, bench.label, bench.token, bench.server);
    let (first_addr, _, _) = first.spawn()?;
    let a = format!("http://{first_addr}");
    let b = if label == "PostgreSQL" {
        let mut config = qii_domain::config::Config::for_database(url.clone());
        configure(&mut config);
        // Only the announcements can bring a release within the bench.
        config.rules_poll = Duration::from_secs(3600);
        let second = qii_server::http::Server::build(&config).await?;
        let (addr, _, _) = second.spawn()?;
        format!("http://{addr}")
    } else {
        a.clone()
    };

    println!("## Subscriptions ({label}, demo scale {scale}, {rounds} rounds)\n");
    println!("| step | p50 | p95 | max |\n|---|---|---|---|");

    // (1) Rule releases.
    let mut watcher = ws::Ws::connect(&b, Some(&token))
        .await
        .map_err(anyhow::Error::msg)?;
    watcher
        .subscribe(
            "releases",
            "subscription { ruleReleaseChanged { id } }",
            json!({}),
        )
        .await;
    let local = chrono::Utc::now() + chrono::Duration::hours(8);
    let (month, today) = (
        local.format("%Y-%m").to_string(),
        local.format("%Y-%m-%d").to_string(),
    );
    let live = "subscription($p: Period!) { rankingUpdated(period: $p) { initial movedCount moved(first: 5) { orgUnitId rank } } }";
    // Once the ranking answers, the release subscription (started first) is live.
    watcher
        .subscribe("ranking", live, json!({ "p": month }))
        .await;
    watcher.data("ranking", Duration::from_secs(60)).await;
    let v2 = std::fs::read_to_string("rules/qii/v2.rhai")?;
    let v3 = v2
        .replace("version: \"2.0\"", "version: \"3.0\"")
        .replace("effective_from: \"2017-10\"", "effective_from: \"2018-01\"");
    let publish = "mutation($path: String!, $source: String!) { publishRuleSet(path: $path, source: $source) { release { id } } }";
    let mut releases = Vec::with_capacity(rounds);
    for round in 0..rounds {
        // Published and rolled back in turn.
        let (mutation, variables) = if round % 2 == 0 {
            (publish, json!({ "path": "qii/v3.rhai", "source": v3 }))
        } else {
            ("mutation { rollbackRuleSet { changed } }", json!({}))
        };
        data(&a, &token, mutation, variables).await;
        let answered = Instant::now();
        watcher.data("releases", Duration::from_secs(60)).await;
        releases.push(answered.elapsed());
    }
    summary(
        "rule release: publish answered on one server → `ruleReleaseChanged` pushed by the other",
        &mut releases,
    );
    watcher.complete("ranking").await;
    watcher.complete("releases").await;
    // Back to the shipped rules for the rankings.
    if rounds % 2 == 1 {
        data(
            &a,
            &token,
            "mutation { rollbackRuleSet { changed } }",
            json!({}),
        )
        .await;
    }

    // (2) Writes reaching many subscribers.
    let mut connections = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let mut ws = ws::Ws::connect(&b, Some(&token))
            .await
            .map_err(anyhow::Error::msg)?;
        ws.subscribe("ranking", live, json!({ "p": month })).await;
        connections.push(ws);
    }
    for ws in &mut connections {
        ws.data("ranking", Duration::from_secs(60)).await;
    }
    let towns = data(
        &a,
        &token,
        "{ orgUnits(filter: {kind: TOWN}, first: 100) { nodes { id } } }",
        json!({}),
    )
    .await;
    let towns: Vec<String> = towns["orgUnits"]["nodes"]
        .as_array()
        .expect("towns")
        .iter()
        .map(|t| t["id"].as_str().expect("an id").to_owned())
        .collect();
    let visits = "mutation($rows: [DailyVisitRowInput!]!) { recordDailyVisits(input: {rows: $rows}) { inserted } }";
    let metric = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let metrics_of = |base: String| async move {
        reqwest::get(format!("{base}/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    };
    let computed_before = metric(
        &metrics_of(b.clone()).await,
        "qii_live_rankings_published_total",
    );
    let mut fan_out = Vec::with_capacity(rounds);
    let mut first_push = Vec::with_capacity(rounds);
    for round in 0..rounds {
        // Each round puts another town first.
        let town = &towns[round % towns.len()];
        let sent = Instant::now();
        data(
            &a,
            &token,
            visits,
            json!({ "rows": [{ "orgUnitId": town, "day": today, "visits": 100_000 + round * 1000 }] }),
        )
        .await;
        let mut first = None;
        for ws in &mut connections {
            ws.data("ranking", Duration::from_secs(60)).await;
            first.get_or_insert_with(|| sent.elapsed());
        }
        fan_out.push(sent.elapsed());
        first_push.push(first.unwrap_or_default());
    }
    let computed = metric(
        &metrics_of(b.clone()).await,
        "qii_live_rankings_published_total",
    ) - computed_before;
    summary(
        "write on one server → the first subscriber of the other has its `rankingUpdated`",
        &mut first_push,
    );
    summary(
        &format!("write on one server → all {subscribers} subscribers of the other have theirs"),
        &mut fan_out,
    );
    println!(
        "\nThe second server computed the ranking {computed} times for {rounds} writes \
         and {subscribers} subscribers (debounce {debounce:?})."
    );
    remove_sqlite(&url);
    Ok(())
}
