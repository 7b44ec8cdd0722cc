//! A supervisor (督导专员) assigned one-to-one to a town.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "supervisor_assignment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub town_id: i64,
    pub supervisor_name: String,
    pub university: Option<String>,
    pub mobile: Option<String>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
