//! Incentive programme applications (激励申报, seed 001 附件2): the form, its intents and
//! the city's decision.
//!
//! Which applications are *eligible* for what is policy, computed by rule scripts; no
//! participant thresholds or caps live here.

use crate::authz;
use crate::authz::Need;
use crate::id::Id;
use crate::text::Search;
use async_graphql::InputObject;

use crate::service::filter::Filters;

use chrono::{DateTime, Utc};
use entities::{
    enums::{ActivityCategory, ActivityKind, ApplicationStatus, IncentiveIntent},
    incentive_application, incentive_intent,
};
use sea_orm::{
    sea_query::{Expr, Query},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Select,
};

mod form;

pub(crate) use form::ensure_applicant;
use form::{
    category_of, check_intents, check_one_subject, check_scale, check_schedule, ensure_activity_of,
    ensure_topic_of, parse_plan_url,
};

use super::{find, opt_text, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};

/// Longest activity name, place or plan URL accepted.
pub(crate) const NAME_MAX: usize = 200;
/// Longest description or decision note accepted.
const TEXT_MAX: usize = 20_000;

/// Which applications to list.
#[derive(Debug, Default, Clone, InputObject)]
#[graphql(name = "IncentiveApplicationFilter")]
pub struct ApplicationFilter {
    /// Filed by this unit.
    pub org_unit_id: Option<Id>,
    /// Filed by this town or one of its units.
    pub town_id: Option<Id>,
    /// Filed by a unit of this district.
    pub district_id: Option<Id>,
    /// In this status.
    pub status: Option<ApplicationStatus>,
    /// Asking for this.
    pub intent: Option<IncentiveIntent>,
    /// Filed at or after this instant.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Filed before this instant.
    pub submitted_before: Option<DateTime<Utc>>,
    /// Text contained in the activity name, place or description.
    pub search: Option<Search>,
}

/// The applications a caller may list, filtered.
pub fn applications(
    actor: &Actor,
    filter: &ApplicationFilter,
) -> ServiceResult<Select<incentive_application::Entity>> {
    let visible = authz::unit_condition(
        actor,
        incentive_application::Column::OrgUnitId,
        "incentive applications",
    )?;
    use incentive_application::Column as C;
    let with_intent = filter.intent.map(|intent| {
        C::Id.in_subquery(
            Query::select()
                .column(incentive_intent::Column::ApplicationId)
                .from(incentive_intent::Entity)
                .and_where(incentive_intent::Column::Intent.eq(intent))
                .to_owned(),
        )
    });
    let cond = Filters::new()
        .eq(C::OrgUnitId, filter.org_unit_id)
        .town(C::OrgUnitId, filter.town_id)
        .district(C::OrgUnitId, filter.district_id)
        .eq(C::Status, filter.status)
        .when(with_intent)
        .range(
            C::SubmittedAt,
            filter.submitted_from,
            filter.submitted_before,
        )
        .search(
            &[C::ActivityName, C::Place, C::Description],
            filter.search.as_deref(),
        );
    Ok(incentive_application::Entity::find()
        .filter(cond.build())
        .filter(visible))
}

/// A new application: the form's fields and what is asked for.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub org_unit_id: i64,
    /// The published activity applied for, when it exists already.
    pub activity_id: Option<i64>,
    /// The platform's online topic applied for, instead of an activity.
    pub topic_id: Option<i64>,
    pub activity_name: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub place: Option<String>,
    /// Expected number of participants (规模).
    pub scale: i32,
    /// The form marks specially good resources (资源优质).
    pub special_resources: bool,
    pub kind: ActivityKind,
    /// The activity's category; taken from the named activity when left out.
    pub category: Option<ActivityCategory>,
    pub description: String,
    pub plan_url: Option<String>,
    pub intents: Vec<IncentiveIntent>,
}

/// Files an application with its intents; it waits for the city's decision.
pub async fn apply(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewApplication,
) -> ServiceResult<incentive_application::Model> {
    let activity_name = text("activityName", &input.activity_name, NAME_MAX)?;
    let description = text("description", &input.description, TEXT_MAX)?;
    let place = opt_text("place", input.place.as_deref(), NAME_MAX)?;
    let plan_url = parse_plan_url(input.plan_url.as_deref())?;
    check_scale(input.scale)?;
    check_schedule(input.starts_at, input.ends_at)?;
    let intents = check_intents(&input.intents)?;
    check_one_subject(input.activity_id, input.topic_id)?;
    let tx = crate::db::write(db).await?;
    ensure_applicant(&tx, input.org_unit_id).await?;
    authz::require_unit(&tx, actor, input.org_unit_id, "apply for incentives").await?;
    let activity = match input.activity_id {
        Some(id) => Some(ensure_activity_of(&tx, id, input.org_unit_id).await?),
        None => None,
    };
    if let Some(topic) = input.topic_id {
        ensure_topic_of(&tx, topic, input.org_unit_id).await?;
    }
    let category = category_of(input.category, activity.as_ref())?;
    let created = incentive_application::ActiveModel {
        org_unit_id: Set(input.org_unit_id),
        activity_id: Set(input.activity_id),
        topic_id: Set(input.topic_id),
        activity_name: Set(activity_name),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        place: Set(place),
        scale: Set(input.scale),
        special_resources: Set(input.special_resources),
        kind: Set(input.kind),
        category: Set(category),
        description: Set(description),
        plan_url: Set(plan_url),
        status: Set(ApplicationStatus::Submitted),
        submitted_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    store_intents(&tx, created.id, &intents).await?;
    tx.commit().await?;
    Ok(created)
}

/// Changes to an application; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ApplicationChanges {
    pub activity_id: Option<Option<i64>>,
    pub topic_id: Option<Option<i64>>,
    pub activity_name: Option<String>,
    pub starts_at: Option<Option<DateTime<Utc>>>,
    pub ends_at: Option<Option<DateTime<Utc>>>,
    pub place: Option<Option<String>>,
    pub scale: Option<i32>,
    pub special_resources: Option<bool>,
    pub kind: Option<ActivityKind>,
    /// The category; with an activity named, it must be the activity's.
    pub category: Option<Option<ActivityCategory>>,
    pub description: Option<String>,
    pub plan_url: Option<Option<String>>,
    /// Replaces every intent.
    pub intents: Option<Vec<IncentiveIntent>>,
}

/// Amends an application while it waits for the decision.
pub async fn update_application(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: ApplicationChanges,
) -> ServiceResult<incentive_application::Model> {
    let tx = crate::db::write(db).await?;
    let current = find::<incentive_application::Entity>(&tx, "incentive application", id).await?;
    authz::require_unit(&tx, actor, current.org_unit_id, "amend its applications").await?;
    ensure_undecided(&current)?;
    let starts_at = changes.starts_at.unwrap_or(current.starts_at);
    let ends_at = changes.ends_at.unwrap_or(current.ends_at);
    check_schedule(starts_at, ends_at)?;
    let org_unit_id = current.org_unit_id;
    let activity_id = changes.activity_id.unwrap_or(current.activity_id);
    let topic_id = changes.topic_id.unwrap_or(current.topic_id);
    check_one_subject(activity_id, topic_id)?;
    if let Some(topic) = changes.topic_id.flatten() {
        ensure_topic_of(&tx, topic, org_unit_id).await?;
    }
    let activity = match activity_id {
        Some(id) => Some(ensure_activity_of(&tx, id, org_unit_id).await?),
        None => None,
    };
    // A category left out stays, unless a named activity brings its own.
    let category = match changes.category {
        Some(given) => category_of(given, activity.as_ref())?,
        None if activity.is_some() => category_of(None, activity.as_ref())?,
        None => current.category,
    };
    let mut model: incentive_application::ActiveModel = current.into();
    model.activity_id = Set(activity_id);
    model.topic_id = Set(topic_id);
    model.category = Set(category);
    if let Some(name) = changes.activity_name {
        model.activity_name = Set(text("activityName", &name, NAME_MAX)?);
    }
    if let Some(place) = changes.place {
        model.place = Set(opt_text("place", place.as_deref(), NAME_MAX)?);
    }
    if let Some(scale) = changes.scale {
        check_scale(scale)?;
        model.scale = Set(scale);
    }
    if let Some(special) = changes.special_resources {
        model.special_resources = Set(special);
    }
    if let Some(kind) = changes.kind {
        model.kind = Set(kind);
    }
    if let Some(description) = changes.description {
        model.description = Set(text("description", &description, TEXT_MAX)?);
    }
    if let Some(url) = changes.plan_url {
        model.plan_url = Set(parse_plan_url(url.as_deref())?);
    }
    model.starts_at = Set(starts_at);
    model.ends_at = Set(ends_at);
    if let Some(intents) = changes.intents {
        let intents = check_intents(&intents)?;
        incentive_intent::Entity::delete_many()
            .filter(incentive_intent::Column::ApplicationId.eq(id))
            .exec(&tx)
            .await?;
        store_intents(&tx, id, &intents).await?;
    }
    let updated = model.update(&tx).await?;
    tx.commit().await?;
    Ok(updated)
}

/// The city's decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub approve: bool,
    /// Required when rejecting: the applicant is told why.
    pub note: Option<String>,
}

/// Approves or rejects an application, once.
pub async fn decide(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    input: Decision,
) -> ServiceResult<incentive_application::Model> {
    actor.require(Need::CityAdmin, "decide incentive applications")?;
    let note = opt_text("note", input.note.as_deref(), TEXT_MAX)?;
    if !input.approve && note.is_none() {
        return Err(ServiceError::invalid(
            "note",
            "a rejection needs a note telling the applicant why",
        ));
    }
    let current = find::<incentive_application::Entity>(db, "incentive application", id).await?;
    ensure_undecided(&current)?;
    let status = if input.approve {
        ApplicationStatus::Approved
    } else {
        ApplicationStatus::Rejected
    };
    // Conditional on the status, so that two concurrent decisions cannot both apply.
    let txn = crate::db::write(db).await?;
    let decided = incentive_application::Entity::update_many()
        .col_expr(incentive_application::Column::Status, Expr::value(status))
        .col_expr(
            incentive_application::Column::DecidedAt,
            Expr::value(Utc::now()),
        )
        .col_expr(
            incentive_application::Column::DecisionNote,
            Expr::value(note.clone()),
        )
        .filter(incentive_application::Column::Id.eq(id))
        .filter(incentive_application::Column::Status.eq(ApplicationStatus::Submitted))
        .exec(&txn)
        .await?;
    if decided.rows_affected != 1 {
        return Err(ServiceError::conflict(format!(
            "incentive application {id} has already been decided"
        )));
    }
    super::audit::record(
        &txn,
        actor,
        "incentive.decide",
        format!("incentive_application:{id}"),
        serde_json::json!({
            "approved": input.approve,
            "note": note,
            "orgUnitId": current.org_unit_id,
            "activityName": current.activity_name,
        }),
    )
    .await?;
    txn.commit().await?;
    find::<incentive_application::Entity>(db, "incentive application", id).await
}

fn ensure_undecided(application: &incentive_application::Model) -> ServiceResult<()> {
    let decided = match application.status {
        ApplicationStatus::Submitted => return Ok(()),
        ApplicationStatus::Approved => "APPROVED",
        ApplicationStatus::Rejected => "REJECTED",
    };
    Err(ServiceError::conflict(format!(
        "incentive application {} has already been decided ({decided}); it cannot change any more",
        application.id
    )))
}

async fn store_intents(
    db: &impl ConnectionTrait,
    application_id: i64,
    intents: &[IncentiveIntent],
) -> ServiceResult<()> {
    let rows = intents.iter().map(|intent| incentive_intent::ActiveModel {
        application_id: Set(application_id),
        intent: Set(*intent),
        ..Default::default()
    });
    incentive_intent::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
