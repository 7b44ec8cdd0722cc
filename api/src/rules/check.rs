//! `qii rules check`: compile every script under the rules folder, read each scoring
//! script's declaration, and run the test cases kept beside it (`<name>.tests.json`).
//!
//! A test case gives a few units' raw figures (and targets) and the ranks and totals the
//! script must produce:
//!
//! ```json
//! [{ "name": "more answers rank higher",
//!    "units": { "A": { "answers": 10 }, "B": { "answers": 2 } },
//!    "targets": { "A": { "registrations": 100 } },
//!    "expect": { "A": { "rank": 1, "total": 100.0 }, "B": { "rank": 2 } },
//!    "tolerance": 0.01 }]
//! ```

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use serde::Deserialize;

use super::{
    compute::{score, RawTable},
    spec::IndexSpec,
    RuleError, Sandbox, Script,
};

/// One test case of a scoring script.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexCase {
    pub name: String,
    /// Raw figures by unit label, then by figure name.
    pub units: BTreeMap<String, BTreeMap<String, Option<f64>>>,
    /// Targets by unit label, then by metric.
    #[serde(default)]
    pub targets: BTreeMap<String, BTreeMap<String, f64>>,
    /// Expected rank and/or total by unit label.
    pub expect: BTreeMap<String, Expected>,
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
}

fn default_tolerance() -> f64 {
    1e-6
}

/// What a unit must get.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub rank: Option<u32>,
    pub total: Option<f64>,
}

/// The outcome for one script.
#[derive(Debug)]
pub struct ScriptReport {
    pub path: PathBuf,
    /// The declaration, for scoring scripts.
    pub index: Option<IndexSpec>,
    pub hash: Option<String>,
    pub cases_passed: usize,
    pub errors: Vec<String>,
}

/// Checks every `.rhai` file below `dir`, in path order.
pub fn check_dir(sandbox: &Sandbox, dir: &Path) -> std::io::Result<Vec<ScriptReport>> {
    let files = super::registry::scripts_below(dir)?;
    Ok(files.iter().map(|path| check_file(sandbox, path)).collect())
}

/// Compiles one script, reads its declaration and runs its test cases.
pub fn check_file(sandbox: &Sandbox, path: &Path) -> ScriptReport {
    let mut report = ScriptReport {
        path: path.to_owned(),
        index: None,
        hash: None,
        cases_passed: 0,
        errors: Vec::new(),
    };
    let name = path.to_string_lossy().into_owned();
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            report.errors.push(format!("{name}: cannot read: {e}"));
            return report;
        }
    };
    let script = match sandbox.compile(&name, &source) {
        Ok(s) => s,
        Err(e) => {
            report.errors.push(e.to_string());
            return report;
        }
    };
    report.hash = Some(script.hash.clone());
    if !script.defines("index", 0) {
        return report;
    }
    let spec = match IndexSpec::from_script(sandbox, &script) {
        Ok(spec) => spec,
        Err(e) => {
            report.errors.push(e.to_string());
            return report;
        }
    };
    let cases_path = path.with_extension("tests.json");
    if cases_path.exists() {
        match read_cases(&cases_path) {
            Ok(cases) => {
                for case in &cases {
                    match run_case(sandbox, &script, &spec, case) {
                        Ok(()) => report.cases_passed += 1,
                        Err(e) => report.errors.push(format!(
                            "{}: case `{}`: {e}",
                            cases_path.display(),
                            case.name
                        )),
                    }
                }
            }
            Err(e) => report.errors.push(format!("{}: {e}", cases_path.display())),
        }
    }
    report.index = Some(spec);
    report
}

fn read_cases(path: &Path) -> Result<Vec<IndexCase>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("not a list of test cases: {e}"))
}

/// Runs one case; the error says which unit got what instead of what.
pub fn run_case(
    sandbox: &Sandbox,
    script: &Script,
    spec: &IndexSpec,
    case: &IndexCase,
) -> Result<(), String> {
    let labels: Vec<&String> = case.units.keys().collect();
    let mut raw = RawTable {
        units: (1..=labels.len() as i64).collect(),
        ..Default::default()
    };
    for (i, label) in labels.iter().enumerate() {
        for (figure, value) in &case.units[*label] {
            raw.figures
                .entry(figure.clone())
                .or_insert_with(|| vec![None; labels.len()])[i] = *value;
        }
        for (metric, value) in case.targets.get(*label).into_iter().flatten() {
            raw.targets
                .entry(metric.clone())
                .or_insert_with(|| vec![None; labels.len()])[i] = Some(*value);
        }
    }
    let scores = score(sandbox, script, spec, &raw).map_err(|e: RuleError| e.to_string())?;
    let by_label: HashMap<&str, _> = scores
        .iter()
        .map(|s| (labels[(s.unit - 1) as usize].as_str(), s))
        .collect();
    let mut problems = Vec::new();
    for (label, expected) in &case.expect {
        let Some(got) = by_label.get(label.as_str()) else {
            problems.push(format!("unit {label} is not among the units"));
            continue;
        };
        if let Some(rank) = expected.rank {
            if got.rank != rank {
                problems.push(format!("unit {label}: rank {} instead of {rank}", got.rank));
            }
        }
        if let Some(total) = expected.total {
            if (got.total - total).abs() > case.tolerance {
                problems.push(format!(
                    "unit {label}: total {:.4} instead of {total}",
                    got.total
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_shipped_with_qii_pass_their_checks() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
        let reports = check_dir(&Sandbox::new(), &dir).unwrap();
        assert!(!reports.is_empty(), "rules/ holds scripts");
        for report in &reports {
            assert!(
                report.errors.is_empty(),
                "{}: {:?}",
                report.path.display(),
                report.errors
            );
        }
        let v2 = reports
            .iter()
            .find(|r| r.path.ends_with("qii/v2.rhai"))
            .expect("QII v2.0 is shipped");
        assert!(v2.cases_passed > 0, "v2 carries test cases");
    }

    #[test]
    fn a_failing_case_names_the_unit_and_the_difference() {
        let sandbox = Sandbox::new();
        let script = sandbox
            .compile(
                "t.rhai",
                r#"fn index() { #{ name: "t", version: "1", effective_from: "2017-10", dimensions: [
                    #{ key: "d", indicators: [ #{ key: "a", raw: "a", weight: 100.0 } ] } ] } }"#,
            )
            .unwrap();
        let spec = IndexSpec::from_script(&sandbox, &script).unwrap();
        let case: IndexCase = serde_json::from_str(
            r#"{ "name": "x", "units": { "A": { "a": 1 }, "B": { "a": 2 } }, "expect": { "A": { "rank": 1 } } }"#,
        )
        .unwrap();
        let err = run_case(&sandbox, &script, &spec, &case).err().unwrap();
        assert!(err.contains("unit A: rank 2 instead of 1"), "{err}");
    }
}
