//! An answer to a question, by exactly one of: a member, an expert, an org unit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "answer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub question_id: i64,
    pub member_id: Option<i64>,
    pub expert_id: Option<i64>,
    pub org_unit_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub answered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
