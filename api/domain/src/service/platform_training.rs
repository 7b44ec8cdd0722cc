//! Requests for platform-skills training (平台使用技能培训, DOMAIN.md §5.5): a unit's staff
//! ask the city to train their people in using the platform; city administrators schedule
//! the training (with a day), mark it done, or decline it with a reason:
//!
//! requested → scheduled → done, and requested or scheduled → declined.
//!
//! Whether a request is eligible is the incentive rules' (`platform_training(request)`);
//! nothing here limits its size. Every step is in the audit log, written in the step's
//! transaction.

use async_graphql::InputObject;
use chrono::{DateTime, NaiveDate, Utc};
use entities::{enums::PlatformTrainingStatus as Status, platform_training_request as request};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, Select,
};
use serde_json::json;

use super::{audit, enum_name, filter::Filters, find, incentive::ensure_applicant, opt_text, text};
use crate::{
    authz::{self, Need},
    error::{ServiceError, ServiceResult},
    id::Id,
    identity::Actor,
};
use qii_engine::time::local_day;

/// Longest note or reason accepted.
const TEXT_MAX: usize = 5_000;

/// The statuses a request may move to next.
pub fn next_statuses(status: Status) -> &'static [Status] {
    match status {
        Status::Requested => &[Status::Scheduled, Status::Declined],
        // Scheduled again: the training moves to another day.
        Status::Scheduled => &[Status::Scheduled, Status::Done, Status::Declined],
        Status::Done | Status::Declined => &[],
    }
}

/// Which requests to list.
#[derive(Debug, Default, Clone, InputObject)]
#[graphql(name = "PlatformTrainingRequestFilter")]
pub struct RequestFilter {
    /// For this unit.
    pub org_unit_id: Option<Id>,
    /// For this town or one of its units.
    pub town_id: Option<Id>,
    /// For a unit of this district.
    pub district_id: Option<Id>,
    /// In this status.
    pub status: Option<Status>,
    /// In any of these statuses, e.g. `[REQUESTED, SCHEDULED]` for the open ones.
    pub statuses: Option<Vec<Status>>,
    /// Asked for at or after this instant.
    pub requested_from: Option<DateTime<Utc>>,
    /// Asked for before this instant.
    pub requested_before: Option<DateTime<Utc>>,
}

/// The requests a caller may list, filtered: those of the units it reaches.
pub fn requests(actor: &Actor, filter: &RequestFilter) -> ServiceResult<Select<request::Entity>> {
    use request::Column as C;
    let visible = authz::unit_condition(actor, C::OrgUnitId, "platform training requests")?;
    let statuses = filter
        .statuses
        .as_ref()
        .map(|s| C::Status.is_in(s.iter().copied()));
    let cond = Filters::new()
        .eq(C::OrgUnitId, filter.org_unit_id)
        .town(C::OrgUnitId, filter.town_id)
        .district(C::OrgUnitId, filter.district_id)
        .eq(C::Status, filter.status)
        .when(statuses)
        .range(
            C::RequestedAt,
            filter.requested_from,
            filter.requested_before,
        );
    Ok(request::Entity::find().filter(cond.build()).filter(visible))
}

/// A new request.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub org_unit_id: i64,
    pub preferred_date: Option<NaiveDate>,
    pub trainees: i32,
    pub note: Option<String>,
}

/// Asks the city for platform-skills training for a unit; it waits as `REQUESTED`.
pub async fn request_training(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewRequest,
) -> ServiceResult<request::Model> {
    if input.trainees <= 0 {
        return Err(ServiceError::invalid(
            "trainees",
            format!(
                "`trainees` is how many people are to be trained: 1 or more, got {}",
                input.trainees
            ),
        ));
    }
    let note = opt_text("note", input.note.as_deref(), TEXT_MAX)?;
    let now = Utc::now();
    if let Some(day) = input.preferred_date {
        not_past("preferredDate", day, now)?;
    }
    let tx = crate::db::write(db).await?;
    ensure_applicant(&tx, input.org_unit_id).await?;
    authz::require_unit(&tx, actor, input.org_unit_id, "request platform training").await?;
    let created = request::ActiveModel {
        org_unit_id: Set(input.org_unit_id),
        trainees: Set(input.trainees),
        preferred_date: Set(input.preferred_date),
        note: Set(note.clone()),
        status: Set(Status::Requested),
        requested_at: Set(now),
        requested_by: Set(actor.label()),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    let detail = json!({
        "orgUnitId": created.org_unit_id,
        "trainees": created.trainees,
        "preferredDate": created.preferred_date,
        "note": note,
    });
    record(&tx, actor, "request", created.id, detail).await?;
    tx.commit().await?;
    Ok(created)
}

/// A step the city takes on a request.
#[derive(Debug, Clone)]
pub enum Step {
    /// Sets (or moves) the day of the training, with the arrangements if any.
    Schedule { on: NaiveDate, note: Option<String> },
    /// The training was held.
    Complete { note: Option<String> },
    /// Declines, saying why.
    Decline { reason: String },
}

impl Step {
    fn to(&self) -> Status {
        match self {
            Step::Schedule { .. } => Status::Scheduled,
            Step::Complete { .. } => Status::Done,
            Step::Decline { .. } => Status::Declined,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::Schedule { .. } => "schedule",
            Step::Complete { .. } => "complete",
            Step::Decline { .. } => "decline",
        }
    }
}

/// Takes one step of the workflow on request `id`, for city administrators.
pub async fn take_step(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    step: Step,
) -> ServiceResult<request::Model> {
    actor.require(
        Need::CityAdmin,
        "schedule, complete or decline platform training",
    )?;
    let now = Utc::now();
    let (scheduled_on, note) = match &step {
        Step::Schedule { on, note } => {
            not_past("date", *on, now)?;
            (Some(*on), opt_text("note", note.as_deref(), TEXT_MAX)?)
        }
        Step::Complete { note } => (None, opt_text("note", note.as_deref(), TEXT_MAX)?),
        Step::Decline { reason } => (None, Some(text("reason", reason, TEXT_MAX)?)),
    };
    let tx = crate::db::write(db).await?;
    let current = find::<request::Entity>(&tx, "platform training request", id).await?;
    let to = step.to();
    ensure_allowed(&current, to)?;
    if let (Step::Complete { .. }, Some(day)) = (&step, current.scheduled_on) {
        if local_day(now) < day {
            return Err(ServiceError::conflict(format!(
                "platform training request {id} is scheduled for {day}; it can be marked done \
                 from that day (schedule it again if it was held earlier)"
            )));
        }
    }
    // Conditional on the status read above, so two concurrent steps cannot both apply.
    let mut update = request::Entity::update_many()
        .col_expr(request::Column::Status, Expr::value(to))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Status.eq(current.status));
    if let Some(day) = scheduled_on {
        update = update.col_expr(request::Column::ScheduledOn, Expr::value(day));
    }
    if note.is_some() {
        update = update.col_expr(request::Column::CityNote, Expr::value(note.clone()));
    }
    if update.exec(&tx).await?.rows_affected != 1 {
        return Err(ServiceError::conflict(format!(
            "platform training request {id} was changed by someone else meanwhile; reload it \
             and try again"
        )));
    }
    let detail = json!({
        "orgUnitId": current.org_unit_id,
        "from": enum_name(current.status),
        "to": enum_name(to),
        "scheduledOn": scheduled_on,
        "note": note,
    });
    record(&tx, actor, step.action(), id, detail).await?;
    let updated = find::<request::Entity>(&tx, "platform training request", id).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Refuses a step the workflow does not allow from where the request stands.
fn ensure_allowed(current: &request::Model, to: Status) -> ServiceResult<()> {
    let allowed = next_statuses(current.status);
    if allowed.contains(&to) {
        return Ok(());
    }
    let next = if allowed.is_empty() {
        "none: it is finished".to_owned()
    } else {
        allowed
            .iter()
            .map(|s| enum_name(*s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(ServiceError::conflict(format!(
        "platform training request {} is {}; it cannot move to {} (allowed next: {next})",
        current.id,
        enum_name(current.status),
        enum_name(to),
    )))
}

/// A day asked for is today (in Dongguan) or later.
fn not_past(field: &'static str, day: NaiveDate, now: DateTime<Utc>) -> ServiceResult<()> {
    let today = local_day(now);
    if day < today {
        return Err(ServiceError::invalid(
            field,
            format!("{day} has passed; give today ({today}) or a later day"),
        ));
    }
    Ok(())
}

async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    id: i64,
    detail: serde_json::Value,
) -> ServiceResult<()> {
    let action = format!("platform_training.{action}");
    audit::record(
        db,
        actor,
        &action,
        format!("platform_training_request:{id}"),
        detail,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_request_is_scheduled_then_done_or_declined_and_then_finished() {
        assert_eq!(
            next_statuses(Status::Requested),
            &[Status::Scheduled, Status::Declined]
        );
        assert!(!next_statuses(Status::Requested).contains(&Status::Done));
        assert!(next_statuses(Status::Scheduled).contains(&Status::Done));
        assert!(next_statuses(Status::Done).is_empty());
        assert!(next_statuses(Status::Declined).is_empty());
    }

    #[test]
    fn a_day_has_passed_once_dongguan_has_left_it() {
        // 23:30 in Dongguan on 20 November: the 20th is today, the 19th has passed.
        let now = Utc.with_ymd_and_hms(2017, 11, 20, 15, 30, 0).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2017, 11, d).unwrap();
        assert!(not_past("date", day(20), now).is_ok());
        assert!(not_past("date", day(19), now).is_err());
        // 00:30 in Dongguan on the 21st.
        let later = Utc.with_ymd_and_hms(2017, 11, 20, 16, 30, 0).unwrap();
        assert!(not_past("date", day(20), later).is_err());
    }
}
