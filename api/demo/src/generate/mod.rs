//! The generated activity of Oct–Dec 2017: members, experts, Q&A, topics, activities with
//! their whole loop, service requests, visits, targets, meetings, incentive applications and
//! requests for platform training.
//!
//! Each stage is a pure function of the seeded RNG and what earlier stages produced; this
//! module runs them in order and hands the rows to the bulk [`Loader`].

pub(super) mod activities;
mod activity_loop;
mod admin;
mod incentives;
mod members;
mod qa;
mod services;
mod topics;
mod training;
mod visits;

use chrono::{DateTime, Utc};
use entities::{
    activity, activity_checkin, activity_comment, activity_like, activity_photo, activity_review,
    activity_signup, answer, daily_visit, expert, incentive_application, incentive_intent,
    meeting_attendance, member, platform_training_request, question, service_request,
    service_request_event, supervision_meeting, supervisor_assignment, target, topic,
    topic_participation,
};
use rand::SeedableRng;
use sea_orm::DatabaseTransaction;

use super::bulk::Loader;
use super::ensure::Structure;
use super::random::{between, index, DemoRng, Weighted};
use super::DemoOptions;

/// A generated member, as later stages need it.
pub(crate) struct MemberInfo {
    pub id: i64,
    /// Index into [`Structure::towns`]; none for the platform's own assistant account.
    pub town: Option<usize>,
    pub registered_at: DateTime<Utc>,
}

/// A generated expert.
pub(crate) struct ExpertInfo {
    pub id: i64,
    pub joined_at: DateTime<Utc>,
}

/// What the stages share: the structure, each town's engagement and the members so far.
pub(crate) struct World<'s> {
    pub structure: &'s Structure,
    pub scale: f64,
    /// Engagement per town: the static factor with a seeded ±15 % jitter.
    pub engagement: Vec<f64>,
    /// Sorted by registration time (ids ascend with it).
    pub members: Vec<MemberInfo>,
    /// Indices into `members` per town, in registration order.
    pub by_town: Vec<Vec<usize>>,
    /// Indices of all members who belong to a town, in registration order.
    pub everyone: Vec<usize>,
    /// Which town acts next: weighted by members × engagement, so busy towns dominate.
    pub activity: Weighted,
    pub experts: Vec<ExpertInfo>,
}

impl<'s> World<'s> {
    fn new(
        structure: &'s Structure,
        scale: f64,
        engagement: Vec<f64>,
        members: Vec<MemberInfo>,
    ) -> Self {
        let mut by_town = vec![Vec::new(); structure.towns.len()];
        let mut everyone = Vec::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            if let Some(t) = m.town {
                by_town[t].push(i);
                everyone.push(i);
            }
        }
        let activity = Weighted::new(
            by_town
                .iter()
                .zip(&engagement)
                .map(|(pool, e)| (pool.len() as f64 + 1.0) * e),
        );
        Self {
            structure,
            scale,
            engagement,
            members,
            by_town,
            everyone,
            activity,
            experts: Vec::new(),
        }
    }

    /// A member who had registered before `before`: from `town` if given (else anyone).
    pub fn member_before(
        &self,
        rng: &mut DemoRng,
        town: Option<usize>,
        before: DateTime<Utc>,
    ) -> Option<usize> {
        let pool = match town {
            Some(t) => self.by_town.get(t)?,
            None => &self.everyone,
        };
        let eligible = pool.partition_point(|&i| self.members[i].registered_at < before);
        (eligible > 0).then(|| pool[index(rng, eligible)])
    }

    /// A member of `town` most of the time (`local` share), anyone otherwise.
    pub fn participant(
        &self,
        rng: &mut DemoRng,
        town: usize,
        local: f64,
        before: DateTime<Utc>,
    ) -> Option<usize> {
        if super::random::chance(rng, local) {
            self.member_before(rng, Some(town), before)
        } else {
            self.member_before(rng, None, before)
        }
    }

    /// An expert who had joined before `before`.
    pub fn expert_before(&self, rng: &mut DemoRng, before: DateTime<Utc>) -> Option<i64> {
        let eligible: Vec<i64> = self
            .experts
            .iter()
            .filter(|e| e.joined_at < before)
            .map(|e| e.id)
            .collect();
        super::random::pick(rng, &eligible).copied()
    }

    /// The town's name (for text templates).
    pub fn town_name(&self, town: usize) -> &'static str {
        self.structure
            .towns
            .get(town)
            .map(|t| t.spec.name)
            .unwrap_or("东莞")
    }

    /// A count scaled by the load's scale, never negative.
    pub fn scaled(&self, base: f64) -> f64 {
        (base * self.scale).max(0.0)
    }

    /// A count of published things (activities, topics) scaled by the load's scale, but only
    /// by its square root below 1: a small test data set still gives every town several
    /// activities, which is what rankings and eligibility rules need to show differences.
    pub fn published(&self, base: f64) -> f64 {
        let factor = if self.scale < 1.0 {
            self.scale.sqrt()
        } else {
            self.scale
        };
        (base * factor).max(0.0)
    }
}

/// Generates everything and inserts it, stage by stage.
pub(crate) async fn run(
    txn: &DatabaseTransaction,
    structure: &Structure,
    options: &DemoOptions,
) -> anyhow::Result<()> {
    let mut rng = DemoRng::seed_from_u64(options.seed);
    let mut loader = Loader::new(txn, options.progress);
    let engagement: Vec<f64> = structure
        .towns
        .iter()
        .map(|t| t.spec.engagement * between(&mut rng, 0.85, 1.15))
        .collect();

    let first = loader.next_id::<member::Entity>().await?;
    let (rows, members) = members::members(&mut rng, structure, &engagement, options.scale, first);
    loader.insert::<member::Entity>("members", rows).await?;
    let mut world = World::new(structure, options.scale, engagement, members);

    let first = loader.next_id::<expert::Entity>().await?;
    let (rows, experts) = members::experts(&mut rng, &world, first);
    loader.insert::<expert::Entity>("experts", rows).await?;
    world.experts = experts;

    let first = loader.next_id::<question::Entity>().await?;
    let (rows, asked) = qa::questions(&mut rng, &world, first);
    loader.insert::<question::Entity>("questions", rows).await?;
    let first = loader.next_id::<answer::Entity>().await?;
    loader
        .insert::<answer::Entity>("answers", qa::answers(&mut rng, &world, &asked, first))
        .await?;

    let first = loader.next_id::<topic::Entity>().await?;
    let (rows, published) = topics::topics(&mut rng, &world, first);
    loader.insert::<topic::Entity>("topics", rows).await?;
    let first = loader.next_id::<topic_participation::Entity>().await?;
    let rows = topics::participations(&mut rng, &world, &published, first);
    loader
        .insert::<topic_participation::Entity>("topic participations", rows)
        .await?;

    let first = loader.next_id::<activity::Entity>().await?;
    let (rows, held) = activities::activities(&mut rng, &world, first);
    loader
        .insert::<activity::Entity>("activities", rows)
        .await?;
    let ids = activity_loop::FirstIds {
        signup: loader.next_id::<activity_signup::Entity>().await?,
        checkin: loader.next_id::<activity_checkin::Entity>().await?,
        comment: loader.next_id::<activity_comment::Entity>().await?,
        review: loader.next_id::<activity_review::Entity>().await?,
        like: loader.next_id::<activity_like::Entity>().await?,
        photo: loader.next_id::<activity_photo::Entity>().await?,
    };
    let rows = activity_loop::generate(&mut rng, &world, &held, ids);
    loader
        .insert::<activity_signup::Entity>("sign-ups", rows.signups)
        .await?;
    loader
        .insert::<activity_checkin::Entity>("check-ins", rows.checkins)
        .await?;
    loader
        .insert::<activity_comment::Entity>("comments", rows.comments)
        .await?;
    loader
        .insert::<activity_review::Entity>("reviews", rows.reviews)
        .await?;
    loader
        .insert::<activity_like::Entity>("likes and votes", rows.likes)
        .await?;
    loader
        .insert::<activity_photo::Entity>("photos", rows.photos)
        .await?;

    let first = (
        loader.next_id::<service_request::Entity>().await?,
        loader.next_id::<service_request_event::Entity>().await?,
    );
    let (requests, events) = services::generate(&mut rng, &world, first);
    loader
        .insert::<service_request::Entity>("service requests", requests)
        .await?;
    loader
        .insert::<service_request_event::Entity>("service events", events)
        .await?;

    let first = loader.next_id::<daily_visit::Entity>().await?;
    loader
        .insert::<daily_visit::Entity>(
            "daily visits",
            visits::daily_visits(&mut rng, &world, first),
        )
        .await?;
    let first = loader.next_id::<target::Entity>().await?;
    loader
        .insert::<target::Entity>("targets", visits::targets(&world, first))
        .await?;

    let first = loader.next_id::<supervision_meeting::Entity>().await?;
    let (meetings, held_meetings) = admin::meetings(structure, first);
    loader
        .insert::<supervision_meeting::Entity>("supervision meetings", meetings)
        .await?;
    let first = loader.next_id::<meeting_attendance::Entity>().await?;
    loader
        .insert::<meeting_attendance::Entity>(
            "attendance receipts",
            admin::receipts(&mut rng, structure, &held_meetings, first),
        )
        .await?;
    let first = loader.next_id::<supervisor_assignment::Entity>().await?;
    loader
        .insert::<supervisor_assignment::Entity>(
            "supervisors",
            admin::supervisors(&mut rng, structure, first),
        )
        .await?;

    let first = (
        loader.next_id::<incentive_application::Entity>().await?,
        loader.next_id::<incentive_intent::Entity>().await?,
    );
    let (mut applications, mut intents) = admin::applications(&mut rng, &world, &held, first);
    let next = (
        first.0 + applications.len() as i64,
        first.1 + intents.len() as i64,
    );
    let (programme, programme_intents) = incentives::applications(&mut rng, &world, &held, next);
    applications.extend(programme);
    intents.extend(programme_intents);
    loader
        .insert::<incentive_application::Entity>("incentive applications", applications)
        .await?;
    loader
        .insert::<incentive_intent::Entity>("incentive intents", intents)
        .await?;
    let first = loader
        .next_id::<platform_training_request::Entity>()
        .await?;
    loader
        .insert::<platform_training_request::Entity>(
            "platform training requests",
            training::requests(&mut rng, &world, first),
        )
        .await?;

    loader.finish().await
}
