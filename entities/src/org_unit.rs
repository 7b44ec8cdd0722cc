//! An organisation unit (组织用户): city, town, Youth Home, school, enterprise or city-level unit, as a tree.

use crate::enums::OrgUnitKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "org_unit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Stable external code, e.g. `town-shijie`; partners key on it.
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub kind: OrgUnitKind,
    pub parent_id: Option<i64>,
    /// The town this unit belongs to: itself for a town, its town for units below one,
    /// none for the city and city-level units. Kept so that per-town aggregation is one GROUP BY.
    pub town_id: Option<i64>,
    pub district_id: Option<i64>,
    /// Population coefficient (人口系数) of a town: its share of city-wide targets.
    pub population_coefficient: Option<f64>,
    /// Registered (在册) Youth Home.
    pub registered: bool,
    pub founded_on: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
