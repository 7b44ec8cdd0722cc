//! Grouped counts for charts: `activityStats`.

use async_graphql::{
    connection::{Connection, Edge},
    ComplexObject, Context, Enum, Object, Result, SimpleObject,
};
use entities::{enums::ActivityCategory, org_unit};

use super::{
    batch::fetch,
    nodes::{load_unit, OrgUnit},
    pagination::{cost, decode_position, ConnectionTotals, Keyset, Page, SortKey},
    ContextExt,
};
use qii_domain::service::stats::{self as service, Grouping, Measure};
use qii_engine::period::Period;

/// What `activityStats` counts. Each record falls in the period by its own instant: an
/// activity by its start, a sign-up, check-in or review when it was made.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum StatsMeasure {
    /// Activities (by start).
    Activities,
    /// Sign-ups (报名), by when they were made.
    Signups,
    /// Check-ins (签到), by when they were made.
    Checkins,
    /// Reviews (评价), by when they were written.
    Reviews,
}

impl From<StatsMeasure> for Measure {
    fn from(m: StatsMeasure) -> Self {
        match m {
            StatsMeasure::Activities => Self::Activities,
            StatsMeasure::Signups => Self::Signups,
            StatsMeasure::Checkins => Self::Checkins,
            StatsMeasure::Reviews => Self::Reviews,
        }
    }
}

/// What `activityStats` groups by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum StatsGrouping {
    /// The town of the publishing unit.
    Town,
    /// The publishing unit.
    Unit,
    /// The Asia/Shanghai month, e.g. `2017-10`.
    Month,
    /// The ISO week, e.g. `2017-W43`.
    Week,
    /// The Asia/Shanghai day, e.g. `2017-10-31`.
    Day,
    /// The activity's category.
    Category,
}

impl From<StatsGrouping> for Grouping {
    fn from(g: StatsGrouping) -> Self {
        match g {
            StatsGrouping::Town => Self::Town,
            StatsGrouping::Unit => Self::Unit,
            StatsGrouping::Month => Self::Month,
            StatsGrouping::Week => Self::Week,
            StatsGrouping::Day => Self::Day,
            StatsGrouping::Category => Self::Category,
        }
    }
}

/// One group of `activityStats` and its count; the keys not grouped by are null.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct StatsGroup {
    #[graphql(skip)]
    town_id: Option<i64>,
    #[graphql(skip)]
    unit_id: Option<i64>,
    /// The month, week or day, when grouped by one.
    period: Option<String>,
    /// The category, when grouped by it.
    category: Option<ActivityCategory>,
    /// How many records the group holds.
    count: i64,
}

#[ComplexObject]
impl StatsGroup {
    /// The town, when grouped by it.
    async fn town(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        load_unit(ctx, self.town_id).await
    }
    /// The publishing unit, when grouped by it.
    async fn unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        load_unit(ctx, self.unit_id).await
    }
}

/// Reading grouped counts.
#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// Counts of activities, sign-ups, check-ins or reviews, grouped by any of town, unit,
    /// month/week/day and category (one GROUP BY in the database), in the order of the
    /// groups; `period` keeps what happened in it, `filter` the records of the activities
    /// it keeps. Sign-ups per town per month of Oct–Dec 2017:
    /// `activityStats(measure: SIGNUPS, groupBy: [TOWN, MONTH], period: "2017-Q4", first: 100)`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn activity_stats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to count: activities, sign-ups, check-ins or reviews.")]
        measure: StatsMeasure,
        #[graphql(
            desc = "The keys to group by, e.g. `[TOWN, MONTH]`; at most one of `MONTH`, `WEEK` and `DAY`."
        )]
        group_by: Vec<StatsGrouping>,
        #[graphql(
            desc = "Only what happened in this period (each record by its own instant); null for all time."
        )]
        period: Option<Period>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<qii_domain::service::activity::ActivityFilter>,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<StatsGroup>> {
        let app = ctx.app()?;
        let query = service::StatsQuery {
            measure: measure.into(),
            group_by: group_by.into_iter().map(Into::into).collect(),
            period,
            filter: filter.unwrap_or_default(),
            rules: std::sync::Arc::new(
                app.registry()?
                    .activity_rules()
                    .map_err(qii_domain::error::ServiceError::from)?,
            ),
        };
        let (size, start) = decode_position(first, after.as_deref())?;
        let mut groups =
            service::grouped_counts(&app.db, &app.actor, &query, start as u64, size as u64 + 1)
                .await?;
        let more = groups.len() > size;
        groups.truncate(size);
        let mut units: Vec<i64> = groups
            .iter()
            .flat_map(|g| [g.town_id, g.unit_id])
            .flatten()
            .collect();
        units.sort_unstable();
        units.dedup();
        fetch::<org_unit::Entity>(ctx, &units).await?;

        let (db, actor) = (app.db.clone(), app.actor.clone());
        let totals = ConnectionTotals::lazy(move || {
            let (db, actor, query) = (db.clone(), actor.clone(), query.clone());
            async move { Ok(service::group_count(&db, &actor, &query).await?) }
        });
        let mut connection = Connection::with_additional_fields(start > 0, more, totals);
        connection.edges = groups
            .into_iter()
            .enumerate()
            .map(|(i, g)| {
                let position = (start + i) as i64;
                let cursor = Keyset::new(SortKey::Int(position), position);
                Edge::new(
                    cursor,
                    StatsGroup {
                        town_id: g.town_id,
                        unit_id: g.unit_id,
                        period: g.period,
                        category: g.category,
                        count: g.count,
                    },
                )
            })
            .collect();
        Ok(connection)
    }
}
