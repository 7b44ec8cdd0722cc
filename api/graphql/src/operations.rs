//! Daily visits and targets: importing and reading the figures the index is built from.

use crate::Id;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{daily_visit, target};

use super::{
    nodes::{unit_via, OrgUnit},
    pagination::{OrderField, SortKey},
    visible_by_id, ContextExt,
};
use qii_domain::service::operations as service;
use qii_engine::period::Period;

/// Valid visits (有效访问量) of an org unit on one Asia/Shanghai day.
pub struct DailyVisit(pub daily_visit::Model);

/// Valid visits (有效访问量) of an org unit on one Asia/Shanghai day.
#[Object]
impl DailyVisit {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The org unit visited.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::daily_visit::Entity>(ctx, &self.0, "org_unit_id", |m| {
            Some(m.org_unit_id)
        })
        .await
    }
    /// The Asia/Shanghai day.
    async fn day(&self) -> NaiveDate {
        self.0.day
    }
    /// Valid visits that day.
    async fn visits(&self) -> i64 {
        self.0.visits
    }
    /// When the figure was last imported.
    async fn imported_at(&self) -> DateTime<Utc> {
        self.0.imported_at
    }
}

/// A target (目标) of an org unit for a period on a named metric.
pub struct Target(pub target::Model);

/// A target (目标) of an org unit for a period on a named metric.
#[Object]
impl Target {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The org unit the target is set for.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::target::Entity>(ctx, &self.0, "org_unit_id", |m| Some(m.org_unit_id))
            .await
    }
    /// The period: `2017-10`, `2017-W43`, `2017-Q4`, `2017-H2`, `2017` or `2017-10-01..2017-10-15`.
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// First day of the period.
    async fn starts_on(&self) -> Option<NaiveDate> {
        self.parsed_period().map(|p| p.first_day())
    }
    /// Last day of the period (inclusive).
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.parsed_period().map(|p| p.last_day())
    }
    /// The metric, lower_snake_case, e.g. `update_days` or `registrations`.
    async fn metric(&self) -> &str {
        &self.0.metric
    }
    /// The value to reach.
    async fn value(&self) -> f64 {
        self.0.value
    }
}

impl Target {
    /// The stored period; none if the row was written around the service with bad text.
    fn parsed_period(&self) -> Option<Period> {
        self.0.period.parse().ok()
    }
}

/// What daily-visit lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum DailyVisitOrderField {
    /// Day.
    #[default]
    Day,
    /// Number of visits.
    Visits,
}

impl OrderField<daily_visit::Entity> for DailyVisitOrderField {
    fn column(self) -> daily_visit::Column {
        match self {
            Self::Day => daily_visit::Column::Day,
            Self::Visits => daily_visit::Column::Visits,
        }
    }
    fn key(self, m: &daily_visit::Model) -> SortKey {
        match self {
            Self::Day => SortKey::Date(m.day),
            Self::Visits => SortKey::Int(m.visits),
        }
    }
}

/// What target lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum TargetOrderField {
    /// Period, as written (months and quarters of a year sort together).
    #[default]
    Period,
    /// Metric name.
    Metric,
    /// Value.
    Value,
}

impl OrderField<target::Entity> for TargetOrderField {
    fn column(self) -> target::Column {
        match self {
            Self::Period => target::Column::Period,
            Self::Metric => target::Column::Metric,
            Self::Value => target::Column::Value,
        }
    }
    fn key(self, m: &target::Model) -> SortKey {
        match self {
            Self::Period => SortKey::Text(m.period.clone()),
            Self::Metric => SortKey::Text(m.metric.clone()),
            Self::Value => SortKey::Float(m.value),
        }
    }
}

/// Reading visits and targets.
#[derive(Default)]
pub struct OperationsQuery;

#[Object]
impl OperationsQuery {
    /// One daily visit row by id; null when there is none.
    async fn daily_visit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The daily visit record's id.")] id: Id,
    ) -> Result<Option<DailyVisit>> {
        let visible = service::daily_visits(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(DailyVisit))
    }

    /// One target by id; null when there is none.
    async fn target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target's id.")] id: Id,
    ) -> Result<Option<Target>> {
        let visible = service::targets(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(Target))
    }
}

lists! {
    /// The lists of `OperationsQuery`'s domain, as cursor connections.
    pub struct OperationsLists;

    /// Daily visit rows, filtered and sorted, as a cursor connection.
    daily_visits(ctx, filter: service::DailyVisitFilter) by DailyVisitOrderField -> DailyVisit {
        let app = ctx.app()?;
        service::daily_visits(&app.actor, &filter)?
    }

    /// Targets, filtered and sorted, as a cursor connection.
    targets(ctx, filter: service::TargetFilter) by TargetOrderField -> Target {
        let app = ctx.app()?;
        service::targets(&app.actor, &filter)?
    }
}

/// One row of a visit import.
#[derive(InputObject)]
pub struct DailyVisitRowInput {
    /// The org unit visited. Checked with the row: a malformed id is listed among the
    /// row problems, with the others.
    org_unit_id: async_graphql::ID,
    /// The Asia/Shanghai day (not in the future).
    day: NaiveDate,
    /// Valid visits that day (zero or more).
    visits: i64,
}

/// A batch of daily visit figures.
#[derive(InputObject)]
pub struct RecordDailyVisitsInput {
    /// The rows; at most one per org unit and day.
    rows: Vec<DailyVisitRowInput>,
}

/// What an accepted visit import did.
#[derive(SimpleObject)]
pub struct RecordDailyVisitsPayload {
    /// Rows that were new.
    inserted: i64,
    /// Rows that replaced an earlier figure for the same unit and day.
    updated: i64,
    /// The stored rows, in the order sent.
    rows: Vec<DailyVisit>,
}

/// A target to set.
#[derive(InputObject)]
pub struct SetTargetInput {
    /// The org unit.
    org_unit_id: Id,
    /// `2017-10` (month), `2017-W43` (ISO week), `2017-Q4` (quarter) or
    /// `2017-10-01..2017-10-15` (days, inclusive).
    period: String,
    /// lower_snake_case metric name, e.g. `update_days`.
    metric: String,
    /// The value to reach (zero or more).
    value: f64,
}

/// Changes to a target.
#[derive(InputObject)]
pub struct UpdateTargetInput {
    /// The new value (zero or more).
    value: f64,
}

/// Importing visits and setting targets.
#[derive(Default)]
pub struct OperationsMutation;

#[Object]
impl OperationsMutation {
    /// Records daily visits, replacing any figure already stored for a unit and day.
    /// All or nothing: when a row is invalid, nothing is written and the error lists every
    /// problem in its message and in `extensions.rows` (`row` from 1, `index` from 0,
    /// `field`, `reason`).
    async fn record_daily_visits(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The visit figures to record, one row per org unit and day.")]
        input: RecordDailyVisitsInput,
    ) -> Result<RecordDailyVisitsPayload> {
        let app = ctx.app()?;
        let rows = input
            .rows
            .into_iter()
            .map(|r| service::VisitRow {
                org_unit_id: Id::read(&r.org_unit_id).map(Id::get),
                day: r.day,
                visits: r.visits,
            })
            .collect();
        let done = service::record_daily_visits(&app.db, &app.actor, rows).await?;
        Ok(RecordDailyVisitsPayload {
            inserted: i64::try_from(done.inserted).unwrap_or(i64::MAX),
            updated: i64::try_from(done.updated).unwrap_or(i64::MAX),
            rows: done.rows.into_iter().map(DailyVisit).collect(),
        })
    }

    /// Sets the target of an org unit for a period and metric (replacing any earlier value).
    async fn set_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The org unit, period, metric and value of the target.")]
        input: SetTargetInput,
    ) -> Result<Target> {
        let app = ctx.app()?;
        let new = service::NewTarget {
            org_unit_id: input.org_unit_id.0,
            period: input.period,
            metric: input.metric,
            value: input.value,
        };
        Ok(Target(service::set_target(&app.db, &app.actor, new).await?))
    }

    /// Changes the value of a target.
    async fn update_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target's id.")] id: Id,
        #[graphql(desc = "The target's new value.")] input: UpdateTargetInput,
    ) -> Result<Target> {
        let app = ctx.app()?;
        Ok(Target(
            service::update_target(&app.db, &app.actor, id.0, input.value).await?,
        ))
    }
}
