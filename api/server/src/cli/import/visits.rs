//! `qii import --visits FILE.csv`: the daily valid visits (有效访问量) of the platform's logs,
//! one row per org unit and day, recorded as the `recordDailyVisits` mutation records them
//! (the same checks and the same writes), all rows or none, in one transaction.

use std::path::Path;

use anyhow::Context;

use super::{progress_bar, read_table, refused};
use qii_domain::{
    config::Config,
    db,
    identity::Actor,
    service::operations::{import_daily_visits, VisitText},
};

/// The columns of a visits file, in any order: the org unit (its code or id), the
/// Asia/Shanghai day (`2017-10-01`) and its count of valid visits.
const COLUMNS: [&str; 3] = ["org_unit", "day", "visits"];

/// Reads `file` and imports its rows; prints the summary, or every rejected row and fails.
pub async fn run(config: &Config, file: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let table = read_table(&bytes, &COLUMNS)
        .with_context(|| format!("{} is not a file of daily visits", file.display()))?;
    let rows: Vec<VisitText> = table
        .rows
        .into_iter()
        .map(|[org_unit, day, visits]| VisitText {
            org_unit,
            day,
            visits,
        })
        .collect();

    let (db, _) = db::connect(config).await?;
    db::migrate(&db).await?;
    let bar = progress_bar(rows.len());
    let result = import_daily_visits(&db, &Actor::system(), &rows, &|n| bar.inc(n as u64)).await;
    bar.finish_and_clear();
    let done = result.map_err(|err| refused(err, &table.lines, file))?;
    let span = match done.days {
        Some((first, last)) => format!("{first} to {last}"),
        None => "no days".to_owned(),
    };
    println!(
        "{}: {} row(s) imported, {} inserted, {} replaced; {} org unit(s), {span}, {} valid visits in all",
        file.display(),
        done.inserted + done.updated,
        done.inserted,
        done.updated,
        done.units,
        done.visits
    );
    Ok(())
}
