//! An offline service request (线下服务) at a Youth Home.

use crate::enums::ServiceRequestStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "service_request")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub youth_home_id: i64,
    pub applicant_id: i64,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub status: ServiceRequestStatus,
    pub submitted_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The applicant's rating, 1–5, once completed.
    pub rating: Option<i16>,
    #[sea_orm(column_type = "Text", nullable)]
    pub feedback: Option<String>,
    pub rated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
