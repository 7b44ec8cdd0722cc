//! The Dongguan demo data set: the real structure of the "Youth Voice" platform (city,
//! 3 supervision districts, 32 towns, Youth Homes, city-level units) and three months of
//! generated activity (Oct–Dec 2017) to score, rank and browse.
//!
//! [`load`] is idempotent and atomic: the structure is matched by unique codes and inserted
//! only where missing; the generated data is inserted only if its marker (the platform's
//! assistant account, [`MARKER_NICKNAME`]) is absent; everything happens in one transaction.
//! The same seed and scale always produce the same rows.
//!
//! [`synthetic`] generates data sets of any size (towns × events in one period) for
//! benchmarks, with the same loader, random helpers and texts.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod bulk;
mod ensure;
mod generate;
mod random;
mod structure;
pub mod synthetic;
#[cfg(test)]
mod tests;
mod text;

use std::fmt;

use anyhow::Context;
use entities::{
    activity, activity_checkin, activity_comment, activity_like, activity_photo, activity_review,
    activity_signup, answer, daily_visit, district, enums::OrgUnitKind, expert,
    incentive_application, meeting_attendance, member, org_unit, question, service_request,
    service_request_event, supervision_meeting, supervisor_assignment, target, topic,
    topic_participation,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter,
};

/// Nickname of the first generated member, the platform's own assistant account. Its
/// presence means the generated data is already loaded.
pub const MARKER_NICKNAME: &str = "青年之声小助手";

/// How to generate the demo data.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Seed of the random generator: the same seed gives the same data.
    pub seed: u64,
    /// Size relative to the default (1.0 ≈ 8,000 members, 650 activities); must be in
    /// (0, 100]. Members, questions and answers scale linearly; activities and topics with
    /// the square root of a scale below 1, so that small test sets stay representative.
    pub scale: f64,
    /// Show a progress bar per stage on stderr (hidden anyway when it is not a terminal).
    pub progress: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            seed: 2017,
            scale: 1.0,
            progress: true,
        }
    }
}

/// Rows in the database after a load (whole tables, not only what this load inserted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// The generated data was there before: nothing but missing structure was inserted.
    pub already_loaded: bool,
    pub districts: u64,
    pub towns: u64,
    pub youth_homes: u64,
    /// All org units, including the city, towns, Youth Homes, schools and firms.
    pub org_units: u64,
    pub members: u64,
    pub experts: u64,
    pub questions: u64,
    pub answers: u64,
    pub topics: u64,
    pub topic_participations: u64,
    pub activities: u64,
    pub signups: u64,
    pub checkins: u64,
    pub comments: u64,
    pub reviews: u64,
    pub likes: u64,
    pub photos: u64,
    pub service_requests: u64,
    pub service_request_events: u64,
    pub daily_visits: u64,
    pub targets: u64,
    pub supervision_meetings: u64,
    pub meeting_attendances: u64,
    pub supervisor_assignments: u64,
    pub incentive_applications: u64,
}

/// Loads the demo data set into `db` (migrated beforehand) in one transaction.
pub async fn load(db: &DatabaseConnection, options: &DemoOptions) -> anyhow::Result<DemoSummary> {
    anyhow::ensure!(
        options.scale.is_finite() && options.scale > 0.0 && options.scale <= 100.0,
        "demo scale must be in (0, 100], got {}",
        options.scale
    );
    let started = std::time::Instant::now();
    let txn = qii_domain::db::write(db)
        .await
        .context("starting the demo transaction")?;
    let structure = ensure::structure(&txn)
        .await
        .context("loading the demo structure")?;
    let already_loaded = member::Entity::find()
        .filter(member::Column::Nickname.eq(MARKER_NICKNAME))
        .count(&txn)
        .await
        .context("looking for the demo marker")?
        > 0;
    if already_loaded {
        tracing::info!("demo: generated data already present, skipping generation");
    } else {
        tracing::info!(
            seed = options.seed,
            scale = options.scale,
            "demo: generating Oct–Dec 2017"
        );
        generate::run(&txn, &structure, options)
            .await
            .context("generating the demo data")?;
    }
    let summary = count(&txn, already_loaded).await?;
    txn.commit().await.context("committing the demo data")?;
    if !already_loaded {
        // Fresh planner statistics: without them PostgreSQL plans the correlated
        // sub-queries of scoring and compliance over the bulk-loaded tables as if they
        // were empty, and a first ranking takes seconds instead of milliseconds.
        db.execute_unprepared("ANALYZE")
            .await
            .context("updating the planner's statistics")?;
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo: {summary}"
    );
    Ok(summary)
}

async fn rows<E: EntityTrait>(txn: &DatabaseTransaction) -> anyhow::Result<u64>
where
    E::Model: Sync,
{
    E::find()
        .count(txn)
        .await
        .with_context(|| format!("counting {}", E::default().table_name()))
}

async fn units(txn: &DatabaseTransaction, kind: OrgUnitKind) -> anyhow::Result<u64> {
    org_unit::Entity::find()
        .filter(org_unit::Column::Kind.eq(kind))
        .count(txn)
        .await
        .context("counting org units by kind")
}

async fn count(txn: &DatabaseTransaction, already_loaded: bool) -> anyhow::Result<DemoSummary> {
    Ok(DemoSummary {
        already_loaded,
        districts: rows::<district::Entity>(txn).await?,
        towns: units(txn, OrgUnitKind::Town).await?,
        youth_homes: units(txn, OrgUnitKind::YouthHome).await?,
        org_units: rows::<org_unit::Entity>(txn).await?,
        members: rows::<member::Entity>(txn).await?,
        experts: rows::<expert::Entity>(txn).await?,
        questions: rows::<question::Entity>(txn).await?,
        answers: rows::<answer::Entity>(txn).await?,
        topics: rows::<topic::Entity>(txn).await?,
        topic_participations: rows::<topic_participation::Entity>(txn).await?,
        activities: rows::<activity::Entity>(txn).await?,
        signups: rows::<activity_signup::Entity>(txn).await?,
        checkins: rows::<activity_checkin::Entity>(txn).await?,
        comments: rows::<activity_comment::Entity>(txn).await?,
        reviews: rows::<activity_review::Entity>(txn).await?,
        likes: rows::<activity_like::Entity>(txn).await?,
        photos: rows::<activity_photo::Entity>(txn).await?,
        service_requests: rows::<service_request::Entity>(txn).await?,
        service_request_events: rows::<service_request_event::Entity>(txn).await?,
        daily_visits: rows::<daily_visit::Entity>(txn).await?,
        targets: rows::<target::Entity>(txn).await?,
        supervision_meetings: rows::<supervision_meeting::Entity>(txn).await?,
        meeting_attendances: rows::<meeting_attendance::Entity>(txn).await?,
        supervisor_assignments: rows::<supervisor_assignment::Entity>(txn).await?,
        incentive_applications: rows::<incentive_application::Entity>(txn).await?,
    })
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.already_loaded {
            write!(f, "already loaded; ")?;
        }
        write!(
            f,
            "{} districts, {} towns, {} youth homes, {} members, {} experts, {} questions, \
             {} answers, {} topics ({} participations), {} activities, {} sign-ups, \
             {} check-ins, {} comments, {} reviews, {} likes/votes, {} photos, \
             {} service requests, {} daily visits, {} targets",
            self.districts,
            self.towns,
            self.youth_homes,
            self.members,
            self.experts,
            self.questions,
            self.answers,
            self.topics,
            self.topic_participations,
            self.activities,
            self.signups,
            self.checkins,
            self.comments,
            self.reviews,
            self.likes,
            self.photos,
            self.service_requests,
            self.daily_visits,
            self.targets
        )
    }
}
