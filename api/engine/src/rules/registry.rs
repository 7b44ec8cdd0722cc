//! The rules in force, built from a set of rule files: `<set>/<version>.rhai` scoring
//! scripts, each effective from a period; targets scripts, each covering a span of periods;
//! and `eligibility/activity.rhai`. Scoring a period uses the version in effect for it: the
//! latest whose `effective_from` is not after the period's first day. The targets of a
//! period are those of every targets version whose span covers it.

use std::path::Path;

use chrono::NaiveDate;

use super::activity::ActivityRules;
use super::{
    check,
    policy::{PolicySpec, PolicyVersion},
    source::{FolderLoader, Loader, RuleSource},
    spec::IndexSpec,
    targets::TargetsSpec,
    RuleError, Sandbox, Script,
};
use crate::period::Period;

/// One version of a scoring rule set.
#[derive(Clone)]
pub struct RuleVersion {
    /// Where it lives in the rules tree: `qii/v2.rhai`.
    pub path: String,
    pub spec: IndexSpec,
    pub script: Script,
    /// The first day it scores.
    pub effective_from: NaiveDate,
}

/// One version of a targets rule set.
#[derive(Debug, Clone)]
pub struct TargetsVersion {
    /// Where it lives in the rules tree: `targets/2017q4.rhai`.
    pub path: String,
    /// SHA-256 of the script.
    pub hash: String,
    pub spec: TargetsSpec,
}

/// Every rule set of one set of rule files.
#[derive(Clone)]
pub struct Registry {
    pub sandbox: Sandbox,
    versions: Vec<RuleVersion>,
    targets: Vec<TargetsVersion>,
    eligibility: Option<(Script, ActivityRules)>,
    policies: Vec<PolicyVersion>,
    /// Where scoring reads the platform's figures: counted from the raw events on every
    /// ranking (`true`), or from the kept rollups (`false`, the default). The server holding
    /// the registry sets it (`QII_FIGURES`).
    pub read_events: bool,
}

impl Registry {
    /// Reads the rules folder `dir` and builds its rules once every check passes; the first
    /// error found otherwise. It runs the scripts on the calling thread: for tools and
    /// tests, not for a server.
    pub fn load(dir: &Path) -> Result<Self, RuleError> {
        Self::load_from(&FolderLoader(dir.to_owned()))
    }

    /// [`Registry::load`] from any [`Loader`].
    pub fn load_from(loader: &dyn Loader) -> Result<Self, RuleError> {
        let sources = loader
            .load()
            .map_err(|e| RuleError::new(&loader.origin(), format!("cannot read: {e}")))?;
        // Tools and tests load rules on their own thread.
        Sandbox::on_this_thread(|| Self::validated(&Sandbox::new(), &sources))
            .map_err(|mut errors| errors.remove(0))
    }

    /// The rules of `sources`, if every script compiles, every declaration is sound and
    /// every test case passes; otherwise every error found.
    pub fn validated(sandbox: &Sandbox, sources: &[RuleSource]) -> Result<Self, Vec<RuleError>> {
        let errors: Vec<RuleError> = check::check_sources(sandbox, sources)
            .into_iter()
            .flat_map(|r| r.errors)
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        Self::build(sandbox, sources).map_err(|e| vec![e])
    }

    fn build(sandbox: &Sandbox, sources: &[RuleSource]) -> Result<Self, RuleError> {
        let mut versions = Vec::new();
        let mut targets = Vec::new();
        let mut eligibility = None;
        let mut policies = Vec::new();
        for file in sources {
            let script = sandbox.compile_cached(&file.path, &file.source)?;
            if script.defines("index", 0) {
                let spec = IndexSpec::from_script(sandbox, &script)?;
                let from: Period = spec.effective_from.parse().map_err(|e| {
                    RuleError::new(
                        &file.path,
                        format!("effective_from `{}`: {e}", spec.effective_from),
                    )
                })?;
                versions.push(RuleVersion {
                    path: file.path.clone(),
                    spec,
                    script,
                    effective_from: from.first_day(),
                });
            } else if script.defines("targets", 0) {
                targets.push(TargetsVersion {
                    path: file.path.clone(),
                    hash: script.hash.clone(),
                    spec: TargetsSpec::from_script(sandbox, &script)?,
                });
            } else if script.defines("policy", 0) {
                policies.push(PolicyVersion {
                    path: file.path.clone(),
                    spec: PolicySpec::from_script(sandbox, &script)?,
                    script,
                });
            } else if script.defines("counts_toward_index", 0) {
                // Read once: the declarations are the same on every call.
                let rules = ActivityRules::from_script(sandbox, &script)?;
                eligibility = Some((script, rules));
            }
        }
        versions.sort_by(|a, b| {
            (&a.spec.name, a.effective_from).cmp(&(&b.spec.name, b.effective_from))
        });
        targets.sort_by_key(|t| t.spec.effective_from.first_day());
        policies.sort_by_key(|p| p.spec.effective_from.first_day());
        Ok(Self {
            sandbox: sandbox.clone(),
            versions,
            targets,
            eligibility,
            policies,
            read_events: false,
        })
    }

    /// The version of `rule_set` in effect for `period`.
    pub fn version_for(&self, rule_set: &str, period: &Period) -> Result<&RuleVersion, RuleError> {
        let day = period.first_day();
        self.versions
            .iter()
            .filter(|v| v.spec.name == rule_set && v.effective_from <= day)
            .max_by_key(|v| v.effective_from)
            .ok_or_else(|| {
                RuleError::new(
                    rule_set,
                    format!("no version of rule set `{rule_set}` is in effect for {period}"),
                )
            })
    }

    /// The targets versions in effect for `period`: those whose span covers the whole of it
    /// (at most one per rule set, and no two declaring the same metric — the checks see to
    /// it). None outside every span.
    pub fn targets_for(&self, period: &Period) -> Vec<&TargetsVersion> {
        self.targets
            .iter()
            .filter(|t| t.spec.covers(period))
            .collect()
    }

    /// SHA-256 over every script that feeds a ranking of `period` scored by `scoring`: the
    /// scoring script, the eligibility rules and the targets in effect. Stored with the
    /// ranking, it tells when any of them changed since.
    pub fn rules_hash(&self, scoring: &Script, period: &Period) -> String {
        let mut parts = vec![scoring.hash.as_str()];
        if let Some(eligibility) = &self.eligibility {
            parts.push(&eligibility.0.hash);
        }
        parts.extend(self.targets_for(period).iter().map(|t| t.hash.as_str()));
        super::sandbox::content_hash(&parts.join("\n"))
    }

    /// The conditions under which an activity counts toward the index, and its loop.
    pub fn activity_rules(&self) -> Result<ActivityRules, RuleError> {
        let (_, rules) = self.eligibility.as_ref().ok_or_else(|| {
            RuleError::new(
                "rules/eligibility",
                "no script defines `counts_toward_index()`",
            )
        })?;
        Ok(rules.clone())
    }

    /// The version of policy rule set `rule_set` that applies on `day`: the latest to
    /// start whose span holds the day. `NOT_IN_EFFECT` style errors are left to the
    /// caller: `None` when no version applies.
    pub fn policy_on(&self, rule_set: &str, day: NaiveDate) -> Option<&PolicyVersion> {
        self.policies
            .iter()
            .filter(|p| p.spec.name == rule_set && p.spec.holds(day))
            .max_by_key(|p| p.spec.effective_from.first_day())
    }

    /// The version of policy rule set `rule_set` in effect for `period` (on its first
    /// day), or an error saying none is.
    pub fn policy_for(&self, rule_set: &str, period: &Period) -> Result<&PolicyVersion, RuleError> {
        self.policy_on(rule_set, period.first_day()).ok_or_else(|| {
            RuleError::new(
                &format!("rules/{rule_set}"),
                format!("no version of rule set `{rule_set}` is in effect for {period}"),
            )
        })
    }

    /// Every policy version, by the period it starts.
    pub fn policies(&self) -> impl Iterator<Item = &PolicyVersion> {
        self.policies.iter()
    }

    /// A version of `rule_set` by its label (e.g. `2.0`).
    pub fn version(&self, rule_set: &str, version: &str) -> Result<&RuleVersion, RuleError> {
        self.versions
            .iter()
            .find(|v| v.spec.name == rule_set && v.spec.version == version)
            .ok_or_else(|| {
                RuleError::new(
                    rule_set,
                    format!("rule set `{rule_set}` has no version `{version}`"),
                )
            })
    }

    /// Every scoring version, oldest first.
    pub fn versions(&self) -> impl Iterator<Item = &RuleVersion> {
        self.versions.iter()
    }

    /// Every script that declares a version of a rule set: scoring, targets and policy
    /// scripts.
    pub fn declared(&self) -> impl Iterator<Item = Declared<'_>> {
        let scoring = self.versions.iter().map(|v| Declared {
            path: &v.path,
            name: &v.spec.name,
            version: &v.spec.version,
            hash: &v.script.hash,
            testable: true,
        });
        let targets = self.targets.iter().map(|t| Declared {
            path: &t.path,
            name: &t.spec.name,
            version: &t.spec.version,
            hash: &t.hash,
            testable: false,
        });
        let policies = self.policies.iter().map(|p| Declared {
            path: &p.path,
            name: &p.spec.name,
            version: &p.spec.version,
            hash: &p.script.hash,
            testable: true,
        });
        scoring.chain(targets).chain(policies)
    }
}

/// A script declaring a version of a rule set.
#[derive(Debug, Clone, Copy)]
pub struct Declared<'a> {
    pub path: &'a str,
    /// The rule set.
    pub name: &'a str,
    /// The version label.
    pub version: &'a str,
    /// SHA-256 of the script.
    pub hash: &'a str,
    /// Whether it can carry test cases (scoring and policy scripts).
    pub testable: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::source::MemoryLoader;

    #[test]
    fn rules_held_in_memory_load_as_the_same_files_on_disk_do() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let files = FolderLoader(dir.clone()).load().unwrap();
        assert!(files.iter().any(|f| f.path == "qii/v2.rhai"));
        let mut shuffled = files.clone();
        shuffled.reverse();
        let from_memory = Registry::load_from(&MemoryLoader(shuffled)).unwrap();
        let from_disk = Registry::load(&dir).unwrap();
        let hashes = |r: &Registry| {
            r.versions()
                .map(|v| v.script.hash.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(hashes(&from_memory), hashes(&from_disk));
    }

    #[test]
    fn a_loader_that_cannot_read_names_where_it_looked() {
        struct Broken;
        impl Loader for Broken {
            fn origin(&self) -> String {
                "the rules bucket".to_owned()
            }
            fn load(&self) -> std::io::Result<Vec<RuleSource>> {
                Err(std::io::Error::other("connection refused"))
            }
        }
        let err = Registry::load_from(&Broken).err().unwrap().to_string();
        assert!(
            err.contains("the rules bucket") && err.contains("connection refused"),
            "{err}"
        );
    }

    #[test]
    fn the_shipped_rules_load_and_v2_is_in_effect_from_october_2017() {
        let registry =
            Registry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules")).unwrap();
        let october: Period = "2017-10".parse().unwrap();
        assert_eq!(
            registry.version_for("qii", &october).unwrap().spec.version,
            "2.0.1"
        );
        let september: Period = "2017-09".parse().unwrap();
        assert!(registry.version_for("qii", &september).is_err());
        let rules = registry.activity_rules().unwrap();
        assert!(!rules.conditions.is_empty() && !rules.steps.is_empty());
    }

    #[test]
    fn the_shipped_targets_cover_october_to_december_2017_only() {
        let registry =
            Registry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules")).unwrap();
        for (period, covered) in [
            ("2017-09", false),
            ("2017-10", true),
            ("2017-Q4", true),
            ("2017-12", true),
            ("2018-01", false),
            ("2017-12-25..2018-01-07", false),
        ] {
            let found = registry.targets_for(&period.parse().unwrap());
            assert_eq!(found.len(), usize::from(covered), "{period}");
        }
        let q4 = &registry.targets_for(&"2017-Q4".parse().unwrap())[0];
        assert_eq!(q4.path, "targets/2017q4.rhai");
        assert_eq!(q4.spec.name, "targets");
    }
}
