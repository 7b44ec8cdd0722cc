//! A supervision district (片区): a group of towns with a supervision meeting.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "district")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Stable code, e.g. `D1`.
    #[sea_orm(unique)]
    pub code: String,
    /// Name in Chinese, e.g. 第一片区.
    pub name: String,
    /// Name in English.
    pub name_en: String,
    /// Order in which districts are listed.
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
