//! Offline service requests (线下服务) at Youth Homes and their workflow:
//! submitted → reviewed → intervening → completed, then the applicant's rating.
//!
//! Every status change appends a history event in the same transaction, so the
//! history always explains the current status.

use crate::authz;
use crate::authz::Need;
use crate::id::Id;
use crate::text::Search;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use chrono::{DateTime, Utc};
use entities::{
    enums::{OrgUnitKind, ServiceRequestStatus as Status},
    member, org_unit, service_request, service_request_event,
};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, Select,
};

use super::{find, opt_text, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};
use qii_engine::time::local_day;

/// Longest title accepted.
const TITLE_MAX: usize = 200;
/// Longest description, note or feedback accepted.
const TEXT_MAX: usize = 5_000;

/// The statuses a request may move to next: the workflow is a straight line.
pub fn next_statuses(status: Status) -> &'static [Status] {
    match status {
        Status::Submitted => &[Status::Reviewed],
        Status::Reviewed => &[Status::Intervening],
        Status::Intervening => &[Status::Completed],
        Status::Completed => &[],
    }
}

/// Whole Asia/Shanghai calendar days from submission to `now` (0 on the day itself).
pub fn age_in_days(submitted_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    std::cmp::max((local_day(now) - local_day(submitted_at)).num_days(), 0)
}

/// The enum's GraphQL spelling, for messages.
fn status_name(status: Status) -> &'static str {
    match status {
        Status::Submitted => "SUBMITTED",
        Status::Reviewed => "REVIEWED",
        Status::Intervening => "INTERVENING",
        Status::Completed => "COMPLETED",
    }
}

/// Which service requests to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct ServiceRequestFilter {
    /// Made to this Youth Home.
    pub youth_home_id: Option<Id>,
    /// Made to any Youth Home of this town.
    pub town_id: Option<Id>,
    /// Made to any Youth Home of this district.
    pub district_id: Option<Id>,
    /// Made by this member.
    pub applicant_id: Option<Id>,
    /// In this status.
    pub status: Option<Status>,
    /// In any of these statuses, e.g. `[SUBMITTED, REVIEWED, INTERVENING]` for the open ones.
    pub statuses: Option<Vec<Status>>,
    /// Submitted at or after this instant.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted before this instant.
    pub submitted_before: Option<DateTime<Utc>>,
    /// Text contained in the title or description.
    pub search: Option<Search>,
}

/// The service requests a caller may list, filtered.
pub fn service_requests(
    actor: &Actor,
    filter: &ServiceRequestFilter,
) -> ServiceResult<Select<service_request::Entity>> {
    use service_request::Column as C;
    let statuses = filter
        .statuses
        .as_ref()
        .map(|s| C::Status.is_in(s.iter().copied()));
    let cond = Filters::new()
        .eq(C::YouthHomeId, filter.youth_home_id)
        .town(C::YouthHomeId, filter.town_id)
        .district(C::YouthHomeId, filter.district_id)
        .eq(C::ApplicantId, filter.applicant_id)
        .eq(C::Status, filter.status)
        .when(statuses)
        .range(
            C::SubmittedAt,
            filter.submitted_from,
            filter.submitted_before,
        )
        .search(&[C::Title, C::Description], filter.search.as_deref());
    let visible = visible_requests(actor)?;
    Ok(service_request::Entity::find()
        .filter(cond.build())
        .filter(visible))
}

/// The requests a caller may see: a member their own, administrators those of the Youth
/// Homes they reach.
fn visible_requests(actor: &Actor) -> ServiceResult<sea_orm::Condition> {
    authz::member_or_unit_condition(
        actor,
        service_request::Column::ApplicantId,
        service_request::Column::YouthHomeId,
        "service requests",
    )
}

/// Which history events to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct ServiceRequestEventFilter {
    /// Events of this request.
    pub request_id: Option<Id>,
}

/// The history events a caller may list, filtered.
pub fn service_request_events(
    actor: &Actor,
    filter: &ServiceRequestEventFilter,
) -> ServiceResult<Select<service_request_event::Entity>> {
    let mut select = service_request_event::Entity::find().filter(
        service_request_event::Column::RequestId.in_subquery(
            sea_orm::sea_query::Query::select()
                .column(service_request::Column::Id)
                .from(service_request::Entity)
                .cond_where(visible_requests(actor)?)
                .to_owned(),
        ),
    );
    if let Some(request) = filter.request_id {
        select = select.filter(service_request_event::Column::RequestId.eq(request));
    }
    Ok(select)
}

/// A new service request.
#[derive(Debug, Clone)]
pub struct NewServiceRequest {
    pub youth_home_id: i64,
    pub applicant_id: i64,
    pub title: String,
    pub description: String,
}

/// Submits a request to a Youth Home, with the first event of its history.
pub async fn submit_service_request(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewServiceRequest,
) -> ServiceResult<service_request::Model> {
    let title = text("title", &input.title, TITLE_MAX)?;
    let description = text("description", &input.description, TEXT_MAX)?;
    let home = find::<org_unit::Entity>(db, "org unit", input.youth_home_id)
        .await
        .map_err(|_| {
            ServiceError::invalid(
                "youthHomeId",
                format!("org unit {} does not exist", input.youth_home_id),
            )
        })?;
    authz::require_member_or_unit(
        db,
        actor,
        input.applicant_id,
        home.id,
        "submit service requests",
    )
    .await?;
    if home.kind != OrgUnitKind::YouthHome {
        return Err(ServiceError::invalid(
            "youthHomeId",
            format!(
                "{} is not a Youth Home; service requests go to Youth Homes",
                home.name
            ),
        ));
    }
    find::<member::Entity>(db, "member", input.applicant_id)
        .await
        .map_err(|_| {
            ServiceError::invalid(
                "applicantId",
                format!("member {} does not exist", input.applicant_id),
            )
        })?;
    let now = Utc::now();
    let tx = crate::db::write(db).await?;
    let request = service_request::ActiveModel {
        youth_home_id: Set(home.id),
        applicant_id: Set(input.applicant_id),
        title: Set(title),
        description: Set(description),
        status: Set(Status::Submitted),
        submitted_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    record_event(&tx, request.id, None, Status::Submitted, actor, None, now).await?;
    tx.commit().await?;
    Ok(request)
}

/// A step along the workflow.
#[derive(Debug, Clone)]
pub struct Advance {
    pub to: Status,
    pub note: Option<String>,
}

/// Moves a request one step along its workflow and records the step in its history.
pub async fn advance_service_request(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    input: Advance,
) -> ServiceResult<service_request::Model> {
    let note = opt_text("note", input.note.as_deref(), TEXT_MAX)?;
    let tx = crate::db::write(db).await?;
    let current = find::<service_request::Entity>(&tx, "service request", id).await?;
    authz::require_unit(
        &tx,
        actor,
        current.youth_home_id,
        "handle its service requests",
    )
    .await?;
    let allowed = next_statuses(current.status);
    if !allowed.contains(&input.to) {
        let next = if allowed.is_empty() {
            "none: it is finished".to_owned()
        } else {
            allowed
                .iter()
                .map(|s| status_name(*s))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(ServiceError::invalid(
            "to",
            format!(
                "service request {id} is {}; it cannot move to {} (allowed next: {next})",
                status_name(current.status),
                status_name(input.to),
            ),
        ));
    }
    let now = Utc::now();
    // Conditional on the status read above, so two concurrent steps cannot both apply.
    let moved = service_request::Entity::update_many()
        .col_expr(service_request::Column::Status, Expr::value(input.to))
        .col_expr(service_request::Column::UpdatedAt, Expr::value(now))
        .filter(service_request::Column::Id.eq(id))
        .filter(service_request::Column::Status.eq(current.status))
        .exec(&tx)
        .await?;
    if moved.rows_affected != 1 {
        return Err(ServiceError::conflict(format!(
            "service request {id} was changed by someone else meanwhile; reload it and try again"
        )));
    }
    record_event(&tx, id, Some(current.status), input.to, actor, note, now).await?;
    let updated = find::<service_request::Entity>(&tx, "service request", id).await?;
    tx.commit().await?;
    Ok(updated)
}

/// The applicant's evaluation of a completed request.
#[derive(Debug, Clone)]
pub struct Rating {
    pub rating: i32,
    pub feedback: Option<String>,
}

/// Records the applicant's rating (1–5) and feedback, once, after completion.
pub async fn rate_service_request(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    input: Rating,
) -> ServiceResult<service_request::Model> {
    let rating = match i16::try_from(input.rating) {
        Ok(r) if (1..=5).contains(&r) => r,
        _ => {
            return Err(ServiceError::invalid(
                "rating",
                format!("a rating is 1 to 5 stars, got {}", input.rating),
            ))
        }
    };
    let feedback = opt_text("feedback", input.feedback.as_deref(), TEXT_MAX)?;
    let current = find::<service_request::Entity>(db, "service request", id).await?;
    if actor.member_id() != Some(current.applicant_id) {
        actor.require(Need::CityAdmin, "rate a request on the applicant's behalf")?;
    }
    if current.status != Status::Completed {
        return Err(ServiceError::conflict(format!(
            "service request {id} is {}; it can be rated once it is COMPLETED",
            status_name(current.status)
        )));
    }
    if current.rating.is_some() {
        return Err(ServiceError::conflict(format!(
            "service request {id} has already been rated"
        )));
    }
    let now = Utc::now();
    // Conditional, so that two concurrent ratings cannot both be stored.
    let rated = service_request::Entity::update_many()
        .col_expr(service_request::Column::Rating, Expr::value(rating))
        .col_expr(service_request::Column::Feedback, Expr::value(feedback))
        .col_expr(service_request::Column::RatedAt, Expr::value(now))
        .col_expr(service_request::Column::UpdatedAt, Expr::value(now))
        .filter(service_request::Column::Id.eq(id))
        .filter(service_request::Column::Status.eq(Status::Completed))
        .filter(service_request::Column::Rating.is_null())
        .exec(db)
        .await?;
    if rated.rows_affected != 1 {
        return Err(ServiceError::conflict(format!(
            "service request {id} has already been rated"
        )));
    }
    find::<service_request::Entity>(db, "service request", id).await
}

/// Changes to a request's text; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ServiceRequestChanges {
    pub title: Option<String>,
    pub description: Option<String>,
}

/// Corrects a request's title or description while it is not completed.
pub async fn update_service_request(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: ServiceRequestChanges,
) -> ServiceResult<service_request::Model> {
    let current = find::<service_request::Entity>(db, "service request", id).await?;
    authz::require_member_or_unit(
        db,
        actor,
        current.applicant_id,
        current.youth_home_id,
        "change service requests",
    )
    .await?;
    if current.status == Status::Completed {
        return Err(ServiceError::conflict(format!(
            "service request {id} is COMPLETED; a finished request cannot be changed"
        )));
    }
    let mut model: service_request::ActiveModel = current.into();
    if let Some(title) = changes.title {
        model.title = Set(text("title", &title, TITLE_MAX)?);
    }
    if let Some(description) = changes.description {
        model.description = Set(text("description", &description, TEXT_MAX)?);
    }
    model.updated_at = Set(Utc::now());
    Ok(model.update(db).await?)
}

async fn record_event(
    db: &impl ConnectionTrait,
    request_id: i64,
    from: Option<Status>,
    to: Status,
    actor: &Actor,
    note: Option<String>,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    service_request_event::ActiveModel {
        request_id: Set(request_id),
        from_status: Set(from),
        to_status: Set(to),
        actor: Set(actor.label()),
        note: Set(note),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_workflow_is_a_straight_line_that_ends_at_completed() {
        assert_eq!(next_statuses(Status::Submitted), &[Status::Reviewed]);
        assert_eq!(next_statuses(Status::Intervening), &[Status::Completed]);
        assert!(next_statuses(Status::Completed).is_empty());
    }

    #[test]
    fn age_counts_shanghai_days() {
        // 23:30 Shanghai on 1 Oct, then 00:30 Shanghai on 2 Oct: one day old.
        let submitted = Utc.with_ymd_and_hms(2017, 10, 1, 15, 30, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2017, 10, 1, 16, 30, 0).unwrap();
        assert_eq!(age_in_days(submitted, now), 1);
        assert_eq!(age_in_days(submitted, submitted), 0);
    }
}
