//! Rank stability: the Monte Carlo of `rankStability` over the shipped QII v2 index and
//! synthetic figures, at the sizes the API serves.
//!
//! `cargo bench -p qii-engine --bench stability` prints, per case, the best of three runs
//! (the machine is shared) with the declared weights' ranking and the figures read already
//! in memory: what the server spends once it has the period's raw table.

use std::{collections::HashMap, path::Path, time::Instant};

use qii_engine::rules::{
    compute::RawTable,
    spec::IndexSpec,
    stability::{analyse, Options},
    Sandbox,
};

/// A deterministic stream of numbers in 0..1 (SplitMix64).
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Figures of `n` units for every raw figure the index reads: long-tailed counts, rates in
/// 0–1 and each unit's registrations target.
fn table(spec: &IndexSpec, n: usize) -> RawTable {
    let mut draws = Draws(n as u64);
    let mut figures = HashMap::new();
    for (_, indicator) in spec.indicators() {
        let column: Vec<Option<f64>> = (0..n)
            .map(|_| {
                let x = draws.next();
                Some(if indicator.raw.ends_with("_rate") {
                    x
                } else {
                    (x * 8.0).exp().floor()
                })
            })
            .collect();
        figures.insert(indicator.raw.clone(), column);
    }
    let targets = (0..n)
        .map(|_| Some(500.0 + draws.next() * 3000.0))
        .collect();
    RawTable {
        units: (1..=n as i64).collect(),
        figures,
        targets: HashMap::from([("registrations".to_owned(), targets)]),
    }
}

fn main() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/qii/v2.rhai");
    let source = std::fs::read_to_string(&rules).expect("the shipped index");
    let sandbox = Sandbox::new();
    let script = sandbox
        .compile("qii/v2.rhai", &source)
        .expect("it compiles");
    let spec = Sandbox::on_this_thread(|| IndexSpec::from_script(&sandbox, &script))
        .expect("it declares an index");
    println!("| units | samples | varied | best of 3 | per sample |");
    println!("|---:|---:|---|---:|---:|");
    for (units, samples, vary_methods) in [
        (32, 10_000, false),
        (32, 10_000, true),
        (10_000, 1_000, false),
        (10_000, 1_000, true),
    ] {
        let raw = table(&spec, units);
        let options = Options {
            samples,
            seed: 1,
            spread: None,
            assumed_only: false,
            vary_methods,
        };
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let started = Instant::now();
            let result =
                Sandbox::on_this_thread(|| analyse(&sandbox, &script, &spec, &raw, &options))
                    .expect("the analysis runs");
            best = best.min(started.elapsed().as_secs_f64());
            assert_eq!(result.units.len(), units);
        }
        println!(
            "| {units} | {samples} | {} | {:.3} s | {:.1} µs |",
            if vary_methods {
                "weights and methods"
            } else {
                "weights"
            },
            best,
            best / f64::from(samples) * 1e6
        );
    }
}
