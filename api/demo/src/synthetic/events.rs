//! The events of the period, generated one parent at a time so that a budget of rows can be
//! met exactly: an activity with its whole loop (sign-ups, check-ins, comments, reviews,
//! likes and votes, photos), a question with its answers, a topic with its participations.
//!
//! Everything happens inside the period: an event that would fall after its end is not
//! generated. The loop is deliberately incomplete in places, as on the platform, so that the
//! eligibility rule has something to decide: some activities get no sign-ups, some no
//! check-ins, and photos come after the end for most, only before it for some, never for
//! the rest.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use entities::enums::{
    ActivityCategory, ActivityKind, LikeKind, ModerationStatus, ParticipationKind,
};
use entities::{
    activity, activity_checkin, activity_comment, activity_like, activity_photo, activity_review,
    activity_signup, answer, question, topic, topic_participation,
};

use super::world::{distinct_before, pick_before, Pooled, Town, World};
use crate::bulk::Loader;
use crate::generate::activities::{
    category, title, CAPACITIES, HOME_CATEGORIES, OFFLINE_CATEGORIES, ONLINE_CATEGORIES, SLOTS,
};
use crate::random::{
    at, between, chance, delay, instant, int, pick, pick_str, poisson, rating, unit, DemoRng,
};
use crate::text;
use qii_engine::time::local_day;

/// Rows generated per table (so far).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounts {
    pub activities: u64,
    pub signups: u64,
    pub checkins: u64,
    pub comments: u64,
    pub reviews: u64,
    pub likes: u64,
    pub photos: u64,
    pub questions: u64,
    pub answers: u64,
    pub topics: u64,
    pub participations: u64,
}

impl EventCounts {
    /// Every event row.
    pub fn total(&self) -> u64 {
        self.activities
            + self.signups
            + self.checkins
            + self.comments
            + self.reviews
            + self.likes
            + self.photos
            + self.questions
            + self.answers
            + self.topics
            + self.participations
    }
}

/// The first id of each event table.
pub(super) type FirstIds = EventCounts;

/// Generated event rows waiting to be inserted, and the counts that give the next ids.
pub(super) struct Events {
    first: FirstIds,
    pub counts: EventCounts,
    activities: Vec<activity::Model>,
    signups: Vec<activity_signup::Model>,
    checkins: Vec<activity_checkin::Model>,
    comments: Vec<activity_comment::Model>,
    reviews: Vec<activity_review::Model>,
    likes: Vec<activity_like::Model>,
    photos: Vec<activity_photo::Model>,
    questions: Vec<question::Model>,
    answers: Vec<answer::Model>,
    topics: Vec<topic::Model>,
    participations: Vec<topic_participation::Model>,
}

/// The next id of a table: its first id plus the rows generated so far, which it counts.
macro_rules! next_id {
    ($events:expr, $table:ident) => {{
        let id = $events.first.$table as i64 + $events.counts.$table as i64;
        $events.counts.$table += 1;
        id
    }};
}

impl Events {
    pub fn new(first: FirstIds) -> Self {
        Self {
            first,
            counts: EventCounts::default(),
            activities: Vec::new(),
            signups: Vec::new(),
            checkins: Vec::new(),
            comments: Vec::new(),
            reviews: Vec::new(),
            likes: Vec::new(),
            photos: Vec::new(),
            questions: Vec::new(),
            answers: Vec::new(),
            topics: Vec::new(),
            participations: Vec::new(),
        }
    }

    /// Rows waiting to be inserted.
    pub fn pending(&self) -> usize {
        self.activities.len()
            + self.signups.len()
            + self.checkins.len()
            + self.comments.len()
            + self.reviews.len()
            + self.likes.len()
            + self.photos.len()
            + self.questions.len()
            + self.answers.len()
            + self.topics.len()
            + self.participations.len()
    }

    /// Inserts the waiting rows, parents first.
    pub async fn flush(&mut self, loader: &mut Loader<'_>) -> anyhow::Result<()> {
        use std::mem::take;
        loader
            .insert::<activity::Entity>("activities", take(&mut self.activities))
            .await?;
        loader
            .insert::<activity_signup::Entity>("sign-ups", take(&mut self.signups))
            .await?;
        loader
            .insert::<activity_checkin::Entity>("check-ins", take(&mut self.checkins))
            .await?;
        loader
            .insert::<activity_comment::Entity>("comments", take(&mut self.comments))
            .await?;
        loader
            .insert::<activity_review::Entity>("reviews", take(&mut self.reviews))
            .await?;
        loader
            .insert::<activity_like::Entity>("likes and votes", take(&mut self.likes))
            .await?;
        loader
            .insert::<activity_photo::Entity>("photos", take(&mut self.photos))
            .await?;
        loader
            .insert::<question::Entity>("questions", take(&mut self.questions))
            .await?;
        loader
            .insert::<answer::Entity>("answers", take(&mut self.answers))
            .await?;
        loader
            .insert::<topic::Entity>("topics", take(&mut self.topics))
            .await?;
        loader
            .insert::<topic_participation::Entity>(
                "topic participations",
                take(&mut self.participations),
            )
            .await?;
        Ok(())
    }

    /// One activity of a town (published by it, one of its Youth Homes or its school or
    /// enterprise) with its loop. Returns the rows generated.
    pub fn activity(&mut self, rng: &mut DemoRng, world: &World) -> u64 {
        let before = self.counts.total();
        let town = &world.towns[world.busy.sample(rng)];
        let period = world.period;
        let (start, end) = (period.start_utc(), period.end_utc());
        let day = period.first_day() + Duration::days(int(rng, 0, period.days() - 1));
        let (org_unit_id, home) = match int(rng, 0, 99) {
            0..=39 => (town.id, false),
            40..=89 => match town.home_on(rng, day) {
                Some(home) => (home, true),
                None => (town.id, false),
            },
            _ => (town.sub_unit.unwrap_or(town.id), false),
        };
        let kind = if chance(rng, 0.85) {
            ActivityKind::Offline
        } else {
            ActivityKind::OnlineTopic
        };
        let category = match kind {
            ActivityKind::OnlineTopic => category(rng, &ONLINE_CATEGORIES),
            _ if home => category(rng, &HOME_CATEGORIES),
            _ => category(rng, &OFFLINE_CATEGORIES),
        };
        let (h, m) = pick(rng, &SLOTS).copied().unwrap_or((14, 0));
        let starts_at = at(day, h, m);
        let ends_at = starts_at + Duration::minutes(int(rng, 4, 8) * 30);
        let published_at = instant(
            rng,
            (starts_at - Duration::days(10)).max(start),
            starts_at - Duration::hours(1),
        );
        let deadline = chance(rng, 0.6).then(|| starts_at - Duration::hours(1));
        let capacity = pick(rng, &CAPACITIES).copied().unwrap_or(50);
        let id = next_id!(self, activities);
        self.activities.push(activity::Model {
            id,
            org_unit_id,
            title: text::fill(title(rng, kind, category), &town.name),
            description: text::fill(pick_str(rng, &text::DESCRIPTIONS), &town.name),
            kind,
            category,
            starts_at,
            ends_at,
            signup_deadline: deadline,
            place: (kind == ActivityKind::Offline)
                .then(|| text::fill(pick_str(rng, &text::PLACES), &town.name)),
            capacity: Some(capacity),
            heavyweight: false,
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

        let quality = town.engagement * between(rng, 0.6, 1.4);
        let signed = self.signups(rng, town, id, capacity, quality, published_at, starts_at);
        let attended = self.checkins(rng, &signed, starts_at, quality);
        self.reviews(rng, id, &attended, ends_at, end, quality);
        self.comments(rng, town, id, &attended, ends_at, end, quality);
        self.likes(rng, id, &signed, category, ends_at, end);
        self.photos(rng, id, published_at, ends_at, end, quality);
        self.counts.total() - before
    }

    /// Sign-ups by the town's members registered before publication, up to the capacity;
    /// one activity in twenty finds nobody. Returns (sign-up id, member, signed up at).
    #[allow(clippy::too_many_arguments)]
    fn signups(
        &mut self,
        rng: &mut DemoRng,
        town: &Town,
        activity_id: i64,
        capacity: i32,
        quality: f64,
        published_at: DateTime<Utc>,
        closes: DateTime<Utc>,
    ) -> Vec<(i64, Pooled)> {
        if chance(rng, 0.05) {
            return Vec::new();
        }
        let fill = (between(rng, 0.15, 0.9) * (0.6 + 0.4 * quality)).clamp(0.05, 1.0);
        let wanted = (f64::from(capacity) * fill).round() as usize;
        let mut out = Vec::with_capacity(wanted);
        for (_, member_id) in distinct_before(rng, &town.members, published_at, wanted) {
            let when = instant(rng, published_at, closes);
            let id = next_id!(self, signups);
            self.signups.push(activity_signup::Model {
                id,
                activity_id,
                member_id,
                signed_up_at: when,
            });
            out.push((id, (when, member_id)));
        }
        out
    }

    /// Check-ins after the start; some activities never ran the step. Returns who attended.
    fn checkins(
        &mut self,
        rng: &mut DemoRng,
        signed: &[(i64, Pooled)],
        starts_at: DateTime<Utc>,
        quality: f64,
    ) -> Vec<Pooled> {
        if chance(rng, 0.08) {
            return Vec::new();
        }
        let rate = (0.5 + 0.2 * quality).clamp(0.3, 0.95);
        let mut attended = Vec::new();
        for &(signup_id, (_, member_id)) in signed {
            if !chance(rng, rate) {
                continue;
            }
            let when = starts_at + Duration::minutes(int(rng, 0, 40));
            let id = next_id!(self, checkins);
            self.checkins.push(activity_checkin::Model {
                id,
                signup_id,
                checked_in_at: when,
            });
            attended.push((when, member_id));
        }
        attended
    }

    /// At most one review per attendee, after the end.
    fn reviews(
        &mut self,
        rng: &mut DemoRng,
        activity_id: i64,
        attended: &[Pooled],
        ends_at: DateTime<Utc>,
        end: DateTime<Utc>,
        quality: f64,
    ) {
        for &(_, member_id) in attended {
            if !chance(rng, 0.25 + 0.15 * quality) {
                continue;
            }
            let when = ends_at + delay(rng, 10.0, 2.0 * 24.0 * 60.0);
            if when >= end {
                continue;
            }
            let stars = rating(rng, quality);
            let body = chance(rng, 0.5).then(|| {
                let list: &[&'static str] = if stars >= 4 {
                    &text::REVIEWS_GOOD
                } else {
                    &text::REVIEWS_BAD
                };
                pick_str(rng, list).to_owned()
            });
            let id = next_id!(self, reviews);
            self.reviews.push(activity_review::Model {
                id,
                activity_id,
                member_id,
                rating: stars,
                body,
                created_at: when,
            });
        }
    }

    /// Comments by attendees, from their check-in to a day after the end.
    #[allow(clippy::too_many_arguments)]
    fn comments(
        &mut self,
        rng: &mut DemoRng,
        town: &Town,
        activity_id: i64,
        attended: &[Pooled],
        ends_at: DateTime<Utc>,
        end: DateTime<Utc>,
        quality: f64,
    ) {
        if attended.is_empty() {
            return;
        }
        for _ in 0..poisson(rng, attended.len() as f64 * 0.2 * quality.min(1.5)) {
            let (checked_in, member_id) = attended[int(rng, 0, attended.len() as i64 - 1) as usize];
            let when = instant(rng, checked_in, ends_at + Duration::days(1));
            if when >= end {
                continue;
            }
            let id = next_id!(self, comments);
            self.comments.push(activity_comment::Model {
                id,
                activity_id,
                member_id,
                body: text::fill(pick_str(rng, &text::COMMENTS), &town.name),
                created_at: when,
            });
        }
    }

    /// Likes from those who signed up; in contests, votes too (one of each per member).
    fn likes(
        &mut self,
        rng: &mut DemoRng,
        activity_id: i64,
        signed: &[(i64, Pooled)],
        category: ActivityCategory,
        ends_at: DateTime<Utc>,
        end: DateTime<Utc>,
    ) {
        let mut kinds = vec![(LikeKind::Like, 0.4)];
        if category == ActivityCategory::Contest {
            kinds.push((LikeKind::Vote, 0.5));
        }
        for (kind, share) in kinds {
            for &(_, (signed_at, member_id)) in signed {
                if !chance(rng, share) {
                    continue;
                }
                let when = instant(rng, signed_at, ends_at + Duration::days(1));
                if when >= end {
                    continue;
                }
                let id = next_id!(self, likes);
                self.likes.push(activity_like::Model {
                    id,
                    activity_id,
                    member_id,
                    kind,
                    created_at: when,
                });
            }
        }
    }

    /// Photos after the end for most activities, a poster before the end for some.
    fn photos(
        &mut self,
        rng: &mut DemoRng,
        activity_id: i64,
        published_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        end: DateTime<Utc>,
        quality: f64,
    ) {
        let after = (0.5 + 0.2 * quality).clamp(0.35, 0.92);
        let draw = unit(rng);
        let mut uploads = Vec::new();
        if draw < after + 0.12 && (draw >= after || chance(rng, 0.15)) {
            uploads.push(instant(rng, published_at, ends_at));
        }
        if draw < after {
            for _ in 0..int(rng, 1, 6) {
                uploads.push(ends_at + delay(rng, 30.0, 2.0 * 24.0 * 60.0));
            }
        }
        for (n, when) in uploads.into_iter().filter(|w| *w < end).enumerate() {
            let id = next_id!(self, photos);
            self.photos.push(activity_photo::Model {
                id,
                activity_id,
                url: format!(
                    "https://synthetic.invalid/photos/activity-{activity_id}/{}.jpg",
                    n + 1
                ),
                caption: chance(rng, 0.5).then(|| pick_str(rng, &text::PHOTO_CAPTIONS).to_owned()),
                uploaded_at: when,
                thumbnail_url: None,
            });
        }
    }

    /// One question to a town or one of its Youth Homes, with its answers by members, the
    /// town's experts or the unit asked. Spam and deleted questions get none. Returns the
    /// rows generated.
    pub fn question(&mut self, rng: &mut DemoRng, world: &World) -> u64 {
        let before = self.counts.total();
        let town = &world.towns[world.busy.sample(rng)];
        let period = world.period;
        let end = period.end_utc();
        let asked_at = instant(rng, period.start_utc(), end);
        let Some(asker_id) = world.member_before(rng, town, 0.85, asked_at) else {
            return 0;
        };
        let addressed_to = if chance(rng, 0.35) {
            town.home_on(rng, local_day(asked_at)).unwrap_or(town.id)
        } else {
            town.id
        };
        let status = match int(rng, 0, 99) {
            0..=87 => ModerationStatus::Visible,
            88..=94 => ModerationStatus::Spam,
            _ => ModerationStatus::Deleted,
        };
        let (title, body) = pick(rng, &text::QUESTIONS)
            .copied()
            .unwrap_or(text::QUESTIONS[0]);
        let question_id = next_id!(self, questions);
        self.questions.push(question::Model {
            id: question_id,
            asker_id,
            addressed_to_id: Some(addressed_to),
            title: text::fill(title, &town.name),
            body: text::fill(body, &town.name),
            status,
            asked_at,
        });
        if status != ModerationStatus::Visible {
            return self.counts.total() - before;
        }
        for _ in 0..poisson(rng, 1.2) {
            let answered_at = asked_at + delay(rng, 5.0, 3.0 * 24.0 * 60.0);
            if answered_at >= end {
                continue;
            }
            let (member_id, expert_id, org_unit_id, list): (_, _, _, &[&'static str]) =
                match int(rng, 0, 99) {
                    0..=44 => (
                        world.member_before(rng, town, 0.6, answered_at),
                        None,
                        None,
                        &text::MEMBER_ANSWERS,
                    ),
                    45..=69 => match pick_before(rng, &town.experts, answered_at) {
                        Some(expert) => (None, Some(expert), None, &text::EXPERT_ANSWERS),
                        None => (None, None, Some(addressed_to), &text::ORG_ANSWERS),
                    },
                    _ => (None, None, Some(addressed_to), &text::ORG_ANSWERS),
                };
            if member_id.is_none() && expert_id.is_none() && org_unit_id.is_none() {
                continue;
            }
            let id = next_id!(self, answers);
            self.answers.push(answer::Model {
                id,
                question_id,
                member_id,
                expert_id,
                org_unit_id,
                body: text::fill(pick_str(rng, list), &town.name),
                answered_at,
            });
        }
        self.counts.total() - before
    }

    /// One online topic of a town or one of its Youth Homes with its comments and votes (one
    /// vote per member). Returns the rows generated.
    pub fn topic(&mut self, rng: &mut DemoRng, world: &World) -> u64 {
        let before = self.counts.total();
        let town = &world.towns[world.busy.sample(rng)];
        let period = world.period;
        let end = period.end_utc();
        let published_at = instant(rng, period.start_utc(), end - Duration::hours(1));
        let org_unit_id = if chance(rng, 0.4) {
            town.home_on(rng, local_day(published_at))
                .unwrap_or(town.id)
        } else {
            town.id
        };
        let closes_at = published_at + Duration::days(int(rng, 7, 30));
        let topic_id = next_id!(self, topics);
        self.topics.push(topic::Model {
            id: topic_id,
            org_unit_id,
            title: text::fill(pick_str(rng, &text::TOPICS), &town.name),
            body: format!(
                "{}欢迎大家踊跃发言、投票。",
                text::fill(pick_str(rng, &text::DESCRIPTIONS), &town.name)
            ),
            published_at,
            closes_at: Some(closes_at),
        });
        let mut voted = HashSet::new();
        let crowd = 14.0 * town.engagement * between(rng, 0.5, 1.5);
        for _ in 0..poisson(rng, crowd) {
            let when = instant(rng, published_at, closes_at.min(end));
            let Some(member_id) = world.member_before(rng, town, 0.85, when) else {
                continue;
            };
            let (kind, body) = if chance(rng, 0.35) && voted.insert(member_id) {
                (ParticipationKind::Vote, None)
            } else {
                (
                    ParticipationKind::Comment,
                    Some(text::fill(pick_str(rng, &text::COMMENTS), &town.name)),
                )
            };
            let id = next_id!(self, participations);
            self.participations.push(topic_participation::Model {
                id,
                topic_id,
                member_id,
                kind,
                body,
                created_at: when,
            });
        }
        self.counts.total() - before
    }
}
