//! An attendance receipt (回执) for a supervision meeting: who a unit sends.

use sea_orm::entity::prelude::*;

use crate::enums::AttendeeRole;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting_attendance")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub meeting_id: i64,
    pub org_unit_id: i64,
    pub name: String,
    pub title: Option<String>,
    pub mobile: Option<String>,
    pub remarks: Option<String>,
    pub role: AttendeeRole,
    /// When the receipt was sent; none for receipts kept before this was recorded.
    pub submitted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
