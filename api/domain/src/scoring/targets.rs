//! The targets org units have for a period: those the targets scripts in effect declare,
//! worked out for each unit from its kind, registration and population coefficient, and
//! in their place any row of the `target` table an administrator set for that unit, period
//! and metric. One query of the `target` table per 10,000 units.

use std::collections::BTreeMap;

use entities::{enums::OrgUnitKind, org_unit, target};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use qii_engine::period::Period;
use qii_engine::rules::{
    targets::{Per, UnitFacts, UnitKind},
    TargetsVersion,
};

/// One target of one unit for a period.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitTarget {
    pub org_unit_id: i64,
    pub metric: String,
    /// The script's label; none for an override of a metric no script in effect declares.
    pub label: Option<String>,
    /// Over what the script counts it; none as for `label`.
    pub per: Option<Per>,
    pub value: f64,
    pub source: TargetSource,
}

/// Where a target's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetSource {
    /// A targets script.
    Rule {
        /// Path in the rules tree: `targets/2017q4.rhai`.
        script: String,
        /// SHA-256 of the script.
        hash: String,
        version: String,
    },
    /// A row of the `target` table, set by an administrator.
    Override { target_id: i64 },
}

/// Most units whose targets are read by listing their ids.
const LISTED_UNITS: usize = 1000;

/// Every target of `units` for `period`, by unit then metric: the scripts' values from
/// `versions` (those in effect for the period), replaced by the rows set for exactly this
/// period.
pub async fn unit_targets(
    db: &impl ConnectionTrait,
    versions: &[&TargetsVersion],
    period: &Period,
    units: &[org_unit::Model],
) -> Result<Vec<UnitTarget>, DbErr> {
    let mut by_unit: BTreeMap<(i64, String), UnitTarget> = BTreeMap::new();
    for unit in units {
        let facts = UnitFacts {
            kind: match unit.kind {
                OrgUnitKind::City => UnitKind::City,
                OrgUnitKind::Town => UnitKind::Town,
                OrgUnitKind::YouthHome => UnitKind::YouthHome,
                _ => UnitKind::Other,
            },
            registered: unit.registered,
            population_coefficient: unit.population_coefficient,
        };
        for version in versions {
            for (spec, value) in version.spec.targets_of(period, &facts) {
                by_unit.insert(
                    (unit.id, spec.metric.clone()),
                    UnitTarget {
                        org_unit_id: unit.id,
                        metric: spec.metric.clone(),
                        label: Some(spec.label.clone()),
                        per: Some(spec.per),
                        value,
                        source: TargetSource::Rule {
                            script: version.path.clone(),
                            hash: version.hash.clone(),
                            version: version.spec.version.clone(),
                        },
                    },
                );
            }
        }
    }
    let by_period = target::Entity::find().filter(target::Column::Period.eq(period.to_string()));
    let rows = if units.len() <= LISTED_UNITS {
        by_period
            .filter(target::Column::OrgUnitId.is_in(units.iter().map(|u| u.id)))
            .all(db)
            .await?
    } else {
        // A whole level: the period's targets in one statement, those of other units left
        // out here (a list of 100,000 bound ids costs more than the rows it saves).
        let wanted: std::collections::HashSet<i64> = units.iter().map(|u| u.id).collect();
        let mut rows = by_period.all(db).await?;
        rows.retain(|row| wanted.contains(&row.org_unit_id));
        rows
    };
    for row in rows {
        let source = TargetSource::Override { target_id: row.id };
        let key = (row.org_unit_id, row.metric);
        match by_unit.get_mut(&key) {
            Some(from_script) => {
                from_script.value = row.value;
                from_script.source = source;
            }
            None => {
                let (org_unit_id, metric) = key.clone();
                by_unit.insert(
                    key,
                    UnitTarget {
                        org_unit_id,
                        metric,
                        label: None,
                        per: None,
                        value: row.value,
                        source,
                    },
                );
            }
        }
    }
    Ok(by_unit.into_values().collect())
}
