//! A revoked token (by `jti`) or subject (every token issued to it until `revoked_at`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "token_revocation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub jti: Option<String>,
    pub subject: Option<String>,
    pub revoked_at: DateTimeUtc,
    pub revoked_by: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
