//! What would help a unit most (“My town”): the actions open to it in a period, each scored
//! by the rule version in force with the unit's figures changed as the action would change
//! them and every other unit held as it is. Actions are of three kinds: finishing one of
//! its activities that does not count yet (cheap when only a photo after the end is
//! missing), one more of what an indicator counts, and meeting a target it lags.
//!
//! The index's arithmetic is the engine's ([`compute::score`]), run once per distinct change;
//! the actions only say which raw figures move and by how much.

use std::collections::HashMap;

use chrono::Utc;
use entities::{activity, enums::OrgUnitKind, org_unit};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    authz::Need,
    error::{ServiceError, ServiceResult},
    identity::Actor,
    scoring::{self, activity_sql, Level},
    service::{activity_counts, rules::RuleStore},
};
use qii_engine::period::Period;
use qii_engine::rules::{
    activity::{ActivityFigure, ActivityRules},
    compute::{self, RawTable},
};

/// Most activities of a unit looked at for actions (those nearest to counting first).
const MAX_ACTIVITIES: u64 = 500;
/// Most activities listed as actions of their own.
const MAX_ACTIVITY_ACTIONS: usize = 20;

/// The plan of one unit for one period.
pub struct Plan {
    pub unit: i64,
    pub period: Period,
    pub level: Level,
    pub version: String,
    /// SHA-256 of the scoring script in force.
    pub hash: String,
    pub total: f64,
    pub rank: u32,
    /// Units ranked at the level.
    pub ranked: usize,
    /// Best first: highest total reached, cheap before costly, then by title.
    pub actions: Vec<Action>,
}

/// What an action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ActionKind {
    /// Finish one of the unit's activities so that it counts.
    CompleteActivity,
    /// One more of what an indicator counts.
    OneMore,
    /// Reach a target the unit lags.
    MeetTarget,
}

/// One action and what it would give.
#[derive(Debug, Clone)]
pub struct Action {
    pub kind: ActionKind,
    /// What to do, for people.
    pub title: String,
    /// What is missing, for an activity: the rules' reasons.
    pub missing: Vec<String>,
    /// Little work: a photo upload on an activity that otherwise counts.
    pub cheap: bool,
    pub activity: Option<i64>,
    /// The raw figures it moves.
    pub changes: Vec<FigureChange>,
    /// The unit's total and rank once done.
    pub total: f64,
    pub rank: u32,
}

/// One raw figure an action moves.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureChange {
    pub figure: String,
    /// The indicator's label, where the index names one.
    pub label: Option<String>,
    pub from: Option<f64>,
    pub to: f64,
}

/// What a unit does to raise one computed figure by one step: the figure, how to say it
/// and the step (a rate moves by one member of its base instead).
struct Lever {
    figure: &'static str,
    title: &'static str,
    /// Other figures the same deed raises by one.
    also: &'static [&'static str],
    /// Only for towns (a Youth Home cannot register another).
    towns_only: bool,
    /// Only for a Youth Home, or a town with one.
    needs_home: bool,
}

/// One more of each figure the platform computes.
const LEVERS: &[Lever] = &[
    lever("eligible_activities", "多开展一项计入指数的活动（有报名、结束后上传照片） One more activity that counts (sign-ups, photos after its end)"),
    Lever {
        figure: "youth_home_activities",
        title: "青年之家多开展一项计入指数的活动 A Youth Home publishes one more activity that counts",
        also: &["eligible_activities"],
        towns_only: false,
        needs_home: true,
    },
    lever("valid_questions", "多一个有效提问 One more valid question"),
    lever("answers", "多回答一个问题 One more answer"),
    lever("expert_answers", "专家多回答一个问题 An expert answers one more question"),
    lever("topic_participations", "多一人次参与话题 One more topic participation"),
    Lever {
        figure: "youth_homes",
        title: "多建成一个青年之家 One more Youth Home",
        also: &[],
        towns_only: true,
        needs_home: false,
    },
    home_lever("youth_home_signups", "青年之家活动多一人报名 One more sign-up on a Youth Home's activity"),
    home_lever("youth_home_comments", "青年之家活动多一条评论 One more comment on a Youth Home's activity"),
    home_lever("youth_home_rating_total", "青年之家活动多一个五星评价 One more five-star rating of a Youth Home's activity"),
    lever("update_days", "多更新一天 Update on one more day"),
    lever("registrations", "多一名注册会员 One more registered member"),
    lever("mobile_binding_rate", "多一名会员绑定手机 One more member binds a mobile"),
    lever("valid_visits", "多一次有效访问 One more valid visit"),
    lever("experts_recruited", "多招募一名专家 One more expert"),
];

const fn lever(figure: &'static str, title: &'static str) -> Lever {
    Lever {
        figure,
        title,
        also: &[],
        towns_only: false,
        needs_home: false,
    }
}

/// A lever of the figures of Youth Homes' activities.
const fn home_lever(figure: &'static str, title: &'static str) -> Lever {
    Lever {
        needs_home: true,
        ..lever(figure, title)
    }
}

/// The improvement plan of `unit` for `period`, at the unit's own level (a town among the
/// towns, a Youth Home among the Youth Homes, …).
pub async fn plan(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    unit: i64,
    period: &Period,
) -> ServiceResult<Plan> {
    actor.require(Need::Scores, "read improvement plans")?;
    let org = super::find::<org_unit::Entity>(db, "org unit", unit).await?;
    let level = match org.kind {
        OrgUnitKind::Town => Level::Town,
        kind => Level::Kind(kind),
    };
    let registry = rules.current()?;
    let version = registry.version_for("qii", period)?;
    let (script, spec) = (version.script.clone(), version.spec.clone());
    let activity_rules = registry.activity_rules()?;
    let (raw, _) = scoring::figures_of(db, &registry, period, level, None).await?;
    let Some(position) = raw.units.iter().position(|&u| u == unit) else {
        return Err(ServiceError::invalid(
            "orgUnitId",
            format!("{} is not ranked at its level in {period}", org.name),
        ));
    };
    let labels: HashMap<String, Option<String>> = spec
        .indicators()
        .map(|(_, i)| (i.raw.clone(), i.label.clone()))
        .collect();
    let mut candidates = one_more(&raw, position, level, &labels);
    candidates.extend(targets_lagged(&raw, position, &labels));
    candidates.extend(
        unfinished_activities(db, &activity_rules, &org, period, &raw, position, &labels).await?,
    );

    // One scoring run per distinct change: every activity finished moves the same figure.
    let mut changes: Vec<Vec<(String, f64)>> = Vec::new();
    let mut run_of = Vec::with_capacity(candidates.len());
    for candidate in &candidates {
        let key: Vec<(String, f64)> = candidate
            .changes
            .iter()
            .map(|c| (c.figure.clone(), c.to))
            .collect();
        let at = changes.iter().position(|k| *k == key).unwrap_or_else(|| {
            changes.push(key);
            changes.len() - 1
        });
        run_of.push(at);
    }
    let sandbox = registry.sandbox.clone();
    let pool = sandbox.clone();
    let (script_, spec_) = (script.clone(), spec.clone());
    let outcome = pool
        .run(move || {
            let base = compute::score(&sandbox, &script_, &spec_, &raw)?;
            let mut results = Vec::with_capacity(changes.len());
            for change in &changes {
                let mut changed = raw.clone();
                for (figure, to) in change {
                    if let Some(column) = changed.figures.get_mut(figure) {
                        column[position] = Some(*to);
                    }
                }
                let scored = compute::score(&sandbox, &script_, &spec_, &changed)?;
                results.push(of_unit(&scored, unit));
            }
            Ok::<_, qii_engine::rules::RuleError>((of_unit(&base, unit), base.len(), results))
        })
        .await??;
    let (current, ranked, results) = outcome;
    let Some((total, rank)) = current else {
        return Err(ServiceError::invalid(
            "orgUnitId",
            format!(
                "{} has none of the index's figures in {period}: it is not ranked",
                org.name
            ),
        ));
    };
    let mut actions: Vec<Action> = candidates
        .into_iter()
        .zip(run_of)
        .filter_map(|(candidate, at)| {
            let (total, rank) = results[at]?;
            Some(Action {
                total,
                rank,
                ..candidate
            })
        })
        .collect();
    actions.sort_by(|a, b| {
        b.total
            .total_cmp(&a.total)
            .then(b.cheap.cmp(&a.cheap))
            .then(a.kind.cmp(&b.kind))
            .then(a.title.cmp(&b.title))
    });
    Ok(Plan {
        unit,
        period: *period,
        level,
        version: spec.version.clone(),
        hash: script.hash.clone(),
        total,
        rank,
        ranked,
        actions,
    })
}

fn of_unit(scores: &[compute::UnitScore], unit: i64) -> Option<(f64, u32)> {
    scores
        .iter()
        .find(|s| s.unit == unit)
        .map(|s| (s.total, s.rank))
}

/// A candidate before scoring.
fn candidate(kind: ActionKind, title: String, changes: Vec<FigureChange>) -> Action {
    Action {
        kind,
        title,
        missing: Vec::new(),
        cheap: false,
        activity: None,
        changes,
        total: 0.0,
        rank: 0,
    }
}

fn value(raw: &RawTable, figure: &str, position: usize) -> Option<Option<f64>> {
    raw.figures.get(figure).map(|column| column[position])
}

fn change(
    raw: &RawTable,
    figure: &str,
    position: usize,
    to: impl FnOnce(Option<f64>) -> Option<f64>,
    labels: &HashMap<String, Option<String>>,
) -> Option<FigureChange> {
    let from = value(raw, figure, position)?;
    let to = to(from)?;
    Some(FigureChange {
        figure: figure.to_owned(),
        label: labels.get(figure).cloned().flatten(),
        from,
        to,
    })
}

/// One more of each figure the index reads.
fn one_more(
    raw: &RawTable,
    position: usize,
    level: Level,
    labels: &HashMap<String, Option<String>>,
) -> Vec<Action> {
    let registrations = value(raw, "registrations", position)
        .flatten()
        .unwrap_or(0.0);
    let has_home = match level {
        Level::Town => value(raw, "youth_homes", position).flatten().unwrap_or(0.0) > 0.0,
        Level::Kind(kind) => kind == OrgUnitKind::YouthHome,
    };
    LEVERS
        .iter()
        .filter(|l| labels.contains_key(l.figure) && (!l.towns_only || level == Level::Town))
        .filter(|l| !l.needs_home || has_home)
        .filter_map(|l| {
            let step = |from: Option<f64>| -> Option<f64> {
                let x = from.unwrap_or(0.0);
                match l.figure {
                    // One member more of those registered binds a mobile.
                    "mobile_binding_rate" if registrations > 0.0 && x < 1.0 => {
                        Some((x + 1.0 / registrations).min(1.0))
                    }
                    "mobile_binding_rate" => None,
                    "youth_home_rating_total" => {
                        Some(x + f64::from(*super::activity_feedback::RATING_RANGE.end()))
                    }
                    _ => Some(x + 1.0),
                }
            };
            let mut changes = vec![change(raw, l.figure, position, step, labels)?];
            for also in l.also {
                changes.extend(change(
                    raw,
                    also,
                    position,
                    |x| Some(x.unwrap_or(0.0) + 1.0),
                    labels,
                ));
            }
            if l.figure == "registrations" && labels.contains_key("mobile_binding_rate") {
                // A new member has bound no mobile yet: the share of those bound falls.
                let diluted =
                    |rate: Option<f64>| rate.map(|r| r * registrations / (registrations + 1.0));
                changes.extend(change(
                    raw,
                    "mobile_binding_rate",
                    position,
                    diluted,
                    labels,
                ));
            }
            Some(candidate(ActionKind::OneMore, l.title.to_owned(), changes))
        })
        .collect()
}

/// Each target of the unit it has not reached, where the index reads the target's figure.
fn targets_lagged(
    raw: &RawTable,
    position: usize,
    labels: &HashMap<String, Option<String>>,
) -> Vec<Action> {
    let mut metrics: Vec<&String> = raw.targets.keys().collect();
    metrics.sort();
    metrics
        .into_iter()
        .filter(|m| labels.contains_key(m.as_str()))
        .filter_map(|metric| {
            let target = raw.targets[metric][position].filter(|t| *t > 0.0)?;
            let from = value(raw, metric, position)?;
            let current = from.unwrap_or(0.0);
            if current >= target {
                return None;
            }
            let label = labels.get(metric).cloned().flatten().unwrap_or(metric.clone());
            let title = if metric == "mobile_binding_rate" {
                let registrations = value(raw, "registrations", position).flatten()?;
                let more = ((target - current) * registrations).ceil();
                format!("达到「{label}」目标 {target}：再绑定 {more} 名会员手机 Meet the {metric} target of {target}: {more} more members bind a mobile")
            } else {
                let more = (target - current).ceil();
                format!("达到「{label}」目标 {target}：还差 {more} Meet the {metric} target of {target}: {more} more")
            };
            let changes = vec![change(raw, metric, position, |_| Some(target), labels)?];
            Some(candidate(ActionKind::MeetTarget, title, changes))
        })
        .collect()
}

/// The unit's activities of the period that do not count, each finished: those nearest to
/// counting first.
async fn unfinished_activities(
    db: &DatabaseConnection,
    rules: &ActivityRules,
    org: &org_unit::Model,
    period: &Period,
    raw: &RawTable,
    position: usize,
    labels: &HashMap<String, Option<String>>,
) -> ServiceResult<Vec<Action>> {
    if !labels.contains_key("eligible_activities") {
        return Ok(Vec::new());
    }
    let column = activity_sql::period_column(rules);
    let publishers: Vec<i64> = if org.kind == OrgUnitKind::Town {
        org_unit::Entity::find()
            .select_only()
            .column(org_unit::Column::Id)
            .filter(
                Condition::any()
                    .add(org_unit::Column::TownId.eq(org.id))
                    .add(org_unit::Column::Id.eq(org.id)),
            )
            .into_tuple()
            .all(db)
            .await?
    } else {
        vec![org.id]
    };
    let activities = activity::Entity::find()
        .filter(crate::db::any_of(
            db.get_database_backend(),
            activity::Column::OrgUnitId,
            &publishers,
        ))
        .filter(column.gte(period.start_utc()))
        .filter(column.lt(period.end_utc()))
        .order_by_asc(column)
        .order_by_asc(activity::Column::Id)
        .limit(MAX_ACTIVITIES)
        .all(db)
        .await?;
    let now = Utc::now();
    let mut unfinished: Vec<Action> = Vec::new();
    for a in activities {
        let figures = activity_counts::kept(&a);
        let unmet: Vec<_> = rules
            .conditions
            .iter()
            .filter(|c| figures.get(c.figure) < c.at_least)
            .collect();
        let publisher = rules.publisher_fault(a.heavyweight, a.heavyweight_approved);
        if unmet.is_empty() && publisher.is_none() {
            continue;
        }
        let photos_only = unmet.iter().all(|c| {
            matches!(
                c.figure,
                ActivityFigure::Photos | ActivityFigure::PhotosAfterEnd
            )
        });
        let cheap = publisher.is_none() && photos_only && a.ends_at <= now;
        let mut missing: Vec<String> = publisher.into_iter().collect();
        missing.extend(unmet.iter().map(|c| c.unmet.clone()));
        let mut changes = vec![];
        changes.extend(change(
            raw,
            "eligible_activities",
            position,
            |x| Some(x.unwrap_or(0.0) + 1.0),
            labels,
        ));
        let title = if cheap {
            format!(
                "为活动「{}」上传一张活动结束后的照片 Upload a photo of “{}” taken after its end",
                a.title, a.title
            )
        } else {
            format!(
                "完成活动「{}」：{} Finish “{}”",
                a.title,
                missing.join("；"),
                a.title
            )
        };
        unfinished.push(Action {
            kind: ActionKind::CompleteActivity,
            title,
            missing,
            cheap,
            activity: Some(a.id),
            changes,
            total: 0.0,
            rank: 0,
        });
    }
    unfinished.sort_by_key(|a| (!a.cheap, a.missing.len()));
    unfinished.truncate(MAX_ACTIVITY_ACTIONS);
    Ok(unfinished)
}
