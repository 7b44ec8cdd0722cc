//! Online discussion topics (话题) and members' comments and votes on them.
//!
//! About 300 topics at scale 1, published by towns, Youth Homes, city-level units and the
//! city; each draws a crowd that grows with the publishing town's engagement (~6,000
//! participations in all). A member votes at most once per topic.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use entities::{enums::ParticipationKind, topic, topic_participation};

use super::World;
use crate::random::{
    at, between, chance, demo_end, instant, int, pick, pick_str, poisson, q4_start, DemoRng,
};
use crate::structure::date;
use crate::text;
use qii_engine::time::local_day;

const TOPICS: f64 = 300.0;
/// Mean participations of a topic in a town of engagement 1.
const CROWD: f64 = 16.0;

/// A stored topic, for the participation stage.
pub(super) struct Published {
    id: i64,
    /// The publisher's town; none for the city and city-level units.
    town: Option<usize>,
    published_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
}

pub(super) fn topics(
    rng: &mut DemoRng,
    world: &World,
    first_id: i64,
) -> (Vec<topic::Model>, Vec<Published>) {
    let n = world.published(TOPICS).round() as usize;
    let last_day = at(date(2017, 12, 26), 0, 0);
    let mut rows = Vec::with_capacity(n);
    let mut published = Vec::with_capacity(n);
    for _ in 0..n {
        let published_at = instant(rng, q4_start(), last_day);
        let town = world.activity.sample(rng);
        let t = &world.structure.towns[town];
        let (org_unit_id, town) = match int(rng, 0, 99) {
            0..=54 => (t.id, Some(town)),
            55..=84 => {
                let day = local_day(published_at);
                let homes: Vec<i64> = t
                    .homes
                    .iter()
                    .filter(|h| h.founded_on <= day)
                    .map(|h| h.id)
                    .collect();
                (pick(rng, &homes).copied().unwrap_or(t.id), Some(town))
            }
            85..=92 => (
                pick(rng, &world.structure.city_units)
                    .copied()
                    .unwrap_or(world.structure.city_id),
                None,
            ),
            _ => (world.structure.city_id, None),
        };
        let name = town.map(|t| world.town_name(t)).unwrap_or("东莞");
        // Most topics run one to four weeks; a few stay open.
        let closes = chance(rng, 0.9).then(|| published_at + Duration::days(int(rng, 7, 30)));
        let id = first_id + rows.len() as i64;
        rows.push(topic::Model {
            id,
            org_unit_id,
            title: text::fill(pick_str(rng, &text::TOPICS), name),
            body: format!(
                "{}欢迎大家踊跃发言、投票。",
                text::fill(pick_str(rng, &text::DESCRIPTIONS), name)
            ),
            published_at,
            closes_at: closes,
        });
        let closes_at = closes.unwrap_or_else(demo_end).min(demo_end());
        published.push(Published {
            id,
            town,
            published_at,
            closes_at,
        });
    }
    (rows, published)
}

pub(super) fn participations(
    rng: &mut DemoRng,
    world: &World,
    published: &[Published],
    first_id: i64,
) -> Vec<topic_participation::Model> {
    let mut rows = Vec::new();
    for topic in published {
        let e = topic.town.map(|t| world.engagement[t]).unwrap_or(1.0);
        let mut voted = HashSet::new();
        let mean = CROWD * e * between(rng, 0.5, 1.5);
        for _ in 0..poisson(rng, mean) {
            let when = instant(rng, topic.published_at, topic.closes_at);
            let member = match topic.town {
                Some(t) => world.participant(rng, t, 0.8, when),
                None => world.member_before(rng, None, when),
            };
            let Some(member) = member else { continue };
            let name = topic.town.map(|t| world.town_name(t)).unwrap_or("东莞");
            let (kind, body) = if chance(rng, 0.35) && voted.insert(member) {
                (ParticipationKind::Vote, None)
            } else {
                (
                    ParticipationKind::Comment,
                    Some(text::fill(pick_str(rng, &text::COMMENTS), name)),
                )
            };
            rows.push(topic_participation::Model {
                id: first_id + rows.len() as i64,
                topic_id: topic.id,
                member_id: world.members[member].id,
                kind,
                body,
                created_at: when,
            });
        }
    }
    rows
}
