//! Requests for platform-skills training (平台使用技能培训): the unit's request, the city's
//! desk by status, and the steps (schedule, complete, decline).

use crate::Id;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{enums::PlatformTrainingStatus, org_unit, platform_training_request as request};

use super::{
    incentive_eligibility::PolicyRuleVersion,
    load_by_id,
    nodes::{unit_via, OrgUnit},
    pagination::{OrderField, SortKey},
    visible_by_id, ContextExt,
};
use qii_domain::{
    error::ServiceError,
    service::{incentive_eligibility::training_eligibility, platform_training as service},
};

/// A unit's request to the city for training in using the platform (平台使用技能培训), of
/// any size, and where it stands.
pub struct PlatformTrainingRequest(pub request::Model);

/// A unit's request to the city for training in using the platform (平台使用技能培训), of
/// any size, and where it stands.
#[Object]
impl PlatformTrainingRequest {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The unit to be trained.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<request::Entity>(ctx, &self.0, "org_unit_id", |m| Some(m.org_unit_id)).await
    }
    /// How many of the unit's people are to be trained.
    async fn trainees(&self) -> i32 {
        self.0.trainees
    }
    /// The day the unit would like; null when any day suits.
    async fn preferred_date(&self) -> Option<NaiveDate> {
        self.0.preferred_date
    }
    /// What the unit added to its request.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// Where the request stands.
    async fn status(&self) -> PlatformTrainingStatus {
        self.0.status
    }
    /// The statuses it may move to next (the city's actions to offer); `SCHEDULED` again
    /// moves a scheduled training to another day. Empty once done or declined.
    async fn next_statuses(&self) -> Vec<PlatformTrainingStatus> {
        service::next_statuses(self.0.status).to_vec()
    }
    /// The day the city set, once scheduled.
    async fn scheduled_on(&self) -> Option<NaiveDate> {
        self.0.scheduled_on
    }
    /// The city's note with its last step: the arrangements, or why it declined.
    async fn city_note(&self) -> Option<&str> {
        self.0.city_note.as_deref()
    }
    /// When the unit asked.
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.requested_at
    }
    /// Who asked, as `role:subject`.
    async fn requested_by(&self) -> &str {
        &self.0.requested_by
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Whether it is eligible, by the incentive rules (`incentives/*.rhai`,
    /// `platform_training(request)`) in effect on the day it was made.
    async fn eligibility(&self, ctx: &Context<'_>) -> Result<PlatformTrainingEligibility> {
        let app = ctx.app()?;
        let Some(unit) = load_by_id::<org_unit::Entity>(ctx, self.0.org_unit_id).await? else {
            return Err(ServiceError::not_found("org unit", self.0.org_unit_id).into());
        };
        let registry = app.registry()?;
        let rules = registry.clone();
        let request = self.0.clone();
        // The script runs on the script pool.
        let judged = registry
            .sandbox
            .run(move || training_eligibility(&rules, &request, unit.kind))
            .await
            .map_err(ServiceError::from)??;
        Ok(PlatformTrainingEligibility {
            eligible: judged.eligible,
            reason: judged.reason,
            rule_version: judged.rule_version.map(Into::into),
        })
    }
}

/// Whether a request for platform-skills training is eligible, by the incentive rules in
/// effect on the day it was made.
#[derive(SimpleObject)]
pub struct PlatformTrainingEligibility {
    /// Eligible or not; null when no version of the incentive rules is in effect that day.
    eligible: Option<bool>,
    /// Why, for people.
    reason: String,
    /// The rule version that decided; null when none is in effect.
    rule_version: Option<PolicyRuleVersion>,
}

/// What request lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum PlatformTrainingOrderField {
    /// When the unit asked (ascending: the longest waiting first).
    #[default]
    RequestedAt,
    /// When it last changed.
    UpdatedAt,
    /// How many are to be trained.
    Trainees,
}

impl OrderField<request::Entity> for PlatformTrainingOrderField {
    fn column(self) -> request::Column {
        match self {
            Self::RequestedAt => request::Column::RequestedAt,
            Self::UpdatedAt => request::Column::UpdatedAt,
            Self::Trainees => request::Column::Trainees,
        }
    }
    fn key(self, m: &request::Model) -> SortKey {
        match self {
            Self::RequestedAt => SortKey::Time(m.requested_at),
            Self::UpdatedAt => SortKey::Time(m.updated_at),
            Self::Trainees => SortKey::Int(i64::from(m.trainees)),
        }
    }
}

/// Reading requests for platform-skills training.
#[derive(Default)]
pub struct PlatformTrainingQuery;

#[Object]
impl PlatformTrainingQuery {
    /// One request for platform-skills training by id; null when there is none or it is
    /// another unit's.
    async fn platform_training_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request's id.")] id: Id,
    ) -> Result<Option<PlatformTrainingRequest>> {
        let visible = service::requests(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id)
            .await?
            .map(PlatformTrainingRequest))
    }
}

lists! {
    /// The lists of `PlatformTrainingQuery`'s domain, as cursor connections.
    pub struct PlatformTrainingLists;

    /// Requests for platform-skills training of the units the caller reaches, filtered
    /// (by status, unit, town, district) and sorted, as a cursor connection.
    platform_training_requests(ctx, filter: service::RequestFilter) by PlatformTrainingOrderField -> PlatformTrainingRequest {
        let app = ctx.app()?;
        service::requests(&app.actor, &filter)?
    }
}

/// A request for platform-skills training.
#[derive(InputObject)]
pub struct RequestPlatformTrainingInput {
    /// The unit to be trained (any unit but the city); its administrators ask.
    org_unit_id: Id,
    /// The day the unit would like: today or later.
    preferred_date: Option<NaiveDate>,
    /// How many are to be trained: 1 or more (any size may ask).
    trainees: i32,
    /// Anything the city should know (topics, the operators' level, …).
    note: Option<String>,
}

/// The day the city sets for a training.
#[derive(InputObject)]
pub struct SchedulePlatformTrainingInput {
    /// The day: today or later.
    date: NaiveDate,
    /// The arrangements (place, lecturer, …).
    note: Option<String>,
}

/// Declining a request.
#[derive(InputObject)]
pub struct DeclinePlatformTrainingInput {
    /// Why, for the unit.
    reason: String,
}

/// Marking a training held.
#[derive(InputObject, Default)]
pub struct CompletePlatformTrainingInput {
    /// How it went.
    note: Option<String>,
}

/// Requesting platform-skills training, and the city's steps on requests.
#[derive(Default)]
pub struct PlatformTrainingMutation;

#[Object]
impl PlatformTrainingMutation {
    /// Asks the city for platform-skills training for a unit; it starts as `REQUESTED`.
    async fn request_platform_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request.")] input: RequestPlatformTrainingInput,
    ) -> Result<PlatformTrainingRequest> {
        let app = ctx.app()?;
        let new = service::NewRequest {
            org_unit_id: input.org_unit_id.0,
            preferred_date: input.preferred_date,
            trainees: input.trainees,
            note: input.note,
        };
        let created = service::request_training(&app.db, &app.actor, new).await?;
        Ok(PlatformTrainingRequest(created))
    }

    /// Schedules a `REQUESTED` training, or moves a `SCHEDULED` one to another day (city
    /// administrators).
    async fn schedule_platform_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request's id.")] id: Id,
        #[graphql(desc = "The day and the arrangements.")] input: SchedulePlatformTrainingInput,
    ) -> Result<PlatformTrainingRequest> {
        let step = service::Step::Schedule {
            on: input.date,
            note: input.note,
        };
        take(ctx, id, step).await
    }

    /// Marks a `SCHEDULED` training `DONE`, from its day on (city administrators).
    async fn complete_platform_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request's id.")] id: Id,
        #[graphql(default, desc = "How it went.")] input: CompletePlatformTrainingInput,
    ) -> Result<PlatformTrainingRequest> {
        take(ctx, id, service::Step::Complete { note: input.note }).await
    }

    /// Declines a `REQUESTED` or `SCHEDULED` training, saying why (city administrators).
    async fn decline_platform_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request's id.")] id: Id,
        #[graphql(desc = "Why.")] input: DeclinePlatformTrainingInput,
    ) -> Result<PlatformTrainingRequest> {
        let step = service::Step::Decline {
            reason: input.reason,
        };
        take(ctx, id, step).await
    }
}

async fn take(ctx: &Context<'_>, id: Id, step: service::Step) -> Result<PlatformTrainingRequest> {
    let app = ctx.app()?;
    let updated = service::take_step(&app.db, &app.actor, id.0, step).await?;
    Ok(PlatformTrainingRequest(updated))
}
