//! Offline service requests at Youth Homes: the inbox, the detail with its history,
//! and the workflow steps.

use crate::Id;
use async_graphql::{Context, Enum, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entities::{enums::ServiceRequestStatus, service_request, service_request_event};

use super::{
    children_of, load_by_id,
    nodes::{load_member, unit_via, Member, OrgUnit},
    pagination::{OrderField, SortKey},
    visible_by_id, ContextExt,
};
use crate::foreign_key;
use qii_domain::service::service_request as service;

foreign_key!(
    /// History events of a service request.
    EventsOfRequest, service_request_event, RequestId, request_id, service_request
);

/// An offline service request (线下服务) a member made to a Youth Home.
pub struct ServiceRequest(pub service_request::Model);

/// An offline service request (线下服务) a member made to a Youth Home.
#[Object]
impl ServiceRequest {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// What is asked for, in a line.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The request in full (plain text).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Where the request stands.
    async fn status(&self) -> ServiceRequestStatus {
        self.0.status
    }
    /// When it was submitted.
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }
    /// When it last changed (a step, an edit or the rating).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Whole Asia/Shanghai calendar days since submission (0 on the day itself).
    async fn age_in_days(&self) -> i64 {
        service::age_in_days(self.0.submitted_at, Utc::now())
    }
    /// The Youth Home (青年之家) the request was made to.
    async fn youth_home(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::service_request::Entity>(ctx, &self.0, "youth_home_id", |m| {
            Some(m.youth_home_id)
        })
        .await
    }
    /// The member who made the request.
    async fn applicant(&self, ctx: &Context<'_>) -> Result<Option<Member>> {
        load_member(ctx, self.0.applicant_id).await
    }
    /// The applicant's rating, 1–5, once given.
    async fn rating(&self) -> Option<i32> {
        self.0.rating.map(i32::from)
    }
    /// The applicant's feedback with the rating.
    async fn feedback(&self) -> Option<&str> {
        self.0.feedback.as_deref()
    }
    /// When the applicant rated it.
    async fn rated_at(&self) -> Option<DateTime<Utc>> {
        self.0.rated_at
    }
    /// Every status change, oldest first, starting with the submission.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<ServiceRequestEvent>> {
        let mut events = children_of::<EventsOfRequest>(ctx, self.0.id).await?;
        events.sort_by_key(|e| (e.at, e.id));
        Ok(events.into_iter().map(ServiceRequestEvent).collect())
    }
    /// The statuses it may move to next (the actions to offer); empty once completed.
    async fn next_statuses(&self) -> Vec<ServiceRequestStatus> {
        service::next_statuses(self.0.status).to_vec()
    }
}

/// One step in a service request's history.
pub struct ServiceRequestEvent(pub service_request_event::Model);

/// One step in a service request's history.
#[Object]
impl ServiceRequestEvent {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The request this step belongs to.
    async fn request(&self, ctx: &Context<'_>) -> Result<Option<ServiceRequest>> {
        let found = load_by_id::<service_request::Entity>(ctx, self.0.request_id).await?;
        Ok(found.map(ServiceRequest))
    }
    /// The status before the step; null for the submission.
    async fn from_status(&self) -> Option<ServiceRequestStatus> {
        self.0.from_status
    }
    /// The status after the step.
    async fn to_status(&self) -> ServiceRequestStatus {
        self.0.to_status
    }
    /// Who acted, as `role:subject`, e.g. `member:alice` or `youth_home_admin:bob`.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// What the actor noted with the step.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When the step was taken.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// What service-request lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ServiceRequestOrderField {
    /// Submission time (ascending: oldest, i.e. longest waiting, first).
    #[default]
    SubmittedAt,
    /// Time of the last change.
    UpdatedAt,
    /// Title.
    Title,
}

impl OrderField<service_request::Entity> for ServiceRequestOrderField {
    fn column(self) -> service_request::Column {
        match self {
            Self::SubmittedAt => service_request::Column::SubmittedAt,
            Self::UpdatedAt => service_request::Column::UpdatedAt,
            Self::Title => service_request::Column::Title,
        }
    }
    fn key(self, m: &service_request::Model) -> SortKey {
        match self {
            Self::SubmittedAt => SortKey::Time(m.submitted_at),
            Self::UpdatedAt => SortKey::Time(m.updated_at),
            Self::Title => SortKey::Text(m.title.clone()),
        }
    }
}

/// What history-event lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ServiceRequestEventOrderField {
    /// When the step was taken.
    #[default]
    At,
}

impl OrderField<service_request_event::Entity> for ServiceRequestEventOrderField {
    fn column(self) -> service_request_event::Column {
        service_request_event::Column::At
    }
    fn key(self, m: &service_request_event::Model) -> SortKey {
        SortKey::Time(m.at)
    }
}

/// Reading service requests.
#[derive(Default)]
pub struct ServiceRequestQuery;

#[Object]
impl ServiceRequestQuery {
    /// One service request by id; null when there is none.
    async fn service_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service request's id.")] id: Id,
    ) -> Result<Option<ServiceRequest>> {
        let visible = service::service_requests(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(ServiceRequest))
    }
}

lists! {
    /// The lists of `ServiceRequestQuery`'s domain, as cursor connections.
    pub struct ServiceRequestLists;

    /// Service requests, filtered and sorted, as a cursor connection.
    service_requests(ctx, filter: service::ServiceRequestFilter) by ServiceRequestOrderField -> ServiceRequest {
        let app = ctx.app()?;
        service::service_requests(&app.actor, &filter)?
    }

    /// History events of service requests, filtered and sorted, as a cursor connection.
    service_request_events(ctx, filter: service::ServiceRequestEventFilter) by ServiceRequestEventOrderField -> ServiceRequestEvent {
        let app = ctx.app()?;
        service::service_request_events(&app.actor, &filter)?
    }
}

/// A new service request.
#[derive(InputObject)]
pub struct SubmitServiceRequestInput {
    /// The Youth Home asked (an org unit of kind `YOUTH_HOME`).
    youth_home_id: Id,
    /// The member asking.
    applicant_id: Id,
    /// What is asked for, in a line.
    title: String,
    /// The request in full.
    description: String,
}

/// One step along the workflow.
#[derive(InputObject)]
pub struct AdvanceServiceRequestInput {
    /// The next status: one of the request's `nextStatuses`.
    to: ServiceRequestStatus,
    /// A note recorded with the step in the history.
    note: Option<String>,
}

/// The applicant's evaluation of a completed request.
#[derive(InputObject)]
pub struct RateServiceRequestInput {
    /// 1 to 5 stars.
    rating: i32,
    /// Free-text feedback.
    feedback: Option<String>,
}

/// Corrections to a request not yet completed; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateServiceRequestInput {
    /// A new title.
    title: Option<String>,
    /// A new description.
    description: Option<String>,
}

/// Submitting and handling service requests.
#[derive(Default)]
pub struct ServiceRequestMutation;

#[Object]
impl ServiceRequestMutation {
    /// Submits a service request to a Youth Home; it starts as `SUBMITTED`.
    async fn submit_service_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service request to submit.")] input: SubmitServiceRequestInput,
    ) -> Result<ServiceRequest> {
        let app = ctx.app()?;
        let new = service::NewServiceRequest {
            youth_home_id: input.youth_home_id.0,
            applicant_id: input.applicant_id.0,
            title: input.title,
            description: input.description,
        };
        Ok(ServiceRequest(
            service::submit_service_request(&app.db, &app.actor, new).await?,
        ))
    }

    /// Moves a request one step: submitted → reviewed → intervening → completed.
    /// Any other move is refused and nothing is written.
    async fn advance_service_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service request's id.")] id: Id,
        #[graphql(desc = "The next status and an optional note for the history.")]
        input: AdvanceServiceRequestInput,
    ) -> Result<ServiceRequest> {
        let app = ctx.app()?;
        let step = service::Advance {
            to: input.to,
            note: input.note,
        };
        Ok(ServiceRequest(
            service::advance_service_request(&app.db, &app.actor, id.0, step).await?,
        ))
    }

    /// Records the applicant's rating of a completed request; only once.
    async fn rate_service_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service request's id.")] id: Id,
        #[graphql(desc = "The applicant's rating (1 to 5 stars) and optional feedback.")]
        input: RateServiceRequestInput,
    ) -> Result<ServiceRequest> {
        let app = ctx.app()?;
        let rating = service::Rating {
            rating: input.rating,
            feedback: input.feedback,
        };
        Ok(ServiceRequest(
            service::rate_service_request(&app.db, &app.actor, id.0, rating).await?,
        ))
    }

    /// Corrects the title or description of a request that is not completed.
    async fn update_service_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service request's id.")] id: Id,
        #[graphql(desc = "The changes; fields left out stay as they are.")]
        input: UpdateServiceRequestInput,
    ) -> Result<ServiceRequest> {
        let app = ctx.app()?;
        let changes = service::ServiceRequestChanges {
            title: input.title,
            description: input.description,
        };
        Ok(ServiceRequest(
            service::update_service_request(&app.db, &app.actor, id.0, changes).await?,
        ))
    }
}
