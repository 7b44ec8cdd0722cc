//! Questions and answers (提问/回答).
//!
//! About 3,000 questions at scale 1, asked mostly in engaged towns; some are spam, deleted
//! or too short to be valid. About 5,000 answers, by members, experts and org units, with
//! delays from minutes to days. Nothing is answered after the demo's end.

use chrono::{DateTime, Utc};
use entities::{answer, enums::ModerationStatus, question};

use super::World;
use crate::random::{
    chance, delay, demo_end, instant, int, pick, pick_str, poisson, q4_start, DemoRng,
};
use crate::text;

const QUESTIONS: f64 = 3000.0;

/// A stored question, for the answer stage.
pub(super) struct Asked {
    id: i64,
    town: usize,
    asker: usize,
    status: ModerationStatus,
    addressed_to: Option<i64>,
    asked_at: DateTime<Utc>,
}

pub(super) fn questions(
    rng: &mut DemoRng,
    world: &World,
    first_id: i64,
) -> (Vec<question::Model>, Vec<Asked>) {
    let n = world.scaled(QUESTIONS).round() as usize;
    let end = demo_end();
    let mut rows = Vec::with_capacity(n);
    let mut asked = Vec::with_capacity(n);
    for _ in 0..n {
        let town = world.activity.sample(rng);
        let when = instant(rng, q4_start(), end);
        let Some(asker) = world.member_before(rng, Some(town), when) else {
            continue;
        };
        let name = world.town_name(town);
        let status = match int(rng, 0, 99) {
            0..=6 => ModerationStatus::Spam,
            7..=11 => ModerationStatus::Deleted,
            _ => ModerationStatus::Visible,
        };
        let (title, body) = if chance(rng, 0.06) {
            let short = pick_str(rng, &text::SHORT_QUESTIONS);
            (short.to_owned(), short.to_owned())
        } else {
            let (title, body) = pick(rng, &text::QUESTIONS)
                .copied()
                .unwrap_or(("求助", "求助"));
            (text::fill(title, name), text::fill(body, name))
        };
        // A third are addressed to the town's committee or one of its Youth Homes.
        let t = &world.structure.towns[town];
        let addressed_to = if chance(rng, 0.35) {
            if chance(rng, 0.6) {
                Some(t.id)
            } else {
                pick(rng, &t.homes)
                    .filter(|h| h.founded_on <= qii_engine::time::local_day(when))
                    .map(|h| h.id)
            }
        } else {
            None
        };
        let id = first_id + rows.len() as i64;
        rows.push(question::Model {
            id,
            asker_id: world.members[asker].id,
            addressed_to_id: addressed_to,
            title,
            body,
            status,
            asked_at: when,
        });
        asked.push(Asked {
            id,
            town,
            asker,
            status,
            addressed_to,
            asked_at: when,
        });
    }
    (rows, asked)
}

/// Who writes an answer: exactly one of member, expert, org unit (a CHECK enforces it).
enum Author {
    Member(i64),
    Expert(i64),
    Unit(i64),
}

pub(super) fn answers(
    rng: &mut DemoRng,
    world: &World,
    asked: &[Asked],
    first_id: i64,
) -> Vec<answer::Model> {
    let end = demo_end();
    let mut rows = Vec::new();
    for q in asked {
        let e = world.engagement[q.town];
        let lambda = if q.status == ModerationStatus::Visible {
            1.1 + 0.55 * e
        } else {
            0.3
        };
        let mut at = q.asked_at;
        for k in 0..poisson(rng, lambda) {
            at += delay(rng, 3.0, 4.0 * 24.0 * 60.0);
            if at > end {
                break;
            }
            let Some(author) = author(rng, world, q, k, at) else {
                continue;
            };
            let name = world.town_name(q.town);
            let (member_id, expert_id, org_unit_id, body) = match author {
                Author::Member(id) => (
                    Some(id),
                    None,
                    None,
                    text::fill(pick_str(rng, &text::MEMBER_ANSWERS), name),
                ),
                Author::Expert(id) => (
                    None,
                    Some(id),
                    None,
                    pick_str(rng, &text::EXPERT_ANSWERS).to_owned(),
                ),
                Author::Unit(id) => (
                    None,
                    None,
                    Some(id),
                    text::fill(pick_str(rng, &text::ORG_ANSWERS), name),
                ),
            };
            rows.push(answer::Model {
                id: first_id + rows.len() as i64,
                question_id: q.id,
                member_id,
                expert_id,
                org_unit_id,
                body,
                answered_at: at,
            });
        }
    }
    rows
}

/// The author of the `k`-th answer: the addressed unit usually answers first; otherwise
/// members, experts (once they have joined) and the asker's town or Youth Homes.
fn author(
    rng: &mut DemoRng,
    world: &World,
    q: &Asked,
    k: usize,
    at: DateTime<Utc>,
) -> Option<Author> {
    if k == 0 {
        if let Some(unit) = q.addressed_to.filter(|_| chance(rng, 0.7)) {
            return Some(Author::Unit(unit));
        }
    }
    let t = &world.structure.towns[q.town];
    match int(rng, 0, 99) {
        0..=44 => world
            .participant(rng, q.town, 0.6, at)
            .filter(|&m| m != q.asker)
            .map(|m| Author::Member(world.members[m].id)),
        45..=69 => world.expert_before(rng, at).map(Author::Expert),
        70..=94 => {
            let homes: Vec<i64> = t
                .homes
                .iter()
                .filter(|h| h.founded_on <= qii_engine::time::local_day(at))
                .map(|h| h.id)
                .collect();
            match pick(rng, &homes) {
                Some(&home) if chance(rng, 0.4) => Some(Author::Unit(home)),
                _ => Some(Author::Unit(t.id)),
            }
        }
        _ => pick(rng, &world.structure.city_units).map(|&u| Author::Unit(u)),
    }
}
