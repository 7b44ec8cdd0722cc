//! What a targets script declares: the targets (目标) of a span of months — for each metric,
//! whom it applies to, over what it is counted and the value to reach. Read once per rule
//! version from the script's `targets()` function; the value a given unit has for a given
//! period is worked out here from the declaration, so no number of policy is written in
//! this code.

use serde::Deserialize;

use super::{RuleError, Sandbox, Script};
use crate::period::{Period, PeriodKind};

/// A set of targets (e.g. those of Oct–Dec 2017) and the span of periods they cover.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsSpec {
    /// Rule-set name, e.g. `targets`.
    pub name: String,
    /// Version label, e.g. `2017q4`.
    pub version: String,
    /// The first period covered, e.g. `2017-10`.
    pub effective_from: Period,
    /// The last period covered, e.g. `2017-12`.
    pub effective_until: Period,
    pub targets: Vec<TargetSpec>,
}

/// One target of the declaration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "DeclaredTarget")]
pub struct TargetSpec {
    /// The metric, e.g. `update_days` (the key of the `target` table too).
    pub metric: String,
    /// What it counts, for people.
    pub label: String,
    pub applies_to: AppliesTo,
    pub per: Per,
    pub value: TargetValue,
    /// For a count of activities: which activities it counts (in the period its activity
    /// rules' date puts them in). `None` for the metrics the platform measures otherwise.
    pub activities: Option<ActivityCount>,
}

/// Which activities a target counts, as the script declares them under `activities`: every
/// activity that counts for its publisher, narrowed by what is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivityCount {
    /// Only activities of this kind.
    pub kind: Option<ActivityKindName>,
    /// Only activities of these categories (all when empty).
    pub categories: Vec<CategoryName>,
    /// Not activities of these categories.
    pub except_categories: Vec<CategoryName>,
    /// Only activities whose loop is whole (every required step done).
    pub whole_loop: bool,
}

/// An activity's kind, as the rules name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKindName {
    Offline,
    OnlineTopic,
}

/// An activity's category, as the rules name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryName {
    Contest,
    Social,
    Themed,
    TicketPerk,
    Training,
    VolunteerService,
    Other,
}

impl ActivityKindName {
    /// The name, as stored.
    pub fn name(self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::OnlineTopic => "online_topic",
        }
    }
}

impl CategoryName {
    /// The name, as stored.
    pub fn name(self) -> &'static str {
        match self {
            Self::Contest => "contest",
            Self::Social => "social",
            Self::Themed => "themed",
            Self::TicketPerk => "ticket_perk",
            Self::Training => "training",
            Self::VolunteerService => "volunteer_service",
            Self::Other => "other",
        }
    }
}

/// A target as the script writes it: a threshold (`at_least`), or a city-wide total shared
/// among the towns (`city_total` with `share`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclaredTarget {
    metric: String,
    label: String,
    applies_to: AppliesTo,
    per: Per,
    #[serde(default)]
    at_least: Option<Number>,
    #[serde(default)]
    city_total: Option<Number>,
    #[serde(default)]
    share: Option<Share>,
    #[serde(default)]
    activities: Option<ActivityCount>,
}

/// A number as a script writes it: `2` or `2.0` alike.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Float(f64),
}

impl From<Number> for f64 {
    fn from(n: Number) -> f64 {
        match n {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// Which org units a target applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    /// Every town.
    Town,
    /// Every org unit with a platform account: every unit but the city itself.
    OrgUnit,
    /// Every Youth Home.
    YouthHome,
    /// Every registered (在册) Youth Home.
    RegisteredYouthHome,
}

/// Over what a target is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Per {
    /// Each month of the span on its own: the target of every month period.
    Month,
    /// The whole span at once: the target of the period that is exactly the span (for
    /// Oct–Dec, `2017-Q4`).
    Span,
    /// A level to reach by the end of the span, for figures counted from the start up to
    /// a period's end (registrations, mobile binding): the target of every period within
    /// the span.
    SpanEnd,
}

/// How a city-wide total is shared among the towns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Share {
    /// By each town's population coefficient (人口系数, `org_unit.population_coefficient`).
    PopulationCoefficient,
}

/// The value to reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetValue {
    /// The same threshold for every unit.
    AtLeast(f64),
    /// A city-wide total, each town's part of it by `share`.
    CityShare { city_total: f64, share: Share },
}

impl TryFrom<DeclaredTarget> for TargetSpec {
    type Error = String;

    fn try_from(d: DeclaredTarget) -> Result<Self, String> {
        let at = format!("target `{}`", d.metric);
        let value = match (d.at_least, d.city_total, d.share) {
            (Some(v), None, None) => TargetValue::AtLeast(v.into()),
            (None, Some(total), Some(share)) => TargetValue::CityShare {
                city_total: total.into(),
                share,
            },
            _ => {
                return Err(format!(
                    "{at}: give either `at_least`, or `city_total` with `share`"
                ))
            }
        };
        Ok(Self {
            metric: d.metric,
            label: d.label,
            applies_to: d.applies_to,
            per: d.per,
            value,
            activities: d.activities,
        })
    }
}

/// The kinds of unit a target tells apart; the data layer maps its own kinds onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// The city league committee, root of the tree: no target applies to it.
    City,
    /// A town or sub-district league committee.
    Town,
    /// A Youth Home.
    YouthHome,
    /// Any other unit (a school, a company body).
    Other,
}

/// What a target needs to know of an org unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitFacts {
    pub kind: UnitKind,
    pub registered: bool,
    pub population_coefficient: Option<f64>,
}

impl AppliesTo {
    fn includes(self, unit: &UnitFacts) -> bool {
        match self {
            Self::Town => unit.kind == UnitKind::Town,
            Self::OrgUnit => unit.kind != UnitKind::City,
            Self::YouthHome => unit.kind == UnitKind::YouthHome,
            Self::RegisteredYouthHome => unit.kind == UnitKind::YouthHome && unit.registered,
        }
    }
}

impl TargetsSpec {
    /// Reads and checks the declaration of a compiled targets script.
    pub fn from_script(sandbox: &Sandbox, script: &Script) -> Result<Self, RuleError> {
        if !script.defines("targets", 0) {
            return Err(RuleError::new(
                &script.name,
                "a targets script must define `fn targets()`",
            ));
        }
        let declaration = super::declaration::Declaration::call(sandbox, script, "targets")?;
        let spec: TargetsSpec = declaration.read()?;
        spec.validate()
            .map_err(|(path, message)| declaration.error(path.as_deref(), message))?;
        Ok(spec)
    }

    fn validate(&self) -> Result<(), (Option<String>, String)> {
        if self.effective_until.last_day() < self.effective_from.first_day() {
            return Err((
                Some("effective_until".into()),
                format!(
                    "the span ends (effective_until `{}`) before it starts (effective_from `{}`)",
                    self.effective_until, self.effective_from
                ),
            ));
        }
        if self.targets.is_empty() {
            return Err((
                Some("targets".into()),
                "the declaration lists no targets".into(),
            ));
        }
        let mut metrics = std::collections::HashSet::new();
        for (i, target) in self.targets.iter().enumerate() {
            let at = format!("target `{}`", target.metric);
            let path = |key: &str| Some(format!("targets[{i}].{key}"));
            crate::names::snake_name("metric", "update_days", &target.metric)
                .map_err(|e| (path("metric"), format!("{at}: {e}")))?;
            if !metrics.insert(target.metric.as_str()) {
                return Err((
                    path("metric"),
                    format!("{at}: the metric is declared twice"),
                ));
            }
            match target.value {
                TargetValue::AtLeast(v) if !v.is_finite() || v < 0.0 => {
                    return Err((
                        path("at_least"),
                        format!("{at}: at_least {v} must be zero or more"),
                    ))
                }
                TargetValue::CityShare { city_total, .. }
                    if !city_total.is_finite() || city_total <= 0.0 =>
                {
                    return Err((
                        path("city_total"),
                        format!("{at}: city_total {city_total} must be above zero"),
                    ))
                }
                TargetValue::CityShare { .. } if target.applies_to != AppliesTo::Town => {
                    return Err((
                        path("applies_to"),
                        format!(
                            "{at}: a city total is shared among towns only (applies_to: \"town\")"
                        ),
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether the span covers the whole of `period`.
    pub fn covers(&self, period: &Period) -> bool {
        self.effective_from.first_day() <= period.first_day()
            && period.last_day() <= self.effective_until.last_day()
    }

    /// Whether the spans of two declarations share a day.
    pub fn overlaps(&self, other: &TargetsSpec) -> bool {
        self.effective_from.first_day() <= other.effective_until.last_day()
            && other.effective_from.first_day() <= self.effective_until.last_day()
    }

    /// The targets `unit` has for `period` under this declaration, with their values.
    pub fn targets_of<'a>(
        &'a self,
        period: &'a Period,
        unit: &'a UnitFacts,
    ) -> impl Iterator<Item = (&'a TargetSpec, f64)> + 'a {
        let covered = self.covers(period);
        self.targets
            .iter()
            .filter(move |t| covered && self.counts_over(t.per, period))
            .filter_map(move |t| t.value_for(unit).map(|v| (t, v)))
    }

    /// Whether a target counted `per` is one of `period` (a period the span covers).
    fn counts_over(&self, per: Per, period: &Period) -> bool {
        let (first, last) = (period.first_day(), period.last_day());
        match per {
            Per::Month => Period::containing(PeriodKind::Month, first)
                .is_some_and(|month| month.first_day() == first && month.last_day() == last),
            Per::Span => {
                first == self.effective_from.first_day() && last == self.effective_until.last_day()
            }
            Per::SpanEnd => true,
        }
    }
}

impl TargetSpec {
    /// The value for `unit`; none when the target does not apply to it (or, for a share,
    /// when the town has no coefficient to share by).
    pub fn value_for(&self, unit: &UnitFacts) -> Option<f64> {
        if !self.applies_to.includes(unit) {
            return None;
        }
        match self.value {
            TargetValue::AtLeast(v) => Some(v),
            TargetValue::CityShare {
                city_total,
                share: Share::PopulationCoefficient,
            } => unit.population_coefficient.map(|c| city_total * c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_of(targets: &str) -> Result<TargetsSpec, RuleError> {
        let sandbox = Sandbox::new();
        let script = sandbox.compile(
            "targets/t.rhai",
            &format!(
                "fn targets() {{ #{{ name: \"targets\", version: \"1\", effective_from: \"2017-10\", effective_until: \"2017-12\", targets: [{targets}] }} }}"
            ),
        )?;
        TargetsSpec::from_script(&sandbox, &script)
    }

    const TOWN: UnitFacts = UnitFacts {
        kind: UnitKind::Town,
        registered: false,
        population_coefficient: Some(0.25),
    };
    const HOME: UnitFacts = UnitFacts {
        kind: UnitKind::YouthHome,
        registered: true,
        population_coefficient: None,
    };

    fn period(text: &str) -> Period {
        text.parse().unwrap()
    }

    fn values(spec: &TargetsSpec, p: &str, unit: &UnitFacts) -> Vec<(String, f64)> {
        let p = period(p);
        spec.targets_of(&p, unit)
            .map(|(t, v)| (t.metric.clone(), v))
            .collect()
    }

    #[test]
    fn each_target_applies_to_its_units_and_periods() {
        let spec = spec_of(
            r#"#{ metric: "registrations", label: "r", applies_to: "town", per: "span_end", city_total: 1000.0, share: "population_coefficient" },
               #{ metric: "update_days", label: "u", applies_to: "org_unit", per: "month", at_least: 20 },
               #{ metric: "new_youth_homes", label: "n", applies_to: "town", per: "span", at_least: 1.0 },
               #{ metric: "non_volunteer_activities", label: "a", applies_to: "registered_youth_home", per: "month", at_least: 1.0 }"#,
        )
        .unwrap();
        assert_eq!(
            values(&spec, "2017-10", &TOWN),
            [
                ("registrations".into(), 250.0),
                ("update_days".into(), 20.0)
            ]
        );
        assert_eq!(
            values(&spec, "2017-Q4", &TOWN),
            [
                ("registrations".into(), 250.0),
                ("new_youth_homes".into(), 1.0)
            ]
        );
        assert_eq!(
            values(&spec, "2017-11-01..2017-11-30", &HOME),
            [
                ("update_days".into(), 20.0),
                ("non_volunteer_activities".into(), 1.0)
            ]
        );
        let unregistered = UnitFacts {
            registered: false,
            ..HOME
        };
        assert_eq!(values(&spec, "2017-11", &unregistered).len(), 1);
        let city = UnitFacts {
            kind: UnitKind::City,
            ..TOWN
        };
        assert!(values(&spec, "2017-10", &city).is_empty());
        assert!(
            values(&spec, "2018-01", &TOWN).is_empty(),
            "outside the span"
        );
        assert!(
            values(&spec, "2017-W52", &TOWN).len() == 1,
            "only the level to reach"
        );
        let no_coefficient = UnitFacts {
            population_coefficient: None,
            ..TOWN
        };
        assert_eq!(values(&spec, "2017-10", &no_coefficient).len(), 1);
    }

    #[test]
    fn an_unknown_scope_or_span_is_an_error_naming_the_script() {
        let err = spec_of(
            r#"#{ metric: "x", label: "x", applies_to: "every_town", per: "month", at_least: 1.0 }"#,
        )
        .unwrap_err();
        assert_eq!(err.script, "targets/t.rhai");
        assert!(err.message.contains("every_town"), "{err}");
        let err = spec_of(
            r#"#{ metric: "x", label: "x", applies_to: "town", per: "week", at_least: 1.0 }"#,
        )
        .unwrap_err();
        assert!(err.message.contains("week"), "{err}");
        let err = spec_of(
            r#"#{ metric: "x", label: "x", applies_to: "town", per: "month", at_lest: 1.0 }"#,
        )
        .unwrap_err();
        assert!(err.message.contains("at_lest"), "{err}");
    }

    #[test]
    fn a_target_needs_one_sound_value() {
        for (targets, expected) in [
            (
                r#"#{ metric: "x", label: "x", applies_to: "town", per: "month" }"#,
                "either `at_least`",
            ),
            (
                r#"#{ metric: "x", label: "x", applies_to: "town", per: "month", at_least: 1.0, city_total: 5.0, share: "population_coefficient" }"#,
                "either `at_least`",
            ),
            (
                r#"#{ metric: "x", label: "x", applies_to: "town", per: "month", at_least: -1.0 }"#,
                "zero or more",
            ),
            (
                r#"#{ metric: "x", label: "x", applies_to: "org_unit", per: "span_end", city_total: 5.0, share: "population_coefficient" }"#,
                "shared among towns only",
            ),
            (
                r#"#{ metric: "x", label: "x", applies_to: "town", per: "month", at_least: 1.0 },
                   #{ metric: "x", label: "y", applies_to: "org_unit", per: "month", at_least: 2.0 }"#,
                "declared twice",
            ),
            (
                r#"#{ metric: "Update-Days", label: "x", applies_to: "town", per: "month", at_least: 1.0 }"#,
                "lower_snake_case",
            ),
        ] {
            let err = spec_of(targets).unwrap_err();
            assert!(err.message.contains(expected), "{targets}: {err}");
        }
    }

    #[test]
    fn the_span_must_parse_and_run_forwards() {
        let sandbox = Sandbox::new();
        let declare = |from: &str, until: &str| {
            let script = sandbox
                .compile(
                    "targets/t.rhai",
                    &format!(
                        "fn targets() {{ #{{ name: \"targets\", version: \"1\", effective_from: \"{from}\", effective_until: \"{until}\",
                           targets: [#{{ metric: \"x\", label: \"x\", applies_to: \"town\", per: \"month\", at_least: 1.0 }}] }} }}"
                    ),
                )
                .unwrap();
            TargetsSpec::from_script(&sandbox, &script)
        };
        assert!(declare("2017-10", "2017-12").is_ok());
        let err = declare("2017-13", "2017-12").unwrap_err();
        assert!(err.message.contains("2017-13"), "{err}");
        let err = declare("2017-12", "2017-10").unwrap_err();
        assert!(err.message.contains("before it starts"), "{err}");
    }
}
