//! Activities (找活动) and their loop: publishing, sign-up, check-in, comments,
//! reviews, likes and photos.

use chrono::{DateTime, Utc};
use entities::{
    activity,
    enums::{ActivityCategory, ActivityKind},
    org_unit,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait}, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection,
    EntityTrait, QueryFilter, Select,
};

use super::{contains_pattern, find, opt_text, org::{in_district, in_town}, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};

/// Longest title accepted.
const TITLE_MAX: usize = 200;
/// Longest description accepted.
const DESCRIPTION_MAX: usize = 20_000;

/// Which activities to list.
#[derive(Debug, Default, Clone)]
pub struct ActivityFilter {
    pub org_unit_id: Option<i64>,
    /// Activities of any unit of this town (Youth Homes included).
    pub town_id: Option<i64>,
    pub district_id: Option<i64>,
    pub kind: Option<ActivityKind>,
    pub category: Option<ActivityCategory>,
    pub heavyweight: Option<bool>,
    /// Starting at or after this instant.
    pub starts_from: Option<DateTime<Utc>>,
    /// Starting before this instant.
    pub starts_before: Option<DateTime<Utc>>,
    /// Text contained in the title or place.
    pub search: Option<String>,
}

/// The activities a caller may list, filtered.
pub fn activities(_actor: &Actor, filter: &ActivityFilter) -> Select<activity::Entity> {
    use activity::Column as C;
    let mut cond = Condition::all();
    if let Some(unit) = filter.org_unit_id {
        cond = cond.add(C::OrgUnitId.eq(unit));
    }
    if let Some(town) = filter.town_id {
        cond = cond.add(in_town(C::OrgUnitId, town));
    }
    if let Some(district) = filter.district_id {
        cond = cond.add(in_district(C::OrgUnitId, district));
    }
    if let Some(kind) = filter.kind {
        cond = cond.add(C::Kind.eq(kind));
    }
    if let Some(category) = filter.category {
        cond = cond.add(C::Category.eq(category));
    }
    if let Some(heavyweight) = filter.heavyweight {
        cond = cond.add(C::Heavyweight.eq(heavyweight));
    }
    if let Some(from) = filter.starts_from {
        cond = cond.add(C::StartsAt.gte(from));
    }
    if let Some(before) = filter.starts_before {
        cond = cond.add(C::StartsAt.lt(before));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        let pattern = contains_pattern(search);
        cond = cond.add(
            Condition::any()
                .add(Expr::col(C::Title).like(pattern.clone()))
                .add(Expr::col(C::Place).like(pattern)),
        );
    }
    activity::Entity::find().filter(cond)
}

/// A new activity.
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub org_unit_id: i64,
    pub title: String,
    pub description: String,
    pub kind: ActivityKind,
    pub category: ActivityCategory,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub signup_deadline: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub capacity: Option<i32>,
    pub heavyweight: bool,
}

/// Publishes an activity.
pub async fn create_activity(
    db: &DatabaseConnection,
    _actor: &Actor,
    input: NewActivity,
) -> ServiceResult<activity::Model> {
    find::<org_unit::Entity>(db, "org unit", input.org_unit_id)
        .await
        .map_err(|_| ServiceError::invalid("orgUnitId", format!("org unit {} does not exist", input.org_unit_id)))?;
    check_schedule(input.starts_at, input.ends_at, input.signup_deadline)?;
    check_capacity(input.capacity)?;
    let model = activity::ActiveModel {
        org_unit_id: Set(input.org_unit_id),
        title: Set(text("title", &input.title, TITLE_MAX)?),
        description: Set(input.description.trim().chars().take(DESCRIPTION_MAX).collect()),
        kind: Set(input.kind),
        category: Set(input.category),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        signup_deadline: Set(input.signup_deadline),
        place: Set(opt_text("place", input.place.as_deref(), TITLE_MAX)?),
        capacity: Set(input.capacity),
        heavyweight: Set(input.heavyweight),
        published_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// An activity ends after it starts, and sign-ups close before it ends.
pub fn check_schedule(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    signup_deadline: Option<DateTime<Utc>>,
) -> ServiceResult<()> {
    if ends_at <= starts_at {
        return Err(ServiceError::invalid(
            "endsAt",
            format!("the activity must end after it starts ({starts_at} → {ends_at})"),
        ));
    }
    if let Some(deadline) = signup_deadline {
        if deadline > ends_at {
            return Err(ServiceError::invalid(
                "signupDeadline",
                "sign-ups must close before the activity ends",
            ));
        }
    }
    Ok(())
}

/// A capacity, when given, is at least one place.
pub fn check_capacity(capacity: Option<i32>) -> ServiceResult<()> {
    match capacity {
        Some(c) if c < 1 => Err(ServiceError::invalid(
            "capacity",
            format!("capacity must be at least 1 (or left out for unlimited), got {c}"),
        )),
        _ => Ok(()),
    }
}
