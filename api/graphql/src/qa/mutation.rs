//! Asking, answering and moderating.

use crate::Id;
use async_graphql::{Context, InputObject, Object, Result};
use entities::enums::ModerationStatus;

use super::{Answer, Question};
use crate::ContextExt;
use qii_domain::service::qa as service;

/// A new question.
#[derive(InputObject)]
pub struct AskQuestionInput {
    /// The member asking.
    asker_id: Id,
    /// The org unit asked, if any.
    addressed_to_id: Option<Id>,
    /// Title.
    title: String,
    /// Body (may be empty).
    #[graphql(default)]
    body: String,
}

/// Changes to a question, including moderation; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateQuestionInput {
    /// New title.
    title: Option<String>,
    /// New body (may be empty).
    body: Option<String>,
    /// Moderation: `SPAM` or `DELETED` hides the question and stops new answers.
    status: Option<ModerationStatus>,
}

/// A new answer: pass exactly one of `memberId`, `expertId` and `orgUnitId`.
#[derive(InputObject)]
pub struct AnswerQuestionInput {
    /// The question answered; it must be visible.
    question_id: Id,
    /// Body (plain text).
    body: String,
    /// Answering as this member.
    member_id: Option<Id>,
    /// Answering as this expert.
    expert_id: Option<Id>,
    /// Answering as this org unit.
    org_unit_id: Option<Id>,
}

/// Changes to an answer; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateAnswerInput {
    /// New body (plain text).
    body: Option<String>,
}

/// Asking, answering and moderating.
#[derive(Default)]
pub struct QaMutation;

#[Object]
impl QaMutation {
    /// Asks a question.
    async fn ask_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question to ask.")] input: AskQuestionInput,
    ) -> Result<Question> {
        let app = ctx.app()?;
        let new = service::NewQuestion {
            asker_id: input.asker_id.0,
            addressed_to_id: input.addressed_to_id.map(Id::get),
            title: input.title,
            body: input.body,
        };
        Ok(Question(
            service::ask_question(&app.db, &app.actor, new).await?,
        ))
    }

    /// Updates or moderates a question.
    async fn update_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question's id.")] id: Id,
        #[graphql(
            desc = "The changes, moderation status included; fields left out stay as they are."
        )]
        input: UpdateQuestionInput,
    ) -> Result<Question> {
        let app = ctx.app()?;
        let changes = service::QuestionChanges {
            title: input.title,
            body: input.body,
            status: input.status,
        };
        let id = id.0;
        Ok(Question(
            service::update_question(&app.db, &app.actor, id, changes).await?,
        ))
    }

    /// Answers a visible question, as a member, an expert or an org unit.
    async fn answer_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The question answered, the text, and exactly one author (member, expert or org unit)."
        )]
        input: AnswerQuestionInput,
    ) -> Result<Answer> {
        let app = ctx.app()?;
        let author = service::AnswerAuthor::from_ids(
            input.member_id.map(Id::get),
            input.expert_id.map(Id::get),
            input.org_unit_id.map(Id::get),
        )?;
        let new = service::NewAnswer {
            question_id: input.question_id.0,
            author,
            body: input.body,
        };
        Ok(Answer(
            service::answer_question(&app.db, &app.actor, new).await?,
        ))
    }

    /// Rewrites an answer.
    async fn update_answer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The answer's id.")] id: Id,
        #[graphql(desc = "The changes; fields left out stay as they are.")]
        input: UpdateAnswerInput,
    ) -> Result<Answer> {
        let app = ctx.app()?;
        let id = id.0;
        Ok(Answer(
            service::update_answer(&app.db, &app.actor, id, input.body).await?,
        ))
    }
}
