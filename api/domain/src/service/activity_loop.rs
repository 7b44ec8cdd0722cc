//! Taking part in an activity: sign-up (报名), cancelling it, and check-in (签到).
//!
//! Every call validates before it writes and writes nothing on bad input; the unique
//! constraints of the tables stay the last line of defence against races.

use crate::authz;
use crate::id::Id;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use chrono::{DateTime, Utc};
use entities::{activity, activity_checkin, activity_signup, member};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    ModelTrait, QueryFilter, Select,
};

use super::{
    activity::{finish, lock_activity, signup_count},
    find, referenced,
};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};

/// A member taking part in an activity.
#[derive(Debug, Clone, Copy)]
pub struct Participation {
    pub activity_id: i64,
    pub member_id: i64,
}

/// Which sign-ups, check-ins, comments or reviews to list.
#[derive(Debug, Default, Clone, InputObject)]
#[graphql(name = "ActivityRecordFilter")]
pub struct ParticipationFilter {
    /// Of this activity.
    pub activity_id: Option<Id>,
    /// By this member.
    pub member_id: Option<Id>,
}

/// The sign-ups a caller may list, filtered.
pub fn signups(
    actor: &Actor,
    filter: &ParticipationFilter,
) -> ServiceResult<Select<activity_signup::Entity>> {
    Ok(activity_signup::Entity::find()
        .filter(signup_condition(filter))
        .filter(visible_signups(actor)?))
}

/// The sign-ups a caller may see: a member their own, administrators those of the
/// activities of the units they reach.
fn visible_signups(actor: &Actor) -> ServiceResult<Condition> {
    authz::activity_records_condition(
        actor,
        activity_signup::Column::ActivityId,
        activity_signup::Column::MemberId,
        "sign-ups and check-ins",
    )
}

/// The check-ins a caller may list, filtered through their sign-ups.
pub fn checkins(
    actor: &Actor,
    filter: &ParticipationFilter,
) -> ServiceResult<Select<activity_checkin::Entity>> {
    let visible = visible_signups(actor)?;
    let mut select = activity_checkin::Entity::find();
    if filter.activity_id.is_some() || filter.member_id.is_some() || !visible.is_empty() {
        let signups = Query::select()
            .column(activity_signup::Column::Id)
            .from(activity_signup::Entity)
            .cond_where(signup_condition(filter))
            .cond_where(visible)
            .to_owned();
        select = select.filter(Expr::col(activity_checkin::Column::SignupId).in_subquery(signups));
    }
    Ok(select)
}

fn signup_condition(filter: &ParticipationFilter) -> Condition {
    use activity_signup::Column as C;
    Filters::new()
        .eq(C::ActivityId, filter.activity_id)
        .eq(C::MemberId, filter.member_id)
        .build()
}

/// Signs a member up for an activity.
///
/// Refused when the activity or member does not exist, the member is already signed up,
/// sign-ups have closed (after the sign-up deadline, by default the start), or the
/// activity is full. The capacity is counted and the sign-up inserted in one transaction
/// holding the activity (see [`lock_activity`]), so concurrent sign-ups cannot exceed it.
pub async fn sign_up(
    db: &DatabaseConnection,
    actor: &Actor,
    input: Participation,
    now: DateTime<Utc>,
) -> ServiceResult<activity_signup::Model> {
    let (txn, found) = lock_activity(db, input.activity_id).await?;
    let result = match found {
        Some(activity) => {
            async {
                let unit = activity.org_unit_id;
                authz::require_member_or_unit(
                    &txn,
                    actor,
                    input.member_id,
                    unit,
                    "sign up for activities",
                )
                .await?;
                insert_signup(&txn, activity, input, now).await
            }
            .await
        }
        None => Err(unknown_activity(input.activity_id)),
    };
    finish(txn, result).await
}

async fn insert_signup(
    txn: &DatabaseTransaction,
    activity: activity::Model,
    input: Participation,
    now: DateTime<Utc>,
) -> ServiceResult<activity_signup::Model> {
    let member = member_ref(txn, input.member_id).await?;
    if let Some(existing) = signup_of(txn, &input).await? {
        return Err(ServiceError::invalid(
            "memberId",
            format!(
                "member {} has already signed up for activity {} (sign-up {})",
                member.id, activity.id, existing.id
            ),
        ));
    }
    let closes = activity.signup_deadline.unwrap_or(activity.starts_at);
    if now > closes {
        return Err(ServiceError::invalid(
            "activityId",
            format!(
                "sign-ups for activity {} ({}) closed at {closes}",
                activity.id, activity.title
            ),
        ));
    }
    if let Some(capacity) = activity.capacity {
        if signup_count(txn, activity.id).await? >= i64::from(capacity) {
            return Err(ServiceError::invalid(
                "activityId",
                format!(
                    "activity {} ({}) is full: all {capacity} places are taken",
                    activity.id, activity.title
                ),
            ));
        }
    }
    let signup = activity_signup::ActiveModel {
        activity_id: Set(activity.id),
        member_id: Set(member.id),
        signed_up_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(signup)
}

/// Cancels a sign-up; only before the activity starts, and never once checked in.
/// Returns the activity, whose place is free again.
pub async fn cancel_sign_up(
    db: &DatabaseConnection,
    actor: &Actor,
    signup_id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<activity::Model> {
    let signup = find::<activity_signup::Entity>(db, "sign-up", signup_id).await?;
    let activity = find::<activity::Entity>(db, "activity", signup.activity_id).await?;
    authz::require_member_or_unit(
        db,
        actor,
        signup.member_id,
        activity.org_unit_id,
        "cancel sign-ups",
    )
    .await?;
    if checkin_of(db, signup.id).await?.is_some() {
        return Err(ServiceError::conflict(format!(
            "sign-up {signup_id} cannot be cancelled: the member has already checked in"
        )));
    }
    if now >= activity.starts_at {
        return Err(ServiceError::conflict(format!(
            "sign-up {signup_id} cannot be cancelled: activity {} started at {}",
            activity.id, activity.starts_at
        )));
    }
    signup.delete(db).await?;
    // Read again: the database has counted the sign-up off.
    find::<activity::Entity>(db, "activity", activity.id).await
}

/// Checks a signed-up member in.
///
/// Check-in is open from the activity's start until its end (both included): a member
/// checks in while the activity is being held. Refused without a sign-up, outside that
/// window, and a second time.
pub async fn check_in(
    db: &DatabaseConnection,
    actor: &Actor,
    input: Participation,
    now: DateTime<Utc>,
) -> ServiceResult<activity_checkin::Model> {
    let activity = activity_ref(db, input.activity_id).await?;
    let member = member_ref(db, input.member_id).await?;
    authz::require_member_or_unit(db, actor, member.id, activity.org_unit_id, "check in").await?;
    let signup = signup_of(db, &input).await?.ok_or_else(|| {
        ServiceError::invalid(
            "memberId",
            format!(
                "member {} has not signed up for activity {}",
                member.id, activity.id
            ),
        )
    })?;
    if let Some(existing) = checkin_of(db, signup.id).await? {
        return Err(ServiceError::invalid(
            "memberId",
            format!(
                "member {} has already checked in to activity {} (at {})",
                member.id, activity.id, existing.checked_in_at
            ),
        ));
    }
    if now < activity.starts_at || now > activity.ends_at {
        return Err(ServiceError::invalid(
            "activityId",
            format!(
                "check-in to activity {} is open while it is held, from {} until {}",
                activity.id, activity.starts_at, activity.ends_at
            ),
        ));
    }
    let checkin = activity_checkin::ActiveModel {
        signup_id: Set(signup.id),
        checked_in_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(checkin)
}

/// The activity an input names, or a bad-input error naming `activityId`.
pub async fn activity_ref(db: &impl ConnectionTrait, id: i64) -> ServiceResult<activity::Model> {
    referenced::<activity::Entity>(db, "activityId", "activity", id).await
}

/// The member an input names, or a bad-input error naming `memberId`.
pub async fn member_ref(db: &impl ConnectionTrait, id: i64) -> ServiceResult<member::Model> {
    referenced::<member::Entity>(db, "memberId", "member", id).await
}

fn unknown_activity(id: i64) -> ServiceError {
    ServiceError::invalid("activityId", format!("activity {id} does not exist"))
}

/// The member's sign-up for the activity, if any.
pub async fn signup_of(
    db: &impl ConnectionTrait,
    p: &Participation,
) -> ServiceResult<Option<activity_signup::Model>> {
    Ok(activity_signup::Entity::find()
        .filter(activity_signup::Column::ActivityId.eq(p.activity_id))
        .filter(activity_signup::Column::MemberId.eq(p.member_id))
        .one(db)
        .await?)
}

async fn checkin_of(
    db: &impl ConnectionTrait,
    signup_id: i64,
) -> ServiceResult<Option<activity_checkin::Model>> {
    Ok(activity_checkin::Entity::find()
        .filter(activity_checkin::Column::SignupId.eq(signup_id))
        .one(db)
        .await?)
}
