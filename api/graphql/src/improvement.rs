//! What would help a unit most: `improvementPlan`, each action scored by the rules in force
//! (“My town”).

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use crate::Id;

use super::{
    nodes::{load_activity, load_unit, Activity, OrgUnit},
    pagination::{cost, page_of, Page},
    ContextExt,
};
use qii_domain::service::improvement::{self as service, Action, ActionKind, Plan};
use qii_engine::period::Period;

/// Reading improvement plans.
#[derive(Default)]
pub struct ImprovementQuery;

#[Object]
impl ImprovementQuery {
    /// What would raise a unit's score most in a period: the actions open to it — finishing
    /// its activities that do not count yet, one more of what each indicator counts,
    /// meeting the targets it lags — each scored with the rule version in force as if done,
    /// every other unit held as it is; best first. A town is planned among the towns, any
    /// other unit among the units of its kind.
    async fn improvement_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The org unit's id.")] org_unit_id: Id,
        #[graphql(desc = "The period, e.g. `2017-11`.")] period: Period,
    ) -> Result<ImprovementPlan> {
        let app = ctx.app()?;
        let plan = service::plan(&app.db, &app.actor, &app.rules, org_unit_id.0, &period).await?;
        Ok(ImprovementPlan(plan))
    }
}

/// A unit's improvement plan for one period: where it stands and the actions open to it,
/// each with the score and rank it would reach.
pub struct ImprovementPlan(pub Plan);

/// A unit's improvement plan for one period: where it stands and the actions open to it,
/// each with the score and rank it would reach.
#[Object]
impl ImprovementPlan {
    /// The unit planned for.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        load_unit(ctx, Some(self.0.unit)).await
    }
    /// The period planned for.
    async fn period(&self) -> Period {
        self.0.period
    }
    /// The version of the index that scored the actions.
    async fn version(&self) -> &str {
        &self.0.version
    }
    /// SHA-256 of its script.
    async fn content_hash(&self) -> &str {
        &self.0.hash
    }
    /// The unit's total now.
    async fn total(&self) -> f64 {
        self.0.total
    }
    /// Its rank now.
    async fn rank(&self) -> i32 {
        self.0.rank as i32
    }
    /// How many units are ranked at its level.
    async fn units_ranked(&self) -> i32 {
        self.0.ranked as i32
    }
    /// The actions, best first: the highest total reached, cheap ones first among equals.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn actions(
        &self,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<ImprovementAction>> {
        let (total, rank) = (self.0.total, self.0.rank);
        page_of(self.0.actions.clone(), first, after, |action| {
            ImprovementAction {
                action,
                before: (total, rank),
            }
        })
    }
}

/// What an action is.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ImprovementKind {
    /// Finish one of the unit's activities so that it counts toward the index.
    CompleteActivity,
    /// One more of what an indicator counts.
    OneMore,
    /// Reach a target the unit lags.
    MeetTarget,
}

/// One action of an improvement plan and what it would give the unit.
pub struct ImprovementAction {
    action: Action,
    before: (f64, u32),
}

/// One action of an improvement plan and what it would give the unit.
#[Object]
impl ImprovementAction {
    /// What kind of action it is.
    async fn kind(&self) -> ImprovementKind {
        match self.action.kind {
            ActionKind::CompleteActivity => ImprovementKind::CompleteActivity,
            ActionKind::OneMore => ImprovementKind::OneMore,
            ActionKind::MeetTarget => ImprovementKind::MeetTarget,
        }
    }
    /// What to do, for people.
    async fn title(&self) -> &str {
        &self.action.title
    }
    /// For an activity, what keeps it from counting, in the rules' words.
    async fn missing(&self) -> &[String] {
        &self.action.missing
    }
    /// Little work: a photo upload on an activity that otherwise counts.
    async fn cheap(&self) -> bool {
        self.action.cheap
    }
    /// The activity to finish, for that kind of action.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<Activity>> {
        match self.action.activity {
            Some(id) => load_activity(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The raw figures it moves.
    async fn changes(&self) -> Vec<FigureChange> {
        self.action
            .changes
            .iter()
            .map(|c| FigureChange {
                figure: c.figure.clone(),
                label: c.label.clone(),
                from: c.from,
                to: c.to,
            })
            .collect()
    }
    /// The unit's total once done.
    async fn total(&self) -> f64 {
        self.action.total
    }
    /// Its rank once done.
    async fn rank(&self) -> i32 {
        self.action.rank as i32
    }
    /// Points gained.
    async fn gain(&self) -> f64 {
        self.action.total - self.before.0
    }
    /// Places gained (0 when it keeps its place).
    async fn rank_gain(&self) -> i32 {
        self.before.1 as i32 - self.action.rank as i32
    }
}

/// A raw figure an action moves.
#[derive(SimpleObject)]
pub struct FigureChange {
    /// The raw figure, e.g. `eligible_activities`.
    figure: String,
    /// The indicator's label.
    label: Option<String>,
    /// Its value now; null when the unit has none.
    from: Option<f64>,
    /// Its value once done.
    to: f64,
}
