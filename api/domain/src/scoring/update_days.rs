//! Update days (更新天数): the Asia/Shanghai days of a period on which a unit published
//! something — an activity, a topic, or an answer written as the org unit.
//!
//! Turning an instant into a local day differs between the databases, so this one family is
//! written as SQL per backend.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, DbErr, Statement};

use super::Level;

/// Distinct publishing days per unit of `level` within `[start, end)`.
pub async fn update_days(
    db: &impl ConnectionTrait,
    level: Level,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<HashMap<i64, i64>, DbErr> {
    let backend = db.get_database_backend();
    let (day, p1, p2) = match backend {
        DbBackend::Postgres => ("(({col}) AT TIME ZONE 'Asia/Shanghai')::date", "$1", "$2"),
        // Stored as RFC 3339 text in UTC; Shanghai has kept UTC+8 without DST since 1991.
        _ => ("date({col}, '+8 hours')", "?1", "?2"),
    };
    let (unit, restrict) = match level {
        Level::Town => ("ou.town_id".to_owned(), String::new()),
        Level::Kind(kind) => (
            "ou.id".to_owned(),
            format!(" AND ou.kind = '{}'", kind.to_value()),
        ),
    };
    let part = |table: &str, column: &str, fk: &str| {
        let local = day.replace("{col}", &format!("x.{column}"));
        format!(
            "SELECT {unit} AS unit, {local} AS day FROM {table} x JOIN org_unit ou ON ou.id = x.{fk} \
             WHERE x.{column} >= {p1} AND x.{column} < {p2}{restrict}"
        )
    };
    let sql = format!(
        "SELECT unit, COUNT(DISTINCT day) AS n FROM ({} UNION {} UNION {}) d \
         WHERE unit IS NOT NULL GROUP BY unit",
        part("activity", "published_at", "org_unit_id"),
        part("topic", "published_at", "org_unit_id"),
        part("answer", "answered_at", "org_unit_id"),
    );
    let statement = Statement::from_sql_and_values(backend, sql, [start.into(), end.into()]);
    let mut out = HashMap::new();
    for row in db.query_all_raw(statement).await? {
        out.insert(
            row.try_get::<i64>("", "unit")?,
            row.try_get::<i64>("", "n")?,
        );
    }
    Ok(out)
}
