//! The expert alliance's evaluation (专家联盟考核): every expert's figures for a period,
//! scored by the `experts` policy script in effect for it (`expert_score(e)`), ranked; and
//! each quarter's honour roll, as long as the script's `evaluation()` says.

use crate::authz;
use crate::authz::Need;

use chrono::{DateTime, Utc};
use entities::{enums::OrgUnitKind, expert, org_unit};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::json;

use crate::service::rules::RuleStore;
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
    scoring::experts::{expert_figures, ExpertFigures},
    service::find,
};
use qii_engine::period::{Period, PeriodKind};
use qii_engine::rules::policy::PolicyRef;

/// The policy rule set that evaluates experts.
pub const RULE_SET: &str = "experts";

/// One expert's evaluation for a period.
#[derive(Debug, Clone)]
pub struct ExpertEntry {
    pub expert: expert::Model,
    pub figures: ExpertFigures,
    /// Topics open city-wide in the period.
    pub topics_open: i64,
    pub score: f64,
    pub interaction_rate: f64,
    /// 1 for the best score among all the city's experts; equal scores share a rank.
    pub rank: u32,
}

/// A period's evaluation.
pub struct ExpertEvaluation {
    pub period: Period,
    pub rule: PolicyRef,
    /// Best first.
    pub entries: Vec<ExpertEntry>,
}

/// What `expert_score(e)` returns.
#[derive(Deserialize)]
struct Scored {
    score: f64,
    interaction_rate: f64,
}

/// What `evaluation()` returns.
#[derive(Deserialize)]
struct EvaluationPolicy {
    honoured_per_quarter: usize,
}

/// Every expert who had joined by the period's end, scored and ranked among all of them;
/// with `org_unit_id`, only those that unit recruited (for a town: any unit of the town),
/// keeping their city-wide ranks.
pub async fn expert_evaluation(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    period: &Period,
    org_unit_id: Option<i64>,
) -> ServiceResult<ExpertEvaluation> {
    let recruiters = match org_unit_id {
        Some(id) => {
            let unit = find::<org_unit::Entity>(db, "org unit", id).await?;
            authz::require_unit(db, actor, id, "evaluate its experts").await?;
            Some(unit)
        }
        None => {
            actor.require(Need::CityAdmin, "evaluate every unit's experts")?;
            None
        }
    };
    let registry = rules.current()?;
    let (start, end) = (period.start_utc(), period.end_utc());
    let (rule, mut entries) = score_all(db, &registry, *period, start, end).await?;
    rank(&mut entries);
    if let Some(unit) = recruiters {
        // A town's units all carry its id as their town (the town itself included).
        let units: Vec<i64> = if unit.kind == OrgUnitKind::Town {
            org_unit::Entity::find()
                .filter(org_unit::Column::TownId.eq(unit.id))
                .all(db)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect()
        } else {
            vec![unit.id]
        };
        entries.retain(|e| units.contains(&e.expert.recruited_by_id));
    }
    Ok(ExpertEvaluation {
        period: *period,
        rule,
        entries,
    })
}

/// The evaluation of a quarter cut to the experts the script honours each quarter.
pub async fn expert_honours(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    quarter: &Period,
) -> ServiceResult<ExpertEvaluation> {
    actor.require(Need::Staff, "read the expert honours")?;
    if quarter.kind() != PeriodKind::Quarter {
        return Err(ServiceError::invalid(
            "quarter",
            format!(
                "experts are honoured per quarter (e.g. `2017-Q4`), not per {}",
                quarter.kind().name()
            ),
        ));
    }
    let registry = rules.current()?;
    let honoured: EvaluationPolicy =
        super::with_policy(&registry, RULE_SET, *quarter, |policy, sandbox| {
            policy.call(sandbox, "evaluation", &[])
        })
        .await?;
    let mut evaluation = expert_evaluation(db, actor, rules, quarter, None).await?;
    evaluation.entries.truncate(honoured.honoured_per_quarter);
    Ok(evaluation)
}

/// Scores every expert who had joined by `end`: figures from three grouped queries, the
/// script called once per expert on the script pool.
async fn score_all(
    db: &DatabaseConnection,
    registry: &std::sync::Arc<qii_engine::rules::Registry>,
    period: Period,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> ServiceResult<(PolicyRef, Vec<ExpertEntry>)> {
    let experts = expert::Entity::find()
        .filter(expert::Column::JoinedAt.lt(end))
        .order_by_asc(expert::Column::Id)
        .all(db)
        .await?;
    let (figures, topics_open) = expert_figures(db, start, end).await?;
    super::with_policy(registry, RULE_SET, period, move |policy, sandbox| {
        let entries = experts
            .into_iter()
            .map(|expert| {
                let f = figures.get(&expert.id).copied().unwrap_or_default();
                let scored: Scored = policy.call(
                    sandbox,
                    "expert_score",
                    &[json!({
                        "answers": f.answers,
                        "topic_participations": f.topic_participations,
                        "topics_joined": f.topics_joined,
                        "topics_open": topics_open,
                    })],
                )?;
                Ok(ExpertEntry {
                    expert,
                    figures: f,
                    topics_open,
                    score: scored.score,
                    interaction_rate: scored.interaction_rate,
                    rank: 0,
                })
            })
            .collect::<Result<Vec<_>, qii_engine::rules::RuleError>>()?;
        Ok((PolicyRef::of(policy), entries))
    })
    .await
}

/// Orders best first (ties: more answers, then the earlier expert) and ranks; equal scores
/// share a rank (1, 2, 2, 4).
fn rank(entries: &mut [ExpertEntry]) {
    entries.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.figures.answers.cmp(&a.figures.answers))
            .then(a.expert.id.cmp(&b.expert.id))
    });
    let mut previous: Option<(f64, u32)> = None;
    for (i, entry) in entries.iter_mut().enumerate() {
        let rank = match previous {
            Some((score, rank)) if score == entry.score => rank,
            _ => i as u32 + 1,
        };
        entry.rank = rank;
        previous = Some((entry.score, rank));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, score: f64, answers: i64) -> ExpertEntry {
        ExpertEntry {
            expert: expert::Model {
                id,
                member_id: id,
                name: format!("e{id}"),
                field: entities::enums::ExpertField::Law,
                title: None,
                recruited_by_id: 1,
                joined_at: Utc::now(),
            },
            figures: ExpertFigures {
                answers,
                ..Default::default()
            },
            topics_open: 0,
            score,
            interaction_rate: 0.0,
            rank: 0,
        }
    }

    #[test]
    fn equal_scores_share_a_rank_and_the_next_rank_skips() {
        let mut entries = vec![
            entry(1, 3.0, 3),
            entry(2, 9.0, 9),
            entry(3, 5.0, 2),
            entry(4, 5.0, 5),
        ];
        rank(&mut entries);
        let ranked: Vec<(i64, u32)> = entries.iter().map(|e| (e.expert.id, e.rank)).collect();
        assert_eq!(ranked, [(2, 1), (4, 2), (3, 2), (1, 4)]);
    }
}
