//! Questions and answers (提问/回答): members ask, members, experts and org units answer.
//!
//! Moderation only stores a question's status; whether a question is *valid* for the
//! index (length, status, …) is decided by the rule scripts, not here.

use crate::authz::{self, Need};
use crate::id::Id;
use crate::text::Search;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use chrono::{DateTime, Utc};
use entities::{answer, enums::ModerationStatus, expert, member, org_unit, question};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Select,
};

use super::{find, referenced, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};

/// Longest question title accepted.
const TITLE_MAX: usize = 200;
/// Longest question or answer body accepted.
const BODY_MAX: usize = 20_000;

/// Which questions to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct QuestionFilter {
    /// Asked by this member.
    pub asker_id: Option<Id>,
    /// Addressed to this org unit.
    pub addressed_to_id: Option<Id>,
    /// Addressed to any unit of this town (its Youth Homes included).
    pub town_id: Option<Id>,
    /// Addressed to any unit of this district.
    pub district_id: Option<Id>,
    /// With this moderation status.
    pub status: Option<ModerationStatus>,
    /// Asked at or after this instant.
    pub asked_from: Option<DateTime<Utc>>,
    /// Asked before this instant.
    pub asked_before: Option<DateTime<Utc>>,
    /// Text contained in the title or body.
    pub search: Option<Search>,
}

/// The questions a caller may list, filtered.
pub fn questions(
    actor: &Actor,
    filter: &QuestionFilter,
) -> ServiceResult<Select<question::Entity>> {
    use question::Column as C;
    // The public (and partners) read what is published; people of the platform, what
    // moderation keeps visible to them as well.
    let public = actor.require(Need::People, "read questions").is_err();
    let cond = Filters::new()
        .eq(C::AskerId, filter.asker_id)
        .eq(C::AddressedToId, filter.addressed_to_id)
        .town(C::AddressedToId, filter.town_id)
        .district(C::AddressedToId, filter.district_id)
        .eq(C::Status, filter.status)
        .range(C::AskedAt, filter.asked_from, filter.asked_before)
        .search(&[C::Title, C::Body], filter.search.as_deref())
        .when(public.then(|| C::Status.eq(ModerationStatus::Visible)));
    Ok(question::Entity::find().filter(cond.build()))
}

/// Which answers to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct AnswerFilter {
    /// Answers to this question.
    pub question_id: Option<Id>,
    /// Written by this expert.
    pub expert_id: Option<Id>,
    /// Written by this member (answers given as an expert are under `expertId`).
    pub member_id: Option<Id>,
    /// Written by this org unit.
    pub org_unit_id: Option<Id>,
    /// Written at or after this instant.
    pub answered_from: Option<DateTime<Utc>>,
    /// Written before this instant.
    pub answered_before: Option<DateTime<Utc>>,
}

/// The answers a caller may list, filtered.
pub fn answers(actor: &Actor, filter: &AnswerFilter) -> ServiceResult<Select<answer::Entity>> {
    use answer::Column as C;
    // The public reads the answers to published questions.
    let public = actor.require(Need::People, "read answers").is_err();
    let published = public.then(|| {
        C::QuestionId.in_subquery(
            sea_orm::sea_query::Query::select()
                .column(question::Column::Id)
                .from(question::Entity)
                .and_where(question::Column::Status.eq(ModerationStatus::Visible))
                .to_owned(),
        )
    });
    let cond = Filters::new()
        .eq(C::QuestionId, filter.question_id)
        .eq(C::ExpertId, filter.expert_id)
        .eq(C::MemberId, filter.member_id)
        .eq(C::OrgUnitId, filter.org_unit_id)
        .range(C::AnsweredAt, filter.answered_from, filter.answered_before)
        .when(published);
    Ok(answer::Entity::find().filter(cond.build()))
}

/// A new question.
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub asker_id: i64,
    pub addressed_to_id: Option<i64>,
    pub title: String,
    pub body: String,
}

/// Asks a question; it starts visible.
pub async fn ask_question(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewQuestion,
) -> ServiceResult<question::Model> {
    let title = text("title", &input.title, TITLE_MAX)?;
    let body = body_text(&input.body)?;
    referenced::<member::Entity>(db, "askerId", "member", input.asker_id).await?;
    authz::require_member(db, actor, input.asker_id, "ask questions").await?;
    if let Some(unit) = input.addressed_to_id {
        referenced::<org_unit::Entity>(db, "addressedToId", "org unit", unit).await?;
    }
    let model = question::ActiveModel {
        asker_id: Set(input.asker_id),
        addressed_to_id: Set(input.addressed_to_id),
        title: Set(title),
        body: Set(body),
        status: Set(ModerationStatus::Visible),
        asked_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Changes to a question, including moderation; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct QuestionChanges {
    pub title: Option<String>,
    pub body: Option<String>,
    pub status: Option<ModerationStatus>,
}

/// Updates or moderates a question.
pub async fn update_question(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: QuestionChanges,
) -> ServiceResult<question::Model> {
    let current = find::<question::Entity>(db, "question", id).await?;
    let asker = actor.member_id() == Some(current.asker_id);
    if !(asker && changes.status.is_none()) {
        match current.addressed_to_id {
            Some(unit) => {
                authz::require_unit(db, actor, unit, "moderate questions addressed to it").await?
            }
            None => actor.require(Need::CityAdmin, "moderate questions addressed to no unit")?,
        }
    }
    let mut model: question::ActiveModel = current.into();
    if let Some(title) = changes.title {
        model.title = Set(text("title", &title, TITLE_MAX)?);
    }
    if let Some(body) = changes.body {
        model.body = Set(body_text(&body)?);
    }
    if let Some(status) = changes.status {
        model.status = Set(status);
    }
    Ok(model.update(db).await?)
}

/// Who writes an answer: exactly one of a member, an expert and an org unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerAuthor {
    Member(i64),
    Expert(i64),
    OrgUnit(i64),
}

impl AnswerAuthor {
    /// The author from the three optional input fields; exactly one must be given.
    pub fn from_ids(
        member_id: Option<i64>,
        expert_id: Option<i64>,
        org_unit_id: Option<i64>,
    ) -> ServiceResult<Self> {
        match (member_id, expert_id, org_unit_id) {
            (Some(m), None, None) => Ok(Self::Member(m)),
            (None, Some(e), None) => Ok(Self::Expert(e)),
            (None, None, Some(u)) => Ok(Self::OrgUnit(u)),
            _ => Err(ServiceError::conflict(
                "an answer has exactly one author: pass exactly one of `memberId`, `expertId` and `orgUnitId`",
            )),
        }
    }
}

/// A new answer.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    pub question_id: i64,
    pub author: AnswerAuthor,
    pub body: String,
}

/// Answers a visible question.
pub async fn answer_question(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewAnswer,
) -> ServiceResult<answer::Model> {
    let body = text("body", &input.body, BODY_MAX)?;
    actor.require(Need::People, "answer questions")?;
    let question =
        referenced::<question::Entity>(db, "questionId", "question", input.question_id).await?;
    if question.status != ModerationStatus::Visible {
        let why = match question.status {
            ModerationStatus::Spam => "marked as spam",
            _ => "deleted",
        };
        return Err(ServiceError::invalid(
            "questionId",
            format!("question {} is {why}; it cannot be answered", question.id),
        ));
    }
    let mut model = answer::ActiveModel {
        question_id: Set(question.id),
        member_id: Set(None),
        expert_id: Set(None),
        org_unit_id: Set(None),
        body: Set(body),
        answered_at: Set(Utc::now()),
        ..Default::default()
    };
    match input.author {
        AnswerAuthor::Member(id) => {
            referenced::<member::Entity>(db, "memberId", "member", id).await?;
            authz::require_member(db, actor, id, "answer as a member").await?;
            model.member_id = Set(Some(id));
        }
        AnswerAuthor::Expert(id) => {
            let expert = referenced::<expert::Entity>(db, "expertId", "expert", id).await?;
            require_expert(db, actor, &expert).await?;
            model.expert_id = Set(Some(id));
        }
        AnswerAuthor::OrgUnit(id) => {
            referenced::<org_unit::Entity>(db, "orgUnitId", "org unit", id).await?;
            authz::require_unit(db, actor, id, "answer for the unit").await?;
            model.org_unit_id = Set(Some(id));
        }
    }
    Ok(model.insert(db).await?)
}

/// Rewrites an answer's body.
pub async fn update_answer(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    body: Option<String>,
) -> ServiceResult<answer::Model> {
    let current = find::<answer::Entity>(db, "answer", id).await?;
    match (current.member_id, current.expert_id, current.org_unit_id) {
        (Some(member), _, _) => {
            authz::require_member(db, actor, member, "change the answer").await?
        }
        (_, Some(expert), _) => {
            let expert = find::<expert::Entity>(db, "expert", expert).await?;
            require_expert(db, actor, &expert).await?;
        }
        (_, _, Some(unit)) => {
            authz::require_unit(db, actor, unit, "change the unit's answers").await?
        }
        _ => actor.require(Need::CityAdmin, "change this answer")?,
    }
    let mut model: answer::ActiveModel = current.into();
    if let Some(body) = body {
        model.body = Set(text("body", &body, BODY_MAX)?);
    }
    Ok(model.update(db).await?)
}

/// Succeeds when the caller may write as an expert: the expert's own member, or the
/// administrators of the unit that recruited them.
async fn require_expert(
    db: &DatabaseConnection,
    actor: &Actor,
    expert: &expert::Model,
) -> ServiceResult<()> {
    if actor.member_id() == Some(expert.member_id) {
        return Ok(());
    }
    authz::require_unit(db, actor, expert.recruited_by_id, "write as its experts").await
}

/// A question's body may be empty (the title can say it all), but is bounded.
fn body_text(body: &str) -> ServiceResult<String> {
    let body = body.trim();
    let len = body.chars().count();
    if len > BODY_MAX {
        return Err(ServiceError::invalid(
            "body",
            format!("`body` is {len} characters long; at most {BODY_MAX} are allowed"),
        ));
    }
    Ok(body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_needs_exactly_one_author() {
        assert_eq!(
            AnswerAuthor::from_ids(None, Some(3), None).ok(),
            Some(AnswerAuthor::Expert(3))
        );
        assert!(AnswerAuthor::from_ids(None, None, None).is_err());
        assert!(AnswerAuthor::from_ids(Some(1), Some(2), None).is_err());
    }
}
