//! Targets (目标) per org unit, period and metric: those the targets scripts declare and
//! the rows administrators set in their place (overrides). The values are policy; this
//! module checks the shape of a row only.

use crate::authz;
use crate::authz::Need;
use crate::id::Id;
use async_graphql::InputObject;

use entities::{org_unit, target};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Select,
};

use crate::service::rules::RuleStore;
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
    scoring::targets::{unit_targets, UnitTarget},
    service::{filter::Filters, find, snake_name},
};
use qii_engine::period::{Period, PeriodError};

/// Which targets to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct TargetFilter {
    /// Of this org unit.
    pub org_unit_id: Option<Id>,
    /// Of any unit of this town (the town itself included).
    pub town_id: Option<Id>,
    /// Of any unit of this district.
    pub district_id: Option<Id>,
    /// For exactly this period, e.g. `2017-10`.
    pub period: Option<String>,
    /// On this metric, e.g. `update_days`.
    pub metric: Option<String>,
}

/// The targets a caller may list, filtered.
pub fn targets(actor: &Actor, filter: &TargetFilter) -> ServiceResult<Select<target::Entity>> {
    let visible = authz::unit_condition(actor, target::Column::OrgUnitId, "targets")?;
    use target::Column as C;
    let cond = Filters::new()
        .eq(C::OrgUnitId, filter.org_unit_id)
        .town(C::OrgUnitId, filter.town_id)
        .district(C::OrgUnitId, filter.district_id)
        .eq(C::Period, filter.period.as_deref().map(str::trim))
        .eq(C::Metric, filter.metric.as_deref().map(str::trim));
    Ok(target::Entity::find().filter(cond.build()).filter(visible))
}

/// The targets of an org unit for a period, by metric: the values of the targets scripts
/// in effect for the period, each replaced by the row set for the unit, period and metric
/// when there is one. Empty outside every script's span unless rows were set.
pub async fn targets_in_effect(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: &RuleStore,
    org_unit_id: i64,
    period: &Period,
) -> ServiceResult<Vec<UnitTarget>> {
    let unit = find::<org_unit::Entity>(db, "org unit", org_unit_id).await?;
    authz::require_unit(db, actor, org_unit_id, "read its targets").await?;
    let registry = rules.current()?;
    let versions = registry.targets_for(period);
    Ok(unit_targets(db, &versions, period, &[unit]).await?)
}

/// A target to set.
#[derive(Debug, Clone)]
pub struct NewTarget {
    pub org_unit_id: i64,
    pub period: String,
    pub metric: String,
    pub value: f64,
}

/// Sets the target of a unit for a period and metric, replacing any earlier value.
pub async fn set_target(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewTarget,
) -> ServiceResult<target::Model> {
    actor.require(Need::CityAdmin, "set targets")?;
    let period = parse_period(&input.period)?.to_string();
    let metric = parse_metric(&input.metric)?;
    check_value(input.value)?;
    let tx = crate::db::write(db).await?;
    find::<org_unit::Entity>(&tx, "org unit", input.org_unit_id)
        .await
        .map_err(|_| {
            ServiceError::invalid(
                "orgUnitId",
                format!("org unit {} does not exist", input.org_unit_id),
            )
        })?;
    let existing = target::Entity::find()
        .filter(target::Column::OrgUnitId.eq(input.org_unit_id))
        .filter(target::Column::Period.eq(period.as_str()))
        .filter(target::Column::Metric.eq(metric.as_str()))
        .one(&tx)
        .await?;
    let saved = match existing {
        Some(current) => {
            let mut model: target::ActiveModel = current.into();
            model.value = Set(input.value);
            model.update(&tx).await?
        }
        None => {
            target::ActiveModel {
                org_unit_id: Set(input.org_unit_id),
                period: Set(period),
                metric: Set(metric),
                value: Set(input.value),
                ..Default::default()
            }
            .insert(&tx)
            .await?
        }
    };
    tx.commit().await?;
    Ok(saved)
}

/// Changes the value of a target.
pub async fn update_target(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    value: f64,
) -> ServiceResult<target::Model> {
    actor.require(Need::CityAdmin, "change targets")?;
    check_value(value)?;
    let current = find::<target::Entity>(db, "target", id).await?;
    let mut model: target::ActiveModel = current.into();
    model.value = Set(value);
    Ok(model.update(db).await?)
}

fn check_value(value: f64) -> ServiceResult<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "value",
            format!("a target value must be zero or more, got {value}"),
        ))
    }
}

/// A period, checked, in its canonical text (see [`Period`]).
pub fn parse_period(period: &str) -> ServiceResult<Period> {
    period
        .parse()
        .map_err(|err: PeriodError| ServiceError::invalid("period", err.to_string()))
}

/// A metric name, lower_snake_case (e.g. `update_days`), checked and trimmed.
pub fn parse_metric(metric: &str) -> ServiceResult<String> {
    snake_name("metric name", "update_days", metric)
        .map_err(|message| ServiceError::invalid("metric", message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_stored_in_their_canonical_text() {
        assert_eq!(parse_period(" 2017-W43 ").unwrap().to_string(), "2017-W43");
        let err = parse_period("2017-13").unwrap_err();
        assert_eq!(err.code(), crate::error::code::BAD_USER_INPUT);
    }

    #[test]
    fn metrics_are_lower_snake_case() {
        assert!(parse_metric("update_days").is_ok());
        assert!(parse_metric("experts2").is_ok());
        for bad in ["UpdateDays", "update-days", "_x", "x_", "a__b", "2x", ""] {
            assert!(parse_metric(bad).is_err(), "{bad}");
        }
    }
}
