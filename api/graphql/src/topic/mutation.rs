//! Publishing topics and taking part in them.

use crate::Id;
use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entities::enums::ParticipationKind;

use super::{Topic, TopicParticipation};
use crate::{undefined_to_option, ContextExt};
use qii_domain::service::topic as service;

/// A new topic.
#[derive(InputObject)]
pub struct PublishTopicInput {
    /// The publishing org unit.
    org_unit_id: Id,
    /// Title.
    title: String,
    /// Body (plain text).
    body: String,
    /// When it stops accepting participation; after its publication, or null to stay open.
    closes_at: Option<DateTime<Utc>>,
}

/// Changes to a topic; omitted fields stay, `closesAt: null` reopens it for good.
#[derive(InputObject)]
pub struct UpdateTopicInput {
    /// New title.
    title: Option<String>,
    /// New body (plain text).
    body: Option<String>,
    /// Must be after the topic's publication.
    closes_at: MaybeUndefined<DateTime<Utc>>,
}

/// A member taking part in a topic.
#[derive(InputObject)]
pub struct TakePartInTopicInput {
    /// The topic; it must be open.
    topic_id: Id,
    /// The member taking part.
    member_id: Id,
    /// Comment or vote; a member votes once per topic.
    kind: ParticipationKind,
    /// What a comment says (required for comments, not allowed for votes).
    body: Option<String>,
}

/// Changes to a comment; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateTopicParticipationInput {
    /// The comment's new text.
    body: Option<String>,
}

/// Publishing topics and taking part in them.
#[derive(Default)]
pub struct TopicMutation;

#[Object]
impl TopicMutation {
    /// Publishes a topic now.
    async fn publish_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic to publish.")] input: PublishTopicInput,
    ) -> Result<Topic> {
        let app = ctx.app()?;
        let new = service::NewTopic {
            org_unit_id: input.org_unit_id.0,
            title: input.title,
            body: input.body,
            closes_at: input.closes_at,
        };
        Ok(Topic(
            service::publish_topic(&app.db, &app.actor, new).await?,
        ))
    }

    /// Updates a topic.
    async fn update_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic's id.")] id: Id,
        #[graphql(
            desc = "The changes; fields left out stay as they are, `closesAt: null` keeps the topic open for good."
        )]
        input: UpdateTopicInput,
    ) -> Result<Topic> {
        let app = ctx.app()?;
        let changes = service::TopicChanges {
            title: input.title,
            body: input.body,
            closes_at: undefined_to_option(input.closes_at),
        };
        let id = id.0;
        Ok(Topic(
            service::update_topic(&app.db, &app.actor, id, changes).await?,
        ))
    }

    /// Comments on or votes for an open topic.
    async fn take_part_in_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic, the member, and the comment or vote.")]
        input: TakePartInTopicInput,
    ) -> Result<TopicParticipation> {
        let app = ctx.app()?;
        let new = service::NewParticipation {
            topic_id: input.topic_id.0,
            member_id: input.member_id.0,
            kind: input.kind,
            body: input.body,
        };
        Ok(TopicParticipation(
            service::take_part_in_topic(&app.db, &app.actor, new).await?,
        ))
    }

    /// Rewrites a comment on an open topic.
    async fn update_topic_participation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The comment's id (a topic participation).")] id: Id,
        #[graphql(desc = "The changes; fields left out stay as they are.")]
        input: UpdateTopicParticipationInput,
    ) -> Result<TopicParticipation> {
        let app = ctx.app()?;
        let id = id.0;
        Ok(TopicParticipation(
            service::update_participation(&app.db, &app.actor, id, input.body).await?,
        ))
    }
}
