//! The full activity loop (活动闭环): sign-up → check-in → comments → reviews → photos, plus
//! likes and votes.
//!
//! The loop is deliberately incomplete in places so that eligibility rules have something to
//! decide: a few activities get no sign-ups, some no check-ins or reviews, and photos are
//! uploaded after the end for most, only before the end for some, and never for the rest.
//! Only activities with sign-ups *and* photos uploaded after the end count towards QII v2.0.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use entities::enums::{ActivityCategory, ActivityKind, LikeKind};
use entities::{
    activity_checkin, activity_comment, activity_like, activity_photo, activity_review,
    activity_signup,
};

use super::activities::Held;
use super::World;
use crate::random::{
    between, chance, delay, demo_end, instant, int, pick_str, poisson, rating, unit, DemoRng,
};
use crate::text;

/// The first free id of each table of the loop.
pub(crate) struct FirstIds {
    pub signup: i64,
    pub checkin: i64,
    pub comment: i64,
    pub review: i64,
    pub like: i64,
    pub photo: i64,
}

/// The generated rows of the loop, in insertion order (sign-ups before check-ins).
#[derive(Default)]
pub(crate) struct LoopRows {
    pub signups: Vec<activity_signup::Model>,
    pub checkins: Vec<activity_checkin::Model>,
    pub comments: Vec<activity_comment::Model>,
    pub reviews: Vec<activity_review::Model>,
    pub likes: Vec<activity_like::Model>,
    pub photos: Vec<activity_photo::Model>,
}

/// A member who took part: member index, sign-up time.
type Signed = (usize, DateTime<Utc>);

pub(crate) fn generate(rng: &mut DemoRng, world: &World, held: &[Held], ids: FirstIds) -> LoopRows {
    let mut out = LoopRows::default();
    for a in held {
        let e = a.town.map(|t| world.engagement[t]).unwrap_or(1.0);
        let quality = e * between(rng, 0.6, 1.4);
        let signed = signups(rng, world, a, quality, &ids, &mut out);
        let attended = checkins(rng, a, quality, &signed, &ids, &mut out);
        comments(rng, world, a, quality, &attended, &ids, &mut out);
        reviews(rng, world, a, quality, &attended, &ids, &mut out);
        likes(rng, world, a, quality, &signed, &ids, &mut out);
        photos(rng, a, quality, &ids, &mut out);
    }
    out
}

fn signups(
    rng: &mut DemoRng,
    world: &World,
    a: &Held,
    q: f64,
    ids: &FirstIds,
    out: &mut LoopRows,
) -> Vec<(i64, Signed)> {
    let wanted = if chance(rng, 0.05) {
        0
    } else if a.heavyweight {
        int(rng, 120, 350) as usize
    } else {
        match (a.kind, a.capacity) {
            (ActivityKind::Offline, Some(cap)) => (f64::from(cap)
                * (between(rng, 0.15, 0.9) * (0.6 + 0.4 * q)).clamp(0.05, 1.0))
            .round() as usize,
            _ => poisson(rng, 25.0 * q),
        }
    };
    let wanted = a
        .capacity
        .map_or(wanted, |cap| wanted.min(cap.max(0) as usize));
    let local = if a.town.is_some() { 0.85 } else { 0.0 };
    let mut seen = HashSet::new();
    let mut signed = Vec::with_capacity(wanted);
    // Bounded attempts: a small town may not have enough members for a big activity.
    for _ in 0..wanted * 3 {
        if signed.len() >= wanted {
            break;
        }
        let when = instant(rng, a.published_at, a.signups_close);
        let member = match a.town {
            Some(t) => world.participant(rng, t, local, when),
            None => world.member_before(rng, None, when),
        };
        let Some(member) = member.filter(|m| seen.insert(*m)) else {
            continue;
        };
        let id = ids.signup + out.signups.len() as i64;
        out.signups.push(activity_signup::Model {
            id,
            activity_id: a.id,
            member_id: world.members[member].id,
            signed_up_at: when,
        });
        signed.push((id, (member, when)));
    }
    signed
}

/// Check-ins happen after the start; some activities never ran the check-in step.
fn checkins(
    rng: &mut DemoRng,
    a: &Held,
    q: f64,
    signed: &[(i64, Signed)],
    ids: &FirstIds,
    out: &mut LoopRows,
) -> Vec<Signed> {
    if chance(rng, 0.08) {
        return Vec::new();
    }
    let rate = match a.kind {
        ActivityKind::Offline => (0.5 + 0.2 * q + 0.1 * (unit(rng) - 0.5)).clamp(0.3, 0.97),
        ActivityKind::OnlineTopic => between(rng, 0.3, 0.6),
    };
    let mut attended = Vec::new();
    for &(signup_id, (member, signed_at)) in signed {
        if !chance(rng, rate) {
            continue;
        }
        let when = match a.kind {
            ActivityKind::Offline => a.starts_at + Duration::minutes(int(rng, 0, 40)),
            ActivityKind::OnlineTopic => instant(rng, a.starts_at.max(signed_at), a.ends_at),
        };
        if when > demo_end() {
            continue;
        }
        out.checkins.push(activity_checkin::Model {
            id: ids.checkin + out.checkins.len() as i64,
            signup_id,
            checked_in_at: when,
        });
        attended.push((member, when));
    }
    attended
}

fn comments(
    rng: &mut DemoRng,
    world: &World,
    a: &Held,
    q: f64,
    attended: &[Signed],
    ids: &FirstIds,
    out: &mut LoopRows,
) {
    if attended.is_empty() {
        return;
    }
    let name = a.town.map(|t| world.town_name(t)).unwrap_or("东莞");
    let until = (a.ends_at + Duration::days(2)).min(demo_end());
    for _ in 0..poisson(rng, attended.len() as f64 * 0.2 * q.min(1.5)) {
        let (member, checked_in) = attended[int(rng, 0, attended.len() as i64 - 1) as usize];
        out.comments.push(activity_comment::Model {
            id: ids.comment + out.comments.len() as i64,
            activity_id: a.id,
            member_id: world.members[member].id,
            body: text::fill(pick_str(rng, &text::COMMENTS), name),
            created_at: instant(rng, checked_in, until),
        });
    }
}

/// One review per attending member at most, after the end; some activities collect none.
fn reviews(
    rng: &mut DemoRng,
    world: &World,
    a: &Held,
    q: f64,
    attended: &[Signed],
    ids: &FirstIds,
    out: &mut LoopRows,
) {
    if a.ends_at >= demo_end() || chance(rng, 0.06) {
        return;
    }
    for &(member, _) in attended {
        if !chance(rng, 0.25 + 0.15 * q) {
            continue;
        }
        let when = a.ends_at + delay(rng, 10.0, 3.0 * 24.0 * 60.0);
        if when > demo_end() {
            continue;
        }
        let stars = rating(rng, q);
        let body = chance(rng, 0.5).then(|| {
            let list: &[&'static str] = if stars >= 4 {
                &text::REVIEWS_GOOD
            } else {
                &text::REVIEWS_BAD
            };
            pick_str(rng, list).to_owned()
        });
        out.reviews.push(activity_review::Model {
            id: ids.review + out.reviews.len() as i64,
            activity_id: a.id,
            member_id: world.members[member].id,
            rating: stars,
            body,
            created_at: when,
        });
    }
}

/// Likes from participants and passers-by; votes only in contests. One of each kind per member.
fn likes(
    rng: &mut DemoRng,
    world: &World,
    a: &Held,
    q: f64,
    signed: &[(i64, Signed)],
    ids: &FirstIds,
    out: &mut LoopRows,
) {
    let until = (a.ends_at + Duration::days(3)).min(demo_end());
    let contest = a.category == ActivityCategory::Contest;
    let mut kinds = vec![(LikeKind::Like, 0.3 + 0.1 * q, 3.0 * q)];
    if contest {
        kinds.push((LikeKind::Vote, 0.5, 10.0 * q));
    }
    for (kind, participant_share, outsiders) in kinds {
        let mut seen = HashSet::new();
        let mut voters: Vec<(usize, DateTime<Utc>)> = Vec::new();
        for &(_, (member, signed_at)) in signed {
            if chance(rng, participant_share) {
                voters.push((member, instant(rng, signed_at, until)));
            }
        }
        for _ in 0..poisson(rng, outsiders) {
            let when = instant(rng, a.published_at, until);
            let member = match a.town {
                Some(t) => world.participant(rng, t, 0.7, when),
                None => world.member_before(rng, None, when),
            };
            if let Some(m) = member {
                voters.push((m, when));
            }
        }
        for (member, when) in voters {
            if !seen.insert(member) {
                continue;
            }
            out.likes.push(activity_like::Model {
                id: ids.like + out.likes.len() as i64,
                activity_id: a.id,
                member_id: world.members[member].id,
                kind,
                created_at: when,
            });
        }
    }
}

/// Photos after the end (the loop's last step) for most, a poster before the end for some.
fn photos(rng: &mut DemoRng, a: &Held, q: f64, ids: &FirstIds, out: &mut LoopRows) {
    if a.ends_at >= demo_end() {
        return;
    }
    let online = if a.kind == ActivityKind::OnlineTopic {
        0.6
    } else {
        1.0
    };
    let after = (0.5 + 0.2 * q).clamp(0.35, 0.92) * online;
    let draw = unit(rng);
    let mut uploads: Vec<DateTime<Utc>> = Vec::new();
    if draw < after + 0.12 && (draw >= after || chance(rng, 0.15)) {
        // A poster or preview before the end: does not count on its own.
        uploads.push(instant(rng, a.published_at, a.ends_at));
    }
    if draw < after {
        for _ in 0..int(rng, 1, 9) {
            let when = a.ends_at + delay(rng, 30.0, 4.0 * 24.0 * 60.0);
            if when <= demo_end() {
                uploads.push(when);
            }
        }
    }
    for (n, when) in uploads.into_iter().enumerate() {
        let id = ids.photo + out.photos.len() as i64;
        out.photos.push(activity_photo::Model {
            id,
            activity_id: a.id,
            url: format!(
                "https://demo.invalid/photos/activity-{}/{}.jpg",
                a.id,
                n + 1
            ),
            caption: chance(rng, 0.5).then(|| pick_str(rng, &text::PHOTO_CAPTIONS).to_owned()),
            uploaded_at: when,
            thumbnail_url: None,
        });
    }
}
