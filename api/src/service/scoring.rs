//! Rankings for the screens: a period's ranking with the rank each unit had in a baseline
//! (the previous period, or for a what-if script the rules in force), and one unit's
//! explanation.

use std::collections::HashMap;

use sea_orm::DatabaseConnection;

use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
    period::Period,
    rules::RuleStore,
    scoring::{self, Level, Ranking},
};

/// A ranking and the ranks of a baseline to compare with.
pub struct Compared {
    pub ranking: Ranking,
    /// Rank per unit in the baseline; empty when there is none.
    pub baseline: HashMap<i64, u32>,
    /// What the baseline is, e.g. "2017-09" or "the rules in force".
    pub baseline_label: Option<String>,
}

/// The ranking of `period` under the version in effect, compared with the previous period
/// when a version is in effect for that one too.
pub async fn ranking(
    db: &DatabaseConnection,
    _actor: &Actor,
    rules: &RuleStore,
    rule_set: &str,
    period: &Period,
    level: Level,
) -> ServiceResult<Compared> {
    let registry = rules.current()?;
    let ranking = scoring::rank(db, &registry, rule_set, period, level).await?;
    let previous = period.previous();
    let (baseline, baseline_label) = if registry.version_for(rule_set, &previous).is_ok() {
        let before = scoring::rank(db, &registry, rule_set, &previous, level).await?;
        (ranks(&before), Some(previous.to_string()))
    } else {
        (HashMap::new(), None)
    };
    Ok(Compared {
        ranking,
        baseline,
        baseline_label,
    })
}

/// The ranking an unsaved script would give, compared with the rules in force; nothing is
/// stored.
pub async fn preview(
    db: &DatabaseConnection,
    _actor: &Actor,
    rules: &RuleStore,
    source: &str,
    period: &Period,
    level: Level,
) -> ServiceResult<Compared> {
    if source.trim().is_empty() {
        return Err(ServiceError::invalid("source", "the script is empty"));
    }
    let registry = rules.current()?;
    let ranking = scoring::preview(db, &registry, source, period, level).await?;
    let (baseline, baseline_label) =
        match scoring::rank(db, &registry, &ranking.rule_set, period, level).await {
            Ok(current) => (
                ranks(&current),
                Some(format!("{} {} in force", current.rule_set, current.version)),
            ),
            Err(_) => (HashMap::new(), None),
        };
    Ok(Compared {
        ranking,
        baseline,
        baseline_label,
    })
}

/// One period scored by two versions of a rule set.
pub struct Comparison {
    pub a: Ranking,
    pub b: Ranking,
}

/// Scores `period` with versions `a` and `b` of `rule_set`.
pub async fn compare(
    db: &DatabaseConnection,
    _actor: &Actor,
    rules: &RuleStore,
    rule_set: &str,
    (a, b): (&str, &str),
    period: &Period,
    level: Level,
) -> ServiceResult<Comparison> {
    let registry = rules.current()?;
    let a = scoring::rank_version(db, &registry, rule_set, a, period, level).await?;
    let b = scoring::rank_version(db, &registry, rule_set, b, period, level).await?;
    Ok(Comparison { a, b })
}

fn ranks(ranking: &Ranking) -> HashMap<i64, u32> {
    ranking.scores.iter().map(|s| (s.unit, s.rank)).collect()
}
