//! Experts of the expert alliance (专家联盟), as front-ends see them.

use crate::Id;
use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entities::{enums::ExpertField, expert};

use super::{
    count_of,
    nodes::{load_member, unit_via, Expert, Member, OrgUnit},
    pagination::{OrderField, SortKey},
    undefined_to_option, visible_by_id, ContextExt,
};
use crate::foreign_key;
use qii_domain::service::expert as service;

foreign_key!(
    /// Answers written by an expert.
    AnswersOfExpert, answer, ExpertId, expert_id, expert
);

/// An expert (专家) of the expert alliance, recruited by an org unit.
#[Object]
impl Expert {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// Name shown with the expert's answers.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Field of expertise, e.g. law or psychology.
    async fn field(&self) -> ExpertField {
        self.0.field
    }
    /// Professional title, e.g. "lawyer, Dongguan Bar".
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    /// When the expert joined the alliance.
    async fn joined_at(&self) -> DateTime<Utc> {
        self.0.joined_at
    }
    /// The member account of the expert.
    async fn member(&self, ctx: &Context<'_>) -> Result<Option<Member>> {
        load_member(ctx, self.0.member_id).await
    }
    /// The org unit that recruited the expert.
    async fn recruited_by(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::expert::Entity>(ctx, &self.0, "recruited_by_id", |m| {
            Some(m.recruited_by_id)
        })
        .await
    }
    /// Number of answers the expert wrote (专家参与回答).
    async fn answer_count(&self, ctx: &Context<'_>) -> Result<i64> {
        count_of::<AnswersOfExpert>(ctx, self.0.id).await
    }
}

/// What expert lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ExpertOrderField {
    /// When the expert joined.
    #[default]
    JoinedAt,
    /// Name.
    Name,
}

impl OrderField<expert::Entity> for ExpertOrderField {
    fn column(self) -> expert::Column {
        match self {
            Self::JoinedAt => expert::Column::JoinedAt,
            Self::Name => expert::Column::Name,
        }
    }
    fn key(self, m: &expert::Model) -> SortKey {
        match self {
            Self::JoinedAt => SortKey::Time(m.joined_at),
            Self::Name => SortKey::Text(m.name.clone()),
        }
    }
}

/// Reading experts.
#[derive(Default)]
pub struct ExpertQuery;

#[Object]
impl ExpertQuery {
    /// One expert by id; null when there is none.
    async fn expert(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The expert's id.")] id: Id,
    ) -> Result<Option<Expert>> {
        let visible = service::experts(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(Expert))
    }
}

lists! {
    /// Listing experts.
    pub struct ExpertLists;

    /// Experts, filtered and sorted, as a cursor connection.
    experts(ctx, filter: service::ExpertFilter) by ExpertOrderField -> Expert {
        let app = ctx.app()?;
        service::experts(&app.actor, &filter)?
    }
}

/// A member recruited into the expert alliance.
#[derive(InputObject)]
pub struct RecruitExpertInput {
    /// The member becoming an expert; a member is an expert at most once.
    member_id: Id,
    /// Name shown with the expert's answers.
    name: String,
    /// Field of expertise.
    field: ExpertField,
    /// Professional title.
    title: Option<String>,
    /// The recruiting org unit.
    recruited_by_id: Id,
}

/// Changes to an expert; omitted fields stay, `null` clears the title.
#[derive(InputObject)]
pub struct UpdateExpertInput {
    /// New name shown with the expert's answers.
    name: Option<String>,
    /// New field of expertise.
    field: Option<ExpertField>,
    /// New professional title; `null` clears it.
    title: MaybeUndefined<String>,
    /// The id of the org unit now counted as having recruited the expert.
    recruited_by_id: Option<Id>,
}

/// Recruiting and updating experts.
#[derive(Default)]
pub struct ExpertMutation;

#[Object]
impl ExpertMutation {
    /// Recruits a member into the expert alliance.
    async fn recruit_expert(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member recruited and the expert's details.")]
        input: RecruitExpertInput,
    ) -> Result<Expert> {
        let app = ctx.app()?;
        let new = service::NewExpert {
            member_id: input.member_id.0,
            name: input.name,
            field: input.field,
            title: input.title,
            recruited_by_id: input.recruited_by_id.0,
        };
        Ok(Expert(
            service::recruit_expert(&app.db, &app.actor, new).await?,
        ))
    }

    /// Updates an expert.
    async fn update_expert(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The expert's id.")] id: Id,
        #[graphql(
            desc = "The changes; fields left out stay as they are, `title: null` clears the title."
        )]
        input: UpdateExpertInput,
    ) -> Result<Expert> {
        let app = ctx.app()?;
        let changes = service::ExpertChanges {
            name: input.name,
            field: input.field,
            title: undefined_to_option(input.title),
            recruited_by_id: input.recruited_by_id.map(Id::get),
        };
        let id = id.0;
        Ok(Expert(
            service::update_expert(&app.db, &app.actor, id, changes).await?,
        ))
    }
}
