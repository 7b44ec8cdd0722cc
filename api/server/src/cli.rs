//! The `qii` command line: serve, migrate, load demo data, import figures, score, print
//! the schema.

mod access;
mod import;
pub mod queries;
mod report;
mod rollups;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::{http, telemetry};
use qii_demo as demo;
use qii_domain::service::rules::{Changed, RuleStore};
use qii_domain::{
    config::Config,
    db,
    error::ServiceError,
    identity::Actor,
    scoring::{self, Level},
    service,
};
use qii_engine::period::{Period, PeriodKind};
use qii_engine::rules;
use qii_graphql as graphql;

/// qii: GraphQL API server of the Dongguan "Youth Voice" platform and its influence index.
#[derive(Debug, Parser)]
#[command(name = "qii", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the GraphQL server (migrates the database first).
    Serve {
        #[command(flatten)]
        config: Config,
        /// Load the Dongguan demo data set first (skipped when already loaded).
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        config: Config,
    },
    /// Load the Dongguan demo data set (idempotent) and exit.
    Demo {
        #[command(flatten)]
        config: Config,
        /// Seed of the generated activity.
        #[arg(long, default_value_t = 2017)]
        seed: u64,
        /// Size of the generated activity, 1.0 being the default data set.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Rank the units of a period with the rule version in effect for it.
    Score {
        #[command(flatten)]
        config: Config,
        /// The period: `2017-10`, `2017-W43`, `2017-Q4` or `2017-10-01..2017-10-15`.
        #[arg(long)]
        period: Period,
        /// The units ranked: `town`, or an org-unit kind such as `youth_home`.
        #[arg(long, default_value = "town")]
        level: Level,
        /// The rule set.
        #[arg(long, default_value = "qii")]
        rule_set: String,
        /// Compute it afresh and store it in place of the stored ranking.
        #[arg(long)]
        recompute: bool,
        /// Print JSON: the rule version and, per unit, every indicator's raw value,
        /// standardised value, weight and contribution.
        #[arg(long)]
        json: bool,
    },
    /// Recompute and store the rankings of every month or ISO week starting within a span,
    /// with the rules in effect for each and the data as they are now.
    Snapshot {
        #[command(flatten)]
        config: Config,
        /// Which rankings.
        #[arg(long, value_enum)]
        every: Every,
        /// The span: `2017-Q4`, `2017-10`, or `2017-10-01..2017-12-31`.
        #[arg(long)]
        span: Period,
        /// The units ranked: `town`, or an org-unit kind such as `youth_home`.
        #[arg(long, default_value = "town")]
        level: Level,
        /// The rule set.
        #[arg(long, default_value = "qii")]
        rule_set: String,
    },
    /// Import figures from other systems (per org unit, period and key) from a CSV or JSON
    /// file, or with `--visits` the daily visits of the platform's logs: every row is
    /// checked first, and if any is refused nothing is written.
    Import {
        #[command(flatten)]
        config: Config,
        /// The file: CSV with the header `org_unit,period,key,value` (org_unit a code or an
        /// id), or a JSON array of objects with those fields; with `--visits`, CSV with the
        /// header `org_unit,day,visits`.
        file: PathBuf,
        /// The file holds daily valid visits (有效访问量), one row per org unit and
        /// Asia/Shanghai day (`2017-10-01`), recorded as `recordDailyVisits` records them:
        /// the platform's own `valid_visits` figure.
        #[arg(long, conflicts_with_all = ["format", "source"])]
        visits: bool,
        /// The file's format; by default its extension tells (`.csv`, `.json`).
        #[arg(long, value_enum)]
        format: Option<import::FileFormat>,
        /// The system the figures come from, recorded with each one.
        #[arg(long)]
        source: Option<String>,
    },
    /// Accounts: create the first city administrator.
    User {
        #[command(subcommand)]
        command: access::UserCommand,
    },
    /// Registered operations: what a server in allow-list mode runs (register, list,
    /// remove).
    Queries {
        #[command(subcommand)]
        command: queries::QueriesCommand,
    },
    /// Figure rollups: recompute them from the raw events (`rebuild`) or check them against
    /// the raw events (`verify`).
    Rollups {
        #[command(subcommand)]
        command: rollups::RollupsCommand,
    },
    /// Tokens: issue one to a partner, revoke one or a subject's.
    Token {
        #[command(subcommand)]
        command: access::TokenCommand,
    },
    /// Write a period's report workbooks to a folder: the city's and every town's (with a
    /// progress bar), or with `--town` one town's.
    Report {
        #[command(flatten)]
        config: Config,
        /// `weekly` or `monthly`.
        #[arg(long, value_enum)]
        kind: report::Kind,
        /// The period: a month (`2017-11`) for a monthly report, an ISO week (`2017-W45`)
        /// for a weekly one.
        #[arg(long)]
        period: String,
        /// Only this town's report: its name (`虎门`), code or id.
        #[arg(long)]
        town: Option<String>,
        /// The folder the workbooks go to (created when missing).
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Work with the rule scripts.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Print the GraphQL schema (SDL), or write it to a file.
    Schema {
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The rankings a snapshot run stores.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Every {
    Week,
    Month,
    Quarter,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Compile every script, read each scoring script's declaration and run the test cases
    /// beside it; exits non-zero when anything fails.
    Check {
        /// The rules folder.
        #[arg(long, env = "QII_RULES_DIR", default_value = "rules")]
        dir: PathBuf,
    },
    /// Publish a rule file to the database: checked in full first (and refused with every
    /// error found), then in force on every server: at once on PostgreSQL, within two
    /// polls (`QII_RULES_POLL`) on SQLite.
    Publish {
        #[command(flatten)]
        config: Config,
        /// The script.
        file: PathBuf,
        /// Its path in the rules tree (`qii/v3.rhai`); by default its path below the rules
        /// folder.
        #[arg(long)]
        path: Option<String>,
        /// Its test cases; by default the `.tests.json` file beside it, if any.
        #[arg(long)]
        tests: Option<PathBuf>,
        /// Why the rules change, kept with the release and in the audit log.
        #[arg(long)]
        note: Option<String>,
    },
    /// Return a rule set to an earlier release (by default the latest one in which it
    /// differed), as a new release.
    Rollback {
        #[command(flatten)]
        config: Config,
        /// The rule set.
        #[arg(long, default_value = "qii")]
        rule_set: String,
        /// The release to return to.
        #[arg(long)]
        to: Option<i64>,
        /// Why the rules are returned, kept with the release and in the audit log.
        #[arg(long)]
        note: Option<String>,
    },
    /// List the releases of the rules, newest first.
    History {
        #[command(flatten)]
        config: Config,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
}

/// Runs the command line.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, demo } => {
            // Held while serving: dropped, it exports the traces still held.
            let _telemetry = telemetry::init_with(&config.log, config.otlp_endpoint.as_deref())?;
            let server = http::Server::build(&config).await?;
            if demo {
                load_demo(&server.state.db, demo::DemoOptions::default()).await?;
            }
            server.run(http::shutdown_signal()).await
        }
        Command::Migrate { config } => {
            telemetry::init(&config.log);
            let (db, _) = db::connect(&config).await?;
            db::migrate(&db).await?;
            tracing::info!(database = %redact(&config.effective_database_url()), "migrations applied");
            Ok(())
        }
        Command::Demo {
            config,
            seed,
            scale,
        } => {
            telemetry::init(&config.log);
            if !(scale > 0.0 && scale <= 100.0) {
                anyhow::bail!("--scale must be greater than 0 and at most 100, got {scale}");
            }
            let (db, _) = db::connect(&config).await?;
            db::migrate(&db).await?;
            let options = demo::DemoOptions {
                seed,
                scale,
                ..Default::default()
            };
            load_demo(&db, options).await
        }
        Command::Rules { command } => rules_command(command).await,
        Command::Report {
            config,
            kind,
            period,
            town,
            out,
        } => report::run(&config, kind, &period, town.as_deref(), &out).await,
        Command::User { command } => access::user(command).await,
        Command::Token { command } => access::token(command).await,
        Command::Queries { command } => queries::run(command).await,
        Command::Rollups { command } => rollups::run(command).await,
        Command::Import {
            config,
            file,
            visits,
            format,
            source,
        } => {
            telemetry::init(&config.log);
            if visits {
                import::visits::run(&config, &file).await
            } else {
                import::run(&config, &file, format, source.as_deref()).await
            }
        }
        Command::Score {
            config,
            period,
            level,
            rule_set,
            recompute,
            json,
        } => {
            let (db, store) = open_rules(&config).await?;
            let actor = Actor::system();
            if recompute {
                service::scoring::recompute(&db, &actor, &store, &rule_set, &period, level)
                    .await
                    .map_err(failure)?;
            }
            let cache = qii_domain::scoring::snapshot::Cache::default();
            let compared =
                service::scoring::ranking(&db, &actor, (&store, &cache), &rule_set, &period, level)
                    .await
                    .map_err(failure)?;
            if json {
                println!("{:#}", ranking_json(&compared));
            } else {
                print_ranking(&compared);
            }
            Ok(())
        }
        Command::Snapshot {
            config,
            every,
            span,
            level,
            rule_set,
        } => {
            let kind = match every {
                Every::Week => PeriodKind::Week,
                Every::Month => PeriodKind::Month,
                Every::Quarter => PeriodKind::Quarter,
            };
            let (db, store) = open_rules(&config).await?;
            let today = qii_engine::time::local_day(chrono::Utc::now());
            let (periods, running): (Vec<Period>, Vec<Period>) = span
                .starting_within(kind)
                .into_iter()
                .partition(|p| scoring::snapshot::storable(p, today));
            for period in &running {
                println!(
                    "{period}: has not ended yet, skipped (its ranking is computed on every read)"
                );
            }
            if periods.is_empty() && running.is_empty() {
                anyhow::bail!("no {} starts within {span}", kind.name());
            }
            let bar = indicatif::ProgressBar::new(periods.len() as u64).with_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:>10} [{bar:32}] {pos}/{len} {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            for period in &periods {
                bar.set_message(period.to_string());
                let (ranking, _) = service::scoring::recompute(
                    &db,
                    &Actor::system(),
                    &store,
                    &rule_set,
                    period,
                    level,
                )
                .await
                .map_err(failure)?;
                let line = format!(
                    "{period}: {} units ranked with {} {} [{}], stored",
                    ranking.scores.len(),
                    ranking.rule_set,
                    ranking.version,
                    &ranking.hash[..12]
                );
                bar.suspend(|| println!("{line}"));
                bar.inc(1);
            }
            bar.finish_and_clear();
            Ok(())
        }
        Command::Schema { out } => {
            let sdl = graphql::sdl();
            match out {
                Some(path) => std::fs::write(&path, sdl)?,
                None => print!("{sdl}"),
            }
            Ok(())
        }
    }
}

async fn load_demo(
    db: &sea_orm::DatabaseConnection,
    options: demo::DemoOptions,
) -> anyhow::Result<()> {
    let summary = demo::load(db, &options).await?;
    if summary.already_loaded {
        tracing::info!("demo data already loaded; nothing to do");
    } else {
        tracing::info!(?summary, "demo data loaded");
    }
    Ok(())
}

/// Connects to the database and opens the rules in force there, after applying what
/// changed in the rules folder (as a server starting would).
async fn open_rules(config: &Config) -> anyhow::Result<(sea_orm::DatabaseConnection, RuleStore)> {
    telemetry::init(&config.log);
    let (db, _) = db::connect(config).await?;
    db::migrate(&db).await?;
    let options = qii_domain::service::rules::StoreOptions::of(config);
    let store = RuleStore::open(db.clone(), &config.rules_dir, options).await;
    Ok((db, store))
}

/// A service error as a command-line failure: its message, and every error of a refused
/// rules change.
fn failure(err: ServiceError) -> anyhow::Error {
    if let ServiceError::RulesRejected(errors) = &err {
        let list: String = errors.iter().map(|e| format!("\n  {e}")).collect();
        return anyhow::anyhow!("the change was rejected and the rules in force stay:{list}");
    }
    let graphql: async_graphql::Error = err.into();
    anyhow::anyhow!("{}", graphql.message)
}

async fn rules_command(command: RulesCommand) -> anyhow::Result<()> {
    let actor = Actor::system();
    match command {
        RulesCommand::Check { dir } => check_rules(&dir).await,
        RulesCommand::Publish {
            config,
            file,
            path,
            tests,
            note,
        } => {
            let source = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let path = match path {
                Some(path) => path,
                None => tree_path(&config.rules_dir, &file)?,
            };
            let tests_file = tests.unwrap_or_else(|| file.with_extension("tests.json"));
            let tests =
                if tests_file.exists() {
                    Some(std::fs::read_to_string(&tests_file).map_err(|e| {
                        anyhow::anyhow!("cannot read {}: {e}", tests_file.display())
                    })?)
                } else {
                    None
                };
            let (_, store) = open_rules(&config).await?;
            let file = rules::RuleSource {
                path,
                source,
                tests,
            };
            let outcome = service::rules::publish(&actor, &store, file, note.as_deref())
                .await
                .map_err(failure)?;
            print_change(outcome);
            Ok(())
        }
        RulesCommand::Rollback {
            config,
            rule_set,
            to,
            note,
        } => {
            let (_, store) = open_rules(&config).await?;
            let outcome = service::rules::rollback(&actor, &store, &rule_set, to, note.as_deref())
                .await
                .map_err(failure)?;
            print_change(outcome);
            Ok(())
        }
        RulesCommand::History { config, limit } => {
            let (_, store) = open_rules(&config).await?;
            let releases = service::rules::history(&actor, &store, limit)
                .await
                .map_err(failure)?;
            for release in releases {
                // `*` in force, `x` refused by its checks.
                let marker = if store.release() == Some(release.id) {
                    "*"
                } else if release.outcome == "rejected" {
                    "x"
                } else {
                    " "
                };
                println!(
                    "{marker}{:>5}  {}  {:<8}  {:<14}  {}",
                    release.id,
                    release.created_at.format("%Y-%m-%d %H:%M:%S"),
                    release.action,
                    release.actor,
                    release.note
                );
            }
            Ok(())
        }
    }
}

/// A script's path in the rules tree, from where it lies below the rules folder.
fn tree_path(rules_dir: &std::path::Path, file: &std::path::Path) -> anyhow::Result<String> {
    let absolute = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let relative = absolute(file)
        .strip_prefix(absolute(rules_dir))
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        })
        .map_err(|_| {
            anyhow::anyhow!(
                "{} is not below the rules folder {}: give its path in the rules tree with --path, e.g. --path qii/v3.rhai",
                file.display(),
                rules_dir.display()
            )
        })?;
    Ok(relative)
}

fn print_change(outcome: Changed) {
    match outcome {
        Changed::Released(id) => println!("release {id} is in force"),
        Changed::Unchanged(id) => println!("nothing changed: release {id} stays in force"),
    }
}

/// A ranking with its explanation, for other programs.
fn ranking_json(compared: &service::scoring::Compared) -> serde_json::Value {
    let ranking = &compared.ranking;
    let units: Vec<serde_json::Value> = ranking
        .scores
        .iter()
        .map(|score| {
            serde_json::json!({
                "rank": score.rank,
                "org_unit_id": score.unit,
                "org_unit": ranking.names.get(&score.unit),
                "total": score.total,
                "dimensions": score
                    .labelled_dimensions()
                    .map(|(label, d)| serde_json::json!({
                        "key": label.key,
                        "weight": label.weight,
                        "score": d.score,
                        "contribution": d.contribution,
                    }))
                    .collect::<Vec<_>>(),
                "indicators": score
                    .labelled_indicators()
                    .map(|(label, i)| serde_json::json!({
                        "key": label.key,
                        "dimension": label.dimension,
                        "weight": label.weight,
                        "raw": i.raw,
                        "standardised": i.standardised,
                        "contribution": i.contribution,
                    }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "rule_set": ranking.rule_set,
        "version": ranking.version,
        "content_hash": ranking.hash,
        "effective_from": ranking.effective_from,
        "period": ranking.period.to_string(),
        "level": ranking.level.to_string(),
        "stored_at": compared.stored.as_ref().map(|s| s.computed_at.to_rfc3339()),
        "outdated": compared.outdated,
        "units": units,
    })
}

/// Prints a ranking: the rule version, then one line per unit with its dimension
/// contributions. A closed pipe (`| head`) ends the output quietly.
fn print_ranking(compared: &service::scoring::Compared) {
    use std::fmt::Write as _;
    let ranking = &compared.ranking;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} [{}] effective from {} — period {}",
        ranking.rule_set,
        ranking.version,
        &ranking.hash[..12],
        ranking.effective_from,
        ranking.period
    );
    match &compared.stored {
        Some(stored) => {
            let _ = writeln!(
                out,
                "stored {} by {}{}",
                stored.computed_at.format("%Y-%m-%d %H:%M:%S UTC"),
                stored.computed_by,
                if compared.outdated {
                    " (outdated: the rules in effect for the period changed since; --recompute applies them)"
                } else {
                    ""
                }
            );
        }
        None => {
            let _ = writeln!(out, "computed now (not stored)");
        }
    }
    let dimensions: Vec<&str> = ranking
        .scores
        .first()
        .map(|s| s.labels.dimensions.iter().map(|d| d.key.as_str()).collect())
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{:>4}  {:<12} {:>7}  {}",
        "rank",
        "unit",
        "total",
        dimensions.join("  ")
    );
    for score in &ranking.scores {
        let name = ranking
            .names
            .get(&score.unit)
            .map(String::as_str)
            .unwrap_or("?");
        let parts: Vec<String> = score
            .labelled_dimensions()
            .map(|(label, d)| format!("{:>width$.2}", d.contribution, width = label.key.len()))
            .collect();
        let _ = writeln!(
            out,
            "{:>4}  {:<12} {:>7.2}  {}",
            score.rank,
            name,
            score.total,
            parts.join("  ")
        );
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes());
}

/// Prints one line per script and fails when any script or test case does.
async fn check_rules(dir: &std::path::Path) -> anyhow::Result<()> {
    let sources = rules::RuleSource::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
    let sandbox = rules::Sandbox::new();
    let pool = sandbox.clone();
    let reports = pool
        .run(move || rules::check::check_sources(&sandbox, &sources))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut failed = 0;
    for report in &reports {
        let hash = report.hash.as_deref().map(|h| &h[..12]).unwrap_or("-");
        let what = match (&report.index, &report.targets, &report.policy) {
            (Some(spec), _, _) => format!(
                "index {} {} from {}, {} indicators, {} test cases passed",
                spec.name,
                spec.version,
                spec.effective_from,
                spec.indicators().count(),
                report.cases_passed
            ),
            (None, Some(spec), _) => format!(
                "targets {} {} for {} to {}, {} targets",
                spec.name,
                spec.version,
                spec.effective_from,
                spec.effective_until,
                spec.targets.len()
            ),
            (None, None, Some(spec)) => format!(
                "policy {} {} from {}{}, {} test cases passed",
                spec.name,
                spec.version,
                spec.effective_from,
                spec.effective_until
                    .as_ref()
                    .map_or_else(String::new, |u| format!(" to {u}")),
                report.cases_passed
            ),
            (None, None, None) => "compiled".to_owned(),
        };
        if report.errors.is_empty() {
            println!("ok    {} [{hash}] {what}", report.path);
        } else {
            failed += 1;
            println!("FAIL  {} [{hash}]", report.path);
            for error in &report.errors {
                println!("      {error}");
            }
        }
    }
    println!("{} passed, {failed} failed", reports.len() - failed);
    if failed > 0 {
        anyhow::bail!("{failed} rule script(s) failed their checks");
    }
    Ok(())
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redact("postgres://qii:secret@db/qii"),
            "postgres://qii@db/qii"
        );
        assert_eq!(
            redact("sqlite://qii.db?mode=rwc"),
            "sqlite://qii.db?mode=rwc"
        );
    }
}
