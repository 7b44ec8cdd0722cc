//! Rankings and their explanation: the ranking board, a town's breakdown, and the what-if
//! preview of an unsaved script.

use crate::Id;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entities::{enums::OrgUnitKind, org_unit};

use super::{
    batch::fetch,
    nodes::{load_unit, OrgUnit},
    pagination::{cost, page_of, Page},
    ContextExt,
};
use qii_domain::{
    scoring::Level,
    service::scoring::{self as service, Compared},
};
use qii_engine::period::Period;
use qii_engine::rules::compute::UnitScore;

/// Which org units a ranking ranks.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum RankingLevel {
    /// The towns (镇街), each with everything below it.
    #[default]
    Town,
    /// Youth Homes, each on its own.
    YouthHome,
    /// Schools, each on its own.
    School,
    /// Enterprises, each on its own.
    Enterprise,
    /// City-level units, each on its own.
    CityUnit,
}

impl From<RankingLevel> for Level {
    fn from(level: RankingLevel) -> Self {
        match level {
            RankingLevel::Town => Level::Town,
            RankingLevel::YouthHome => Level::Kind(OrgUnitKind::YouthHome),
            RankingLevel::School => Level::Kind(OrgUnitKind::School),
            RankingLevel::Enterprise => Level::Kind(OrgUnitKind::Enterprise),
            RankingLevel::CityUnit => Level::Kind(OrgUnitKind::CityUnit),
        }
    }
}

/// A ranking of one period and level, with the rule version that produced it.
pub struct Ranking(Compared);

impl From<Compared> for Ranking {
    fn from(compared: Compared) -> Self {
        Self(compared)
    }
}

/// A ranking of one period and level, with the rule version that produced it.
#[Object]
impl Ranking {
    /// The rule set, e.g. `qii`.
    async fn rule_set(&self) -> &str {
        &self.0.ranking.rule_set
    }
    /// The rule version, e.g. `2.0`.
    async fn version(&self) -> &str {
        &self.0.ranking.version
    }
    /// SHA-256 of the script that produced the scores.
    async fn content_hash(&self) -> &str {
        &self.0.ranking.hash
    }
    /// SHA-256 over every script that fed the scores: the scoring script, the eligibility
    /// rules and the targets in effect (empty for rankings stored before it was kept).
    async fn rules_hash(&self) -> &str {
        &self.0.ranking.rules_hash
    }
    /// The first period this version scores.
    async fn effective_from(&self) -> &str {
        &self.0.ranking.effective_from
    }
    /// The period ranked.
    async fn period(&self) -> Period {
        self.0.ranking.period
    }
    /// What `baselineRank` compares with: the previous period, or for a preview the rules
    /// in force; null when there is nothing to compare with.
    async fn baseline(&self) -> Option<&str> {
        self.0.baseline_label.as_deref()
    }
    /// When this ranking was stored. Rankings of months, ISO weeks and quarters are stored
    /// the first time they are read after the period ends, and read back unchanged — even
    /// after rules or data change — until `recomputeRanking`; null when computed for this
    /// read (a period still running, a custom range, a preview).
    async fn stored_at(&self) -> Option<DateTime<Utc>> {
        self.0.stored.as_ref().map(|s| s.computed_at)
    }
    /// Who stored it.
    async fn stored_by(&self) -> Option<&str> {
        self.0.stored.as_ref().map(|s| s.computed_by.as_str())
    }
    /// True when the rules in effect for the period now (the scoring version, the
    /// eligibility rules or the targets) are not those that produced this stored ranking:
    /// `recomputeRanking` applies them.
    async fn outdated(&self) -> bool {
        self.0.outdated
    }
    /// The units ranked, best first, or those the filter keeps (a district's towns, a
    /// list of units): ranks stay those of the whole ranking.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<RankingEntryFilter>,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<RankingEntry>> {
        let keep = match filter {
            Some(filter) => Some(filter.units(ctx).await?),
            None => None,
        };
        let entries: Vec<RankingEntry> = self
            .0
            .ranking
            .scores
            .iter()
            .filter(|score| keep.as_ref().is_none_or(|keep| keep.contains(&score.unit)))
            .map(|score| RankingEntry {
                baseline_rank: self.0.baseline.get(&score.unit).copied(),
                baseline_total: self.0.baseline_totals.get(&score.unit).copied(),
                score: score.clone(),
            })
            .collect();
        let page = page_of(entries, first, after, |entry| entry)?;
        // The units of the page in one statement, for `orgUnit`.
        let units: Vec<i64> = page.edges.iter().map(|e| e.node.score.unit).collect();
        fetch::<org_unit::Entity>(ctx, &units).await?;
        Ok(page)
    }
}

/// Which entries of a ranking to list.
#[derive(InputObject, Default)]
pub struct RankingEntryFilter {
    /// Units of this supervision district.
    district_id: Option<Id>,
    /// Units of this town (the town itself included).
    town_id: Option<Id>,
    /// Only these units (at most 1,000).
    org_unit_ids: Option<Vec<Id>>,
}

/// Most units a ranking filter may list.
const MAX_FILTER_UNITS: usize = 1_000;

impl RankingEntryFilter {
    /// The ids of the units kept.
    async fn units(self, ctx: &Context<'_>) -> Result<std::collections::HashSet<i64>> {
        let app = ctx.app()?;
        let mut keep: Option<std::collections::HashSet<i64>> = None;
        if let Some(ids) = &self.org_unit_ids {
            if ids.len() > MAX_FILTER_UNITS {
                return Err(qii_domain::error::bad_input(format!(
                    "`orgUnitIds` lists {} units; at most {MAX_FILTER_UNITS} are accepted",
                    ids.len()
                )));
            }
            keep = Some(ids.iter().map(|id| id.get()).collect());
        }
        let filter = qii_domain::service::org::OrgUnitFilter {
            district_id: self.district_id,
            town_id: self.town_id,
            ..Default::default()
        };
        if filter.district_id.is_some() || filter.town_id.is_some() {
            let ids = qii_domain::service::org::unit_ids(&app.db, &app.actor, &filter).await?;
            keep = Some(match keep {
                Some(listed) => listed.intersection(&ids).copied().collect(),
                None => ids,
            });
        }
        Ok(keep.unwrap_or_default())
    }
}

/// Most periods `scoreHistory` scores in one request.
const MAX_HISTORY: usize = 24;

/// The steps of a score history.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum HistoryStep {
    /// Calendar months.
    #[default]
    Month,
    /// ISO weeks.
    Week,
}

/// One period of a unit's score history.
#[derive(SimpleObject)]
pub struct ScorePoint {
    /// The period scored.
    period: Period,
    /// The rule version that scored it, e.g. `2.0`.
    version: String,
    /// SHA-256 of the script that scored it.
    content_hash: String,
    /// The unit's rank, total and breakdown in that period.
    entry: RankingEntry,
}

/// One unit's place in a ranking, and its breakdown.
pub struct RankingEntry {
    score: UnitScore,
    baseline_rank: Option<u32>,
    baseline_total: Option<f64>,
}

/// One unit's place in a ranking, and its breakdown.
#[Object]
impl RankingEntry {
    /// 1 is best; equal totals share a rank.
    async fn rank(&self) -> i32 {
        self.score.rank as i32
    }
    /// The rank in the baseline (see `Ranking.baseline`).
    async fn baseline_rank(&self) -> Option<i32> {
        self.baseline_rank.map(|r| r as i32)
    }
    /// Places gained since the baseline (negative when lost).
    async fn rank_change(&self) -> Option<i32> {
        self.baseline_rank
            .map(|b| b as i32 - self.score.rank as i32)
    }
    /// The total in the baseline (see `Ranking.baseline`).
    async fn baseline_total(&self) -> Option<f64> {
        self.baseline_total
    }
    /// Points gained since the baseline (negative when lost).
    async fn total_change(&self) -> Option<f64> {
        self.baseline_total.map(|b| self.score.total - b)
    }
    /// The unit.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        load_unit(ctx, Some(self.score.unit)).await
    }
    /// The index score, 0–100.
    async fn total(&self) -> f64 {
        self.score.total
    }
    /// Each dimension's score and contribution to the total.
    async fn dimensions(&self) -> Vec<DimensionScore> {
        self.score
            .labelled_dimensions()
            .map(|(label, d)| DimensionScore {
                key: label.key.clone(),
                label: label.label.clone(),
                weight: label.weight,
                score: d.score,
                contribution: d.contribution,
            })
            .collect()
    }
    /// Each indicator: raw figure, standardised score, weight and contribution.
    async fn indicators(&self) -> Vec<IndicatorScore> {
        self.score
            .labelled_indicators()
            .map(|(label, i)| IndicatorScore {
                key: label.key.clone(),
                label: label.label.clone(),
                dimension: label.dimension.clone(),
                raw: i.raw,
                transforms: label
                    .method
                    .iter()
                    .flat_map(|m| &m.transforms)
                    .zip(&i.transformed)
                    .map(|(name, value)| TransformStep {
                        name: name.clone(),
                        value: *value,
                    })
                    .collect(),
                method: label.method.as_ref().map(|m| IndicatorMethod {
                    name: m.name.clone(),
                    low: m.low,
                    high: m.high,
                    mean: m.mean,
                    sd: m.sd,
                    target: m.target.or(i.target),
                    target_metric: m.target_metric.clone(),
                    function: m.function.clone(),
                    lower_is_better: m.lower_is_better,
                    missing: m.missing.clone(),
                }),
                standardised: i.standardised,
                weight: label.weight,
                contribution: i.contribution,
            })
            .collect()
    }
}

/// A dimension of a unit's score.
#[derive(SimpleObject)]
pub struct DimensionScore {
    /// The dimension's key in the rule script.
    key: String,
    /// What it measures, for people (the script's `label`, e.g. `工作结合分值`).
    label: Option<String>,
    /// Its weight in percent of the index.
    weight: f64,
    /// Its score, 0–100.
    score: f64,
    /// Points of the total it gives.
    contribution: f64,
}

/// An indicator of a unit's score: how a raw figure became points.
#[derive(SimpleObject)]
pub struct IndicatorScore {
    /// The indicator's key in the rule script.
    key: String,
    /// What it measures, for people (the script's `label`, e.g. `有效访问量`).
    label: Option<String>,
    /// The dimension it belongs to.
    dimension: String,
    /// The raw figure from the platform's data; null when missing.
    raw: Option<f64>,
    /// Each transform of the figure, in order, with the value it gave (empty without
    /// transforms).
    transforms: Vec<TransformStep>,
    /// The standardisation method and what it took from the units scored; null for scores
    /// stored before it was kept.
    method: Option<IndicatorMethod>,
    /// The standardised score, 0–100; null when left out as missing.
    standardised: Option<f64>,
    /// Weight in percent of the index.
    weight: f64,
    /// Points of the total it gives: the contribution is `weight × standardised / 100`
    /// for an index that adds up its dimensions.
    contribution: f64,
}

/// One transform of a raw figure.
#[derive(SimpleObject)]
pub struct TransformStep {
    /// `log1p`, `ln`, `log10`, `power 0.5`, `cap 1000`, `winsorise 0.95`.
    name: String,
    /// The figure after it; null when the figure is missing.
    value: Option<f64>,
}

/// How an indicator's (transformed) figures became 0–100 scores in a ranking.
#[derive(SimpleObject)]
pub struct IndicatorMethod {
    /// `min_max` ((x − low) / (high − low)), `z_score` (50 + 10 (x − mean) / sd), `rank`
    /// (percentile), `goalposts` ((x − low) / (high − low), capped), `target` (x / target,
    /// capped), `target_metric` (x / the unit's own target, capped) or `custom` (a function
    /// of the script).
    name: String,
    /// Min–max: the least transformed figure of the units scored; goalposts: the lower bound.
    low: Option<f64>,
    /// Min–max: the greatest transformed figure of the units scored; goalposts: the upper
    /// bound.
    high: Option<f64>,
    /// Z-score: the mean of the transformed figures.
    mean: Option<f64>,
    /// Z-score: their standard deviation.
    sd: Option<f64>,
    /// Target: the target; target_metric: the unit's own target.
    target: Option<f64>,
    /// Target_metric: the metric of the targets.
    target_metric: Option<String>,
    /// Custom: the script's function.
    function: Option<String>,
    /// Lower figures score better: the score is 100 less what the method gives.
    lower_is_better: bool,
    /// What a unit without the figure gets: `zero`, `worst`, `mean` or `exclude`.
    missing: String,
}

/// One unit scored by two rule versions.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct VersionComparison {
    #[graphql(skip)]
    unit: i64,
    /// Score under version A.
    total_a: f64,
    /// Rank under version A.
    rank_a: i32,
    /// Score under version B.
    total_b: f64,
    /// Rank under version B.
    rank_b: i32,
    /// `totalB - totalA`.
    total_difference: f64,
    /// Places gained under B (negative when lost).
    rank_change: i32,
}

#[async_graphql::ComplexObject]
impl VersionComparison {
    /// The unit.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        load_unit(ctx, Some(self.unit)).await
    }
}

/// A version of a scoring rule set, as loaded from the rules folder.
#[derive(SimpleObject)]
pub struct RuleVersion {
    /// The rule set, e.g. `qii`.
    rule_set: String,
    /// The version label, e.g. `2.0`.
    version: String,
    /// The first period it scores.
    effective_from: String,
    /// SHA-256 of its script.
    content_hash: String,
    /// The script's path in the rules tree.
    script: String,
}

/// Reading rankings.
#[derive(Default)]
pub struct ScoringQuery;

#[Object]
impl ScoringQuery {
    /// Every version of every scoring rule set in force, oldest first.
    async fn rule_versions(&self, ctx: &Context<'_>) -> Result<Vec<RuleVersion>> {
        ctx.app()?
            .actor
            .require(qii_domain::authz::Need::Scores, "read rule versions")?;
        let registry = ctx
            .app()?
            .rules
            .current()
            .map_err(qii_domain::error::ServiceError::from)?;
        let mut list: Vec<RuleVersion> = registry
            .versions()
            .map(|v| RuleVersion {
                rule_set: v.spec.name.clone(),
                version: v.spec.version.clone(),
                effective_from: v.spec.effective_from.clone(),
                content_hash: v.script.hash.clone(),
                script: v.script.name.clone(),
            })
            .collect();
        list.sort_by(|a, b| {
            (&a.rule_set, &a.effective_from).cmp(&(&b.rule_set, &b.effective_from))
        });
        Ok(list)
    }

    /// Why the latest change of the rules folder was rejected (the rules in force stay);
    /// null when the folder's content is in force.
    async fn rules_rejection(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let app = ctx.app()?;
        app.actor.require(
            qii_domain::authz::Need::Rules,
            "read why a rules change was rejected",
        )?;
        Ok(app.rules.rejected())
    }

    /// The ranking of a period, scored with the rule version in effect for it, compared
    /// with the previous period.
    async fn ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period to rank, e.g. `2017-11` or `2017-W45`.")] period: Period,
        #[graphql(
            default = "qii",
            desc = "The scoring rule set, i.e. the first folder under `rules/` (default `qii`)."
        )]
        rule_set: String,
        #[graphql(default, desc = "Which org units to rank (default `TOWN`).")] level: RankingLevel,
        #[graphql(
            desc = "Rank only these units of the level among themselves (a district's, a town's, a list): ranks, min–max and means over them alone; computed on every read, never stored. Without it, every unit of the level."
        )]
        among: Option<RankingEntryFilter>,
    ) -> Result<Ranking> {
        let app = ctx.app()?;
        let compared = match among {
            Some(among) => {
                let units = among.units(ctx).await?;
                let key = (rule_set.as_str(), &period, level.into());
                service::ranking_among(&app.db, &app.actor, &app.rules, key, &units).await?
            }
            None => {
                service::ranking(
                    &app.db,
                    &app.actor,
                    (&*app.rules, &*app.rankings),
                    &rule_set,
                    &period,
                    level.into(),
                )
                .await?
            }
        };
        Ok(Ranking(compared))
    }

    /// One unit's score and breakdown for a period; null when the unit is not ranked at
    /// that level.
    async fn explain_score(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The org unit's id.")] org_unit_id: Id,
        #[graphql(desc = "The period scored, e.g. `2017-11` or `2017-W45`.")] period: Period,
        #[graphql(
            default = "qii",
            desc = "The scoring rule set, i.e. the first folder under `rules/` (default `qii`)."
        )]
        rule_set: String,
        #[graphql(
            default,
            desc = "The ranking level the unit is scored at (default `TOWN`)."
        )]
        level: RankingLevel,
    ) -> Result<Option<RankingEntry>> {
        let unit = org_unit_id.0;
        let Ranking(compared) = self.ranking(ctx, period, rule_set, level, None).await?;
        let baseline = compared.baseline.get(&unit).copied();
        let baseline_total = compared.baseline_totals.get(&unit).copied();
        Ok(compared
            .ranking
            .scores
            .into_iter()
            .find(|s| s.unit == unit)
            .map(|score| RankingEntry {
                score,
                baseline_rank: baseline,
                baseline_total,
            }))
    }

    /// One unit's score, rank and breakdown over a span, period by period (the town
    /// trend): every month (or ISO week, with `every: WEEK`) starting within `span`,
    /// each scored by the rule version in effect for it, oldest first. Periods that no
    /// version scores, or in which the unit is not ranked, are left out.
    #[graphql(complexity = "24usize.saturating_mul(child_complexity)")]
    async fn score_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The org unit's id.")] org_unit_id: Id,
        #[graphql(
            desc = "The span covered, e.g. `2017-Q4` or `2017-10-01..2017-12-31`; at most 24 periods may start within it."
        )]
        span: Period,
        #[graphql(
            default,
            desc = "The step of the history: months or ISO weeks (default `MONTH`)."
        )]
        every: HistoryStep,
        #[graphql(
            default = "qii",
            desc = "The scoring rule set, i.e. the first folder under `rules/` (default `qii`)."
        )]
        rule_set: String,
        #[graphql(
            default,
            desc = "The ranking level the unit is scored at (default `TOWN`)."
        )]
        level: RankingLevel,
    ) -> Result<Vec<ScorePoint>> {
        let app = ctx.app()?;
        let unit = org_unit_id.0;
        let kind = match every {
            HistoryStep::Month => qii_engine::period::PeriodKind::Month,
            HistoryStep::Week => qii_engine::period::PeriodKind::Week,
        };
        let periods = span.starting_within(kind);
        if periods.len() > MAX_HISTORY {
            return Err(qii_domain::error::bad_input(format!(
                "`{span}` holds {} periods; ask for at most {MAX_HISTORY} at a time",
                periods.len()
            )));
        }
        let registry = app
            .rules
            .current()
            .map_err(qii_domain::error::ServiceError::from)?;
        let mut points = Vec::new();
        for period in periods {
            if registry.version_for(&rule_set, &period).is_err() {
                continue;
            }
            let compared = service::ranking(
                &app.db,
                &app.actor,
                (&*app.rules, &*app.rankings),
                &rule_set,
                &period,
                level.into(),
            )
            .await?;
            let baseline = compared.baseline.get(&unit).copied();
            let baseline_total = compared.baseline_totals.get(&unit).copied();
            let Some(score) = compared.ranking.scores.iter().find(|s| s.unit == unit) else {
                continue;
            };
            points.push(ScorePoint {
                period,
                version: compared.ranking.version.clone(),
                content_hash: compared.ranking.hash.clone(),
                entry: RankingEntry {
                    score: score.clone(),
                    baseline_rank: baseline,
                    baseline_total,
                },
            });
        }
        Ok(points)
    }

    /// One period scored by two versions of a rule set (e.g. `2.0` and `3.0`), per unit:
    /// score and rank under each and the difference; in the order of version B.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn compare_rule_versions(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Version A, the one compared from: a label (`2.0`) or a script's content hash (any version ever stored)."
        )]
        a: String,
        #[graphql(
            desc = "Version B, the one compared with: a label (`3.0`) or a content hash. Leave it out to compare with `draft`."
        )]
        b: Option<String>,
        #[graphql(
            desc = "The source of an unsaved scoring script to compare version A with, in place of version B."
        )]
        draft: Option<String>,
        #[graphql(desc = "The period both versions score, e.g. `2017-11`.")] period: Period,
        #[graphql(
            default = "qii",
            desc = "The scoring rule set, i.e. the first folder under `rules/` (default `qii`)."
        )]
        rule_set: String,
        #[graphql(default, desc = "Which org units to rank (default `TOWN`).")] level: RankingLevel,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<VersionComparison>> {
        let app = ctx.app()?;
        let versus = match (&b, &draft) {
            (Some(b), None) => service::Versus::Version(b),
            (None, Some(draft)) => service::Versus::Draft(draft),
            _ => {
                return Err(qii_domain::error::bad_input(
                    "give either `b` (a version) or `draft` (a script's source) to compare version A with",
                ))
            }
        };
        let versions = (a.as_str(), versus);
        let cmp = service::compare(
            &app.db,
            &app.actor,
            &app.rules,
            &rule_set,
            versions,
            &period,
            level.into(),
        )
        .await?;
        let under_a: std::collections::HashMap<i64, &UnitScore> =
            cmp.a.scores.iter().map(|s| (s.unit, s)).collect();
        let rows: Vec<VersionComparison> = cmp
            .b
            .scores
            .iter()
            .filter_map(|b| {
                let a = under_a.get(&b.unit)?;
                Some(VersionComparison {
                    unit: b.unit,
                    total_a: a.total,
                    rank_a: a.rank as i32,
                    total_b: b.total,
                    rank_b: b.rank as i32,
                    total_difference: b.total - a.total,
                    rank_change: a.rank as i32 - b.rank as i32,
                })
            })
            .collect();
        let page = page_of(rows, first, after, |row| row)?;
        let units: Vec<i64> = page.edges.iter().map(|e| e.node.unit).collect();
        fetch::<org_unit::Entity>(ctx, &units).await?;
        Ok(page)
    }

    /// What-if: the ranking an unsaved scoring script would produce for a period, compared
    /// with the rules in force. Nothing is stored. A script that does not compile, runs too
    /// long or declares an invalid index gives `RULE_ERROR` with its line and column.
    async fn preview_ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The full text of the Rhai scoring script to try out.")] source: String,
        #[graphql(desc = "The period to rank, e.g. `2017-11` or `2017-W45`.")] period: Period,
        #[graphql(default, desc = "Which org units to rank (default `TOWN`).")] level: RankingLevel,
        #[graphql(
            desc = "The version to compare with: a label (`2.0`) or a content hash; by default the version in force for the period."
        )]
        compare_with: Option<String>,
    ) -> Result<Ranking> {
        let app = ctx.app()?;
        let compared = service::preview(
            &app.db,
            &app.actor,
            &app.rules,
            ("preview.rhai", &source),
            &period,
            level.into(),
            compare_with.as_deref(),
        )
        .await?;
        Ok(Ranking(compared))
    }
}

/// Storing rankings.
#[derive(Default)]
pub struct ScoringMutation;

#[Object]
impl ScoringMutation {
    /// Computes the ranking of an ended month, ISO week or quarter afresh — with the rules
    /// in effect for it and the data as they are now — and stores it in place of the stored
    /// one. A period still running or a custom range is refused: those are computed on
    /// every read.
    async fn recompute_ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ended month, ISO week or quarter, e.g. `2017-11`.")] period: Period,
        #[graphql(
            default = "qii",
            desc = "The scoring rule set, i.e. the first folder under `rules/` (default `qii`)."
        )]
        rule_set: String,
        #[graphql(default, desc = "Which org units to rank (default `TOWN`).")] level: RankingLevel,
    ) -> Result<Ranking> {
        let app = ctx.app()?;
        let level = level.into();
        service::recompute(&app.db, &app.actor, &app.rules, &rule_set, &period, level).await?;
        let scoring = (&*app.rules, &*app.rankings);
        let compared =
            service::ranking(&app.db, &app.actor, scoring, &rule_set, &period, level).await?;
        Ok(Ranking(compared))
    }
}
