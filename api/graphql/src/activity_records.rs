//! Reading the records of activity loops: each kind by id and as a cursor connection.

use crate::Id;
use async_graphql::{Context, Enum, InputObject, Object, Result};
use entities::{
    activity_checkin, activity_comment, activity_like, activity_photo, activity_review,
    activity_signup, HasId,
};

use super::{
    activity_types::{
        ActivityCheckin, ActivityComment, ActivityLike, ActivityPhoto, ActivityReview,
        ActivitySignup,
    },
    load_error,
    loaders::ById,
    pagination::{OrderField, SortKey},
    visible_by_id, ContextExt,
};
use qii_domain::service::{
    activity_feedback as feedback, activity_loop as participation, activity_photo as photos,
};

/// Which photos to list.
#[derive(InputObject, Default)]
pub struct ActivityPhotoFilter {
    /// Of this activity.
    activity_id: Option<Id>,
}

/// What sign-up lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ActivitySignupOrderField {
    /// Sign-up time.
    #[default]
    SignedUpAt,
}

impl OrderField<activity_signup::Entity> for ActivitySignupOrderField {
    fn column(self) -> activity_signup::Column {
        activity_signup::Column::SignedUpAt
    }
    fn key(self, m: &activity_signup::Model) -> SortKey {
        SortKey::Time(m.signed_up_at)
    }
}

/// What check-in lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ActivityCheckinOrderField {
    /// Check-in time.
    #[default]
    CheckedInAt,
}

impl OrderField<activity_checkin::Entity> for ActivityCheckinOrderField {
    fn column(self) -> activity_checkin::Column {
        activity_checkin::Column::CheckedInAt
    }
    fn key(self, m: &activity_checkin::Model) -> SortKey {
        SortKey::Time(m.checked_in_at)
    }
}

/// What comment lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ActivityCommentOrderField {
    /// Writing time.
    #[default]
    CreatedAt,
}

impl OrderField<activity_comment::Entity> for ActivityCommentOrderField {
    fn column(self) -> activity_comment::Column {
        activity_comment::Column::CreatedAt
    }
    fn key(self, m: &activity_comment::Model) -> SortKey {
        SortKey::Time(m.created_at)
    }
}

/// What review lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ActivityReviewOrderField {
    /// Writing time.
    #[default]
    CreatedAt,
    /// Rating.
    Rating,
}

impl OrderField<activity_review::Entity> for ActivityReviewOrderField {
    fn column(self) -> activity_review::Column {
        match self {
            Self::CreatedAt => activity_review::Column::CreatedAt,
            Self::Rating => activity_review::Column::Rating,
        }
    }
    fn key(self, m: &activity_review::Model) -> SortKey {
        match self {
            Self::CreatedAt => SortKey::Time(m.created_at),
            Self::Rating => SortKey::Int(i64::from(m.rating)),
        }
    }
}

/// What like lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ActivityLikeOrderField {
    /// When it was given.
    #[default]
    CreatedAt,
}

impl OrderField<activity_like::Entity> for ActivityLikeOrderField {
    fn column(self) -> activity_like::Column {
        activity_like::Column::CreatedAt
    }
    fn key(self, m: &activity_like::Model) -> SortKey {
        SortKey::Time(m.created_at)
    }
}

/// What photo lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ActivityPhotoOrderField {
    /// Upload time.
    #[default]
    UploadedAt,
}

impl OrderField<activity_photo::Entity> for ActivityPhotoOrderField {
    fn column(self) -> activity_photo::Column {
        activity_photo::Column::UploadedAt
    }
    fn key(self, m: &activity_photo::Model) -> SortKey {
        SortKey::Time(m.uploaded_at)
    }
}

/// One row by id through the request's batch loader.
async fn by_id<E>(ctx: &Context<'_>, id: &Id) -> Result<Option<E::Model>>
where
    E: HasId,
    E::Model: Sync,
{
    ctx.loader::<ById<E>>()?
        .load_one(id.0)
        .await
        .map_err(load_error)
}

/// Reading sign-ups, check-ins, comments, reviews, likes and photos.
#[derive(Default)]
pub struct ActivityRecordQuery;

#[Object]
impl ActivityRecordQuery {
    /// One sign-up by id; null when there is none.
    async fn activity_signup(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sign-up's id.")] id: Id,
    ) -> Result<Option<ActivitySignup>> {
        let visible = participation::signups(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(ActivitySignup))
    }

    /// One check-in by id; null when there is none.
    async fn activity_checkin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The check-in's id.")] id: Id,
    ) -> Result<Option<ActivityCheckin>> {
        let visible = participation::checkins(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(ActivityCheckin))
    }

    /// One comment by id; null when there is none.
    async fn activity_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The comment's id.")] id: Id,
    ) -> Result<Option<ActivityComment>> {
        Ok(by_id::<activity_comment::Entity>(ctx, &id)
            .await?
            .map(ActivityComment))
    }

    /// One review by id; null when there is none.
    async fn activity_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The review's id.")] id: Id,
    ) -> Result<Option<ActivityReview>> {
        Ok(by_id::<activity_review::Entity>(ctx, &id)
            .await?
            .map(ActivityReview))
    }

    /// One like or vote by id; null when there is none.
    async fn activity_like(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The like's id.")] id: Id,
    ) -> Result<Option<ActivityLike>> {
        Ok(by_id::<activity_like::Entity>(ctx, &id)
            .await?
            .map(ActivityLike))
    }

    /// One photo by id; null when there is none.
    async fn activity_photo(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The photo's id.")] id: Id,
    ) -> Result<Option<ActivityPhoto>> {
        Ok(by_id::<activity_photo::Entity>(ctx, &id)
            .await?
            .map(ActivityPhoto))
    }
}

lists! {
    /// The lists of `ActivityRecordQuery`'s domain, as cursor connections.
    pub struct ActivityRecordLists;

    /// Sign-ups, of an activity and/or by a member, as a cursor connection.
    activity_signups(ctx, filter: participation::ParticipationFilter) by ActivitySignupOrderField -> ActivitySignup {
        let app = ctx.app()?;
        participation::signups(&app.actor, &filter)?
    }

    /// Check-ins, at an activity and/or by a member, as a cursor connection.
    activity_checkins(ctx, filter: participation::ParticipationFilter) by ActivityCheckinOrderField -> ActivityCheckin {
        let app = ctx.app()?;
        participation::checkins(&app.actor, &filter)?
    }

    /// Comments, on an activity and/or by a member, as a cursor connection.
    activity_comments(ctx, filter: participation::ParticipationFilter) by ActivityCommentOrderField -> ActivityComment {
        let app = ctx.app()?;
        feedback::comments(&app.actor, &filter)
    }

    /// Reviews, of an activity and/or by a member, as a cursor connection.
    activity_reviews(ctx, filter: participation::ParticipationFilter) by ActivityReviewOrderField -> ActivityReview {
        let app = ctx.app()?;
        feedback::reviews(&app.actor, &filter)
    }

    /// Likes and votes, on an activity and/or by a member, as a cursor connection.
    activity_likes(ctx, filter: feedback::LikeFilter) by ActivityLikeOrderField -> ActivityLike {
        let app = ctx.app()?;
        feedback::likes(&app.actor, &filter)
    }

    /// Photos, of an activity or of all, as a cursor connection.
    activity_photos(ctx, filter: ActivityPhotoFilter) by ActivityPhotoOrderField -> ActivityPhoto {
        let app = ctx.app()?;
        let activity_id = filter.activity_id.map(Id::get);
        photos::photos(&app.actor, activity_id)
    }
}
