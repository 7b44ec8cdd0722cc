//! Scoring: raw indicator figures from the database for a period and a level of org units,
//! scored with the rule version in effect for the period. The arithmetic of the index is
//! in [`qii_engine::rules::compute`].

pub mod activity_sql;
pub mod changes;
pub mod compliance;
pub mod experts;
mod families;
mod imported;
mod level;
pub mod raw;
pub mod rollups;
pub mod snapshot;
pub mod targets;
mod update_days;

use std::{collections::HashMap, fmt};

use entities::{enums::OrgUnitKind, org_unit};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

pub use level::Level;
pub use raw::{raw_table, raw_table_and_names, Figures, COMPUTED_FIGURES};

use qii_engine::period::Period;
use qii_engine::rules::{
    compute, compute::UnitScore, spec::IndexSpec, stability, Registry, RuleError, Script,
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
    /// SHA-256 over every script that fed it: scoring, eligibility and targets (empty for
    /// rankings stored before it was kept).
    pub rules_hash: String,
    pub effective_from: String,
    pub period: Period,
    pub level: Level,
    /// Best first.
    pub scores: Vec<UnitScore>,
    /// Names of the units ranked.
    pub names: HashMap<i64, String>,
}

/// Scores every unit of `level` for `period` under the version of `rule_set` in effect.
#[tracing::instrument(name = "score", skip_all, fields(rule_set = %rule_set, period = %period, level = ?level))]
pub async fn rank(
    db: &impl ConnectionTrait,
    registry: &Registry,
    rule_set: &str,
    period: &Period,
    level: Level,
) -> Result<Ranking, ScoringError> {
    let version = registry.version_for(rule_set, period)?;
    rank_script(db, registry, &version.script, &version.spec, period, level).await
}

/// Scores an unsaved script (what-if), storing nothing; `name` labels it in errors.
pub async fn preview(
    db: &impl ConnectionTrait,
    registry: &Registry,
    name: &str,
    source: &str,
    period: &Period,
    level: Level,
) -> Result<Ranking, ScoringError> {
    let (script, spec) = read_script(registry, name, source).await?;
    rank_script(db, registry, &script, &spec, period, level).await
}

/// Compiles a scoring script and reads its declaration, off the request threads (running
/// the declaration may take until a limit stops it).
pub async fn read_script(
    registry: &Registry,
    name: &str,
    source: &str,
) -> Result<(Script, IndexSpec), ScoringError> {
    let sandbox = registry.sandbox.clone();
    let (name, source) = (name.to_owned(), source.to_owned());
    let pool = sandbox.clone();
    Ok(pool
        .run(move || {
            let script = sandbox.compile_cached(&name, &source)?;
            let spec = IndexSpec::from_script(&sandbox, &script)?;
            Ok::<_, RuleError>((script, spec))
        })
        .await??)
}

/// Scores every unit of `level` for `period` with a given scoring script.
pub async fn rank_script(
    db: &impl ConnectionTrait,
    registry: &Registry,
    script: &Script,
    spec: &IndexSpec,
    period: &Period,
    level: Level,
) -> Result<Ranking, ScoringError> {
    rank_in(db, registry, (script, spec), period, level, None).await
}

/// Scores the units of `level` that `among` holds (all of them without it) for `period`
/// under the version of `rule_set` in effect: ranked among themselves, every method
/// (min–max, ranks, means) over them alone.
pub async fn rank_among(
    db: &impl ConnectionTrait,
    registry: &Registry,
    rule_set: &str,
    period: &Period,
    level: Level,
    among: Option<&std::collections::HashSet<i64>>,
) -> Result<Ranking, ScoringError> {
    let version = registry.version_for(rule_set, period)?;
    let scoring = (&version.script, &version.spec);
    rank_in(db, registry, scoring, period, level, among).await
}

async fn rank_in(
    db: &impl ConnectionTrait,
    registry: &Registry,
    (script, spec): (&Script, &IndexSpec),
    period: &Period,
    level: Level,
    among: Option<&std::collections::HashSet<i64>>,
) -> Result<Ranking, ScoringError> {
    let started = std::time::Instant::now();
    let (raw, names) = figures_of(db, registry, period, level, among).await?;
    // Script calls are CPU work that a limit may stop only after a while: keep them off
    // the threads that answer requests.
    let (sandbox, script_, spec_) = (registry.sandbox.clone(), script.clone(), spec.clone());
    let pool = sandbox.clone();
    let scores = pool
        .run(move || compute::score(&sandbox, &script_, &spec_, &raw))
        .await?
        .map_err(|e| with_unit_name(e, &names))?;
    crate::metrics::SCORING.observe(started.elapsed());
    Ok(Ranking {
        rule_set: spec.name.clone(),
        version: spec.version.clone(),
        hash: script.hash.clone(),
        rules_hash: registry.rules_hash(script, period),
        effective_from: spec.effective_from.clone(),
        period: *period,
        level,
        scores,
        names,
    })
}

/// The raw figures and names of the units of `level` for `period` (those `among` holds, all
/// without it), as the rules in `registry` count them.
pub(crate) async fn figures_of(
    db: &impl ConnectionTrait,
    registry: &Registry,
    period: &Period,
    level: Level,
    among: Option<&std::collections::HashSet<i64>>,
) -> Result<(compute::RawTable, HashMap<i64, String>), ScoringError> {
    let rules = registry.activity_rules()?;
    let source = if registry.read_events {
        Figures::Events(&rules)
    } else {
        Figures::Rollups
    };
    // The names of the level's units are read with its figures (the units ranked are
    // every unit of the level).
    let targets = registry.targets_for(period);
    let (mut raw, names) = raw_table_and_names(db, period, level, source, &targets).await?;
    if let Some(among) = among {
        raw.retain(|unit| among.contains(&unit));
    }
    Ok((raw, names))
}

/// How sure the ranking of `level` for `period` by a scoring script is: the Monte Carlo of
/// [`stability::analyse`] over the period's figures, off the request threads.
pub async fn stability(
    db: &impl ConnectionTrait,
    registry: &Registry,
    (script, spec): (&Script, &IndexSpec),
    (period, level): (&Period, Level),
    options: stability::Options,
) -> Result<Result<stability::Stability, (&'static str, String)>, ScoringError> {
    let (raw, names) = figures_of(db, registry, period, level, None).await?;
    let (sandbox, script_, spec_) = (registry.sandbox.clone(), script.clone(), spec.clone());
    let pool = sandbox.clone();
    match pool
        .run(move || stability::analyse(&sandbox, &script_, &spec_, &raw, &options))
        .await?
    {
        Ok(result) => Ok(Ok(result)),
        Err(stability::StabilityError::Request(option, why)) => Ok(Err((option, why))),
        Err(stability::StabilityError::Rule(e)) => Err(with_unit_name(e, &names).into()),
    }
}

/// A rule error about one unit's value, naming the unit as people know it.
fn with_unit_name(mut err: RuleError, names: &HashMap<i64, String>) -> RuleError {
    if let Some(name) = err.unit.and_then(|u| names.get(&u)) {
        let id = err.unit.unwrap_or_default();
        err.message = err.message.replace(
            &format!("org unit {id}"),
            &format!("{name} (org unit {id})"),
        );
    }
    err
}

/// The names of org units, by id.
async fn unit_names(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, DbErr> {
    let ids: Vec<i64> = ids.into_iter().collect();
    let names = org_unit::Entity::find()
        .select_only()
        .column(org_unit::Column::Id)
        .column(org_unit::Column::Name)
        .filter(crate::db::any_of(
            db.get_database_backend(),
            org_unit::Column::Id,
            &ids,
        ))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(names)
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
