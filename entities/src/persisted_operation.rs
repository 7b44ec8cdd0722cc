//! A registered GraphQL document (`qii queries register`), found by the SHA-256 of its text.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persisted_operation")]
pub struct Model {
    /// SHA-256 of `body`, lowercase hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    /// The document exactly as clients send it.
    pub body: String,
    /// The names of its operations, comma-separated (empty for one anonymous operation).
    pub operation_names: String,
    /// `query`, `mutation` or `subscription`; `mixed` when the document holds several kinds.
    pub kind: String,
    /// Where it was registered from: a file's path, or a manifest's path and entry.
    pub source: String,
    pub registered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
