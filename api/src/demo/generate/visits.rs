//! Imported daily valid visits (有效访问量) and the Oct–Dec 2017 targets (DOMAIN.md §4).
//!
//! Visits exist for every town and Youth Home on every day of Oct–Dec 2017 (a Youth Home from
//! the day it was founded), with weekly rhythm, a rising trend during the campaign and noise;
//! their level follows size and engagement. Targets are the notice's, per town and month and
//! for the quarter.

use chrono::{Datelike, Weekday};
use entities::{daily_visit, target};

use super::World;
use crate::demo::random::{at, between, q4_end_day, q4_start_day, DemoRng};

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

/// The city-wide registration goal for the end of 2017, shared by population coefficient.
const CITY_REGISTRATIONS: f64 = 80_000.0;
const MONTHS: [&str; 3] = ["2017-10", "2017-11", "2017-12"];
const QUARTER: &str = "2017-Q4";

/// Targets per town for each month and the quarter, and per Youth Home for each month.
///
/// `registrations` is the cumulative number of registered members to reach by the end of
/// 2017, so it is the same in every period; `mobile_binding_rate` is a fraction.
pub(super) fn targets(world: &World, first_id: i64) -> Vec<target::Model> {
    let mut rows: Vec<target::Model> = Vec::new();
    let mut add = |org_unit_id: i64, period: &str, metric: &str, value: f64| {
        rows.push(target::Model {
            id: first_id + rows.len() as i64,
            org_unit_id,
            period: period.to_owned(),
            metric: metric.to_owned(),
            value,
        });
    };
    for town in &world.structure.towns {
        let registrations = (CITY_REGISTRATIONS * town.spec.population_coefficient()).round();
        for month in MONTHS {
            add(town.id, month, "registrations", registrations);
            add(town.id, month, "mobile_binding_rate", 0.5);
            add(town.id, month, "update_days", 20.0);
            add(town.id, month, "offline_activities", 2.0);
            add(town.id, month, "online_topics", 2.0);
        }
        add(town.id, QUARTER, "registrations", registrations);
        add(town.id, QUARTER, "mobile_binding_rate", 0.5);
        add(town.id, QUARTER, "update_days", 60.0);
        add(town.id, QUARTER, "offline_activities", 6.0);
        add(town.id, QUARTER, "online_topics", 6.0);
        add(town.id, QUARTER, "new_youth_homes", 1.0);
        add(town.id, QUARTER, "experts", 2.0);
        for home in &town.homes {
            for (month, (_, last_day)) in MONTHS.iter().zip(super::activities::months()) {
                // Only homes that exist (and are registered) during the month have targets.
                if home.registered && home.founded_on <= last_day {
                    add(home.id, month, "update_days", 20.0);
                    add(home.id, month, "non_volunteer_activities", 1.0);
                }
            }
        }
    }
    rows
}
