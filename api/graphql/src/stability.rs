//! How sure a ranking is: `rankStability`, the Monte Carlo over an index's weights (and
//! standardisation methods) for the rules in force or a draft.

use async_graphql::{Context, Object, Result, SimpleObject};
use entities::org_unit;

use super::{
    batch::fetch,
    nodes::{load_unit, OrgUnit},
    pagination::{cost, page_of, Page},
    scoring::RankingLevel,
    ContextExt,
};
use qii_domain::service::scoring::{self as service, Analysed, MAX_STABILITY_SAMPLES};
use qii_engine::period::Period;
use qii_engine::rules::stability::{self, UnitStability};

/// Reading how stable rankings are.
#[derive(Default)]
pub struct StabilityQuery;

#[Object]
impl StabilityQuery {
    /// How much a period's ranking depends on its weights: each weight (or only those the
    /// script marks assumed) is multiplied by a factor drawn within the spread and the
    /// perturbed weights are rescaled to their declared sum; optionally the standardisation
    /// method is drawn too, among those the script allows. Every unit is ranked again in
    /// each sample. The same seed gives the same result. Nothing is stored. With `draft`,
    /// the unsaved script is analysed instead of the rules in force (rule administrators),
    /// to see what a change does to certainty.
    #[allow(clippy::too_many_arguments)]
    async fn rank_stability(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period ranked, e.g. `2017-11`.")] period: Period,
        #[graphql(default, desc = "Which org units to rank (default `TOWN`).")] level: RankingLevel,
        #[graphql(
            default = 1000,
            desc = "Monte Carlo samples (default 1,000; at most 100,000, and units × samples at most 20,000,000)."
        )]
        samples: i32,
        #[graphql(default = 1, desc = "The seed of the draws (default 1).")] seed: i64,
        #[graphql(
            desc = "How far each weight may move, as a share (0.25: ±25 %); by default the script's `uncertainty.spread`."
        )]
        spread: Option<f64>,
        #[graphql(
            default = false,
            desc = "Perturb only the weights the script marks `assumed` (those its source does not state); the others stay as declared."
        )]
        assumed_only: bool,
        #[graphql(
            default = false,
            desc = "Draw the standardisation method too, among the script's `uncertainty.methods`, for the indicators standardised by one of them."
        )]
        vary_methods: bool,
        #[graphql(
            default = "qii",
            desc = "The scoring rule set, i.e. the first folder under `rules/` (default `qii`)."
        )]
        rule_set: String,
        #[graphql(
            desc = "The source of an unsaved scoring script to analyse instead of the version in force."
        )]
        draft: Option<String>,
    ) -> Result<RankStability> {
        let app = ctx.app()?;
        let options = options(samples, seed, spread, assumed_only, vary_methods)?;
        let analysed = service::stability(
            &app.db,
            &app.actor,
            &app.rules,
            (&rule_set, draft.as_deref()),
            (&period, level.into()),
            options,
        )
        .await?;
        Ok(RankStability(analysed))
    }
}

/// The options of an analysis as the API takes them.
pub(crate) fn options(
    samples: i32,
    seed: i64,
    spread: Option<f64>,
    assumed_only: bool,
    vary_methods: bool,
) -> Result<stability::Options> {
    let samples = u32::try_from(samples).map_err(|_| {
        qii_domain::error::ServiceError::invalid(
            "samples",
            format!("ask for 1 to {MAX_STABILITY_SAMPLES} samples, not {samples}"),
        )
    })?;
    Ok(stability::Options {
        samples,
        // The seed's bits: a negative seed is as good as any.
        seed: seed as u64,
        spread,
        assumed_only,
        vary_methods,
    })
}

/// A rank-stability analysis of one period's ranking: Monte Carlo over the index's weights
/// (and methods), per unit its median rank, 5–95 % rank interval and chance of keeping its
/// rank, and what the ranks are most sensitive to.
pub struct RankStability(pub(crate) Analysed);

/// A rank-stability analysis of one period's ranking: Monte Carlo over the index's weights
/// (and methods), per unit its median rank, 5–95 % rank interval and chance of keeping its
/// rank, and what the ranks are most sensitive to.
#[Object]
impl RankStability {
    /// The rule set analysed, e.g. `qii`.
    async fn rule_set(&self) -> &str {
        &self.0.rule_set
    }
    /// Its version label.
    async fn version(&self) -> &str {
        &self.0.version
    }
    /// SHA-256 of the script analysed.
    async fn content_hash(&self) -> &str {
        &self.0.hash
    }
    /// Whether the script is an unsaved draft.
    async fn draft(&self) -> bool {
        self.0.draft
    }
    /// The period ranked.
    async fn period(&self) -> Period {
        self.0.period
    }
    /// Samples drawn.
    async fn samples(&self) -> i32 {
        self.0.stability.samples as i32
    }
    /// The seed of the draws.
    async fn seed(&self) -> i64 {
        self.0.stability.seed as i64
    }
    /// The spread of the weights applied (0.25: ±25 %).
    async fn spread(&self) -> f64 {
        self.0.stability.spread
    }
    /// The indicators whose weights were perturbed.
    async fn perturbed(&self) -> &[String] {
        &self.0.stability.perturbed
    }
    /// The standardisation methods drawn from; empty when each indicator kept its own.
    async fn methods(&self) -> &[String] {
        &self.0.stability.methods
    }
    /// How far a unit moves from its rank, on average over units and samples.
    async fn mean_rank_shift(&self) -> f64 {
        self.0.stability.mean_rank_shift
    }
    /// What the ranking is most sensitive to, most first: each weight perturbed (and the
    /// method, when drawn) with the share of the ranks' variance it explains alone.
    async fn sensitivity(&self) -> Vec<WeightSensitivity> {
        self.0
            .stability
            .sensitivity
            .iter()
            .map(|s| WeightSensitivity {
                factor: s.factor.clone(),
                label: s.label.clone(),
                weight: s.weight,
                assumed: s.assumed,
                first_order: s.first_order,
            })
            .collect()
    }
    /// Every unit ranked, in the order of its rank under the declared weights.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn units(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<RankInterval>> {
        let rows = self.0.stability.units.clone();
        let page = page_of(rows, first, after, RankInterval)?;
        let units: Vec<i64> = page.edges.iter().map(|e| e.node.0.unit).collect();
        fetch::<org_unit::Entity>(ctx, &units).await?;
        Ok(page)
    }
}

/// One factor of a rank-stability analysis.
#[derive(SimpleObject)]
pub struct WeightSensitivity {
    /// An indicator's key, or `standardisation` for the choice of method.
    factor: String,
    /// The indicator's label.
    label: Option<String>,
    /// Its declared weight in percent; null for the method.
    weight: Option<f64>,
    /// Whether the script marks the weight assumed (not stated by its source).
    assumed: bool,
    /// First-order sensitivity index, 0–1: the share of the variance of the units' ranks
    /// this factor explains on its own.
    first_order: f64,
}

/// One unit's ranks over the samples of a rank-stability analysis.
pub struct RankInterval(UnitStability);

/// One unit's ranks over the samples of a rank-stability analysis.
#[Object]
impl RankInterval {
    /// The unit.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        load_unit(ctx, Some(self.0.unit)).await
    }
    /// Its rank under the declared weights and methods.
    async fn rank(&self) -> i32 {
        self.0.rank as i32
    }
    /// Its total under them.
    async fn total(&self) -> f64 {
        self.0.total
    }
    /// The median of its ranks over the samples.
    async fn median_rank(&self) -> f64 {
        self.0.median_rank
    }
    /// The 5th percentile of its ranks: the best it plausibly reaches.
    async fn rank_low(&self) -> i32 {
        self.0.rank_low as i32
    }
    /// The 95th percentile of its ranks: the worst it plausibly falls to.
    async fn rank_high(&self) -> i32 {
        self.0.rank_high as i32
    }
    /// The share of samples (0–1) in which it keeps its rank.
    async fn keeps_rank(&self) -> f64 {
        self.0.keeps_rank
    }
}
