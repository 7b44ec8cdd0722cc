//! The targets in effect for an org unit and period: the targets scripts' values and the
//! overrides administrators set, each with where it comes from.

use crate::Id;
use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::ContextExt;
use qii_domain::{
    scoring::targets::{TargetSource as Source, UnitTarget},
    service::operations as service,
};
use qii_engine::period::Period;
use qii_engine::rules::targets::Per;

/// Over what a target is counted.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TargetSpan {
    /// Each month on its own.
    Month,
    /// The whole span of the targets script at once (for Oct–Dec 2017: `2017-Q4`).
    Span,
    /// A level to reach by the end of the span; the target of every period within it.
    SpanEnd,
}

impl From<Per> for TargetSpan {
    fn from(per: Per) -> Self {
        match per {
            Per::Month => Self::Month,
            Per::Span => Self::Span,
            Per::SpanEnd => Self::SpanEnd,
        }
    }
}

/// Where a target's value comes from.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TargetSourceKind {
    /// A targets script of the rules in force.
    Rule,
    /// A target an administrator set for the unit, period and metric (`setTarget`), in
    /// place of the script's.
    Override,
}

/// Where a target's value comes from: a script (by path and content hash) or a row set by
/// an administrator.
#[derive(SimpleObject)]
pub struct TargetSource {
    /// A script or an override.
    kind: TargetSourceKind,
    /// For a rule: the script's path in the rules tree, e.g. `targets/2017q4.rhai`.
    script: Option<String>,
    /// For a rule: SHA-256 of the script.
    content_hash: Option<String>,
    /// For a rule: the version the script declares, e.g. `2017q4`.
    version: Option<String>,
    /// For an override: the id of the target row (see `target(id:)`).
    target_id: Option<Id>,
}

/// A target in effect for an org unit in a period.
#[derive(SimpleObject)]
pub struct TargetInEffect {
    /// The metric, e.g. `update_days`.
    metric: String,
    /// What it counts, as the script labels it; null for an override of a metric no
    /// script in effect declares.
    label: Option<String>,
    /// The value to reach (at least this much).
    value: f64,
    /// Over what it is counted, as the script declares; null as for `label`.
    span: Option<TargetSpan>,
    /// Where the value comes from.
    source: TargetSource,
}

impl From<Source> for TargetSource {
    fn from(source: Source) -> Self {
        match source {
            Source::Rule {
                script,
                hash,
                version,
            } => Self {
                kind: TargetSourceKind::Rule,
                script: Some(script),
                content_hash: Some(hash),
                version: Some(version),
                target_id: None,
            },
            Source::Override { target_id } => Self {
                kind: TargetSourceKind::Override,
                script: None,
                content_hash: None,
                version: None,
                target_id: Some(target_id.into()),
            },
        }
    }
}

impl From<UnitTarget> for TargetInEffect {
    fn from(t: UnitTarget) -> Self {
        Self {
            metric: t.metric,
            label: t.label,
            value: t.value,
            span: t.per.map(Into::into),
            source: t.source.into(),
        }
    }
}

/// Reading the targets in effect.
#[derive(Default)]
pub struct TargetsQuery;

#[Object]
impl TargetsQuery {
    /// The targets of an org unit for a period, by metric: those the targets scripts in
    /// effect for the period declare for the unit (a script covers a span of months, e.g.
    /// `2017-10` to `2017-12`; a month has the targets counted per month and the levels to
    /// reach by the end of the span, the whole span — `2017-Q4` — those counted over it),
    /// each replaced by the target an administrator set for the unit, period and metric
    /// when there is one. Empty for a period no script covers, unless targets were set.
    async fn targets_in_effect(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The org unit's id.")] org_unit_id: Id,
        #[graphql(desc = "The period, e.g. a month `2017-11` or a whole span `2017-Q4`.")]
        period: Period,
    ) -> Result<Vec<TargetInEffect>> {
        let app = ctx.app()?;
        let id = org_unit_id.0;
        let targets =
            service::targets_in_effect(&app.db, &app.actor, &app.rules, id, &period).await?;
        Ok(targets.into_iter().map(Into::into).collect())
    }
}
