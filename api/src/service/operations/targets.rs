//! Targets (目标) per org unit, period and metric. The values are policy, set by
//! administrators; this module checks their shape only.

use crate::service::filter::Filters;
use chrono::{Datelike, NaiveDate};
use entities::{org_unit, target};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Select, TransactionTrait,
};

use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
    service::find,
};

/// Longest metric name accepted.
const METRIC_MAX: usize = 64;

/// Which targets to list.
#[derive(Debug, Default, Clone)]
pub struct TargetFilter {
    pub org_unit_id: Option<i64>,
    /// Targets of any unit of this town.
    pub town_id: Option<i64>,
    pub district_id: Option<i64>,
    pub period: Option<String>,
    pub metric: Option<String>,
}

/// The targets a caller may list, filtered.
pub fn targets(_actor: &Actor, filter: &TargetFilter) -> Select<target::Entity> {
    use target::Column as C;
    let cond = Filters::new()
        .eq(C::OrgUnitId, filter.org_unit_id)
        .town(C::OrgUnitId, filter.town_id)
        .district(C::OrgUnitId, filter.district_id)
        .eq(C::Period, filter.period.as_deref().map(str::trim))
        .eq(C::Metric, filter.metric.as_deref().map(str::trim));
    target::Entity::find().filter(cond.build())
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
    _actor: &Actor,
    input: NewTarget,
) -> ServiceResult<target::Model> {
    let period = parse_period(&input.period)?;
    let metric = parse_metric(&input.metric)?;
    check_value(input.value)?;
    let tx = db.begin().await?;
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
    _actor: &Actor,
    id: i64,
    value: f64,
) -> ServiceResult<target::Model> {
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

/// The first and last day of a period written `2017-10` (month), `2017-W43` (ISO
/// week), `2017-Q4` (quarter) or `2017-10-01..2017-10-15` (days, inclusive); none
/// when the text is not a period.
pub fn period_bounds(period: &str) -> Option<(NaiveDate, NaiveDate)> {
    let period = period.trim();
    if let Some((from, to)) = period.split_once("..") {
        // Strict: the text must be exactly the canonical spelling (no `2017-1-1`).
        let strict = |s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .filter(|d| d.to_string() == s)
        };
        let (from, to) = (strict(from)?, strict(to)?);
        return (from <= to).then_some((from, to));
    }
    let (year, rest) = period.split_once('-')?;
    if year.len() != 4 || !year.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    let two_digits = |s: &str| {
        (s.len() == 2 && s.chars().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    if let Some(week) = rest.strip_prefix('W') {
        let week = two_digits(week)?;
        let monday = NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon)?;
        return Some((monday, monday + chrono::Duration::days(6)));
    }
    if let Some(quarter) = rest.strip_prefix('Q') {
        let q: u32 = match quarter {
            "1" => 1,
            "2" => 2,
            "3" => 3,
            "4" => 4,
            _ => return None,
        };
        let first = NaiveDate::from_ymd_opt(year, 3 * q - 2, 1)?;
        return Some((first, month_end(NaiveDate::from_ymd_opt(year, 3 * q, 1)?)?));
    }
    let month = two_digits(rest)?;
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    Some((first, month_end(first)?))
}

fn month_end(first: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

/// A period, checked and trimmed.
pub fn parse_period(period: &str) -> ServiceResult<String> {
    match period_bounds(period) {
        Some(_) => Ok(period.trim().to_owned()),
        None => Err(ServiceError::invalid(
            "period",
            format!(
                "`{}` is not a period: write a month `2017-10`, an ISO week `2017-W43`, a quarter `2017-Q4` \
                 or a day range `2017-10-01..2017-10-15`",
                period.trim()
            ),
        )),
    }
}

/// A metric name, lower_snake_case (e.g. `update_days`), checked and trimmed.
pub fn parse_metric(metric: &str) -> ServiceResult<String> {
    let metric = metric.trim();
    let ok = !metric.is_empty()
        && metric.len() <= METRIC_MAX
        && metric.starts_with(|c: char| c.is_ascii_lowercase())
        && !metric.ends_with('_')
        && !metric.contains("__")
        && metric
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(metric.to_owned())
    } else {
        Err(ServiceError::invalid(
            "metric",
            format!(
                "`{metric}` is not a metric name: use lower_snake_case (letters, digits, single `_`), \
                 at most {METRIC_MAX} characters, e.g. `update_days`"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods_are_months_weeks_quarters_or_day_ranges() {
        assert_eq!(
            period_bounds("2017-10"),
            Some((day(2017, 10, 1), day(2017, 10, 31)))
        );
        assert_eq!(
            period_bounds("2017-W43"),
            Some((day(2017, 10, 23), day(2017, 10, 29)))
        );
        assert_eq!(
            period_bounds("2017-Q4"),
            Some((day(2017, 10, 1), day(2017, 12, 31)))
        );
        assert_eq!(
            period_bounds("2017-10-01..2017-10-15"),
            Some((day(2017, 10, 1), day(2017, 10, 15)))
        );
        for bad in [
            "2017-13",
            "2017-W54",
            "2017-Q5",
            "2017-10-15..2017-10-01",
            "2017-1",
            "17-10",
            "2017/10",
            "2017-W7",
        ] {
            assert!(period_bounds(bad).is_none(), "{bad}");
        }
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
