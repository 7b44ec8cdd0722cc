//! Weekly and monthly reports: the city's ranking of towns with each town's change against
//! the previous period, every indicator, target compliance and highlights — gathered once
//! ([`build`]) and rendered as GraphQL, an Excel workbook ([`xlsx`]), CSV ([`csv`]) or a
//! printable page ([`page`]).
//!
//! Reports read the stored rankings: a report of an ended period opened again later shows
//! the same numbers, and one for a period not stored yet computes and stores it first
//! ([`qii_domain::service::scoring::stored_or_scored`]).
//!
//! Who reads what: city administrators every report; a town administrator its own town's.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod columns;
pub mod csv;
pub mod model;
pub mod page;
pub mod xlsx;

use std::collections::HashMap;

use entities::{enums::OrgUnitKind, org_unit};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

pub use model::*;

use qii_domain::service::rules::RuleStore;
use qii_domain::{
    authz::{denied, Need},
    error::{ServiceError, ServiceResult},
    identity::{Actor, Role},
    scoring::{snapshot, Level, Ranking},
    service::{
        compliance, contest, experts_eval,
        incentive_eligibility::RULE_SET as INCENTIVES,
        scoring::{self as scoring_service, stored_or_scored},
    },
};
use qii_engine::period::{Period, PeriodKind};
use qii_engine::rules::compute::UnitScore;

/// The index the reports rank by.
pub const INDEX: &str = "qii";

/// How many earlier periods a town's trend goes back, at most. (How much a page shows, not
/// policy.)
const TREND_PERIODS: usize = 6;
/// How many experts, risers and fallers the highlights list.
const TOP_EXPERTS: usize = 5;
const TOP_MOVES: usize = 3;

/// Succeeds when `actor` may read the report of `town` (none: the city's).
pub fn may_read_report(actor: &Actor, town: Option<i64>) -> ServiceResult<()> {
    match town {
        None => actor.require(Need::CityAdmin, "read the city's report"),
        Some(town) if actor.reach().covers_town(town) => Ok(()),
        Some(_) => Err(denied(
            actor,
            "a town's report is read by city administrators and that town's administrators",
        )),
    }
}

/// The town a report is about when none is named: a town administrator's own; none (the
/// city's report) for everyone else.
pub fn default_town(actor: &Actor) -> Option<i64> {
    match actor.role {
        Role::TownAdmin(town) => Some(town),
        _ => None,
    }
}

/// The period `text` names, checked against the kind: a month for a monthly report, an
/// ISO week for a weekly one.
pub fn parse_period(kind: ReportKind, text: &str) -> ServiceResult<Period> {
    let period: Period = text.parse().map_err(|e: qii_engine::period::PeriodError| {
        ServiceError::invalid("period", e.to_string())
    })?;
    check_period(kind, &period)?;
    Ok(period)
}

/// Refuses a period of the wrong kind.
pub fn check_period(kind: ReportKind, period: &Period) -> ServiceResult<()> {
    let (wanted, example) = match kind {
        ReportKind::Weekly => (PeriodKind::Week, "2017-W45"),
        ReportKind::Monthly => (PeriodKind::Month, "2017-11"),
    };
    if period.kind() == wanted {
        return Ok(());
    }
    Err(ServiceError::invalid(
        "period",
        format!(
            "a {} report covers one {}: give one such as {example}, not the {} `{period}`",
            kind.slug(),
            wanted.name(),
            period.kind().name(),
        ),
    ))
}

/// The town `text` names: its name (`虎门`), code (`town-humen`) or id.
/// The district `text` names: its code (`d1`), its name (`第一片区`) or its id.
pub async fn find_district(
    db: &DatabaseConnection,
    text: &str,
) -> ServiceResult<entities::district::Model> {
    use entities::district;
    let text = text.trim();
    let by_text = district::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(district::Column::Code.eq(text))
                .add(district::Column::Name.eq(text)),
        )
        .one(db)
        .await?;
    let found = match (by_text, text.parse::<i64>()) {
        (Some(d), _) => Some(d),
        (None, Ok(id)) => district::Entity::find_by_id(id).one(db).await?,
        (None, Err(_)) => None,
    };
    found.ok_or_else(|| {
        ServiceError::invalid(
            "district",
            format!("there is no district `{text}`: give a district's code (d1), name or id"),
        )
    })
}

pub async fn find_town(db: &DatabaseConnection, text: &str) -> ServiceResult<org_unit::Model> {
    let text = text.trim();
    let by_text = org_unit::Entity::find()
        .filter(org_unit::Column::Kind.eq(OrgUnitKind::Town))
        .filter(
            sea_orm::Condition::any()
                .add(org_unit::Column::Code.eq(text))
                .add(org_unit::Column::Name.eq(text)),
        )
        .one(db)
        .await?;
    let found = match (by_text, text.parse::<i64>()) {
        (Some(town), _) => Some(town),
        (None, Ok(id)) => {
            org_unit::Entity::find_by_id(id)
                .filter(org_unit::Column::Kind.eq(OrgUnitKind::Town))
                .one(db)
                .await?
        }
        (None, Err(_)) => None,
    };
    found.ok_or_else(|| {
        ServiceError::invalid(
            "town",
            format!(
                "there is no town `{text}`: give a town's name (虎门), code (town-humen) or id"
            ),
        )
    })
}

/// Gathers the report of `kind` for `period`: the city's, or with `town` that town's.
pub async fn build(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    kind: ReportKind,
    period: &Period,
    town: Option<i64>,
    district: Option<i64>,
) -> ServiceResult<Report> {
    check_period(kind, period)?;
    let district = match district {
        None => {
            may_read_report(actor, town)?;
            None
        }
        Some(_) if town.is_some() => {
            return Err(ServiceError::invalid(
                "district",
                "a report is of a town or of a district, not both: leave one out",
            ))
        }
        Some(id) => {
            actor.require(Need::CityAdmin, "read a district's report")?;
            let found = entities::district::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| ServiceError::not_found("district", id))?;
            Some(found)
        }
    };
    let towns: HashMap<i64, org_unit::Model> = org_unit::Entity::find()
        .filter(org_unit::Column::Kind.eq(OrgUnitKind::Town))
        .order_by_asc(org_unit::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    if let Some(id) = town {
        if !towns.contains_key(&id) {
            return Err(ServiceError::invalid(
                "town",
                format!("org unit {id} is not a town"),
            ));
        }
    }
    // A report reads each ranking once: a cache of its own, for this report.
    let cache = snapshot::Cache::default();
    let compared =
        scoring_service::ranking(db, actor, (rules, &cache), INDEX, period, Level::Town).await?;
    let reference = |id: i64| town_ref(&towns, &compared.ranking, id);
    // A district's report: its towns only.
    let shown = |unit: i64| {
        district
            .as_ref()
            .is_none_or(|d| towns.get(&unit).and_then(|t| t.district_id) == Some(d.id))
    };
    let scores: Vec<&UnitScore> = compared
        .ranking
        .scores
        .iter()
        .filter(|s| shown(s.unit))
        .collect();
    let ranking: Vec<TownLine> = scores
        .iter()
        .map(|score| TownLine {
            town: reference(score.unit),
            rank: score.rank as i32,
            // The lines are in rank order: a town's place is one more than the number of
            // the district's towns ranked above it.
            place: district
                .as_ref()
                .map(|_| 1 + scores.iter().filter(|s| s.rank < score.rank).count() as i32),
            previous_rank: compared.baseline.get(&score.unit).map(|r| *r as i32),
            rank_change: compared
                .baseline
                .get(&score.unit)
                .map(|r| *r as i32 - score.rank as i32),
            arrow: arrow(compared.baseline.get(&score.unit).copied(), score.rank),
            total: score.total,
            previous_total: compared.baseline_totals.get(&score.unit).copied(),
            total_change: compared
                .baseline_totals
                .get(&score.unit)
                .map(|before| score.total - before),
            dimensions: score.dimensions.iter().map(|d| d.score).collect(),
            indicators: score
                .indicators
                .iter()
                .map(|i| IndicatorValue {
                    raw: i.raw,
                    standardised: i.standardised,
                    contribution: i.contribution,
                })
                .collect(),
        })
        .collect();

    let targets = targets(db, actor, rules, period, town).await?;
    let trend = trend(db, actor, (rules, &cache), &compared.ranking).await?;
    let advice = match town {
        Some(id) => advice(db, actor, rules, id, period).await,
        None => Vec::new(),
    };
    let details = scores
        .iter()
        .map(|score| score.unit)
        .zip(&ranking)
        .filter(|(id, _)| town.is_none_or(|t| t == *id))
        .map(|(id, line)| {
            let rows = targets.get(&id).cloned().unwrap_or_default();
            TownDetail {
                town: line.clone(),
                missed: rows.iter().filter(|r| r.met == Some(false)).count() as i32,
                targets: rows,
                trend: trend
                    .iter()
                    .filter_map(|(p, scores)| {
                        scores.get(&id).map(|(total, rank)| TrendPoint {
                            period: p.to_string(),
                            total: *total,
                            rank: *rank as i32,
                        })
                    })
                    .collect(),
                advice: advice.clone(),
            }
        })
        .collect();

    let highlights = highlights(db, actor, rules, period, town, &ranking).await?;
    let headings = headings(compared.ranking.scores.first());
    let title = format!("{period} 青年之声影响力指数{}", kind.title());
    Ok(Report {
        kind,
        period: period.to_string(),
        previous_period: compared.baseline_label.clone(),
        title: match (town, &district) {
            (Some(id), _) => format!("{} · {title}", reference(id).name),
            (None, Some(d)) => format!("东莞市{} · {title}", d.name),
            (None, None) => format!("东莞市 · {title}"),
        },
        town: town.map(reference),
        district: district.map(|d| ReportDistrict {
            id: d.id.into(),
            code: d.code,
            name: d.name,
        }),
        rule_set: compared.ranking.rule_set.clone(),
        version: compared.ranking.version.clone(),
        content_hash: compared.ranking.hash.clone(),
        stored_at: compared.stored.as_ref().map(|s| s.computed_at),
        dimensions: headings.0,
        indicators: headings.1,
        ranking,
        details,
        highlights,
    })
}

/// The first three actions of a town's improvement plan; none when it has no plan (not
/// ranked, or no figures): a report is still worth reading without them.
async fn advice(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    town: i64,
    period: &Period,
) -> Vec<Advice> {
    match qii_domain::service::improvement::plan(db, actor, rules, town, period).await {
        Ok(plan) => plan
            .actions
            .iter()
            .take(ADVICE)
            .map(|a| Advice {
                title: a.title.clone(),
                cheap: a.cheap,
                total: a.total,
                rank: a.rank as i32,
                gain: a.total - plan.total,
            })
            .collect(),
        Err(e) => {
            tracing::warn!(town, %period, error = ?e, "no improvement plan for the report");
            Vec::new()
        }
    }
}

/// How many actions of its plan a town's report shows.
const ADVICE: usize = 3;

fn town_ref(towns: &HashMap<i64, org_unit::Model>, ranking: &Ranking, id: i64) -> ReportTown {
    match towns.get(&id) {
        Some(town) => ReportTown {
            id: id.into(),
            code: town.code.clone(),
            name: town.name.clone(),
        },
        None => ReportTown {
            id: id.into(),
            code: String::new(),
            name: ranking.names.get(&id).cloned().unwrap_or_default(),
        },
    }
}

/// An instant as people in Dongguan read it: `2017-12-01 09:30（北京时间）`.
pub fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M（北京时间）")
        .to_string()
}

/// `↑` for places gained, `↓` for places lost, `→` for the same place.
fn arrow(before: Option<u32>, now: u32) -> String {
    match before {
        Some(before) if before > now => "↑",
        Some(before) if before < now => "↓",
        Some(_) => "→",
        None => "",
    }
    .to_owned()
}

/// The dimensions and indicators of the index, from any unit's score (they share them).
fn headings(score: Option<&UnitScore>) -> (Vec<ReportHeading>, Vec<ReportHeading>) {
    let Some(score) = score else {
        return (Vec::new(), Vec::new());
    };
    let dimensions = score
        .labels
        .dimensions
        .iter()
        .map(|d| ReportHeading {
            key: d.key.clone(),
            label: d.label.clone().unwrap_or_else(|| d.key.clone()),
            dimension: None,
            weight: d.weight,
        })
        .collect();
    let indicators = score
        .labels
        .indicators
        .iter()
        .map(|i| ReportHeading {
            key: i.key.clone(),
            label: i.label.clone().unwrap_or_else(|| i.key.clone()),
            dimension: Some(i.dimension.clone()),
            weight: i.weight,
        })
        .collect();
    (dimensions, indicators)
}

/// The compliance rows of every town (or of `town`), by town.
async fn targets(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    period: &Period,
    town: Option<i64>,
) -> ServiceResult<HashMap<i64, Vec<TargetLine>>> {
    let rows = match town {
        Some(town) => compliance::compliance(db, actor, rules, town, period).await?,
        None => compliance::compliance_board(db, actor, rules, period, None)
            .await?
            .into_iter()
            .flat_map(|t| t.rows)
            .collect(),
    };
    let mut by_town: HashMap<i64, Vec<TargetLine>> = HashMap::new();
    for row in rows {
        by_town
            .entry(row.org_unit_id)
            .or_default()
            .push(TargetLine {
                label: row.label.clone().unwrap_or_else(|| row.metric.clone()),
                met: row.met(),
                gap: row.gap(),
                metric: row.metric,
                actual: row.actual,
                target: row.target,
            });
    }
    Ok(by_town)
}

/// The towns' (total, rank) in the periods of the same kind up to `current`'s, oldest
/// first: as many as a rule version scores, at most [`TREND_PERIODS`]. The earlier periods
/// are read as stored (stored first when not yet).
async fn trend(
    db: &DatabaseConnection,
    actor: &Actor,
    (rules, cache): (&RuleStore, &snapshot::Cache),
    current: &Ranking,
) -> ServiceResult<Vec<(Period, HashMap<i64, (f64, u32)>)>> {
    let registry = rules.current()?;
    let points = |ranking: &Ranking| -> HashMap<i64, (f64, u32)> {
        ranking
            .scores
            .iter()
            .map(|s| (s.unit, (s.total, s.rank)))
            .collect()
    };
    let mut trend = vec![(current.period, points(current))];
    while trend.len() < TREND_PERIODS {
        let before = trend[trend.len() - 1].0.previous();
        if registry.version_for(INDEX, &before).is_err() {
            break;
        }
        let key = (INDEX, &before, Level::Town);
        let (ranking, _) = stored_or_scored(db, actor, (rules, cache), key, false).await?;
        trend.push((before, points(&ranking)));
    }
    trend.reverse();
    Ok(trend)
}

/// The contest's showcased activities, the best experts, and the towns that moved most.
async fn highlights(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    period: &Period,
    town: Option<i64>,
    ranking: &[TownLine],
) -> ServiceResult<Highlights> {
    let registry = rules.current()?;
    let month = match period.kind() {
        PeriodKind::Month => Some(*period),
        _ => Period::containing(PeriodKind::Month, period.last_day()),
    }
    .filter(|m| registry.policy_for(INCENTIVES, m).is_ok());
    let mut top_activities = Vec::new();
    if let Some(month) = month {
        let contest = contest::design_contest(db, rules, &month.to_string()).await?;
        let units: Vec<i64> = contest
            .entries
            .iter()
            .map(|e| e.activity.org_unit_id)
            .collect();
        let units: HashMap<i64, org_unit::Model> = org_unit::Entity::find()
            .filter(org_unit::Column::Id.is_in(units))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let in_scope = |unit: Option<&org_unit::Model>| match (town, unit) {
            (None, _) => true,
            (Some(town), Some(unit)) => unit.id == town || unit.town_id == Some(town),
            (Some(_), None) => false,
        };
        top_activities = contest
            .entries
            .iter()
            .filter(|e| town.is_some() || e.showcased)
            .filter(|e| in_scope(units.get(&e.activity.org_unit_id)))
            .take(contest.showcase.max(0) as usize)
            .map(|e| ActivityHighlight {
                rank: e.rank as i32,
                activity_id: e.activity.id.into(),
                title: e.activity.title.clone(),
                org_unit: units
                    .get(&e.activity.org_unit_id)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                score: e.score,
                awarded: e.awarded,
            })
            .collect();
    }
    let top_experts = if registry.policy_for(experts_eval::RULE_SET, period).is_ok() {
        experts_eval::expert_evaluation(db, actor, rules, period, town)
            .await?
            .entries
            .into_iter()
            .take(TOP_EXPERTS)
            .map(|e| ExpertHighlight {
                rank: e.rank as i32,
                expert_id: e.expert.id.into(),
                name: e.expert.name,
                answers: e.figures.answers as i32,
                score: e.score,
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut moved: Vec<&TownLine> = ranking.iter().filter(|l| l.rank_change.is_some()).collect();
    moved.sort_by_key(|l| std::cmp::Reverse(l.rank_change.unwrap_or_default()));
    let risers = moved
        .iter()
        .filter(|l| l.rank_change.unwrap_or_default() > 0)
        .take(TOP_MOVES)
        .map(|l| (*l).clone())
        .collect();
    let fallers = moved
        .iter()
        .rev()
        .filter(|l| l.rank_change.unwrap_or_default() < 0)
        .take(TOP_MOVES)
        .map(|l| (*l).clone())
        .collect();
    Ok(Highlights {
        contest_month: month.map(|m| m.to_string()),
        top_activities,
        top_experts,
        risers,
        fallers,
    })
}
