//! An activity in "Find Activities" (找活动), published by an org unit.

use crate::enums::{ActivityCategory, ActivityKind};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "activity")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The publishing org unit; for a heavyweight activity, the applicant it counts for.
    pub org_unit_id: i64,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub kind: ActivityKind,
    pub category: ActivityCategory,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// Sign-ups close at this instant (default: the start).
    pub signup_deadline: Option<DateTimeUtc>,
    pub place: Option<String>,
    /// Most sign-ups accepted; none means unlimited.
    pub capacity: Option<i32>,
    /// Heavyweight activity (重磅活动) published through the city platform.
    pub heavyweight: bool,
    pub published_at: DateTimeUtc,
    /// Sign-ups it has, kept by the database with every sign-up written or removed.
    pub signup_count: i64,
    /// Check-ins, comments, reviews, photos, photos uploaded after the end and likes it has,
    /// kept by the database like `signup_count`.
    pub checkin_count: i64,
    pub comment_count: i64,
    pub review_count: i64,
    pub photo_count: i64,
    pub photos_after_end_count: i64,
    pub like_count: i64,
    /// An incentive application with the intent `heavyweight` naming it has been approved
    /// (kept by the database); a heavyweight activity counts for its publisher only then.
    pub heavyweight_approved: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
