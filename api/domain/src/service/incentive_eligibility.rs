//! Which incentive each intent of an application is eligible for, and whether a request for
//! platform-skills training is: asked of `intent_eligibility(intent, app)` and
//! `platform_training(request)` of the `incentives` rule set in effect on the day. Every
//! threshold, share and cap is the script's; this module only gathers the facts the
//! script's header lists.

use chrono::{DateTime, NaiveDate, Utc};
use entities::{
    enums::{ActivityCategory, IncentiveIntent, OrgUnitKind},
    incentive_application, platform_training_request,
};
use sea_orm::ActiveEnum;
use serde::Deserialize;
use serde_json::json;

use crate::error::ServiceResult;
use qii_engine::rules::{
    policy::{PolicyRef, PolicyVersion},
    Registry,
};
use qii_engine::time::local_day;

/// The policy rule set that decides incentives.
pub const RULE_SET: &str = "incentives";

/// The platform activity an application names, with its actual figures.
#[derive(Debug, Clone, Copy)]
pub struct LinkedActivity {
    pub category: ActivityCategory,
    pub starts_at: DateTime<Utc>,
    pub signups: i64,
    pub checkins: i64,
}

/// The platform's online topic an application names, with the members who took part.
#[derive(Debug, Clone, Copy)]
pub struct LinkedTopic {
    pub published_at: DateTime<Utc>,
    /// Members who commented or voted, each once.
    pub participants: i64,
}

/// What the platform knows of what an application names: its activity or its topic.
#[derive(Debug, Clone, Copy, Default)]
pub struct Linked {
    pub activity: Option<LinkedActivity>,
    pub topic: Option<LinkedTopic>,
}

/// What the rules say about one intent of an application.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentEligibility {
    pub intent: IncentiveIntent,
    /// None when no version of the rule set is in effect on the application's day.
    pub eligible: Option<bool>,
    pub reason: String,
    /// How many items (cultural goods).
    pub amount: Option<i64>,
    /// What may be granted (linkage support).
    pub grants: Vec<String>,
    pub rule_version: Option<PolicyRef>,
}

/// What `intent_eligibility()` returns.
#[derive(Deserialize)]
struct Outcome {
    eligible: bool,
    reason: String,
    #[serde(default)]
    amount: Option<f64>,
    #[serde(default)]
    grants: Option<Vec<String>>,
}

/// The day whose rules apply: the start of the activity (the platform's, else the form's;
/// for a topic, the day it was published), or the day the application was filed when
/// none is known.
pub fn day_of(application: &incentive_application::Model, linked: &Linked) -> NaiveDate {
    let instant = linked
        .activity
        .map(|a| a.starts_at)
        .or(linked.topic.map(|t| t.published_at))
        .or(application.starts_at)
        .unwrap_or(application.submitted_at);
    local_day(instant)
}

/// The script's verdict on each of `intents`, in their order.
pub fn eligibility(
    registry: &Registry,
    application: &incentive_application::Model,
    intents: &[IncentiveIntent],
    linked: &Linked,
) -> ServiceResult<Vec<IntentEligibility>> {
    let day = day_of(application, linked);
    let (activity, topic) = (linked.activity.as_ref(), linked.topic.as_ref());
    let policy = match in_effect(registry, day) {
        Ok(policy) => policy,
        Err(reason) => {
            return Ok(intents
                .iter()
                .map(|&intent| IntentEligibility {
                    intent,
                    eligible: None,
                    reason: reason.clone(),
                    amount: None,
                    grants: Vec::new(),
                    rule_version: None,
                })
                .collect())
        }
    };
    let app = json!({
        "kind": application.kind.to_value(),
        "category": activity
            .map(|a| a.category)
            .or(application.category)
            .unwrap_or(ActivityCategory::Other)
            .to_value(),
        "scale": application.scale,
        "special_resources": application.special_resources,
        "has_activity": activity.is_some(),
        "signups": activity.map_or(0, |a| a.signups),
        "checkins": activity.map_or(0, |a| a.checkins),
        "has_topic": topic.is_some(),
        "topic_participants": topic.map_or(0, |t| t.participants),
    });
    let reference = PolicyRef::of(policy);
    intents
        .iter()
        .map(|&intent| {
            let args = [json!(intent.to_value()), app.clone()];
            let outcome: Outcome = policy.call(&registry.sandbox, "intent_eligibility", &args)?;
            Ok(IntentEligibility {
                intent,
                eligible: Some(outcome.eligible),
                reason: outcome.reason,
                amount: outcome.amount.map(|a| a.round() as i64),
                grants: outcome.grants.unwrap_or_default(),
                rule_version: Some(reference.clone()),
            })
        })
        .collect()
}

/// The incentive rules in effect on `day`, or why there are none.
fn in_effect(registry: &Registry, day: NaiveDate) -> Result<&PolicyVersion, String> {
    registry
        .policy_on(RULE_SET, day)
        .ok_or_else(|| format!("no version of rule set `{RULE_SET}` is in effect on {day}"))
}

/// What the rules say about a request for platform-skills training.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingEligibility {
    /// None when no version of the rule set is in effect on the day the request was made.
    pub eligible: Option<bool>,
    pub reason: String,
    pub rule_version: Option<PolicyRef>,
}

/// What `platform_training()` returns.
#[derive(Deserialize)]
struct TrainingOutcome {
    eligible: bool,
    reason: String,
}

/// The verdict of `platform_training(request)` of the incentive rules in effect on the day
/// the request was made, for a request of a unit of `unit_kind`.
pub fn training_eligibility(
    registry: &Registry,
    request: &platform_training_request::Model,
    unit_kind: OrgUnitKind,
) -> ServiceResult<TrainingEligibility> {
    let policy = match in_effect(registry, local_day(request.requested_at)) {
        Ok(policy) => policy,
        Err(reason) => {
            return Ok(TrainingEligibility {
                eligible: None,
                reason,
                rule_version: None,
            })
        }
    };
    let facts = json!({
        "trainees": request.trainees,
        "unit_kind": unit_kind.to_value(),
        "has_preferred_date": request.preferred_date.is_some(),
    });
    let outcome: TrainingOutcome = policy.call(&registry.sandbox, "platform_training", &[facts])?;
    Ok(TrainingEligibility {
        eligible: Some(outcome.eligible),
        reason: outcome.reason,
        rule_version: Some(PolicyRef::of(policy)),
    })
}
