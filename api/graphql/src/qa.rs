//! Questions and answers (提问/回答), as front-ends see them: lists, detail with answers
//! (experts marked), asking, answering and moderation.

use crate::Id;
use async_graphql::{Context, Enum, Object, Result, Union};
use chrono::{DateTime, Utc};
use entities::{answer, enums::ModerationStatus, question};

use super::{
    count_of, load_by_id,
    nodes::{load_expert, load_member, load_unit, unit_via, Expert, Member, OrgUnit},
    pagination::{cost, nested, OrderField, Page, SortDirection, SortKey},
    visible_by_id, ContextExt,
};
use crate::foreign_key;
use qii_domain::service::qa as service;

mod mutation;
pub use mutation::QaMutation;

foreign_key!(
    /// Answers to a question.
    AnswersOfQuestion, answer, QuestionId, question_id, question
);

/// A question (提问) asked by a member, optionally addressed to an org unit.
pub struct Question(pub question::Model);

/// A question (提问) asked by a member, optionally addressed to an org unit.
#[Object]
impl Question {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Body (plain text; may be empty).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Moderation status; whether the question is *valid* for the index is the rules' call
    /// (`validity`).
    async fn status(&self) -> ModerationStatus {
        self.0.status
    }
    /// Whether the question counts as a valid question (有效提问) by the rules in force
    /// (`rules/eligibility/activity.rhai`, `valid_question()`), and whether its answers count.
    async fn validity(&self, ctx: &Context<'_>) -> Result<QuestionValidity> {
        let registry = ctx.app()?.registry()?;
        let rules = registry
            .activity_rules()
            .map_err(qii_domain::error::ServiceError::from)?;
        let q = &self.0;
        let fault = rules.question_fault(&q.title, &q.body, q.status == ModerationStatus::Visible);
        Ok(QuestionValidity {
            valid: fault.is_none(),
            answers_count: fault.is_none() || !rules.questions.answers_need_valid_question,
            reasons: fault.into_iter().collect(),
        })
    }
    /// When it was asked.
    async fn asked_at(&self) -> DateTime<Utc> {
        self.0.asked_at
    }
    /// The member who asked.
    async fn asker(&self, ctx: &Context<'_>) -> Result<Option<Member>> {
        load_member(ctx, self.0.asker_id).await
    }
    /// The org unit the question is addressed to, if any.
    async fn addressed_to(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::question::Entity>(ctx, &self.0, "addressed_to_id", |m| {
            m.addressed_to_id
        })
        .await
    }
    /// Number of answers.
    async fn answer_count(&self, ctx: &Context<'_>) -> Result<i64> {
        count_of::<AnswersOfQuestion>(ctx, self.0.id).await
    }
    /// The answers, oldest first unless sorted otherwise (`filter: {expertId}` for one
    /// expert's).
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn answers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<service::AnswerFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: AnswerOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<Answer>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let select = service::answers(&app.actor, &filter)?;
        nested::<question::Entity, AnswersOfQuestion, _, _>(
            ctx,
            self.0.id,
            select,
            &filter,
            (order_by, direction),
            (first, after),
            Answer,
        )
        .await
    }
}

/// Who wrote an answer: a member, an expert or an org unit.
#[derive(Union)]
pub enum AnswerAuthor {
    /// A public member.
    Member(Member),
    /// An expert of the expert alliance.
    Expert(Expert),
    /// An org unit (a town committee, a Youth Home, …).
    OrgUnit(OrgUnit),
}

/// Whether a question is valid (有效提问), by the rules in force.
#[derive(async_graphql::SimpleObject)]
pub struct QuestionValidity {
    /// It counts toward the valid-question figure.
    pub valid: bool,
    /// Its answers count toward the answer figure.
    pub answers_count: bool,
    /// Why it is not valid, in the rules' words; empty when it is.
    pub reasons: Vec<String>,
}

/// An answer (回答) to a question.
pub struct Answer(pub answer::Model);

/// An answer (回答) to a question.
#[Object]
impl Answer {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// Body (plain text).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When it was written.
    async fn answered_at(&self) -> DateTime<Utc> {
        self.0.answered_at
    }
    /// Whether an expert wrote it (专家参与回答), for marking it on screens.
    async fn by_expert(&self) -> bool {
        self.0.expert_id.is_some()
    }
    /// The question answered.
    async fn question(&self, ctx: &Context<'_>) -> Result<Option<Question>> {
        load_question(ctx, self.0.question_id).await
    }
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<AnswerAuthor>> {
        let a = &self.0;
        Ok(match (a.member_id, a.expert_id, a.org_unit_id) {
            (Some(id), _, _) => load_member(ctx, id).await?.map(AnswerAuthor::Member),
            (_, Some(id), _) => load_expert(ctx, id).await?.map(AnswerAuthor::Expert),
            (_, _, Some(id)) => load_unit(ctx, Some(id)).await?.map(AnswerAuthor::OrgUnit),
            _ => None,
        })
    }
}

/// Loads a question through the request's batch loader.
pub async fn load_question(ctx: &Context<'_>, id: i64) -> Result<Option<Question>> {
    let found = load_by_id::<question::Entity>(ctx, id).await?;
    Ok(found.map(Question))
}

/// What question lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum QuestionOrderField {
    /// When it was asked.
    #[default]
    AskedAt,
    /// Title.
    Title,
}

impl OrderField<question::Entity> for QuestionOrderField {
    fn column(self) -> question::Column {
        match self {
            Self::AskedAt => question::Column::AskedAt,
            Self::Title => question::Column::Title,
        }
    }
    fn key(self, m: &question::Model) -> SortKey {
        match self {
            Self::AskedAt => SortKey::Time(m.asked_at),
            Self::Title => SortKey::Text(m.title.clone()),
        }
    }
}

/// What answer lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum AnswerOrderField {
    /// When it was written.
    #[default]
    AnsweredAt,
}

impl OrderField<answer::Entity> for AnswerOrderField {
    fn column(self) -> answer::Column {
        match self {
            Self::AnsweredAt => answer::Column::AnsweredAt,
        }
    }
    fn key(self, m: &answer::Model) -> SortKey {
        match self {
            Self::AnsweredAt => SortKey::Time(m.answered_at),
        }
    }
}

/// Reading questions and answers.
#[derive(Default)]
pub struct QaQuery;

#[Object]
impl QaQuery {
    /// One question by id; null when there is none.
    async fn question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question's id.")] id: Id,
    ) -> Result<Option<Question>> {
        let visible = service::questions(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(Question))
    }

    /// One answer by id; null when there is none.
    async fn answer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The answer's id.")] id: Id,
    ) -> Result<Option<Answer>> {
        let visible = service::answers(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(Answer))
    }
}

lists! {
    /// The lists of `QaQuery`'s domain, as cursor connections.
    pub struct QaLists;

    /// Questions, filtered and sorted, as a cursor connection.
    questions(ctx, filter: service::QuestionFilter) by QuestionOrderField -> Question {
        let app = ctx.app()?;
        service::questions(&app.actor, &filter)?
    }

    /// Answers, filtered and sorted, as a cursor connection.
    answers(ctx, filter: service::AnswerFilter) by AnswerOrderField -> Answer {
        let app = ctx.app()?;
        service::answers(&app.actor, &filter)?
    }
}
