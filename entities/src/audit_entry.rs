//! One recorded change: who, when, what. Entries are only ever inserted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// Who acted, as `role:subject`.
    pub actor: String,
    /// What kind of change, e.g. `rules.publish`, `incentive.decide`, `user.create`.
    pub action: String,
    /// What it changed, e.g. `incentive_application:12`, `user:alice`.
    pub target: String,
    /// The change itself (JSON), e.g. the script diff of a publish.
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
