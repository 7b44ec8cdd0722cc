//! Incentive programme applications: the form, the desk's list by status, the decision.

use crate::Id;
use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entities::{
    enums::{ActivityCategory, ActivityKind, ApplicationStatus, IncentiveIntent},
    incentive_application,
};

use super::{
    children_of,
    incentive_eligibility::{
        eligibility_of, linked_activity, linked_topic, IntentEligibility, IntentsOfApplication,
    },
    nodes::{unit_via, Activity, OrgUnit},
    pagination::{OrderField, SortKey},
    topic::Topic,
    undefined_id, undefined_to_option, visible_by_id, ContextExt,
};
use qii_domain::service::incentive as service;

/// An application to the incentive programme (激励申报, 附件2): an activity or topic and
/// what the applicant asks for.
pub struct IncentiveApplication(pub incentive_application::Model);

/// An application to the incentive programme (激励申报, 附件2): an activity or topic and
/// what the applicant asks for.
#[Object]
impl IncentiveApplication {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The applying unit (usually a town).
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::incentive_application::Entity>(ctx, &self.0, "org_unit_id", |m| {
            Some(m.org_unit_id)
        })
        .await
    }
    /// The published activity applied for, when linked.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<Activity>> {
        Ok(linked_activity(ctx, &self.0).await?.map(Activity))
    }
    /// The platform's online topic (话题) applied for, when linked.
    async fn topic(&self, ctx: &Context<'_>) -> Result<Option<Topic>> {
        Ok(linked_topic(ctx, &self.0).await?.map(Topic))
    }
    /// Name of the activity or topic (活动名称).
    async fn activity_name(&self) -> &str {
        &self.0.activity_name
    }
    /// When it starts (活动时间).
    async fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.0.starts_at
    }
    /// When it ends.
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.ends_at
    }
    /// Where it takes place (活动地点).
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    /// Expected number of participants (活动规模).
    async fn scale(&self) -> i32 {
        self.0.scale
    }
    /// Whether the form marks specially good resources (资源优质).
    async fn special_resources(&self) -> bool {
        self.0.special_resources
    }
    /// Offline activity or online topic (活动类型).
    async fn kind(&self) -> ActivityKind {
        self.0.kind
    }
    /// The activity's category: the named activity's, else the form's; null when neither
    /// gives one. The incentive rules read it (training support is for trainings).
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<ActivityCategory>> {
        let linked = linked_activity(ctx, &self.0).await?;
        Ok(linked.map(|a| a.category).or(self.0.category))
    }
    /// What the activity is (活动简介).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Link to the attached plan (策划方案).
    async fn plan_url(&self) -> Option<&str> {
        self.0.plan_url.as_deref()
    }
    /// What the applicant asks for (申报意向).
    async fn intents(&self, ctx: &Context<'_>) -> Result<Vec<IncentiveIntent>> {
        let rows = children_of::<IntentsOfApplication>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(|r| r.intent).collect())
    }
    /// Whether each intent is eligible, by the incentive rules (`incentives/*.rhai`) in
    /// effect on the activity's start day (its filing day when no start is known).
    async fn eligibility(&self, ctx: &Context<'_>) -> Result<Vec<IntentEligibility>> {
        eligibility_of(ctx, &self.0).await
    }
    /// Where the application stands.
    async fn status(&self) -> ApplicationStatus {
        self.0.status
    }
    /// When it was filed.
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }
    /// When the city decided.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// The city's note with its decision (always given for a rejection).
    async fn decision_note(&self) -> Option<&str> {
        self.0.decision_note.as_deref()
    }
}

/// What application lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum IncentiveApplicationOrderField {
    /// Filing time.
    #[default]
    SubmittedAt,
    /// Activity name.
    ActivityName,
    /// Expected number of participants.
    Scale,
}

impl OrderField<incentive_application::Entity> for IncentiveApplicationOrderField {
    fn column(self) -> incentive_application::Column {
        match self {
            Self::SubmittedAt => incentive_application::Column::SubmittedAt,
            Self::ActivityName => incentive_application::Column::ActivityName,
            Self::Scale => incentive_application::Column::Scale,
        }
    }
    fn key(self, m: &incentive_application::Model) -> SortKey {
        match self {
            Self::SubmittedAt => SortKey::Time(m.submitted_at),
            Self::ActivityName => SortKey::Text(m.activity_name.clone()),
            Self::Scale => SortKey::Int(i64::from(m.scale)),
        }
    }
}

/// Reading incentive applications.
#[derive(Default)]
pub struct IncentiveQuery;

#[Object]
impl IncentiveQuery {
    /// One incentive application by id; null when there is none.
    async fn incentive_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incentive application's id.")] id: Id,
    ) -> Result<Option<IncentiveApplication>> {
        let visible = service::applications(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id)
            .await?
            .map(IncentiveApplication))
    }
}

lists! {
    /// The lists of `IncentiveQuery`'s domain, as cursor connections.
    pub struct IncentiveLists;

    /// Incentive applications, filtered and sorted, as a cursor connection.
    incentive_applications(ctx, filter: service::ApplicationFilter) by IncentiveApplicationOrderField -> IncentiveApplication {
        let app = ctx.app()?;
        service::applications(&app.actor, &filter)?
    }
}

/// A new application (the form of 附件2).
#[derive(InputObject)]
pub struct ApplyForIncentiveInput {
    /// The applying unit (any unit but the city).
    org_unit_id: Id,
    /// The published activity applied for, when it exists already (published by the
    /// applicant or one of its units).
    activity_id: Option<Id>,
    /// Or the platform's online topic applied for (published by the applicant or one of
    /// its units): cultural goods go by its participants. An application names an activity
    /// or a topic, not both.
    topic_id: Option<Id>,
    /// Name of the activity or topic.
    activity_name: String,
    /// When it starts.
    starts_at: Option<DateTime<Utc>>,
    /// When it ends (after `startsAt`).
    ends_at: Option<DateTime<Utc>>,
    /// Where it takes place.
    place: Option<String>,
    /// Expected number of participants (zero or more).
    scale: i32,
    /// Specially good resources (资源优质), which may qualify for co-hosting.
    #[graphql(default)]
    special_resources: bool,
    /// Offline activity or online topic.
    kind: ActivityKind,
    /// The activity's category (training, contest, …). With `activityId` it may be left
    /// out (the activity's is taken); given, it must be the activity's.
    category: Option<ActivityCategory>,
    /// What the activity is.
    description: String,
    /// Link to the attached plan (http or https).
    plan_url: Option<String>,
    /// What is asked for: at least one, each once.
    intents: Vec<IncentiveIntent>,
}

/// Amendments while the application waits; omitted fields stay, `null` clears.
#[derive(InputObject)]
pub struct UpdateIncentiveApplicationInput {
    /// Link a published activity (of the applicant or its units); `null` unlinks.
    activity_id: MaybeUndefined<Id>,
    /// Link an online topic (of the applicant or its units) instead; `null` unlinks.
    topic_id: MaybeUndefined<Id>,
    /// Name of the activity or topic.
    activity_name: Option<String>,
    /// When it starts; `null` clears it.
    starts_at: MaybeUndefined<DateTime<Utc>>,
    /// When it ends (after the start); `null` clears it.
    ends_at: MaybeUndefined<DateTime<Utc>>,
    /// Where it takes place; `null` clears it.
    place: MaybeUndefined<String>,
    /// Expected number of participants (zero or more).
    scale: Option<i32>,
    /// Specially good resources (资源优质).
    special_resources: Option<bool>,
    /// Offline activity or online topic.
    kind: Option<ActivityKind>,
    /// The activity's category; with an activity named it must be the activity's (and is
    /// taken from it when left out). `null` clears it on an application without one.
    category: MaybeUndefined<ActivityCategory>,
    /// What the activity is.
    description: Option<String>,
    /// Link to the plan (http or https); `null` clears it.
    plan_url: MaybeUndefined<String>,
    /// Replaces every intent: at least one, each once.
    intents: Option<Vec<IncentiveIntent>>,
}

/// The city's decision on an application.
#[derive(InputObject)]
pub struct DecideIncentiveApplicationInput {
    /// Approve (true) or reject (false).
    approve: bool,
    /// Why; required when rejecting.
    note: Option<String>,
}

/// Applying for incentives and deciding on applications.
#[derive(Default)]
pub struct IncentiveMutation;

#[Object]
impl IncentiveMutation {
    /// Files an incentive application; it starts as `SUBMITTED`.
    async fn apply_for_incentive(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The application form.")] input: ApplyForIncentiveInput,
    ) -> Result<IncentiveApplication> {
        let app = ctx.app()?;
        let new = service::NewApplication {
            org_unit_id: input.org_unit_id.0,
            activity_id: input.activity_id.map(Id::get),
            topic_id: input.topic_id.map(Id::get),
            activity_name: input.activity_name,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            place: input.place,
            scale: input.scale,
            special_resources: input.special_resources,
            kind: input.kind,
            category: input.category,
            description: input.description,
            plan_url: input.plan_url,
            intents: input.intents,
        };
        Ok(IncentiveApplication(
            service::apply(&app.db, &app.actor, new).await?,
        ))
    }

    /// Amends an application while it is `SUBMITTED`.
    async fn update_incentive_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incentive application's id.")] id: Id,
        #[graphql(
            desc = "The amendments; fields left out stay as they are, `null` clears an optional field."
        )]
        input: UpdateIncentiveApplicationInput,
    ) -> Result<IncentiveApplication> {
        let app = ctx.app()?;
        let changes = service::ApplicationChanges {
            activity_id: undefined_id(input.activity_id),
            topic_id: undefined_id(input.topic_id),
            activity_name: input.activity_name,
            starts_at: undefined_to_option(input.starts_at),
            ends_at: undefined_to_option(input.ends_at),
            place: undefined_to_option(input.place),
            scale: input.scale,
            special_resources: input.special_resources,
            kind: input.kind,
            category: undefined_to_option(input.category),
            description: input.description,
            plan_url: undefined_to_option(input.plan_url),
            intents: input.intents,
        };
        Ok(IncentiveApplication(
            service::update_application(&app.db, &app.actor, id.0, changes).await?,
        ))
    }

    /// Approves or rejects an application, once; a rejection needs a note.
    async fn decide_incentive_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incentive application's id.")] id: Id,
        #[graphql(desc = "Approve or reject, with a note (required when rejecting).")]
        input: DecideIncentiveApplicationInput,
    ) -> Result<IncentiveApplication> {
        let app = ctx.app()?;
        let decision = service::Decision {
            approve: input.approve,
            note: input.note,
        };
        Ok(IncentiveApplication(
            service::decide(&app.db, &app.actor, id.0, decision).await?,
        ))
    }
}
