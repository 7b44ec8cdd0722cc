//! The records of an activity's loop as front-ends see them: sign-ups, check-ins,
//! comments, reviews, likes and votes, photos.

use crate::Id;
use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use entities::{
    activity_checkin, activity_comment, activity_like, activity_photo, activity_review,
    activity_signup, enums::LikeKind,
};

use super::{
    children_of, load_error,
    loaders::{ById, SummedColumn},
    nodes::{load_activity, load_member, Activity, Member},
    ContextExt,
};
use crate::foreign_key;

foreign_key!(
    /// The check-in of a sign-up (at most one).
    CheckinsOfSignup, activity_checkin, SignupId, signup_id, activity_signup
);
foreign_key!(
    /// Comments on an activity.
    CommentsOfActivity, activity_comment, ActivityId, activity_id, activity
);
foreign_key!(
    /// Reviews of an activity.
    ReviewsOfActivity, activity_review, ActivityId, activity_id, activity
);
foreign_key!(
    /// Photos of an activity.
    PhotosOfActivity, activity_photo, ActivityId, activity_id, activity
);

impl SummedColumn for ReviewsOfActivity {
    fn value() -> activity_review::Column {
        activity_review::Column::Rating
    }
}

/// A member's sign-up (报名) for an activity.
pub struct ActivitySignup(pub activity_signup::Model);

impl ActivitySignup {
    async fn checkin_model(&self, ctx: &Context<'_>) -> Result<Option<activity_checkin::Model>> {
        Ok(children_of::<CheckinsOfSignup>(ctx, self.0.id)
            .await?
            .into_iter()
            .next())
    }
}

/// A member's sign-up (报名) for an activity.
#[Object]
impl ActivitySignup {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// When the member signed up.
    async fn signed_up_at(&self) -> DateTime<Utc> {
        self.0.signed_up_at
    }
    /// The member who signed up.
    async fn member(&self, ctx: &Context<'_>) -> Result<Option<Member>> {
        load_member(ctx, self.0.member_id).await
    }
    /// The activity signed up for.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<Activity>> {
        load_activity(ctx, self.0.activity_id).await
    }
    /// Whether the member has checked in (签到).
    async fn checked_in(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.checkin_model(ctx).await?.is_some())
    }
    /// When the member checked in; null before that.
    async fn checked_in_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.checkin_model(ctx).await?.map(|c| c.checked_in_at))
    }
    /// The check-in; null before the member checks in.
    async fn checkin(&self, ctx: &Context<'_>) -> Result<Option<ActivityCheckin>> {
        Ok(self.checkin_model(ctx).await?.map(ActivityCheckin))
    }
}

/// A signed-up member's check-in (签到) at an activity.
pub struct ActivityCheckin(pub activity_checkin::Model);

impl ActivityCheckin {
    async fn signup_model(&self, ctx: &Context<'_>) -> Result<Option<activity_signup::Model>> {
        let loader = ctx.loader::<ById<activity_signup::Entity>>()?;
        loader.load_one(self.0.signup_id).await.map_err(load_error)
    }
}

/// A signed-up member's check-in (签到) at an activity.
#[Object]
impl ActivityCheckin {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// When the member checked in.
    async fn checked_in_at(&self) -> DateTime<Utc> {
        self.0.checked_in_at
    }
    /// The sign-up checked in.
    async fn signup(&self, ctx: &Context<'_>) -> Result<Option<ActivitySignup>> {
        Ok(self.signup_model(ctx).await?.map(ActivitySignup))
    }
    /// The member who checked in.
    async fn member(&self, ctx: &Context<'_>) -> Result<Option<Member>> {
        match self.signup_model(ctx).await? {
            Some(signup) => load_member(ctx, signup.member_id).await,
            None => Ok(None),
        }
    }
    /// The activity checked in to.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<Activity>> {
        match self.signup_model(ctx).await? {
            Some(signup) => load_activity(ctx, signup.activity_id).await,
            None => Ok(None),
        }
    }
}

/// A member's comment (评论) on an activity.
pub struct ActivityComment(pub activity_comment::Model);

/// A member's comment (评论) on an activity.
#[Object]
impl ActivityComment {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The comment (plain text).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who wrote it.
    async fn member(&self, ctx: &Context<'_>) -> Result<Option<Member>> {
        load_member(ctx, self.0.member_id).await
    }
    /// The activity commented on.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<Activity>> {
        load_activity(ctx, self.0.activity_id).await
    }
}

/// A participant's evaluation (评价/打分) of an activity.
pub struct ActivityReview(pub activity_review::Model);

/// A participant's evaluation (评价/打分) of an activity.
#[Object]
impl ActivityReview {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// Rating from 1 (poor) to 5 (excellent).
    async fn rating(&self) -> i32 {
        i32::from(self.0.rating)
    }
    /// The written evaluation, if any.
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who reviewed.
    async fn member(&self, ctx: &Context<'_>) -> Result<Option<Member>> {
        load_member(ctx, self.0.member_id).await
    }
    /// The activity reviewed.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<Activity>> {
        load_activity(ctx, self.0.activity_id).await
    }
}

/// A like or vote (点赞/投票) by a member on an activity.
pub struct ActivityLike(pub activity_like::Model);

/// A like or vote (点赞/投票) by a member on an activity.
#[Object]
impl ActivityLike {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// Like or vote.
    async fn kind(&self) -> LikeKind {
        self.0.kind
    }
    /// When it was given.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who gave it.
    async fn member(&self, ctx: &Context<'_>) -> Result<Option<Member>> {
        load_member(ctx, self.0.member_id).await
    }
    /// The activity liked or voted for.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<Activity>> {
        load_activity(ctx, self.0.activity_id).await
    }
}

/// A photo of an activity.
pub struct ActivityPhoto(pub activity_photo::Model);

/// A photo of an activity.
#[Object]
impl ActivityPhoto {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// An `http(s)` URL, or the relative path of a stored file: an uploaded photo is
    /// served by this server at `/<url>`.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The path of an uploaded photo's thumbnail (at most 320 pixels on its longer side),
    /// served at `/<thumbnailUrl>`; null for a photo given by address.
    async fn thumbnail_url(&self) -> Option<&str> {
        self.0.thumbnail_url.as_deref()
    }
    /// Caption.
    async fn caption(&self) -> Option<&str> {
        self.0.caption.as_deref()
    }
    /// When it was uploaded.
    async fn uploaded_at(&self) -> DateTime<Utc> {
        self.0.uploaded_at
    }
    /// Whether it was uploaded after the activity ended (a step of the loop).
    async fn after_end(&self, ctx: &Context<'_>) -> Result<bool> {
        let activity = load_activity(ctx, self.0.activity_id).await?;
        Ok(activity.is_some_and(|a| self.0.uploaded_at > a.0.ends_at))
    }
    /// The activity photographed.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<Activity>> {
        load_activity(ctx, self.0.activity_id).await
    }
}

/// Which steps of an activity's loop (planning → publishing → sign-up → holding it →
/// check-in → comments → evaluation → photos after the end) have happened. Facts only.
pub struct ActivityLoopSteps<'a>(pub &'a Activity);

/// Which steps of an activity's loop (planning → publishing → sign-up → holding it →
/// check-in → comments → evaluation → photos after the end) have happened. Facts only.
#[Object]
impl ActivityLoopSteps<'_> {
    /// Published in "Find Activities" (always true for an activity in this API).
    async fn published(&self) -> bool {
        true
    }
    /// At least one member signed up.
    async fn has_signups(&self) -> bool {
        self.0 .0.signup_count > 0
    }
    /// At least one member checked in.
    async fn has_checkins(&self) -> bool {
        self.0 .0.checkin_count > 0
    }
    /// At least one comment was written.
    async fn has_comments(&self) -> bool {
        self.0 .0.comment_count > 0
    }
    /// At least one review (with a rating) was given.
    async fn has_reviews(&self) -> bool {
        self.0 .0.review_count > 0
    }
    /// At least one photo was uploaded after the activity ended.
    async fn has_photos_after_end(&self) -> bool {
        self.0 .0.photos_after_end_count > 0
    }
    /// The activity has started (now is at or after its start).
    async fn started(&self) -> bool {
        Utc::now() >= self.0 .0.starts_at
    }
    /// The activity has ended (now is after its end).
    async fn ended(&self) -> bool {
        Utc::now() > self.0 .0.ends_at
    }
}
