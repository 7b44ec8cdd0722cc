//! Policy scripts: the rules of the platform's workflows — which incentive an application
//! is eligible for, how the design contest and the expert evaluation rank, who may attend
//! a supervision meeting. Each is a rule set of versions like the scoring ones.
//!
//! A policy script defines `policy()`, returning its declaration
//! `#{ name, version, effective_from, effective_until }` (`effective_until` optional: open
//! ended), and the functions the server calls for its rule set ([`REQUIRED`]). The version
//! of a rule set in effect on a day is the latest whose span holds it. Test cases beside the
//! script (`<version>.tests.json`) call its functions and compare what they return:
//!
//! ```json
//! [{ "name": "101 participants get goods for 10 of them",
//!    "call": "intent_eligibility",
//!    "args": ["CULTURAL_GOODS", { "participants": 101 }],
//!    "expect": { "eligible": true, "amount": 10 } }]
//! ```
//!
//! `expect` matches when every key it names has that value in the result (numbers within
//! `tolerance`, default 1e-6); keys it leaves out are not compared.

use chrono::NaiveDate;
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::Value;

use super::{RuleError, Sandbox, Script};
use crate::period::Period;

/// The functions the server calls, by rule set: a script of one of these rule sets must
/// define each, with this many arguments. Other rule sets may define what they like.
pub const REQUIRED: &[(&str, &[(&str, usize)])] = &[
    (
        "incentives",
        &[
            ("intent_eligibility", 2),
            ("platform_training", 1),
            ("design_contest", 0),
            ("contest_score", 1),
        ],
    ),
    ("experts", &[("evaluation", 0), ("expert_score", 1)]),
    ("supervision", &[("attendance", 0), ("supervisors", 0)]),
];

/// What a policy script declares about itself.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Rule-set name, e.g. `incentives`: the folder the script lies in.
    pub name: String,
    /// Version label, e.g. `2017`.
    pub version: String,
    /// The first period it applies to, e.g. `2017-11`.
    pub effective_from: Period,
    /// The last period it applies to; open ended when absent.
    #[serde(default)]
    pub effective_until: Option<Period>,
}

impl PolicySpec {
    /// Reads and checks the declaration of a compiled policy script, and that it defines
    /// the functions its rule set needs.
    pub fn from_script(sandbox: &Sandbox, script: &Script) -> Result<Self, RuleError> {
        let declaration = super::declaration::Declaration::call(sandbox, script, "policy")?;
        let spec: PolicySpec = declaration.read()?;
        let at = |message: String| RuleError::new(&script.name, message);
        crate::names::snake_name("name", "incentives", &spec.name)
            .map_err(|e| at(e.to_string()))?;
        if spec.version.trim().is_empty() {
            return Err(at("`policy()` declares an empty version".into()));
        }
        if let Some(until) = &spec.effective_until {
            if until.last_day() < spec.effective_from.first_day() {
                return Err(at(format!(
                    "the span ends (effective_until `{until}`) before it starts (effective_from `{}`)",
                    spec.effective_from
                )));
            }
        }
        let missing: Vec<String> = required(&spec.name)
            .iter()
            .filter(|(f, arity)| !script.defines(f, *arity))
            .map(|(f, arity)| format!("`{f}` ({arity} argument{})", plural(*arity)))
            .collect();
        if !missing.is_empty() {
            return Err(at(format!(
                "a script of rule set `{}` must define {}",
                spec.name,
                missing.join(", ")
            )));
        }
        Ok(spec)
    }

    /// Whether the version applies on `day`.
    pub fn holds(&self, day: NaiveDate) -> bool {
        self.effective_from.first_day() <= day
            && self
                .effective_until
                .as_ref()
                .is_none_or(|u| day <= u.last_day())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The functions rule set `name` must define.
pub fn required(name: &str) -> &'static [(&'static str, usize)] {
    REQUIRED
        .iter()
        .find(|(set, _)| *set == name)
        .map_or(&[], |(_, fns)| fns)
}

/// A version of a policy rule set, as reported with what it decided.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRef {
    pub name: String,
    pub version: String,
    /// SHA-256 of the script's source.
    pub hash: String,
    /// Where the script lies in the rules tree.
    pub path: String,
}

impl PolicyRef {
    pub fn of(version: &PolicyVersion) -> Self {
        Self {
            name: version.spec.name.clone(),
            version: version.spec.version.clone(),
            hash: version.script.hash.clone(),
            path: version.path.clone(),
        }
    }
}

/// One version of a policy rule set.
#[derive(Clone)]
pub struct PolicyVersion {
    /// Where it lives in the rules tree: `incentives/2017.rhai`.
    pub path: String,
    pub spec: PolicySpec,
    pub script: Script,
}

impl PolicyVersion {
    /// Calls `function` with JSON arguments and reads its result as `T`. A result of the
    /// wrong shape is an error naming the script and function.
    pub fn call<T: DeserializeOwned>(
        &self,
        sandbox: &Sandbox,
        function: &str,
        args: &[Value],
    ) -> Result<T, RuleError> {
        let value = self.call_value(sandbox, function, args)?;
        serde_json::from_value(value).map_err(|e| {
            RuleError::new(
                &self.path,
                format!("`{function}()` returned an unexpected value: {e}"),
            )
        })
    }

    /// Calls `function` with JSON arguments; its result as JSON.
    pub fn call_value(
        &self,
        sandbox: &Sandbox,
        function: &str,
        args: &[Value],
    ) -> Result<Value, RuleError> {
        call_json(sandbox, &self.script, function, args)
    }
}

fn call_json(
    sandbox: &Sandbox,
    script: &Script,
    function: &str,
    args: &[Value],
) -> Result<Value, RuleError> {
    let args: Vec<rhai::Dynamic> = args
        .iter()
        .map(rhai::serde::to_dynamic)
        .collect::<Result<_, _>>()
        .map_err(|e| RuleError::new(&script.name, format!("arguments of `{function}()`: {e}")))?;
    let value = sandbox.call(script, function, args)?;
    rhai::serde::from_dynamic::<Value>(&value).map_err(|e| {
        RuleError::new(
            &script.name,
            format!("`{function}()` returned a value that is not data: {e}"),
        )
    })
}

/// One test case of a policy script.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyCase {
    pub name: String,
    /// The function called.
    pub call: String,
    #[serde(default)]
    pub args: Vec<Value>,
    /// What the result must hold.
    pub expect: Value,
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
}

fn default_tolerance() -> f64 {
    1e-6
}

/// Runs one case; the error says where the result differs.
pub fn run_case(sandbox: &Sandbox, script: &Script, case: &PolicyCase) -> Result<(), String> {
    let got = call_json(sandbox, script, &case.call, &case.args).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    differences("result", &case.expect, &got, case.tolerance, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Where `got` does not hold `expected`: objects by the keys `expected` names, arrays item
/// by item, numbers within `tolerance`.
fn differences(at: &str, expected: &Value, got: &Value, tolerance: f64, out: &mut Vec<String>) {
    match (expected, got) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, want) in want {
                let here = format!("{at}.{key}");
                match have.get(key) {
                    Some(have) => differences(&here, want, have, tolerance, out),
                    None => out.push(format!("{here} is missing (expected {want})")),
                }
            }
        }
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => {
            for (i, (want, have)) in want.iter().zip(have).enumerate() {
                differences(&format!("{at}[{i}]"), want, have, tolerance, out);
            }
        }
        (Value::Number(want), Value::Number(have)) => {
            let (want, have) = (
                want.as_f64().unwrap_or(f64::NAN),
                have.as_f64().unwrap_or(f64::NAN),
            );
            if (want - have).abs() > tolerance {
                out.push(format!("{at} is {have} instead of {want}"));
            }
        }
        _ if expected == got => {}
        _ => out.push(format!("{at} is {got} instead of {expected}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(source: &str) -> Script {
        Sandbox::new().compile("t/1.rhai", source).unwrap()
    }

    #[test]
    fn a_declaration_without_the_functions_of_its_rule_set_is_refused() {
        let s = script(
            r#"fn policy() { #{ name: "experts", version: "1", effective_from: "2017-10" } }
               fn evaluation() { #{} }"#,
        );
        let err = PolicySpec::from_script(&Sandbox::new(), &s).unwrap_err();
        assert!(err.message.contains("`expert_score` (1 argument)"), "{err}");
    }

    #[test]
    fn a_version_holds_within_its_span_only() {
        let s = script(
            r#"fn policy() { #{ name: "other", version: "1", effective_from: "2017-11",
                                effective_until: "2017-12" } }"#,
        );
        let spec = PolicySpec::from_script(&Sandbox::new(), &s).unwrap();
        let day = |m, d| NaiveDate::from_ymd_opt(2017, m, d).unwrap();
        assert!(!spec.holds(day(10, 31)));
        assert!(spec.holds(day(11, 1)));
        assert!(spec.holds(day(12, 31)));
    }

    #[test]
    fn a_case_reports_each_key_that_differs() {
        let s = script(r#"fn f(x) { #{ eligible: x > 100, amount: 10, note: "n" } }"#);
        let case: PolicyCase = serde_json::from_value(serde_json::json!({
            "name": "c", "call": "f", "args": [100],
            "expect": { "eligible": true, "amount": 10.0 }
        }))
        .unwrap();
        let err = run_case(&Sandbox::new(), &s, &case).unwrap_err();
        assert_eq!(err, "result.eligible is false instead of true");
    }
}
