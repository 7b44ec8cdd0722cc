//! `qii rollups`: recompute the figure rollups from the raw events, or check them.
//!
//! The database keeps the rollups with every write; a rebuild is for after a bulk load that
//! bypassed the triggers, a restore, or a difference `verify` reported.

use anyhow::Context;
use chrono::NaiveDate;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use qii_domain::{
    config::Config,
    db,
    scoring::rollups::{self, DaySpan},
};

/// Figure rollups.
#[derive(Debug, Subcommand)]
pub enum RollupsCommand {
    /// Recompute the rollups of a span of days (all by default) from the raw events, in one
    /// transaction, with a progress bar.
    Rebuild {
        #[command(flatten)]
        config: Config,
        #[command(flatten)]
        span: Span,
    },
    /// Compare the rollups (and each activity's kept counts) with the raw events, changing
    /// nothing; exits with status 1 and lists the differences if there are any.
    Verify {
        #[command(flatten)]
        config: Config,
        #[command(flatten)]
        span: Span,
    },
}

/// The Asia/Shanghai days covered, both included.
#[derive(Debug, clap::Args)]
pub struct Span {
    /// The first day, `YYYY-MM-DD` (default: the earliest).
    #[arg(long, value_parser = day)]
    from: Option<NaiveDate>,
    /// The last day, `YYYY-MM-DD` (default: the latest).
    #[arg(long, value_parser = day)]
    to: Option<NaiveDate>,
}

fn day(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a day: write it as YYYY-MM-DD, e.g. 2017-11-01"))
}

impl Span {
    fn checked(&self) -> anyhow::Result<DaySpan> {
        if let (Some(from), Some(to)) = (self.from, self.to) {
            anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
        }
        Ok(DaySpan {
            from: self.from,
            to: self.to,
        })
    }
}

/// Differences listed in full; beyond, only counted.
const SHOWN: usize = 50;

pub async fn run(command: RollupsCommand) -> anyhow::Result<()> {
    match command {
        RollupsCommand::Rebuild { config, span } => {
            let span = span.checked()?;
            let db = connect(&config).await?;
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template("{msg:>28} [{bar:32}] {pos}/{len} {elapsed}")
                        .map(|s| s.progress_chars("=> "))
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            let started = std::time::Instant::now();
            rollups::rebuild(&db, span, |done, total, what| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                bar.set_message(what.to_owned());
            })
            .await
            .context("rebuilding the rollups")?;
            bar.finish_and_clear();
            println!(
                "rollups rebuilt from the raw events in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        RollupsCommand::Verify { config, span } => {
            let span = span.checked()?;
            let db = connect(&config).await?;
            let differences = rollups::verify(&db, span)
                .await
                .context("checking the rollups")?;
            if differences.is_empty() {
                println!("rollups agree with the raw events");
                return Ok(());
            }
            for d in differences.iter().take(SHOWN) {
                println!(
                    "{}: {} is {}, the raw events give {}",
                    d.row, d.column, d.kept, d.expected
                );
            }
            if differences.len() > SHOWN {
                println!("… and {} more", differences.len() - SHOWN);
            }
            anyhow::bail!(
                "{} difference(s) between the rollups and the raw events: run `qii rollups rebuild`",
                differences.len()
            )
        }
    }
}

async fn connect(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    crate::telemetry::init(&config.log);
    let (db, _) = db::connect(config).await?;
    db::migrate(&db).await?;
    Ok(db)
}
