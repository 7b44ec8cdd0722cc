//! A report as CSV: one row per town of the report (every town, best first, in the city's;
//! the town in a town's), with the ranking's columns and each target's actual value,
//! target and outcome. UTF-8 with a byte-order mark, so that Excel reads the Chinese
//! headers right.

use super::{
    columns::{headings, ranking_columns, Cell},
    xlsx::{MET, MISSED},
    Report,
};

/// The CSV text of `report`.
pub fn table(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let mut metrics: Vec<(&str, &str)> = Vec::new();
    for target in report.details.iter().flat_map(|d| &d.targets) {
        if !metrics.iter().any(|(m, _)| *m == target.metric) {
            metrics.push((&target.metric, &target.label));
        }
    }
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let columns = ranking_columns(report);
    let mut header = headings(&columns);
    for (_, label) in &metrics {
        header.extend(["实际值", "目标值", "是否达标"].map(|s| format!("{label}{s}")));
    }
    header.push("未达标目标数".into());
    writer.write_record(&header)?;
    let number = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    for detail in &report.details {
        let mut record: Vec<String> = columns
            .iter()
            .map(|column| match column.cell(&detail.town) {
                None => String::new(),
                Some(Cell::Whole(n)) => n.to_string(),
                Some(Cell::Number(n)) => number(Some(n)),
                Some(Cell::Text(text)) => text.to_owned(),
            })
            .collect();
        for (metric, _) in &metrics {
            match detail.targets.iter().find(|t| t.metric == *metric) {
                Some(t) => record.extend([
                    number(t.actual),
                    number(Some(t.target)),
                    match t.met {
                        Some(true) => MET.to_owned(),
                        Some(false) => MISSED.to_owned(),
                        None => String::new(),
                    },
                ]),
                None => record.extend([String::new(), String::new(), String::new()]),
            }
        }
        record.push(detail.missed.to_string());
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}
