//! Rankings for the screens: a period's ranking with the rank each unit had in a baseline
//! (the previous period, or for a what-if script the rules in force), and one unit's
//! explanation. Rankings of ended months, weeks and quarters are stored the first time
//! they are read and read back from then on, until recomputed
//! ([`crate::scoring::snapshot`]).

use crate::authz::Need;

use std::collections::HashMap;

use sea_orm::DatabaseConnection;

use crate::service::rules::RuleStore;
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
    scoring::{
        self, changes,
        snapshot::{self, Stored},
        Level, Ranking,
    },
};
use qii_engine::period::{Period, PeriodKind};

/// A ranking and the ranks of a baseline to compare with.
pub struct Compared {
    pub ranking: Ranking,
    /// Rank per unit in the baseline; empty when there is none.
    pub baseline: HashMap<i64, u32>,
    /// Total per unit in the baseline; empty when there is none.
    pub baseline_totals: HashMap<i64, f64>,
    /// What the baseline is, e.g. "2017-09" or "the rules in force".
    pub baseline_label: Option<String>,
    /// When the ranking was stored; none when computed for this read.
    pub stored: Option<Stored>,
    /// Whether the rule version in effect for the period now is not the one that scored
    /// the stored ranking (it stays as stored until recomputed).
    pub outdated: bool,
}

/// The ranking of `period` under the version in effect (as stored, once stored), compared
/// with the previous period when a version is in effect for that one too.
pub async fn ranking(
    db: &DatabaseConnection,
    actor: &Actor,
    (rules, cache): (&RuleStore, &snapshot::Cache),
    rule_set: &str,
    period: &Period,
    level: Level,
) -> ServiceResult<Compared> {
    actor.require(Need::Scores, "read rankings")?;
    let (ranking, stored) =
        stored_or_scored(db, actor, (rules, cache), (rule_set, period, level), true).await?;
    let previous = period.previous();
    let registry = rules.current().ok();
    let outdated = stored.is_some()
        && registry
            .as_ref()
            .and_then(|r| {
                changes::outdated(r, rule_set, period, &ranking.hash, &ranking.rules_hash)
            })
            .is_some_and(|(outdated, _)| outdated);
    let previous_has_rules = registry
        .as_ref()
        .is_some_and(|r| r.version_for(rule_set, &previous).is_ok());
    let (baseline, baseline_totals, baseline_label) = if previous_has_rules {
        // Only its ranks and totals are compared: the names are not read.
        let (before, _) = stored_or_scored(
            db,
            actor,
            (rules, cache),
            (rule_set, &previous, level),
            false,
        )
        .await?;
        (ranks(&before), totals(&before), Some(previous.to_string()))
    } else {
        (HashMap::new(), HashMap::new(), None)
    };
    Ok(Compared {
        ranking,
        baseline,
        baseline_totals,
        baseline_label,
        stored,
        outdated,
    })
}

/// The ranking of `period` among the units `among` holds alone (a district's towns, a list
/// of units): ranked among themselves, computed on every read and never stored, compared
/// with the previous period among the same units when a version is in effect for it.
pub async fn ranking_among(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    (rule_set, period, level): (&str, &Period, Level),
    among: &std::collections::HashSet<i64>,
) -> ServiceResult<Compared> {
    actor.require(Need::Scores, "read rankings")?;
    let registry = rules.current()?;
    let ranking = scoring::rank_among(db, &registry, rule_set, period, level, Some(among)).await?;
    let previous = period.previous();
    let before = match registry.version_for(rule_set, &previous) {
        Ok(_) => Some((
            scoring::rank_among(db, &registry, rule_set, &previous, level, Some(among)).await?,
            previous.to_string(),
        )),
        Err(_) => None,
    };
    Ok(Compared::fresh(ranking, before))
}

impl Compared {
    /// A ranking computed for this read, compared with `baseline` (a ranking, and what it is
    /// for people) when there is one.
    fn fresh(ranking: Ranking, baseline: Option<(Ranking, String)>) -> Self {
        let (baseline, baseline_totals, baseline_label) = match baseline {
            Some((before, label)) => (ranks(&before), totals(&before), Some(label)),
            None => (HashMap::new(), HashMap::new(), None),
        };
        Self {
            ranking,
            baseline,
            baseline_totals,
            baseline_label,
            stored: None,
            outdated: false,
        }
    }
}

/// The stored ranking of a period, or a fresh one, stored when the period has ended.
/// Without `names`, a stored ranking comes without its units' names. Callers check the
/// caller's access first.
pub async fn stored_or_scored(
    db: &DatabaseConnection,
    actor: &Actor,
    (rules, cache): (&RuleStore, &snapshot::Cache),
    (rule_set, period, level): (&str, &Period, Level),
    names: bool,
) -> ServiceResult<(Ranking, Option<Stored>)> {
    let key = (rule_set, period, level);
    if let Some((ranking, stored)) = snapshot::find(db, cache, key, names).await? {
        return Ok((ranking, Some(stored)));
    }
    let registry = rules.current()?;
    let ranking = scoring::rank(db, &registry, rule_set, period, level).await?;
    if !snapshot::storable(period, today()) {
        return Ok((ranking, None));
    }
    match snapshot::store(db, &ranking, &actor.label(), false).await? {
        Some(stored) => Ok((ranking, Some(stored))),
        // Stored by another request meanwhile: read that one, so that all agree.
        None => Ok(snapshot::find(db, cache, key, names)
            .await?
            .map(|(r, s)| (r, Some(s)))
            .unwrap_or((ranking, None))),
    }
}

/// Computes a period's ranking afresh with the rules and data of now and stores it in
/// place of the stored one.
pub async fn recompute(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    rule_set: &str,
    period: &Period,
    level: Level,
) -> ServiceResult<(Ranking, Stored)> {
    actor.require(Need::Rules, "recompute rankings")?;
    if period.kind() == PeriodKind::Range {
        return Err(ServiceError::invalid(
            "period",
            format!("{period} is a custom range: its ranking is computed each time it is read and never stored; recompute a month, ISO week or quarter"),
        ));
    }
    if !snapshot::storable(period, today()) {
        return Err(ServiceError::invalid(
            "period",
            format!("{period} has not ended yet: its ranking is computed each time it is read until it ends"),
        ));
    }
    let registry = rules.current()?;
    let ranking = scoring::rank(db, &registry, rule_set, period, level).await?;
    let stored = snapshot::store(db, &ranking, &actor.label(), true)
        .await?
        .ok_or_else(|| {
            ServiceError::conflict(format!(
                "the ranking of {period} was being stored by another request at the same moment; try again"
            ))
        })?;
    Ok((ranking, stored))
}

/// Today in Asia/Shanghai.
fn today() -> chrono::NaiveDate {
    qii_engine::time::local_day(chrono::Utc::now())
}

/// The ranking an unsaved script would give, compared with the rules in force; nothing is
/// stored. The baseline is `baseline` (a version label or content hash of the draft's rule
/// set) when given, otherwise the version in force for the period.
pub async fn preview(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    draft: (&str, &str),
    period: &Period,
    level: Level,
    baseline: Option<&str>,
) -> ServiceResult<Compared> {
    actor.require(Need::Rules, "preview rule scripts")?;
    let (name, source) = draft;
    if source.trim().is_empty() {
        return Err(ServiceError::invalid("source", "the script is empty"));
    }
    let registry = rules.current()?;
    let ranking = scoring::preview(db, &registry, name, source, period, level).await?;
    let current = match baseline {
        Some(version) => {
            let (script, spec) = resolve(rules, &registry, &ranking.rule_set, version).await?;
            Some(scoring::rank_script(db, &registry, &script, &spec, period, level).await?)
        }
        None => scoring::rank(db, &registry, &ranking.rule_set, period, level)
            .await
            .ok(),
    };
    let label = |current: &Ranking| match baseline {
        Some(_) => format!("{} {}", current.rule_set, current.version),
        None => format!("{} {} in force", current.rule_set, current.version),
    };
    let before = current.map(|current| {
        let label = label(&current);
        (current, label)
    });
    Ok(Compared::fresh(ranking, before))
}

/// A version of `rule_set` by its label (`2.0`) or its script's content hash: one in force,
/// or any stored one.
pub async fn resolve(
    rules: &RuleStore,
    registry: &qii_engine::rules::Registry,
    rule_set: &str,
    version: &str,
) -> ServiceResult<(
    qii_engine::rules::Script,
    qii_engine::rules::spec::IndexSpec,
)> {
    let version = version.trim();
    if let Some(v) = registry.versions().find(|v| {
        v.spec.name == rule_set && (v.spec.version == version || v.script.hash == version)
    }) {
        return Ok((v.script.clone(), v.spec.clone()));
    }
    let is_hash = version.len() == 64 && version.bytes().all(|b| b.is_ascii_hexdigit());
    let stored = if is_hash {
        crate::service::rules::releases::script_by_hash(rules.db(), &version.to_ascii_lowercase())
            .await?
    } else {
        None
    };
    let Some(stored) = stored else {
        return Err(ServiceError::invalid(
            "version",
            format!(
                "rule set `{rule_set}` has no version `{version}` in force, nor a stored script of that content hash"
            ),
        ));
    };
    let (script, spec) = scoring::read_script(registry, &stored.path, &stored.source).await?;
    if spec.name != rule_set {
        return Err(ServiceError::invalid(
            "version",
            format!(
                "the script of content {version} is of rule set `{}`, not `{rule_set}`",
                spec.name
            ),
        ));
    }
    Ok((script, spec))
}

/// One period scored by two versions of a rule set.
pub struct Comparison {
    pub a: Ranking,
    pub b: Ranking,
}

/// Scores `period` with versions `a` and `b` of `rule_set` (each a label or a content hash;
/// `b` may be a draft's source instead).
pub async fn compare(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    rule_set: &str,
    (a, b): (&str, Versus<'_>),
    period: &Period,
    level: Level,
) -> ServiceResult<Comparison> {
    actor.require(Need::Rules, "compare rule versions")?;
    let registry = rules.current()?;
    let (script, spec) = resolve(rules, &registry, rule_set, a).await?;
    let a = scoring::rank_script(db, &registry, &script, &spec, period, level).await?;
    let b = match b {
        Versus::Version(b) => {
            let (script, spec) = resolve(rules, &registry, rule_set, b).await?;
            scoring::rank_script(db, &registry, &script, &spec, period, level).await?
        }
        Versus::Draft(source) => {
            if source.trim().is_empty() {
                return Err(ServiceError::invalid("draft", "the script is empty"));
            }
            scoring::preview(db, &registry, "draft.rhai", source, period, level).await?
        }
    };
    Ok(Comparison { a, b })
}

/// What a version is compared with.
pub enum Versus<'a> {
    /// Another version, by label or content hash.
    Version(&'a str),
    /// The source of a draft.
    Draft(&'a str),
}

fn ranks(ranking: &Ranking) -> HashMap<i64, u32> {
    ranking.scores.iter().map(|s| (s.unit, s.rank)).collect()
}

fn totals(ranking: &Ranking) -> HashMap<i64, f64> {
    ranking.scores.iter().map(|s| (s.unit, s.total)).collect()
}

/// Which entries of the change feed of stored rankings to list.
#[derive(Debug, Default, Clone, async_graphql::InputObject)]
pub struct ScoreChangeFilter {
    /// Only changes of this rule set, e.g. `qii`.
    pub rule_set: Option<String>,
    /// Only changes of rankings of exactly this period, e.g. `2017-10`.
    pub period: Option<Period>,
    /// Only changes made at or after this instant: a first pull without a cursor (later
    /// pulls pass `after`, which never misses a change).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

/// The change feed of stored rankings, for those who may read scores.
pub fn score_changes(
    actor: &Actor,
    filter: &ScoreChangeFilter,
) -> ServiceResult<sea_orm::Select<entities::score_change::Entity>> {
    use entities::score_change::Column as C;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    actor.require(Need::Scores, "read the changes of stored rankings")?;
    let cond = super::filter::Filters::new()
        .eq(C::RuleSet, filter.rule_set.as_deref().map(str::trim))
        .eq(C::Period, filter.period.map(|p| p.to_string()));
    let mut select = entities::score_change::Entity::find().filter(cond.build());
    if let Some(since) = filter.since {
        select = select.filter(C::ChangedAt.gte(since));
    }
    Ok(select)
}

/// Most samples one rank-stability analysis draws.
pub const MAX_STABILITY_SAMPLES: u32 = 100_000;

/// What a rank-stability analysis is of, and its result.
pub struct Analysed {
    pub rule_set: String,
    pub version: String,
    /// SHA-256 of the script analysed (a draft's too).
    pub hash: String,
    pub period: Period,
    pub level: Level,
    /// Whether the script is an unsaved draft.
    pub draft: bool,
    pub stability: qii_engine::rules::stability::Stability,
}

/// How sure the ranking of `period` is under the version of `rule_set` in force for it, or
/// under an unsaved `draft` of a scoring script: Monte Carlo over its weights (and methods).
/// Nothing is stored.
pub async fn stability(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    (rule_set, draft): (&str, Option<&str>),
    (period, level): (&Period, Level),
    options: qii_engine::rules::stability::Options,
) -> ServiceResult<Analysed> {
    match draft {
        Some(_) => actor.require(Need::Rules, "analyse the rank stability of a draft")?,
        None => actor.require(Need::Scores, "read how stable rankings are")?,
    }
    if options.samples == 0 || options.samples > MAX_STABILITY_SAMPLES {
        return Err(ServiceError::invalid(
            "samples",
            format!(
                "ask for 1 to {MAX_STABILITY_SAMPLES} samples, not {}",
                options.samples
            ),
        ));
    }
    if let Some(spread) = options.spread {
        if !spread.is_finite() || spread <= 0.0 || spread > 1.0 {
            return Err(ServiceError::invalid(
                "spread",
                format!("the spread is a share above 0 and at most 1 (0.25: ±25 %), not {spread}"),
            ));
        }
    }
    let registry = rules.current()?;
    let (script, spec) = match draft {
        Some(source) if source.trim().is_empty() => {
            return Err(ServiceError::invalid("draft", "the script is empty"))
        }
        Some(source) => scoring::read_script(&registry, "draft.rhai", source).await?,
        None => {
            let version = registry.version_for(rule_set, period)?;
            (version.script.clone(), version.spec.clone())
        }
    };
    let analysed = scoring::stability(db, &registry, (&script, &spec), (period, level), options)
        .await?
        .map_err(|(option, why)| ServiceError::invalid(option, why))?;
    Ok(Analysed {
        rule_set: spec.name.clone(),
        version: spec.version.clone(),
        hash: script.hash.clone(),
        period: *period,
        level,
        draft: draft.is_some(),
        stability: analysed,
    })
}
