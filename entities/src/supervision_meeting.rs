//! A supervision meeting of a district, with the Youth Home visited.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "supervision_meeting")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub district_id: i64,
    pub held_on: Date,
    pub venue: String,
    pub visit_org_unit_id: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub agenda: Option<String>,
    pub receipts_due_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
