//! Grouped counts for front-ends' charts: activities, sign-ups, check-ins or reviews,
//! grouped by any of town, unit, month, ISO week, day and category, filtered as the
//! activity lists are — one GROUP BY in the database, paged.

use entities::{
    activity, activity_checkin, activity_review, activity_signup, enums::ActivityCategory, org_unit,
};
use qii_engine::rules::activity::ActivityRules;
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement},
    ConnectionTrait, DatabaseConnection, DbBackend, QuerySelect, QueryTrait, TryGetable,
};

use super::activity::{activities, ActivityFilter};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};
use qii_engine::period::Period;

/// What is counted. Each is placed in time by its own instant: an activity by its start,
/// a sign-up, check-in or review when it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Activities,
    Signups,
    Checkins,
    Reviews,
}

/// What counts are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grouping {
    /// The town of the activity's unit.
    Town,
    /// The unit that published the activity.
    Unit,
    /// The Asia/Shanghai month, `2017-10`.
    Month,
    /// The ISO week, `2017-W43`.
    Week,
    /// The Asia/Shanghai day, `2017-10-31`.
    Day,
    /// The activity's category.
    Category,
}

impl Grouping {
    fn alias(self) -> &'static str {
        match self {
            Self::Town => "g_town",
            Self::Unit => "g_unit",
            Self::Month | Self::Week | Self::Day => "g_period",
            Self::Category => "g_category",
        }
    }
}

/// One group and its count.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub town_id: Option<i64>,
    pub unit_id: Option<i64>,
    /// The month, week or day, as written.
    pub period: Option<String>,
    pub category: Option<ActivityCategory>,
    pub count: i64,
}

/// What to count.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    pub measure: Measure,
    pub group_by: Vec<Grouping>,
    /// Only what happened in this period (by each measure's own instant).
    pub period: Option<Period>,
    /// Only records of the activities this filter keeps.
    pub filter: ActivityFilter,
    /// The activity rules in force: the date they count an activity by is the activities'
    /// own instant, and the filter's `countedIn` goes by it.
    pub rules: std::sync::Arc<ActivityRules>,
}

/// One page of groups, in the order of the grouping keys, from `offset`.
pub async fn grouped_counts(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &StatsQuery,
    offset: u64,
    limit: u64,
) -> ServiceResult<Vec<Group>> {
    let backend = db.get_database_backend();
    let mut statement = statement(backend, actor, query)?;
    for grouping in groupings(query)? {
        statement.order_by(Alias::new(grouping.alias()), sea_orm::Order::Asc);
    }
    statement.limit(limit).offset(offset);
    let rows = db.query_all(&statement).await?;
    let get = |row: &sea_orm::QueryResult, grouping: Grouping| -> Option<String> {
        let wanted = query.group_by.contains(&grouping);
        wanted
            .then(|| value::<String>(row, grouping.alias()))
            .flatten()
    };
    rows.iter()
        .map(|row| {
            let id = |g: Grouping| {
                query
                    .group_by
                    .contains(&g)
                    .then(|| value::<i64>(row, g.alias()))
                    .flatten()
            };
            let period = [Grouping::Month, Grouping::Week, Grouping::Day]
                .into_iter()
                .find_map(|g| get(row, g));
            let category = get(row, Grouping::Category)
                .map(|c| {
                    <ActivityCategory as sea_orm::ActiveEnum>::try_from_value(&c)
                        .map_err(ServiceError::from)
                })
                .transpose()?;
            Ok(Group {
                town_id: id(Grouping::Town),
                unit_id: id(Grouping::Unit),
                period,
                category,
                count: value::<i64>(row, "n").unwrap_or(0),
            })
        })
        .collect()
}

/// How many groups there are.
pub async fn group_count(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &StatsQuery,
) -> ServiceResult<u64> {
    let backend = db.get_database_backend();
    let grouped = statement(backend, actor, query)?;
    let counted = Query::select()
        .expr_as(Expr::col(sea_orm::sea_query::Asterisk).count(), "n")
        .from_subquery(grouped, "groups")
        .to_owned();
    let row = db.query_one(&counted).await?;
    Ok(row
        .and_then(|r| value::<i64>(&r, "n"))
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0))
}

fn value<T: TryGetable>(row: &sea_orm::QueryResult, column: &str) -> Option<T> {
    row.try_get::<Option<T>>("", column).ok().flatten()
}

/// The groupings asked for, checked: at most one time bucket.
fn groupings(query: &StatsQuery) -> ServiceResult<Vec<Grouping>> {
    let mut seen: Vec<Grouping> = Vec::new();
    for g in &query.group_by {
        if !seen.contains(g) {
            seen.push(*g);
        }
    }
    let buckets = seen
        .iter()
        .filter(|g| matches!(g, Grouping::Month | Grouping::Week | Grouping::Day))
        .count();
    if buckets > 1 {
        return Err(ServiceError::invalid(
            "groupBy",
            "group by at most one of MONTH, WEEK and DAY",
        ));
    }
    Ok(seen)
}

/// `SELECT <groups>, COUNT(*) AS n FROM <records> JOIN activity … GROUP BY <groups>`.
fn statement(
    backend: DbBackend,
    actor: &Actor,
    query: &StatsQuery,
) -> ServiceResult<SelectStatement> {
    let groupings = groupings(query)?;
    let visible = activities(actor, &query.filter, &query.rules)
        .select_only()
        .column(activity::Column::Id)
        .into_query();
    let mut q = Query::select();
    let instant: Expr = match query.measure {
        Measure::Activities => {
            q.from(activity::Entity);
            Expr::col((
                activity::Entity,
                crate::scoring::activity_sql::period_column(&query.rules),
            ))
        }
        Measure::Signups => {
            q.from(activity_signup::Entity).inner_join(
                activity::Entity,
                Expr::col((activity::Entity, activity::Column::Id))
                    .equals((activity_signup::Entity, activity_signup::Column::ActivityId)),
            );
            Expr::col((activity_signup::Entity, activity_signup::Column::SignedUpAt))
        }
        Measure::Checkins => {
            q.from(activity_checkin::Entity)
                .inner_join(
                    activity_signup::Entity,
                    Expr::col((activity_signup::Entity, activity_signup::Column::Id))
                        .equals((activity_checkin::Entity, activity_checkin::Column::SignupId)),
                )
                .inner_join(
                    activity::Entity,
                    Expr::col((activity::Entity, activity::Column::Id))
                        .equals((activity_signup::Entity, activity_signup::Column::ActivityId)),
                );
            Expr::col((
                activity_checkin::Entity,
                activity_checkin::Column::CheckedInAt,
            ))
        }
        Measure::Reviews => {
            q.from(activity_review::Entity).inner_join(
                activity::Entity,
                Expr::col((activity::Entity, activity::Column::Id))
                    .equals((activity_review::Entity, activity_review::Column::ActivityId)),
            );
            Expr::col((activity_review::Entity, activity_review::Column::CreatedAt))
        }
    };
    if groupings.contains(&Grouping::Town) {
        q.inner_join(
            org_unit::Entity,
            Expr::col((org_unit::Entity, org_unit::Column::Id))
                .equals((activity::Entity, activity::Column::OrgUnitId)),
        );
    }
    for g in &groupings {
        let expr = match g {
            Grouping::Town => Expr::col((org_unit::Entity, org_unit::Column::TownId)),
            Grouping::Unit => Expr::col((activity::Entity, activity::Column::OrgUnitId)),
            Grouping::Category => Expr::col((activity::Entity, activity::Column::Category)),
            Grouping::Month => bucket(backend, instant.clone(), "YYYY-MM", "%Y-%m"),
            Grouping::Week => bucket(backend, instant.clone(), "IYYY-\"W\"IW", "%G-W%V"),
            Grouping::Day => bucket(backend, instant.clone(), "YYYY-MM-DD", "%Y-%m-%d"),
        };
        q.expr_as(expr.clone(), Alias::new(g.alias()));
        q.add_group_by([expr]);
    }
    q.expr_as(Func::count(Expr::col(sea_orm::sea_query::Asterisk)), "n");
    q.and_where(Expr::col((activity::Entity, activity::Column::Id)).in_subquery(visible));
    if let Some(period) = &query.period {
        q.and_where(instant.clone().gte(period.start_utc()));
        q.and_where(instant.lt(period.end_utc()));
    }
    Ok(q.to_owned())
}

/// The Asia/Shanghai month, week or day of an instant, as text. Shanghai has kept UTC+8
/// without daylight saving since 1991, which SQLite's `+8 hours` relies on.
fn bucket(backend: DbBackend, instant: Expr, pg: &'static str, sqlite: &'static str) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_exprs(
            format!("to_char(timezone('Asia/Shanghai', $1), '{pg}')"),
            [instant],
        ),
        // Each builder writes its own placeholder: `$1` above, `?` here.
        _ => Expr::cust_with_exprs(format!("strftime('{sqlite}', ?, '+8 hours')"), [instant]),
    }
}
