//! What the incentive rules say about each intent of an application. The facts the script
//! needs (intents, the linked activity, its sign-ups and check-ins, the linked topic and
//! its participants) come from the batched
//! loaders, so a page of applications costs a few grouped queries whatever its length.

use async_graphql::{Context, Result, SimpleObject};
use entities::{activity, enums::IncentiveIntent, incentive_application, topic};

use super::{children_of, load_by_id, topic::tally_of, ContextExt};
use crate::foreign_key;
use qii_domain::{
    error::ServiceError,
    service::incentive_eligibility::{self as service, Linked, LinkedActivity, LinkedTopic},
};
use qii_engine::rules::policy::PolicyRef;

foreign_key!(
    /// Intents of an incentive application.
    IntentsOfApplication, incentive_intent, ApplicationId, application_id, incentive_application
);

/// A version of a policy rule set (e.g. `incentives` 2017) and its script's content hash.
#[derive(SimpleObject, Clone)]
pub struct PolicyRuleVersion {
    /// The rule set, e.g. `incentives`.
    name: String,
    /// The version label, e.g. `2017`.
    version: String,
    /// SHA-256 of the script's source: which script decided.
    hash: String,
    /// Where the script lies in the rules tree, e.g. `incentives/2017.rhai`.
    path: String,
}

impl From<PolicyRef> for PolicyRuleVersion {
    fn from(r: PolicyRef) -> Self {
        Self {
            name: r.name,
            version: r.version,
            hash: r.hash,
            path: r.path,
        }
    }
}

/// Whether one intent of an application is eligible, by the incentive rules in effect on
/// the application's day (the activity's start, else its filing).
#[derive(SimpleObject)]
pub struct IntentEligibility {
    /// The intent judged.
    intent: IncentiveIntent,
    /// Eligible or not; null when no version of the incentive rules is in effect.
    eligible: Option<bool>,
    /// Why, for people.
    reason: String,
    /// How many items of cultural goods; null for other intents.
    amount: Option<i64>,
    /// What linkage support may be granted (`co_hosting`, `roundup`); empty otherwise.
    grants: Vec<String>,
    /// The rule version that decided; null when none is in effect.
    rule_version: Option<PolicyRuleVersion>,
}

/// The platform activity `application` names, when it names one.
pub(super) async fn linked_activity(
    ctx: &Context<'_>,
    application: &incentive_application::Model,
) -> Result<Option<activity::Model>> {
    match application.activity_id {
        Some(id) => load_by_id::<activity::Entity>(ctx, id).await,
        None => Ok(None),
    }
}

/// The platform's online topic `application` names, when it names one.
pub(super) async fn linked_topic(
    ctx: &Context<'_>,
    application: &incentive_application::Model,
) -> Result<Option<topic::Model>> {
    match application.topic_id {
        Some(id) => load_by_id::<topic::Entity>(ctx, id).await,
        None => Ok(None),
    }
}

/// The eligibility of every intent of `application`.
pub(super) async fn eligibility_of(
    ctx: &Context<'_>,
    application: &incentive_application::Model,
) -> Result<Vec<IntentEligibility>> {
    let app = ctx.app()?;
    let intents: Vec<IncentiveIntent> = children_of::<IntentsOfApplication>(ctx, application.id)
        .await?
        .into_iter()
        .map(|r| r.intent)
        .collect();
    let activity = linked_activity(ctx, application)
        .await?
        .map(|found| LinkedActivity {
            category: found.category,
            starts_at: found.starts_at,
            signups: found.signup_count,
            checkins: found.checkin_count,
        });
    let topic = match linked_topic(ctx, application).await? {
        Some(found) => Some(LinkedTopic {
            published_at: found.published_at,
            participants: tally_of(ctx, found.id).await?.participants(),
        }),
        None => None,
    };
    let linked = Linked { activity, topic };
    let registry = app.rules.current().map_err(ServiceError::from)?;
    let rules = registry.clone();
    let application = application.clone();
    // The script runs on the script pool.
    let judged = registry
        .sandbox
        .run(move || service::eligibility(&rules, &application, &intents, &linked))
        .await
        .map_err(ServiceError::from)??;
    Ok(judged
        .into_iter()
        .map(|e| IntentEligibility {
            intent: e.intent,
            eligible: e.eligible,
            reason: e.reason,
            amount: e.amount,
            grants: e.grants,
            rule_version: e.rule_version.map(Into::into),
        })
        .collect())
}
