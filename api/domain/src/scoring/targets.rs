//! The targets org units have for a period: those the targets scripts in effect declare,
//! worked out for each unit from its kind, registration and population coefficient, and
//! in their place any row of the `target` table an administrator set for that unit, period
//! and metric. One query of the `target` table per 10,000 units.

use std::collections::{BTreeMap, HashMap};

use entities::{enums::OrgUnitKind, org_unit, target};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query},
    ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect,
};

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

/// What the targets scripts read of a unit.
fn facts(kind: OrgUnitKind, registered: bool, population_coefficient: Option<f64>) -> UnitFacts {
    UnitFacts {
        kind: match kind {
            OrgUnitKind::City => UnitKind::City,
            OrgUnitKind::Town => UnitKind::Town,
            OrgUnitKind::YouthHome => UnitKind::YouthHome,
            _ => UnitKind::Other,
        },
        registered,
        population_coefficient,
    }
}

/// A unit of a whole level, as its figures and targets are read: the columns they need.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct LevelUnit {
    pub id: i64,
    /// What people call it, for rankings.
    pub name: String,
    pub kind: OrgUnitKind,
    pub registered: bool,
    pub population_coefficient: Option<f64>,
}

/// Every unit of `kind`, by id.
pub(super) async fn level_units(
    db: &impl ConnectionTrait,
    kind: OrgUnitKind,
) -> Result<Vec<LevelUnit>, DbErr> {
    org_unit::Entity::find()
        .select_only()
        .columns([
            org_unit::Column::Id,
            org_unit::Column::Name,
            org_unit::Column::Kind,
            org_unit::Column::Registered,
            org_unit::Column::PopulationCoefficient,
        ])
        .filter(org_unit::Column::Kind.eq(kind))
        .order_by_asc(org_unit::Column::Id)
        .into_model::<LevelUnit>()
        .all(db)
        .await
}

/// The rows an administrator set for `period` on units of `kind`: (unit, metric, value).
pub(super) async fn level_overrides(
    db: &impl ConnectionTrait,
    period: &Period,
    kind: OrgUnitKind,
) -> Result<Vec<(i64, String, f64)>, DbErr> {
    target::Entity::find()
        .select_only()
        .columns([
            target::Column::OrgUnitId,
            target::Column::Metric,
            target::Column::Value,
        ])
        .filter(target::Column::Period.eq(period.to_string()))
        .filter(
            target::Column::OrgUnitId.in_subquery(
                Query::select()
                    .column(org_unit::Column::Id)
                    .from(org_unit::Entity)
                    .and_where(Expr::col(org_unit::Column::Kind).eq(kind.to_value()))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await
}

/// The targets of a whole level, metric by metric, a value per unit in the order of
/// `units`: what [`unit_targets`] gives each unit (the scripts' values replaced by the
/// `overrides` of [`level_overrides`]), without its sources.
pub(super) fn level_columns(
    versions: &[&TargetsVersion],
    period: &Period,
    units: &[LevelUnit],
    overrides: Vec<(i64, String, f64)>,
) -> HashMap<String, Vec<Option<f64>>> {
    fn column<'a>(
        out: &'a mut HashMap<String, Vec<Option<f64>>>,
        metric: &str,
        units: usize,
    ) -> &'a mut Vec<Option<f64>> {
        if !out.contains_key(metric) {
            out.insert(metric.to_owned(), vec![None; units]);
        }
        out.get_mut(metric).expect("inserted above")
    }
    let mut out: HashMap<String, Vec<Option<f64>>> = HashMap::new();
    for (i, unit) in units.iter().enumerate() {
        let facts = facts(unit.kind, unit.registered, unit.population_coefficient);
        for version in versions {
            for (spec, value) in version.spec.targets_of(period, &facts) {
                column(&mut out, &spec.metric, units.len())[i] = Some(value);
            }
        }
    }
    let position: HashMap<i64, usize> = units.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
    for (unit, metric, value) in overrides {
        if let Some(&i) = position.get(&unit) {
            column(&mut out, &metric, units.len())[i] = Some(value);
        }
    }
    out
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
        let facts = facts(unit.kind, unit.registered, unit.population_coefficient);
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
