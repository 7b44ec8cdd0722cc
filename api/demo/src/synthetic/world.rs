//! The synthetic structure and population: towns under one city, Youth Homes and a few
//! schools or enterprises below them, members registered in each town and the experts the
//! units recruited.
//!
//! Towns differ in size and engagement (both log-normal around 1), so rankings spread out.
//! Members follow size × engagement; events later follow the same weights.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entities::{
    district,
    enums::{ExpertField, OrgUnitKind},
    expert, member, org_unit,
};
use rand::seq::index::sample;
use sea_orm::Iterable;

use crate::random::{at, between, chance, instant, int, normal, pick, poisson, DemoRng, Weighted};
use crate::structure::DISTRICTS;
use crate::text;
use qii_engine::period::Period;
use qii_engine::time::local_day;

/// Members per town at least, whatever the event budget.
const MIN_MEMBERS_PER_TOWN: usize = 10;
/// Members in all per event of the period, on top of the minimum.
const MEMBERS_PER_EVENT: f64 = 0.25;
/// Share of members registered before the period (the rest register during it).
const REGISTERED_BEFORE: f64 = 0.85;
/// Experts recruited per town, on average.
const EXPERTS_PER_TOWN: f64 = 1.2;

/// A Youth Home below a town.
pub(super) struct Home {
    pub id: i64,
    pub founded_on: NaiveDate,
    pub registered: bool,
}

/// A member in a pool: registration instant and id.
pub(super) type Pooled = (DateTime<Utc>, i64);

/// A town with everything the event generators need about it.
pub(super) struct Town {
    pub id: i64,
    pub name: String,
    /// How active the town is (median 1).
    pub engagement: f64,
    /// Relative size (median 1).
    pub size: f64,
    /// Share of its members who bind a mobile number.
    pub binding: f64,
    pub homes: Vec<Home>,
    /// A school or an enterprise league body, for some towns.
    pub sub_unit: Option<i64>,
    /// The town's members, in registration order.
    pub members: Vec<Pooled>,
    /// Experts recruited by the town or its homes: (joined at, expert id), in joining order.
    pub experts: Vec<Pooled>,
}

impl Town {
    /// A Youth Home that exists on `day`, if any.
    pub fn home_on(&self, rng: &mut DemoRng, day: NaiveDate) -> Option<i64> {
        let open: Vec<i64> = self
            .homes
            .iter()
            .filter(|h| h.founded_on <= day)
            .map(|h| h.id)
            .collect();
        pick(rng, &open).copied()
    }
}

/// The whole synthetic population.
pub(super) struct World {
    pub period: Period,
    pub towns: Vec<Town>,
    /// Every member, in registration order.
    pub members: Vec<Pooled>,
    /// Which town acts next: by size × engagement.
    pub busy: Weighted,
}

impl World {
    /// Someone registered before `before`: from the town's members most of the time
    /// (`local` share, or when the town has nobody yet), from anywhere otherwise.
    pub fn member_before(
        &self,
        rng: &mut DemoRng,
        town: &Town,
        local: f64,
        before: DateTime<Utc>,
    ) -> Option<i64> {
        chance(rng, local)
            .then(|| pick_before(rng, &town.members, before))
            .flatten()
            .or_else(|| pick_before(rng, &self.members, before))
    }
}

/// A uniformly chosen entry of a time-ordered pool from before `before`.
pub(super) fn pick_before(
    rng: &mut DemoRng,
    pool: &[Pooled],
    before: DateTime<Utc>,
) -> Option<i64> {
    let n = pool.partition_point(|(at, _)| *at < before);
    (n > 0).then(|| pool[int(rng, 0, n as i64 - 1) as usize].1)
}

/// `count` distinct entries of a time-ordered pool from before `before` (fewer if the pool
/// has fewer).
pub(super) fn distinct_before(
    rng: &mut DemoRng,
    pool: &[Pooled],
    before: DateTime<Utc>,
    count: usize,
) -> Vec<Pooled> {
    let n = pool.partition_point(|(at, _)| *at < before);
    sample(rng, n, count.min(n))
        .into_iter()
        .map(|i| pool[i])
        .collect()
}

/// The districts, the city and the org units, ready to insert, and the towns.
pub(super) struct Structure {
    pub districts: Vec<district::Model>,
    pub units: Vec<org_unit::Model>,
    pub towns: Vec<Town>,
}

/// `towns` towns under one city, each with one to five Youth Homes and, for two in five, a
/// school or an enterprise. Ids are assigned from `first_district` and `first_unit`.
pub(super) fn structure(
    rng: &mut DemoRng,
    period: &Period,
    towns: usize,
    first_district: i64,
    first_unit: i64,
) -> Structure {
    let districts: Vec<district::Model> = DISTRICTS
        .iter()
        .enumerate()
        .map(|(i, d)| district::Model {
            id: first_district + i as i64,
            code: d.code.to_owned(),
            name: d.name.to_owned(),
            name_en: d.name_en.to_owned(),
            position: d.position,
        })
        .collect();
    let start = period.first_day();
    let opened = at(start - Duration::days(3 * 365), 9, 0);
    let mut units = Vec::with_capacity(towns * 5);
    // Ids in insertion order: parents come before their children.
    let unit = |units: &mut Vec<org_unit::Model>, model: org_unit::Model| {
        let id = first_unit + units.len() as i64;
        units.push(org_unit::Model { id, ..model });
        id
    };
    let city_id = unit(
        &mut units,
        org_unit::Model {
            id: 0,
            code: "city".into(),
            name: "合成市团委".into(),
            name_en: Some("Synthetic City Youth League Committee".into()),
            kind: OrgUnitKind::City,
            parent_id: None,
            town_id: None,
            district_id: None,
            population_coefficient: None,
            registered: false,
            founded_on: None,
            created_at: opened,
        },
    );

    let sizes: Vec<f64> = (0..towns).map(|_| (0.4 * normal(rng)).exp()).collect();
    let total_size: f64 = sizes.iter().sum();
    let mut out = Vec::with_capacity(towns);
    for (t, size) in sizes.into_iter().enumerate() {
        let n = t + 1;
        let name = format!("第{n}镇");
        let district_id = districts[t % districts.len()].id;
        // A town is its own town: its id is known before the insert.
        let id = first_unit + units.len() as i64;
        unit(
            &mut units,
            org_unit::Model {
                id: 0,
                code: format!("town-{n}"),
                name: name.clone(),
                name_en: Some(format!("Town {n}")),
                kind: OrgUnitKind::Town,
                parent_id: Some(city_id),
                town_id: Some(id),
                district_id: Some(district_id),
                population_coefficient: Some(size / total_size),
                registered: false,
                founded_on: None,
                created_at: opened,
            },
        );
        let mut homes = Vec::new();
        for k in 1..=int(rng, 1, 5) {
            // Most homes are older than the period; some open during it, a few after it.
            let founded_on = match int(rng, 0, 99) {
                0..=84 => start - Duration::days(int(rng, 1, 3 * 365)),
                85..=94 => start + Duration::days(int(rng, 0, period.days() - 1)),
                _ => period.last_day() + Duration::days(int(rng, 1, 30)),
            };
            let registered = chance(rng, 0.85);
            let home_id = unit(
                &mut units,
                org_unit::Model {
                    id: 0,
                    code: format!("home-{n}-{k}"),
                    name: format!("{name}青年之家{k}号站"),
                    name_en: Some(format!("Youth Home {n}-{k}")),
                    kind: OrgUnitKind::YouthHome,
                    parent_id: Some(id),
                    town_id: Some(id),
                    district_id: Some(district_id),
                    population_coefficient: None,
                    registered,
                    founded_on: Some(founded_on),
                    created_at: at(founded_on, 9, 0),
                },
            );
            homes.push(Home {
                id: home_id,
                founded_on,
                registered,
            });
        }
        let sub_unit = chance(rng, 0.4).then(|| {
            let school = chance(rng, 0.5);
            unit(
                &mut units,
                org_unit::Model {
                    id: 0,
                    code: format!("{}-{n}", if school { "school" } else { "ent" }),
                    name: if school {
                        format!("{name}中学团委")
                    } else {
                        format!("{name}企业团工委")
                    },
                    name_en: Some(format!(
                        "Town {n} {}",
                        if school { "School" } else { "Enterprises" }
                    )),
                    kind: if school {
                        OrgUnitKind::School
                    } else {
                        OrgUnitKind::Enterprise
                    },
                    parent_id: Some(id),
                    town_id: Some(id),
                    district_id: Some(district_id),
                    population_coefficient: None,
                    registered: false,
                    founded_on: None,
                    created_at: opened,
                },
            )
        });
        out.push(Town {
            id,
            name,
            engagement: (0.5 * normal(rng)).exp(),
            size,
            binding: between(rng, 0.3, 0.8),
            homes,
            sub_unit,
            members: Vec::new(),
            experts: Vec::new(),
        });
    }
    Structure {
        districts,
        units,
        towns: out,
    }
}

/// A member to be: when and in which town (index into [`World::towns`]) they register.
pub(super) type Draft = (DateTime<Utc>, usize);

/// The members of every town for an event budget of `events`, with ids from `first_id` in
/// registration order: the world with every town's pool filled, and the drafts of the member
/// rows (see [`member_rows`]).
pub(super) fn population(
    rng: &mut DemoRng,
    period: Period,
    mut towns: Vec<Town>,
    events: usize,
    first_id: i64,
) -> (World, Vec<Draft>) {
    let (start, end) = (period.start_utc(), period.end_utc());
    let year_before = start - Duration::days(365);
    let weights: Vec<f64> = towns.iter().map(|t| t.size * t.engagement).collect();
    let total: f64 = weights.iter().sum();
    let extra = events as f64 * MEMBERS_PER_EVENT;
    let mut drafts: Vec<Draft> = Vec::new();
    for (t, w) in weights.iter().enumerate() {
        let share = extra * w / total;
        let n = MIN_MEMBERS_PER_TOWN + share as usize + usize::from(chance(rng, share.fract()));
        for i in 0..n {
            // Every town has someone from before the period.
            let when = if i == 0 || chance(rng, REGISTERED_BEFORE) {
                instant(rng, year_before, start)
            } else {
                instant(rng, start, end)
            };
            drafts.push((when, t));
        }
    }
    // Ids follow registration order, as on the platform.
    drafts.sort_unstable();
    let mut everyone = Vec::with_capacity(drafts.len());
    for (i, &(registered_at, t)) in drafts.iter().enumerate() {
        let id = first_id + i as i64;
        towns[t].members.push((registered_at, id));
        everyone.push((registered_at, id));
    }
    let world = World {
        period,
        towns,
        members: everyone,
        busy: Weighted::new(weights),
    };
    (world, drafts)
}

/// The member rows of `drafts`, the first of which has id `first_id`. A town's members bind
/// a mobile number at the town's own rate.
pub(super) fn member_rows(
    rng: &mut DemoRng,
    world: &World,
    drafts: &[Draft],
    first_id: i64,
) -> Vec<member::Model> {
    drafts
        .iter()
        .enumerate()
        .map(|(i, &(registered_at, t))| {
            let id = first_id + i as i64;
            let town = &world.towns[t];
            let bound = chance(rng, town.binding);
            member::Model {
                id,
                nickname: text::nickname(rng, &town.name),
                mobile: bound.then(|| text::mobile(id)),
                registered_at,
                mobile_bound_at: bound
                    .then(|| registered_at + Duration::minutes(int(rng, 1, 60 * 24 * 60))),
                home_town_id: Some(town.id),
            }
        })
        .collect()
}

/// Experts recruited by each town or one of its homes, among the town's members, before or
/// during the period; ids from `first_id`.
pub(super) fn experts(rng: &mut DemoRng, world: &mut World, first_id: i64) -> Vec<expert::Model> {
    let fields: Vec<ExpertField> = ExpertField::iter().collect();
    let end = world.period.end_utc();
    let mut rows = Vec::new();
    for town in &mut world.towns {
        let wanted = poisson(rng, EXPERTS_PER_TOWN * town.engagement);
        let mut recruited = Vec::new();
        for (registered_at, member_id) in distinct_before(rng, &town.members, end, wanted) {
            let joined_at = instant(rng, registered_at, end);
            let recruited_by_id = if chance(rng, 0.7) {
                town.id
            } else {
                town.home_on(rng, local_day(joined_at)).unwrap_or(town.id)
            };
            let f = int(rng, 0, fields.len() as i64 - 1) as usize;
            let id = first_id + rows.len() as i64;
            rows.push(expert::Model {
                id,
                member_id,
                name: text::person_name(rng),
                field: fields[f],
                title: chance(rng, 0.9).then(|| text::EXPERT_TITLES[f].to_owned()),
                recruited_by_id,
                joined_at,
            });
            recruited.push((joined_at, id));
        }
        recruited.sort_unstable();
        town.experts = recruited;
    }
    rows
}
