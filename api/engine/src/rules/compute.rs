//! The arithmetic of an index over all units at once: transforms, standardisation,
//! direction, missing values, weighted aggregation in the hierarchy indicator → dimension →
//! index, ranks, and each indicator's contribution to the total (the explanation).

use std::{collections::HashMap, sync::Arc};

use rhai::Map;
use serde::{Deserialize, Serialize};

use super::{
    spec::{
        Aggregation, DimensionSpec, Direction, IndexSpec, IndicatorSpec, Missing, Standardise,
        Transform,
    },
    RuleError, Sandbox, Script,
};

/// Scores run from 0 to this.
const TOP: f64 = 100.0;
/// Totals closer than this share a rank.
const TIE: f64 = 1e-9;

/// The raw figures of the units ranked, by figure name, in the order of `units`.
#[derive(Debug, Clone, Default)]
pub struct RawTable {
    pub units: Vec<i64>,
    pub figures: HashMap<String, Vec<Option<f64>>>,
    /// Each unit's own targets, by metric, for `target_metric` standardisation.
    pub targets: HashMap<String, Vec<Option<f64>>>,
}

impl RawTable {
    /// Keeps only the units `keep` holds, every column alike.
    pub fn retain(&mut self, keep: impl Fn(i64) -> bool) {
        let kept: Vec<bool> = self.units.iter().map(|&u| keep(u)).collect();
        let filter = |column: &mut Vec<Option<f64>>| {
            let mut i = 0;
            column.retain(|_| {
                i += 1;
                kept[i - 1]
            });
        };
        self.figures.values_mut().for_each(filter);
        self.targets.values_mut().for_each(filter);
        let mut i = 0;
        self.units.retain(|_| {
            i += 1;
            kept[i - 1]
        });
    }
}

/// The keys and weights of an index's dimensions and indicators: the same for every unit
/// scored in a run, so the units share one copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    pub dimensions: Vec<DimensionLabel>,
    /// Every indicator, dimension by dimension.
    pub indicators: Vec<IndicatorLabel>,
}

/// A dimension's key and weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionLabel {
    pub key: String,
    /// What it measures, for people (the script's `label`); none when the script gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Weight in percent of the index: the sum of its indicators'.
    pub weight: f64,
}

/// An indicator's key, dimension and weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorLabel {
    pub key: String,
    /// What it measures, for people (the script's `label`); none when the script gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The key of its dimension.
    pub dimension: String,
    /// Weight in percent of the index.
    pub weight: f64,
    /// How its raw figures became scores in this run: the transforms, the method and what
    /// the method took from the units (none in rankings stored before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
}

/// How an indicator's raw figures became 0–100 scores in one run, shared by every unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Method {
    /// The transforms applied to the raw figure, in order (`log1p`, `power 0.5`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<String>,
    /// `min_max`, `z_score`, `rank`, `goalposts`, `target`, `target_metric` or `custom`.
    pub name: String,
    /// For goalposts, the bounds; for min–max, the least and greatest transformed figure of
    /// the units scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    /// For z-scores, the mean and standard deviation of the transformed figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    /// For a fixed target, the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// For each unit's own target, the metric of the targets (the unit's value is its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_metric: Option<String>,
    /// For a function of the script, its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Lower figures are better: the score is 100 less what the method gives.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lower_is_better: bool,
    /// What a unit without the figure gets: `zero`, `worst`, `mean` or `exclude`.
    pub missing: String,
}

impl Labels {
    fn of(spec: &IndexSpec) -> Self {
        Self {
            dimensions: spec
                .dimensions
                .iter()
                .map(|d| DimensionLabel {
                    key: d.key.clone(),
                    label: d.label.clone(),
                    weight: IndexSpec::dimension_weight(d),
                })
                .collect(),
            indicators: spec
                .indicators()
                .map(|(d, i)| IndicatorLabel {
                    key: i.key.clone(),
                    label: i.label.clone(),
                    dimension: d.key.clone(),
                    weight: i.weight,
                    method: None,
                })
                .collect(),
        }
    }
}

/// One indicator of one unit, explained (its key and weight are in [`Labels`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorScore {
    /// The raw figure, before transforms.
    pub raw: Option<f64>,
    /// The figure after each transform of the method, in order (a missing figure counted
    /// as zero is transformed as zero).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transformed: Vec<Option<f64>>,
    /// The unit's own target, for a method of each unit's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// The 0–100 score; none when excluded as missing.
    pub standardised: Option<f64>,
    /// Points of the total this indicator gives.
    pub contribution: f64,
}

/// One dimension of one unit (its key and weight are in [`Labels`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    pub score: f64,
    pub contribution: f64,
}

/// One unit's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitScore {
    pub unit: i64,
    pub total: f64,
    /// 1 is best; equal totals share a rank.
    pub rank: u32,
    /// In the order of `labels.dimensions`.
    pub dimensions: Vec<DimensionScore>,
    /// In the order of `labels.indicators`.
    pub indicators: Vec<IndicatorScore>,
    /// Keys and weights, shared by all units of the run.
    pub labels: Arc<Labels>,
}

impl UnitScore {
    /// Each dimension with its key and weight.
    pub fn labelled_dimensions(&self) -> impl Iterator<Item = (&DimensionLabel, &DimensionScore)> {
        self.labels.dimensions.iter().zip(&self.dimensions)
    }

    /// Each indicator with its key, dimension and weight.
    pub fn labelled_indicators(&self) -> impl Iterator<Item = (&IndicatorLabel, &IndicatorScore)> {
        self.labels.indicators.iter().zip(&self.indicators)
    }
}

/// Scores every unit of `raw` under `spec`, best first.
///
/// Column by column: each indicator is standardised for all units at once, then every
/// dimension's score and the total; each unit's explanation is built once, in rank order,
/// holding only its own figures (keys and weights are shared).
pub fn score(
    sandbox: &Sandbox,
    script: &Script,
    spec: &IndexSpec,
    raw: &RawTable,
) -> Result<Vec<UnitScore>, RuleError> {
    let n = raw.units.len();
    let mut dimensions = Vec::with_capacity(spec.dimensions.len());
    for dimension in &spec.dimensions {
        let mut indicators = Vec::with_capacity(dimension.indicators.len());
        for indicator in &dimension.indicators {
            let values = raw
                .figures
                .get(&indicator.raw)
                .ok_or_else(|| unknown_figure(script, indicator, raw))?;
            let (standardised, working) = standardise(sandbox, script, indicator, values, raw)?;
            indicators.push(Column {
                spec: indicator,
                standardised,
                raw: values,
                working,
            });
        }
        dimensions.push(DimensionColumns::new(dimension, indicators, n));
    }

    // The index: each unit's total, and the weighted sum its contributions share out.
    let mut sums = WeightedSums::new(spec.aggregation, n);
    for dimension in &dimensions {
        sums.add(dimension.weight, &dimension.scores);
    }
    let totals: Vec<f64> = (0..n).map(|u| sums.combine(u).unwrap_or(0.0)).collect();
    if let Some(u) = totals.iter().position(|t| !t.is_finite()) {
        return Err(not_a_number(
            script,
            raw.units[u],
            format!("the total of org unit {} is {}", raw.units[u], totals[u]),
        ));
    }
    let weighted_sums = sums.weighted;

    // A unit with none of the figures is not ranked (every indicator missing).
    let present: Vec<bool> = (0..n)
        .map(|u| {
            dimensions
                .iter()
                .flat_map(|d| &d.indicators)
                .any(|c| c.raw[u].is_some())
        })
        .collect();
    let mut order: Vec<usize> = (0..n).filter(|&u| present[u]).collect();
    order.sort_by(|&a, &b| {
        totals[b]
            .total_cmp(&totals[a])
            .then(raw.units[a].cmp(&raw.units[b]))
    });
    let mut labels = Labels::of(spec);
    let methods = dimensions
        .iter()
        .flat_map(|d| &d.indicators)
        .map(|c| c.working.method.clone());
    for (label, method) in labels.indicators.iter_mut().zip(methods) {
        label.method = Some(method);
    }
    let labels = Arc::new(labels);
    let mut results = Vec::with_capacity(n);
    let mut rank = 0;
    let mut previous: Option<f64> = None;
    for (i, &u) in order.iter().enumerate() {
        let total = totals[u];
        if previous.is_none_or(|p| (p - total).abs() > TIE) {
            rank = i as u32 + 1;
        }
        previous = Some(total);
        let (dimension_rows, indicator_rows) = explain(
            &dimensions,
            labels.indicators.len(),
            u,
            total,
            weighted_sums[u],
        );
        results.push(UnitScore {
            unit: raw.units[u],
            total,
            rank,
            dimensions: dimension_rows,
            indicators: indicator_rows,
            labels: labels.clone(),
        });
    }
    Ok(results)
}

/// Each indicator's 0–100 scores for every unit of `raw`, in the order of
/// `spec.indicators()`: what [`score`] weighs, for analyses that weigh them otherwise.
pub fn standardised_columns(
    sandbox: &Sandbox,
    script: &Script,
    spec: &IndexSpec,
    raw: &RawTable,
) -> Result<Vec<Vec<Option<f64>>>, RuleError> {
    spec.indicators()
        .map(|(_, indicator)| {
            let values = raw
                .figures
                .get(&indicator.raw)
                .ok_or_else(|| unknown_figure(script, indicator, raw))?;
            Ok(standardise(sandbox, script, indicator, values, raw)?.0)
        })
        .collect()
}

/// Which units of `raw` are ranked: those with at least one of the index's figures.
pub fn ranked_units(spec: &IndexSpec, raw: &RawTable) -> Vec<bool> {
    let columns: Vec<&Vec<Option<f64>>> = spec
        .indicators()
        .filter_map(|(_, i)| raw.figures.get(&i.raw))
        .collect();
    (0..raw.units.len())
        .map(|u| columns.iter().any(|c| c[u].is_some()))
        .collect()
}

/// Every unit's total from standardised `columns` (in the order of `spec.indicators()`)
/// weighed by `weights` (the same order) instead of the declared weights, aggregated as the
/// index declares; written into `totals`. With the declared weights it gives [`score`]'s
/// totals to the last bit.
pub fn totals_with(
    spec: &IndexSpec,
    weights: &[f64],
    columns: &[Vec<Option<f64>>],
    totals: &mut [f64],
) {
    let n = totals.len();
    let mut index = WeightedSums::new(spec.aggregation, n);
    let mut at = 0;
    let mut scores = vec![None; n];
    for dimension in &spec.dimensions {
        let count = dimension.indicators.len();
        let mut inner = WeightedSums::new(dimension.aggregation, n);
        for i in at..at + count {
            inner.add(weights[i], &columns[i]);
        }
        let weight: f64 = weights[at..at + count].iter().sum();
        at += count;
        for (u, score) in scores.iter_mut().enumerate() {
            *score = inner.combine(u);
        }
        index.add(weight, &scores);
    }
    for (u, total) in totals.iter_mut().enumerate() {
        *total = index.combine(u).unwrap_or(0.0);
    }
}

/// Ranks (1 is best) of the units at `positions`, by `totals`: equal totals (closer than
/// the tie tolerance) share a rank and equal ones are ordered by unit id, as in [`score`];
/// `order` is scratch space. Writes the rank of `positions[k]` into `ranks[k]`.
pub fn rank_positions(
    totals: &[f64],
    units: &[i64],
    positions: &[usize],
    order: &mut Vec<(u64, i64, u32)>,
    ranks: &mut [u32],
) {
    order.clear();
    order.extend(positions.iter().enumerate().map(|(k, &u)| {
        // The bits of a float ordered as `total_cmp` orders them, then reversed: the best
        // total first.
        let bits = totals[u].to_bits() as i64;
        let ordered = (bits ^ ((((bits >> 63) as u64) >> 1) as i64)) as u64 ^ (1 << 63);
        (!ordered, units[u], k as u32)
    }));
    order.sort_unstable();
    let mut rank = 0;
    let mut previous: Option<f64> = None;
    for (i, &(_, _, k)) in order.iter().enumerate() {
        let total = totals[positions[k as usize]];
        if previous.is_none_or(|p| (p - total).abs() > TIE) {
            rank = i as u32 + 1;
        }
        previous = Some(total);
        ranks[k as usize] = rank;
    }
}

/// A value of one unit that is not a finite number: an error of the script, naming the unit.
fn not_a_number(script: &Script, unit: i64, message: String) -> RuleError {
    let mut err = RuleError::new(&script.name, message);
    err.unit = Some(unit);
    err
}

fn unknown_figure(script: &Script, indicator: &IndicatorSpec, raw: &RawTable) -> RuleError {
    let mut known: Vec<&String> = raw.figures.keys().collect();
    known.sort();
    RuleError::new(
        &script.name,
        format!(
            "indicator `{}` takes the raw figure `{}`, which is not available (known: {})",
            indicator.key,
            indicator.raw,
            known
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// One indicator's figures for all units.
struct Column<'a> {
    spec: &'a IndicatorSpec,
    raw: &'a [Option<f64>],
    standardised: Vec<Option<f64>>,
    working: Working,
}

/// How one indicator's scores were reached, for its explanation.
struct Working {
    method: Method,
    /// The figures after each transform, one column per transform.
    steps: Vec<Vec<Option<f64>>>,
    /// Each unit's own target, for a method of each unit's target.
    targets: Option<Vec<Option<f64>>>,
}

/// One dimension for all units: its indicators, and per unit its score and the weighted sum
/// of its indicators' scores.
struct DimensionColumns<'a> {
    /// The sum of its indicators' weights.
    weight: f64,
    indicators: Vec<Column<'a>>,
    /// None when no indicator of the unit has a score.
    scores: Vec<Option<f64>>,
    inner: Vec<f64>,
}

impl<'a> DimensionColumns<'a> {
    fn new(spec: &DimensionSpec, indicators: Vec<Column<'a>>, n: usize) -> Self {
        let mut sums = WeightedSums::new(spec.aggregation, n);
        for column in &indicators {
            sums.add(column.spec.weight, &column.standardised);
        }
        Self {
            weight: IndexSpec::dimension_weight(spec),
            indicators,
            scores: (0..n).map(|u| sums.combine(u)).collect(),
            inner: sums.weighted,
        }
    }
}

/// Per unit, the sums a weighted mean of (weight, score) pairs needs, added one column of
/// scores at a time; a unit without a score in a column skips it. The sums start where
/// `Iterator::sum` starts (-0.0) and take the columns in order, so they equal sums taken unit
/// by unit to the last bit.
struct WeightedSums {
    aggregation: Aggregation,
    /// How many scores each unit has.
    count: Vec<u32>,
    weight: Vec<f64>,
    /// Σ weight × score.
    weighted: Vec<f64>,
    /// Σ weight × ln(score), for a geometric mean.
    log: Vec<f64>,
    /// Whether a score with weight is zero or less, for a geometric mean.
    nil: Vec<bool>,
}

impl WeightedSums {
    fn new(aggregation: Aggregation, n: usize) -> Self {
        let geometric = aggregation == Aggregation::Geometric;
        Self {
            aggregation,
            count: vec![0; n],
            weight: vec![-0.0; n],
            weighted: vec![-0.0; n],
            log: if geometric { vec![-0.0; n] } else { Vec::new() },
            nil: if geometric {
                vec![false; n]
            } else {
                Vec::new()
            },
        }
    }

    fn add(&mut self, weight: f64, scores: &[Option<f64>]) {
        for (u, score) in scores.iter().enumerate() {
            let Some(s) = *score else { continue };
            self.count[u] += 1;
            self.weight[u] += weight;
            self.weighted[u] += weight * s;
            if self.aggregation == Aggregation::Geometric {
                self.log[u] += weight * s.ln();
                self.nil[u] |= weight > 0.0 && s <= 0.0;
            }
        }
    }

    /// Unit `u`'s weighted mean; none when nothing carries weight.
    fn combine(&self, u: usize) -> Option<f64> {
        let weight = self.weight[u];
        if self.count[u] == 0 || weight <= 0.0 {
            return None;
        }
        Some(match self.aggregation {
            Aggregation::Arithmetic => self.weighted[u] / weight,
            Aggregation::Geometric if self.nil[u] => 0.0,
            Aggregation::Geometric => (self.log[u] / weight).exp(),
        })
    }
}

/// Unit `u`'s dimension and indicator rows: contributions are shares of the total that add
/// up to it, by dimension and then by indicator within the dimension.
fn explain(
    dimensions: &[DimensionColumns],
    indicators: usize,
    u: usize,
    total: f64,
    weighted_sum: f64,
) -> (Vec<DimensionScore>, Vec<IndicatorScore>) {
    let mut dimension_rows = Vec::with_capacity(dimensions.len());
    let mut indicator_rows = Vec::with_capacity(indicators);
    for dimension in dimensions {
        let score = dimension.scores[u].unwrap_or(0.0);
        let contribution = if weighted_sum > 0.0 {
            total * dimension.weight * score / weighted_sum
        } else {
            0.0
        };
        let inner = dimension.inner[u];
        for column in &dimension.indicators {
            let standardised = column.standardised[u];
            let share = match standardised {
                Some(s) if inner > 0.0 => contribution * column.spec.weight * s / inner,
                _ => 0.0,
            };
            let working = &column.working;
            indicator_rows.push(IndicatorScore {
                raw: column.raw[u],
                transformed: working.steps.iter().map(|step| step[u]).collect(),
                target: working.targets.as_ref().and_then(|t| t[u]),
                standardised,
                contribution: share,
            });
        }
        dimension_rows.push(DimensionScore {
            score,
            contribution,
        });
    }
    (dimension_rows, indicator_rows)
}

/// Summary statistics of the present values.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    min: f64,
    max: f64,
    mean: f64,
    sd: f64,
    n: usize,
}

impl Stats {
    fn of(values: &[Option<f64>]) -> Self {
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        let n = present.len();
        if n == 0 {
            return Self::default();
        }
        let mean = present.iter().sum::<f64>() / n as f64;
        let var = present.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        Self {
            min: present.iter().copied().fold(f64::INFINITY, f64::min),
            max: present.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean,
            sd: var.sqrt(),
            n,
        }
    }

    fn to_map(self) -> Map {
        let mut map = Map::new();
        map.insert("min".into(), self.min.into());
        map.insert("max".into(), self.max.into());
        map.insert("mean".into(), self.mean.into());
        map.insert("sd".into(), self.sd.into());
        map.insert("n".into(), (self.n as i64).into());
        map
    }
}

/// Transforms, standardises, orients and fills one indicator for all units.
fn standardise(
    sandbox: &Sandbox,
    script: &Script,
    indicator: &IndicatorSpec,
    raw_values: &[Option<f64>],
    raw: &RawTable,
) -> Result<(Vec<Option<f64>>, Working), RuleError> {
    let unit_error = |u: usize, what: String| {
        not_a_number(
            script,
            raw.units[u],
            format!(
                "indicator `{}`: {what} for org unit {}",
                indicator.key, raw.units[u]
            ),
        )
    };
    if let Some(u) = raw_values
        .iter()
        .position(|v| v.is_some_and(|x| !x.is_finite()))
    {
        return Err(unit_error(
            u,
            format!(
                "the figure `{}` is {}, not a finite number (a sum too large to hold?)",
                indicator.raw,
                raw_values[u].unwrap_or_default()
            ),
        ));
    }
    let mut values: Vec<Option<f64>> = raw_values
        .iter()
        .map(|v| match (v, indicator.missing) {
            (None, Missing::Zero) => Some(0.0),
            (v, _) => *v,
        })
        .collect();
    let mut steps = Vec::with_capacity(indicator.transform.len());
    for transform in &indicator.transform {
        if let Err((u, before, after)) = apply(transform, &mut values) {
            return Err(unit_error(
                u,
                format!(
                    "{} of {before} is {after}, not a number (the transform needs another figure, or `missing`)",
                    transform.name()
                ),
            ));
        }
        steps.push(values.clone());
    }
    let stats = Stats::of(&values);
    let mut working = Working {
        method: method_of(indicator, &stats),
        steps,
        targets: None,
    };
    let mut scores: Vec<Option<f64>> = match &indicator.standardise {
        Standardise::MinMax => values
            .iter()
            .map(|v| {
                v.map(|x| {
                    if stats.max > stats.min {
                        (x - stats.min) / (stats.max - stats.min) * TOP
                    } else if stats.max > 0.0 {
                        // All equal and above zero: no unit is behind another.
                        TOP
                    } else {
                        0.0
                    }
                })
            })
            .collect(),
        Standardise::ZScore => values
            .iter()
            .map(|v| {
                v.map(|x| {
                    let z = if stats.sd > 0.0 {
                        (x - stats.mean) / stats.sd
                    } else {
                        0.0
                    };
                    (TOP / 2.0 + TOP / 10.0 * z).clamp(0.0, TOP)
                })
            })
            .collect(),
        Standardise::Rank => percentile_ranks(&values),
        Standardise::Goalposts(low, high) => values
            .iter()
            .map(|v| v.map(|x| ((x - low) / (high - low)).clamp(0.0, 1.0) * TOP))
            .collect(),
        Standardise::Target(target) => values
            .iter()
            .map(|v| v.map(|x| (x / target).clamp(0.0, 1.0) * TOP))
            .collect(),
        Standardise::TargetMetric(metric) => {
            // A unit without its own target has no score here: the missing-value policy
            // decides (units of a level that carries no such target at all included).
            let none = vec![None; values.len()];
            let targets = raw.targets.get(metric).unwrap_or(&none);
            working.targets = Some(targets.clone());
            values
                .iter()
                .zip(targets)
                .map(|(v, t)| match (v, t) {
                    (Some(x), Some(t)) if *t > 0.0 => Some((x / t).clamp(0.0, 1.0) * TOP),
                    _ => None,
                })
                .collect()
        }
        Standardise::Custom(function) => {
            let stats_map = stats.to_map();
            let mut out = Vec::with_capacity(values.len());
            for v in &values {
                out.push(match v {
                    Some(x) => {
                        let result = sandbox.call(script, function, (*x, stats_map.clone()))?;
                        let number = result
                            .as_float()
                            .or_else(|_| result.as_int().map(|i| i as f64))
                            .map_err(|t| {
                                RuleError::new(
                                    &script.name,
                                    format!("`{function}` must return a number, not {t}"),
                                )
                            })?;
                        if !number.is_finite() {
                            let u = out.len();
                            return Err(unit_error(
                                u,
                                format!("`{function}({x}, stats)` returned {number}, not a finite number"),
                            ));
                        }
                        Some(number.clamp(0.0, TOP))
                    }
                    None => None,
                });
            }
            out
        }
    };
    if let Some(u) = scores
        .iter()
        .position(|s| s.is_some_and(|x| !x.is_finite()))
    {
        return Err(unit_error(
            u,
            format!(
                "the standardised score of {} is not a number (the figures of the units span more than a number can hold?)",
                values[u].unwrap_or_default()
            ),
        ));
    }
    if indicator.direction == Direction::Lower {
        for s in scores.iter_mut().flatten() {
            *s = TOP - *s;
        }
    }
    let fill = match indicator.missing {
        Missing::Worst => scores.iter().flatten().copied().reduce(f64::min),
        Missing::Mean => {
            let present: Vec<f64> = scores.iter().flatten().copied().collect();
            (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
        }
        Missing::Zero | Missing::Exclude => None,
    };
    if let Some(fill) = fill {
        for s in scores.iter_mut() {
            s.get_or_insert(fill);
        }
    }
    Ok((scores, working))
}

/// The method of `indicator` as it was applied to figures with `stats` (after transforms).
fn method_of(indicator: &IndicatorSpec, stats: &Stats) -> Method {
    let present = stats.n > 0;
    let mut method = Method {
        transforms: indicator.transform.iter().map(|t| t.name()).collect(),
        name: String::new(),
        low: None,
        high: None,
        mean: None,
        sd: None,
        target: None,
        target_metric: None,
        function: None,
        lower_is_better: indicator.direction == Direction::Lower,
        missing: match indicator.missing {
            Missing::Zero => "zero",
            Missing::Worst => "worst",
            Missing::Mean => "mean",
            Missing::Exclude => "exclude",
        }
        .into(),
    };
    match &indicator.standardise {
        Standardise::MinMax => {
            (method.low, method.high) =
                (present.then_some(stats.min), present.then_some(stats.max));
        }
        Standardise::ZScore => {
            (method.mean, method.sd) = (present.then_some(stats.mean), present.then_some(stats.sd));
        }
        Standardise::Rank => {}
        Standardise::Goalposts(low, high) => (method.low, method.high) = (Some(*low), Some(*high)),
        Standardise::Target(target) => method.target = Some(*target),
        Standardise::TargetMetric(metric) => method.target_metric = Some(metric.clone()),
        Standardise::Custom(function) => method.function = Some(function.clone()),
    }
    method.name = indicator.standardise.name().into();
    method
}

/// Applies a transform to every present value; a value it turns into no finite number is
/// an error: the unit's position, the value before and after.
fn apply(transform: &Transform, values: &mut [Option<f64>]) -> Result<(), (usize, f64, f64)> {
    let each = |values: &mut [Option<f64>], f: &dyn Fn(f64) -> f64| {
        for (u, value) in values.iter_mut().enumerate() {
            if let Some(x) = value {
                let y = f(*x);
                if !y.is_finite() {
                    return Err((u, *x, y));
                }
                *x = y;
            }
        }
        Ok(())
    };
    match transform {
        Transform::Log1p => each(values, &|x| x.max(0.0).ln_1p()),
        Transform::Ln => each(values, &f64::ln),
        Transform::Log10 => each(values, &f64::log10),
        Transform::Power(p) => each(values, &|x| x.powf(*p)),
        Transform::Cap(cap) => each(values, &|x| x.min(*cap)),
        Transform::Winsorise(q) => {
            let mut present: Vec<f64> = values.iter().flatten().copied().collect();
            if present.is_empty() {
                return Ok(());
            }
            present.sort_by(f64::total_cmp);
            let index = ((present.len() - 1) as f64 * q).round() as usize;
            let cap = present[index.min(present.len() - 1)];
            each(values, &|x| x.min(cap))
        }
    }
}

/// Percentile ranks 0–100; ties share their mean rank.
fn percentile_ranks(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut present: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|x| (i, x)))
        .collect();
    let n = present.len();
    let mut out = vec![None; values.len()];
    if n == 0 {
        return out;
    }
    present.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end + 1 < n && present[end + 1].1 == present[start].1 {
            end += 1;
        }
        let mean_position = (start + end) as f64 / 2.0;
        let pct = if n > 1 {
            mean_position / (n - 1) as f64 * TOP
        } else {
            TOP
        };
        for (i, _) in &present[start..=end] {
            out[*i] = Some(pct);
        }
        start = end + 1;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn run(body: &str, figures: &[(&str, Vec<Option<f64>>)]) -> Vec<UnitScore> {
        try_run(body, figures).unwrap()
    }

    fn run_err(body: &str, figures: &[(&str, Vec<Option<f64>>)]) -> RuleError {
        try_run(body, figures).err().unwrap()
    }

    fn try_run(
        body: &str,
        figures: &[(&str, Vec<Option<f64>>)],
    ) -> Result<Vec<UnitScore>, RuleError> {
        let (sandbox, script, spec, raw) = setup(body, figures);
        score(&sandbox, &script, &spec, &raw)
    }

    /// A script's declaration and a table of units 1, 2, … with `figures`.
    pub(crate) fn setup(
        body: &str,
        figures: &[(&str, Vec<Option<f64>>)],
    ) -> (Sandbox, Script, IndexSpec, RawTable) {
        let sandbox = Sandbox::new();
        let script = sandbox.compile("t.rhai", body).unwrap();
        let spec = IndexSpec::from_script(&sandbox, &script).unwrap();
        let n = figures[0].1.len();
        let raw = RawTable {
            units: (1..=n as i64).collect(),
            figures: figures
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            targets: HashMap::new(),
        };
        (sandbox, script, spec, raw)
    }

    const TWO: &str = r#"fn index() { #{ name: "t", version: "1", effective_from: "2017-10", dimensions: [
        #{ key: "d1", indicators: [ #{ key: "a", raw: "a", weight: 60.0 } ] },
        #{ key: "d2", indicators: [ #{ key: "b", raw: "b", weight: 40.0, direction: "lower" } ] } ] } }"#;

    #[test]
    fn an_explanation_shows_each_transform_the_method_and_what_it_took_from_the_units() {
        let body = r#"fn index() { #{ name: "t", version: "1", effective_from: "2017-10", dimensions: [
            #{ key: "d", indicators: [
                #{ key: "a", raw: "a", weight: 50.0, transform: ["log1p", #{ power: 2.0 }] },
                #{ key: "b", raw: "b", weight: 50.0, standardise: #{ goalposts: [20, 85] },
                   direction: "lower", missing: "worst" } ] } ] } }"#;
        let scores = run(
            body,
            &[
                ("a", vec![Some(0.0), Some(9.0), Some(99.0)]),
                ("b", vec![Some(30.0), Some(85.0), None]),
            ],
        );
        let unit = scores.iter().find(|s| s.unit == 2).unwrap();
        let ln10 = 10f64.ln();
        assert_eq!(unit.indicators[0].raw, Some(9.0));
        let steps = &unit.indicators[0].transformed;
        assert_eq!(steps.len(), 2);
        assert!((steps[0].unwrap() - ln10).abs() < 1e-12, "{steps:?}");
        assert!((steps[1].unwrap() - ln10 * ln10).abs() < 1e-12, "{steps:?}");
        // Min–max over the transformed figures: 0 and ln(100)² bound them.
        let a = unit.labels.indicators[0].method.as_ref().unwrap();
        assert_eq!(
            (a.name.as_str(), a.transforms.clone()),
            ("min_max", vec!["log1p".to_owned(), "power 2".to_owned()])
        );
        assert_eq!(a.low, Some(0.0));
        assert!((a.high.unwrap() - 100f64.ln().powi(2)).abs() < 1e-9);
        let expected = ln10 * ln10 / 100f64.ln().powi(2) * 100.0;
        assert!((unit.indicators[0].standardised.unwrap() - expected).abs() < 1e-9);
        // Fixed goalposts, lower figures better, a missing figure given the worst score.
        let b = unit.labels.indicators[1].method.as_ref().unwrap();
        assert_eq!(
            (b.name.as_str(), b.low, b.high),
            ("goalposts", Some(20.0), Some(85.0))
        );
        assert!(b.lower_is_better && b.missing == "worst" && b.transforms.is_empty());
        assert!(unit.indicators[1].transformed.is_empty());
        assert_eq!(
            unit.indicators[1].standardised,
            Some(0.0),
            "85 is the worst end"
        );
        let missing = scores.iter().find(|s| s.unit == 3).unwrap();
        assert_eq!(
            (
                missing.indicators[1].raw,
                missing.indicators[1].standardised
            ),
            (None, Some(0.0))
        );
        // Kept and read back as stored rankings are.
        let stored: UnitScore =
            serde_json::from_str(&serde_json::to_string(unit).unwrap()).unwrap();
        assert_eq!(&stored, unit);
    }

    #[test]
    fn min_max_scores_and_weights_give_the_total_and_contributions_add_up() {
        let scores = run(
            TWO,
            &[
                ("a", vec![Some(0.0), Some(10.0), Some(5.0)]),
                ("b", vec![Some(1.0), Some(3.0), Some(2.0)]),
            ],
        );
        // unit 1: a 0 → 0, b lowest → 100: 40; unit 2: a 100, b 0: 60; unit 3: 50, 50: 50.
        let by_unit: HashMap<i64, &UnitScore> = scores.iter().map(|s| (s.unit, s)).collect();
        assert!((by_unit[&1].total - 40.0).abs() < 1e-9);
        assert!((by_unit[&2].total - 60.0).abs() < 1e-9);
        assert!((by_unit[&3].total - 50.0).abs() < 1e-9);
        assert_eq!(
            scores.iter().map(|s| s.unit).collect::<Vec<_>>(),
            vec![2, 3, 1]
        );
        for s in &scores {
            let sum: f64 = s.indicators.iter().map(|i| i.contribution).sum();
            assert!(
                (sum - s.total).abs() < 1e-9,
                "contributions explain the total"
            );
        }
    }

    #[test]
    fn equal_totals_share_a_rank() {
        let scores = run(
            TWO,
            &[
                ("a", vec![Some(1.0), Some(1.0), Some(0.0)]),
                ("b", vec![Some(1.0), Some(1.0), Some(1.0)]),
            ],
        );
        let ranks: Vec<u32> = scores.iter().map(|s| s.rank).collect();
        assert_eq!(ranks, vec![1, 1, 3]);
    }

    #[test]
    fn percentile_ranks_share_ties() {
        let ranks = percentile_ranks(&[Some(1.0), Some(2.0), Some(2.0), Some(3.0), None]);
        assert_eq!(
            ranks,
            vec![Some(0.0), Some(50.0), Some(50.0), Some(100.0), None]
        );
    }

    #[test]
    fn an_excluded_missing_value_lets_the_other_indicators_carry_the_weight() {
        let body = r#"fn index() { #{ name: "t", version: "1", effective_from: "2017-10", dimensions: [
            #{ key: "d", indicators: [ #{ key: "a", raw: "a", weight: 50.0, missing: "exclude" },
                                       #{ key: "b", raw: "b", weight: 50.0 } ] } ] } }"#;
        let scores = run(
            body,
            &[
                ("a", vec![None, Some(1.0)]),
                ("b", vec![Some(1.0), Some(0.0)]),
            ],
        );
        let unit1 = scores.iter().find(|s| s.unit == 1).unwrap();
        assert!(
            (unit1.total - 100.0).abs() < 1e-9,
            "b alone counts for unit 1"
        );
        assert_eq!(unit1.indicators[0].standardised, None);
    }

    #[test]
    fn a_custom_method_of_the_script_scores_each_unit() {
        let body = r#"fn index() { #{ name: "t", version: "1", effective_from: "2017-10", dimensions: [
            #{ key: "d", indicators: [ #{ key: "a", raw: "a", weight: 100.0, standardise: #{ custom: "half_of_max" } } ] } ] } }
            fn half_of_max(x, stats) { if x >= stats.max / 2.0 { 100.0 } else { 0.0 } }"#;
        let scores = run(body, &[("a", vec![Some(1.0), Some(10.0), Some(6.0)])]);
        let totals: HashMap<i64, f64> = scores.iter().map(|s| (s.unit, s.total)).collect();
        assert_eq!(totals[&1], 0.0);
        assert_eq!(totals[&2], 100.0);
        assert_eq!(totals[&3], 100.0);
    }

    fn one(method: &str) -> String {
        format!(
            r#"fn index() {{ #{{ name: "t", version: "1", effective_from: "2017-10", dimensions: [
            #{{ key: "d", indicators: [ #{{ key: "a", raw: "a", weight: 100.0, {method} }} ] }} ] }} }}
            fn nan(x, stats) {{ 0.0 / 0.0 }}
            fn huge(x, stats) {{ if x > 1.0 {{ 1.0 / 0.0 }} else {{ 1.0 }} }}"#
        )
    }

    #[test]
    fn a_value_that_is_not_a_number_is_an_error_naming_the_indicator_and_the_unit() {
        let err = run_err(
            &one(r#"standardise: #{ custom: "nan" }"#),
            &[("a", vec![Some(1.0), Some(2.0)])],
        );
        assert_eq!(err.unit, Some(1));
        assert!(
            err.message.contains("indicator `a`") && err.message.contains("org unit 1"),
            "{err}"
        );
        assert!(err.message.contains("NaN"), "{err}");
        // Infinity is not clamped to 100 either.
        let err = run_err(
            &one(r#"standardise: #{ custom: "huge" }"#),
            &[("a", vec![Some(1.0), Some(2.0)])],
        );
        assert_eq!(err.unit, Some(2), "{err}");
        assert!(err.message.contains("inf"), "{err}");
        // A figure too large to add up.
        let err = run_err(&one(""), &[("a", vec![Some(f64::INFINITY), Some(1.0)])]);
        assert!(err.message.contains("not a finite number"), "{err}");
        // The logarithm of zero.
        let err = run_err(
            &one(r#"transform: ["ln"]"#),
            &[("a", vec![Some(3.0), Some(0.0)])],
        );
        assert_eq!(err.unit, Some(2), "{err}");
        assert!(err.message.contains("ln of 0"), "{err}");
        // Figures spanning more than a float holds.
        let err = run_err(&one(""), &[("a", vec![Some(-1.7e308), Some(1.7e308)])]);
        assert!(err.message.contains("standardised"), "{err}");
    }

    #[test]
    fn logarithms_and_powers_transform_exactly() {
        for (transform, expected) in [
            (r#""ln""#, 1.0f64.exp()),
            (r#""log10""#, 10.0),
            (r#"#{ power: 0.5 }"#, 1.0),
        ] {
            let body = format!(
                r#"fn index() {{ #{{ name: "t", version: "1", effective_from: "2017-10", dimensions: [
                #{{ key: "d", indicators: [ #{{ key: "a", raw: "a", weight: 100, transform: [{transform}], standardise: #{{ goalposts: [0, 2] }} }} ] }} ] }} }}"#
            );
            // ln e = 1, log10 10 = 1, √1 = 1: half way between the goalposts.
            let scores = run(&body, &[("a", vec![Some(expected)])]);
            assert!((scores[0].total - 50.0).abs() < 1e-12, "{transform}");
        }
    }

    #[test]
    fn a_unit_with_none_of_the_figures_is_not_ranked() {
        let body = r#"fn index() { #{ name: "t", version: "1", effective_from: "2017-10", dimensions: [
            #{ key: "d", indicators: [ #{ key: "a", raw: "a", weight: 100.0, missing: "exclude" } ] } ] } }"#;
        let scores = run(body, &[("a", vec![Some(1.0), None, Some(3.0)])]);
        assert_eq!(
            scores.iter().map(|s| (s.unit, s.rank)).collect::<Vec<_>>(),
            vec![(3, 1), (1, 2)]
        );
    }

    #[test]
    fn transforms_and_goalposts_cap_the_scores() {
        let body = r#"fn index() { #{ name: "t", version: "1", effective_from: "2017-10", dimensions: [
            #{ key: "d", aggregation: "geometric", indicators: [
                #{ key: "a", raw: "a", weight: 100.0, transform: [#{ cap: 10.0 }], standardise: #{ goalposts: [0.0, 20.0] } } ] } ] } }"#;
        let scores = run(body, &[("a", vec![Some(5.0), Some(1000.0)])]);
        let totals: HashMap<i64, f64> = scores.iter().map(|s| (s.unit, s.total)).collect();
        assert!((totals[&1] - 25.0).abs() < 1e-9);
        assert!((totals[&2] - 50.0).abs() < 1e-9);
    }
}
