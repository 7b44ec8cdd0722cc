//! An account that signs in with a password: its role and, for staff, its org unit.

use sea_orm::entity::prelude::*;

use crate::enums::UserRole;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "app_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// Argon2 hash in PHC string form.
    pub password_hash: String,
    pub role: UserRole,
    /// The town or Youth Home a town or Youth Home administrator runs.
    pub org_unit_id: Option<i64>,
    /// The member a member account acts as.
    pub member_id: Option<i64>,
    /// A disabled account cannot sign in or refresh.
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Failed sign-ins since the last successful one.
    pub failed_logins: i32,
    /// Sign-in is refused until then after too many failures.
    pub locked_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
