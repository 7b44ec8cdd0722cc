//! What a scoring script declares: the index, its dimensions and indicators, and for each
//! indicator the raw figure, transforms, standardisation, direction, missing-value policy
//! and weight. Read once per run from the script's `index()` function.

use serde::{Deserialize, Serialize};

use super::{declaration::Declaration, RuleError, Sandbox, Script};

/// Weights are percentages and must add up to this.
const WEIGHT_TOTAL: f64 = 100.0;
const WEIGHT_TOLERANCE: f64 = 1e-6;

/// An index (e.g. QII v2.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexSpec {
    /// Rule-set name, e.g. `qii`.
    pub name: String,
    /// Version label, e.g. `2.0`.
    pub version: String,
    /// First period this version scores, e.g. `2017-10`.
    pub effective_from: String,
    /// How the dimensions combine into the index.
    #[serde(default)]
    pub aggregation: Aggregation,
    pub dimensions: Vec<DimensionSpec>,
    /// How uncertain the weights and methods are, for rank-stability analysis; none when
    /// the script declares nothing (a request then gives the spread).
    #[serde(default)]
    pub uncertainty: Option<Uncertainty>,
}

/// What a scoring script says about its own certainty: how far each weight may be off and
/// which standardisation methods would be as defensible as the one declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uncertainty {
    /// Each weight may be this share above or below its value (0.25: ±25 %).
    pub spread: f64,
    /// Methods an indicator standardised by one of them could as well use: `min_max`,
    /// `z_score`, `rank`. Indicators of another method (goalposts, targets, custom) keep
    /// theirs.
    #[serde(default)]
    pub methods: Vec<String>,
}

/// The standardisation methods an uncertainty analysis may swap for one another: those
/// that take nothing but the units' own figures.
pub const SWAPPABLE_METHODS: [&str; 3] = ["min_max", "z_score", "rank"];

/// A group of indicators with one score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionSpec {
    pub key: String,
    #[serde(default)]
    pub label: Option<String>,
    /// How the indicators combine into the dimension.
    #[serde(default)]
    pub aggregation: Aggregation,
    pub indicators: Vec<IndicatorSpec>,
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSpec {
    pub key: String,
    #[serde(default)]
    pub label: Option<String>,
    /// The raw figure it takes, by name (e.g. `valid_questions`).
    pub raw: String,
    /// Weight in percent of the whole index.
    pub weight: f64,
    #[serde(default)]
    pub direction: Direction,
    /// Applied in order before standardisation.
    #[serde(default)]
    pub transform: Vec<Transform>,
    #[serde(default)]
    pub standardise: Standardise,
    #[serde(default)]
    pub missing: Missing,
    /// The weight is not stated by the index's source but assumed by whoever wrote the
    /// script: rank stability may perturb these alone.
    #[serde(default)]
    pub assumed: bool,
}

/// Whether more is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Higher,
    Lower,
}

/// A transform of the raw figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// `ln(1 + x)`, for long-tailed counts (negative figures count as 0).
    Log1p,
    /// The natural logarithm `ln x`; a figure of 0 or less has none (an error naming it).
    Ln,
    /// The decimal logarithm `log10 x`; a figure of 0 or less has none.
    Log10,
    /// `x` to this power (`0.5`: the square root); a result that is not a number (a negative
    /// figure to a fractional power) is an error naming the unit.
    Power(f64),
    /// Values above this are treated as this.
    Cap(f64),
    /// Values above this quantile (0–1) of the units are treated as that quantile.
    Winsorise(f64),
}

/// How a figure becomes a 0–100 score.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standardise {
    /// `(x - min) / (max - min)` across the units ranked.
    #[default]
    MinMax,
    /// The z-score as a T-score `50 + 10 z`, clamped to 0–100.
    ZScore,
    /// Percentile rank among the units (ties share the mean rank).
    Rank,
    /// Fixed bounds `[low, high]`, capped at both ends.
    Goalposts(f64, f64),
    /// Share of a fixed target reached, capped at 100 %.
    Target(f64),
    /// Share of each unit's own target (a metric of the targets table) reached, capped.
    TargetMetric(String),
    /// A function of the script: `fn name(x, stats)` returning 0–100, where `stats` has
    /// `min`, `max`, `mean`, `sd` and `n` of the (transformed) figure.
    Custom(String),
}

/// What a unit without the figure gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Counted as zero.
    #[default]
    Zero,
    /// The worst standardised score among the units.
    Worst,
    /// The mean standardised score among the units.
    Mean,
    /// Left out: the unit's other indicators carry its weight.
    Exclude,
}

/// How scores combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Weighted arithmetic mean.
    #[default]
    Arithmetic,
    /// Weighted geometric mean (a zero anywhere gives zero).
    Geometric,
}

impl IndexSpec {
    /// Reads and checks the declaration of a compiled scoring script.
    pub fn from_script(sandbox: &Sandbox, script: &Script) -> Result<Self, RuleError> {
        if !script.defines("index", 0) {
            return Err(RuleError::new(
                &script.name,
                "a scoring script must define `fn index()`",
            ));
        }
        let declaration = Declaration::call(sandbox, script, "index")?;
        let spec: IndexSpec = declaration.read()?;
        spec.validate(script, &declaration)?;
        Ok(spec)
    }

    /// Every indicator with its dimension.
    pub fn indicators(&self) -> impl Iterator<Item = (&DimensionSpec, &IndicatorSpec)> {
        self.dimensions
            .iter()
            .flat_map(|d| d.indicators.iter().map(move |i| (d, i)))
    }

    /// The dimension's weight: the sum of its indicators'.
    pub fn dimension_weight(dimension: &DimensionSpec) -> f64 {
        dimension.indicators.iter().map(|i| i.weight).sum()
    }

    fn validate(&self, script: &Script, declaration: &Declaration) -> Result<(), RuleError> {
        let fail = |path: Option<String>, message: String| {
            Err(declaration.error(path.as_deref(), message))
        };
        if self.dimensions.is_empty() {
            return fail(
                Some("dimensions".into()),
                "the index declares no dimensions".into(),
            );
        }
        let mut keys = std::collections::HashSet::new();
        for (d, dimension) in self.dimensions.iter().enumerate() {
            for (i, indicator) in dimension.indicators.iter().enumerate() {
                let path = |key: &str| Some(format!("dimensions[{d}].indicators[{i}].{key}"));
                let at = format!(
                    "indicator `{}` of dimension `{}`",
                    indicator.key, dimension.key
                );
                if !keys.insert(indicator.key.as_str()) {
                    return fail(path("key"), format!("{at}: the key is used twice"));
                }
                if !indicator.weight.is_finite() || indicator.weight < 0.0 {
                    return fail(
                        path("weight"),
                        format!("{at}: weight {} must be zero or more", indicator.weight),
                    );
                }
                for transform in &indicator.transform {
                    if let Some(problem) = transform.problem() {
                        return fail(path("transform"), format!("{at}: {problem}"));
                    }
                }
                if let Some(problem) = indicator.standardise.problem(script) {
                    return fail(path("standardise"), format!("{at}: {problem}"));
                }
            }
        }
        if let Some(uncertainty) = &self.uncertainty {
            let spread = uncertainty.spread;
            if !spread.is_finite() || spread <= 0.0 || spread > 1.0 {
                return fail(
                    Some("uncertainty.spread".into()),
                    format!("the spread of the weights is a share above 0 and at most 1 (0.25: ±25 %), got {spread}"),
                );
            }
            for (m, method) in uncertainty.methods.iter().enumerate() {
                if Standardise::swappable(method).is_none() {
                    return fail(
                        Some(format!("uncertainty.methods[{m}]")),
                        format!(
                            "`{method}` is not a method the analysis can swap in: use {}",
                            SWAPPABLE_METHODS.join(", ")
                        ),
                    );
                }
                if uncertainty.methods[..m].contains(method) {
                    return fail(
                        Some(format!("uncertainty.methods[{m}]")),
                        format!("`{method}` is listed twice"),
                    );
                }
            }
        }
        let total: f64 = self.indicators().map(|(_, i)| i.weight).sum();
        if (total - WEIGHT_TOTAL).abs() > WEIGHT_TOLERANCE {
            let by_dimension: Vec<String> = self
                .dimensions
                .iter()
                .map(|d| format!("{} {}", d.key, Self::dimension_weight(d)))
                .collect();
            return fail(
                None,
                format!(
                    "the weights add up to {total} %, not {WEIGHT_TOTAL} % ({})",
                    by_dimension.join(", ")
                ),
            );
        }
        Ok(())
    }
}

impl Transform {
    /// How errors name it: `ln`, `power 0.5`, …
    pub fn name(&self) -> String {
        match self {
            Self::Log1p => "log1p".into(),
            Self::Ln => "ln".into(),
            Self::Log10 => "log10".into(),
            Self::Power(p) => format!("power {p}"),
            Self::Cap(c) => format!("cap {c}"),
            Self::Winsorise(q) => format!("winsorise {q}"),
        }
    }

    /// What is wrong with its parameter, if anything.
    fn problem(&self) -> Option<String> {
        match *self {
            Self::Winsorise(q) if !(0.0..=1.0).contains(&q) => Some(format!(
                "winsorise takes a quantile between 0 and 1, got {q}"
            )),
            Self::Cap(c) if !c.is_finite() => Some(format!("cap must be a finite number, got {c}")),
            Self::Power(p) if !p.is_finite() || p == 0.0 => Some(format!(
                "power takes a finite exponent other than 0, got {p}"
            )),
            _ => None,
        }
    }
}

impl Standardise {
    /// A method of [`SWAPPABLE_METHODS`] by its name.
    pub fn swappable(name: &str) -> Option<Self> {
        match name {
            "min_max" => Some(Self::MinMax),
            "z_score" => Some(Self::ZScore),
            "rank" => Some(Self::Rank),
            _ => None,
        }
    }

    /// Its name in a script: `min_max`, `goalposts`, …
    pub fn name(&self) -> &'static str {
        match self {
            Self::MinMax => "min_max",
            Self::ZScore => "z_score",
            Self::Rank => "rank",
            Self::Goalposts(..) => "goalposts",
            Self::Target(_) => "target",
            Self::TargetMetric(_) => "target_metric",
            Self::Custom(_) => "custom",
        }
    }

    /// What is wrong with its parameters, if anything.
    fn problem(&self, script: &Script) -> Option<String> {
        match self {
            Self::Goalposts(low, high) if !(low.is_finite() && high.is_finite()) => Some(format!(
                "goalposts must be finite numbers, got [{low}, {high}]"
            )),
            Self::Goalposts(low, high) if low >= high => {
                Some(format!("goalposts need low < high, got [{low}, {high}]"))
            }
            Self::Target(t) if !t.is_finite() || *t <= 0.0 => {
                Some(format!("the target must be above zero, got {t}"))
            }
            Self::Custom(f) if !script.defines(f, 2) => {
                Some(format!("the script defines no `fn {f}(x, stats)`"))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_of(body: &str) -> Result<IndexSpec, RuleError> {
        let sandbox = Sandbox::new();
        let script = sandbox.compile("t.rhai", body)?;
        IndexSpec::from_script(&sandbox, &script)
    }

    const HEAD: &str = "name: \"t\", version: \"1\", effective_from: \"2017-10\"";

    #[test]
    fn a_declaration_with_methods_of_every_kind_is_read() {
        let spec = spec_of(&format!(
            "fn index() {{ #{{ {HEAD}, aggregation: \"geometric\", dimensions: [ #{{ key: \"d\", indicators: [
                #{{ key: \"a\", raw: \"a\", weight: 60.0, transform: [\"log1p\", #{{ cap: 5.0 }}], standardise: #{{ goalposts: [0.0, 10.0] }} }},
                #{{ key: \"b\", raw: \"b\", weight: 40.0, direction: \"lower\", standardise: \"rank\", missing: \"worst\" }}
            ] }} ] }} }}"
        ))
        .unwrap();
        let (_, a) = spec.indicators().next().unwrap();
        assert_eq!(a.transform, vec![Transform::Log1p, Transform::Cap(5.0)]);
        assert_eq!(a.standardise, Standardise::Goalposts(0.0, 10.0));
        assert_eq!(spec.aggregation, Aggregation::Geometric);
    }

    #[test]
    fn weights_that_do_not_add_up_to_100_are_an_error() {
        let err = spec_of(&format!(
            "fn index() {{ #{{ {HEAD}, dimensions: [ #{{ key: \"d\", indicators: [ #{{ key: \"a\", raw: \"a\", weight: 60.0 }} ] }} ] }} }}"
        ))
        .err()
        .unwrap();
        assert!(err.message.contains("add up to 60"), "{err}");
    }

    #[test]
    fn a_misspelt_field_or_method_is_an_error() {
        let err = spec_of(&format!(
            "fn index() {{ #{{ {HEAD}, dimensions: [ #{{ key: \"d\", indicators: [ #{{ key: \"a\", raw: \"a\", wieght: 100.0 }} ] }} ] }} }}"
        ))
        .err()
        .unwrap();
        assert!(err.message.contains("wieght"), "{err}");
        let err = spec_of(&format!(
            "fn index() {{ #{{ {HEAD}, dimensions: [ #{{ key: \"d\", indicators: [ #{{ key: \"a\", raw: \"a\", weight: 100.0, standardise: \"minmax\" }} ] }} ] }} }}"
        ))
        .err()
        .unwrap();
        assert!(err.message.contains("minmax"), "{err}");
    }

    #[test]
    fn integers_are_numbers_wherever_numbers_are_expected() {
        let spec = spec_of(&format!(
            "fn index() {{ #{{ {HEAD}, dimensions: [ #{{ key: \"d\", indicators: [
                #{{ key: \"a\", raw: \"a\", weight: 100, transform: [#{{ cap: 5 }}, #{{ power: 2 }}, \"ln\", \"log10\"], standardise: #{{ goalposts: [20, 85] }} }}
            ] }} ] }} }}"
        ))
        .unwrap();
        let (_, a) = spec.indicators().next().unwrap();
        assert_eq!(a.weight, 100.0);
        assert_eq!(a.standardise, Standardise::Goalposts(20.0, 85.0));
        assert_eq!(
            a.transform,
            vec![
                Transform::Cap(5.0),
                Transform::Power(2.0),
                Transform::Ln,
                Transform::Log10
            ]
        );
    }

    #[test]
    fn a_declaration_error_names_the_key_its_path_and_where_it_is_written() {
        let source = format!(
            "fn index() {{\n  #{{ {HEAD},\n    dimensions: [\n      #{{ key: \"d\", indicators: [\n        #{{ key: \"a\", raw: \"a\", weight: 50.0 }},\n        #{{ key: \"b\", raw: \"b\", weight: 50.0,\n           standardise: \"minmax\" }}\n      ] }} ] }}\n}}\n"
        );
        let err = spec_of(&source).err().unwrap();
        assert_eq!(
            err.path.as_deref(),
            Some("dimensions[0].indicators[1].standardise"),
            "{err}"
        );
        assert_eq!((err.line, err.column), (Some(7), Some(25)), "{err}");
        assert!(!err.message.contains("Syntax error"), "{err}");
        assert!(err.message.contains("minmax"), "{err}");

        // A semantic mistake: the second indicator's goalposts, found by its place.
        let source = format!(
            "fn index() {{\n  #{{ {HEAD}, dimensions: [ #{{ key: \"d\", indicators: [\n    #{{ key: \"a\", raw: \"a\", weight: 50.0, standardise: #{{ goalposts: [0, 1] }} }},\n    #{{ key: \"b\", raw: \"b\", weight: 50.0, standardise: #{{ goalposts: [5, 1] }} }}\n  ] }} ] }}\n}}\n"
        );
        let err = spec_of(&source).err().unwrap();
        assert_eq!(
            err.path.as_deref(),
            Some("dimensions[0].indicators[1].standardise")
        );
        assert_eq!(err.line, Some(4), "{err}");
        assert!(err.message.contains("low < high"), "{err}");

        // An unknown key is located where it is written.
        let source = format!(
            "fn index() {{\n  #{{ {HEAD}, dimensions: [ #{{ key: \"d\", indicators: [\n    #{{ key: \"a\", raw: \"a\",\n      wieght: 100.0 }} ] }} ] }}\n}}\n"
        );
        let err = spec_of(&source).err().unwrap();
        assert_eq!((err.line, err.column), (Some(4), Some(7)), "{err}");
        assert_eq!(
            err.path.as_deref(),
            Some("dimensions[0].indicators[0].wieght")
        );
    }

    #[test]
    fn a_custom_method_must_exist_in_the_script() {
        let err = spec_of(&format!(
            "fn index() {{ #{{ {HEAD}, dimensions: [ #{{ key: \"d\", indicators: [ #{{ key: \"a\", raw: \"a\", weight: 100.0, standardise: #{{ custom: \"mine\" }} }} ] }} ] }} }}"
        ))
        .err()
        .unwrap();
        assert!(err.message.contains("fn mine"), "{err}");
    }
}
