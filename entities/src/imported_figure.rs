//! A figure imported from another system for an org unit, a period (e.g. `2017-10`) and a
//! key that rule scripts name (e.g. `provincial_visits`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "imported_figure")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_unit_id: i64,
    /// The period in its canonical text.
    pub period: String,
    pub key: String,
    pub value: f64,
    /// The system the figure came from, when the import named it.
    pub source: Option<String>,
    pub imported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
