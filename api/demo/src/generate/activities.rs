//! Activities in "Find Activities" (找活动), month by month.
//!
//! Every town publishes offline activities and online topics at a rate proportional to its
//! engagement (target: ≥ 2 of each per month — quiet towns miss it), Youth Homes publish
//! their own (many of them volunteer service, which does not count towards their monthly
//! target), schools, enterprises and city-level units add a few, and some towns apply for
//! heavyweight activities published through the city platform. About 700 at scale 1.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entities::activity;
use entities::enums::{ActivityCategory as C, ActivityKind};

use super::World;
use crate::random::{at, chance, demo_end, int, pick, pick_str, poisson, DemoRng, Weighted};
use crate::structure::date;
use crate::text;

/// The months generated, with their first and last day.
pub(super) fn months() -> [(NaiveDate, NaiveDate); 3] {
    [
        (date(2017, 10, 1), date(2017, 10, 31)),
        (date(2017, 11, 1), date(2017, 11, 30)),
        (date(2017, 12, 1), date(2017, 12, 31)),
    ]
}

/// A stored activity, for the loop and the incentive applications.
pub(super) struct Held {
    pub id: i64,
    /// Whose members take part; none for city-level units (members from everywhere).
    pub town: Option<usize>,
    pub org_unit_id: i64,
    pub title: String,
    pub place: Option<String>,
    pub kind: ActivityKind,
    pub category: C,
    pub heavyweight: bool,
    pub capacity: Option<i32>,
    pub published_at: DateTime<Utc>,
    /// Sign-ups close here (the explicit deadline or the start).
    pub signups_close: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Who publishes, and what kind of body it is.
#[derive(Clone, Copy)]
enum Publisher {
    Town,
    Home(NaiveDate),
    SubUnit,
    CityUnit,
}

struct Builder<'w, 's> {
    world: &'w World<'s>,
    first_id: i64,
    rows: Vec<activity::Model>,
    held: Vec<Held>,
}

pub(super) fn activities(
    rng: &mut DemoRng,
    world: &World,
    first_id: i64,
) -> (Vec<activity::Model>, Vec<Held>) {
    let mut b = Builder {
        world,
        first_id,
        rows: Vec::new(),
        held: Vec::new(),
    };
    for month in months() {
        for (t, town) in world.structure.towns.iter().enumerate() {
            let e = world.engagement[t];
            for _ in 0..poisson(rng, world.published(2.8) * e) {
                b.add(
                    rng,
                    month,
                    Some(t),
                    town.id,
                    Publisher::Town,
                    ActivityKind::Offline,
                    false,
                );
            }
            for _ in 0..poisson(rng, world.published(2.2) * e) {
                b.add(
                    rng,
                    month,
                    Some(t),
                    town.id,
                    Publisher::Town,
                    ActivityKind::OnlineTopic,
                    false,
                );
            }
            for home in town.homes.iter().filter(|h| h.founded_on <= month.1) {
                let rate = if home.registered { 1.5 } else { 0.7 };
                for _ in 0..poisson(rng, world.published(rate) * e) {
                    let kind = if chance(rng, 0.8) {
                        ActivityKind::Offline
                    } else {
                        ActivityKind::OnlineTopic
                    };
                    b.add(
                        rng,
                        month,
                        Some(t),
                        home.id,
                        Publisher::Home(home.founded_on),
                        kind,
                        false,
                    );
                }
            }
            for &unit in &town.sub_units {
                for _ in 0..poisson(rng, world.published(0.5)) {
                    b.add(
                        rng,
                        month,
                        Some(t),
                        unit,
                        Publisher::SubUnit,
                        ActivityKind::Offline,
                        false,
                    );
                }
            }
        }
        for &unit in &world.structure.city_units {
            for _ in 0..poisson(rng, world.published(2.0)) {
                b.add(
                    rng,
                    month,
                    None,
                    unit,
                    Publisher::CityUnit,
                    ActivityKind::Offline,
                    false,
                );
            }
        }
        // Heavyweight activities count for the applying town (seed 001, item 2).
        for _ in 0..poisson(rng, world.published(4.0)) {
            let t = world.activity.sample(rng);
            let kind = if chance(rng, 0.8) {
                ActivityKind::Offline
            } else {
                ActivityKind::OnlineTopic
            };
            b.add(
                rng,
                month,
                Some(t),
                world.structure.towns[t].id,
                Publisher::Town,
                kind,
                true,
            );
        }
    }
    (b.rows, b.held)
}

pub(crate) const OFFLINE_CATEGORIES: [(C, f64); 7] = [
    (C::Contest, 12.0),
    (C::Social, 14.0),
    (C::Themed, 22.0),
    (C::TicketPerk, 8.0),
    (C::Training, 14.0),
    (C::VolunteerService, 22.0),
    (C::Other, 8.0),
];
/// Youth Homes lean on volunteer service.
pub(crate) const HOME_CATEGORIES: [(C, f64); 7] = [
    (C::Contest, 4.0),
    (C::Social, 14.0),
    (C::Themed, 20.0),
    (C::TicketPerk, 2.0),
    (C::Training, 14.0),
    (C::VolunteerService, 40.0),
    (C::Other, 6.0),
];
pub(crate) const ONLINE_CATEGORIES: [(C, f64); 4] = [
    (C::Themed, 40.0),
    (C::Contest, 20.0),
    (C::Social, 15.0),
    (C::Other, 25.0),
];
const HEAVYWEIGHT_CATEGORIES: [(C, f64); 3] =
    [(C::Contest, 50.0), (C::Training, 30.0), (C::Themed, 20.0)];

pub(crate) fn category(rng: &mut DemoRng, table: &[(C, f64)]) -> C {
    table[Weighted::new(table.iter().map(|(_, w)| *w)).sample(rng)].0
}

pub(crate) fn title(rng: &mut DemoRng, kind: ActivityKind, category: C) -> &'static str {
    let list: &[&'static str] = match (kind, category) {
        (ActivityKind::OnlineTopic, _) => &text::ONLINE,
        (_, C::Contest) => &text::CONTEST,
        (_, C::Social) => &text::SOCIAL,
        (_, C::Themed) => &text::THEMED,
        (_, C::TicketPerk) => &text::TICKET_PERK,
        (_, C::Training) => &text::TRAINING,
        (_, C::VolunteerService) => &text::VOLUNTEER,
        (_, C::Other) => &text::OTHER,
    };
    pick_str(rng, list)
}

pub(crate) const SLOTS: [(i64, i64); 6] = [(9, 0), (9, 30), (14, 0), (14, 30), (19, 0), (19, 30)];
pub(crate) const CAPACITIES: [i32; 9] = [20, 30, 40, 50, 60, 80, 100, 150, 200];

impl Builder<'_, '_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        rng: &mut DemoRng,
        (first, last): (NaiveDate, NaiveDate),
        town: Option<usize>,
        org_unit_id: i64,
        publisher: Publisher,
        kind: ActivityKind,
        heavyweight: bool,
    ) {
        let name = town.map(|t| self.world.town_name(t)).unwrap_or("东莞");
        let category = match (heavyweight, kind, publisher) {
            (true, _, _) => category(rng, &HEAVYWEIGHT_CATEGORIES),
            (_, ActivityKind::OnlineTopic, _) => category(rng, &ONLINE_CATEGORIES),
            (_, _, Publisher::Home(_)) => category(rng, &HOME_CATEGORIES),
            _ => category(rng, &OFFLINE_CATEGORIES),
        };
        // A Youth Home founded mid-month only holds activities once it exists.
        let first = match publisher {
            Publisher::Home(founded) => founded.max(first),
            _ => first,
        };
        let day = first + chrono::Days::new(int(rng, 0, (last - first).num_days()) as u64);
        let (starts_at, ends_at) = match kind {
            ActivityKind::Offline if heavyweight => {
                let start = at(day, 9, 0);
                (start, start + Duration::hours(int(rng, 6, 8)))
            }
            ActivityKind::Offline => {
                let (h, m) = pick(rng, &SLOTS).copied().unwrap_or((14, 0));
                let start = at(day, h, m);
                (start, start + Duration::minutes(int(rng, 4, 8) * 30))
            }
            ActivityKind::OnlineTopic => {
                let start = at(day, 10, 0);
                (
                    start,
                    (start + Duration::days(int(rng, 3, 14))).min(demo_end()),
                )
            }
        };
        let published_at = starts_at - Duration::hours(int(rng, 2 * 24, 14 * 24));
        // Without a deadline sign-ups close at the start; online topics often accept
        // participants while they run.
        let deadline = match kind {
            ActivityKind::Offline => {
                chance(rng, 0.7).then(|| starts_at - Duration::hours(int(rng, 2, 24)))
            }
            ActivityKind::OnlineTopic => chance(rng, 0.6).then_some(ends_at),
        };
        let capacity = match kind {
            _ if heavyweight => Some(int(rng, 6, 12) as i32 * 50),
            ActivityKind::Offline => pick(rng, &CAPACITIES).copied(),
            ActivityKind::OnlineTopic => {
                chance(rng, 0.25).then(|| [100, 200, 500][int(rng, 0, 2) as usize])
            }
        };
        let place = (kind == ActivityKind::Offline).then(|| match publisher {
            Publisher::Home(_) => format!("{name}青年之家活动室"),
            Publisher::CityUnit => "东莞市青少年活动中心".to_owned(),
            _ => text::fill(pick_str(rng, &text::PLACES), name),
        });
        let mut title = text::fill(title(rng, kind, category), name);
        if heavyweight {
            title = format!("【重磅】{title}");
        }
        let description = format!(
            "{}{}",
            text::fill(pick_str(rng, &text::DESCRIPTIONS), name),
            text::fill(pick_str(rng, &text::DESCRIPTIONS), name)
        );
        let id = self.first_id + self.rows.len() as i64;
        self.rows.push(activity::Model {
            id,
            org_unit_id,
            title: title.clone(),
            description,
            kind,
            category,
            starts_at,
            ends_at,
            signup_deadline: deadline,
            place: place.clone(),
            capacity,
            heavyweight,
            published_at,
            signup_count: 0,
            checkin_count: 0,
            comment_count: 0,
            review_count: 0,
            photo_count: 0,
            photos_after_end_count: 0,
            like_count: 0,
            heavyweight_approved: false,
        });
        let signups_close = deadline.unwrap_or(starts_at);
        self.held.push(Held {
            id,
            town,
            org_unit_id,
            title,
            place,
            kind,
            category,
            heavyweight,
            capacity,
            published_at,
            signups_close,
            starts_at,
            ends_at,
        });
    }
}
