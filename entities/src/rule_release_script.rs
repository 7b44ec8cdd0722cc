//! Which scripts a release holds.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rule_release_script")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub script_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
