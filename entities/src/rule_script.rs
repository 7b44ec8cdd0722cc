//! One rule file as published: its path in the rules tree, source, test cases and content
//! hash. Never changed once written; releases refer to it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rule_script")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Path in the rules tree, `/`-separated: `qii/v2.rhai`.
    pub path: String,
    #[sea_orm(column_type = "Text")]
    pub source: String,
    /// The test cases kept beside the script, as JSON text.
    #[sea_orm(column_type = "Text", nullable)]
    pub tests: Option<String>,
    /// SHA-256 of the source, hex.
    pub hash: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
