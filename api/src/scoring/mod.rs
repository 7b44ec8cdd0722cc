//! Scoring: raw indicator figures from the database for a period and a level of org units,
//! scored with the rule version in effect for the period. The arithmetic of the index is
//! in [`crate::rules::compute`].

mod families;
pub mod raw;
mod update_days;

use std::{collections::HashMap, fmt};

use entities::{enums::OrgUnitKind, org_unit};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

pub use raw::{raw_table, FigureRules, Level};

use crate::{
    period::Period,
    rules::{compute, compute::UnitScore, spec::IndexSpec, Registry, RuleError, Script},
};

/// Why a ranking could not be computed.
#[derive(Debug)]
pub enum ScoringError {
    Rule(RuleError),
    Database(DbErr),
}

impl fmt::Display for ScoringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rule(e) => write!(f, "{e}"),
            Self::Database(e) => write!(f, "database error: {e}"),
        }
    }
}

impl std::error::Error for ScoringError {}

impl From<RuleError> for ScoringError {
    fn from(e: RuleError) -> Self {
        Self::Rule(e)
    }
}

impl From<DbErr> for ScoringError {
    fn from(e: DbErr) -> Self {
        Self::Database(e)
    }
}

/// A ranking of one period and level, with the rule version that produced it.
#[derive(Debug, Clone)]
pub struct Ranking {
    pub rule_set: String,
    pub version: String,
    /// SHA-256 of the script that scored it.
    pub hash: String,
    pub effective_from: String,
    pub period: Period,
    pub level: Level,
    /// Best first.
    pub scores: Vec<UnitScore>,
    /// Names of the units ranked.
    pub names: HashMap<i64, String>,
}

/// Scores every unit of `level` for `period` under the version of `rule_set` in effect.
pub async fn rank(
    db: &impl ConnectionTrait,
    registry: &Registry,
    rule_set: &str,
    period: &Period,
    level: Level,
) -> Result<Ranking, ScoringError> {
    let version = registry.version_for(rule_set, period)?;
    rank_with(db, registry, &version.script, &version.spec, period, level).await
}

/// Scores a period with a given version of a rule set, whatever period it is effective from.
pub async fn rank_version(
    db: &impl ConnectionTrait,
    registry: &Registry,
    rule_set: &str,
    version: &str,
    period: &Period,
    level: Level,
) -> Result<Ranking, ScoringError> {
    let version = registry.version(rule_set, version)?;
    rank_with(db, registry, &version.script, &version.spec, period, level).await
}

/// Scores an unsaved script (what-if), storing nothing.
pub async fn preview(
    db: &impl ConnectionTrait,
    registry: &Registry,
    source: &str,
    period: &Period,
    level: Level,
) -> Result<Ranking, ScoringError> {
    let script = registry.sandbox.compile("preview.rhai", source)?;
    let spec = IndexSpec::from_script(&registry.sandbox, &script)?;
    rank_with(db, registry, &script, &spec, period, level).await
}

async fn rank_with(
    db: &impl ConnectionTrait,
    registry: &Registry,
    script: &Script,
    spec: &IndexSpec,
    period: &Period,
    level: Level,
) -> Result<Ranking, ScoringError> {
    let rules = registry.figure_rules()?;
    let raw = raw_table(db, period, level, &rules).await?;
    let scores = compute::score(&registry.sandbox, script, spec, &raw)?;
    // The units ranked are those of the level's kind (a list of their ids could exceed the
    // bound-parameter limit of either database).
    let names = org_unit::Entity::find()
        .select_only()
        .columns([org_unit::Column::Id, org_unit::Column::Name])
        .filter(org_unit::Column::Kind.eq(level.kind()))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(Ranking {
        rule_set: spec.name.clone(),
        version: spec.version.clone(),
        hash: script.hash.clone(),
        effective_from: spec.effective_from.clone(),
        period: *period,
        level,
        scores,
        names,
    })
}

impl std::str::FromStr for Level {
    type Err = String;

    /// `town` (the default level), or an org-unit kind: `youth_home`, `school`, …
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use sea_orm::ActiveEnum;
        match s.trim() {
            "town" => Ok(Level::Town),
            other => OrgUnitKind::try_from_value(&other.to_owned())
                .map(Level::Kind)
                .map_err(|_| format!("`{other}` is not a level: use town, youth_home, school, enterprise or city_unit")),
        }
    }
}
