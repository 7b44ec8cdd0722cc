//! Figures from other systems (e.g. visits counted by a partner's platform), imported in
//! bulk per org unit, period and key for rule scripts to name beside the figures the
//! platform computes itself ([`COMPUTED_FIGURES`]).
//!
//! An import is all or nothing and repeatable: every row is checked before anything is
//! written, and a unit, period and key already stored takes the new value.

use crate::authz;
use crate::authz::Need;
use crate::id::Id;
use async_graphql::InputObject;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::Utc;
use entities::{imported_figure, org_unit};
use sea_orm::{
    sea_query::{ExprTrait, OnConflict},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    Select,
};

use crate::{
    error::{RowRejection, ServiceError, ServiceResult},
    identity::Actor,
    scoring::COMPUTED_FIGURES,
    service::{filter::Filters, opt_text, snake_name},
};
use qii_engine::period::Period;

/// Rows per statement: an INSERT binds six parameters a row, which keeps it under SQLite's
/// 32,766; the look-up of stored rows binds at most three a row.
const CHUNK: usize = 5_000;
/// Longest source name accepted.
const SOURCE_MAX: usize = 100;

/// One row of an import, as sent: the service checks every part of it.
#[derive(Debug, Clone)]
pub struct FigureRow {
    /// The org unit: its code (e.g. `town-shijie`) or its id. A code wins over an id.
    pub org_unit: String,
    /// The period, e.g. `2017-10`.
    pub period: String,
    /// The figure's key, lower_snake_case, e.g. `provincial_visits`.
    pub key: String,
    /// The value; `Err` holds text that should have been a number (read from a file).
    pub value: Result<f64, String>,
}

/// What an accepted import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureImport {
    /// Rows that were new.
    pub inserted: usize,
    /// Rows that replaced the value stored for the same org unit, period and key.
    pub replaced: usize,
    /// The keys of the rows, sorted: figures a rule script can now name.
    pub keys: Vec<String>,
}

/// Which imported figures to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct ImportedFigureFilter {
    /// Of this org unit.
    pub org_unit_id: Option<Id>,
    /// Of any unit of this town (the town itself included).
    pub town_id: Option<Id>,
    /// Of any unit of this district.
    pub district_id: Option<Id>,
    /// For exactly this period.
    pub period: Option<Period>,
    /// With this key, e.g. `provincial_visits`.
    pub key: Option<String>,
    /// Imported from this source.
    pub source: Option<String>,
}

/// The imported figures a caller may list, filtered.
pub fn imported_figures(
    actor: &Actor,
    filter: &ImportedFigureFilter,
) -> ServiceResult<Select<imported_figure::Entity>> {
    let visible = authz::unit_condition(
        actor,
        imported_figure::Column::OrgUnitId,
        "imported figures",
    )?;
    use imported_figure::Column as C;
    let cond = Filters::new()
        .eq(C::OrgUnitId, filter.org_unit_id)
        .town(C::OrgUnitId, filter.town_id)
        .district(C::OrgUnitId, filter.district_id)
        .eq(C::Period, filter.period.map(|p| p.to_string()))
        .eq(C::Key, filter.key.as_deref().map(str::trim))
        .eq(C::Source, filter.source.as_deref().map(str::trim));
    Ok(imported_figure::Entity::find()
        .filter(cond.build())
        .filter(visible))
}

/// A row that passed every check.
#[derive(Debug, Clone, PartialEq)]
struct Checked {
    org_unit_id: i64,
    /// Canonical text.
    period: String,
    key: String,
    value: f64,
}

/// Imports figures, replacing the value stored for a unit, period and key. Every row is
/// checked first: if any is invalid, nothing is written and [`ServiceError::Rows`] lists
/// every problem; otherwise all rows are written in one transaction. `written` is told how
/// many rows each statement wrote, for a progress display.
pub async fn import_figures(
    db: &DatabaseConnection,
    actor: &Actor,
    rows: &[FigureRow],
    source: Option<&str>,
    written: &(dyn Fn(usize) + Sync),
) -> ServiceResult<FigureImport> {
    actor.require(Need::CityAdmin, "import figures")?;
    let source = opt_text("source", source, SOURCE_MAX)?;
    let units = resolve_units(db, rows.iter().map(|r| r.org_unit.as_str())).await?;
    let checked = check_rows(rows, &units).map_err(ServiceError::Rows)?;
    let keys: BTreeSet<&str> = checked.iter().map(|r| r.key.as_str()).collect();
    let keys = keys.into_iter().map(str::to_owned).collect();

    let now = Utc::now();
    let tx = crate::db::write(db).await?;
    let mut replaced = 0;
    for chunk in checked.chunks(CHUNK) {
        let before = stored(&tx, chunk).await?;
        replaced += chunk
            .iter()
            .filter(|r| before.contains(&(r.org_unit_id, r.period.as_str(), r.key.as_str())))
            .count();
        let models = chunk.iter().map(|r| imported_figure::ActiveModel {
            org_unit_id: Set(r.org_unit_id),
            period: Set(r.period.clone()),
            key: Set(r.key.clone()),
            value: Set(r.value),
            source: Set(source.clone()),
            imported_at: Set(now),
            ..Default::default()
        });
        imported_figure::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([
                    imported_figure::Column::OrgUnitId,
                    imported_figure::Column::Period,
                    imported_figure::Column::Key,
                ])
                .update_columns([
                    imported_figure::Column::Value,
                    imported_figure::Column::Source,
                    imported_figure::Column::ImportedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&tx)
            .await?;
        written(chunk.len());
    }
    tx.commit().await?;
    Ok(FigureImport {
        inserted: checked.len() - replaced,
        replaced,
        keys,
    })
}

/// The org units that `names` name, by the text that names them (trimmed): a code, or
/// else a positive id — how every import names a unit. One query per [`CHUNK`] of distinct
/// names — one for any real import.
pub(crate) async fn resolve_units<'a>(
    db: &impl ConnectionTrait,
    names: impl Iterator<Item = &'a str>,
) -> ServiceResult<HashMap<String, i64>> {
    let names: BTreeSet<&str> = names.map(str::trim).filter(|n| !n.is_empty()).collect();
    let names: Vec<&str> = names.into_iter().collect();
    let mut by_code = HashMap::new();
    let mut by_id = HashSet::new();
    for chunk in names.chunks(CHUNK) {
        let ids = chunk.iter().filter_map(|n| positive_id(n));
        let found: Vec<(i64, String)> = org_unit::Entity::find()
            .select_only()
            .columns([org_unit::Column::Id, org_unit::Column::Code])
            .filter(
                org_unit::Column::Code
                    .is_in(chunk.iter().copied())
                    .or(org_unit::Column::Id.is_in(ids)),
            )
            .into_tuple()
            .all(db)
            .await?;
        for (id, code) in found {
            by_id.insert(id);
            by_code.insert(code, id);
        }
    }
    Ok(names
        .into_iter()
        .filter_map(|name| {
            let id = by_code
                .get(name)
                .copied()
                .or_else(|| positive_id(name).filter(|id| by_id.contains(id)))?;
            Some((name.to_owned(), id))
        })
        .collect())
}

fn positive_id(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().filter(|id| *id > 0)
}

/// Checks every row against the units found; either all rows, checked, or every problem.
fn check_rows(
    rows: &[FigureRow],
    units: &HashMap<String, i64>,
) -> Result<Vec<Checked>, Vec<RowRejection>> {
    let mut first_seen: HashMap<(i64, String, String), usize> = HashMap::new();
    let mut checked = Vec::with_capacity(rows.len());
    let mut rejections = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let mut refuse = |field, reason: String| {
            rejections.push(RowRejection::new(index, field, reason));
        };
        let org_unit = row.org_unit.trim();
        let unit = if org_unit.is_empty() {
            refuse(
                "orgUnit",
                "the org unit is missing: give its code (e.g. `town-shijie`) or id".into(),
            );
            None
        } else {
            let unit = units.get(org_unit).copied();
            if unit.is_none() {
                refuse(
                    "orgUnit",
                    format!("no org unit has the code or id `{org_unit}`"),
                );
            }
            unit
        };
        let period = match row.period.parse::<Period>() {
            Ok(period) => Some(period.to_string()),
            Err(err) => {
                refuse("period", err.to_string());
                None
            }
        };
        let key = match check_key(&row.key) {
            Ok(key) => Some(key),
            Err(reason) => {
                refuse("key", reason);
                None
            }
        };
        let value = match check_value(&row.value) {
            Ok(value) => Some(value),
            Err(reason) => {
                refuse("value", reason);
                None
            }
        };
        if let (Some(org_unit_id), Some(period), Some(key)) = (unit, period, key) {
            let id = (org_unit_id, period.clone(), key.clone());
            if let Some(first) = first_seen.get(&id) {
                rejections.push(RowRejection {
                    index,
                    field: None,
                    reason: format!(
                        "duplicates row {} (same org unit, period and key)",
                        first + 1
                    ),
                });
            } else if let Some(value) = value {
                first_seen.insert(id, index);
                checked.push(Checked {
                    org_unit_id,
                    period,
                    key,
                    value,
                });
            }
        }
    }
    if rejections.is_empty() {
        Ok(checked)
    } else {
        Err(rejections)
    }
}

/// A key is lower_snake_case and not one the platform computes.
fn check_key(key: &str) -> Result<String, String> {
    let key = snake_name("figure key", "provincial_visits", key)?;
    if key == "valid_visits" {
        return Err(
            "`valid_visits` is computed from the platform's own data, its daily visits: \
             record those with `recordDailyVisits`, or import them with \
             `qii import --visits FILE.csv` (columns org_unit,day,visits)"
                .into(),
        );
    }
    if COMPUTED_FIGURES.contains(&key.as_str()) {
        return Err(format!(
            "`{key}` is computed from the platform's own data and cannot be imported; \
             import the figure under another key and name that key in the rule"
        ));
    }
    Ok(key)
}

/// The largest figure accepted: beyond any count or amount a unit has, and small enough that
/// the figures of every unit of a town add up exactly (integers to 2^53 are exact).
const MAX_VALUE: f64 = 1e15;

/// A value is a finite number, zero or more, at most [`MAX_VALUE`].
fn check_value(value: &Result<f64, String>) -> Result<f64, String> {
    match value {
        Err(text) if text.trim().is_empty() => Err("the value is missing".into()),
        Err(text) => Err(format!("`{}` is not a number", text.trim())),
        Ok(v) if !v.is_finite() => Err(format!("the value must be a finite number, got {v}")),
        Ok(v) if *v < 0.0 => Err(format!("the value must be zero or more, got {v}")),
        Ok(v) if *v > MAX_VALUE => Err(format!(
            "the value {v} is larger than any figure can be (at most 10^15, so that a town's figures add up exactly)"
        )),
        Ok(v) => Ok(*v),
    }
}

/// The (unit, period, key) of the chunk's rows already stored.
async fn stored<'a>(
    db: &impl ConnectionTrait,
    chunk: &'a [Checked],
) -> ServiceResult<HashSet<(i64, &'a str, &'a str)>> {
    use imported_figure::Column as C;
    let units: BTreeSet<i64> = chunk.iter().map(|r| r.org_unit_id).collect();
    let periods: BTreeSet<&str> = chunk.iter().map(|r| r.period.as_str()).collect();
    let keys: BTreeSet<&str> = chunk.iter().map(|r| r.key.as_str()).collect();
    // Units × periods × keys may hold rows outside the chunk; only the chunk's count.
    let found: Vec<(i64, String, String)> = imported_figure::Entity::find()
        .select_only()
        .columns([C::OrgUnitId, C::Period, C::Key])
        .filter(C::OrgUnitId.is_in(units))
        .filter(C::Period.is_in(periods))
        .filter(C::Key.is_in(keys))
        .into_tuple()
        .all(db)
        .await?;
    let found: HashSet<(i64, String, String)> = found.into_iter().collect();
    Ok(chunk
        .iter()
        .filter(|r| found.contains(&(r.org_unit_id, r.period.clone(), r.key.clone())))
        .map(|r| (r.org_unit_id, r.period.as_str(), r.key.as_str()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(org_unit: &str, period: &str, key: &str, value: Result<f64, String>) -> FigureRow {
        FigureRow {
            org_unit: org_unit.into(),
            period: period.into(),
            key: key.into(),
            value,
        }
    }

    #[test]
    fn good_rows_are_checked_into_canonical_periods_and_known_units() {
        let units = HashMap::from([("town-shijie".to_owned(), 2), ("3".to_owned(), 3)]);
        let rows = [
            row(" town-shijie ", " 2017-W43 ", "provincial_visits", Ok(12.5)),
            row("3", "2017-10", "provincial_visits", Ok(0.0)),
        ];
        let checked = check_rows(&rows, &units).unwrap();
        assert_eq!(checked[0].org_unit_id, 2);
        assert_eq!(checked[0].period, "2017-W43");
        assert_eq!(checked[1].value, 0.0);
    }

    #[test]
    fn every_problem_of_every_row_is_listed_with_its_field() {
        let units = HashMap::from([("town-shijie".to_owned(), 2)]);
        let rows = [
            row("town-shijie", "2017-10", "reach", Ok(1.0)),
            row("nowhere", "2017-13", "Reach", Ok(f64::NAN)),
            row("town-shijie", "2017-10", "valid_visits", Ok(-1.0)),
            row("", "2017-10", "reach", Err("many".into())),
            row("town-shijie", "2017-10", "reach", Ok(2.0)),
            row("town-shijie", "2017-11", "reach", Ok(f64::INFINITY)),
            row("town-shijie", "2017-11", "reach", Err(" ".into())),
            row("town-shijie", "2017-12", "reach", Ok(1.7e308)),
        ];
        let rejected = check_rows(&rows, &units).unwrap_err();
        let found: Vec<(usize, Option<&str>)> =
            rejected.iter().map(|r| (r.row(), r.field)).collect();
        assert_eq!(
            found,
            vec![
                (2, Some("orgUnit")),
                (2, Some("period")),
                (2, Some("key")),
                (2, Some("value")),
                (3, Some("key")),
                (3, Some("value")),
                (4, Some("orgUnit")),
                (4, Some("value")),
                (5, None),
                (6, Some("value")),
                (7, Some("value")),
                (8, Some("value")),
            ]
        );
        assert!(rejected[4]
            .reason
            .contains("computed from the platform's own data"));
        assert!(rejected[7].reason.contains("`many` is not a number"));
        assert!(rejected[8].reason.contains("duplicates row 1"));
        assert!(rejected[9].reason.contains("finite"));
        assert!(rejected[10].reason.contains("missing"));
    }

    #[test]
    fn keys_are_lower_snake_case_and_never_a_computed_figure() {
        assert_eq!(check_key(" reach_2 ").unwrap(), "reach_2");
        for bad in ["", "2x", "Reach", "a-b", "a__b", "x_", &"k".repeat(65)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
        for computed in COMPUTED_FIGURES {
            assert!(check_key(computed).is_err(), "{computed}");
        }
    }
}
