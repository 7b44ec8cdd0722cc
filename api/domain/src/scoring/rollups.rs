//! The figure rollups ([`migration::rollup`]): reading a period's figures from them, putting
//! the activity rules' conditions in force in them, rebuilding them from the raw events and
//! checking them against the raw events.
//!
//! A period is read as whole years, whole months and single days, each from the rows of its
//! grain, so that a month costs one row per unit whatever its number of events. Cumulative
//! figures (registrations, bindings) add up everything before the period's end the same way.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use migration::rollup::{self, COLUMNS};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait,
};

use super::Level;
use qii_engine::period::Period;
use qii_engine::rules::activity::{ActivityRules, PeriodDate};

/// A span of rows of one grain: `day` within `[from, to]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    grain: char,
    from: NaiveDate,
    to: NaiveDate,
}

/// The days `[first, last]` as whole years, whole months and single days, each run of one
/// grain merged into one span.
fn spans(first: NaiveDate, last: NaiveDate) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut day = first;
    while day <= last {
        let year_end = NaiveDate::from_ymd_opt(day.year(), 12, 31).unwrap_or(day);
        let next_month = if day.month() == 12 {
            NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1)
        };
        let month_end = next_month.map_or(day, |n| n - Duration::days(1));
        let (grain, end) = if day.ordinal() == 1 && year_end <= last {
            ('y', year_end)
        } else if day.day() == 1 && month_end <= last {
            ('m', month_end)
        } else {
            ('d', day)
        };
        match out.last_mut() {
            Some(span) if span.grain == grain => span.to = day,
            _ => out.push(Span {
                grain,
                from: day,
                to: day,
            }),
        }
        match end.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

fn date(backend: DbBackend, day: NaiveDate) -> String {
    rollup::date_literal(backend, &day.to_string())
}

fn span_condition(backend: DbBackend, spans: &[Span]) -> String {
    if spans.is_empty() {
        return "FALSE".into();
    }
    spans
        .iter()
        .map(|s| {
            format!(
                "(grain = '{}' AND day >= {} AND day <= {})",
                s.grain,
                date(backend, s.from),
                date(backend, s.to)
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The earliest day a rollup may hold.
fn epoch() -> NaiveDate {
    rollup::FIRST_DAY.parse().expect("a valid day")
}

/// Figures per unit: `keys.len()` values for each unit of `units`, unit after unit, in the
/// order they were read (a unit read more than once adds up its rows) (one allocation for a whole level, where a map per figure would
/// cost a hash per unit and figure).
#[derive(Debug, Clone, Default)]
pub(super) struct PerUnit {
    pub keys: Vec<&'static str>,
    pub units: Vec<i64>,
    pub values: Vec<i64>,
}

impl PerUnit {
    fn new(keys: Vec<&'static str>, capacity: usize) -> Self {
        PerUnit {
            values: Vec::with_capacity(capacity * keys.len()),
            units: Vec::with_capacity(capacity),
            keys,
        }
    }

    /// One figure counted per unit (a unit absent has none).
    pub fn of_map(key: &'static str, values: HashMap<i64, i64>) -> Self {
        let mut out = Self::new(vec![key], values.len());
        for (unit, n) in values {
            out.units.push(unit);
            out.values.push(n);
        }
        out
    }
}

/// The figures of the period per unit of `level`, read from the rollups: every computed
/// family but the Youth Homes (read from the org units), `visit_rows` telling the units that
/// have visits at all from those with none (a missing figure, not zero); and the
/// registrations and bindings to the period's end.
pub(super) struct RolledUp {
    pub figures: PerUnit,
    pub to_date: PerUnit,
}

/// (figure key, the column summed at the town level, at a kind's level).
const PERIOD_FIGURES: &[(&str, &str, &str)] = &[
    ("valid_questions", "questions", "questions"),
    ("answers", "answers", "answers"),
    ("expert_answers", "expert_answers", "expert_answers"),
    ("topic_participations", "participations", "participations"),
    (
        "eligible_activities",
        "eligible_activities",
        "eligible_activities",
    ),
    (
        "youth_home_activities",
        "home_activities",
        "home_activities",
    ),
    ("youth_home_signups", "home_signups", "home_signups"),
    ("youth_home_comments", "home_comments", "home_comments"),
    ("youth_home_rating_total", "home_rating", "home_rating"),
    ("experts_recruited", "experts", "experts"),
    ("update_days", "town_update_days", "update_days"),
    ("visits", "visits", "visits"),
    ("visit_rows", "visit_rows", "visit_rows"),
];

/// The sums of `columns` per unit of `level` over the rows of `spans`, less those of `less`:
/// added up by the database, or, when `here`, left as rows for the caller to add up (the few
/// rows per unit of a figure to date, which the database would hash by unit at greater cost).
async fn grouped(
    db: &impl ConnectionTrait,
    level: Level,
    columns: &[(&'static str, &str)],
    spans: &[Span],
    less: &[Span],
    here: bool,
) -> Result<PerUnit, DbErr> {
    let backend = db.get_database_backend();
    let unit = match level {
        Level::Town => "town_id",
        Level::Kind(_) => "org_unit_id",
    };
    let kind = match level {
        Level::Town => String::new(),
        Level::Kind(kind) => format!(" AND kind = '{}'", kind.to_value()),
    };
    // The towns read their totals for whole months and years, and their units' days.
    let read = |spans: &[Span]| -> Vec<Span> {
        spans
            .iter()
            .map(|s| Span {
                grain: match (level, s.grain) {
                    (Level::Town, 'm') => 'M',
                    (Level::Town, 'y') => 'Y',
                    (_, grain) => grain,
                },
                ..*s
            })
            .collect()
    };
    let (spans, less) = (read(spans), read(less));
    // One row per unit (a single month or year of the towns' totals, a single row of a
    // kind's units): nothing to add up.
    let single = match spans.as_slice() {
        [only] if less.is_empty() && only.from == only.to => match level {
            Level::Town => matches!(only.grain, 'M' | 'Y'),
            Level::Kind(_) => only.grain != 'a',
        },
        _ => false,
    };
    let (mut rows, sign) = if less.is_empty() {
        (span_condition(backend, &spans), String::new())
    } else {
        let minus = span_condition(backend, &less);
        (
            format!("({}) OR {minus}", span_condition(backend, &spans)),
            format!("CASE WHEN {minus} THEN -1 ELSE 1 END * "),
        )
    };
    let mut group = String::new();
    // The values of a row as one text (`3,0,12`): one field to decode per row, not one per
    // figure.
    let values: Vec<String> = columns
        .iter()
        .map(|(_, column)| {
            let value = if single {
                (*column).to_owned()
            } else if here {
                format!("{sign}{column}")
            } else {
                format!("CAST(SUM({sign}{column}) AS BIGINT)")
            };
            format!("CAST({value} AS TEXT)")
        })
        .collect();
    if here {
        let nonzero: Vec<String> = columns.iter().map(|(_, c)| format!("{c} <> 0")).collect();
        rows = format!("({rows}) AND ({})", nonzero.join(" OR "));
    } else if !single {
        group = format!(" GROUP BY {unit}");
    }
    let sql = format!(
        "SELECT {unit} AS unit, {} AS v FROM figure_rollup WHERE ({rows}){kind} AND {unit} IS NOT NULL{group}",
        values.join(" || ',' || ")
    );
    let found = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let keys: Vec<&'static str> = columns.iter().map(|(k, _)| *k).collect();
    let width = keys.len();
    let mut out = PerUnit::new(keys, found.len());
    for row in found {
        let unit: i64 = row.try_get_by_index(0)?;
        let text: String = row.try_get_by_index(1)?;
        out.units.push(unit);
        let base = out.values.len();
        out.values.extend(std::iter::repeat_n(0, width));
        let mut parts = text.split(',');
        for k in 0..width {
            let n: i64 = parts
                .next()
                .and_then(|part| part.parse().ok())
                .ok_or_else(|| DbErr::Custom(format!("a rollup row read as {text:?}")))?;
            out.values[base + k] += n;
        }
    }
    Ok(out)
}

/// Reads the period's figures of every unit of `level` from the rollups.
pub(super) async fn rolled_up(
    db: &impl ConnectionTrait,
    period: &Period,
    level: Level,
) -> Result<RolledUp, DbErr> {
    let started = std::time::Instant::now();
    let read = read_rollups(db, period, level).await;
    crate::metrics::ROLLUP_READS.observe(started.elapsed());
    read
}

async fn read_rollups(
    db: &impl ConnectionTrait,
    period: &Period,
    level: Level,
) -> Result<RolledUp, DbErr> {
    let town = level == Level::Town;
    let columns: Vec<(&'static str, &str)> = PERIOD_FIGURES
        .iter()
        .map(|(key, t, k)| (*key, if town { *t } else { *k }))
        .collect();
    let within = spans(period.first_day(), period.last_day());
    let (figures, to_date) = tokio::try_join!(
        grouped(db, level, &columns, &within, &[], false),
        to_date(
            db,
            level,
            &[("registrations", "registrations"), ("bound", "bound")],
            period.last_day()
        ),
    )?;
    Ok(RolledUp { figures, to_date })
}

/// The cumulative `columns` ([`rollup::CUMULATIVE`]) to the end of `last` per unit of
/// `level`: the rows up to that day, or, when fewer years of rows follow it than precede it,
/// the all-time rows less the rows after it (a recent period reads little more than one row
/// per unit).
async fn to_date(
    db: &impl ConnectionTrait,
    level: Level,
    columns: &[(&'static str, &str)],
    last: NaiveDate,
) -> Result<PerUnit, DbErr> {
    let backend = db.get_database_backend();
    let years = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT MIN(day) AS first, MAX(day) AS last FROM figure_rollup WHERE grain = 'y'",
        ))
        .await?;
    let years: Option<(NaiveDate, NaiveDate)> = match years {
        Some(row) => {
            let first: Option<NaiveDate> = row.try_get("", "first")?;
            let last: Option<NaiveDate> = row.try_get("", "last")?;
            first.zip(last)
        }
        None => None,
    };
    let Some((first, final_year)) = years else {
        return Ok(PerUnit::new(columns.iter().map(|(k, _)| *k).collect(), 0));
    };
    let after = final_year.year() - last.year();
    let before = last.year() - first.year();
    match (
        last.succ_opt(),
        NaiveDate::from_ymd_opt(final_year.year(), 12, 31),
    ) {
        (Some(next), Some(end)) if after <= before => {
            let all_time = Span {
                grain: 'a',
                from: epoch(),
                to: epoch(),
            };
            grouped(db, level, columns, &[all_time], &spans(next, end), true).await
        }
        _ => {
            grouped(
                db,
                level,
                columns,
                &spans(first.min(last), last),
                &[],
                false,
            )
            .await
        }
    }
}

/// The conditions of the activity rules as the rollups hold them: (figure, least value).
fn conditions_of(rules: &ActivityRules) -> Vec<(&'static str, i64)> {
    let mut out: Vec<(&'static str, i64)> = rules
        .conditions
        .iter()
        .map(|c| (c.figure.name(), c.at_least))
        .collect();
    // Two conditions on one figure: the stricter holds.
    out.sort();
    let mut merged: Vec<(&'static str, i64)> = Vec::new();
    for (figure, at_least) in out {
        match merged.last_mut() {
            Some(last) if last.0 == figure => last.1 = last.1.max(at_least),
            _ => merged.push((figure, at_least)),
        }
    }
    merged
}

/// The settings of the rollups (`rule_setting`) that `rules` make: every one of
/// [`rollup::SETTINGS`], by name.
pub fn settings_of(rules: &ActivityRules) -> Vec<(&'static str, i64)> {
    let by_end = i64::from(rules.counted_by == PeriodDate::End);
    let value = |name: &str| match name {
        "question_min_characters" => rules.questions.at_least_characters,
        "answers_need_valid_question" => i64::from(rules.questions.answers_need_valid_question),
        "heavyweight_counts_once_approved" => i64::from(rules.heavyweight.counts_once_approved),
        "eligible_activities_by_end" | "home_activities_by_end" => by_end,
        other => unreachable!("the rollups' setting `{other}` is made from the activity rules"),
    };
    rollup::SETTINGS
        .iter()
        .map(|(name, _)| (*name, value(name)))
        .collect()
}

/// Puts the activity rules `rules` in force in the rollups — their settings, then their
/// conditions — re-deriving every figure they move, for every period, in one transaction.
/// Returns whether anything changed (every replica calls it when it puts rules in force;
/// the first does the work).
pub async fn sync_conditions(
    db: &DatabaseConnection,
    rules: &ActivityRules,
) -> Result<bool, DbErr> {
    let wanted = conditions_of(rules);
    let settings = settings_of(rules);
    let tx = crate::db::write(db).await?;
    crate::db::serialise(&tx, "rollup-conditions").await?;
    let backend = tx.get_database_backend();
    let mut stored: Vec<(String, i64)> = Vec::new();
    for row in tx
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT name, value FROM rule_setting",
        ))
        .await?
    {
        stored.push((row.try_get("", "name")?, row.try_get("", "value")?));
    }
    // A setting not stored holds what the rollups were kept by before it existed.
    let old: Vec<(&str, i64)> = rollup::SETTINGS
        .iter()
        .map(|(name, before)| {
            let value = stored
                .iter()
                .find(|(n, _)| n == name)
                .map_or(*before, |(_, v)| *v);
            (*name, value)
        })
        .collect();
    let settings_changed = old != settings || stored.len() != settings.len();
    if settings_changed {
        for statement in rollup::change_settings(backend, &old, &settings) {
            tx.execute_unprepared(&statement).await?;
        }
    }
    let mut current: Vec<(String, i64)> = Vec::new();
    for row in tx
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT figure, at_least FROM activity_rule_condition ORDER BY figure",
        ))
        .await?
    {
        current.push((row.try_get("", "figure")?, row.try_get("", "at_least")?));
    }
    let same = current.len() == wanted.len()
        && current
            .iter()
            .zip(&wanted)
            .all(|((f, n), (g, m))| f == g && n == m);
    if same {
        if settings_changed {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        return Ok(settings_changed);
    }
    for statement in rollup::change_conditions(backend, &wanted) {
        tx.execute_unprepared(&statement).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The days a rebuild or a check covers, both included; none for all.
#[derive(Debug, Clone, Copy, Default)]
pub struct DaySpan {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DaySpan {
    fn bounds(&self, backend: DbBackend) -> (String, String) {
        let (first, last) = rollup::all_days(backend);
        (
            self.from.map_or(first, |day| date(backend, day)),
            self.to.map_or(last, |day| date(backend, day)),
        )
    }
}

/// Recomputes the rollups of `span` (and every activity's kept counts) from the raw events
/// in one transaction, calling `step(done, total, what)` before each step.
pub async fn rebuild(
    db: &DatabaseConnection,
    span: DaySpan,
    mut step: impl FnMut(usize, usize, &str),
) -> Result<(), DbErr> {
    let tx = crate::db::write(db).await?;
    crate::db::serialise(&tx, "rollup-conditions").await?;
    let backend = tx.get_database_backend();
    let (from, to) = span.bounds(backend);
    let statements = rollup::rebuild_plan(backend, &from, &to);
    let total = statements.len();
    for (i, (what, statement)) in statements.iter().enumerate() {
        step(i, total, what);
        tx.execute_unprepared(statement).await?;
    }
    step(total, total, "done");
    tx.commit().await
}

/// One difference between the kept rollups and the raw events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `activity 12` or `unit 3, m 2017-10-01`.
    pub row: String,
    pub column: String,
    pub kept: i64,
    pub expected: i64,
}

/// Compares the kept rollups of `span` and every activity's kept counts with what the raw
/// events give, changing nothing.
pub async fn verify(db: &DatabaseConnection, span: DaySpan) -> Result<Vec<Difference>, DbErr> {
    let tx = db.begin().await?;
    let backend = tx.get_database_backend();
    let (from, to) = span.bounds(backend);
    let mut out = Vec::new();

    // The activities' kept counts against a recount.
    let assignments = rollup::activity_recounts();
    let selected: String = assignments
        .iter()
        .map(|(column, expr)| {
            // The approval is a truth value: read as 0 or 1 on both databases.
            let (kept, expected) = if *column == "heavyweight_approved" {
                (
                    format!("CASE WHEN {column} THEN 1 ELSE 0 END"),
                    format!("CASE WHEN {expr} THEN 1 ELSE 0 END"),
                )
            } else {
                ((*column).to_owned(), expr.clone())
            };
            format!(
                ", CAST({kept} AS BIGINT) AS k_{column}, CAST({expected} AS BIGINT) AS e_{column}"
            )
        })
        .collect();
    let rows = tx
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT id{selected} FROM activity ORDER BY id"),
        ))
        .await?;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        for (column, _) in &assignments {
            let kept: i64 = row.try_get("", &format!("k_{column}"))?;
            let expected: i64 = row.try_get("", &format!("e_{column}"))?;
            if kept != expected {
                out.push(Difference {
                    row: format!("activity {id}"),
                    column: (*column).to_owned(),
                    kept,
                    expected,
                });
            }
        }
    }

    // The rollups recomputed into a scratch table, then compared row by row.
    let scratch = "figure_rollup_expected";
    tx.execute_unprepared(&rollup::create_table(backend, scratch, true))
        .await?;
    // The kept days, months and years (and towns' totals) outside the span, copied, so that
    // the recomputed months, years, totals and all-time rows add up the same rows outside it.
    let month = |day: &str| rollup::start_of(backend, day, "month");
    let year = |day: &str| rollup::start_of(backend, day, "year");
    tx.execute_unprepared(&format!(
        "INSERT INTO {scratch} SELECT * FROM figure_rollup WHERE (grain = 'd' AND (day < {from} OR day > {to})) \
         OR (grain IN ('m', 'M') AND (day < {mf} OR day > {mt})) OR (grain IN ('y', 'Y') AND (day < {yf} OR day > {yt}))",
        mf = month(&from),
        mt = month(&to),
        yf = year(&from),
        yt = year(&to),
    ))
    .await?;
    for (_, statement) in rollup::rebuild_statements(backend, scratch, &from, &to) {
        tx.execute_unprepared(&statement).await?;
    }
    let columns = COLUMNS.join(", ");
    let in_span = |table: &str| {
        format!(
            "SELECT org_unit_id, grain, day, town_id, kind, {columns} FROM {table} \
             WHERE ({nonzero}) AND ((day <= {to} AND ((grain = 'd' AND day >= {from}) \
             OR (grain IN ('m', 'M') AND day >= {mf}) OR (grain IN ('y', 'Y') AND day >= {yf}))) OR grain = 'a')",
            nonzero = COLUMNS
                .iter()
                .map(|c| format!("{c} <> 0"))
                .collect::<Vec<_>>()
                .join(" OR "),
            mf = month(&from),
            yf = year(&from),
        )
    };
    let (kept, expected) = (in_span("figure_rollup"), in_span(scratch));
    let differing = format!(
        "SELECT 'kept' AS side, * FROM ({kept} EXCEPT {expected}) a \
         UNION ALL SELECT 'expected' AS side, * FROM ({expected} EXCEPT {kept}) b"
    );
    let mut sides: HashMap<(i64, String, String), [HashMap<String, i64>; 2]> = HashMap::new();
    for row in tx
        .query_all_raw(Statement::from_string(backend, differing))
        .await?
    {
        let side: String = row.try_get("", "side")?;
        let unit: i64 = row.try_get("", "org_unit_id")?;
        let grain: String = row.try_get("", "grain")?;
        let day: NaiveDate = row.try_get("", "day")?;
        let entry = sides
            .entry((unit, grain, day.to_string()))
            .or_insert_with(|| [HashMap::new(), HashMap::new()]);
        let slot = usize::from(side != "kept");
        for column in COLUMNS {
            entry[slot].insert((*column).to_owned(), row.try_get("", column)?);
        }
    }
    let mut keys: Vec<_> = sides.keys().cloned().collect();
    keys.sort();
    for key in keys {
        let [kept, expected] = &sides[&key];
        for column in COLUMNS {
            let (k, e) = (
                kept.get(*column).copied().unwrap_or(0),
                expected.get(*column).copied().unwrap_or(0),
            );
            if k != e {
                out.push(Difference {
                    row: format!("unit {}, {} {}", key.0, key.1, key.2),
                    column: (*column).to_owned(),
                    kept: k,
                    expected: e,
                });
            }
        }
    }
    tx.rollback().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_period_is_read_as_years_months_and_days() {
        let s = spans(d("2016-12-30"), d("2018-03-02"));
        assert_eq!(
            s,
            vec![
                Span {
                    grain: 'd',
                    from: d("2016-12-30"),
                    to: d("2016-12-31")
                },
                Span {
                    grain: 'y',
                    from: d("2017-01-01"),
                    to: d("2017-01-01")
                },
                Span {
                    grain: 'm',
                    from: d("2018-01-01"),
                    to: d("2018-02-01")
                },
                Span {
                    grain: 'd',
                    from: d("2018-03-01"),
                    to: d("2018-03-02")
                },
            ]
        );
        assert_eq!(
            spans(d("2017-11-01"), d("2017-11-30")),
            vec![Span {
                grain: 'm',
                from: d("2017-11-01"),
                to: d("2017-11-01")
            }]
        );
        assert_eq!(
            spans(d("2017-11-06"), d("2017-11-12")),
            vec![Span {
                grain: 'd',
                from: d("2017-11-06"),
                to: d("2017-11-12")
            }]
        );
        let all = spans(epoch(), d("2017-11-30"));
        assert_eq!(
            all[0],
            Span {
                grain: 'y',
                from: epoch(),
                to: d("2016-01-01")
            }
        );
        assert_eq!(all.len(), 2);
    }
}
