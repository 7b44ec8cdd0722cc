//! Which incentive each intent of an application is eligible for: asked of
//! `intent_eligibility(intent, app)` of the `incentives` rule set in effect on the
//! application's day. Every threshold, share and cap is the script's; this module only
//! gathers the facts the script's header lists.

use chrono::{DateTime, NaiveDate, Utc};
use entities::{
    enums::{ActivityCategory, IncentiveIntent},
    incentive_application,
};
use sea_orm::ActiveEnum;
use serde::Deserialize;
use serde_json::json;

use crate::error::ServiceResult;
use qii_engine::rules::{policy::PolicyRef, Registry};
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
    let Some(policy) = registry.policy_on(RULE_SET, day) else {
        let reason = format!("no version of rule set `{RULE_SET}` is in effect on {day}");
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
            .collect());
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
