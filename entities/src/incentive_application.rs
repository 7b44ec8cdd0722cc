//! An incentive programme application (附件2): an activity and what the applicant asks for.

use crate::enums::{ActivityCategory, ActivityKind, ApplicationStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "incentive_application")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_unit_id: i64,
    pub activity_id: Option<i64>,
    /// The platform's online topic applied for (instead of an activity).
    pub topic_id: Option<i64>,
    pub activity_name: String,
    pub starts_at: Option<DateTimeUtc>,
    pub ends_at: Option<DateTimeUtc>,
    pub place: Option<String>,
    /// Expected number of participants (规模).
    pub scale: i32,
    /// The form marks specially good resources (资源优质).
    pub special_resources: bool,
    pub kind: ActivityKind,
    /// The activity's category: the form's, or the named activity's (none on forms filed
    /// before the form asked for it).
    pub category: Option<ActivityCategory>,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub plan_url: Option<String>,
    pub status: ApplicationStatus,
    pub submitted_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
