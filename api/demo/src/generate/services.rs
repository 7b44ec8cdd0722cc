//! Offline service requests at Youth Homes (线下服务) with their status history.
//!
//! A handful per Youth Home, submitted after it was founded. Each moves along
//! submitted → reviewed → intervening → completed as far as its luck and the calendar allow,
//! with one history event per step (the applicant submits, the home's admin does the rest);
//! most completed requests are rated by the applicant.

use chrono::{DateTime, Duration, Utc};
use entities::enums::ServiceRequestStatus as S;
use entities::{service_request, service_request_event};

use super::World;
use crate::random::{
    at, chance, delay, demo_end, instant, int, pick, pick_str, poisson, q4_start, rating, DemoRng,
};
use crate::text;
use qii_domain::identity::{Actor, Role};

/// Minutes each step takes at least and at most (log-uniform): review, intervene, complete.
const STEPS: [(S, f64, f64); 3] = [
    (S::Reviewed, 30.0, 2.0 * 24.0 * 60.0),
    (S::Intervening, 60.0, 4.0 * 24.0 * 60.0),
    (S::Completed, 24.0 * 60.0, 10.0 * 24.0 * 60.0),
];

/// Which of [`text::SERVICE_NOTES`] goes with each step.
const NOTES: [usize; 3] = [0, 1, 3];

pub(super) fn generate(
    rng: &mut DemoRng,
    world: &World,
    (first_request, first_event): (i64, i64),
) -> (
    Vec<service_request::Model>,
    Vec<service_request_event::Model>,
) {
    let mut requests = Vec::new();
    let mut events = Vec::new();
    let end = demo_end();
    for (t, town) in world.structure.towns.iter().enumerate() {
        let e = world.engagement[t];
        for home in &town.homes {
            let opened = at(home.founded_on, 9, 0).max(q4_start());
            for _ in 0..1 + poisson(rng, world.scaled(2.5) * e) {
                let submitted_at = instant(rng, opened, end - Duration::days(1));
                let Some(applicant) = world.participant(rng, t, 0.9, submitted_at) else {
                    continue;
                };
                let applicant_id = world.members[applicant].id;
                let id = first_request + requests.len() as i64;
                // How far this request is meant to get; the calendar may stop it earlier.
                let goal = match int(rng, 0, 99) {
                    0..=12 => 0,
                    13..=26 => 1,
                    27..=44 => 2,
                    _ => 3,
                };
                let mut push = |from: Option<S>,
                                to: S,
                                actor: String,
                                note: Option<String>,
                                when: DateTime<Utc>| {
                    events.push(service_request_event::Model {
                        id: first_event + events.len() as i64,
                        request_id: id,
                        from_status: from,
                        to_status: to,
                        actor,
                        note,
                        at: when,
                    });
                };
                push(
                    None,
                    S::Submitted,
                    Actor::new(Role::Member(applicant_id), "").label(),
                    None,
                    submitted_at,
                );
                let mut status = S::Submitted;
                let mut last = submitted_at;
                for (step, &(to, min, max)) in STEPS.iter().enumerate().take(goal) {
                    let when = last + delay(rng, min, max);
                    if when > end {
                        break;
                    }
                    let note =
                        chance(rng, 0.7).then(|| text::SERVICE_NOTES[NOTES[step]].to_owned());
                    push(
                        Some(status),
                        to,
                        Actor::new(Role::YouthHomeAdmin(home.id), format!("home{}", home.id))
                            .label(),
                        note,
                        when,
                    );
                    status = to;
                    last = when;
                }
                // The applicant is asked to evaluate a completed request (rate + feedback).
                let rated_at = (status == S::Completed && chance(rng, 0.75))
                    .then(|| last + delay(rng, 60.0, 4.0 * 24.0 * 60.0))
                    .filter(|&r| r <= end);
                let (title, description) = pick(rng, &text::SERVICES)
                    .copied()
                    .unwrap_or(("服务申请", "服务申请"));
                requests.push(service_request::Model {
                    id,
                    youth_home_id: home.id,
                    applicant_id,
                    title: title.to_owned(),
                    description: text::fill(description, town.spec.name),
                    status,
                    submitted_at,
                    updated_at: rated_at.unwrap_or(last),
                    rating: rated_at.map(|_| rating(rng, e)),
                    feedback: rated_at
                        .filter(|_| chance(rng, 0.7))
                        .map(|_| pick_str(rng, &text::SERVICE_FEEDBACK).to_owned()),
                    rated_at,
                });
            }
        }
    }
    (requests, events)
}
