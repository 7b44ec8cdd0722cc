//! A synthetic data set of any size for benchmarks: `towns` towns under one city, each with
//! Youth Homes (one to five) and sometimes a school or an enterprise, their members, and
//! `events` event rows in one period, spread over the towns by size × engagement so that every
//! raw figure of the QII has data and rankings spread out.
//!
//! **Events** are the rows dated in the period that the index counts: activities with their
//! loop (sign-ups, check-ins, comments, reviews, likes and votes, photos) — about 78 % —,
//! questions with their answers — about 14 % —, and topics with their participations — the
//! rest. Each parent is generated with all its children until its share is reached, so the
//! total is `events` to within one activity. Members, experts, org units, daily visits (every
//! town and Youth Home, every day) and targets come on top and are counted separately.
//!
//! The demo's real structure and its Oct–Dec 2017 calendar do not scale, so the synthetic set
//! has its own structure and event generators; it shares the demo's bulk loader, random
//! helpers, category tables and texts. Rows are inserted in one transaction, in batches, as
//! they are generated, so memory stays bounded whatever the size. The database must hold no
//! org unit yet.

mod events;
mod imported;
mod world;

use std::fmt;

use anyhow::Context;
use entities::{
    activity, activity_checkin, activity_comment, activity_like, activity_photo, activity_review,
    activity_signup, answer, daily_visit, district, expert, member, org_unit, question, target,
    topic, topic_participation,
};
use rand::SeedableRng;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

pub use events::EventCounts;

use super::bulk::Loader;
use super::random::DemoRng;
use qii_engine::period::Period;

/// Shares of the event budget: the activity loop, then questions and answers; topics and
/// their participations take the rest.
const LOOP_SHARE: f64 = 0.78;
const QUESTION_SHARE: f64 = 0.14;
/// Generated rows are inserted once this many are waiting.
const BATCH_ROWS: usize = 200_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticOptions {
    /// Towns (the units ranked at the town level); at least one.
    pub towns: usize,
    /// Event rows in the period (see the module documentation).
    pub events: usize,
    /// The period the events fall in, e.g. a month.
    pub period: Period,
    /// Seed of the random generator: the same options give the same rows.
    pub seed: u64,
    /// Show a progress bar per batch on stderr.
    pub progress: bool,
}

/// Rows generated, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyntheticSummary {
    pub towns: u64,
    pub youth_homes: u64,
    /// All org units: the city, towns, Youth Homes, schools and enterprises.
    pub org_units: u64,
    pub members: u64,
    pub experts: u64,
    pub events: EventCounts,
    pub daily_visits: u64,
    pub targets: u64,
}

impl SyntheticSummary {
    /// Every row inserted.
    pub fn rows(&self) -> u64 {
        self.org_units
            + self.members
            + self.experts
            + self.events.total()
            + self.daily_visits
            + self.targets
    }
}

/// Generates the data set into `db` (migrated, without org units) in one transaction.
pub async fn load(
    db: &DatabaseConnection,
    options: &SyntheticOptions,
) -> anyhow::Result<SyntheticSummary> {
    anyhow::ensure!(
        options.towns > 0,
        "a synthetic data set needs at least one town"
    );
    let txn = qii_domain::db::write(db)
        .await
        .context("starting the synthetic load")?;
    let existing = org_unit::Entity::find()
        .count(&txn)
        .await
        .context("counting org units")?;
    anyhow::ensure!(
        existing == 0,
        "the synthetic data set goes into an empty database; this one has {existing} org units"
    );
    let mut rng = DemoRng::seed_from_u64(options.seed);
    let mut loader = Loader::new(&txn, options.progress);
    let mut summary = SyntheticSummary::default();

    let structure = world::structure(
        &mut rng,
        &options.period,
        options.towns,
        loader.next_id::<district::Entity>().await?,
        loader.next_id::<org_unit::Entity>().await?,
    );
    summary.towns = structure.towns.len() as u64;
    summary.youth_homes = structure.towns.iter().map(|t| t.homes.len() as u64).sum();
    loader
        .insert::<district::Entity>("districts", structure.districts)
        .await?;
    summary.org_units = loader
        .insert::<org_unit::Entity>("org units", structure.units)
        .await?;

    let first_member = loader.next_id::<member::Entity>().await?;
    let (mut world, drafts) = world::population(
        &mut rng,
        options.period,
        structure.towns,
        options.events,
        first_member,
    );
    for (i, chunk) in drafts.chunks(BATCH_ROWS).enumerate() {
        let first = first_member + (i * BATCH_ROWS) as i64;
        let rows = world::member_rows(&mut rng, &world, chunk, first);
        summary.members += loader.insert::<member::Entity>("members", rows).await?;
    }
    drop(drafts);
    let first = loader.next_id::<expert::Entity>().await?;
    let rows = world::experts(&mut rng, &mut world, first);
    summary.experts = loader.insert::<expert::Entity>("experts", rows).await?;

    let mut events = events::Events::new(events::FirstIds {
        activities: first_id::<activity::Entity>(&loader).await?,
        signups: first_id::<activity_signup::Entity>(&loader).await?,
        checkins: first_id::<activity_checkin::Entity>(&loader).await?,
        comments: first_id::<activity_comment::Entity>(&loader).await?,
        reviews: first_id::<activity_review::Entity>(&loader).await?,
        likes: first_id::<activity_like::Entity>(&loader).await?,
        photos: first_id::<activity_photo::Entity>(&loader).await?,
        questions: first_id::<question::Entity>(&loader).await?,
        answers: first_id::<answer::Entity>(&loader).await?,
        topics: first_id::<topic::Entity>(&loader).await?,
        participations: first_id::<topic_participation::Entity>(&loader).await?,
    });
    let budget = options.events as u64;
    let loop_budget = (budget as f64 * LOOP_SHARE).round() as u64;
    let question_budget = loop_budget + (budget as f64 * QUESTION_SHARE).round() as u64;
    let mut made = 0;
    while made < budget {
        made += if made < loop_budget {
            events.activity(&mut rng, &world)
        } else if made < question_budget {
            events.question(&mut rng, &world)
        } else {
            events.topic(&mut rng, &world)
        };
        if events.pending() >= BATCH_ROWS {
            events.flush(&mut loader).await?;
        }
    }
    events.flush(&mut loader).await?;
    summary.events = events.counts;

    let mut first = loader.next_id::<daily_visit::Entity>().await?;
    let mut day = options.period.first_day();
    while day <= options.period.last_day() {
        let rows = imported::daily_visits(&mut rng, &world, day, first);
        first += rows.len() as i64;
        summary.daily_visits += loader
            .insert::<daily_visit::Entity>("daily visits", rows)
            .await?;
        day = day + chrono::Days::new(1);
    }
    let first = loader.next_id::<target::Entity>().await?;
    let rows = imported::targets(&mut rng, &world, first);
    summary.targets = loader.insert::<target::Entity>("targets", rows).await?;

    loader.finish().await?;
    txn.commit()
        .await
        .context("committing the synthetic data set")?;
    tracing::info!("synthetic data set: {summary}");
    Ok(summary)
}

/// The first free id of a table, as the unsigned count [`EventCounts`] holds.
async fn first_id<E: EntityTrait + Default>(loader: &Loader<'_>) -> anyhow::Result<u64> {
    Ok(loader.next_id::<E>().await? as u64)
}

impl fmt::Display for SyntheticSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.events;
        write!(
            f,
            "{} towns, {} youth homes ({} org units), {} members, {} experts; {} events: \
             {} activities, {} sign-ups, {} check-ins, {} comments, {} reviews, \
             {} likes/votes, {} photos, {} questions, {} answers, {} topics, \
             {} topic participations; {} daily visits, {} targets",
            self.towns,
            self.youth_homes,
            self.org_units,
            self.members,
            self.experts,
            e.total(),
            e.activities,
            e.signups,
            e.checkins,
            e.comments,
            e.reviews,
            e.likes,
            e.photos,
            e.questions,
            e.answers,
            e.topics,
            e.participations,
            self.daily_visits,
            self.targets
        )
    }
}

#[cfg(test)]
mod tests;
