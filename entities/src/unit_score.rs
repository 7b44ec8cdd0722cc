//! One unit's score in a stored ranking, with its explanation.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_score")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub snapshot_id: i64,
    pub org_unit_id: i64,
    pub rank: i32,
    pub total: f64,
    /// Dimensions and indicators (raw, standardised, weight, contribution) as JSON.
    #[sea_orm(column_type = "Text")]
    pub explanation: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
