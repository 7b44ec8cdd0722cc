//! QII v2.0 written out in plain Rust: the weights, transforms and standardisation of
//! `rules/qii/v2.rhai` hard-coded, as the yardstick for the rules engine. It lives in the
//! bench only — the server takes every weight from the script — and the bench checks that
//! it agrees with the engine's results, so the comparison is honest.

use qii_engine::rules::compute::RawTable;

/// Scores run from 0 to this.
const TOP: f64 = 100.0;
/// Totals closer than this share a rank.
const TIE: f64 = 1e-9;

/// How an indicator's raw figure becomes a 0–100 score (a figure a unit lacks counts as 0).
enum Method {
    /// Min–max across the units.
    MinMax,
    /// `ln(1 + x)`, then min–max.
    Log1pMinMax,
    /// Share of the unit's own target for the metric, capped at 100 %; no score without one.
    OwnTarget(&'static str),
    /// Fixed bounds, capped at both ends.
    Goalposts(f64, f64),
}

struct Indicator {
    raw: &'static str,
    /// Percent of the index.
    weight: f64,
    method: Method,
}

const fn min_max(raw: &'static str, weight: f64) -> Indicator {
    Indicator {
        raw,
        weight,
        method: Method::MinMax,
    }
}

/// The dimensions of v2.0 and their indicators, in the script's order.
const DIMENSIONS: [&[Indicator]; 4] = [
    &[
        min_max("valid_questions", 2.0),
        min_max("answers", 2.0),
        min_max("topic_participations", 2.0),
        min_max("expert_answers", 2.0),
    ],
    &[min_max("eligible_activities", 40.0)],
    &[
        min_max("youth_homes", 2.0),
        min_max("youth_home_activities", 3.0),
        min_max("youth_home_signups", 3.0),
        min_max("youth_home_comments", 2.0),
        min_max("youth_home_rating_total", 2.0),
    ],
    &[
        Indicator {
            raw: "valid_visits",
            weight: 15.0,
            method: Method::Log1pMinMax,
        },
        Indicator {
            raw: "registrations",
            weight: 10.0,
            method: Method::OwnTarget("registrations"),
        },
        Indicator {
            raw: "mobile_binding_rate",
            weight: 7.0,
            method: Method::Goalposts(0.0, 0.5),
        },
        min_max("update_days", 8.0),
    ],
];

/// Indicators in all.
pub const INDICATORS: usize = 15;

/// One unit's result: what the engine explains, in plain arrays.
#[derive(Debug, Clone)]
pub struct Scored {
    pub unit: i64,
    pub total: f64,
    pub rank: u32,
    /// Each dimension's score, in the script's order.
    pub dimensions: [f64; 4],
    /// Each indicator's standardised score (none without a target), in the script's order.
    pub standardised: [Option<f64>; INDICATORS],
    /// Points of the total each indicator gives.
    pub contributions: [f64; INDICATORS],
}

/// Scores every unit of `raw`, best first.
pub fn score(raw: &RawTable) -> Vec<Scored> {
    let n = raw.units.len();
    let mut columns: Vec<Vec<Option<f64>>> = Vec::with_capacity(INDICATORS);
    for indicator in DIMENSIONS.iter().flat_map(|d| d.iter()) {
        let values: Vec<f64> = raw.figures[indicator.raw]
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .collect();
        columns.push(match indicator.method {
            Method::MinMax => min_max_scores(&values),
            Method::Log1pMinMax => {
                let logs: Vec<f64> = values.iter().map(|x| x.max(0.0).ln_1p()).collect();
                min_max_scores(&logs)
            }
            Method::OwnTarget(metric) => match raw.targets.get(metric) {
                Some(targets) => values
                    .iter()
                    .zip(targets)
                    .map(|(x, t)| match t {
                        Some(t) if *t > 0.0 => Some((x / t).clamp(0.0, 1.0) * TOP),
                        _ => None,
                    })
                    .collect(),
                None => vec![None; n],
            },
            Method::Goalposts(low, high) => values
                .iter()
                .map(|x| Some(((x - low) / (high - low)).clamp(0.0, 1.0) * TOP))
                .collect(),
        });
    }

    let mut out: Vec<Scored> = (0..n)
        .map(|u| {
            let mut standardised = [None; INDICATORS];
            for (i, column) in columns.iter().enumerate() {
                standardised[i] = column[u];
            }
            // A dimension weighs the sum of its indicators' weights; its score is the
            // weighted mean of the indicators that have one.
            let mut dimensions = [0.0; 4];
            let mut present = [false; 4];
            let mut i = 0;
            for (d, indicators) in DIMENSIONS.iter().enumerate() {
                let (mut sum, mut weight) = (0.0, 0.0);
                for indicator in indicators.iter() {
                    if let Some(s) = standardised[i] {
                        sum += indicator.weight * s;
                        weight += indicator.weight;
                    }
                    i += 1;
                }
                if weight > 0.0 {
                    dimensions[d] = sum / weight;
                    present[d] = true;
                }
            }
            let (mut sum, mut weight) = (0.0, 0.0);
            for (d, indicators) in DIMENSIONS.iter().enumerate() {
                if present[d] {
                    let w: f64 = indicators.iter().map(|i| i.weight).sum();
                    sum += w * dimensions[d];
                    weight += w;
                }
            }
            let total = if weight > 0.0 { sum / weight } else { 0.0 };
            // An indicator's points: its dimension's share of the total, split by the
            // indicators' weighted scores within the dimension.
            let mut contributions = [0.0; INDICATORS];
            let mut i = 0;
            for (d, indicators) in DIMENSIONS.iter().enumerate() {
                let w: f64 = indicators.iter().map(|i| i.weight).sum();
                let share = if sum > 0.0 {
                    total * w * dimensions[d] / sum
                } else {
                    0.0
                };
                let inner: f64 = indicators
                    .iter()
                    .enumerate()
                    .filter_map(|(k, ind)| standardised[i + k].map(|s| ind.weight * s))
                    .sum();
                for indicator in indicators.iter() {
                    if let Some(s) = standardised[i] {
                        if inner > 0.0 {
                            contributions[i] = share * indicator.weight * s / inner;
                        }
                    }
                    i += 1;
                }
            }
            Scored {
                unit: raw.units[u],
                total,
                rank: 0,
                dimensions,
                standardised,
                contributions,
            }
        })
        .collect();

    out.sort_by(|a, b| b.total.total_cmp(&a.total).then(a.unit.cmp(&b.unit)));
    let mut rank = 0;
    let mut previous: Option<f64> = None;
    for (i, s) in out.iter_mut().enumerate() {
        if previous.is_none_or(|p| (p - s.total).abs() > TIE) {
            rank = i as u32 + 1;
        }
        s.rank = rank;
        previous = Some(s.total);
    }
    out
}

/// Min–max to 0–100; all equal gives 100 when above zero, else 0.
fn min_max_scores(values: &[f64]) -> Vec<Option<f64>> {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|x| {
            Some(if max > min {
                (x - min) / (max - min) * TOP
            } else if max > 0.0 {
                TOP
            } else {
                0.0
            })
        })
        .collect()
}
