//! The actual values of the targets' metrics (目标完成情况) for every unit of a level at
//! once: one grouped query per metric, whatever the number of units, so that a board of
//! all towns costs a handful of queries.
//!
//! As in the index, a town's value counts everything below it (its Youth Homes' activities,
//! the experts its units recruited); a unit of another kind counts its own rows. Which
//! metrics there are is vocabulary ([`COMPLIANCE_METRICS`]); what value each must reach is
//! the targets scripts' business.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entities::{activity, enums::OrgUnitKind, org_unit};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
    ActiveEnum, ConnectionTrait, DbErr,
};

use super::{families::Families, level::ou, Level};
use qii_engine::rules::activity::ActivityRules;
use qii_engine::rules::targets::{ActivityCount, CategoryName};
use qii_engine::{period::Period, time::day_start};

/// The metrics whose actual values the platform's own data gives, beside the counts of
/// activities a targets script declares (a target with `activities`).
pub const COMPLIANCE_METRICS: &[&str] = &[
    "registrations",
    "mobile_binding_rate",
    "update_days",
    "new_youth_homes",
    "experts",
];

/// The metrics that are rates: a unit without a value has none (nothing to divide), where
/// a count without rows is zero.
pub const RATES: &[&str] = &["mobile_binding_rate"];

/// What to count, and over which days.
pub struct Window<'a> {
    pub period: &'a Period,
    /// Where figures counted "over the span so far" (`new_youth_homes`, `experts`) start:
    /// the first day of the targets span holding the period, or the period's own.
    pub span_start: NaiveDate,
}

/// Actual values by metric, then unit. A metric absent from the map is unknown; a unit
/// absent from a metric's values has none (a rate with nothing to divide).
pub type Actuals = HashMap<String, HashMap<i64, f64>>;

/// The actual values of `metrics` (those in [`COMPLIANCE_METRICS`] and those of
/// `activity_counts`, the counts of activities the targets declare; others are skipped) for
/// every unit of `level`. Counts are zero where nothing was counted.
pub async fn actuals(
    db: &impl ConnectionTrait,
    level: Level,
    window: &Window<'_>,
    rules: &ActivityRules,
    metrics: &HashSet<String>,
    activity_counts: &HashMap<String, ActivityCount>,
) -> Result<Actuals, DbErr> {
    let period = window.period;
    let f = Families {
        level,
        start: period.start_utc(),
        end: period.end_utc(),
    };
    let so_far = Families {
        level,
        start: day_start(Ord::min(window.span_start, period.first_day())),
        end: period.end_utc(),
    };
    let wanted = |m: &str| metrics.contains(m);
    let mut out: Actuals = HashMap::new();
    if wanted("registrations") || wanted("mobile_binding_rate") {
        let [registered, bound] = f.registrations(db).await?;
        let rate = registered
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(u, n)| (*u, bound.get(u).copied().unwrap_or(0) as f64 / *n as f64))
            .collect();
        out.insert("registrations".into(), as_f64(registered));
        out.insert("mobile_binding_rate".into(), rate);
    }
    if wanted("update_days") {
        let days = super::update_days::update_days(db, level, f.start, f.end).await?;
        out.insert("update_days".into(), as_f64(days));
    }
    for (metric, counted) in activity_counts {
        if wanted(metric) {
            let n = f.count(db, activities(&f, counted, rules)).await?;
            out.insert(metric.clone(), as_f64(n));
        }
    }
    if wanted("new_youth_homes") {
        let n = f
            .count(db, new_youth_homes(window.span_start, period.last_day()))
            .await?;
        out.insert("new_youth_homes".into(), as_f64(n));
    }
    if wanted("experts") {
        let n = so_far.count(db, so_far.experts()).await?;
        out.insert("experts".into(), as_f64(n));
    }
    Ok(out)
}

fn as_f64(values: HashMap<i64, i64>) -> HashMap<i64, f64> {
    values.into_iter().map(|(u, n)| (u, n as f64)).collect()
}

/// The activities of the period (by the rules' date) that `counted` declares: of its kind
/// and categories, and with the whole loop done when it says so.
fn activities(f: &Families, counted: &ActivityCount, rules: &ActivityRules) -> SelectStatement {
    let a = activity::Entity;
    let mut q = f.activities_within(rules);
    if let Some(kind) = counted.kind {
        q.and_where(Expr::col((a, activity::Column::Kind)).eq(kind.name()));
    }
    let names = |list: &[CategoryName]| list.iter().map(|c| c.name()).collect::<Vec<_>>();
    if !counted.categories.is_empty() {
        q.and_where(Expr::col((a, activity::Column::Category)).is_in(names(&counted.categories)));
    }
    if !counted.except_categories.is_empty() {
        q.and_where(
            Expr::col((a, activity::Column::Category)).is_not_in(names(&counted.except_categories)),
        );
    }
    if counted.whole_loop {
        q.cond_where(super::activity_sql::loop_whole(rules));
    }
    q
}

/// Youth Homes founded from `from` to `to` (both included).
fn new_youth_homes(from: NaiveDate, to: NaiveDate) -> SelectStatement {
    let founded = Expr::col((ou(), org_unit::Column::FoundedOn));
    Query::select()
        .from_as(org_unit::Entity, ou())
        .and_where(Expr::col((ou(), org_unit::Column::Kind)).eq(OrgUnitKind::YouthHome.to_value()))
        .and_where(founded.clone().gte(from))
        .and_where(founded.lte(to))
        .to_owned()
}
