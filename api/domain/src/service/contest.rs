//! The monthly activity design contest (活动设计大赛, DOMAIN.md §5.1): the activities named
//! by design-contest applications that were not rejected and ended within the month, each
//! scored by `contest_score(entry)` of the `incentives` rule set in effect for the month,
//! the first `design_contest().showcase` shown and the first `awarded` rewarded. The
//! figures are counted in grouped queries over all the month's candidates at once.

use std::collections::HashMap;

use entities::{
    activity, activity_review,
    enums::{ApplicationStatus, IncentiveIntent},
    incentive_application, incentive_intent,
};
use sea_orm::{
    sea_query::{Alias, Expr, Func, Query},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Deserialize;
use serde_json::json;

use super::incentive_eligibility::RULE_SET;
use crate::error::{ServiceError, ServiceResult};
use crate::service::rules::RuleStore;
use qii_engine::period::{Period, PeriodKind};
use qii_engine::rules::activity::{ActivityFigures, ActivityRules};
use qii_engine::rules::policy::PolicyRef;

/// What ranked one entry.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ContestFigures {
    /// Likes and votes (点赞/投票).
    pub likes: i64,
    pub signups: i64,
    pub checkins: i64,
    pub comments: i64,
    pub reviews: i64,
    /// Mean rating of the reviews; none without reviews.
    pub average_rating: Option<f64>,
    pub photos_after_end: i64,
    /// Steps of the activity loop done, of `loop_steps`.
    pub loop_steps_done: i64,
    pub loop_steps: i64,
    /// Every required step of the loop is done.
    pub loop_complete: bool,
}

/// One entry of the month's contest.
#[derive(Debug, Clone)]
pub struct Entry {
    /// 1 for the best score.
    pub rank: u32,
    pub activity: activity::Model,
    /// The application that entered it (the earliest, when several did).
    pub application: incentive_application::Model,
    pub figures: ContestFigures,
    pub score: f64,
    pub showcased: bool,
    pub awarded: bool,
}

/// The month's contest.
#[derive(Debug, Clone)]
pub struct Contest {
    pub month: Period,
    pub rule_version: PolicyRef,
    /// How many entries are shown (`design_contest().showcase`).
    pub showcase: i64,
    /// How many of them are rewarded (`design_contest().awarded`).
    pub awarded: i64,
    /// Best first; ties go to the lower activity id.
    pub entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct Sizes {
    showcase: i64,
    awarded: i64,
}

/// The design contest of `month` (a month such as `2017-11`).
pub async fn design_contest(
    db: &impl ConnectionTrait,
    rules: &RuleStore,
    month: &str,
) -> ServiceResult<Contest> {
    let month: Period = month
        .parse()
        .map_err(|e: qii_engine::period::PeriodError| {
            ServiceError::invalid("month", e.to_string())
        })?;
    if month.kind() != PeriodKind::Month {
        return Err(ServiceError::invalid(
            "month",
            format!(
                "the contest is held monthly: give a month such as 2017-11, not the {} `{month}`",
                month.kind().name()
            ),
        ));
    }
    let registry = rules.current()?;
    let activity_rules = registry.activity_rules()?;

    let candidates = candidates(db, &month).await?;
    let ids: Vec<i64> = candidates.iter().map(|(a, _)| a.id).collect();
    let figures = figures(db, &ids).await?;
    let mut entries = Vec::with_capacity(candidates.len());
    let mut inputs = Vec::with_capacity(candidates.len());
    for (activity, application) in candidates {
        let raw = figures.get(&activity.id).copied().unwrap_or_default();
        let figures = contest_figures(&activity_rules, &raw.0, raw.1);
        inputs.push(json!({
            "likes": figures.likes,
            "signups": figures.signups,
            "checkins": figures.checkins,
            "comments": figures.comments,
            "reviews": figures.reviews,
            "average_rating": figures.average_rating.unwrap_or(0.0),
            "photos_after_end": figures.photos_after_end,
            "loop_steps_done": figures.loop_steps_done,
            "loop_steps": figures.loop_steps,
            "loop_complete": figures.loop_complete,
        }));
        entries.push(Entry {
            rank: 0,
            activity,
            application,
            figures,
            score: 0.0,
            showcased: false,
            awarded: false,
        });
    }
    let (reference, sizes, scores) =
        super::with_policy(&registry, RULE_SET, month, move |policy, sandbox| {
            let sizes: Sizes = policy.call(sandbox, "design_contest", &[])?;
            let scores = inputs
                .into_iter()
                .map(|entry| policy.call::<f64>(sandbox, "contest_score", &[entry]))
                .collect::<Result<Vec<f64>, _>>()?;
            Ok((PolicyRef::of(policy), sizes, scores))
        })
        .await?;
    for (entry, score) in entries.iter_mut().zip(scores) {
        entry.score = score;
    }
    entries.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.activity.id.cmp(&b.activity.id))
    });
    for (i, entry) in entries.iter_mut().enumerate() {
        let rank = i as i64 + 1;
        entry.rank = rank as u32;
        entry.showcased = rank <= sizes.showcase;
        entry.awarded = rank <= sizes.awarded;
    }
    Ok(Contest {
        month,
        rule_version: reference,
        showcase: sizes.showcase,
        awarded: sizes.awarded,
        entries,
    })
}

/// The loop figures of one activity, by the activity rules in force.
fn contest_figures(
    rules: &ActivityRules,
    raw: &ActivityFigures,
    rating_sum: i64,
) -> ContestFigures {
    let steps = rules.loop_of(raw);
    ContestFigures {
        likes: raw.likes,
        signups: raw.signups,
        checkins: raw.checkins,
        comments: raw.comments,
        reviews: raw.reviews,
        average_rating: (raw.reviews > 0).then(|| rating_sum as f64 / raw.reviews as f64),
        photos_after_end: raw.photos_after_end,
        loop_steps_done: steps.iter().filter(|s| s.done).count() as i64,
        loop_steps: steps.len() as i64,
        loop_complete: steps.iter().filter(|s| s.step.required).all(|s| s.done),
    }
}

/// The activities entered for the month, each with the earliest application entering it.
async fn candidates(
    db: &impl ConnectionTrait,
    month: &Period,
) -> Result<Vec<(activity::Model, incentive_application::Model)>, DbErr> {
    use incentive_application::Column as A;
    let contest = Query::select()
        .column(incentive_intent::Column::ApplicationId)
        .from(incentive_intent::Entity)
        .and_where(incentive_intent::Column::Intent.eq(IncentiveIntent::DesignContest))
        .to_owned();
    let ended = Query::select()
        .column(activity::Column::Id)
        .from(activity::Entity)
        .and_where(activity::Column::EndsAt.gte(month.start_utc()))
        .and_where(activity::Column::EndsAt.lt(month.end_utc()))
        .to_owned();
    let applications = incentive_application::Entity::find()
        .filter(A::Id.in_subquery(contest))
        .filter(A::Status.ne(ApplicationStatus::Rejected))
        .filter(A::ActivityId.in_subquery(ended))
        .order_by_asc(A::Id)
        .all(db)
        .await?;
    let mut first: HashMap<i64, incentive_application::Model> = HashMap::new();
    for application in applications {
        if let Some(activity) = application.activity_id {
            first.entry(activity).or_insert(application);
        }
    }
    let activities = activity::Entity::find()
        .filter(activity::Column::Id.is_in(first.keys().copied()))
        .order_by_asc(activity::Column::Id)
        .all(db)
        .await?;
    Ok(activities
        .into_iter()
        .filter_map(|a| first.remove(&a.id).map(|app| (a, app)))
        .collect())
}

/// Each activity's figures (kept on its row) and the sum of its ratings (one grouped
/// query).
async fn figures(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, (ActivityFigures, i64)>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    use activity_review::Column as R;
    let activities = activity::Entity::find()
        .filter(activity::Column::Id.is_in(ids.iter().copied()))
        .all(db);
    let sums = activity_review::Entity::find()
        .select_only()
        .column(R::ActivityId)
        .column_as(
            Expr::expr(Func::cast_as(
                Func::sum(Expr::col(R::Rating)),
                Alias::new("BIGINT"),
            )),
            "total",
        )
        .filter(R::ActivityId.is_in(ids.iter().copied()))
        .group_by(R::ActivityId)
        .into_tuple::<(i64, Option<i64>)>()
        .all(db);
    let (activities, sums) = tokio::try_join!(activities, sums)?;
    let sums: HashMap<i64, i64> = sums
        .into_iter()
        .map(|(a, total)| (a, total.unwrap_or(0)))
        .collect();
    Ok(activities
        .iter()
        .map(|a| {
            let figures = super::activity_counts::kept(a);
            (a.id, (figures, sums.get(&a.id).copied().unwrap_or(0)))
        })
        .collect())
}
