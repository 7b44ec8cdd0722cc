//! Members (公众用户) and experts (专家联盟).
//!
//! About 8,000 members at scale 1: roughly a third registered since the platform opened in
//! May 2016, the rest during the Oct–Dec 2017 push — more so in engaged towns. Home towns are
//! drawn by population × engagement; 40–70 % bind a mobile number. About 60 experts are
//! recruited by towns, mostly in Oct–Dec.

use chrono::{DateTime, Duration, Utc};
use entities::{enums::ExpertField, expert, member};

use super::{ExpertInfo, MemberInfo, World};
use crate::ensure::Structure;
use crate::random::{at, chance, delay, demo_end, instant, q4_start, unit, DemoRng, Weighted};
use crate::structure::date;
use crate::text;
use crate::MARKER_NICKNAME;

const MEMBERS: f64 = 8000.0;
const EXPERTS: f64 = 60.0;

/// The members, sorted by registration time with ascending ids, the platform's assistant
/// account (the demo's marker) first.
pub(super) fn members(
    rng: &mut DemoRng,
    structure: &Structure,
    engagement: &[f64],
    scale: f64,
    first_id: i64,
) -> (Vec<member::Model>, Vec<MemberInfo>) {
    let n = (MEMBERS * scale).round().max(1.0) as usize;
    let home = Weighted::new(
        structure
            .towns
            .iter()
            .zip(engagement)
            .map(|(t, e)| t.spec.population_coefficient() * e),
    );
    let opened = at(date(2016, 5, 4), 9, 0);
    let q4 = q4_start();
    let end = demo_end();

    // First draw who registers where and when, then sort: ids follow registration order.
    let mut drafts: Vec<(usize, DateTime<Utc>)> = (0..n)
        .map(|_| {
            let town = home.sample(rng);
            let e = engagement[town];
            let in_q4 = chance(rng, (0.5 + 0.2 * (e - 1.0)).clamp(0.35, 0.8));
            let when = if in_q4 {
                instant(rng, q4, end)
            } else {
                // Growth accelerated over time: later dates are likelier (square-root skew).
                opened
                    + Duration::seconds(
                        ((q4 - opened).num_seconds() as f64 * unit(rng).sqrt()) as i64,
                    )
            };
            (town, when)
        })
        .collect();
    drafts.sort_by_key(|&(_, when)| when);

    let mut rows = Vec::with_capacity(n + 1);
    let mut infos = Vec::with_capacity(n + 1);
    rows.push(member::Model {
        id: first_id,
        nickname: MARKER_NICKNAME.to_owned(),
        mobile: None,
        registered_at: opened - Duration::hours(1),
        mobile_bound_at: None,
        home_town_id: None,
    });
    infos.push(MemberInfo {
        id: first_id,
        town: None,
        registered_at: opened - Duration::hours(1),
    });

    for (k, (town, registered_at)) in drafts.into_iter().enumerate() {
        let id = first_id + 1 + k as i64;
        let t = &structure.towns[town];
        let binding_rate = (0.3 + 0.22 * engagement[town]).clamp(0.38, 0.72);
        let bound_at = chance(rng, binding_rate)
            .then(|| {
                // Half bind while registering, the rest later (minutes to months).
                if chance(rng, 0.5) {
                    registered_at + Duration::minutes(crate::random::int(rng, 1, 10))
                } else {
                    registered_at + delay(rng, 60.0, 90.0 * 24.0 * 60.0)
                }
            })
            .filter(|&b| b <= end);
        rows.push(member::Model {
            id,
            nickname: text::nickname(rng, t.spec.name),
            mobile: bound_at.map(|_| text::mobile(id)),
            registered_at,
            mobile_bound_at: bound_at,
            home_town_id: Some(t.id),
        });
        infos.push(MemberInfo {
            id,
            town: Some(town),
            registered_at,
        });
    }
    (rows, infos)
}

/// Fields with their shares in the expert alliance.
const FIELDS: [(ExpertField, f64); 7] = [
    (ExpertField::Law, 20.0),
    (ExpertField::Psychology, 20.0),
    (ExpertField::Entrepreneurship, 15.0),
    (ExpertField::PublicWelfare, 15.0),
    (ExpertField::Marriage, 10.0),
    (ExpertField::Career, 15.0),
    (ExpertField::Other, 5.0),
];

/// Experts recruited by towns. Engaged towns recruit several, quiet ones none — so the
/// "≥ 2 experts" target is met by some towns only. Each expert is a member of the town.
pub(super) fn experts(
    rng: &mut DemoRng,
    world: &World,
    first_id: i64,
) -> (Vec<expert::Model>, Vec<ExpertInfo>) {
    let n = world.scaled(EXPERTS).round().max(1.0) as usize;
    let recruiter = Weighted::new(
        world
            .structure
            .towns
            .iter()
            .zip(&world.engagement)
            .map(|(t, e)| t.spec.population_coefficient().sqrt() * e * e),
    );
    let field = Weighted::new(FIELDS.iter().map(|(_, w)| *w));
    let mut taken = std::collections::HashSet::new();
    let mut rows = Vec::new();
    let mut infos = Vec::new();
    // A draw fails when the town has no member yet to recruit; bounded retries keep at least
    // a few experts even in tiny test data sets.
    for _ in 0..n * 5 {
        if rows.len() >= n {
            break;
        }
        let town = recruiter.sample(rng);
        // Most joined during the Oct–Dec recruitment drive, some earlier in 2017.
        let joined_at = if chance(rng, 0.8) {
            instant(rng, q4_start(), at(date(2017, 12, 20), 0, 0))
        } else {
            instant(rng, at(date(2017, 3, 1), 0, 0), q4_start())
        };
        let Some(m) = (0..20)
            .filter_map(|_| world.member_before(rng, Some(town), joined_at))
            .find(|&m| !taken.contains(&m))
        else {
            continue;
        };
        taken.insert(m);
        let field_index = field.sample(rng);
        let (kind, _) = FIELDS[field_index];
        let id = first_id + rows.len() as i64;
        rows.push(expert::Model {
            id,
            member_id: world.members[m].id,
            name: text::person_name(rng),
            field: kind,
            title: chance(rng, 0.9).then(|| text::EXPERT_TITLES[field_index].to_owned()),
            recruited_by_id: world.structure.towns[town].id,
            joined_at,
        });
        infos.push(ExpertInfo { id, joined_at });
    }
    (rows, infos)
}
