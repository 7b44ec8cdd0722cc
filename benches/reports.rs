//! Report benchmark: loads the demo data set into a fresh database, starts the real server
//! and times the report addresses over HTTP as a city administrator — the first read of a
//! month (which scores and stores its ranking and the earlier months' for the trend), then
//! warm reads of the `report` query, the workbooks, the CSV and the pages — and writes every
//! town's workbook as `qii report` does. Prints the SQL statements per request and the
//! process's peak resident set.
//!
//! `cargo bench --bench reports` (SQLite); set `QII_BENCH_DATABASE_URL` to a PostgreSQL
//! database to run there instead. `QII_BENCH_SCALE` (default 1.0) sizes the data set,
//! `QII_BENCH_ROUNDS` (default 20) the repetitions and `QII_BENCH_PERIOD` (default
//! 2017-12) the month.

#[path = "support.rs"]
mod support;

use std::time::Instant;

use qii_domain::identity::Actor;
use qii_reports::{self as reports, ReportKind};
use serde_json::json;
use support::{print_row, remove_sqlite, setting};

/// Peak resident set of this process, from `/proc/self/status`.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let scale: f64 = setting("QII_BENCH_SCALE", 1.0);
    let rounds: usize = setting("QII_BENCH_ROUNDS", 20);
    let month: String = setting("QII_BENCH_PERIOD", "2017-12".to_owned());
    let (bench, _) = support::start("reports", scale).await?;
    let (url, label, load_time, token) = (bench.url, bench.label, bench.load_time, bench.token);
    let (db, rules) = (
        bench.server.state.db.clone(),
        bench.server.state.rules.clone(),
    );
    let (addr, statements, _task) = bench.server.spawn()?;
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    println!("database: {label}; demo scale {scale} loaded in {load_time:.2?}; month {month}");

    // The first read scores and stores the month and the months before it.
    let before = statements.get();
    let cold = Instant::now();
    let response = client
        .get(format!("{base}/reports/monthly/{month}.xlsx"))
        .bearer_auth(&token)
        .send()
        .await?;
    anyhow::ensure!(response.status() == 200, "{}", response.text().await?);
    let bytes = response.bytes().await?.len();
    println!(
        "first read of the city workbook (scores and stores the rankings): {:.1?}, {} SQL statements, {} KiB",
        cold.elapsed(),
        statements.get() - before,
        bytes / 1024
    );

    let query = "query($p: Period!) { report(kind: MONTHLY, period: $p) { ranking { rank total } details { missed } } }";
    let requests: Vec<(&str, String)> = vec![
        ("`report` query, city", String::new()),
        (
            "city workbook (.xlsx)",
            format!("/reports/monthly/{month}.xlsx"),
        ),
        ("city CSV", format!("/reports/monthly/{month}.csv")),
        ("city page", format!("/reports/monthly/{month}")),
        (
            "town workbook (虎门)",
            format!("/reports/monthly/{month}/town-humen.xlsx"),
        ),
        (
            "town page (虎门)",
            format!("/reports/monthly/{month}/town-humen"),
        ),
    ];
    println!("| request | p50 | p95 | max | SQL statements |");
    println!("|---|---|---|---|---|");
    for (name, path) in &requests {
        let mut times = Vec::with_capacity(rounds);
        let mut per_request = 0;
        for round in 0..rounds + 2 {
            let before = statements.get();
            let t = Instant::now();
            let request = if path.is_empty() {
                client
                    .post(format!("{base}/graphql"))
                    .json(&json!({ "query": query, "variables": { "p": month } }))
            } else {
                client.get(format!("{base}{path}"))
            };
            let response = request.bearer_auth(&token).send().await?;
            anyhow::ensure!(response.status() == 200, "{name}: {}", response.status());
            let body = response.bytes().await?;
            let elapsed = t.elapsed();
            anyhow::ensure!(!body.is_empty(), "{name}: empty body");
            per_request = statements.get() - before;
            if round >= 2 {
                times.push(elapsed);
            }
        }
        print_row(name, &mut times, per_request);
    }

    // What `qii report` does: the city's workbook and every town's.
    let period = reports::parse_period(ReportKind::Monthly, &month)
        .map_err(|e| anyhow::anyhow!("{:?}", e))?;
    let started = Instant::now();
    let actor = Actor::system();
    let city = reports::build(
        &db,
        &actor,
        &rules,
        ReportKind::Monthly,
        &period,
        None,
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut written = reports::xlsx::workbook(&city)?.len();
    for line in &city.ranking {
        let town = Some(line.town.id.get());
        let report = reports::build(
            &db,
            &actor,
            &rules,
            ReportKind::Monthly,
            &period,
            town,
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        written += reports::xlsx::workbook(&report)?.len();
    }
    println!(
        "all {} workbooks (the city's and every town's): {:.2?}, {} KiB in all",
        city.ranking.len() + 1,
        started.elapsed(),
        written / 1024
    );
    println!("peak resident set: {}", peak_rss());
    remove_sqlite(&url);
    Ok(())
}
