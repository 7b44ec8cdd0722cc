//! The set of rule files in force after one change, or a change refused by its checks; the
//! latest release `released` is in force.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rule_release")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The release this one was made from; unique, so concurrent changes cannot both land.
    pub parent_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Who made the change.
    pub actor: String,
    /// `folder`, `publish` or `rollback`.
    pub action: String,
    /// What changed, for people.
    #[sea_orm(column_type = "Text")]
    pub note: String,
    /// The rules folder as last applied (JSON: path → content hash), so that a folder
    /// change applies only what changed in it, once, whichever server sees it first.
    pub folder_state: Option<String>,
    /// `released` (a set of rules that was in force) or `rejected` (an attempt refused by
    /// its checks: no parent, no files).
    pub outcome: String,
    /// For a rejected attempt, every error (JSON list of `{ script, line, column, keyPath,
    /// message }`).
    #[sea_orm(column_type = "Text", nullable)]
    pub errors: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
