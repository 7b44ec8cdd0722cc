//! `qii rules check`: compile every script under the rules folder, read each scoring or
//! targets script's declaration, and run the test cases kept beside a scoring script
//! (`<name>.tests.json`).
//!
//! A test case gives a few units' raw figures (and targets) and the ranks and totals the
//! script must produce:
//!
//! ```json
//! [{ "name": "more answers rank higher",
//!    "units": { "A": { "answers": 10 }, "B": { "answers": 2 } },
//!    "targets": { "A": { "registrations": 100 } },
//!    "expect": { "A": { "rank": 1, "total": 100.0 }, "B": { "rank": 2 }, "C": { "ranked": false } },
//!    "tolerance": 0.01 }]
//! ```

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::{
    activity::EligibilityCase,
    compute::{score, RawTable},
    policy::{self, PolicyCase, PolicySpec},
    source::RuleSource,
    spec::IndexSpec,
    targets::TargetsSpec,
    RuleError, Sandbox, Script,
};
use crate::period::Period;

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
    /// `false`: the unit must not be ranked (it has none of the figures).
    pub ranked: Option<bool>,
}

/// The outcome for one script.
#[derive(Debug)]
pub struct ScriptReport {
    /// Path in the rules tree: `qii/v2.rhai`.
    pub path: String,
    /// The declaration, for scoring scripts.
    pub index: Option<IndexSpec>,
    /// The declaration, for targets scripts.
    pub targets: Option<TargetsSpec>,
    /// The declaration, for policy scripts.
    pub policy: Option<PolicySpec>,
    pub hash: Option<String>,
    pub cases_passed: usize,
    pub errors: Vec<RuleError>,
}

/// Checks every file of a rule tree, in path order, and what they declare together: a
/// scoring or targets script belongs to the rule set of its folder, no two declare the same
/// version of a rule set, and no two targets scripts covering the same period are of the
/// same rule set or declare the same metric.
pub fn check_sources(sandbox: &Sandbox, sources: &[RuleSource]) -> Vec<ScriptReport> {
    let mut reports: Vec<ScriptReport> = sources.iter().map(|s| check_source(sandbox, s)).collect();
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    for (report, source) in reports.iter_mut().zip(sources) {
        let declared = match (&report.index, &report.targets, &report.policy) {
            (Some(spec), _, _) => (spec.name.clone(), spec.version.clone()),
            (None, Some(spec), _) => (spec.name.clone(), spec.version.clone()),
            (None, None, Some(spec)) => (spec.name.clone(), spec.version.clone()),
            (None, None, None) => continue,
        };
        let (name, version) = &declared;
        if name != source.rule_set() {
            report.errors.push(RuleError::new(
                &source.path,
                format!(
                    "declares rule set `{name}` but lies in the folder of rule set `{}`",
                    source.rule_set()
                ),
            ));
        }
        if let Some(first) = seen.get(&declared) {
            report.errors.push(RuleError::new(
                &source.path,
                format!("version {version} of rule set `{name}` is already declared by {first}"),
            ));
        } else {
            seen.insert(declared, source.path.clone());
        }
    }
    for (at, error) in overlapping_targets(&reports, sources) {
        reports[at].errors.push(error);
    }
    reports
}

/// Targets scripts whose spans overlap although they are versions of one rule set or
/// declare the same metric: the error, by the index of the later script.
fn overlapping_targets(
    reports: &[ScriptReport],
    sources: &[RuleSource],
) -> Vec<(usize, RuleError)> {
    let spans: Vec<(usize, &TargetsSpec)> = reports
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.targets.as_ref().map(|spec| (i, spec)))
        .collect();
    let mut clashes: Vec<(usize, RuleError)> = Vec::new();
    for (n, &(at, spec)) in spans.iter().enumerate() {
        for &(before, other) in &spans[..n] {
            let other_path = &sources[before].path;
            if !spec.overlaps(other) {
                continue;
            }
            let shared: Vec<&str> = spec
                .targets
                .iter()
                .filter(|t| other.targets.iter().any(|o| o.metric == t.metric))
                .map(|t| t.metric.as_str())
                .collect();
            let message = if spec.name == other.name {
                format!(
                    "covers periods that {other_path} covers too: the versions of rule set `{}` need spans that do not overlap",
                    spec.name
                )
            } else if !shared.is_empty() {
                format!(
                    "declares {} for periods that {other_path} declares them for too",
                    shared.join(", ")
                )
            } else {
                continue;
            };
            clashes.push((at, RuleError::new(&sources[at].path, message)));
        }
    }
    clashes
}

/// Compiles one script, reads its declaration and runs its test cases.
pub fn check_source(sandbox: &Sandbox, file: &RuleSource) -> ScriptReport {
    let mut report = ScriptReport {
        path: file.path.clone(),
        index: None,
        targets: None,
        policy: None,
        hash: None,
        cases_passed: 0,
        errors: Vec::new(),
    };
    let script = match sandbox.compile_cached(&file.path, &file.source) {
        Ok(s) => s,
        Err(e) => {
            report.errors.push(e);
            return report;
        }
    };
    report.hash = Some(script.hash.clone());
    if script.defines("targets", 0) {
        match TargetsSpec::from_script(sandbox, &script) {
            Ok(spec) => report.targets = Some(spec),
            Err(e) => report.errors.push(e),
        }
    }
    if script.defines("counts_toward_index", 0) {
        match super::activity::ActivityRules::from_script(sandbox, &script) {
            Ok(rules) => run_cases(file, &mut report, |case: &EligibilityCase| {
                (&case.name, rules.run_case(case))
            }),
            Err(e) => report.errors.push(e),
        }
        return report;
    }
    if script.defines("policy", 0) {
        check_policy(sandbox, file, &script, &mut report);
        return report;
    }
    if !script.defines("index", 0) {
        if file.tests.is_some() {
            report.errors.push(RuleError::new(
                &file.tests_path(),
                "test cases are only run for scoring, policy and eligibility scripts (those \
                 defining `index()`, `policy()` or `counts_toward_index()`)",
            ));
        }
        return report;
    }
    let spec = match IndexSpec::from_script(sandbox, &script) {
        Ok(spec) => spec,
        Err(e) => {
            report.errors.push(e);
            return report;
        }
    };
    if let Err(e) = spec.effective_from.parse::<Period>() {
        report.errors.push(RuleError::new(
            &file.path,
            format!("effective_from `{}`: {e}", spec.effective_from),
        ));
    }
    run_cases(file, &mut report, |case: &IndexCase| {
        (&case.name, run_case(sandbox, &script, &spec, case))
    });
    report.index = Some(spec);
    report
}

/// Reads a policy script's declaration and runs its test cases.
fn check_policy(sandbox: &Sandbox, file: &RuleSource, script: &Script, report: &mut ScriptReport) {
    match PolicySpec::from_script(sandbox, script) {
        Ok(spec) => report.policy = Some(spec),
        Err(e) => {
            report.errors.push(e);
            return;
        }
    }
    run_cases(file, report, |case: &PolicyCase| {
        (&case.name, policy::run_case(sandbox, script, case))
    });
}

/// Reads the test cases beside a script, runs each with `run` (which names the case and
/// gives its outcome) and records what passed and what failed.
fn run_cases<C: serde::de::DeserializeOwned>(
    file: &RuleSource,
    report: &mut ScriptReport,
    run: impl Fn(&C) -> (&String, Result<(), String>),
) {
    let Some(text) = &file.tests else { return };
    let tests_path = file.tests_path();
    match serde_json::from_str::<Vec<C>>(text) {
        Ok(cases) => {
            for case in &cases {
                match run(case) {
                    (_, Ok(())) => report.cases_passed += 1,
                    (name, Err(e)) => report
                        .errors
                        .push(RuleError::new(&tests_path, format!("case `{name}`: {e}"))),
                }
            }
        }
        Err(e) => report.errors.push(RuleError::new(
            &tests_path,
            format!("not a list of test cases: {e}"),
        )),
    }
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
    let scores = score(sandbox, script, spec, &raw).map_err(|e: RuleError| {
        // Units are the case's labels, not org units.
        match e.unit.and_then(|u| labels.get((u - 1) as usize)) {
            Some(label) => e.to_string().replace(
                &format!("org unit {}", e.unit.unwrap_or_default()),
                &format!("unit {label}"),
            ),
            None => e.to_string(),
        }
    })?;
    let by_label: HashMap<&str, _> = scores
        .iter()
        .map(|s| (labels[(s.unit - 1) as usize].as_str(), s))
        .collect();
    let mut problems = Vec::new();
    for (label, expected) in &case.expect {
        let Some(got) = by_label.get(label.as_str()) else {
            if expected.ranked != Some(false) {
                let why = if case.units.contains_key(label) {
                    "is not ranked (it has none of the figures)"
                } else {
                    "is not among the units"
                };
                problems.push(format!("unit {label} {why}"));
            }
            continue;
        };
        if expected.ranked == Some(false) {
            problems.push(format!(
                "unit {label} is ranked {} although it should not be",
                got.rank
            ));
        }
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
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let reports = check_sources(&Sandbox::new(), &RuleSource::read_dir(&dir).unwrap());
        assert!(!reports.is_empty(), "rules/ holds scripts");
        for report in &reports {
            assert!(
                report.errors.is_empty(),
                "{}: {:?}",
                report.path,
                report.errors
            );
        }
        let v2 = reports
            .iter()
            .find(|r| r.path == "qii/v2.rhai")
            .expect("QII v2.0 is shipped");
        assert!(v2.cases_passed > 0, "v2 carries test cases");
        let eligibility = reports
            .iter()
            .find(|r| r.path == "eligibility/activity.rhai")
            .expect("the activity rules are shipped");
        assert!(eligibility.cases_passed >= 10, "{eligibility:?}");
    }

    #[test]
    fn an_eligibility_case_that_the_rules_contradict_fails_and_says_what_they_said() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let sources = RuleSource::read_dir(&dir).unwrap();
        let shipped = sources
            .iter()
            .find(|s| s.path == "eligibility/activity.rhai")
            .unwrap();
        // Activities counted by their start: the shipped cases on the October activity fail.
        let by_start = RuleSource {
            source: shipped
                .source
                .replace("counted_by: \"end\"", "counted_by: \"start\""),
            ..shipped.clone()
        };
        let report = check_source(&Sandbox::new(), &by_start);
        let errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains("in_period: expected true, got false"),
            "{errors:?}"
        );
        // A case that checks nothing is refused.
        let empty = RuleSource {
            tests: Some(
                r#"[{ "name": "nothing", "question": { "title": "?" }, "expect": {} }]"#.into(),
            ),
            ..shipped.clone()
        };
        let report = check_source(&Sandbox::new(), &empty);
        assert!(
            report.errors[0]
                .to_string()
                .contains("names nothing to check"),
            "{:?}",
            report.errors
        );
    }

    #[test]
    fn the_human_development_index_example_gives_the_published_values_with_declared_methods() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/rules");
        let sources = RuleSource::read_dir(&dir).unwrap();
        let hdi = sources.iter().find(|s| s.path == "hdi/2021.rhai").unwrap();
        // Declared methods only: no function of its own but `index()`.
        assert!(!hdi.source.contains("custom"));
        let reports = check_sources(&Sandbox::new(), &sources);
        let report = reports.iter().find(|r| r.path == "hdi/2021.rhai").unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.cases_passed, 2);
        // The published values to three decimals: a looser tolerance would not hold.
        let strict = RuleSource {
            tests: hdi
                .tests
                .as_ref()
                .map(|t| t.replace("\"tolerance\": 0.05", "\"tolerance\": 0.0001")),
            ..hdi.clone()
        };
        let report = check_source(&Sandbox::new(), &strict);
        assert!(
            !report.errors.is_empty(),
            "the totals are the published values rounded"
        );
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
