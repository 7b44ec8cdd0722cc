//! What members leave on an activity: comments (评论), reviews with a rating (评价/打分),
//! likes and votes (点赞/投票).
//!
//! Every call validates before it writes and writes nothing on bad input; the unique and
//! check constraints of the tables stay the last line of defence.

use crate::authz;
use crate::id::Id;
use async_graphql::InputObject;

use super::activity::unit_of_activity;
use crate::service::filter::Filters;
use chrono::{DateTime, Utc};
use entities::{activity_comment, activity_like, activity_review, enums::LikeKind};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait,
    ModelTrait, QueryFilter, Select,
};

use super::{
    activity_loop::{activity_ref, member_ref, signup_of, Participation, ParticipationFilter},
    find, opt_text, text,
};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};

/// Longest comment or review text accepted.
const BODY_MAX: usize = 5_000;
/// The rating scale of a review, as the table's check constraint fixes it.
pub(crate) const RATING_RANGE: std::ops::RangeInclusive<i32> = 1..=5;

/// Which likes and votes to list.
#[derive(Debug, Default, Clone, InputObject)]
#[graphql(name = "ActivityLikeFilter")]
pub struct LikeFilter {
    /// On this activity.
    pub activity_id: Option<Id>,
    /// By this member.
    pub member_id: Option<Id>,
    /// Only likes, or only votes.
    pub kind: Option<LikeKind>,
}

/// The comments a caller may list, filtered.
pub fn comments(_actor: &Actor, filter: &ParticipationFilter) -> Select<activity_comment::Entity> {
    use activity_comment::Column as C;
    activity_comment::Entity::find().filter(by_activity_and_member(
        (C::ActivityId, filter.activity_id),
        (C::MemberId, filter.member_id),
    ))
}

/// The reviews a caller may list, filtered.
pub fn reviews(_actor: &Actor, filter: &ParticipationFilter) -> Select<activity_review::Entity> {
    use activity_review::Column as C;
    activity_review::Entity::find().filter(by_activity_and_member(
        (C::ActivityId, filter.activity_id),
        (C::MemberId, filter.member_id),
    ))
}

/// The likes and votes a caller may list, filtered.
pub fn likes(_actor: &Actor, filter: &LikeFilter) -> Select<activity_like::Entity> {
    use activity_like::Column as C;
    let mut cond = by_activity_and_member(
        (C::ActivityId, filter.activity_id),
        (C::MemberId, filter.member_id),
    );
    if let Some(kind) = filter.kind {
        cond = cond.add(C::Kind.eq(kind));
    }
    activity_like::Entity::find().filter(cond)
}

fn by_activity_and_member<C: ColumnTrait>(
    (activity, activity_id): (C, Option<Id>),
    (member, member_id): (C, Option<Id>),
) -> Condition {
    Filters::new()
        .eq(activity, activity_id)
        .eq(member, member_id)
        .build()
}

/// A member's comment on an activity; anyone registered may comment, at any time.
pub async fn comment(
    db: &DatabaseConnection,
    actor: &Actor,
    on: Participation,
    body: &str,
    now: DateTime<Utc>,
) -> ServiceResult<activity_comment::Model> {
    let activity = activity_ref(db, on.activity_id).await?;
    let member = member_ref(db, on.member_id).await?;
    authz::require_member_or_unit(db, actor, member.id, activity.org_unit_id, "comment").await?;
    let model = activity_comment::ActiveModel {
        activity_id: Set(activity.id),
        member_id: Set(member.id),
        body: Set(text("body", body, BODY_MAX)?),
        created_at: Set(now),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Rewrites a comment.
pub async fn update_comment(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    body: &str,
) -> ServiceResult<activity_comment::Model> {
    let current = find::<activity_comment::Entity>(db, "comment", id).await?;
    let unit = unit_of_activity(db, current.activity_id).await?;
    authz::require_member_or_unit(db, actor, current.member_id, unit, "change comments").await?;
    let body = text("body", body, BODY_MAX)?;
    let mut model: activity_comment::ActiveModel = current.into();
    model.body = Set(body);
    Ok(model.update(db).await?)
}

/// A new review.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub on: Participation,
    pub rating: i32,
    pub body: Option<String>,
}

/// A member's review of an activity: a rating from 1 to 5 and an optional text.
///
/// Only a member who signed up may review (checking in is not required: the sign-up is
/// what ties the member to the activity), only once the activity has started, and once
/// per activity (a second review is refused; update the first instead).
pub async fn review(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewReview,
    now: DateTime<Utc>,
) -> ServiceResult<activity_review::Model> {
    let rating = parse_rating(input.rating)?;
    let body = opt_text("body", input.body.as_deref(), BODY_MAX)?;
    let activity = activity_ref(db, input.on.activity_id).await?;
    let member = member_ref(db, input.on.member_id).await?;
    authz::require_member_or_unit(
        db,
        actor,
        member.id,
        activity.org_unit_id,
        "review activities",
    )
    .await?;
    if signup_of(db, &input.on).await?.is_none() {
        return Err(ServiceError::invalid(
            "memberId",
            format!(
                "member {} has not signed up for activity {}; only participants may review it",
                member.id, activity.id
            ),
        ));
    }
    let existing = activity_review::Entity::find()
        .filter(activity_review::Column::ActivityId.eq(activity.id))
        .filter(activity_review::Column::MemberId.eq(member.id))
        .one(db)
        .await?;
    if let Some(existing) = existing {
        return Err(ServiceError::invalid(
            "memberId",
            format!(
                "member {} has already reviewed activity {} (review {}); update that review instead",
                member.id, activity.id, existing.id
            ),
        ));
    }
    if now < activity.starts_at {
        return Err(ServiceError::invalid(
            "activityId",
            format!(
                "activity {} has not started yet; reviews open at {}",
                activity.id, activity.starts_at
            ),
        ));
    }
    let model = activity_review::ActiveModel {
        activity_id: Set(activity.id),
        member_id: Set(member.id),
        rating: Set(rating),
        body: Set(body),
        created_at: Set(now),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Changes to a review; `body: Some(None)` clears the text.
#[derive(Debug, Clone, Default)]
pub struct ReviewChanges {
    pub rating: Option<i32>,
    pub body: Option<Option<String>>,
}

/// Changes a review's rating or text.
pub async fn update_review(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: ReviewChanges,
) -> ServiceResult<activity_review::Model> {
    let current = find::<activity_review::Entity>(db, "review", id).await?;
    let unit = unit_of_activity(db, current.activity_id).await?;
    authz::require_member_or_unit(db, actor, current.member_id, unit, "change reviews").await?;
    let rating = changes.rating.map(parse_rating).transpose()?;
    let body = changes
        .body
        .map(|b| opt_text("body", b.as_deref(), BODY_MAX))
        .transpose()?;
    let mut model: activity_review::ActiveModel = current.into();
    if let Some(rating) = rating {
        model.rating = Set(rating);
    }
    if let Some(body) = body {
        model.body = Set(body);
    }
    Ok(model.update(db).await?)
}

fn parse_rating(rating: i32) -> ServiceResult<i16> {
    i16::try_from(rating)
        .ok()
        .filter(|_| RATING_RANGE.contains(&rating))
        .ok_or_else(|| {
            ServiceError::invalid(
                "rating",
                format!(
                    "`rating` must be between {} and {}, got {rating}",
                    RATING_RANGE.start(),
                    RATING_RANGE.end()
                ),
            )
        })
}

/// A like or vote by a member; one of each kind per member and activity.
pub async fn like(
    db: &DatabaseConnection,
    actor: &Actor,
    on: Participation,
    kind: LikeKind,
    now: DateTime<Utc>,
) -> ServiceResult<activity_like::Model> {
    let activity = activity_ref(db, on.activity_id).await?;
    let member = member_ref(db, on.member_id).await?;
    authz::require_member_or_unit(
        db,
        actor,
        member.id,
        activity.org_unit_id,
        "like activities",
    )
    .await?;
    if find_like(db, on, kind).await?.is_some() {
        return Err(ServiceError::invalid(
            "kind",
            format!(
                "member {} has already given a {} to activity {}",
                member.id,
                kind_name(kind),
                activity.id
            ),
        ));
    }
    let model = activity_like::ActiveModel {
        activity_id: Set(activity.id),
        member_id: Set(member.id),
        kind: Set(kind),
        created_at: Set(now),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Takes a like or vote back.
pub async fn unlike(
    db: &DatabaseConnection,
    actor: &Actor,
    on: Participation,
    kind: LikeKind,
) -> ServiceResult<()> {
    let activity = activity_ref(db, on.activity_id).await?;
    let member = member_ref(db, on.member_id).await?;
    authz::require_member_or_unit(
        db,
        actor,
        member.id,
        activity.org_unit_id,
        "take likes back",
    )
    .await?;
    let Some(existing) = find_like(db, on, kind).await? else {
        return Err(ServiceError::invalid(
            "kind",
            format!(
                "member {} has given no {} to activity {}",
                member.id,
                kind_name(kind),
                activity.id
            ),
        ));
    };
    existing.delete(db).await?;
    Ok(())
}

async fn find_like(
    db: &DatabaseConnection,
    on: Participation,
    kind: LikeKind,
) -> ServiceResult<Option<activity_like::Model>> {
    Ok(activity_like::Entity::find()
        .filter(activity_like::Column::ActivityId.eq(on.activity_id))
        .filter(activity_like::Column::MemberId.eq(on.member_id))
        .filter(activity_like::Column::Kind.eq(kind))
        .one(db)
        .await?)
}

fn kind_name(kind: LikeKind) -> &'static str {
    match kind {
        LikeKind::Like => "like",
        LikeKind::Vote => "vote",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_outside_one_to_five_are_refused() {
        assert_eq!(parse_rating(1).ok(), Some(1));
        assert_eq!(parse_rating(5).ok(), Some(5));
        for bad in [0, 6, 7, -1, 70_000] {
            assert!(parse_rating(bad).is_err(), "{bad}");
        }
    }
}
