//! Raw figures per org unit for a period, each family one grouped SQL query.
//!
//! Every figure is counted for the unit of the level the row belongs to: at the town
//! level, an activity of a Youth Home counts for its town (`org_unit.town_id`); at another
//! level (e.g. Youth Homes) for the unit itself. Heavyweight activities are stored under the
//! applicant, so they count for it. Instants are compared with the period's Asia/Shanghai
//! bounds in UTC; cumulative figures (registrations, mobile binding) run to the period's end.
//! Beside the figures computed here ([`COMPUTED_FIGURES`]), every key imported from other
//! systems is a figure too (see `imported.rs`). The units' targets come from the targets
//! scripts in effect and the administrators' overrides (see `targets.rs`).

use std::collections::HashMap;

use entities::{activity_comment, activity_review, activity_signup, daily_visit};
use sea_orm::{ConnectionTrait, DbErr};

use super::{families::Families, level::Level, rollups::PerUnit};
use qii_engine::period::Period;
use qii_engine::rules::{activity::ActivityRules, compute::RawTable, TargetsVersion};

/// The figures [`raw_table`] computes from the platform's own data. No import may use
/// these keys, so a rule naming one always means the platform's figure.
pub const COMPUTED_FIGURES: &[&str] = &[
    "valid_questions",
    "answers",
    "expert_answers",
    "topic_participations",
    "eligible_activities",
    "youth_homes",
    "youth_home_activities",
    "youth_home_signups",
    "youth_home_comments",
    "youth_home_rating_total",
    "experts_recruited",
    "update_days",
    "registrations",
    "mobile_binding_rate",
    "valid_visits",
];

/// Every raw figure of every unit of `level` for `period` (computed and imported), and the
/// units' targets for it: those of `targets` (the versions in effect for the period) unless
/// an administrator set one for the unit, period and metric.
pub async fn raw_table(
    db: &impl ConnectionTrait,
    period: &Period,
    level: Level,
    source: Figures<'_>,
    targets: &[&TargetsVersion],
) -> Result<RawTable, DbErr> {
    Ok(raw_table_and_names(db, period, level, source, targets)
        .await?
        .0)
}

/// [`raw_table`], and the names of the units, by id, read with them.
pub async fn raw_table_and_names(
    db: &impl ConnectionTrait,
    period: &Period,
    level: Level,
    source: Figures<'_>,
    targets: &[&TargetsVersion],
) -> Result<(RawTable, HashMap<i64, String>), DbErr> {
    // Independent reads, side by side: the units, the platform's figures, the imported
    // figures and the targets set by administrators.
    let kind = level.kind();
    let computed = async {
        match source {
            Figures::Events(rules) => from_events(db, period, level, rules).await,
            Figures::Rollups => from_rollups(db, period, level).await,
        }
    };
    let (unit_rows, computed, imported, overrides) = tokio::try_join!(
        super::targets::level_units(db, kind),
        computed,
        super::imported::imported_figures(db, period, level),
        super::targets::level_overrides(db, period, kind),
    )?;
    let units: Vec<i64> = unit_rows.iter().map(|u| u.id).collect();

    // Every computed figure as a column in the order of `units` (zero where a unit has no
    // row), each table placed with one lookup per unit.
    let position: HashMap<i64, usize> = units.iter().enumerate().map(|(i, u)| (*u, i)).collect();
    let mut columns: HashMap<&'static str, Vec<i64>> = HashMap::new();
    for table in computed.tables {
        let width = table.keys.len();
        let mut placed = vec![vec![0i64; units.len()]; width];
        for (row, unit) in table.units.iter().enumerate() {
            if let Some(&i) = position.get(unit) {
                for (k, column) in placed.iter_mut().enumerate() {
                    column[i] += table.values[row * width + k];
                }
            }
        }
        columns.extend(table.keys.iter().copied().zip(placed));
    }
    let mut take = |key: &str| columns.remove(key).unwrap_or_else(|| vec![0; units.len()]);
    let (registrations, bound) = (take("registrations"), take("bound"));
    let (visits, visit_rows) = (take("visits"), take("visit_rows"));
    let as_figure = |values: Vec<i64>| -> Vec<Option<f64>> {
        values.into_iter().map(|n| Some(n as f64)).collect()
    };
    let mut table = RawTable {
        units: units.clone(),
        figures: HashMap::new(),
        targets: HashMap::new(),
    };
    // Rates and imported figures are missing (not zero) where there is nothing to count.
    table.figures.insert(
        "mobile_binding_rate".into(),
        registrations
            .iter()
            .zip(&bound)
            .map(|(&n, &b)| (n > 0).then(|| b as f64 / n as f64))
            .collect(),
    );
    table.figures.insert(
        "valid_visits".into(),
        visits
            .iter()
            .zip(&visit_rows)
            .map(|(&v, &rows)| (rows > 0).then_some(v as f64))
            .collect(),
    );
    table
        .figures
        .insert("registrations".into(), as_figure(registrations));
    for (key, values) in columns {
        table.figures.insert(key.to_owned(), as_figure(values));
    }
    for (key, column) in imported.columns(&units) {
        // Imports refuse computed keys; should one be stored anyway, the platform's
        // figure stands.
        table.figures.entry(key).or_insert(column);
    }
    table.targets = super::targets::level_columns(targets, period, &unit_rows, overrides);
    let names = unit_rows.into_iter().map(|u| (u.id, u.name)).collect();
    Ok((table, names))
}

/// Where the platform's figures are read.
#[derive(Debug, Clone, Copy)]
pub enum Figures<'a> {
    /// The rollups the database keeps (the activity conditions they hold are those of the
    /// release in force).
    Rollups,
    /// The raw events, counted with these activity rules: slower, and the independent
    /// computation the rollups are checked against (`QII_FIGURES=events`).
    Events(&'a ActivityRules),
}

/// The figures computed from the platform's own data, per unit of the level: tables whose
/// keys are those of [`COMPUTED_FIGURES`] but the rate and the visits, which come as
/// `registrations` and `bound`, `visits` and `visit_rows` (the units with visit rows at all).
struct Computed {
    tables: Vec<PerUnit>,
}

/// Every computed figure read from the rollups, with the Youth Homes counted from the org
/// units.
async fn from_rollups(
    db: &impl ConnectionTrait,
    period: &Period,
    level: Level,
) -> Result<Computed, DbErr> {
    let f = Families {
        level,
        start: period.start_utc(),
        end: period.end_utc(),
    };
    let (rolled, youth_homes) = tokio::try_join!(
        super::rollups::rolled_up(db, period, level),
        f.count(db, f.youth_homes(period)),
    )?;
    Ok(Computed {
        tables: vec![
            rolled.figures,
            rolled.to_date,
            PerUnit::of_map("youth_homes", youth_homes),
        ],
    })
}

/// Every computed figure counted from the raw events, one grouped query per family.
async fn from_events(
    db: &impl ConnectionTrait,
    period: &Period,
    level: Level,
    rules: &ActivityRules,
) -> Result<Computed, DbErr> {
    let (start, end) = (period.start_utc(), period.end_utc());
    let f = Families { level, start, end };

    // The families are independent: run together, a pool (or PostgreSQL's parallel
    // workers) serves them side by side.
    let mut rating = f.home_rows::<activity_review::Entity>(
        rules,
        activity_review::Column::ActivityId,
        activity_review::Column::CreatedAt,
    );
    let mut visits_query = f.visits(period);
    let (
        valid_questions,
        answers,
        expert_answers,
        participations,
        eligible,
        youth_homes,
        home_activities,
        home_signups,
        home_comments,
        home_rating,
        experts,
        [registrations, bound],
        update_days,
        visits,
    ) = tokio::try_join!(
        f.count(db, f.questions(rules)),
        f.count(db, f.answers(rules)),
        f.count(db, f.expert_answers()),
        f.count(db, f.participations()),
        f.count(db, f.eligible_activities(rules)),
        f.count(db, f.youth_homes(period)),
        f.count(db, f.home_activities(rules)),
        f.count(
            db,
            f.home_rows::<activity_signup::Entity>(
                rules,
                activity_signup::Column::ActivityId,
                activity_signup::Column::SignedUpAt,
            ),
        ),
        f.count(
            db,
            f.home_rows::<activity_comment::Entity>(
                rules,
                activity_comment::Column::ActivityId,
                activity_comment::Column::CreatedAt,
            ),
        ),
        f.sum(
            db,
            &mut rating,
            (activity_review::Entity, activity_review::Column::Rating),
        ),
        f.count(db, f.experts()),
        f.registrations(db),
        super::update_days::update_days(db, level, start, end),
        f.sum(
            db,
            &mut visits_query,
            (daily_visit::Entity, daily_visit::Column::Visits),
        ),
    )?;
    let visit_rows: HashMap<i64, i64> = visits.keys().map(|unit| (*unit, 1)).collect();
    let tables = [
        ("valid_questions", valid_questions),
        ("answers", answers),
        ("expert_answers", expert_answers),
        ("topic_participations", participations),
        ("eligible_activities", eligible),
        ("youth_homes", youth_homes),
        ("youth_home_activities", home_activities),
        ("youth_home_signups", home_signups),
        ("youth_home_comments", home_comments),
        ("youth_home_rating_total", home_rating),
        ("experts_recruited", experts),
        ("update_days", update_days),
        ("registrations", registrations),
        ("bound", bound),
        ("visits", visits),
        ("visit_rows", visit_rows),
    ]
    .into_iter()
    .map(|(key, values)| PerUnit::of_map(key, values))
    .collect();
    Ok(Computed { tables })
}
