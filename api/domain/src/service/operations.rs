//! The measured side of operations: daily valid visits (有效访问量) imported from the
//! platform's logs, and targets (目标) set per org unit, period and metric.
//!
//! The target *values* are policy and come from administrators; this module only checks
//! their shape (period syntax, metric name, non-negative value).

use crate::authz;
use crate::authz::Need;
use crate::id::Id;
use async_graphql::InputObject;

mod targets;

pub use targets::*;

use crate::service::filter::Filters;
use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entities::{daily_visit, org_unit};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    QueryFilter, Select,
};

use crate::{
    error::{RowRejection, ServiceError, ServiceResult},
    identity::Actor,
};
use qii_engine::time::local_day;

/// Most rows one import may carry: a month of every unit fits many times over; the
/// bound keeps one request from holding the database for long.
pub const MAX_VISIT_ROWS: usize = 20_000;
/// Rows per INSERT statement, well under SQLite's bound on parameters.
const INSERT_CHUNK: usize = 1_000;

/// Which daily visit rows to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct DailyVisitFilter {
    /// Of this org unit.
    pub org_unit_id: Option<Id>,
    /// Of any unit of this town (the town itself included).
    pub town_id: Option<Id>,
    /// Of any unit of this district.
    pub district_id: Option<Id>,
    /// On or after this day.
    pub from: Option<NaiveDate>,
    /// On or before this day.
    pub to: Option<NaiveDate>,
}

/// The daily visit rows a caller may list, filtered.
pub fn daily_visits(
    actor: &Actor,
    filter: &DailyVisitFilter,
) -> ServiceResult<Select<daily_visit::Entity>> {
    let visible = authz::unit_condition(actor, daily_visit::Column::OrgUnitId, "daily visits")?;
    use daily_visit::Column as C;
    let cond = Filters::new()
        .eq(C::OrgUnitId, filter.org_unit_id)
        .town(C::OrgUnitId, filter.town_id)
        .district(C::OrgUnitId, filter.district_id)
        .days(C::Day, filter.from, filter.to);
    Ok(daily_visit::Entity::find()
        .filter(cond.build())
        .filter(visible))
}

/// One row of a visit import.
#[derive(Debug, Clone)]
pub struct VisitRow {
    /// The org unit; none when the caller's id could not be read as one.
    pub org_unit_id: Option<i64>,
    /// The Asia/Shanghai day counted.
    pub day: NaiveDate,
    /// Valid visits that day.
    pub visits: i64,
}

/// What an accepted import did.
#[derive(Debug, Clone)]
pub struct VisitImport {
    /// Rows that were new.
    pub inserted: usize,
    /// Rows that replaced an earlier figure for the same unit and day.
    pub updated: usize,
    /// The stored rows, in the order of the batch.
    pub rows: Vec<daily_visit::Model>,
}

/// Records daily visits, replacing the figure of a unit and day already stored.
/// All rows are checked first: if any is invalid, nothing is written and
/// [`ServiceError::Rows`] lists every problem.
pub async fn record_daily_visits(
    db: &DatabaseConnection,
    actor: &Actor,
    rows: Vec<VisitRow>,
) -> ServiceResult<VisitImport> {
    actor.require(Need::CityAdmin, "record daily visits (platform statistics)")?;
    if rows.len() > MAX_VISIT_ROWS {
        return Err(ServiceError::invalid(
            "rows",
            format!(
                "{} rows sent; split the import into batches of at most {MAX_VISIT_ROWS}",
                rows.len()
            ),
        ));
    }
    let unit_ids: HashSet<i64> = rows.iter().filter_map(|r| r.org_unit_id).collect();
    let known: HashSet<i64> = if unit_ids.is_empty() {
        HashSet::new()
    } else {
        org_unit::Entity::find()
            .filter(org_unit::Column::Id.is_in(unit_ids.iter().copied()))
            .all(db)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect()
    };
    let rejections = check_rows(&rows, &known, local_day(Utc::now()));
    if !rejections.is_empty() {
        return Err(ServiceError::Rows(rejections));
    }
    // Every row now has a known unit.
    let keys: Vec<(i64, NaiveDate)> = rows
        .iter()
        .filter_map(|r| r.org_unit_id.map(|u| (u, r.day)))
        .collect();
    let now = Utc::now();
    let tx = crate::db::write(db).await?;
    let before = stored(&tx, &keys).await?;
    let updated = keys.iter().filter(|k| before.contains_key(k)).count();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let models = chunk.iter().filter_map(|r| {
            r.org_unit_id.map(|unit| daily_visit::ActiveModel {
                org_unit_id: Set(unit),
                day: Set(r.day),
                visits: Set(r.visits),
                imported_at: Set(now),
                ..Default::default()
            })
        });
        daily_visit::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([daily_visit::Column::OrgUnitId, daily_visit::Column::Day])
                    .update_columns([daily_visit::Column::Visits, daily_visit::Column::ImportedAt])
                    .to_owned(),
            )
            .exec_without_returning(&tx)
            .await?;
    }
    let mut after = stored(&tx, &keys).await?;
    tx.commit().await?;
    let rows = keys.iter().filter_map(|k| after.remove(k)).collect();
    Ok(VisitImport {
        inserted: keys.len() - updated,
        updated,
        rows,
    })
}

/// Checks every row of an import against the known units and today's date.
fn check_rows(rows: &[VisitRow], known: &HashSet<i64>, today: NaiveDate) -> Vec<RowRejection> {
    let mut first_seen: HashMap<(i64, NaiveDate), usize> = HashMap::new();
    let mut rejections = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let mut refuse = |field, reason: String| {
            rejections.push(RowRejection::new(index, field, reason));
        };
        match row.org_unit_id {
            None => refuse("orgUnitId", "not a valid id".to_owned()),
            Some(unit) if !known.contains(&unit) => {
                refuse("orgUnitId", format!("org unit {unit} does not exist"))
            }
            Some(unit) => {
                if let Some(first) = first_seen.get(&(unit, row.day)) {
                    refuse(
                        "day",
                        format!("duplicates row {} (same org unit and day)", first + 1),
                    );
                } else {
                    first_seen.insert((unit, row.day), index);
                }
            }
        }
        if row.visits < 0 {
            refuse(
                "visits",
                format!("visits must be zero or more, got {}", row.visits),
            );
        }
        if row.day > today {
            refuse("day", format!("{} is in the future", row.day));
        }
    }
    rejections
}

/// The stored rows for the given (unit, day) keys.
async fn stored(
    db: &impl sea_orm::ConnectionTrait,
    keys: &[(i64, NaiveDate)],
) -> ServiceResult<HashMap<(i64, NaiveDate), daily_visit::Model>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let units: HashSet<i64> = keys.iter().map(|k| k.0).collect();
    let days: HashSet<NaiveDate> = keys.iter().map(|k| k.1).collect();
    let wanted: HashSet<&(i64, NaiveDate)> = keys.iter().collect();
    // Units × days may hold rows outside the batch; they are dropped here.
    let rows = daily_visit::Entity::find()
        .filter(daily_visit::Column::OrgUnitId.is_in(units))
        .filter(daily_visit::Column::Day.is_in(days))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.org_unit_id, r.day), r))
        .filter(|(k, _)| wanted.contains(k))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn every_bad_row_of_an_import_is_listed() {
        let known: HashSet<i64> = [1, 2].into();
        let row = |unit: Option<i64>, d: u32, visits: i64| VisitRow {
            org_unit_id: unit,
            day: day(2017, 10, d),
            visits,
        };
        let rows = vec![
            row(Some(1), 1, 10),
            row(Some(9), 1, 10),
            row(Some(1), 1, 5),
            row(Some(2), 2, -1),
            row(None, 3, 1),
        ];
        let rejected = check_rows(&rows, &known, day(2017, 12, 31));
        let indexes: Vec<usize> = rejected.iter().map(|r| r.index).collect();
        assert_eq!(indexes, vec![1, 2, 3, 4]);
        assert!(rejected[1].reason.contains("duplicates row 1"));
        assert_eq!(rejected[1].field, Some("day"));
    }
}
