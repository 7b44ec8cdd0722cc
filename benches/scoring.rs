//! Scoring benchmark: generates a synthetic data set (N towns, M events in one month) into a
//! fresh database, then times scoring the month at the town level, split into
//!
//! (a) the SQL aggregation of the raw figures (`scoring::raw_table`),
//! (b) the script evaluation (`rules::compute::score` with the shipped `rules/qii/v2.rhai`),
//! (c) the same index in plain Rust (`scoring/reference.rs`), checked against (b), and
//! (d) the full monthly ranking (`scoring::rank`),
//!
//! beside (a′) the same figures counted from the raw events (the path before the rollups,
//! checked equal), and the cost the rollup triggers add to single writes (`QII_BENCH_WRITES`
//! inserts of each kind, default 2,000, alternating rounds with and without the triggers),
//!
//! with the peak heap of each step (a counting global allocator: the largest growth of the
//! bytes allocated during one extra round of the step) and the process's peak resident set
//! (`VmHWM`, which includes the generation).
//!
//! `cargo bench --bench scoring` uses a fresh SQLite file; set `QII_BENCH_DATABASE_URL` to a
//! PostgreSQL database to run there instead (**its tables are dropped** and recreated).
//! `QII_BENCH_UNITS` (default 1,000 towns), `QII_BENCH_EVENTS` (default 100,000),
//! `QII_BENCH_PERIOD` (default 2017-11) and `QII_BENCH_ROUNDS` (default 10; the in-memory
//! steps (b) and (c) run five times as many) shape the run; `QII_BENCH_REUSE=1` times the
//! data an earlier run left in that database instead of loading it again (new migrations are
//! applied first). Results go to standard output in
//! the form used in BENCHMARKS.md.

#[path = "scoring/reference.rs"]
mod reference;
#[path = "scoring/writes.rs"]
mod writes;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    path::Path,
    sync::atomic::{AtomicBool, AtomicIsize, Ordering},
    time::{Duration, Instant},
};

use migration::{Migrator, MigratorTrait};
use qii_demo::synthetic::{self, SyntheticOptions};
use qii_domain::{
    config::Config,
    scoring::{rank, raw_table, Level},
};
use qii_engine::period::Period;
use qii_engine::rules::{compute, spec::IndexSpec, Registry};
use sea_orm::{ConnectionTrait, DbBackend};

/// Counts the bytes allocated and their high-water mark while [`COUNTING`] is on: timed
/// rounds run with it off, so that the count costs them nothing, and one more round per step
/// with it on measures the step's peak heap.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
/// Signed: memory allocated before counting began may be freed while it is on.
static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        let now = CURRENT.fetch_add(bytes as isize, Ordering::Relaxed) + bytes as isize;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

fn shrank(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        CURRENT.fetch_sub(bytes as isize, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are
// updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Timings and peak heap of one step.
struct Step {
    times: Vec<Duration>,
    /// Largest heap growth during the counted round.
    peak: usize,
}

impl Step {
    fn new() -> Self {
        Self {
            times: Vec::new(),
            peak: 0,
        }
    }

    /// Records the time of a round since `started`; round 0 warms up and is not recorded.
    fn time(&mut self, round: usize, started: Instant) {
        if round > 0 {
            self.times.push(started.elapsed());
        }
    }

    /// Starts the counted round.
    fn count() {
        CURRENT.store(0, Ordering::Relaxed);
        PEAK.store(0, Ordering::Relaxed);
        COUNTING.store(true, Ordering::Relaxed);
    }

    /// Ends the counted round.
    fn counted<T>(&mut self, result: T) -> T {
        COUNTING.store(false, Ordering::Relaxed);
        self.peak = PEAK.load(Ordering::Relaxed).max(0) as usize;
        result
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.times.clone();
        sorted.sort();
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[i.min(sorted.len() - 1)]
    }

    fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {} | {} |",
            ms(self.percentile(0.5)),
            ms(self.percentile(0.95)),
            mib(self.peak)
        )
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The process's peak resident set, from `/proc/self/status`.
fn vm_hwm() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.0} MiB", kib / 1024.0))
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Where two tables of figures differ: the first few (figure, unit, first, second).
fn differences(
    a: &qii_engine::rules::compute::RawTable,
    b: &qii_engine::rules::compute::RawTable,
) -> String {
    if a.units != b.units {
        return format!("their units ({} and {})", a.units.len(), b.units.len());
    }
    let mut keys: Vec<&String> = a.figures.keys().chain(b.figures.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        match (a.figures.get(key), b.figures.get(key)) {
            (Some(x), Some(y)) => {
                let differing: Vec<String> = x
                    .iter()
                    .zip(y)
                    .zip(&a.units)
                    .filter(|((p, q), _)| p != q)
                    .take(3)
                    .map(|((p, q), unit)| format!("unit {unit}: {p:?} / {q:?}"))
                    .collect();
                let count = x.iter().zip(y).filter(|(p, q)| p != q).count();
                if count > 0 {
                    out.push(format!("{key} ({count} units; {})", differing.join(", ")));
                }
            }
            _ => out.push(format!("{key} (in one only)")),
        }
    }
    out.join("; ")
}

/// What a load put in the database, kept there for `QII_BENCH_REUSE`.
struct Loaded {
    towns: i64,
    events: i64,
    data: String,
}

async fn remember_load(
    db: &sea_orm::DatabaseConnection,
    loaded: &Loaded,
    seconds: f64,
) -> anyhow::Result<()> {
    let backend = db.get_database_backend();
    db.execute_unprepared(
        "CREATE TABLE bench_load (towns BIGINT NOT NULL, events BIGINT NOT NULL, \
         data TEXT NOT NULL, seconds DOUBLE PRECISION NOT NULL)",
    )
    .await?;
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        match backend {
            DbBackend::Postgres => "INSERT INTO bench_load VALUES ($1, $2, $3, $4)",
            _ => "INSERT INTO bench_load VALUES (?, ?, ?, ?)",
        },
        [
            loaded.towns.into(),
            loaded.events.into(),
            loaded.data.clone().into(),
            seconds.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The load an earlier run kept, if the database holds one.
async fn earlier_load(db: &sea_orm::DatabaseConnection) -> anyhow::Result<Option<(Loaded, f64)>> {
    let backend = db.get_database_backend();
    let Ok(Some(row)) = db
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT towns, events, data, seconds FROM bench_load",
        ))
        .await
    else {
        return Ok(None);
    };
    Ok(Some((
        Loaded {
            towns: row.try_get("", "towns")?,
            events: row.try_get("", "events")?,
            data: row.try_get("", "data")?,
        },
        row.try_get("", "seconds")?,
    )))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let towns: usize = env_or("QII_BENCH_UNITS", 1_000);
    let events: usize = env_or("QII_BENCH_EVENTS", 100_000);
    let rounds: usize = env_or("QII_BENCH_ROUNDS", 10).max(1);
    let period: Period = std::env::var("QII_BENCH_PERIOD")
        .unwrap_or_else(|_| "2017-11".into())
        .parse()
        .map_err(|e| anyhow::anyhow!("QII_BENCH_PERIOD: {e}"))?;
    let sqlite_file = std::env::temp_dir().join(format!("qii-scoring-{}.db", std::process::id()));
    let url = std::env::var("QII_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", sqlite_file.display()));

    let config = Config::for_database(url);
    let (db, _) = qii_domain::db::connect(&config).await?;
    let backend = db.get_database_backend();
    // `QII_BENCH_REUSE=1` times the data an earlier run of the same shape loaded (new
    // migrations applied), so that a change to the read path is measured without loading
    // 100,000 towns again.
    let reuse = std::env::var("QII_BENCH_REUSE").as_deref() == Ok("1");
    let loaded = if reuse {
        earlier_load(&db).await?
    } else {
        None
    };
    let (loaded, load_time) = match loaded {
        Some(loaded) => {
            Migrator::up(&db, None).await?;
            loaded
        }
        None => {
            Migrator::fresh(&db).await?;
            let started = Instant::now();
            let summary = synthetic::load(
                &db,
                &SyntheticOptions {
                    towns,
                    events,
                    period,
                    seed: 2017,
                    progress: false,
                },
            )
            .await?;
            let load_time = started.elapsed().as_secs_f64();
            let loaded = Loaded {
                towns: summary.towns as i64,
                events: summary.events.total() as i64,
                data: format!("{summary} ({} rows)", summary.rows()),
            };
            remember_load(&db, &loaded, load_time).await?;
            (loaded, load_time)
        }
    };
    // The database as it settles after a load: planner statistics and, on PostgreSQL, the
    // visibility map (autovacuum); on SQLite the load's write-ahead log checkpointed into the
    // database file (as automatic checkpoints keep it small in service).
    db.execute_unprepared(match backend {
        DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE",
    })
    .await?;
    // Fresh connections, which plan with those statistics (SQLite connections opened before
    // ANALYZE keep planning without them).
    db.close().await?;
    let (db, _) = qii_domain::db::connect(&config).await?;

    let mut registry = Registry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"))?;
    registry.read_events = std::env::var("QII_BENCH_FIGURES").as_deref() == Ok("events");
    let version = registry.version_for("qii", &period)?;
    let rules = registry.activity_rules()?;
    // The rollups count the activities these rules count (a server does this when it puts
    // rules in force).
    qii_domain::scoring::rollups::sync_conditions(&db, &rules).await?;
    let figures = if registry.read_events {
        qii_domain::scoring::Figures::Events(&rules)
    } else {
        qii_domain::scoring::Figures::Rollups
    };
    let targets = registry.targets_for(&period);
    let level = Level::Town;

    let declared = Instant::now();
    let spec = qii_engine::rules::Sandbox::on_this_thread(|| {
        IndexSpec::from_script(&registry.sandbox, &version.script)
    })?;
    let declared = declared.elapsed();
    anyhow::ensure!(
        spec == version.spec,
        "the declaration is read the same each run"
    );

    // Each step: one untimed round first (caches, connections, the planner), the timed
    // rounds, each result dropped after its time is taken, then one round counting the heap,
    // whose result is kept.
    let mut sql = Step::new();
    for round in 0..=rounds {
        let started = Instant::now();
        let table = raw_table(&db, &period, level, figures, &targets).await?;
        sql.time(round, started);
        drop(table);
    }
    Step::count();
    let table = raw_table(&db, &period, level, figures, &targets).await;
    let raw = sql.counted(table)?;

    // The same figures counted from the raw events, as before the rollups (and as
    // `QII_FIGURES=events` does): fewer rounds, it is the slow path.
    let mut counted = Step::new();
    let event_rounds: usize = env_or("QII_BENCH_EVENT_ROUNDS", 3).max(1);
    for round in 0..=event_rounds {
        let started = Instant::now();
        let table = raw_table(
            &db,
            &period,
            level,
            qii_domain::scoring::Figures::Events(&rules),
            &targets,
        )
        .await?;
        counted.time(round, started);
        anyhow::ensure!(
            table.units == raw.units && table.figures == raw.figures,
            "the rollups and the raw events give the same figures; they differ in {}",
            differences(&raw, &table)
        );
    }

    let evaluate = || {
        qii_engine::rules::Sandbox::on_this_thread(|| {
            compute::score(&registry.sandbox, &version.script, &version.spec, &raw)
        })
    };
    let mut script = Step::new();
    for round in 0..=rounds * 5 {
        let started = Instant::now();
        let scores = evaluate()?;
        script.time(round, started);
        drop(scores);
    }
    Step::count();
    let result = evaluate();
    let scores = script.counted(result)?;

    let mut plain = Step::new();
    for round in 0..=rounds * 5 {
        let started = Instant::now();
        let expected = std::hint::black_box(reference::score(std::hint::black_box(&raw)));
        plain.time(round, started);
        drop(expected);
    }
    Step::count();
    let result = reference::score(&raw);
    let expected = plain.counted(result);
    let deviation = agreement(&scores, &expected)?;

    let mut full = Step::new();
    for round in 0..=rounds {
        let started = Instant::now();
        let ranking = rank(&db, &registry, "qii", &period, level).await?;
        full.time(round, started);
        drop(ranking);
    }
    Step::count();
    let result = rank(&db, &registry, "qii", &period, level).await;
    let ranking = full.counted(result)?;
    anyhow::ensure!(
        ranking.scores == scores,
        "the full ranking gives the scores computed step by step"
    );

    let database = match backend {
        DbBackend::Postgres => "PostgreSQL",
        _ => "SQLite",
    };
    println!(
        "database: {database}; period {period}; {} towns ranked; {} events; loaded in {:.1} s{}",
        loaded.towns,
        loaded.events,
        load_time,
        if reuse { " (by an earlier run)" } else { "" }
    );
    println!("data: {}", loaded.data);
    println!("rounds: {rounds} (in-memory steps: {})", rounds * 5);
    println!();
    println!("| step | p50 | p95 | peak heap |");
    println!("|---|---|---|---|");
    println!("{}", sql.row("(a) SQL aggregation `raw_table` (rollups)"));
    println!(
        "{}",
        counted.row("(a′) the same figures counted from the raw events")
    );
    println!(
        "{}",
        script.row("(b) script evaluation `compute::score` (v2.rhai)")
    );
    println!("{}", plain.row("(c) plain-Rust reference"));
    println!("{}", full.row("(d) full ranking `scoring::rank`"));
    println!();
    println!(
        "script / reference (p50): {:.2}× (target ≤ 1.5×); reading the declaration `index()`: {:.0} µs, once per run",
        script.percentile(0.5).as_secs_f64() / plain.percentile(0.5).as_secs_f64(),
        declared.as_secs_f64() * 1e6
    );
    println!(
        "agreement with the reference: {} units, largest difference {deviation:.1e}",
        scores.len()
    );
    println!(
        "peak resident set (VmHWM, whole process including the load): {}",
        vm_hwm().unwrap_or_else(|| "unknown".into())
    );

    let writes: usize = env_or("QII_BENCH_WRITES", 2_000);
    if writes > 0 {
        println!();
        println!("write cost, mean of {writes} single-row inserts each (autocommit), with and without the rollup triggers:");
        println!();
        println!("| write | with triggers | without | added |");
        println!("|---|---|---|---|");
        for kind in writes::KINDS {
            let (with, without) = writes::measure(&db, *kind, writes).await?;
            println!(
                "| {} | {:.0} µs | {:.0} µs | {:+.0} µs ({:+.0} %) |",
                kind.name(),
                with * 1e6,
                without * 1e6,
                (with - without) * 1e6,
                (with / without - 1.0) * 100.0
            );
        }
    }

    drop(db);
    if backend == DbBackend::Sqlite {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", sqlite_file.display()));
        }
    }
    Ok(())
}

/// Checks that the engine and the reference agree on every unit's total, rank, dimension
/// scores, standardised scores and contributions within 1e-9; returns the largest difference.
fn agreement(
    engine: &[compute::UnitScore],
    reference: &[reference::Scored],
) -> anyhow::Result<f64> {
    const TOLERANCE: f64 = 1e-9;
    anyhow::ensure!(
        engine.len() == reference.len(),
        "as many units on both sides"
    );
    let mut largest: f64 = 0.0;
    for (e, r) in engine.iter().zip(reference) {
        anyhow::ensure!(
            e.unit == r.unit && e.rank == r.rank,
            "unit {} ranks {} by the script, unit {} ranks {} by the reference",
            e.unit,
            e.rank,
            r.unit,
            r.rank
        );
        let mut pairs = vec![(e.total, r.total)];
        pairs.extend(
            e.dimensions
                .iter()
                .zip(r.dimensions)
                .map(|(d, s)| (d.score, s)),
        );
        pairs.extend(
            e.indicators
                .iter()
                .zip(r.contributions)
                .map(|(i, c)| (i.contribution, c)),
        );
        for ((label, i), s) in e.labelled_indicators().zip(r.standardised) {
            anyhow::ensure!(
                i.standardised.is_some() == s.is_some(),
                "unit {}: indicator {} is scored on one side only",
                e.unit,
                label.key
            );
            pairs.push((i.standardised.unwrap_or(0.0), s.unwrap_or(0.0)));
        }
        for (a, b) in pairs {
            let d = (a - b).abs();
            anyhow::ensure!(
                d <= TOLERANCE,
                "unit {}: the script gives {a}, the reference {b}",
                e.unit
            );
            largest = largest.max(d);
        }
    }
    Ok(largest)
}
