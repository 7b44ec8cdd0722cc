//! Per-activity loop figures, as the database keeps them on each activity row (sign-ups,
//! check-ins, comments, reviews, photos, photos after the end, likes and votes): read with
//! the activity, never counted again on a read. The triggers that keep them are those of
//! the figure rollups (`migration::rollup`), so a screen's counts and the index's figures
//! are the same numbers.

use entities::activity;
use qii_engine::rules::activity::ActivityFigures;

/// The activity's loop figures, as kept on its row.
pub fn kept(activity: &activity::Model) -> ActivityFigures {
    ActivityFigures {
        signups: activity.signup_count,
        checkins: activity.checkin_count,
        comments: activity.comment_count,
        reviews: activity.review_count,
        photos: activity.photo_count,
        photos_after_end: activity.photos_after_end_count,
        likes: activity.like_count,
    }
}
