//! `qii import`: figures from other systems, read from a CSV or JSON file, and the daily
//! visits of the platform's logs ([`visits`], `--visits`), imported all or nothing, with a
//! progress bar on a terminal and every rejected row reported.

pub mod visits;

use std::path::Path;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Deserialize;

use qii_domain::{
    config::Config,
    db,
    error::{RowRejection, ServiceError},
    identity::Actor,
    service::figures::{self, FigureRow},
};

/// How an import file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    /// Comma-separated, with the header `org_unit,period,key,value`.
    Csv,
    /// An array of objects with the fields `org_unit`, `period`, `key` and `value`.
    Json,
}

/// The columns of a CSV file, which are also the fields of a JSON row.
const COLUMNS: [&str; 4] = ["org_unit", "period", "key", "value"];

/// The rows of a file, each with the line it starts on when the format has lines to tell.
struct FileRows {
    rows: Vec<FigureRow>,
    lines: Vec<Option<u64>>,
}

/// Reads `file` and imports its rows; prints the report, or every rejected row and fails.
pub async fn run(
    config: &Config,
    file: &Path,
    format: Option<FileFormat>,
    source: Option<&str>,
) -> anyhow::Result<()> {
    let format = match format {
        Some(format) => format,
        None => infer_format(file)?,
    };
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let read = match format {
        FileFormat::Csv => read_csv(&bytes),
        FileFormat::Json => read_json(&bytes),
    }
    .with_context(|| format!("{} is not a figure file", file.display()))?;

    let (db, _) = db::connect(config).await?;
    db::migrate(&db).await?;
    let bar = progress_bar(read.rows.len());
    let result = figures::import_figures(&db, &Actor::system(), &read.rows, source, &|n| {
        bar.inc(n as u64)
    })
    .await;
    bar.finish_and_clear();
    match result {
        Ok(done) => {
            println!(
                "{}: {} row(s) imported, {} inserted, {} replaced; keys: {}",
                file.display(),
                done.inserted + done.replaced,
                done.inserted,
                done.replaced,
                done.keys.join(", ")
            );
            Ok(())
        }
        Err(err) => Err(refused(err, &read.lines, file)),
    }
}

/// The error of a refused import: with rejected rows, each printed first with its line.
fn refused(err: ServiceError, lines: &[Option<u64>], file: &Path) -> anyhow::Error {
    let ServiceError::Rows(rejections) = err else {
        return err.into_anyhow();
    };
    for rejection in &rejections {
        println!("{}", describe(rejection, lines));
    }
    let mut refused: Vec<usize> = rejections.iter().map(|r| r.index).collect();
    refused.dedup();
    anyhow::anyhow!(
        "{} of {} row(s) in {} refused; nothing was written",
        refused.len(),
        lines.len(),
        file.display()
    )
}

/// The format a file's extension tells.
fn infer_format(file: &Path) -> anyhow::Result<FileFormat> {
    let extension = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(FileFormat::Csv),
        Some("json") => Ok(FileFormat::Json),
        _ => bail!(
            "cannot tell the format of {} from its extension: pass --format csv or --format json",
            file.display()
        ),
    }
}

/// A CSV file with the header [`COLUMNS`], in any order; cells are trimmed.
fn read_csv(bytes: &[u8]) -> anyhow::Result<FileRows> {
    let table = read_table(bytes, &COLUMNS)?;
    let rows = table
        .rows
        .into_iter()
        .map(|[org_unit, period, key, value]| FigureRow {
            value: number(&value),
            org_unit,
            period,
            key,
        })
        .collect();
    Ok(FileRows {
        rows,
        lines: table.lines,
    })
}

/// The cells of a CSV file under its header, in the order of `columns`, each row with the
/// line it starts on.
struct Table<const N: usize> {
    rows: Vec<[String; N]>,
    lines: Vec<Option<u64>>,
}

/// A CSV file whose header names exactly `columns`, in any order (a byte-order mark
/// before it is fine); cells are trimmed, and a short row leaves its last cells empty for
/// the checks to name what is missing.
fn read_table<const N: usize>(bytes: &[u8], columns: &[&str; N]) -> anyhow::Result<Table<N>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(bytes);
    let header = reader.headers().context("cannot read the header")?.clone();
    let mut position = [None; N];
    for (i, name) in header.iter().enumerate() {
        match columns.iter().position(|c| *c == name) {
            Some(c) if position[c].is_none() => position[c] = Some(i),
            Some(_) => bail!("the column `{name}` appears twice in the header"),
            None => bail!(
                "the header has the unknown column `{name}`; expected {}",
                columns.join(",")
            ),
        }
    }
    let mut at = [0; N];
    for (c, found) in position.iter().enumerate() {
        at[c] = found.with_context(|| {
            format!(
                "the header lacks `{}`; expected {}",
                columns[c],
                columns.join(",")
            )
        })?;
    }

    let mut table = Table {
        rows: Vec::new(),
        lines: Vec::new(),
    };
    for record in reader.records() {
        let record = record.context("cannot read a row")?;
        table.lines.push(record.position().map(|p| p.line()));
        table
            .rows
            .push(at.map(|i| record.get(i).unwrap_or_default().to_owned()));
    }
    Ok(table)
}

/// A JSON row: every field optional here, so that the checks name what is missing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRow {
    #[serde(default)]
    org_unit: serde_json::Value,
    #[serde(default)]
    period: serde_json::Value,
    #[serde(default)]
    key: serde_json::Value,
    #[serde(default)]
    value: serde_json::Value,
}

/// A JSON array of objects with the fields [`COLUMNS`]. An org unit may be a code or a
/// numeric id, a value a number or a numeric string.
fn read_json(bytes: &[u8]) -> anyhow::Result<FileRows> {
    use serde_json::Value;

    let items: Vec<Value> = serde_json::from_slice(bytes)
        .context("expected a JSON array of objects with org_unit, period, key and value")?;
    let text = |v: Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s,
        other => other.to_string(),
    };
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let row: JsonRow = serde_json::from_value(item).with_context(|| {
            format!(
                "row {}: expected an object with the fields {}",
                i + 1,
                COLUMNS.join(", ")
            )
        })?;
        let value = match row.value {
            Value::Number(n) => n.as_f64().ok_or_else(|| n.to_string()),
            other => number(&text(other)),
        };
        rows.push(FigureRow {
            org_unit: text(row.org_unit),
            period: text(row.period),
            key: text(row.key),
            value,
        });
    }
    let lines = vec![None; rows.len()];
    Ok(FileRows { rows, lines })
}

/// A number written as text; otherwise the text, for the checks to report.
fn number(text: &str) -> Result<f64, String> {
    text.trim().parse().map_err(|_| text.to_owned())
}

/// One rejected row as the operator reads it: row number, line, the file's column.
fn describe(rejection: &RowRejection, lines: &[Option<u64>]) -> String {
    let line = match lines.get(rejection.index).copied().flatten() {
        Some(line) => format!(" (line {line})"),
        None => String::new(),
    };
    let column = match rejection.field {
        // The service names the GraphQL input field; the file's column is snake_case.
        Some("orgUnit") => " org_unit".to_owned(),
        Some(field) => format!(" {field}"),
        None => String::new(),
    };
    format!(
        "row {}{line}{column}: {}",
        rejection.row(),
        rejection.reason
    )
}

/// A bar of the rows written, drawn only when standard error is a terminal.
fn progress_bar(rows: usize) -> ProgressBar {
    let style = ProgressStyle::with_template("importing [{bar:32}] {pos:>7}/{len:7} {elapsed}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::with_draw_target(Some(rows as u64), ProgressDrawTarget::stderr()).with_style(style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_may_come_in_any_order_and_short_rows_leave_cells_empty() {
        let file =
            "\u{feff}key,value,period,org_unit\nreach, 12.5 ,2017-10,town-shijie\nreach,abc\n";
        let read = read_csv(file.as_bytes()).unwrap();
        assert_eq!(read.rows.len(), 2);
        assert_eq!(read.rows[0].org_unit, "town-shijie");
        assert_eq!(read.rows[0].value, Ok(12.5));
        assert_eq!(read.rows[1].value, Err("abc".to_owned()));
        assert_eq!(read.rows[1].org_unit, "");
        assert_eq!(read.lines, vec![Some(2), Some(3)]);
    }

    #[test]
    fn a_csv_header_with_an_unknown_or_missing_column_is_refused() {
        let unknown = read_csv(b"org_unit,period,key,value,name\n").err().unwrap();
        assert!(format!("{unknown:#}").contains("`name`"));
        let missing = read_csv(b"org_unit,period,value\n").err().unwrap();
        assert!(format!("{missing:#}").contains("lacks `key`"));
    }

    #[test]
    fn json_rows_take_ids_as_numbers_and_values_as_numbers_or_text() {
        let file = r#"[{"org_unit": 5, "period": "2017-10", "key": "reach", "value": 3},
                       {"org_unit": "town-shijie", "period": "2017-10", "key": "reach", "value": "NaN"},
                       {"org_unit": "town-shijie", "period": "2017-10", "key": "reach"}]"#;
        let read = read_json(file.as_bytes()).unwrap();
        assert_eq!(read.rows[0].org_unit, "5");
        assert_eq!(read.rows[0].value, Ok(3.0));
        assert!(read.rows[1].value.as_ref().is_ok_and(|v| v.is_nan()));
        assert_eq!(read.rows[2].value, Err(String::new()));
        let unknown = read_json(br#"[{"org_unit": "x", "values": 1}]"#)
            .err()
            .unwrap();
        assert!(format!("{unknown:#}").contains("row 1"));
        assert!(read_json(br#"{"org_unit": "x"}"#).is_err());
    }

    #[test]
    fn the_format_is_the_extension_unless_given() {
        assert_eq!(
            infer_format(Path::new("a/figures.CSV")).unwrap(),
            FileFormat::Csv
        );
        assert_eq!(
            infer_format(Path::new("figures.json")).unwrap(),
            FileFormat::Json
        );
        assert!(infer_format(Path::new("figures.txt")).is_err());
    }

    #[test]
    fn a_rejected_row_names_its_line_and_the_files_column() {
        let rejection = RowRejection::new(2, "orgUnit", "no org unit has the code `x`");
        assert_eq!(
            describe(&rejection, &[None, None, Some(4)]),
            "row 3 (line 4) org_unit: no org unit has the code `x`"
        );
    }
}
