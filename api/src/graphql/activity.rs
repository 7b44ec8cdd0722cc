//! Activities and their loop, as front-ends see them.

use async_graphql::{Context, Enum, InputObject, Object, Result, ID};
use chrono::{DateTime, Utc};
use entities::{
    activity,
    enums::{ActivityCategory, ActivityKind},
};

use super::{
    load_error,
    loaders::{ById, CountOf},
    org::{load_unit, OrgUnit},
    pagination::{paginate, OrderField, Page, PageArgs, SortDirection, SortKey},
    parse_id, parse_opt_id, ContextExt,
};
use crate::{foreign_key, service::activity as service};

foreign_key!(
    /// Activities published by an org unit.
    ActivitiesOfOrgUnit, activity, OrgUnitId, org_unit_id
);
foreign_key!(
    /// Sign-ups of an activity.
    SignupsOfActivity, activity_signup, ActivityId, activity_id
);

/// An activity in "Find Activities" (找活动): an offline activity or an online topic.
pub struct Activity(pub activity::Model);

#[Object]
impl Activity {
    /// Stable id.
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Description (plain text).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Offline activity or online topic.
    async fn kind(&self) -> ActivityKind {
        self.0.kind
    }
    /// Category, e.g. volunteer service or training.
    async fn category(&self) -> ActivityCategory {
        self.0.category
    }
    /// When it starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// When it ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// When sign-ups close (the start when not set).
    async fn signup_deadline(&self) -> DateTime<Utc> {
        self.0.signup_deadline.unwrap_or(self.0.starts_at)
    }
    /// Where it takes place.
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    /// Most sign-ups accepted; null for unlimited.
    async fn capacity(&self) -> Option<i32> {
        self.0.capacity
    }
    /// Heavyweight activity (重磅活动) published through the city platform.
    async fn heavyweight(&self) -> bool {
        self.0.heavyweight
    }
    /// When it was published.
    async fn published_at(&self) -> DateTime<Utc> {
        self.0.published_at
    }
    /// The publishing org unit (for a heavyweight activity, the applicant).
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        load_unit(ctx, Some(self.0.org_unit_id)).await
    }
    /// Number of sign-ups (报名).
    async fn signup_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let n = ctx.loader::<CountOf<SignupsOfActivity>>()?.load_one(self.0.id).await.map_err(load_error)?;
        Ok(n.unwrap_or(0))
    }
}

/// Which activities to list.
#[derive(InputObject, Default)]
pub struct ActivityFilter {
    /// Published by this org unit.
    org_unit_id: Option<ID>,
    /// Published by any unit of this town (its Youth Homes included).
    town_id: Option<ID>,
    /// Published by any unit of this district.
    district_id: Option<ID>,
    /// Offline or online topic.
    kind: Option<ActivityKind>,
    /// One category.
    category: Option<ActivityCategory>,
    /// Only heavyweight (or only ordinary) activities.
    heavyweight: Option<bool>,
    /// Starting at or after this instant.
    starts_from: Option<DateTime<Utc>>,
    /// Starting before this instant.
    starts_before: Option<DateTime<Utc>>,
    /// Text contained in the title or place.
    search: Option<String>,
}

impl ActivityFilter {
    fn into_service(self) -> Result<service::ActivityFilter> {
        Ok(service::ActivityFilter {
            org_unit_id: parse_opt_id(&self.org_unit_id)?,
            town_id: parse_opt_id(&self.town_id)?,
            district_id: parse_opt_id(&self.district_id)?,
            kind: self.kind,
            category: self.category,
            heavyweight: self.heavyweight,
            starts_from: self.starts_from,
            starts_before: self.starts_before,
            search: self.search,
        })
    }
}

/// What activity lists can be sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum ActivityOrderField {
    /// Start time.
    #[default]
    StartsAt,
    /// Publication time.
    PublishedAt,
    /// Title.
    Title,
}

impl OrderField<activity::Entity> for ActivityOrderField {
    fn column(self) -> activity::Column {
        match self {
            Self::StartsAt => activity::Column::StartsAt,
            Self::PublishedAt => activity::Column::PublishedAt,
            Self::Title => activity::Column::Title,
        }
    }
    fn key(self, m: &activity::Model) -> SortKey {
        match self {
            Self::StartsAt => SortKey::Time(m.starts_at),
            Self::PublishedAt => SortKey::Time(m.published_at),
            Self::Title => SortKey::Text(m.title.clone()),
        }
    }
}

/// Reading activities.
#[derive(Default)]
pub struct ActivityQuery;

#[Object]
impl ActivityQuery {
    /// One activity by id; null when there is none.
    async fn activity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Activity>> {
        let found = ctx.loader::<ById<activity::Entity>>()?.load_one(parse_id(&id)?).await.map_err(load_error)?;
        Ok(found.map(Activity))
    }

    /// Activities, filtered and sorted, as a cursor connection.
    #[allow(clippy::too_many_arguments)]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        filter: Option<ActivityFilter>,
        #[graphql(default)] order_by: ActivityOrderField,
        #[graphql(default)] direction: SortDirection,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<Activity>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default().into_service()?;
        let select = service::activities(&app.actor, &filter);
        paginate(&app.db, select, order_by, direction, PageArgs::new(after, before, first, last), Activity).await
    }
}

/// A new activity.
#[derive(InputObject)]
pub struct CreateActivityInput {
    /// The publishing org unit.
    org_unit_id: ID,
    title: String,
    #[graphql(default)]
    description: String,
    kind: ActivityKind,
    category: ActivityCategory,
    starts_at: DateTime<Utc>,
    /// Must be after `startsAt`.
    ends_at: DateTime<Utc>,
    /// When sign-ups close (default: the start); not after the end.
    signup_deadline: Option<DateTime<Utc>>,
    place: Option<String>,
    /// Most sign-ups accepted (at least 1); leave out for unlimited.
    capacity: Option<i32>,
    #[graphql(default)]
    heavyweight: bool,
}

/// Changing activities and taking part in them.
#[derive(Default)]
pub struct ActivityMutation;

#[Object]
impl ActivityMutation {
    /// Publishes an activity.
    async fn create_activity(&self, ctx: &Context<'_>, input: CreateActivityInput) -> Result<Activity> {
        let app = ctx.app()?;
        let new = service::NewActivity {
            org_unit_id: parse_id(&input.org_unit_id)?,
            title: input.title,
            description: input.description,
            kind: input.kind,
            category: input.category,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            signup_deadline: input.signup_deadline,
            place: input.place,
            capacity: input.capacity,
            heavyweight: input.heavyweight,
        };
        Ok(Activity(service::create_activity(&app.db, &app.actor, new).await?))
    }
}
