//! Daily valid visits (有效访问量) of each org unit, from the platform's logs: recorded
//! through the API (`recordDailyVisits`, the rows already typed) or imported from a file
//! (`qii import --visits`, the rows as text). Both are checked by the same rules and
//! written by the same code: all rows or none, in one transaction, a unit and day already
//! stored taking the new figure.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entities::{daily_visit, org_unit};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect, Select,
};

use crate::{
    authz::{self, Need},
    error::{RowRejection, ServiceError, ServiceResult},
    id::Id,
    identity::Actor,
    service::{figures::resolve_units, filter::Filters},
};
use qii_engine::time::local_day;

/// Most rows one API request may carry: a month of every unit fits many times over; the
/// bound keeps one request from holding the database for long. A file imported from the
/// command line has no such bound.
pub const MAX_VISIT_ROWS: usize = 20_000;
/// Rows per statement: an INSERT binds four parameters a row and a look-up of stored rows
/// at most two, well under SQLite's bound on parameters.
const CHUNK: usize = 1_000;

/// Which daily visit rows to list.
#[derive(Debug, Default, Clone, async_graphql::InputObject)]
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

/// One row recorded through the API.
#[derive(Debug, Clone)]
pub struct VisitRow {
    /// The org unit; none when the caller's id could not be read as one.
    pub org_unit_id: Option<i64>,
    /// The Asia/Shanghai day counted.
    pub day: NaiveDate,
    /// Valid visits that day.
    pub visits: i64,
}

/// One row of a file, as written: the service reads and checks every part of it.
#[derive(Debug, Clone, Default)]
pub struct VisitText {
    /// The org unit: its code (e.g. `town-shijie`) or its id, as figure imports name it.
    pub org_unit: String,
    /// The Asia/Shanghai day, `2017-10-01`.
    pub day: String,
    /// Valid visits that day: a whole number, zero or more.
    pub visits: String,
}

/// What an accepted API request did.
#[derive(Debug, Clone)]
pub struct VisitImport {
    /// Rows that were new.
    pub inserted: usize,
    /// Rows that replaced an earlier figure for the same unit and day.
    pub updated: usize,
    /// The stored rows, in the order of the batch.
    pub rows: Vec<daily_visit::Model>,
}

/// What an accepted file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitsImported {
    /// Rows that were new.
    pub inserted: usize,
    /// Rows that replaced an earlier figure for the same unit and day.
    pub updated: usize,
    /// Org units the file gave visits of.
    pub units: usize,
    /// The first and last day of the file; none for a file without rows.
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// The valid visits of every row, added up.
    pub visits: i64,
}

/// A row whose every part could be read; its problems are listed apart.
#[derive(Debug, Clone, Copy, Default)]
struct Read {
    unit: Option<i64>,
    day: Option<NaiveDate>,
    visits: Option<i64>,
}

/// A row that passed every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Checked {
    unit: i64,
    day: NaiveDate,
    visits: i64,
}

/// Records daily visits sent through the API, replacing the figure of a unit and day
/// already stored. All rows are checked first: if any is invalid, nothing is written and
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
    let known = known_units(db, rows.iter().filter_map(|r| r.org_unit_id)).await?;
    let mut rejections = Vec::new();
    let read = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let unit = match row.org_unit_id {
                None => None,
                Some(unit) if known.contains(&unit) => Some(unit),
                Some(_) => None,
            };
            if unit.is_none() {
                let reason = match row.org_unit_id {
                    None => "not a valid id".to_owned(),
                    Some(unit) => format!("org unit {unit} does not exist"),
                };
                rejections.push(RowRejection::new(index, "orgUnitId", reason));
            }
            Read {
                unit,
                day: Some(row.day),
                visits: Some(row.visits),
            }
        })
        .collect();
    let checked = check_rows(read, rejections, local_day(Utc::now()))?;
    let tx = crate::db::write(db).await?;
    let (inserted, updated) = store(&tx, &checked, &|_| {}).await?;
    let keys: Vec<(i64, NaiveDate)> = checked.iter().map(|r| (r.unit, r.day)).collect();
    let mut after = stored(&tx, &keys).await?;
    tx.commit().await?;
    Ok(VisitImport {
        inserted,
        updated,
        rows: keys.iter().filter_map(|k| after.remove(k)).collect(),
    })
}

/// Imports daily visits from a file's rows: every row is read and checked first, and if
/// any is refused nothing is written and [`ServiceError::Rows`] lists every problem (a
/// row's org unit named by code or id, the day, the count, the same unit and day twice);
/// otherwise all rows are written in one transaction. `written` is told how many rows each
/// statement wrote, for a progress display.
pub async fn import_daily_visits(
    db: &DatabaseConnection,
    actor: &Actor,
    rows: &[VisitText],
    written: &(dyn Fn(usize) + Sync),
) -> ServiceResult<VisitsImported> {
    actor.require(Need::CityAdmin, "import daily visits (platform statistics)")?;
    let units = resolve_units(db, rows.iter().map(|r| r.org_unit.as_str())).await?;
    let mut rejections = Vec::new();
    let read = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let mut refuse =
                |field, reason: String| rejections.push(RowRejection::new(index, field, reason));
            let unit = read_unit(&row.org_unit, &units).map_err(|r| refuse("orgUnit", r));
            let day = read_day(&row.day).map_err(|r| refuse("day", r));
            let visits = read_count(&row.visits).map_err(|r| refuse("visits", r));
            Read {
                unit: unit.ok(),
                day: day.ok(),
                visits: visits.ok(),
            }
        })
        .collect();
    let checked = check_rows(read, rejections, local_day(Utc::now()))?;
    let tx = crate::db::write(db).await?;
    let (inserted, updated) = store(&tx, &checked, written).await?;
    tx.commit().await?;
    let days: BTreeSet<NaiveDate> = checked.iter().map(|r| r.day).collect();
    Ok(VisitsImported {
        inserted,
        updated,
        units: checked.iter().map(|r| r.unit).collect::<HashSet<_>>().len(),
        days: days.first().zip(days.last()).map(|(a, b)| (*a, *b)),
        visits: checked.iter().map(|r| r.visits).sum(),
    })
}

/// The ids among `ids` that name an org unit.
async fn known_units(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> ServiceResult<HashSet<i64>> {
    let ids: BTreeSet<i64> = ids.collect();
    let mut known = HashSet::new();
    let ids: Vec<i64> = ids.into_iter().collect();
    for chunk in ids.chunks(CHUNK) {
        let found: Vec<i64> = org_unit::Entity::find()
            .select_only()
            .column(org_unit::Column::Id)
            .filter(org_unit::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        known.extend(found);
    }
    Ok(known)
}

fn read_unit(text: &str, units: &HashMap<String, i64>) -> Result<i64, String> {
    match text.trim() {
        "" => Err("the org unit is missing: give its code (e.g. `town-shijie`) or id".into()),
        name => units
            .get(name)
            .copied()
            .ok_or_else(|| format!("no org unit has the code or id `{name}`")),
    }
}

fn read_day(text: &str) -> Result<NaiveDate, String> {
    match text.trim() {
        "" => Err("the day is missing: write it as YYYY-MM-DD, e.g. 2017-10-01".into()),
        day => NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| format!("`{day}` is not a day: write it as YYYY-MM-DD, e.g. 2017-10-01")),
    }
}

/// A count of visits: a whole number (its sign checked with the others).
fn read_count(text: &str) -> Result<i64, String> {
    match text.trim() {
        "" => Err("the count of visits is missing".into()),
        count => count
            .parse()
            .map_err(|_| format!("`{count}` is not a whole number of visits")),
    }
}

/// The checks every row meets, however it came: zero visits or more, a day not in the
/// future, one row per unit and day. Problems found while reading (`rejections`) are
/// listed with these, row by row.
fn check_rows(
    rows: Vec<Read>,
    mut rejections: Vec<RowRejection>,
    today: NaiveDate,
) -> Result<Vec<Checked>, ServiceError> {
    let mut first_seen: HashMap<(i64, NaiveDate), usize> = HashMap::new();
    let mut checked = Vec::with_capacity(rows.len());
    for (index, row) in rows.into_iter().enumerate() {
        let mut refuse = |field, reason: String| {
            rejections.push(RowRejection::new(index, field, reason));
        };
        if let Some(visits) = row.visits.filter(|v| *v < 0) {
            refuse(
                "visits",
                format!("visits must be zero or more, got {visits}"),
            );
        }
        if let Some(day) = row.day.filter(|d| *d > today) {
            refuse("day", format!("{day} is in the future"));
        }
        if let (Some(unit), Some(day)) = (row.unit, row.day) {
            match first_seen.get(&(unit, day)) {
                Some(first) => refuse(
                    "day",
                    format!("duplicates row {} (same org unit and day)", first + 1),
                ),
                None => {
                    first_seen.insert((unit, day), index);
                }
            }
            if let Some(visits) = row.visits {
                checked.push(Checked { unit, day, visits });
            }
        }
    }
    if rejections.is_empty() {
        Ok(checked)
    } else {
        // Row by row; a row's problems in the order they were found.
        rejections.sort_by_key(|r| r.index);
        Err(ServiceError::Rows(rejections))
    }
}

/// Writes the rows in `tx`, replacing the figure of a unit and day already stored: how
/// many were new and how many replaced one.
async fn store(
    tx: &impl ConnectionTrait,
    rows: &[Checked],
    written: &(dyn Fn(usize) + Sync),
) -> ServiceResult<(usize, usize)> {
    let now = Utc::now();
    let mut updated = 0;
    for chunk in rows.chunks(CHUNK) {
        let keys: Vec<(i64, NaiveDate)> = chunk.iter().map(|r| (r.unit, r.day)).collect();
        updated += stored(tx, &keys).await?.len();
        let models = chunk.iter().map(|r| daily_visit::ActiveModel {
            org_unit_id: Set(r.unit),
            day: Set(r.day),
            visits: Set(r.visits),
            imported_at: Set(now),
            ..Default::default()
        });
        daily_visit::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([daily_visit::Column::OrgUnitId, daily_visit::Column::Day])
                    .update_columns([daily_visit::Column::Visits, daily_visit::Column::ImportedAt])
                    .to_owned(),
            )
            .exec_without_returning(tx)
            .await?;
        written(chunk.len());
    }
    Ok((rows.len() - updated, updated))
}

/// The stored rows for the given (unit, day) keys.
async fn stored(
    db: &impl ConnectionTrait,
    keys: &[(i64, NaiveDate)],
) -> ServiceResult<HashMap<(i64, NaiveDate), daily_visit::Model>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(CHUNK) {
        let units: HashSet<i64> = chunk.iter().map(|k| k.0).collect();
        let days: HashSet<NaiveDate> = chunk.iter().map(|k| k.1).collect();
        let wanted: HashSet<&(i64, NaiveDate)> = chunk.iter().collect();
        // Units × days may hold rows outside the chunk; they are dropped here.
        let rows = daily_visit::Entity::find()
            .filter(daily_visit::Column::OrgUnitId.is_in(units))
            .filter(daily_visit::Column::Day.is_in(days))
            .all(db)
            .await?;
        found.extend(
            rows.into_iter()
                .map(|r| ((r.org_unit_id, r.day), r))
                .filter(|(k, _)| wanted.contains(k)),
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn rejected(result: Result<Vec<Checked>, ServiceError>) -> Vec<RowRejection> {
        match result {
            Err(ServiceError::Rows(rows)) => rows,
            other => panic!("expected rejected rows, got {other:?}"),
        }
    }

    #[test]
    fn every_bad_row_of_an_import_is_listed() {
        let row = |unit: Option<i64>, d: u32, visits: i64| Read {
            unit,
            day: Some(day(2017, 10, d)),
            visits: Some(visits),
        };
        let rows = vec![
            row(Some(1), 1, 10),
            row(Some(1), 1, 5),
            row(Some(2), 2, -1),
            row(Some(2), 3, 1),
        ];
        let unreadable = vec![RowRejection::new(3, "orgUnitId", "not a valid id")];
        let rejected = rejected(check_rows(rows, unreadable, day(2017, 10, 2)));
        let found: Vec<(usize, Option<&str>)> =
            rejected.iter().map(|r| (r.index, r.field)).collect();
        assert_eq!(
            found,
            vec![
                (1, Some("day")),
                (2, Some("visits")),
                (3, Some("orgUnitId")),
                (3, Some("day")),
            ]
        );
        assert!(rejected[0].reason.contains("duplicates row 1"));
        assert!(rejected[3].reason.contains("in the future"));
    }

    #[test]
    fn a_files_cells_are_read_as_a_unit_a_day_and_a_whole_count() {
        let units = HashMap::from([("town-shijie".to_owned(), 2), ("7".to_owned(), 7)]);
        assert_eq!(read_unit(" town-shijie ", &units), Ok(2));
        assert_eq!(read_unit("7", &units), Ok(7));
        assert!(read_unit("nowhere", &units)
            .unwrap_err()
            .contains("`nowhere`"));
        assert!(read_unit(" ", &units).unwrap_err().contains("missing"));
        assert_eq!(read_day("2017-10-01"), Ok(day(2017, 10, 1)));
        for bad in ["2017-13-01", "2017/10/01", "01-10-2017", "2017-02-30"] {
            assert!(read_day(bad).unwrap_err().contains("is not a day"), "{bad}");
        }
        assert!(read_day("").unwrap_err().contains("missing"));
        assert_eq!(read_count(" 120 "), Ok(120));
        assert_eq!(
            read_count("-3"),
            Ok(-3),
            "the sign is checked with the other rows"
        );
        for bad in ["12.5", "1e3", "many", "99999999999999999999"] {
            assert!(
                read_count(bad).unwrap_err().contains("whole number"),
                "{bad}"
            );
        }
        assert!(read_count("").unwrap_err().contains("missing"));
    }
}
