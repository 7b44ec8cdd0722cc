//! Compliance (目标完成情况) as the screens read it: a unit's targets beside its actual
//! values, and the city's compliance map of towns × targets in one query.

use crate::Id;
use async_graphql::{Context, Object, Result, SimpleObject};

use super::{
    nodes::OrgUnit,
    targets::{TargetSource, TargetSpan},
    ContextExt,
};
use qii_domain::service::compliance::{self as service, ComplianceRow as Row, TownCompliance};
use qii_engine::period::Period;

/// One target of a unit for a period beside the unit's actual value (a cell of the
/// compliance map).
#[derive(SimpleObject)]
pub struct ComplianceRow {
    /// The metric, e.g. `update_days`.
    metric: String,
    /// What it counts, as the targets script labels it; null for an override of a metric
    /// no script in effect declares.
    label: Option<String>,
    /// Over what the target is counted, as the script declares; null as for `label`.
    span: Option<TargetSpan>,
    /// The unit's actual value, counted as the index counts (a town with everything below
    /// it): for a `MONTH` target over the month, for a `SPAN` one (new Youth Homes,
    /// experts) from the span's first day to the period's end, for a `SPAN_END` one
    /// (registrations, mobile-binding rate) the level at the period's end. Null when
    /// unknown: a metric the platform's data does not give, or a rate with nothing to
    /// divide.
    actual: Option<f64>,
    /// The value to reach (at least this much).
    target: f64,
    /// Whether the actual value reaches the target; null when the actual value is unknown.
    met: Option<bool>,
    /// How far below the target the actual value is: target − actual when missed, 0 when
    /// met, null when unknown.
    gap: Option<f64>,
    /// Where the target comes from: a script or an administrator's override.
    source: TargetSource,
}

impl From<Row> for ComplianceRow {
    fn from(row: Row) -> Self {
        Self {
            met: row.met(),
            gap: row.gap(),
            metric: row.metric,
            label: row.label,
            span: row.per.map(Into::into),
            actual: row.actual,
            target: row.target,
            source: row.source.into(),
        }
    }
}

/// One town of the compliance map.
#[derive(SimpleObject)]
pub struct TownComplianceRow {
    /// The town.
    town: OrgUnit,
    /// Its targets for the period with its actual values, by metric.
    rows: Vec<ComplianceRow>,
    /// The metrics whose target it missed (not those whose value is unknown).
    missed: Vec<String>,
}

impl From<TownCompliance> for TownComplianceRow {
    fn from(t: TownCompliance) -> Self {
        Self {
            missed: t.missed(),
            town: OrgUnit(t.town),
            rows: t.rows.into_iter().map(Into::into).collect(),
        }
    }
}

/// Reading compliance with the targets.
#[derive(Default)]
pub struct ComplianceQuery;

#[Object]
impl ComplianceQuery {
    /// One row per target in effect for the org unit and period (as `targetsInEffect`
    /// lists them, administrators' overrides included) with the unit's actual value and
    /// whether it is met. A month has its monthly targets and the levels to reach by the
    /// end of the span; the whole span (`2017-Q4`) those counted over it; a period that is
    /// neither (a week, a range) only the levels. Targets counted per month are therefore
    /// never judged over a quarter: ask for each month.
    async fn compliance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period judged, e.g. a month `2017-11` or a whole span `2017-Q4`.")]
        period: Period,
        #[graphql(desc = "The org unit's id.")] org_unit_id: Id,
    ) -> Result<Vec<ComplianceRow>> {
        let app = ctx.app()?;
        let id = org_unit_id.0;
        let rows = service::compliance(&app.db, &app.actor, &app.rules, id, &period).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The compliance map: every town (of one district, when given), in id order, with its
    /// rows as in `compliance` and the metrics it missed. One query per metric for all
    /// towns.
    #[graphql(complexity = "crate::pagination::cost(first, None, child_complexity)")]
    async fn compliance_board(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period judged, e.g. a month `2017-11` or a whole span `2017-Q4`.")]
        period: Period,
        #[graphql(
            desc = "The supervision district's id, to list only its towns; null for every town."
        )]
        district_id: Option<Id>,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<crate::pagination::Page<TownComplianceRow>> {
        let app = ctx.app()?;
        let district = district_id.map(Id::get);
        let towns =
            service::compliance_board(&app.db, &app.actor, &app.rules, &period, district).await?;
        crate::pagination::page_of(towns, first, after, Into::into)
    }
}
