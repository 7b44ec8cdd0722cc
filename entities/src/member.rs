//! A public user (公众用户) of the platform.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub nickname: String,
    /// Mobile number, once bound (移动端绑定).
    pub mobile: Option<String>,
    pub registered_at: DateTimeUtc,
    pub mobile_bound_at: Option<DateTimeUtc>,
    /// The town the member registered under.
    pub home_town_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
