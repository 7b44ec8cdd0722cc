//! Activities and their loop, as front-ends see them.

use crate::Id;
use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entities::{
    activity,
    enums::{ActivityCategory, ActivityKind},
    org_unit,
};

use super::heavyweight::HeavyweightStatus;
use super::{
    activity_records::{
        ActivityCommentOrderField, ActivityPhotoOrderField, ActivityReviewOrderField,
        ActivitySignupOrderField,
    },
    activity_rules::{ActivityEligibility, LoopCompleteness},
    activity_types::{
        ActivityComment, ActivityLoopSteps, ActivityPhoto, ActivityReview, ActivitySignup,
        CommentsOfActivity, PhotosOfActivity, ReviewsOfActivity,
    },
    nodes::{load_activity, unit_via, Activity, OrgUnit, SignupsOfActivity},
    pagination::{cost, nested, OrderField, Page, SortDirection, SortKey},
    undefined_to_option, ContextExt,
};
use crate::foreign_key;
use qii_domain::service::{
    activity as service, activity_feedback as feedback, activity_loop as participation,
    activity_photo as photos,
};
use sea_orm::{sea_query::Expr, Iterable, QuerySelect, Select};

foreign_key!(
    /// Activities published by an org unit.
    ActivitiesOfOrgUnit, activity, OrgUnitId, org_unit_id, org_unit
);

/// An activity in "Find Activities" (找活动): an offline activity or an online topic.
#[Object]
impl Activity {
    /// Stable id.
    async fn id(&self) -> Id {
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
    /// For a heavyweight activity, where its application stands with the city: its
    /// figures count for the publisher only once `APPROVED`. Null for an ordinary activity.
    async fn heavyweight_status(&self, ctx: &Context<'_>) -> Result<Option<HeavyweightStatus>> {
        Ok(self
            .heavyweight_decision(ctx)
            .await?
            .map(|d| d.standing.into()))
    }
    /// The city's note on the decision about a heavyweight activity (why it was rejected).
    async fn heavyweight_decision_note(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.heavyweight_decision(ctx).await?.and_then(|d| d.note))
    }
    /// When it was published.
    async fn published_at(&self) -> DateTime<Utc> {
        self.0.published_at
    }
    /// The publishing org unit (for a heavyweight activity, the applicant).
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::activity::Entity>(ctx, &self.0, "org_unit_id", |m| Some(m.org_unit_id))
            .await
    }
    /// Number of sign-ups (报名).
    async fn signup_count(&self) -> i64 {
        self.0.signup_count
    }
    /// Places still free; null for unlimited.
    async fn spots_left(&self) -> Option<i64> {
        let capacity = self.0.capacity?;
        Some((i64::from(capacity) - self.0.signup_count).max(0))
    }
    /// Number of check-ins (签到).
    async fn checkin_count(&self) -> i64 {
        self.0.checkin_count
    }
    /// Number of comments (评论).
    async fn comment_count(&self) -> i64 {
        self.0.comment_count
    }
    /// Number of likes (点赞).
    async fn like_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.likes(ctx).await?.likes)
    }
    /// Number of votes (投票).
    async fn vote_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.likes(ctx).await?.votes)
    }
    /// Number of reviews (评价).
    async fn review_count(&self) -> i64 {
        self.0.review_count
    }
    /// Sum of all review ratings (打分), e.g. for a "total rating" indicator.
    async fn rating_total(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.ratings(ctx).await?.sum)
    }
    /// Mean review rating (1–5); null without reviews.
    async fn average_rating(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.ratings(ctx).await?.mean())
    }
    /// Number of photos.
    async fn photo_count(&self) -> i64 {
        self.0.photo_count
    }
    /// Number of photos uploaded after the activity ended.
    async fn photos_after_end(&self) -> i64 {
        self.0.photos_after_end_count
    }
    /// Its sign-ups, oldest first unless sorted otherwise: all of them for the
    /// administrators of its unit, a member's own for a member.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn signups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<participation::ParticipationFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: ActivitySignupOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<ActivitySignup>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let select = participation::signups(&app.actor, &filter)?;
        nested::<activity::Entity, SignupsOfActivity, _, _>(
            ctx,
            self.0.id,
            select,
            &filter,
            (order_by, direction),
            (first, after),
            ActivitySignup,
        )
        .await
    }
    /// Its comments, oldest first unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<participation::ParticipationFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: ActivityCommentOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<ActivityComment>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let select = feedback::comments(&app.actor, &filter);
        nested::<activity::Entity, CommentsOfActivity, _, _>(
            ctx,
            self.0.id,
            select,
            &filter,
            (order_by, direction),
            (first, after),
            ActivityComment,
        )
        .await
    }
    /// Its reviews, oldest first unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<participation::ParticipationFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: ActivityReviewOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<ActivityReview>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let select = feedback::reviews(&app.actor, &filter);
        nested::<activity::Entity, ReviewsOfActivity, _, _>(
            ctx,
            self.0.id,
            select,
            &filter,
            (order_by, direction),
            (first, after),
            ActivityReview,
        )
        .await
    }
    /// Its photos, oldest first unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn photos(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: ActivityPhotoOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<ActivityPhoto>> {
        let app = ctx.app()?;
        let select = photos::photos(&app.actor, None);
        nested::<activity::Entity, PhotosOfActivity, _, _>(
            ctx,
            self.0.id,
            select,
            &(),
            (order_by, direction),
            (first, after),
            ActivityPhoto,
        )
        .await
    }
    /// Whether it counts toward the index and, if not, why — as the activity rules in
    /// force decide.
    async fn eligibility(&self, ctx: &Context<'_>) -> Result<ActivityEligibility> {
        Box::pin(self.eligibility_by_rules(ctx)).await
    }
    /// Which steps of its loop are done and whether the loop is whole — as the activity
    /// rules in force decide.
    async fn loop_completeness(&self, ctx: &Context<'_>) -> Result<LoopCompleteness> {
        Box::pin(self.loop_by_rules(ctx)).await
    }
    /// Which steps of the activity loop (活动闭环) have happened, as plain facts.
    /// Whether the loop is complete, or the activity counts toward the index, is for
    /// the rule scripts to decide.
    async fn loop_steps(&self) -> ActivityLoopSteps<'_> {
        ActivityLoopSteps(self)
    }
}

/// The activity rules in force.
fn activity_rules(ctx: &Context<'_>) -> Result<qii_engine::rules::activity::ActivityRules> {
    Ok(ctx
        .app()?
        .registry()?
        .activity_rules()
        .map_err(qii_domain::error::ServiceError::from)?)
}

/// A page of the activities of org unit `unit`, loaded for every sibling of `unit` at once.
pub async fn activities_of_unit(
    ctx: &Context<'_>,
    unit: i64,
    filter: Option<service::ActivityFilter>,
    (order_by, direction): (ActivityOrderField, SortDirection),
    first: Option<i32>,
    after: Option<String>,
) -> Result<Page<Activity>> {
    let app = ctx.app()?;
    let filter = filter.unwrap_or_default();
    let rules = activity_rules(ctx)?;
    let (select, light) = lighten(ctx, service::activities(&app.actor, &filter, &rules));
    nested::<org_unit::Entity, ActivitiesOfOrgUnit, _, _>(
        ctx,
        unit,
        select,
        &(&filter, light),
        (order_by, direction),
        (first, after),
        Activity,
    )
    .await
}

/// Leaves the description out of a list's rows unless the query asks for it: it is by
/// far the largest column, and list screens show titles. True when it was left out.
fn lighten(
    ctx: &Context<'_>,
    select: Select<activity::Entity>,
) -> (Select<activity::Entity>, bool) {
    let ahead = ctx.look_ahead();
    let wanted = ahead.field("nodes").field("description").exists()
        || ahead
            .field("edges")
            .field("node")
            .field("description")
            .exists();
    if wanted {
        return (select, false);
    }
    let columns = activity::Column::iter().filter(|c| !matches!(c, activity::Column::Description));
    let light = select
        .select_only()
        .columns(columns)
        .expr_as(Expr::val(""), "description");
    (light, true)
}

/// What activity lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
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
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity's id.")] id: Id,
    ) -> Result<Option<Activity>> {
        load_activity(ctx, id.0).await
    }
}

lists! {
    /// The lists of `ActivityQuery`'s domain, as cursor connections.
    pub struct ActivityLists;

    /// Activities, filtered and sorted, as a cursor connection.
    activities(ctx, filter: service::ActivityFilter) by ActivityOrderField -> Activity {
        let app = ctx.app()?;
        let rules = activity_rules(ctx)?;
        lighten(ctx, service::activities(&app.actor, &filter, &rules)).0
    }
}

/// A new activity.
#[derive(InputObject)]
pub struct CreateActivityInput {
    /// The publishing org unit.
    org_unit_id: Id,
    /// Title, as shown in "Find Activities".
    title: String,
    /// Description (plain text); empty when left out.
    #[graphql(default)]
    description: String,
    /// Offline activity or online topic.
    kind: ActivityKind,
    /// Category, e.g. volunteer service or training.
    category: ActivityCategory,
    /// When it starts.
    starts_at: DateTime<Utc>,
    /// Must be after `startsAt`.
    ends_at: DateTime<Utc>,
    /// When sign-ups close (default: the start); not after the end.
    signup_deadline: Option<DateTime<Utc>>,
    /// Where it takes place; leave out when there is no place (e.g. online).
    place: Option<String>,
    /// Most sign-ups accepted (at least 1); leave out for unlimited.
    capacity: Option<i32>,
    /// Heavyweight activity (重磅活动), counted for the publisher only once a heavyweight
    /// application naming it is approved; default false.
    #[graphql(default)]
    heavyweight: bool,
}

/// Changes to an activity; omitted fields stay, `null` clears an optional field.
#[derive(InputObject)]
pub struct UpdateActivityInput {
    /// New title.
    title: Option<String>,
    /// New description (plain text).
    description: Option<String>,
    /// Offline activity or online topic.
    kind: Option<ActivityKind>,
    /// New category.
    category: Option<ActivityCategory>,
    /// New start; the end must stay after it.
    starts_at: Option<DateTime<Utc>>,
    /// New end; must stay after the start.
    ends_at: Option<DateTime<Utc>>,
    /// When sign-ups close, not after the end; `null` closes them at the start.
    signup_deadline: MaybeUndefined<DateTime<Utc>>,
    /// Where it takes place; `null` clears it.
    place: MaybeUndefined<String>,
    /// At least 1 and not below the sign-ups already taken; `null` for unlimited.
    capacity: MaybeUndefined<i32>,
    /// Heavyweight activity (重磅活动) or not.
    heavyweight: Option<bool>,
}

/// Publishing and changing activities.
#[derive(Default)]
pub struct ActivityMutation;

#[Object]
impl ActivityMutation {
    /// Publishes an activity.
    async fn create_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity to publish.")] input: CreateActivityInput,
    ) -> Result<Activity> {
        let app = ctx.app()?;
        let new = service::NewActivity {
            org_unit_id: input.org_unit_id.0,
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
        Ok(Activity(
            service::create_activity(&app.db, &app.actor, new).await?,
        ))
    }

    /// Updates an activity.
    async fn update_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity's id.")] id: Id,
        #[graphql(
            desc = "The changes; fields left out stay as they are, `null` clears an optional field."
        )]
        input: UpdateActivityInput,
    ) -> Result<Activity> {
        let app = ctx.app()?;
        let changes = service::ActivityChanges {
            title: input.title,
            description: input.description,
            kind: input.kind,
            category: input.category,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            signup_deadline: undefined_to_option(input.signup_deadline),
            place: undefined_to_option(input.place),
            capacity: undefined_to_option(input.capacity),
            heavyweight: input.heavyweight,
        };
        Ok(Activity(
            service::update_activity(&app.db, &app.actor, id.0, changes).await?,
        ))
    }
}
