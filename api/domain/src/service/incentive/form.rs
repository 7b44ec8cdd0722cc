//! The application form's checks (附件2): who may apply, what the form names on the
//! platform (an activity or a topic, the applicant's own), its category, intents, scale,
//! dates and plan link.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entities::{
    activity,
    enums::{ActivityCategory, IncentiveIntent, OrgUnitKind},
    org_unit, topic,
};
use sea_orm::ConnectionTrait;

use super::NAME_MAX;
use crate::error::{ServiceError, ServiceResult};
use crate::service::{enum_name, find, opt_text, referenced};

/// Any league body may apply, except the city, which runs the programme.
pub(crate) async fn ensure_applicant(db: &impl ConnectionTrait, id: i64) -> ServiceResult<()> {
    let unit = referenced::<org_unit::Entity>(db, "orgUnitId", "org unit", id).await?;
    if unit.kind == OrgUnitKind::City {
        return Err(ServiceError::invalid(
            "orgUnitId",
            "the city league committee runs the incentive programme; it cannot apply to it",
        ));
    }
    Ok(())
}

/// The activity applied for, published by the applicant or one of its units.
pub(super) async fn ensure_activity_of(
    db: &impl ConnectionTrait,
    activity_id: i64,
    applicant: i64,
) -> ServiceResult<activity::Model> {
    let found = referenced::<activity::Entity>(db, "activityId", "activity", activity_id).await?;
    let what = format!("activity {activity_id}");
    ensure_published_by(db, "activityId", &what, found.org_unit_id, applicant).await?;
    Ok(found)
}

/// The online topic applied for, published by the applicant or one of its units.
pub(super) async fn ensure_topic_of(
    db: &impl ConnectionTrait,
    topic_id: i64,
    applicant: i64,
) -> ServiceResult<topic::Model> {
    let found = referenced::<topic::Entity>(db, "topicId", "topic", topic_id).await?;
    let what = format!("topic {topic_id}");
    ensure_published_by(db, "topicId", &what, found.org_unit_id, applicant).await?;
    Ok(found)
}

/// `what`, published by unit `publisher`, is the applicant's own or one of its units'.
async fn ensure_published_by(
    db: &impl ConnectionTrait,
    field: &'static str,
    what: &str,
    publisher: i64,
    applicant: i64,
) -> ServiceResult<()> {
    if publisher == applicant {
        return Ok(());
    }
    let unit = find::<org_unit::Entity>(db, "org unit", publisher).await?;
    if unit.town_id == Some(applicant) {
        return Ok(());
    }
    Err(ServiceError::invalid(
        field,
        format!(
            "{what} was published by {}, not by the applicant or one of its units",
            unit.name
        ),
    ))
}

/// A form is for one activity or one online topic of the platform, not both.
pub(super) fn check_one_subject(activity: Option<i64>, topic: Option<i64>) -> ServiceResult<()> {
    match (activity, topic) {
        (Some(a), Some(t)) => Err(ServiceError::invalid(
            "topicId",
            format!(
                "an application is for one activity or one topic, and this one would name \
                 activity {a} and topic {t}: leave one out (clear it with `null` when amending), \
                 or file one application for each"
            ),
        )),
        _ => Ok(()),
    }
}

/// The category an application keeps: the named activity's (a different one given is
/// refused), else the one given.
pub(super) fn category_of(
    given: Option<ActivityCategory>,
    activity: Option<&activity::Model>,
) -> ServiceResult<Option<ActivityCategory>> {
    match (given, activity) {
        (Some(given), Some(a)) if given != a.category => Err(ServiceError::invalid(
            "category",
            format!(
                "activity {} ({}) is of category {}, not {}; leave the category out to take \
                 the activity's, or name another activity",
                a.id,
                a.title,
                enum_name(a.category),
                enum_name(given)
            ),
        )),
        (_, Some(a)) => Ok(Some(a.category)),
        (given, None) => Ok(given),
    }
}

/// At least one intent, each once.
pub(super) fn check_intents(intents: &[IncentiveIntent]) -> ServiceResult<Vec<IncentiveIntent>> {
    if intents.is_empty() {
        return Err(ServiceError::invalid(
            "intents",
            "choose at least one intent (申报意向)",
        ));
    }
    let mut seen = HashSet::new();
    for intent in intents {
        if !seen.insert(*intent) {
            return Err(ServiceError::invalid(
                "intents",
                format!(
                    "{} is listed twice; list each intent once",
                    enum_name(*intent)
                ),
            ));
        }
    }
    Ok(intents.to_vec())
}

pub(super) fn check_scale(scale: i32) -> ServiceResult<()> {
    if scale < 0 {
        return Err(ServiceError::invalid(
            "scale",
            format!("the scale is a number of participants, got {scale}"),
        ));
    }
    Ok(())
}

pub(super) fn check_schedule(
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
) -> ServiceResult<()> {
    match (starts_at, ends_at) {
        (Some(s), Some(e)) if e <= s => Err(ServiceError::invalid(
            "endsAt",
            format!("the activity must end after it starts ({s} → {e})"),
        )),
        _ => Ok(()),
    }
}

/// A plan attachment is a web link.
pub(super) fn parse_plan_url(url: Option<&str>) -> ServiceResult<Option<String>> {
    let Some(url) = opt_text("planUrl", url, NAME_MAX)? else {
        return Ok(None);
    };
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(char::is_whitespace);
    if ok {
        Ok(Some(url))
    } else {
        Err(ServiceError::invalid(
            "planUrl",
            format!("`{url}` is not a web link (http:// or https://)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_are_required_and_listed_once() {
        assert!(check_intents(&[]).is_err());
        assert!(
            check_intents(&[IncentiveIntent::Heavyweight, IncentiveIntent::Heavyweight]).is_err()
        );
        assert!(
            check_intents(&[IncentiveIntent::Heavyweight, IncentiveIntent::CulturalGoods]).is_ok()
        );
    }

    #[test]
    fn plans_are_web_links() {
        assert_eq!(parse_plan_url(Some(" ")).ok(), Some(None));
        assert!(parse_plan_url(Some("https://example.org/plan.pdf")).is_ok());
        assert!(parse_plan_url(Some("plan.pdf")).is_err());
    }
}
