//! Access control: user accounts with their role, partner tokens, revocations, refresh
//! tokens, the audit log, and the token-signing secret used when none is configured.
//!
//! Passwords are stored as argon2 hashes and refresh tokens as SHA-256 digests, never in
//! the clear. Audit entries are only ever inserted.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    common::{drop_tables, fk, fk_cascade, index, not_blank, one_of, unique},
    m20261121_000001_org_structure::OrgUnit,
    m20261121_000002_members_experts::Member,
};

/// String values of the roles an account can hold.
pub(crate) const USER_ROLES: &[&str] = &[
    "city_admin",
    "rule_admin",
    "town_admin",
    "youth_home_admin",
    "member",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AppUser {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    Role,
    OrgUnitId,
    MemberId,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IssuedToken {
    Table,
    Id,
    Jti,
    Subject,
    Role,
    Scopes,
    IssuedAt,
    ExpiresAt,
    IssuedBy,
}

#[derive(DeriveIden)]
enum TokenRevocation {
    Table,
    Id,
    Jti,
    Subject,
    RevokedAt,
    RevokedBy,
    Reason,
}

#[derive(DeriveIden)]
enum RefreshToken {
    Table,
    Id,
    TokenHash,
    UserId,
    Family,
    IssuedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum AuditEntry {
    Table,
    Id,
    At,
    Actor,
    Action,
    Target,
    Detail,
}

#[derive(DeriveIden)]
enum ServerKey {
    Table,
    Name,
    Value,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServerKey::Table)
                    .col(string_len(ServerKey::Name, 64).primary_key())
                    .col(string(ServerKey::Value))
                    .col(timestamp_with_time_zone(ServerKey::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AppUser::Table)
                    .col(big_pk_auto(AppUser::Id))
                    .col(string_len(AppUser::Username, 64))
                    .col(string_len(AppUser::DisplayName, 100))
                    .col(string(AppUser::PasswordHash))
                    .col(string_len(AppUser::Role, 20))
                    .col(big_integer_null(AppUser::OrgUnitId))
                    .col(big_integer_null(AppUser::MemberId))
                    .col(boolean(AppUser::Disabled).default(false))
                    .col(timestamp_with_time_zone(AppUser::CreatedAt))
                    .col(timestamp_with_time_zone(AppUser::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_app_user_org_unit",
                        AppUser::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_app_user_member",
                        AppUser::MemberId,
                        Member::Table,
                        Member::Id,
                    ))
                    .check(("ck_app_user_username", not_blank(AppUser::Username)))
                    .check(("ck_app_user_role", one_of(AppUser::Role, USER_ROLES)))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_app_user_username",
            AppUser::Table,
            [AppUser::Username],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(IssuedToken::Table)
                    .col(big_pk_auto(IssuedToken::Id))
                    .col(string_len(IssuedToken::Jti, 64))
                    .col(string_len(IssuedToken::Subject, 200))
                    .col(string_len(IssuedToken::Role, 20))
                    .col(string(IssuedToken::Scopes))
                    .col(timestamp_with_time_zone(IssuedToken::IssuedAt))
                    .col(timestamp_with_time_zone(IssuedToken::ExpiresAt))
                    .col(string(IssuedToken::IssuedBy))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_issued_token_jti",
            IssuedToken::Table,
            [IssuedToken::Jti],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TokenRevocation::Table)
                    .col(big_pk_auto(TokenRevocation::Id))
                    .col(string_len_null(TokenRevocation::Jti, 64))
                    .col(string_len_null(TokenRevocation::Subject, 200))
                    .col(timestamp_with_time_zone(TokenRevocation::RevokedAt))
                    .col(string(TokenRevocation::RevokedBy))
                    .col(text(TokenRevocation::Reason))
                    .check((
                        "ck_token_revocation_what",
                        Expr::col(TokenRevocation::Jti)
                            .is_not_null()
                            .or(Expr::col(TokenRevocation::Subject).is_not_null()),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_token_revocation_jti",
            TokenRevocation::Table,
            [TokenRevocation::Jti],
        )
        .await?;
        index(
            manager,
            "idx_token_revocation_subject",
            TokenRevocation::Table,
            [TokenRevocation::Subject],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshToken::Table)
                    .col(big_pk_auto(RefreshToken::Id))
                    .col(string_len(RefreshToken::TokenHash, 64))
                    .col(big_integer(RefreshToken::UserId))
                    .col(string_len(RefreshToken::Family, 64))
                    .col(timestamp_with_time_zone(RefreshToken::IssuedAt))
                    .col(timestamp_with_time_zone(RefreshToken::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshToken::UsedAt))
                    .foreign_key(&mut fk_cascade(
                        "fk_refresh_token_user",
                        RefreshToken::UserId,
                        AppUser::Table,
                        AppUser::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_refresh_token_hash",
            RefreshToken::Table,
            [RefreshToken::TokenHash],
        )
        .await?;
        index(
            manager,
            "idx_refresh_token_family",
            RefreshToken::Table,
            [RefreshToken::Family],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEntry::Table)
                    .col(big_pk_auto(AuditEntry::Id))
                    .col(timestamp_with_time_zone(AuditEntry::At))
                    .col(string(AuditEntry::Actor))
                    .col(string_len(AuditEntry::Action, 40))
                    .col(string(AuditEntry::Target))
                    .col(text(AuditEntry::Detail))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_audit_entry_at",
            AuditEntry::Table,
            [AuditEntry::At],
        )
        .await?;
        index(
            manager,
            "idx_audit_entry_action",
            AuditEntry::Table,
            [AuditEntry::Action, AuditEntry::At],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                AuditEntry::Table.into_iden(),
                RefreshToken::Table.into_iden(),
                TokenRevocation::Table.into_iden(),
                IssuedToken::Table.into_iden(),
                AppUser::Table.into_iden(),
                ServerKey::Table.into_iden(),
            ],
        )
        .await
    }
}
