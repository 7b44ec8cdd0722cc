//! Taking part in activities: the loop's mutations (sign-up, check-in, comments,
//! reviews, likes and votes, photos). Every refusal is a `BAD_USER_INPUT` naming the
//! offending field, and nothing is written.

use crate::Id;
use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result};
use chrono::Utc;
use entities::enums::LikeKind;

use super::{
    activity_types::{
        ActivityCheckin, ActivityComment, ActivityLike, ActivityPhoto, ActivityReview,
        ActivitySignup,
    },
    nodes::Activity,
    undefined_to_option,
    upload::Upload,
    ContextExt,
};
use qii_domain::service::{
    activity_feedback as feedback,
    activity_loop::{self as participation, Participation},
    activity_photo as photos,
};

/// A member and an activity: who signs up or checks in where.
#[derive(InputObject)]
pub struct ActivityParticipantInput {
    /// The activity.
    activity_id: Id,
    /// The member.
    member_id: Id,
}

impl ActivityParticipantInput {
    fn parse(&self) -> Result<Participation> {
        Ok(Participation {
            activity_id: self.activity_id.0,
            member_id: self.member_id.0,
        })
    }
}

/// A new comment.
#[derive(InputObject)]
pub struct CommentOnActivityInput {
    /// The activity commented on.
    activity_id: Id,
    /// The commenting member.
    member_id: Id,
    /// Plain text, not blank.
    body: String,
}

/// A new text for a comment.
#[derive(InputObject)]
pub struct UpdateActivityCommentInput {
    /// Plain text, not blank.
    body: String,
}

/// A new review.
#[derive(InputObject)]
pub struct ReviewActivityInput {
    /// The activity reviewed.
    activity_id: Id,
    /// The reviewing member; must have signed up.
    member_id: Id,
    /// From 1 (poor) to 5 (excellent).
    rating: i32,
    /// A written evaluation.
    body: Option<String>,
}

/// Changes to a review; omitted fields stay, `body: null` clears the text.
#[derive(InputObject)]
pub struct UpdateActivityReviewInput {
    /// From 1 (poor) to 5 (excellent).
    rating: Option<i32>,
    /// A new written evaluation; `null` clears it.
    body: MaybeUndefined<String>,
}

/// A like or vote by a member on an activity.
#[derive(InputObject)]
pub struct LikeActivityInput {
    /// The activity liked or voted for.
    activity_id: Id,
    /// The member who likes or votes.
    member_id: Id,
    /// Like (popularity) or vote (contests).
    kind: LikeKind,
}

impl LikeActivityInput {
    fn parse(&self) -> Result<Participation> {
        Ok(Participation {
            activity_id: self.activity_id.0,
            member_id: self.member_id.0,
        })
    }
}

/// A new photo of an activity.
#[derive(InputObject)]
pub struct AddActivityPhotoInput {
    /// The activity photographed.
    activity_id: Id,
    /// An `http(s)` URL, or the relative path of a stored file (no `..`).
    url: String,
    /// A short caption.
    caption: Option<String>,
}

/// A photo file uploaded for an activity (a `multipart/form-data` request, as the GraphQL
/// multipart request specification has it).
#[derive(InputObject)]
pub struct UploadActivityPhotoInput {
    /// The activity photographed.
    activity_id: Id,
    /// The picture: JPEG, PNG or WebP by its content (its name and type are not
    /// trusted), at most `QII_PHOTO_MAX_BYTES` (10 MB) and `QII_PHOTO_MAX_PIXELS`
    /// (40 megapixels).
    file: Upload,
    /// A short caption.
    caption: Option<String>,
}

/// Changes to a photo; `caption: null` clears it.
#[derive(InputObject)]
pub struct UpdateActivityPhotoInput {
    /// A new caption; `null` clears it.
    caption: MaybeUndefined<String>,
}

/// Taking part in activities: the loop after publishing.
#[derive(Default)]
pub struct ActivityLoopMutation;

#[Object]
impl ActivityLoopMutation {
    /// Signs a member up (报名). Refused for a duplicate sign-up, a full activity, or
    /// after sign-ups have closed (the sign-up deadline, by default the start).
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member signing up and the activity.")]
        input: ActivityParticipantInput,
    ) -> Result<ActivitySignup> {
        let app = ctx.app()?;
        let signup =
            participation::sign_up(&app.db, &app.actor, input.parse()?, Utc::now()).await?;
        Ok(ActivitySignup(signup))
    }

    /// Cancels a sign-up before the activity starts (not once checked in); returns the
    /// activity, its place free again.
    async fn cancel_sign_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sign-up's id.")] signup_id: Id,
    ) -> Result<Activity> {
        let app = ctx.app()?;
        let activity =
            participation::cancel_sign_up(&app.db, &app.actor, signup_id.0, Utc::now()).await?;
        Ok(Activity(activity))
    }

    /// Checks a signed-up member in (签到), once, while the activity is held: from its
    /// start until its end.
    async fn check_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member checking in and the activity.")]
        input: ActivityParticipantInput,
    ) -> Result<ActivityCheckin> {
        let app = ctx.app()?;
        let checkin =
            participation::check_in(&app.db, &app.actor, input.parse()?, Utc::now()).await?;
        Ok(ActivityCheckin(checkin))
    }

    /// A member comments (评论) on an activity.
    async fn comment_on_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity, the commenting member and the text.")]
        input: CommentOnActivityInput,
    ) -> Result<ActivityComment> {
        let app = ctx.app()?;
        let on = Participation {
            activity_id: input.activity_id.0,
            member_id: input.member_id.0,
        };
        let comment = feedback::comment(&app.db, &app.actor, on, &input.body, Utc::now()).await?;
        Ok(ActivityComment(comment))
    }

    /// Rewrites a comment.
    async fn update_activity_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The comment's id.")] id: Id,
        #[graphql(desc = "The comment's new text.")] input: UpdateActivityCommentInput,
    ) -> Result<ActivityComment> {
        let app = ctx.app()?;
        let comment = feedback::update_comment(&app.db, &app.actor, id.0, &input.body).await?;
        Ok(ActivityComment(comment))
    }

    /// A signed-up member evaluates and rates (评价/打分) an activity, once, from its
    /// start on.
    async fn review_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity, the reviewing member, the rating and an optional text.")]
        input: ReviewActivityInput,
    ) -> Result<ActivityReview> {
        let app = ctx.app()?;
        let new = feedback::NewReview {
            on: Participation {
                activity_id: input.activity_id.0,
                member_id: input.member_id.0,
            },
            rating: input.rating,
            body: input.body,
        };
        Ok(ActivityReview(
            feedback::review(&app.db, &app.actor, new, Utc::now()).await?,
        ))
    }

    /// Changes a review's rating or text.
    async fn update_activity_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The review's id.")] id: Id,
        #[graphql(
            desc = "The changes; fields left out stay as they are, `body: null` clears the text."
        )]
        input: UpdateActivityReviewInput,
    ) -> Result<ActivityReview> {
        let app = ctx.app()?;
        let changes = feedback::ReviewChanges {
            rating: input.rating,
            body: undefined_to_option(input.body),
        };
        Ok(ActivityReview(
            feedback::update_review(&app.db, &app.actor, id.0, changes).await?,
        ))
    }

    /// A member likes or votes for (点赞/投票) an activity; one of each kind per member.
    async fn like_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity, the member, and whether it is a like or a vote.")]
        input: LikeActivityInput,
    ) -> Result<ActivityLike> {
        let app = ctx.app()?;
        let like =
            feedback::like(&app.db, &app.actor, input.parse()?, input.kind, Utc::now()).await?;
        Ok(ActivityLike(like))
    }

    /// Takes a like or vote back; returns the activity.
    async fn unlike_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity, the member, and which kind (like or vote) to take back.")]
        input: LikeActivityInput,
    ) -> Result<Activity> {
        let app = ctx.app()?;
        let on = input.parse()?;
        feedback::unlike(&app.db, &app.actor, on, input.kind).await?;
        let activity = participation::activity_ref(&app.db, on.activity_id).await?;
        Ok(Activity(activity))
    }

    /// Adds a photo to an activity, uploaded now.
    async fn add_activity_photo(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity, the photo's address and an optional caption.")]
        input: AddActivityPhotoInput,
    ) -> Result<ActivityPhoto> {
        let app = ctx.app()?;
        let new = photos::NewPhoto {
            activity_id: input.activity_id.0,
            url: input.url,
            caption: input.caption,
        };
        Ok(ActivityPhoto(
            photos::add_photo(&app.db, &app.actor, new, Utc::now()).await?,
        ))
    }

    /// Uploads a photo of an activity, with its thumbnail made at once; it is uploaded
    /// when it is stored, so one sent after the activity ended is a photo after the end.
    /// Its `url` and `thumbnailUrl` are paths on this server (`GET /<url>`). A file that
    /// is not a picture, or too large, is refused with `BAD_USER_INPUT` and nothing kept.
    async fn upload_activity_photo(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity, the file and an optional caption.")]
        input: UploadActivityPhotoInput,
    ) -> Result<ActivityPhoto> {
        let app = ctx.app()?;
        let upload = photos::PhotoUpload {
            activity_id: input.activity_id.0,
            bytes: input.file.content(ctx, "file")?,
            caption: input.caption,
        };
        Ok(ActivityPhoto(
            photos::upload_photo(&app.db, &app.actor, &app.photos, upload).await?,
        ))
    }

    /// Changes a photo's caption.
    async fn update_activity_photo(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The photo's id.")] id: Id,
        #[graphql(desc = "The new caption; `caption: null` clears it.")]
        input: UpdateActivityPhotoInput,
    ) -> Result<ActivityPhoto> {
        let app = ctx.app()?;
        let caption = undefined_to_option(input.caption);
        let updated = photos::update_photo(&app.db, &app.actor, id.0, caption).await?;
        Ok(ActivityPhoto(updated))
    }
}
