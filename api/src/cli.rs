//! The `qii` command line: serve, migrate, load demo data, print the schema.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::{
    config::Config,
    db, demo, graphql, http,
    period::Period,
    rules,
    scoring::{self, Level},
    telemetry,
};

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

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Compile every script, read each scoring script's declaration and run the test cases
    /// beside it; exits non-zero when anything fails.
    Check {
        /// The rules folder.
        #[arg(long, env = "QII_RULES_DIR", default_value = "rules")]
        dir: PathBuf,
    },
}

/// Runs the command line.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, demo } => {
            telemetry::init(&config.log);
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
        Command::Rules {
            command: RulesCommand::Check { dir },
        } => check_rules(&dir),
        Command::Score {
            config,
            period,
            level,
            rule_set,
        } => {
            telemetry::init(&config.log);
            let registry = rules::Registry::load(&config.rules_dir)?;
            let (db, _) = db::connect(&config).await?;
            db::migrate(&db).await?;
            let ranking = scoring::rank(&db, &registry, &rule_set, &period, level).await?;
            print_ranking(&ranking);
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

/// Prints a ranking: the rule version, then one line per unit with its dimension
/// contributions. A closed pipe (`| head`) ends the output quietly.
fn print_ranking(ranking: &scoring::Ranking) {
    use std::fmt::Write as _;
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
fn check_rules(dir: &std::path::Path) -> anyhow::Result<()> {
    let reports = rules::check::check_dir(&rules::Sandbox::new(), dir)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
    let mut failed = 0;
    for report in &reports {
        let hash = report.hash.as_deref().map(|h| &h[..12]).unwrap_or("-");
        let what = match &report.index {
            Some(spec) => format!(
                "index {} {} from {}, {} indicators, {} test cases passed",
                spec.name,
                spec.version,
                spec.effective_from,
                spec.indicators().count(),
                report.cases_passed
            ),
            None => "compiled".to_owned(),
        };
        if report.errors.is_empty() {
            println!("ok    {} [{hash}] {what}", report.path.display());
        } else {
            failed += 1;
            println!("FAIL  {} [{hash}]", report.path.display());
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
