//! Whether an activity counts toward the index and how far its loop got, as the activity
//! rules in force decide (`rules/eligibility/activity.rhai`). The figures come from the
//! response's batch loaders, so a page of activities costs a handful of grouped queries.

use async_graphql::{Context, Result, SimpleObject};

use super::{nodes::Activity, ContextExt};
use qii_domain::error::ServiceError;
use qii_engine::rules::activity::{ActivityFigures, ActivityRules};

/// Whether an activity counts toward the index (工作结合分值), by the rules in force.
#[derive(SimpleObject)]
pub struct ActivityEligibility {
    /// It meets every condition of the rules.
    pub counts_toward_index: bool,
    /// What keeps it from counting, one entry per unmet condition, in the rules' words
    /// (e.g. "no photos uploaded after the activity ended"); empty when it counts.
    pub reasons: Vec<String>,
}

/// One step of an activity's loop.
#[derive(SimpleObject)]
pub struct LoopStepState {
    /// The step's key, e.g. `checkin`.
    pub step: String,
    /// What it is, for people.
    pub label: String,
    /// The figure the step looks at (e.g. the number of check-ins).
    pub value: i64,
    /// The least value of that figure for the step to be done.
    pub at_least: i64,
    /// Done: the figure reached `atLeast`.
    pub done: bool,
    /// The loop is whole only with this step done.
    pub required: bool,
}

/// How far an activity's loop (报名 → 签到 → 评论 → 评价打分 → 照片 → 点赞) got.
#[derive(SimpleObject)]
pub struct LoopCompleteness {
    /// Every required step is done.
    pub complete: bool,
    /// Steps done, of `steps`.
    pub steps_done: i32,
    /// The labels of the required steps still missing.
    pub missing: Vec<String>,
    /// Every step, in the loop's order.
    pub steps: Vec<LoopStepState>,
}

impl Activity {
    pub(super) async fn eligibility_by_rules(
        &self,
        ctx: &Context<'_>,
    ) -> Result<ActivityEligibility> {
        let (rules, figures) = self.rules_and_figures(ctx).await?;
        let judged = rules.judge(&figures);
        let mut reasons = judged.reasons;
        // A heavyweight activity counts for nothing until its application is approved, when
        // the rules say so, as the figures have it.
        if let Some(reason) = rules.publisher_fault(self.0.heavyweight, self.0.heavyweight_approved)
        {
            reasons.insert(0, reason);
        }
        Ok(ActivityEligibility {
            counts_toward_index: reasons.is_empty(),
            reasons,
        })
    }

    pub(super) async fn loop_by_rules(&self, ctx: &Context<'_>) -> Result<LoopCompleteness> {
        let (rules, figures) = self.rules_and_figures(ctx).await?;
        let states = rules.loop_of(&figures);
        let missing: Vec<String> = states
            .iter()
            .filter(|s| s.step.required && !s.done)
            .map(|s| s.step.label.clone())
            .collect();
        Ok(LoopCompleteness {
            complete: missing.is_empty(),
            steps_done: states.iter().filter(|s| s.done).count() as i32,
            missing,
            steps: states
                .into_iter()
                .map(|s| LoopStepState {
                    step: s.step.step.clone(),
                    label: s.step.label.clone(),
                    value: s.value,
                    at_least: s.step.at_least,
                    done: s.done,
                    required: s.step.required,
                })
                .collect(),
        })
    }

    /// The activity rules in force and this activity's figures, batched.
    async fn rules_and_figures(
        &self,
        ctx: &Context<'_>,
    ) -> Result<(ActivityRules, ActivityFigures)> {
        let registry = ctx.app()?.registry()?;
        let rules = registry.activity_rules().map_err(ServiceError::from)?;
        Ok((rules, qii_domain::service::activity_counts::kept(&self.0)))
    }
}
