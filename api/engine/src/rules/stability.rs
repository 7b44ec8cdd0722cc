//! How sure a ranking is: Monte Carlo over the weights (and optionally the standardisation
//! method) of an index, as the uncertainty analysis of the OECD/JRC *Handbook on
//! Constructing Composite Indicators* (2008, §6) and COINr's `get_sensitivity` do.
//!
//! Each sample multiplies every weight perturbed by a factor drawn uniformly from
//! `[1 − spread, 1 + spread]` and rescales the perturbed weights to their declared sum (so
//! that weights the source states stay as stated when only the assumed ones move); with
//! methods to swap, it also draws one standardisation method for every indicator standardised
//! by one of them. Every unit's total is then recomputed with the index's own aggregation
//! and the units are ranked. Per unit: the median rank, the 5 % and 95 % ranks and the share
//! of samples keeping the rank of the declared weights. Per factor (each weight perturbed, and
//! the method): its first-order sensitivity index on the units' ranks, estimated from the
//! samples by binning (Saltelli et al., *Global Sensitivity Analysis: The Primer*,
//! 2008, §1.2.6). Deterministic for a seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{
    compute::{rank_positions, ranked_units, standardised_columns, totals_with, RawTable},
    spec::{IndexSpec, Standardise},
    RuleError, Sandbox, Script,
};

/// What to vary, and how often.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Monte Carlo samples.
    pub samples: u32,
    /// The seed of the draws: the same seed gives the same result.
    pub seed: u64,
    /// How far each weight may move (0.25: ±25 %); the script's when none.
    pub spread: Option<f64>,
    /// Perturb only the weights the script marks `assumed`.
    pub assumed_only: bool,
    /// Swap the standardisation method among those the script allows.
    pub vary_methods: bool,
}

/// The result of an analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stability {
    pub samples: u32,
    pub seed: u64,
    pub spread: f64,
    /// The indicators whose weights were perturbed, in the script's order.
    pub perturbed: Vec<String>,
    /// The standardisation methods drawn from; empty when the declared ones were kept.
    pub methods: Vec<String>,
    /// Every unit ranked, in the order of its rank under the declared weights.
    pub units: Vec<UnitStability>,
    /// Each factor varied, the one the ranking is most sensitive to first.
    pub sensitivity: Vec<Sensitivity>,
    /// The mean over samples of the mean absolute rank shift of the units: how far, on
    /// average, a unit moves from its rank.
    pub mean_rank_shift: f64,
}

/// One unit's ranks over the samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitStability {
    pub unit: i64,
    /// Its rank under the declared weights and methods.
    pub rank: u32,
    /// Its total under them.
    pub total: f64,
    pub median_rank: f64,
    /// The 5th and 95th percentiles of its rank (nearest rank).
    pub rank_low: u32,
    pub rank_high: u32,
    /// The share of samples (0–1) in which it keeps `rank`.
    pub keeps_rank: f64,
}

/// How much of the ranks' variation one factor explains alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sensitivity {
    /// An indicator's key, or `standardisation` for the choice of method.
    pub factor: String,
    pub label: Option<String>,
    /// The declared weight (none for the method).
    pub weight: Option<f64>,
    pub assumed: bool,
    /// First-order index, 0–1: the share of the variance of the units' ranks this factor
    /// explains alone.
    pub first_order: f64,
}

/// The factor name of the choice of standardisation method.
pub const METHOD_FACTOR: &str = "standardisation";

/// The most units × samples one analysis draws ranks for (a bound on its memory, 4 bytes
/// each, and time).
pub const MAX_DRAWS: u64 = 20_000_000;

/// Bins of the estimator of first-order indices (fewer when samples are few).
const BINS: usize = 20;

/// Why an analysis could not be made.
#[derive(Debug)]
pub enum StabilityError {
    /// The request asks for what the script or the units cannot give: the option at fault
    /// (`spread`, `samples`, `assumedOnly`, `varyMethods`) and why.
    Request(&'static str, String),
    /// The script failed while scoring.
    Rule(RuleError),
}

impl From<RuleError> for StabilityError {
    fn from(e: RuleError) -> Self {
        Self::Rule(e)
    }
}

impl std::fmt::Display for StabilityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Request(option, message) => write!(f, "{option}: {message}"),
            Self::Rule(e) => write!(f, "{e}"),
        }
    }
}

/// Analyses the ranking of `raw` under `spec`. Errors name what the request or the script
/// lacks: no spread, nothing to perturb, no methods to swap, too many draws.
pub fn analyse(
    sandbox: &Sandbox,
    script: &Script,
    spec: &IndexSpec,
    raw: &RawTable,
    options: &Options,
) -> Result<Stability, StabilityError> {
    let declared = spec.uncertainty.as_ref();
    let spread = options
        .spread
        .or(declared.map(|u| u.spread))
        .ok_or_else(|| {
            StabilityError::Request("spread", format!(
                "{} declares no `uncertainty: #{{ spread: … }}`: give the spread of the weights (0.25: ±25 %)",
                script.name
            ))
        })?;
    if !spread.is_finite() || spread <= 0.0 || spread > 1.0 {
        return Err(StabilityError::Request(
            "spread",
            format!("the spread is a share above 0 and at most 1 (0.25: ±25 %), got {spread}"),
        ));
    }
    if options.samples == 0 {
        return Err(StabilityError::Request(
            "samples",
            "ask for at least one sample".into(),
        ));
    }
    let indicators: Vec<_> = spec.indicators().map(|(_, i)| i).collect();
    let perturbed: Vec<usize> = (0..indicators.len())
        .filter(|&i| indicators[i].weight > 0.0 && (!options.assumed_only || indicators[i].assumed))
        .collect();
    if perturbed.is_empty() {
        return Err(StabilityError::Request(
            "assumedOnly",
            if options.assumed_only {
                format!("{} marks no weight `assumed: true`: with only the assumed weights there is nothing to perturb", script.name)
            } else {
                "the index has no weight above zero to perturb".into()
            },
        ));
    }
    let methods: Vec<Standardise> = if options.vary_methods {
        let names = declared.map(|u| u.methods.as_slice()).unwrap_or_default();
        if names.len() < 2 {
            return Err(StabilityError::Request(
                "varyMethods",
                format!("{} allows no other standardisation method: it would declare `uncertainty: #{{ methods: [\"min_max\", \"z_score\", \"rank\"] }}`", script.name),
            ));
        }
        names
            .iter()
            .filter_map(|m| Standardise::swappable(m))
            .collect()
    } else {
        Vec::new()
    };
    let ranked = ranked_units(spec, raw);
    let positions: Vec<usize> = (0..raw.units.len()).filter(|&u| ranked[u]).collect();
    let n = positions.len();
    let draws = n as u64 * u64::from(options.samples);
    if draws > MAX_DRAWS {
        return Err(StabilityError::Request(
            "samples",
            format!(
                "{n} units × {} samples is {draws} ranks to draw, more than {MAX_DRAWS}: ask for at most {} samples",
                options.samples,
                MAX_DRAWS / (n as u64).max(1)
            ),
        ));
    }

    // The scores of every method drawn from, computed once: [method][indicator][unit].
    let base_columns = standardised_columns(sandbox, script, spec, raw)?;
    let mut variants = Vec::with_capacity(methods.len());
    for method in &methods {
        let mut swapped = spec.clone();
        for dimension in &mut swapped.dimensions {
            for indicator in &mut dimension.indicators {
                if methods.contains(&indicator.standardise) {
                    indicator.standardise = method.clone();
                }
            }
        }
        variants.push(standardised_columns(sandbox, script, &swapped, raw)?);
    }

    let weights: Vec<f64> = indicators.iter().map(|i| i.weight).collect();
    let perturbed_sum: f64 = perturbed.iter().map(|&i| weights[i]).sum();
    let mut totals = vec![0.0; raw.units.len()];
    let mut order = Vec::with_capacity(n);
    let mut base_ranks = vec![0u32; n];
    totals_with(spec, &weights, &base_columns, &mut totals);
    rank_positions(&totals, &raw.units, &positions, &mut order, &mut base_ranks);
    let base_totals: Vec<f64> = positions.iter().map(|&u| totals[u]).collect();

    let samples = options.samples as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    // by_sample[s * n + k]: the rank of the k-th ranked unit in sample s (written in order;
    // turned unit by unit once drawn).
    let mut by_sample = vec![0u32; n * samples];
    let mut factors = vec![0.0f64; perturbed.len() * samples];
    let mut method_drawn = vec![0usize; if methods.is_empty() { 0 } else { samples }];
    let mut shift = vec![0.0f64; samples];
    let mut sample_weights = weights.clone();
    for s in 0..samples {
        let mut sum = 0.0;
        for (f, &i) in perturbed.iter().enumerate() {
            let factor = rng.random_range(1.0 - spread..=1.0 + spread);
            factors[f * samples + s] = factor;
            sample_weights[i] = weights[i] * factor;
            sum += sample_weights[i];
        }
        if sum > 0.0 {
            for &i in &perturbed {
                sample_weights[i] *= perturbed_sum / sum;
            }
        }
        let columns = if methods.is_empty() {
            &base_columns
        } else {
            let m = rng.random_range(0..methods.len());
            method_drawn[s] = m;
            &variants[m]
        };
        totals_with(spec, &sample_weights, columns, &mut totals);
        let sample_ranks = &mut by_sample[s * n..(s + 1) * n];
        rank_positions(&totals, &raw.units, &positions, &mut order, sample_ranks);
        let moved: u64 = sample_ranks
            .iter()
            .zip(&base_ranks)
            .map(|(&r, &b)| u64::from(r.abs_diff(b)))
            .sum();
        shift[s] = if n > 0 { moved as f64 / n as f64 } else { 0.0 };
    }
    // ranks[k * samples + s]: the same, unit by unit.
    let mut ranks = vec![0u32; n * samples];
    const BLOCK: usize = 64;
    for s0 in (0..samples).step_by(BLOCK) {
        for k0 in (0..n).step_by(BLOCK) {
            for s in s0..(s0 + BLOCK).min(samples) {
                for k in k0..(k0 + BLOCK).min(n) {
                    ranks[k * samples + s] = by_sample[s * n + k];
                }
            }
        }
    }
    drop(by_sample);

    let mut sensitivity: Vec<Sensitivity> = perturbed
        .iter()
        .enumerate()
        .map(|(f, &i)| Sensitivity {
            factor: indicators[i].key.clone(),
            label: indicators[i].label.clone(),
            weight: Some(weights[i]),
            assumed: indicators[i].assumed,
            first_order: first_order(
                &bins_of(&factors[f * samples..(f + 1) * samples]),
                &ranks,
                samples,
            ),
        })
        .collect();
    if !methods.is_empty() {
        sensitivity.push(Sensitivity {
            factor: METHOD_FACTOR.into(),
            label: None,
            weight: None,
            assumed: false,
            first_order: first_order(&(method_drawn.clone(), methods.len()), &ranks, samples),
        });
    }
    let mut units = Vec::with_capacity(n);
    for k in 0..n {
        let row = &mut ranks[k * samples..(k + 1) * samples];
        let keeps = row.iter().filter(|&&r| r == base_ranks[k]).count();
        row.sort_unstable();
        units.push(UnitStability {
            unit: raw.units[positions[k]],
            rank: base_ranks[k],
            total: base_totals[k],
            median_rank: median(row),
            rank_low: nearest_rank(row, 0.05),
            rank_high: nearest_rank(row, 0.95),
            keeps_rank: keeps as f64 / samples as f64,
        });
    }
    units.sort_by(|a, b| a.rank.cmp(&b.rank).then(a.unit.cmp(&b.unit)));

    sensitivity.sort_by(|a, b| b.first_order.total_cmp(&a.first_order));
    Ok(Stability {
        samples: options.samples,
        seed: options.seed,
        spread,
        perturbed: perturbed
            .iter()
            .map(|&i| indicators[i].key.clone())
            .collect(),
        methods: methods.iter().map(|m| m.name().to_owned()).collect(),
        units,
        sensitivity,
        mean_rank_shift: shift.iter().sum::<f64>() / samples as f64,
    })
}

/// The median of sorted ranks.
fn median(sorted: &[u32]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        f64::from(sorted[n / 2])
    } else {
        (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0
    }
}

/// The `q` quantile of sorted ranks by the nearest-rank method.
fn nearest_rank(sorted: &[u32], q: f64) -> u32 {
    let n = sorted.len();
    let at = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[at - 1]
}

/// Equal-count bins of the draws `x` of one factor: each sample's bin, and how many bins.
fn bins_of(x: &[f64]) -> (Vec<usize>, usize) {
    let n = x.len();
    let bins = BINS.min(n / 10).max(1);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut group = vec![0; n];
    for (position, &s) in order.iter().enumerate() {
        group[s] = position * bins / n;
    }
    (group, bins)
}

/// The first-order index of a factor whose draws fall in `groups` (each sample's group):
/// over all units, the share of the variance of their ranks that lies between the groups,
/// Σᵤ Var(E[rankᵤ | group]) / Σᵤ Var(rankᵤ) (0–1; 0 when no rank varies). `ranks` holds
/// each unit's ranks, `samples` at a time.
fn first_order((group, groups): &(Vec<usize>, usize), ranks: &[u32], samples: usize) -> f64 {
    let mut counts = vec![0usize; *groups];
    for &g in group {
        counts[g] += 1;
    }
    let mut sums = vec![0.0f64; *groups];
    let (mut between, mut total) = (0.0, 0.0);
    for row in ranks.chunks_exact(samples) {
        sums.iter_mut().for_each(|s| *s = 0.0);
        let mut all = 0.0;
        for (&g, &r) in group.iter().zip(row) {
            sums[g] += f64::from(r);
            all += f64::from(r);
        }
        let mean = all / samples as f64;
        total += row
            .iter()
            .map(|&r| (f64::from(r) - mean).powi(2))
            .sum::<f64>();
        between += sums
            .iter()
            .zip(&counts)
            .filter(|(_, &c)| c > 0)
            .map(|(&s, &c)| c as f64 * (s / c as f64 - mean).powi(2))
            .sum::<f64>();
    }
    if total <= 0.0 {
        0.0
    } else {
        (between / total).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::compute::{score, tests::setup};

    fn options(samples: u32, seed: u64) -> Options {
        Options {
            samples,
            seed,
            spread: None,
            assumed_only: false,
            vary_methods: false,
        }
    }

    const INDEX: &str = r#"fn index() { #{ name: "t", version: "1", effective_from: "2017-10",
        uncertainty: #{ spread: 0.5, methods: ["min_max", "rank"] },
        dimensions: [
            #{ key: "d1", indicators: [ #{ key: "a", raw: "a", weight: 40.0 },
                                        #{ key: "b", raw: "b", weight: 40.0, assumed: true } ] },
            #{ key: "d2", aggregation: "geometric",
               indicators: [ #{ key: "c", raw: "c", weight: 20.0, assumed: true, missing: "exclude" } ] } ] } }"#;

    fn figures() -> Vec<(&'static str, Vec<Option<f64>>)> {
        vec![
            // Units 1 and 2 tie: 1 is strong on a, 2 on b. Unit 3 leads on everything.
            (
                "a",
                vec![Some(8.0), Some(2.0), Some(10.0), Some(0.0), Some(1.0)],
            ),
            (
                "b",
                vec![Some(2.0), Some(8.0), Some(10.0), Some(0.0), Some(1.0)],
            ),
            ("c", vec![Some(5.0), Some(5.0), Some(10.0), Some(0.0), None]),
        ]
    }

    #[test]
    fn the_declared_weights_give_the_ranks_and_totals_of_scoring() {
        let (sandbox, script, spec, raw) = setup(INDEX, &figures());
        let scored = score(&sandbox, &script, &spec, &raw).unwrap();
        let result = analyse(&sandbox, &script, &spec, &raw, &options(50, 7)).unwrap();
        assert_eq!(result.units.len(), scored.len());
        for (u, s) in result.units.iter().zip(&scored) {
            assert_eq!(
                (u.unit, u.rank, u.total.to_bits()),
                (s.unit, s.rank, s.total.to_bits())
            );
        }
    }

    #[test]
    fn a_seed_gives_the_same_result_and_tied_units_have_a_wide_interval() {
        let (sandbox, script, spec, raw) = setup(INDEX, &figures());
        let one = analyse(&sandbox, &script, &spec, &raw, &options(2000, 42)).unwrap();
        let again = analyse(&sandbox, &script, &spec, &raw, &options(2000, 42)).unwrap();
        assert_eq!(one, again);
        let other = analyse(&sandbox, &script, &spec, &raw, &options(2000, 43)).unwrap();
        assert_ne!(one.units, other.units, "another seed draws otherwise");
        let of = |unit: i64| one.units.iter().find(|u| u.unit == unit).unwrap();
        // The leader keeps its rank in every sample.
        assert_eq!((of(3).rank, of(3).rank_low, of(3).rank_high), (1, 1, 1));
        assert_eq!(of(3).keeps_rank, 1.0);
        // Units 1 and 2 tie under the declared weights (rank 2 both) and swap places
        // whenever a or b weighs more: an interval of 2–3 and about half their samples off.
        assert_eq!((of(1).rank, of(2).rank), (2, 2));
        for unit in [1, 2] {
            let u = of(unit);
            assert_eq!((u.rank_low, u.rank_high), (2, 3), "{u:?}");
            assert!(u.keeps_rank > 0.3 && u.keeps_rank < 0.7, "{u:?}");
        }
        // The c weight moves nothing alone; a and b decide, together.
        let c = one.sensitivity.iter().find(|s| s.factor == "c").unwrap();
        let a = one.sensitivity.iter().find(|s| s.factor == "a").unwrap();
        assert!(a.first_order > c.first_order, "{:?}", one.sensitivity);
    }

    #[test]
    fn assumed_weights_alone_keep_the_stated_ones_and_the_methods_are_swapped() {
        let (sandbox, script, spec, raw) = setup(INDEX, &figures());
        let mut only = options(500, 1);
        only.assumed_only = true;
        let result = analyse(&sandbox, &script, &spec, &raw, &only).unwrap();
        assert_eq!(result.perturbed, ["b", "c"]);
        assert_eq!(result.spread, 0.5);
        only.vary_methods = true;
        let result = analyse(&sandbox, &script, &spec, &raw, &only).unwrap();
        assert_eq!(result.methods, ["min_max", "rank"]);
        assert!(result.sensitivity.iter().any(|s| s.factor == METHOD_FACTOR));
    }

    #[test]
    fn what_the_analysis_lacks_is_named() {
        let plain = r#"fn index() { #{ name: "t", version: "1", effective_from: "2017-10", dimensions: [
            #{ key: "d", indicators: [ #{ key: "a", raw: "a", weight: 100.0 } ] } ] } }"#;
        let (sandbox, script, spec, raw) = setup(plain, &[("a", vec![Some(1.0), Some(2.0)])]);
        let err = analyse(&sandbox, &script, &spec, &raw, &options(10, 1)).unwrap_err();
        assert!(err.to_string().contains("spread"), "{err}");
        let mut o = options(10, 1);
        o.spread = Some(0.2);
        o.assumed_only = true;
        let err = analyse(&sandbox, &script, &spec, &raw, &o).unwrap_err();
        assert!(err.to_string().contains("assumed"), "{err}");
        o.assumed_only = false;
        o.vary_methods = true;
        let err = analyse(&sandbox, &script, &spec, &raw, &o).unwrap_err();
        assert!(err.to_string().contains("methods"), "{err}");
        o.vary_methods = false;
        o.samples = u32::MAX;
        let err = analyse(&sandbox, &script, &spec, &raw, &o).unwrap_err();
        assert!(err.to_string().contains("at most"), "{err}");
        o.samples = 10;
        o.spread = Some(1.5);
        let err = analyse(&sandbox, &script, &spec, &raw, &o).unwrap_err();
        assert!(err.to_string().contains("at most 1"), "{err}");
    }

    #[test]
    fn a_declared_uncertainty_is_checked() {
        let sandbox = Sandbox::new();
        let body = r#"fn index() { #{ name: "t", version: "1", effective_from: "2017-10",
            uncertainty: #{ spread: 0.2, methods: ["min_max", "goalposts"] },
            dimensions: [ #{ key: "d", indicators: [ #{ key: "a", raw: "a", weight: 100.0 } ] } ] } }"#;
        let script = sandbox.compile("t.rhai", body).unwrap();
        let err = IndexSpec::from_script(&sandbox, &script).unwrap_err();
        assert_eq!(err.path.as_deref(), Some("uncertainty.methods[1]"), "{err}");
    }
}
