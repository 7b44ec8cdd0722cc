//! The expert alliance's evaluation (专家联盟考核) and each quarter's honour roll.

use crate::Id;
use async_graphql::{Context, Object, Result, SimpleObject};

use super::{
    incentive_eligibility::PolicyRuleVersion,
    nodes::Expert,
    pagination::{cost, page_of, Page},
    ContextExt,
};
use qii_domain::service::experts_eval::{self as service, ExpertEntry};
use qii_engine::period::Period;

/// One expert's evaluation for a period: the figures the `experts` script receives and
/// what it makes of them.
#[derive(SimpleObject)]
pub struct ExpertEvaluationEntry {
    /// The expert.
    expert: Expert,
    /// 1 for the best score among all the city's experts (also when the list is cut to one
    /// unit's); equal scores share a rank.
    rank: u32,
    /// The script's score: the higher the better.
    score: f64,
    /// The script's topic interaction rate (0–1).
    interaction_rate: f64,
    /// Answers the expert gave in the period (专家参与回答).
    answers: i64,
    /// Comments and votes on topics by the expert's member account in the period.
    topic_participations: i64,
    /// Distinct topics the expert took part in during the period.
    topics_joined: i64,
    /// Topics open on the platform at some time in the period, city-wide.
    topics_open: i64,
}

impl From<ExpertEntry> for ExpertEvaluationEntry {
    fn from(e: ExpertEntry) -> Self {
        Self {
            rank: e.rank,
            score: e.score,
            interaction_rate: e.interaction_rate,
            answers: e.figures.answers,
            topic_participations: e.figures.topic_participations,
            topics_joined: e.figures.topics_joined,
            topics_open: e.topics_open,
            expert: Expert(e.expert),
        }
    }
}

/// The experts' evaluation for a period.
pub struct ExpertEvaluation(service::ExpertEvaluation);

/// The experts' evaluation for a period.
#[Object]
impl ExpertEvaluation {
    /// The period evaluated, e.g. `2017-10`.
    async fn period(&self) -> Period {
        self.0.period
    }
    /// The version of the `experts` rule set in effect for the period.
    async fn rule_version(&self) -> PolicyRuleVersion {
        self.0.rule.clone().into()
    }
    /// The experts, best first.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn entries(
        &self,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<ExpertEvaluationEntry>> {
        page_of(self.0.entries.clone(), first, after, Into::into)
    }
}

impl From<service::ExpertEvaluation> for ExpertEvaluation {
    fn from(e: service::ExpertEvaluation) -> Self {
        Self(e)
    }
}

/// Reading the expert evaluation.
#[derive(Default)]
pub struct ExpertEvaluationQuery;

#[Object]
impl ExpertEvaluationQuery {
    /// The evaluation of every expert who had joined by the period's end (a month, as the
    /// notice has it, or any period), scored by the `experts` rule set in effect for the
    /// period and ranked. With `orgUnitId`, only the experts that unit recruited (for a
    /// town, any unit of the town), keeping their city-wide ranks.
    async fn expert_evaluation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period evaluated, e.g. `2017-10`.")] period: Period,
        #[graphql(
            desc = "The id of the org unit whose recruited experts to list (for a town, those of any of its units); null for all the city's experts."
        )]
        org_unit_id: Option<Id>,
    ) -> Result<ExpertEvaluation> {
        let app = ctx.app()?;
        let unit = org_unit_id.map(Id::get);
        let evaluation =
            service::expert_evaluation(&app.db, &app.actor, &app.rules, &period, unit).await?;
        Ok(evaluation.into())
    }

    /// The experts honoured for a quarter (e.g. `2017-Q4`): the quarter's evaluation cut to
    /// as many as the `experts` script's `evaluation()` honours per quarter. Any other
    /// kind of period is refused.
    async fn expert_honours(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The quarter, e.g. `2017-Q4`; any other kind of period is refused.")]
        quarter: Period,
    ) -> Result<ExpertEvaluation> {
        let app = ctx.app()?;
        let evaluation = service::expert_honours(&app.db, &app.actor, &app.rules, &quarter).await?;
        Ok(evaluation.into())
    }
}
