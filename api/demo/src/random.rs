//! Seeded randomness and the demo calendar.
//!
//! Everything random flows from one `ChaCha8Rng`, and the generator only iterates vectors
//! (never hash maps), so the same seed always produces the same rows. The helpers never
//! panic: empty ranges and out-of-range probabilities are clamped.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::structure::date;
use qii_engine::time::day_start;

pub(crate) type DemoRng = ChaCha8Rng;

/// First day of the generated period (Asia/Shanghai).
pub(crate) fn q4_start_day() -> NaiveDate {
    date(2017, 10, 1)
}

/// Last day of the generated period.
pub(crate) fn q4_end_day() -> NaiveDate {
    date(2017, 12, 31)
}

/// The instant the period starts: 1 Oct 2017 00:00 in Shanghai.
pub(crate) fn q4_start() -> DateTime<Utc> {
    day_start(q4_start_day())
}

/// The instant the data set ends ("now" for the demo): 31 Dec 2017 23:59 in Shanghai.
/// Nothing generated happens after it.
pub(crate) fn demo_end() -> DateTime<Utc> {
    day_start(q4_end_day()) + Duration::minutes(23 * 60 + 59)
}

/// A time of day on a Shanghai calendar day.
pub(crate) fn at(day: NaiveDate, hour: i64, minute: i64) -> DateTime<Utc> {
    day_start(day) + Duration::minutes(hour * 60 + minute)
}

/// Uniform in `[0, 1)`.
pub(crate) fn unit(rng: &mut DemoRng) -> f64 {
    rng.random::<f64>()
}

/// True with probability `p` (clamped to 0..=1).
pub(crate) fn chance(rng: &mut DemoRng, p: f64) -> bool {
    unit(rng) < p.clamp(0.0, 1.0)
}

/// Uniform in `[low, high)`; `low` when the range is empty.
pub(crate) fn between(rng: &mut DemoRng, low: f64, high: f64) -> f64 {
    if high <= low {
        low
    } else {
        low + (high - low) * unit(rng)
    }
}

/// Uniform index below `n`; 0 when `n` is 0 (callers check emptiness first).
pub(crate) fn index(rng: &mut DemoRng, n: usize) -> usize {
    if n == 0 {
        0
    } else {
        rng.random_range(0..n)
    }
}

/// Uniform integer in `low..=high`; `low` when the range is empty.
pub(crate) fn int(rng: &mut DemoRng, low: i64, high: i64) -> i64 {
    if high <= low {
        low
    } else {
        rng.random_range(low..=high)
    }
}

/// A uniformly chosen element; none for an empty slice.
pub(crate) fn pick<'a, T>(rng: &mut DemoRng, items: &'a [T]) -> Option<&'a T> {
    items.get(index(rng, items.len()))
}

/// Picks a string from a non-empty static list (empty string otherwise).
pub(crate) fn pick_str(rng: &mut DemoRng, items: &[&'static str]) -> &'static str {
    pick(rng, items).copied().unwrap_or_default()
}

/// A uniformly chosen instant in `[from, to)`; `from` when the interval is empty.
pub(crate) fn instant(rng: &mut DemoRng, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let span = (to - from).num_seconds();
    if span <= 0 {
        from
    } else {
        from + Duration::seconds(rng.random_range(0..span))
    }
}

/// A delay between `min` and `max` minutes, log-uniformly distributed: most replies come
/// quickly, a few take days.
pub(crate) fn delay(rng: &mut DemoRng, min_minutes: f64, max_minutes: f64) -> Duration {
    let low = min_minutes.max(1.0).ln();
    let high = max_minutes.max(min_minutes.max(1.0)).ln();
    Duration::seconds((between(rng, low, high).exp() * 60.0) as i64)
}

/// A Poisson-distributed count with mean `lambda` (Knuth's method for small means, a normal
/// approximation above 30).
pub(crate) fn poisson(rng: &mut DemoRng, lambda: f64) -> usize {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    if lambda > 30.0 {
        return (lambda + lambda.sqrt() * normal(rng)).round().max(0.0) as usize;
    }
    let limit = (-lambda).exp();
    let mut product = unit(rng);
    let mut count = 0;
    while product > limit {
        product *= unit(rng);
        count += 1;
    }
    count
}

/// A standard normal draw (Box–Muller).
pub(crate) fn normal(rng: &mut DemoRng) -> f64 {
    let u1 = unit(rng).max(f64::MIN_POSITIVE);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A discrete distribution over indices, by non-negative weights.
pub(crate) struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += if w.is_finite() && w > 0.0 { w } else { 0.0 };
                total
            })
            .collect();
        Self { cumulative }
    }

    /// An index drawn by weight; 0 when every weight is zero or there are none.
    pub fn sample(&self, rng: &mut DemoRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        if total <= 0.0 {
            return 0;
        }
        let target = unit(rng) * total;
        self.cumulative
            .partition_point(|&c| c <= target)
            .min(self.cumulative.len() - 1)
    }
}

/// A rating from 1 to 5, skewed towards 5; `mood` above 1 makes good ratings likelier.
pub(crate) fn rating(rng: &mut DemoRng, mood: f64) -> i16 {
    let m = mood.clamp(0.3, 2.0);
    let weights = [0.03 / m, 0.05 / m, 0.12, 0.35, 0.30 * m + 0.1];
    Weighted::new(weights).sample(rng) as i16 + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn draws_stay_in_range_and_repeat_with_the_seed() {
        let mut a = DemoRng::seed_from_u64(7);
        let mut b = DemoRng::seed_from_u64(7);
        let xs: Vec<usize> = (0..200).map(|_| poisson(&mut a, 3.0)).collect();
        let ys: Vec<usize> = (0..200).map(|_| poisson(&mut b, 3.0)).collect();
        assert_eq!(xs, ys);
        let mean = xs.iter().sum::<usize>() as f64 / 200.0;
        assert!((2.0..4.0).contains(&mean), "{mean}");
        for _ in 0..200 {
            let r = rating(&mut a, 1.0);
            assert!((1..=5).contains(&r));
            assert!(Weighted::new([0.0, 2.0, 0.0]).sample(&mut a) == 1);
        }
        assert_eq!(q4_start().to_rfc3339(), "2017-09-30T16:00:00+00:00");
    }
}
