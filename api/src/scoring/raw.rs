//! Raw figures per org unit for a period, each family one grouped SQL query.
//!
//! Every figure is counted for the unit of the level the row belongs to: at the town
//! level, an activity of a Youth Home counts for its town (`org_unit.town_id`); at another
//! level (e.g. Youth Homes) for the unit itself. Heavyweight activities are stored under the
//! applicant, so they count for it. Instants are compared with the period's Asia/Shanghai
//! bounds in UTC; cumulative figures (registrations, mobile binding) run to the period's end.

use std::collections::HashMap;

use entities::{
    activity_comment, activity_review, activity_signup, daily_visit, enums::OrgUnitKind, org_unit,
    target,
};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr},
    ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::families::Families;
use crate::{period::Period, rules::compute::RawTable};

/// Which org units are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The towns, each with everything below it.
    Town,
    /// Every unit of one kind, on its own (e.g. Youth Homes).
    Kind(OrgUnitKind),
}

/// Thresholds that decide which rows count, read from the eligibility rules. They are
/// parameters here so that no policy number lives in this code.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureRules {
    /// An activity counts toward work integration with at least this many sign-ups …
    pub min_signups: i64,
    /// … and at least this many photos uploaded after it ended.
    pub min_photos_after_end: i64,
}

/// The org unit a row belongs to, joined as `ou`.
pub(super) fn ou() -> Alias {
    Alias::new("ou")
}

impl Level {
    /// The grouping column: the unit a row counts for.
    pub(super) fn unit(&self) -> SimpleExpr {
        match self {
            Level::Town => Expr::col((ou(), org_unit::Column::TownId)),
            Level::Kind(_) => Expr::col((ou(), org_unit::Column::Id)),
        }
    }

    pub(super) fn restrict(&self, query: &mut SelectStatement) {
        if let Level::Kind(kind) = self {
            query.and_where(Expr::col((ou(), org_unit::Column::Kind)).eq(kind.to_value()));
        }
    }

    /// The kind of the org units ranked.
    pub fn kind(&self) -> OrgUnitKind {
        match self {
            Level::Town => OrgUnitKind::Town,
            Level::Kind(kind) => *kind,
        }
    }
}

/// Every raw figure of every unit of `level` for `period`, and the units' targets for it.
pub async fn raw_table(
    db: &impl ConnectionTrait,
    period: &Period,
    level: Level,
    rules: &FigureRules,
) -> Result<RawTable, DbErr> {
    let units: Vec<i64> = org_unit::Entity::find()
        .select_only()
        .column(org_unit::Column::Id)
        .filter(org_unit::Column::Kind.eq(level.kind()))
        .order_by_asc(org_unit::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let (start, end) = (period.start_utc(), period.end_utc());
    let f = Families { level, start, end };

    let mut figures: HashMap<String, HashMap<i64, i64>> = HashMap::new();
    figures.insert("valid_questions".into(), f.count(db, f.questions()).await?);
    figures.insert("answers".into(), f.count(db, f.answers()).await?);
    figures.insert(
        "expert_answers".into(),
        f.count(db, f.expert_answers()).await?,
    );
    figures.insert(
        "topic_participations".into(),
        f.count(db, f.participations()).await?,
    );
    figures.insert(
        "eligible_activities".into(),
        f.count(db, f.eligible_activities(rules)).await?,
    );
    figures.insert(
        "youth_homes".into(),
        f.count(db, f.youth_homes(period)).await?,
    );
    figures.insert(
        "youth_home_activities".into(),
        f.count(db, f.home_activities()).await?,
    );
    figures.insert(
        "youth_home_signups".into(),
        f.count(
            db,
            f.home_rows::<activity_signup::Entity>(
                activity_signup::Column::ActivityId,
                activity_signup::Column::SignedUpAt,
            ),
        )
        .await?,
    );
    figures.insert(
        "youth_home_comments".into(),
        f.count(
            db,
            f.home_rows::<activity_comment::Entity>(
                activity_comment::Column::ActivityId,
                activity_comment::Column::CreatedAt,
            ),
        )
        .await?,
    );
    let mut rating = f.home_rows::<activity_review::Entity>(
        activity_review::Column::ActivityId,
        activity_review::Column::CreatedAt,
    );
    figures.insert(
        "youth_home_rating_total".into(),
        f.sum(
            db,
            &mut rating,
            (activity_review::Entity, activity_review::Column::Rating),
        )
        .await?,
    );
    figures.insert("experts_recruited".into(), f.count(db, f.experts()).await?);
    let [registrations, bound] = f.registrations(db).await?;
    figures.insert(
        "update_days".into(),
        super::update_days::update_days(db, level, start, end).await?,
    );
    let mut visits_query = f.visits(period);
    let visits = f
        .sum(
            db,
            &mut visits_query,
            (daily_visit::Entity, daily_visit::Column::Visits),
        )
        .await?;

    let column = |values: &HashMap<i64, i64>| -> Vec<Option<f64>> {
        units
            .iter()
            .map(|u| Some(values.get(u).copied().unwrap_or(0) as f64))
            .collect()
    };
    let mut table = RawTable {
        units: units.clone(),
        figures: figures
            .iter()
            .map(|(k, v)| (k.clone(), column(v)))
            .collect(),
        targets: HashMap::new(),
    };
    table
        .figures
        .insert("registrations".into(), column(&registrations));
    // Rates and imported figures are missing (not zero) where there is nothing to count.
    table.figures.insert(
        "mobile_binding_rate".into(),
        units
            .iter()
            .map(|u| match registrations.get(u) {
                Some(&n) if n > 0 => Some(bound.get(u).copied().unwrap_or(0) as f64 / n as f64),
                _ => None,
            })
            .collect(),
    );
    table.figures.insert(
        "valid_visits".into(),
        units
            .iter()
            .map(|u| visits.get(u).map(|v| *v as f64))
            .collect(),
    );
    table.targets = targets(db, period, level, &units).await?;
    Ok(table)
}

/// Targets of the units of `level` for exactly this period, by metric, in the order of
/// `units`. The units are selected by kind in the database: a list of their ids could exceed
/// the bound-parameter limit of either database.
async fn targets(
    db: &impl ConnectionTrait,
    period: &Period,
    level: Level,
    units: &[i64],
) -> Result<HashMap<String, Vec<Option<f64>>>, DbErr> {
    let of_level = Query::select()
        .column(org_unit::Column::Id)
        .from(org_unit::Entity)
        .and_where(org_unit::Column::Kind.eq(level.kind()))
        .to_owned();
    let rows = target::Entity::find()
        .filter(target::Column::Period.eq(period.to_string()))
        .filter(target::Column::OrgUnitId.in_subquery(of_level))
        .all(db)
        .await?;
    let position: HashMap<i64, usize> = units.iter().enumerate().map(|(i, u)| (*u, i)).collect();
    let mut out: HashMap<String, Vec<Option<f64>>> = HashMap::new();
    for row in rows {
        if let Some(&i) = position.get(&row.org_unit_id) {
            out.entry(row.metric)
                .or_insert_with(|| vec![None; units.len()])[i] = Some(row.value);
        }
    }
    Ok(out)
}
