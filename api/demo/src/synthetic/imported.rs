//! Figures imported rather than recorded: daily valid visits of every town and Youth Home
//! on each day of the period, and each town's targets for the period.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use entities::{daily_visit, target};

use super::world::World;
use crate::random::{at, between, DemoRng};

/// Daily visits of a town of median size and engagement; a registered Youth Home gets
/// [`HOME_VISITS`], an unregistered one half of it.
const TOWN_VISITS: f64 = 400.0;
const HOME_VISITS: f64 = 60.0;

/// Visits on `day` of every town and of every Youth Home open that day (weekends quieter),
/// with ids from `first_id`.
pub(super) fn daily_visits(
    rng: &mut DemoRng,
    world: &World,
    day: NaiveDate,
    first_id: i64,
) -> Vec<daily_visit::Model> {
    let weekly = if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        0.75
    } else {
        1.0
    };
    // Logs are imported the following night.
    let imported_at = at(day + Days::new(1), 2, 0);
    let mut rows = Vec::with_capacity(world.towns.len() * 4);
    for town in &world.towns {
        let e = town.engagement;
        let mut visit = |rng: &mut DemoRng, org_unit_id: i64, base: f64| {
            rows.push(daily_visit::Model {
                id: first_id + rows.len() as i64,
                org_unit_id,
                day,
                visits: (base * weekly * between(rng, 0.7, 1.3)).round().max(0.0) as i64,
                imported_at,
            });
        };
        visit(
            rng,
            town.id,
            TOWN_VISITS * town.size.powf(0.7) * e.powf(1.3),
        );
        for home in town.homes.iter().filter(|h| h.founded_on <= day) {
            let base = if home.registered {
                HOME_VISITS
            } else {
                HOME_VISITS / 2.0
            };
            visit(rng, home.id, base * e.powf(1.2));
        }
    }
    rows
}

/// Each town's targets for the period: registrations (somewhat above or below what the
/// town has), a mobile-binding rate of one half and 20 update days.
pub(super) fn targets(rng: &mut DemoRng, world: &World, first_id: i64) -> Vec<target::Model> {
    let period = world.period.to_string();
    let mut rows = Vec::with_capacity(world.towns.len() * 3);
    for town in &world.towns {
        let registrations = (town.members.len() as f64 * between(rng, 0.8, 1.5)).round();
        for (metric, value) in [
            ("registrations", registrations),
            ("mobile_binding_rate", 0.5),
            ("update_days", 20.0),
        ] {
            rows.push(target::Model {
                id: first_id + rows.len() as i64,
                org_unit_id: town.id,
                period: period.clone(),
                metric: metric.to_owned(),
                value,
            });
        }
    }
    rows
}
