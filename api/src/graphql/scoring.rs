//! Rankings and their explanation: the ranking board, a town's breakdown, and the what-if
//! preview of an unsaved script.

use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entities::enums::OrgUnitKind;

use super::{
    org::{load_unit, OrgUnit},
    parse_id, ContextExt,
};
use crate::{
    period::Period,
    rules::compute::UnitScore,
    scoring::Level,
    service::scoring::{self as service, Compared},
};

/// Which org units a ranking ranks.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
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
    /// Every unit, best first.
    async fn entries(&self) -> Vec<RankingEntry> {
        self.0
            .ranking
            .scores
            .iter()
            .map(|score| RankingEntry {
                baseline_rank: self.0.baseline.get(&score.unit).copied(),
                score: score.clone(),
            })
            .collect()
    }
}

/// One unit's place in a ranking, and its breakdown.
pub struct RankingEntry {
    score: UnitScore,
    baseline_rank: Option<u32>,
}

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
    /// The standardised score, 0–100; null when left out as missing.
    standardised: Option<f64>,
    /// Weight in percent of the index.
    weight: f64,
    /// Points of the total it gives.
    contribution: f64,
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
            .require(crate::authz::Need::Scores, "read rule versions")?;
        let registry = ctx
            .app()?
            .rules
            .current()
            .map_err(crate::error::ServiceError::from)?;
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
            crate::authz::Need::Rules,
            "read why a rules change was rejected",
        )?;
        Ok(app.rules.rejected())
    }

    /// The ranking of a period, scored with the rule version in effect for it, compared
    /// with the previous period.
    async fn ranking(
        &self,
        ctx: &Context<'_>,
        period: Period,
        #[graphql(default = "qii")] rule_set: String,
        #[graphql(default)] level: RankingLevel,
    ) -> Result<Ranking> {
        let app = ctx.app()?;
        let compared = service::ranking(
            &app.db,
            &app.actor,
            &app.rules,
            &rule_set,
            &period,
            level.into(),
        )
        .await?;
        Ok(Ranking(compared))
    }

    /// One unit's score and breakdown for a period; null when the unit is not ranked at
    /// that level.
    async fn explain_score(
        &self,
        ctx: &Context<'_>,
        org_unit_id: ID,
        period: Period,
        #[graphql(default = "qii")] rule_set: String,
        #[graphql(default)] level: RankingLevel,
    ) -> Result<Option<RankingEntry>> {
        let unit = parse_id(&org_unit_id)?;
        let Ranking(compared) = self.ranking(ctx, period, rule_set, level).await?;
        let baseline = compared.baseline.get(&unit).copied();
        Ok(compared
            .ranking
            .scores
            .into_iter()
            .find(|s| s.unit == unit)
            .map(|score| RankingEntry {
                score,
                baseline_rank: baseline,
            }))
    }

    /// One period scored by two versions of a rule set (e.g. `2.0` and `3.0`), per unit:
    /// score and rank under each and the difference; in the order of version B.
    async fn compare_rule_versions(
        &self,
        ctx: &Context<'_>,
        a: String,
        b: String,
        period: Period,
        #[graphql(default = "qii")] rule_set: String,
        #[graphql(default)] level: RankingLevel,
    ) -> Result<Vec<VersionComparison>> {
        let app = ctx.app()?;
        let versions = (a.as_str(), b.as_str());
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
        Ok(cmp
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
            .collect())
    }

    /// What-if: the ranking an unsaved scoring script would produce for a period, compared
    /// with the rules in force. Nothing is stored. A script that does not compile, runs too
    /// long or declares an invalid index gives `RULE_ERROR` with its line and column.
    async fn preview_ranking(
        &self,
        ctx: &Context<'_>,
        source: String,
        period: Period,
        #[graphql(default)] level: RankingLevel,
    ) -> Result<Ranking> {
        let app = ctx.app()?;
        let compared = service::preview(
            &app.db,
            &app.actor,
            &app.rules,
            &source,
            &period,
            level.into(),
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
        period: Period,
        #[graphql(default = "qii")] rule_set: String,
        #[graphql(default)] level: RankingLevel,
    ) -> Result<Ranking> {
        let app = ctx.app()?;
        let level = level.into();
        service::recompute(&app.db, &app.actor, &app.rules, &rule_set, &period, level).await?;
        let compared =
            service::ranking(&app.db, &app.actor, &app.rules, &rule_set, &period, level).await?;
        Ok(Ranking(compared))
    }
}
