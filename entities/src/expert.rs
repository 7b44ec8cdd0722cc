//! An expert of the expert alliance, recruited by an org unit.

use crate::enums::ExpertField;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "expert")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub member_id: i64,
    pub name: String,
    pub field: ExpertField,
    /// Professional title, e.g. "lawyer, Dongguan Bar".
    pub title: Option<String>,
    pub recruited_by_id: i64,
    pub joined_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
