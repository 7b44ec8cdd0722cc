//! A long-lived token issued to an integration partner (or by an administrator), kept so
//! that it can be listed and revoked. The token itself is never stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "issued_token")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The token's `jti` claim.
    pub jti: String,
    pub subject: String,
    pub role: String,
    /// Granted scopes, separated by spaces.
    pub scopes: String,
    pub issued_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub issued_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
