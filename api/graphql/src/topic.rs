//! Online discussion topics (话题) and members' comments and votes on them.

use crate::Id;
use std::collections::HashMap;

use async_graphql::{dataloader::Loader, Context, Enum, Object, Result};
use chrono::{DateTime, Utc};
use entities::{enums::ParticipationKind, topic, topic_participation};
use sea_orm::{
    sea_query::{Expr, Func},
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};

use super::{
    batch::batched,
    load_by_id,
    loaders::{FromDb, LoadError},
    nodes::{load_member, unit_via, Member, OrgUnit},
    pagination::{cost, nested, OrderField, Page, SortDirection, SortKey},
    visible_by_id, ContextExt,
};
use qii_domain::service::topic as service;

mod mutation;
pub use mutation::TopicMutation;

/// Comments, votes and the members who took part, of one topic.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParticipationTally {
    comments: i64,
    votes: i64,
    /// Members who commented or voted, each once (参与人数).
    participants: i64,
}

impl ParticipationTally {
    /// Members who commented or voted, each once.
    pub fn participants(&self) -> i64 {
        self.participants
    }
}

/// Tallies the participation of many topics with one GROUP BY topic.
pub struct ParticipationTallies(DatabaseConnection);

impl FromDb for ParticipationTallies {
    fn from_db(db: DatabaseConnection) -> Self {
        Self(db)
    }
}

impl Loader<i64> for ParticipationTallies {
    type Value = ParticipationTally;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, ParticipationTally>, LoadError> {
        use topic_participation::Column as C;
        let of_kind = |kind: ParticipationKind| -> Expr {
            Func::count(Expr::case(C::Kind.eq(kind), 1)).into()
        };
        let rows: Vec<(i64, i64, i64, i64)> = topic_participation::Entity::find()
            .select_only()
            .column(C::TopicId)
            .column_as(of_kind(ParticipationKind::Comment), "comments")
            .column_as(of_kind(ParticipationKind::Vote), "votes")
            .column_as(
                Expr::from(Func::count_distinct(Expr::col(C::MemberId))),
                "participants",
            )
            .filter(qii_domain::db::any_of(
                sea_orm::ConnectionTrait::get_database_backend(&self.0),
                C::TopicId,
                keys,
            ))
            .group_by(C::TopicId)
            .into_tuple()
            .all(&self.0)
            .await?;
        let mut out: HashMap<i64, ParticipationTally> = keys
            .iter()
            .map(|k| (*k, ParticipationTally::default()))
            .collect();
        for (topic, comments, votes, participants) in rows {
            out.insert(
                topic,
                ParticipationTally {
                    comments,
                    votes,
                    participants,
                },
            );
        }
        Ok(out)
    }
}

crate::foreign_key!(
    /// Comments and votes on a topic.
    ParticipationsOfTopic, topic_participation, TopicId, topic_id, topic
);

/// An online discussion topic (话题) published by an org unit.
pub struct Topic(pub topic::Model);

impl Topic {
    async fn tally(&self, ctx: &Context<'_>) -> Result<ParticipationTally> {
        tally_of(ctx, self.0.id).await
    }
}

/// The participation of topic `id`, tallied with every topic read beside it.
pub async fn tally_of(ctx: &Context<'_>, id: i64) -> Result<ParticipationTally> {
    let tally = batched::<topic::Entity, ParticipationTallies>(ctx, id).await?;
    Ok(tally.unwrap_or_default())
}

/// An online discussion topic (话题) published by an org unit.
#[Object]
impl Topic {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Body (plain text).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When it was published.
    async fn published_at(&self) -> DateTime<Utc> {
        self.0.published_at
    }
    /// When it stops accepting comments and votes; null when it stays open.
    async fn closes_at(&self) -> Option<DateTime<Utc>> {
        self.0.closes_at
    }
    /// Whether it no longer accepts comments and votes.
    async fn closed(&self) -> bool {
        service::is_closed(&self.0, Utc::now())
    }
    /// The publishing org unit.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::topic::Entity>(ctx, &self.0, "org_unit_id", |m| Some(m.org_unit_id))
            .await
    }
    /// Number of comments and votes together.
    async fn participation_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let t = self.tally(ctx).await?;
        Ok(t.comments + t.votes)
    }
    /// Number of members who commented or voted, each counted once (参与人数).
    async fn participant_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.tally(ctx).await?.participants)
    }
    /// Number of comments.
    async fn comment_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.tally(ctx).await?.comments)
    }
    /// Number of votes.
    async fn vote_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.tally(ctx).await?.votes)
    }
    /// The comments (not the votes), oldest first unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<service::ParticipationFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: TopicParticipationOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<TopicParticipation>> {
        let app = ctx.app()?;
        let mut filter = filter.unwrap_or_default();
        filter.kind = Some(ParticipationKind::Comment);
        let select = service::participations(&app.actor, &filter)?;
        nested::<topic::Entity, ParticipationsOfTopic, _, _>(
            ctx,
            self.0.id,
            select,
            &filter,
            (order_by, direction),
            (first, after),
            TopicParticipation,
        )
        .await
    }
}

/// A member's comment on or vote for a topic.
pub struct TopicParticipation(pub topic_participation::Model);

/// A member's comment on or vote for a topic.
#[Object]
impl TopicParticipation {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// Comment or vote.
    async fn kind(&self) -> ParticipationKind {
        self.0.kind
    }
    /// What a comment says; null for a vote.
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    /// When the member took part.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The member who took part.
    async fn member(&self, ctx: &Context<'_>) -> Result<Option<Member>> {
        load_member(ctx, self.0.member_id).await
    }
    /// The topic.
    async fn topic(&self, ctx: &Context<'_>) -> Result<Option<Topic>> {
        load_topic(ctx, self.0.topic_id).await
    }
}

/// Loads a topic through the request's batch loader.
pub async fn load_topic(ctx: &Context<'_>, id: i64) -> Result<Option<Topic>> {
    let found = load_by_id::<topic::Entity>(ctx, id).await?;
    Ok(found.map(Topic))
}

/// What topic lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum TopicOrderField {
    /// Publication time.
    #[default]
    PublishedAt,
    /// Title.
    Title,
}

impl OrderField<topic::Entity> for TopicOrderField {
    fn column(self) -> topic::Column {
        match self {
            Self::PublishedAt => topic::Column::PublishedAt,
            Self::Title => topic::Column::Title,
        }
    }
    fn key(self, m: &topic::Model) -> SortKey {
        match self {
            Self::PublishedAt => SortKey::Time(m.published_at),
            Self::Title => SortKey::Text(m.title.clone()),
        }
    }
}

/// What topic-participation lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum TopicParticipationOrderField {
    /// When the member took part.
    #[default]
    CreatedAt,
}

impl OrderField<topic_participation::Entity> for TopicParticipationOrderField {
    fn column(self) -> topic_participation::Column {
        match self {
            Self::CreatedAt => topic_participation::Column::CreatedAt,
        }
    }
    fn key(self, m: &topic_participation::Model) -> SortKey {
        match self {
            Self::CreatedAt => SortKey::Time(m.created_at),
        }
    }
}

/// Reading topics and participation.
#[derive(Default)]
pub struct TopicQuery;

#[Object]
impl TopicQuery {
    /// One topic by id; null when there is none.
    async fn topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic's id.")] id: Id,
    ) -> Result<Option<Topic>> {
        let visible = service::topics(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(Topic))
    }
}

lists! {
    /// The lists of `TopicQuery`'s domain, as cursor connections.
    pub struct TopicLists;

    /// Topics, filtered and sorted, as a cursor connection.
    topics(ctx, filter: service::TopicFilter) by TopicOrderField -> Topic {
        let app = ctx.app()?;
        service::topics(&app.actor, &filter)?
    }

    /// Comments and votes on topics, filtered and sorted, as a cursor connection.
    topic_participations(ctx, filter: service::ParticipationFilter) by TopicParticipationOrderField -> TopicParticipation {
        let app = ctx.app()?;
        service::participations(&app.actor, &filter)?
    }
}
