//! Compliance (目标完成情况): each target in effect for a unit and period beside the unit's
//! actual value, and the city's board of towns × targets. The targets are those of
//! `targetsInEffect` (scripts and administrators' overrides); the actual values come from
//! one grouped query per metric for every unit of the level ([`crate::scoring::compliance`]).

use crate::authz;
use crate::authz::Need;

use std::collections::{HashMap, HashSet};

use entities::{enums::OrgUnitKind, org_unit};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::service::rules::RuleStore;
use crate::{
    error::ServiceResult,
    identity::Actor,
    scoring::{
        compliance::{actuals, Window, RATES},
        targets::{unit_targets, TargetSource},
        Level,
    },
    service::find,
};
use qii_engine::period::Period;
use qii_engine::rules::{
    targets::{ActivityCount, Per},
    Registry,
};

/// One target of one unit beside its actual value.
#[derive(Debug, Clone)]
pub struct ComplianceRow {
    pub org_unit_id: i64,
    pub metric: String,
    /// The script's label; none for an override of a metric no script declares.
    pub label: Option<String>,
    pub per: Option<Per>,
    /// None when the platform's data does not give the metric (or a rate has nothing to
    /// divide).
    pub actual: Option<f64>,
    pub target: f64,
    pub source: TargetSource,
}

impl ComplianceRow {
    /// Whether the actual value reaches the target (targets are thresholds to reach);
    /// none when the actual value is unknown.
    pub fn met(&self) -> Option<bool> {
        self.actual.map(|a| a >= self.target)
    }

    /// How far the actual value is below the target: zero when met.
    pub fn gap(&self) -> Option<f64> {
        self.actual.map(|a| (self.target - a).max(0.0))
    }
}

/// One town of the board: its rows and the metrics it missed.
pub struct TownCompliance {
    pub town: org_unit::Model,
    pub rows: Vec<ComplianceRow>,
}

impl TownCompliance {
    /// The metrics whose target the town missed (unknown values are not counted as missed).
    pub fn missed(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.met() == Some(false))
            .map(|r| r.metric.clone())
            .collect()
    }
}

/// The compliance rows of one org unit for a period: one per target in effect.
pub async fn compliance(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    org_unit_id: i64,
    period: &Period,
) -> ServiceResult<Vec<ComplianceRow>> {
    let unit = find::<org_unit::Entity>(db, "org unit", org_unit_id).await?;
    authz::require_unit(db, actor, org_unit_id, "read its target compliance").await?;
    let level = match unit.kind {
        OrgUnitKind::Town => Level::Town,
        kind => Level::Kind(kind),
    };
    let registry = rules.current()?;
    rows_of(db, &registry, period, level, &[unit]).await
}

/// Every town (of one district, when given) with its compliance rows for a period.
pub async fn compliance_board(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    period: &Period,
    district_id: Option<i64>,
) -> ServiceResult<Vec<TownCompliance>> {
    actor.require(Need::CityAdmin, "read every town's compliance")?;
    let mut towns = org_unit::Entity::find().filter(org_unit::Column::Kind.eq(OrgUnitKind::Town));
    if let Some(district) = district_id {
        find::<entities::district::Entity>(db, "district", district).await?;
        towns = towns.filter(org_unit::Column::DistrictId.eq(district));
    }
    let towns = towns.order_by_asc(org_unit::Column::Id).all(db).await?;
    let registry = rules.current()?;
    let mut by_town: HashMap<i64, Vec<ComplianceRow>> = HashMap::new();
    for row in rows_of(db, &registry, period, Level::Town, &towns).await? {
        by_town.entry(row.org_unit_id).or_default().push(row);
    }
    Ok(towns
        .into_iter()
        .map(|town| TownCompliance {
            rows: by_town.remove(&town.id).unwrap_or_default(),
            town,
        })
        .collect())
}

/// The rows of `units` (all of `level`) for `period`: their targets, and the actual value
/// of each metric for every unit of the level, one query per metric.
async fn rows_of(
    db: &DatabaseConnection,
    registry: &Registry,
    period: &Period,
    level: Level,
    units: &[org_unit::Model],
) -> ServiceResult<Vec<ComplianceRow>> {
    let versions = registry.targets_for(period);
    let targets = unit_targets(db, &versions, period, units).await?;
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let metrics: HashSet<String> = targets.iter().map(|t| t.metric.clone()).collect();
    let span_start = versions
        .iter()
        .map(|v| v.spec.effective_from.first_day())
        .min()
        .unwrap_or_else(|| period.first_day());
    let window = Window { period, span_start };
    let activity_rules = registry.activity_rules()?;
    // The counts of activities the targets in force declare, by metric.
    let activity_counts: HashMap<String, ActivityCount> = versions
        .iter()
        .flat_map(|v| &v.spec.targets)
        .filter_map(|t| Some((t.metric.clone(), t.activities.clone()?)))
        .collect();
    let actual = actuals(
        db,
        level,
        &window,
        &activity_rules,
        &metrics,
        &activity_counts,
    )
    .await?;
    Ok(targets
        .into_iter()
        .map(|t| ComplianceRow {
            actual: actual.get(&t.metric).and_then(|values| {
                // A count with no row is zero; a rate with nothing to divide is unknown.
                let absent = (!RATES.contains(&t.metric.as_str())).then_some(0.0);
                values.get(&t.org_unit_id).copied().or(absent)
            }),
            org_unit_id: t.org_unit_id,
            metric: t.metric,
            label: t.label,
            per: t.per,
            target: t.value,
            source: t.source,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(actual: Option<f64>, target: f64) -> ComplianceRow {
        ComplianceRow {
            org_unit_id: 1,
            metric: "update_days".into(),
            label: None,
            per: None,
            actual,
            target,
            source: TargetSource::Override { target_id: 1 },
        }
    }

    #[test]
    fn a_target_is_met_from_its_value_on_and_the_gap_is_what_is_missing() {
        assert_eq!(
            (row(Some(19.0), 20.0).met(), row(Some(19.0), 20.0).gap()),
            (Some(false), Some(1.0))
        );
        assert_eq!(
            (row(Some(20.0), 20.0).met(), row(Some(20.0), 20.0).gap()),
            (Some(true), Some(0.0))
        );
        assert_eq!(
            (row(Some(25.0), 20.0).met(), row(Some(25.0), 20.0).gap()),
            (Some(true), Some(0.0))
        );
        assert_eq!((row(None, 0.5).met(), row(None, 0.5).gap()), (None, None));
    }
}
