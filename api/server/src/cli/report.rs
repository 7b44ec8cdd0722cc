//! `qii report`: writes a period's report workbooks to a folder — the city's and every
//! town's, with a progress bar, or one town's.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{failure, open_rules};
use crate::http::reports::file_name;
use qii_domain::{config::Config, identity::Actor};
use qii_reports::{self as reports, ReportKind};

/// Which report `--kind` names.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    Weekly,
    Monthly,
}

impl From<Kind> for ReportKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Weekly => ReportKind::Weekly,
            Kind::Monthly => ReportKind::Monthly,
        }
    }
}

/// Writes the workbooks; prints each file written.
pub async fn run(
    config: &Config,
    kind: Kind,
    period: &str,
    town: Option<&str>,
    out: &Path,
) -> anyhow::Result<()> {
    let kind = ReportKind::from(kind);
    let period = reports::parse_period(kind, period).map_err(failure)?;
    let (db, rules) = open_rules(config).await?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let actor = Actor::system();
    let towns = match town {
        Some(text) => vec![Some(
            reports::find_town(&db, text).await.map_err(failure)?.id,
        )],
        None => {
            // The city's report first: it stores the period's ranking the towns' read.
            let city = reports::build(&db, &actor, &rules, kind, &period, None, None)
                .await
                .map_err(failure)?;
            let path = write(out, &city)?;
            println!("{}", path.display());
            city.ranking
                .iter()
                .map(|line| Some(line.town.id.get()))
                .collect()
        }
    };
    let bar = indicatif::ProgressBar::new(towns.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{msg:>8} [{bar:32}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for town in towns {
        let report = reports::build(&db, &actor, &rules, kind, &period, town, None)
            .await
            .map_err(failure)?;
        if let Some(town) = &report.town {
            bar.set_message(town.name.clone());
        }
        let path = write(out, &report)?;
        bar.suspend(|| println!("{}", path.display()));
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}

fn write(out: &Path, report: &reports::Report) -> anyhow::Result<PathBuf> {
    let bytes = reports::xlsx::workbook(report).context("writing the workbook")?;
    let path = out.join(format!("{}.xlsx", file_name(report)));
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
