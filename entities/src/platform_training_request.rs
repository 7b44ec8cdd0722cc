//! A unit's request for platform-skills training (平台使用技能培训, DOMAIN.md §5.5) from
//! the city, of any size, and where it stands.

use crate::enums::PlatformTrainingStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "platform_training_request")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The unit to be trained.
    pub org_unit_id: i64,
    /// How many of its people are to be trained.
    pub trainees: i32,
    /// The day the unit would like.
    pub preferred_date: Option<Date>,
    /// What the unit adds (topics, its operators' level, …).
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub status: PlatformTrainingStatus,
    /// The day the city set, once scheduled.
    pub scheduled_on: Option<Date>,
    /// The city's note with its last step: the arrangements, or why it declined.
    #[sea_orm(column_type = "Text", nullable)]
    pub city_note: Option<String>,
    pub requested_at: DateTimeUtc,
    /// Who asked, as `role:subject`.
    pub requested_by: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
