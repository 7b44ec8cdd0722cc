//! Activities (找活动) and their loop: publishing, sign-up, check-in, comments,
//! reviews, likes and photos.

use crate::authz;
use crate::id::Id;
use crate::text::Search;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use chrono::{DateTime, Utc};
use entities::{
    activity, activity_signup,
    enums::{ActivityCategory, ActivityKind},
    org_unit,
};
use qii_engine::rules::activity::ActivityRules;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Select,
};

use super::{find, opt_text, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};

/// Longest title accepted.
const TITLE_MAX: usize = 200;
/// Longest description accepted.
const DESCRIPTION_MAX: usize = 20_000;

/// Which activities to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct ActivityFilter {
    /// Published by this org unit.
    pub org_unit_id: Option<Id>,
    /// Published by any unit of this town (its Youth Homes included).
    pub town_id: Option<Id>,
    /// Published by any unit of this district.
    pub district_id: Option<Id>,
    /// Offline or online topic.
    pub kind: Option<ActivityKind>,
    /// One category.
    pub category: Option<ActivityCategory>,
    /// Only heavyweight (or only ordinary) activities.
    pub heavyweight: Option<bool>,
    /// Starting at or after this instant.
    pub starts_from: Option<DateTime<Utc>>,
    /// Starting before this instant.
    pub starts_before: Option<DateTime<Utc>>,
    /// Counted in this period (e.g. `2017-10`): by the date the activity rules count
    /// activities by (their start or their end, `activity_period()` in
    /// `rules/eligibility/activity.rhai`), as the index and the targets count them.
    pub counted_in: Option<qii_engine::period::Period>,
    /// Text contained in the title or place.
    pub search: Option<Search>,
}

/// The activities a caller may list, filtered (a period by the date `rules` count
/// activities by).
pub fn activities(
    _actor: &Actor,
    filter: &ActivityFilter,
    rules: &ActivityRules,
) -> Select<activity::Entity> {
    use activity::Column as C;
    let counted = filter.counted_in.as_ref();
    let cond = Filters::new()
        .range(
            crate::scoring::activity_sql::period_column(rules),
            counted.map(|p| p.start_utc()),
            counted.map(|p| p.end_utc()),
        )
        .eq(C::OrgUnitId, filter.org_unit_id)
        .town(C::OrgUnitId, filter.town_id)
        .district(C::OrgUnitId, filter.district_id)
        .eq(C::Kind, filter.kind)
        .eq(C::Category, filter.category)
        .eq(C::Heavyweight, filter.heavyweight)
        .range(C::StartsAt, filter.starts_from, filter.starts_before)
        .search(&[C::Title, C::Place], filter.search.as_deref());
    activity::Entity::find().filter(cond.build())
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

/// The org unit that holds an activity.
pub async fn unit_of_activity(db: &impl ConnectionTrait, id: i64) -> ServiceResult<i64> {
    Ok(find::<activity::Entity>(db, "activity", id)
        .await?
        .org_unit_id)
}

/// Publishes an activity.
pub async fn create_activity(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewActivity,
) -> ServiceResult<activity::Model> {
    find::<org_unit::Entity>(db, "org unit", input.org_unit_id)
        .await
        .map_err(|_| {
            ServiceError::invalid(
                "orgUnitId",
                format!("org unit {} does not exist", input.org_unit_id),
            )
        })?;
    authz::require_unit(db, actor, input.org_unit_id, "publish activities").await?;
    check_schedule(input.starts_at, input.ends_at, input.signup_deadline)?;
    check_capacity(input.capacity)?;
    let model = activity::ActiveModel {
        org_unit_id: Set(input.org_unit_id),
        title: Set(text("title", &input.title, TITLE_MAX)?),
        description: Set(input
            .description
            .trim()
            .chars()
            .take(DESCRIPTION_MAX)
            .collect()),
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

/// Changes to an activity; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ActivityChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub kind: Option<ActivityKind>,
    pub category: Option<ActivityCategory>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Clearing it closes sign-ups at the start again.
    pub signup_deadline: Option<Option<DateTime<Utc>>>,
    pub place: Option<Option<String>>,
    /// Clearing it makes the activity unlimited.
    pub capacity: Option<Option<i32>>,
    pub heavyweight: Option<bool>,
}

/// Updates an activity. The schedule and capacity are checked as merged with the
/// current values; the capacity may not drop below the sign-ups already taken, which
/// is counted under the same lock that sign-ups take, so none can slip in between.
pub async fn update_activity(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: ActivityChanges,
) -> ServiceResult<activity::Model> {
    let (txn, current) = lock_activity(db, id).await?;
    let result = match current {
        Some(current) => {
            async {
                authz::require_unit(&txn, actor, current.org_unit_id, "change activities").await?;
                apply_changes(&txn, current, changes).await
            }
            .await
        }
        None => Err(ServiceError::not_found("activity", id)),
    };
    finish(txn, result).await
}

async fn apply_changes(
    txn: &DatabaseTransaction,
    current: activity::Model,
    changes: ActivityChanges,
) -> ServiceResult<activity::Model> {
    let id = current.id;
    let starts_at = changes.starts_at.unwrap_or(current.starts_at);
    let ends_at = changes.ends_at.unwrap_or(current.ends_at);
    let deadline = changes.signup_deadline.unwrap_or(current.signup_deadline);
    let capacity = changes.capacity.unwrap_or(current.capacity);
    check_schedule(starts_at, ends_at, deadline)?;
    check_capacity(capacity)?;
    if let Some(capacity) = capacity {
        let taken = signup_count(txn, id).await?;
        if i64::from(capacity) < taken {
            return Err(ServiceError::invalid(
                "capacity",
                format!("capacity {capacity} is below the {taken} members already signed up"),
            ));
        }
    }
    let mut model: activity::ActiveModel = current.into();
    if let Some(title) = changes.title {
        model.title = Set(text("title", &title, TITLE_MAX)?);
    }
    if let Some(description) = changes.description {
        model.description = Set(description.trim().chars().take(DESCRIPTION_MAX).collect());
    }
    if let Some(kind) = changes.kind {
        model.kind = Set(kind);
    }
    if let Some(category) = changes.category {
        model.category = Set(category);
    }
    if let Some(place) = changes.place {
        model.place = Set(opt_text("place", place.as_deref(), TITLE_MAX)?);
    }
    if let Some(heavyweight) = changes.heavyweight {
        model.heavyweight = Set(heavyweight);
    }
    model.starts_at = Set(starts_at);
    model.ends_at = Set(ends_at);
    model.signup_deadline = Set(deadline);
    model.capacity = Set(capacity);
    Ok(model.update(txn).await?)
}

/// Opens a write transaction holding activity `id` (none when it does not exist).
///
/// Capacity checks count sign-ups and then insert or shrink; two such transactions must
/// not interleave. On PostgreSQL the activity row is locked (`SELECT … FOR UPDATE`), so
/// writers of the same activity queue while others proceed; SQLite ignores row locks, so
/// the transaction starts `IMMEDIATE`, taking the database's single write lock up front
/// (waiting up to the busy timeout) instead of failing when it upgrades from a read.
pub async fn lock_activity(
    db: &DatabaseConnection,
    id: i64,
) -> ServiceResult<(DatabaseTransaction, Option<activity::Model>)> {
    let txn = crate::db::write(db).await?;
    let found = activity::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    Ok((txn, found))
}

/// Commits the transaction when `result` is a success and rolls it back otherwise, at
/// once: left to its drop, the rollback (and SQLite's write lock) could linger.
pub async fn finish<T>(txn: DatabaseTransaction, result: ServiceResult<T>) -> ServiceResult<T> {
    match result {
        Ok(value) => {
            txn.commit().await?;
            Ok(value)
        }
        Err(err) => {
            txn.rollback().await?;
            Err(err)
        }
    }
}

/// Number of members signed up for an activity.
pub async fn signup_count(db: &impl ConnectionTrait, activity_id: i64) -> ServiceResult<i64> {
    let n = activity_signup::Entity::find()
        .filter(activity_signup::Column::ActivityId.eq(activity_id))
        .count(db)
        .await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
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
