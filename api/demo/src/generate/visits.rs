//! Imported daily valid visits (有效访问量), and a few targets set by hand.
//!
//! Visits exist for every town and Youth Home on every day of Oct–Dec 2017 (a Youth Home from
//! the day it was founded), with weekly rhythm, a rising trend during the campaign and noise;
//! their level follows size and engagement. The Oct–Dec 2017 targets themselves are the
//! script `rules/targets/2017q4.rhai`'s; the rows written here are overrides of it.

use chrono::{Datelike, Weekday};
use entities::{daily_visit, target};

use super::World;
use crate::random::{at, between, q4_end_day, q4_start_day, DemoRng};

pub(super) fn daily_visits(
    rng: &mut DemoRng,
    world: &World,
    first_id: i64,
) -> Vec<daily_visit::Model> {
    let towns = world.structure.towns.len() as f64;
    let start = q4_start_day();
    let span = (q4_end_day() - start).num_days().max(1) as f64;
    let mut rows = Vec::new();
    for (t, town) in world.structure.towns.iter().enumerate() {
        let e = world.engagement[t];
        // Relative size 1.0 for an average town; engagement matters more than size.
        let size = (town.spec.population_coefficient() * towns).powf(0.7);
        let mut units = vec![(town.id, start, 1200.0 * size * e.powf(1.3))];
        for home in &town.homes {
            let level = if home.registered { 90.0 } else { 45.0 };
            units.push((home.id, home.founded_on.max(start), level * e.powf(1.2)));
        }
        for (org_unit_id, from, base) in units {
            let mut day = from;
            while day <= q4_end_day() {
                let weekly = if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                    0.75
                } else {
                    1.0
                };
                let trend = 1.0 + 0.4 * (day - start).num_days() as f64 / span;
                let visits = (base * weekly * trend * between(rng, 0.7, 1.3))
                    .round()
                    .max(0.0) as i64;
                rows.push(daily_visit::Model {
                    id: first_id + rows.len() as i64,
                    org_unit_id,
                    day,
                    visits,
                    // Logs are imported the following night.
                    imported_at: at(day + chrono::Days::new(1), 2, 0),
                });
                day = day + chrono::Days::new(1);
            }
        }
    }
    rows
}

/// Overrides: targets an administrator set by hand for a unit, period and metric, which take
/// the place of the targets script's. The two least engaged towns were allowed fewer update
/// days in October 2017, the platform's first month — example data for the override path,
/// not policy.
pub(super) fn targets(world: &World, first_id: i64) -> Vec<target::Model> {
    let mut towns: Vec<(f64, i64)> = world
        .engagement
        .iter()
        .zip(&world.structure.towns)
        .map(|(e, town)| (*e, town.id))
        .collect();
    towns.sort_by(|a, b| a.0.total_cmp(&b.0));
    towns
        .iter()
        .take(2)
        .enumerate()
        .map(|(i, &(_, org_unit_id))| target::Model {
            id: first_id + i as i64,
            org_unit_id,
            period: "2017-10".to_owned(),
            metric: "update_days".to_owned(),
            value: 15.0,
        })
        .collect()
}
