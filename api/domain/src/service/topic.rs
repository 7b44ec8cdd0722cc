//! Online discussion topics (话题) published by org units, and members taking part in
//! them by commenting or voting.

use crate::authz;
use crate::id::Id;
use crate::text::Search;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use chrono::{DateTime, Utc};
use entities::{enums::ParticipationKind, member, org_unit, topic, topic_participation};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Select,
};

use super::{find, opt_text, referenced, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};

/// Longest topic title accepted.
const TITLE_MAX: usize = 200;
/// Longest topic body or comment accepted.
const BODY_MAX: usize = 20_000;

/// Which topics to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct TopicFilter {
    /// Published by this org unit.
    pub org_unit_id: Option<Id>,
    /// Published by any unit of this town (its Youth Homes included).
    pub town_id: Option<Id>,
    /// Published by any unit of this district.
    pub district_id: Option<Id>,
    /// Published at or after this instant.
    pub published_from: Option<DateTime<Utc>>,
    /// Published before this instant.
    pub published_before: Option<DateTime<Utc>>,
    /// Text contained in the title or body.
    pub search: Option<Search>,
}

/// The topics a caller may list, filtered.
/// Topics are public once published.
pub fn topics(_actor: &Actor, filter: &TopicFilter) -> ServiceResult<Select<topic::Entity>> {
    use topic::Column as C;
    let cond = Filters::new()
        .eq(C::OrgUnitId, filter.org_unit_id)
        .town(C::OrgUnitId, filter.town_id)
        .district(C::OrgUnitId, filter.district_id)
        .range(
            C::PublishedAt,
            filter.published_from,
            filter.published_before,
        )
        .search(&[C::Title, C::Body], filter.search.as_deref());
    Ok(topic::Entity::find().filter(cond.build()))
}

/// Which topic participations to list.
#[derive(Debug, Default, Clone, InputObject)]
#[graphql(name = "TopicParticipationFilter")]
pub struct ParticipationFilter {
    /// On this topic.
    pub topic_id: Option<Id>,
    /// By this member.
    pub member_id: Option<Id>,
    /// Only comments or only votes.
    pub kind: Option<ParticipationKind>,
    /// At or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub before: Option<DateTime<Utc>>,
}

/// The topic participations a caller may list, filtered.
pub fn participations(
    _actor: &Actor,
    filter: &ParticipationFilter,
) -> ServiceResult<Select<topic_participation::Entity>> {
    // Comments and votes on topics are public; who wrote them is masked by `Member`.
    use topic_participation::Column as C;
    let cond = Filters::new()
        .eq(C::TopicId, filter.topic_id)
        .eq(C::MemberId, filter.member_id)
        .eq(C::Kind, filter.kind)
        .range(C::CreatedAt, filter.from, filter.before);
    Ok(topic_participation::Entity::find().filter(cond.build()))
}

/// A new topic.
#[derive(Debug, Clone)]
pub struct NewTopic {
    pub org_unit_id: i64,
    pub title: String,
    pub body: String,
    pub closes_at: Option<DateTime<Utc>>,
}

/// Publishes a topic now.
pub async fn publish_topic(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewTopic,
) -> ServiceResult<topic::Model> {
    let title = text("title", &input.title, TITLE_MAX)?;
    let body = text("body", &input.body, BODY_MAX)?;
    let published_at = Utc::now();
    check_closes_at(published_at, input.closes_at)?;
    referenced::<org_unit::Entity>(db, "orgUnitId", "org unit", input.org_unit_id).await?;
    authz::require_unit(db, actor, input.org_unit_id, "publish topics").await?;
    let model = topic::ActiveModel {
        org_unit_id: Set(input.org_unit_id),
        title: Set(title),
        body: Set(body),
        published_at: Set(published_at),
        closes_at: Set(input.closes_at),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Changes to a topic; `None` leaves a field as it is, `Some(None)` clears it.
/// The publishing unit cannot change: participation counts into its indicators.
#[derive(Debug, Clone, Default)]
pub struct TopicChanges {
    pub title: Option<String>,
    pub body: Option<String>,
    /// Closing a topic early, extending it, or (with `None`) leaving it open.
    pub closes_at: Option<Option<DateTime<Utc>>>,
}

/// Updates a topic.
pub async fn update_topic(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: TopicChanges,
) -> ServiceResult<topic::Model> {
    let current = find::<topic::Entity>(db, "topic", id).await?;
    authz::require_unit(db, actor, current.org_unit_id, "change topics").await?;
    let published_at = current.published_at;
    let mut model: topic::ActiveModel = current.into();
    if let Some(title) = changes.title {
        model.title = Set(text("title", &title, TITLE_MAX)?);
    }
    if let Some(body) = changes.body {
        model.body = Set(text("body", &body, BODY_MAX)?);
    }
    if let Some(closes_at) = changes.closes_at {
        check_closes_at(published_at, closes_at)?;
        model.closes_at = Set(closes_at);
    }
    Ok(model.update(db).await?)
}

/// A member taking part in a topic.
#[derive(Debug, Clone)]
pub struct NewParticipation {
    pub topic_id: i64,
    pub member_id: i64,
    pub kind: ParticipationKind,
    pub body: Option<String>,
}

/// Comments on or votes for an open topic; a member votes at most once per topic.
pub async fn take_part_in_topic(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewParticipation,
) -> ServiceResult<topic_participation::Model> {
    let body = opt_text("body", input.body.as_deref(), BODY_MAX)?;
    match (input.kind, &body) {
        (ParticipationKind::Comment, None) => {
            return Err(ServiceError::invalid("body", "a comment needs a `body`"));
        }
        (ParticipationKind::Vote, Some(_)) => {
            return Err(ServiceError::invalid(
                "body",
                "a vote carries no `body`; take part with kind COMMENT to say something",
            ));
        }
        _ => {}
    }
    let now = Utc::now();
    // The vote check and the insert share a transaction so that they read one state.
    let tx = crate::db::write(db).await?;
    let topic = referenced::<topic::Entity>(&tx, "topicId", "topic", input.topic_id).await?;
    ensure_open(&topic, now)?;
    referenced::<member::Entity>(&tx, "memberId", "member", input.member_id).await?;
    authz::require_member_or_unit(
        &tx,
        actor,
        input.member_id,
        topic.org_unit_id,
        "take part in topics",
    )
    .await?;
    if input.kind == ParticipationKind::Vote {
        let earlier = topic_participation::Entity::find()
            .filter(topic_participation::Column::TopicId.eq(topic.id))
            .filter(topic_participation::Column::MemberId.eq(input.member_id))
            .filter(topic_participation::Column::Kind.eq(ParticipationKind::Vote))
            .one(&tx)
            .await?;
        if earlier.is_some() {
            return Err(ServiceError::invalid(
                "memberId",
                format!(
                    "member {} has already voted on topic {}; a member votes once",
                    input.member_id, topic.id
                ),
            ));
        }
    }
    let model = topic_participation::ActiveModel {
        topic_id: Set(topic.id),
        member_id: Set(input.member_id),
        kind: Set(input.kind),
        body: Set(body),
        created_at: Set(now),
        ..Default::default()
    };
    let created = model.insert(&tx).await?;
    tx.commit().await?;
    Ok(created)
}

/// Rewrites a comment; votes have no body, and a closed topic's discussion is frozen.
pub async fn update_participation(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    body: Option<String>,
) -> ServiceResult<topic_participation::Model> {
    let current = find::<topic_participation::Entity>(db, "topic participation", id).await?;
    let unit = find::<topic::Entity>(db, "topic", current.topic_id)
        .await?
        .org_unit_id;
    authz::require_member_or_unit(db, actor, current.member_id, unit, "change topic comments")
        .await?;
    if current.kind != ParticipationKind::Comment {
        return Err(ServiceError::conflict(format!(
            "topic participation {id} is a vote; only comments have a body to change"
        )));
    }
    let topic = find::<topic::Entity>(db, "topic", current.topic_id).await?;
    ensure_open(&topic, Utc::now())?;
    let mut model: topic_participation::ActiveModel = current.into();
    if let Some(body) = body {
        model.body = Set(Some(text("body", &body, BODY_MAX)?));
    }
    Ok(model.update(db).await?)
}

/// Whether a topic no longer accepts participation at `now`.
pub fn is_closed(topic: &topic::Model, now: DateTime<Utc>) -> bool {
    topic.closes_at.is_some_and(|at| at <= now)
}

fn ensure_open(topic: &topic::Model, now: DateTime<Utc>) -> ServiceResult<()> {
    match topic.closes_at {
        Some(at) if is_closed(topic, now) => Err(ServiceError::invalid(
            "topicId",
            format!(
                "topic {} closed at {at}; it no longer accepts participation",
                topic.id
            ),
        )),
        _ => Ok(()),
    }
}

/// A topic closes after it is published (or never).
fn check_closes_at(
    published_at: DateTime<Utc>,
    closes_at: Option<DateTime<Utc>>,
) -> ServiceResult<()> {
    match closes_at {
        Some(at) if at <= published_at => Err(ServiceError::invalid(
            "closesAt",
            format!("a topic must close after it is published ({published_at}), got {at}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_topic_closes_after_it_is_published_or_never() {
        let now = Utc::now();
        assert!(check_closes_at(now, None).is_ok());
        assert!(check_closes_at(now, Some(now + Duration::days(7))).is_ok());
        assert!(check_closes_at(now, Some(now)).is_err());
        assert!(check_closes_at(now, Some(now - Duration::hours(1))).is_err());
    }
}
