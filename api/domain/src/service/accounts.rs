//! Accounts and tokens: creating users and changing their roles, signing in with a
//! password, refreshing, signing out, issuing partner tokens and revoking tokens or
//! whole subjects. Every change here is written to the audit log in its transaction.

use std::sync::OnceLock;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use chrono::{DateTime, Utc};
use entities::{
    app_user,
    enums::{OrgUnitKind, UserRole},
    issued_token, member, refresh_token, token_revocation,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Select, Set,
};
use serde_json::json;
use sha2::Digest;

use super::{audit, ensure_unique, find, org::unit_of_kind, referenced, text};
use crate::{
    auth::{Authenticator, IssuedToken},
    authz::Need,
    error::{ServiceError, ServiceResult},
    identity::{role_name, scope_claim, Actor, Role, Scope},
};

/// Shortest password accepted.
const PASSWORD_MIN: usize = 10;
/// Longest password accepted (argon2 hashes any length; this bounds the work).
const PASSWORD_MAX: usize = 128;
/// Longest display name.
const DISPLAY_NAME_MAX: usize = 100;

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: UserRole,
    /// Required for town and Youth Home administrators: the unit they run.
    pub org_unit_id: Option<i64>,
    /// Required for members: the member the account acts as.
    pub member_id: Option<i64>,
}

/// Changes to an account; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub role: Option<UserRole>,
    pub org_unit_id: Option<Option<i64>>,
    pub member_id: Option<Option<i64>>,
    pub disabled: Option<bool>,
}

/// The accounts a caller may list: city administrators see all.
pub fn users(actor: &Actor) -> ServiceResult<Select<app_user::Entity>> {
    actor.require(Need::CityAdmin, "list accounts")?;
    Ok(app_user::Entity::find())
}

/// Creates an account (city administrators; the command line for the first one).
pub async fn create_user(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewUser,
) -> ServiceResult<app_user::Model> {
    actor.require(Need::CityAdmin, "create accounts")?;
    let username = username(&input.username)?;
    let display_name = text("displayName", &input.display_name, DISPLAY_NAME_MAX)?;
    check_password(&input.password)?;
    check_binding(db, input.role, input.org_unit_id, input.member_id).await?;
    ensure_unique::<app_user::Entity>(db, app_user::Column::Username, &username, None, "username")
        .await?;
    let hash = hash_password(input.password).await?;
    let now = Utc::now();
    let txn = crate::db::write(db).await?;
    let user = app_user::ActiveModel {
        username: Set(username.clone()),
        display_name: Set(display_name),
        password_hash: Set(hash),
        role: Set(input.role),
        org_unit_id: Set(input.org_unit_id),
        member_id: Set(input.member_id),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "user.create",
        format!("user:{username}"),
        json!({ "role": input.role, "orgUnitId": input.org_unit_id, "memberId": input.member_id }),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Changes an account. A change of role, unit, member, password or a disabling revokes
/// every token the account holds, so it applies at once.
pub async fn update_user(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    change: UserChange,
) -> ServiceResult<app_user::Model> {
    actor.require(Need::CityAdmin, "change accounts")?;
    let user = super::find::<app_user::Entity>(db, "user", id).await?;
    let role = change.role.unwrap_or(user.role);
    let org = change.org_unit_id.unwrap_or(user.org_unit_id);
    let member = change.member_id.unwrap_or(user.member_id);
    check_binding(db, role, org, member).await?;
    let display_name = change
        .display_name
        .as_deref()
        .map(|name| text("displayName", name, DISPLAY_NAME_MAX))
        .transpose()?;
    let hash = match change.password.clone() {
        Some(password) => {
            check_password(&password)?;
            Some(hash_password(password).await?)
        }
        None => None,
    };
    let disabled = change.disabled.unwrap_or(user.disabled);
    let access_changed = role != user.role
        || org != user.org_unit_id
        || member != user.member_id
        || hash.is_some()
        || disabled != user.disabled;
    let before = json!({ "role": user.role, "orgUnitId": user.org_unit_id, "memberId": user.member_id, "disabled": user.disabled });
    let after = json!({ "role": role, "orgUnitId": org, "memberId": member, "disabled": disabled, "passwordChanged": hash.is_some() });
    let txn = crate::db::write(db).await?;
    let mut row: app_user::ActiveModel = user.clone().into();
    if let Some(name) = display_name {
        row.display_name = Set(name);
    }
    if let Some(hash) = hash {
        row.password_hash = Set(hash);
    }
    row.role = Set(role);
    row.org_unit_id = Set(org);
    row.member_id = Set(member);
    row.disabled = Set(disabled);
    row.updated_at = Set(Utc::now());
    let updated = row.update(&txn).await?;
    if access_changed {
        revoke(
            &txn,
            actor,
            None,
            Some(&user.username),
            "the account was changed",
        )
        .await?;
        end_sessions(&txn, user.id).await?;
    }
    audit::record(
        &txn,
        actor,
        "user.update",
        format!("user:{}", user.username),
        json!({ "before": before, "after": after }),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// A signed-in session: an access token and the refresh token that renews it.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: IssuedToken,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub user: app_user::Model,
}

/// Signs in with a password. A wrong username and a wrong password get the same answer.
pub async fn login(
    db: &DatabaseConnection,
    auth: &Authenticator,
    username: &str,
    password: &str,
    client: Option<&str>,
) -> ServiceResult<Session> {
    let throttle = &auth.logins;
    if let Err(seconds) = throttle.admit(client) {
        return Err(ServiceError::Throttled(format!(
            "too many sign-in attempts from this address; retry in {seconds} s"
        )));
    }
    let user = app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username.trim()))
        .one(db)
        .await?;
    let now = Utc::now();
    if let Some(until) = user
        .as_ref()
        .and_then(|u| u.locked_until)
        .filter(|t| *t > now)
    {
        return Err(ServiceError::Throttled(format!(
            "the account is locked after too many failed sign-ins until {}; a city \
             administrator can lift the lock",
            until.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let matches = verify_password(password.to_owned(), hash).await?;
    let user = match user {
        Some(user) if matches && !user.disabled => user,
        Some(user) if matches && user.disabled => {
            return Err(ServiceError::Forbidden(format!(
                "the account `{}` is disabled; ask a city administrator",
                user.username
            )))
        }
        Some(user) => {
            record_failure(db, throttle, &user).await?;
            return Err(ServiceError::BadCredentials(
                "wrong username or password".into(),
            ));
        }
        None => {
            return Err(ServiceError::BadCredentials(
                "wrong username or password".into(),
            ))
        }
    };
    if user.failed_logins > 0 || user.locked_until.is_some() {
        app_user::Entity::update_many()
            .col_expr(app_user::Column::FailedLogins, Expr::value(0))
            .col_expr(
                app_user::Column::LockedUntil,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .filter(app_user::Column::Id.eq(user.id))
            .exec(db)
            .await?;
    }
    let family = uuid::Uuid::new_v4().simple().to_string();
    let txn = crate::db::write(db).await?;
    let session = open_session(&txn, auth, user, family).await?;
    txn.commit().await?;
    Ok(session)
}

/// Counts a failed sign-in of `user` (in one statement, so that concurrent failures all
/// count) and locks the account when they reach the limit.
async fn record_failure(
    db: &DatabaseConnection,
    throttle: &crate::auth::LoginThrottle,
    user: &app_user::Model,
) -> ServiceResult<()> {
    use app_user::Column as C;
    app_user::Entity::update_many()
        .col_expr(C::FailedLogins, Expr::col(C::FailedLogins).add(1))
        .filter(C::Id.eq(user.id))
        .exec(db)
        .await?;
    let lock_until = Utc::now()
        + chrono::Duration::from_std(throttle.lockout).unwrap_or(chrono::Duration::minutes(15));
    let locked = app_user::Entity::update_many()
        .col_expr(C::LockedUntil, Expr::value(Some(lock_until)))
        .col_expr(C::FailedLogins, Expr::value(0))
        .filter(C::Id.eq(user.id))
        .filter(C::FailedLogins.gte(throttle.max_failures as i32))
        .exec(db)
        .await?;
    if locked.rows_affected > 0 {
        tracing::warn!(user = %user.username, "account locked after too many failed sign-ins");
    }
    Ok(())
}

/// Lifts the sign-in lock of an account (city administrators).
pub async fn unlock_user(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> ServiceResult<app_user::Model> {
    actor.require(Need::CityAdmin, "lift a sign-in lock")?;
    let txn = crate::db::write(db).await?;
    let user = find::<app_user::Entity>(&txn, "user", id).await?;
    let mut active: app_user::ActiveModel = user.clone().into();
    active.failed_logins = Set(0);
    active.locked_until = Set(None);
    active.updated_at = Set(Utc::now());
    let user = active.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "user.unlock",
        format!("user:{}", user.username),
        json!({ "failedLoginsCleared": true }),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Exchanges a refresh token for a new session. Each refresh token works once: using
/// one again (a stolen copy) ends every session refreshed from the same sign-in.
pub async fn refresh(
    db: &DatabaseConnection,
    auth: &Authenticator,
    token: &str,
) -> ServiceResult<Session> {
    let txn = crate::db::write(db).await?;
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(digest(token)))
        .one(&txn)
        .await?;
    let Some(row) = row else {
        return Err(ServiceError::BadCredentials(
            "unknown refresh token; sign in again".into(),
        ));
    };
    if row.used_at.is_some() {
        // Reuse: end the whole family, and keep that even though the call fails.
        end_family(&txn, &row.family).await?;
        txn.commit().await?;
        return Err(ServiceError::BadCredentials(
            "this refresh token was already used; every session of that sign-in has been ended, sign in again".into(),
        ));
    }
    if row.expires_at <= Utc::now() {
        return Err(ServiceError::BadCredentials(
            "the refresh token has expired; sign in again".into(),
        ));
    }
    let user = super::find::<app_user::Entity>(&txn, "user", row.user_id).await?;
    if user.disabled {
        return Err(ServiceError::Forbidden(format!(
            "the account `{}` is disabled",
            user.username
        )));
    }
    let mut used: refresh_token::ActiveModel = row.clone().into();
    used.used_at = Set(Some(Utc::now()));
    used.update(&txn).await?;
    let session = open_session(&txn, auth, user, row.family).await?;
    txn.commit().await?;
    Ok(session)
}

/// Signs out: the refresh token's sign-in ends and the caller's access token is revoked.
pub async fn logout(db: &DatabaseConnection, actor: &Actor, token: &str) -> ServiceResult<bool> {
    actor.require(Need::SignedIn, "sign out")?;
    let txn = crate::db::write(db).await?;
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(digest(token)))
        .one(&txn)
        .await?;
    if let Some(row) = &row {
        end_family(&txn, &row.family).await?;
    }
    if let Some(jti) = &actor.token_id {
        revoke(&txn, actor, Some(jti), None, "signed out").await?;
    }
    txn.commit().await?;
    Ok(row.is_some())
}

/// Issues a long-lived token, typically to a partner (`qii token issue`). It is recorded
/// (not the token itself) so that it can be listed and revoked.
pub async fn issue_token(
    db: &DatabaseConnection,
    auth: &Authenticator,
    actor: &Actor,
    subject: &str,
    role: Role,
    ttl: std::time::Duration,
) -> ServiceResult<IssuedToken> {
    actor.require(Need::CityAdmin, "issue tokens")?;
    let subject = text("subject", subject, 200)?;
    if matches!(role, Role::Anonymous | Role::System) {
        return Err(ServiceError::invalid(
            "role",
            "tokens are issued for a role a person or partner holds",
        ));
    }
    let issued = auth.issue(&subject, &role, ttl);
    let scopes = match &role {
        Role::Partner(scopes) => scope_claim(scopes),
        _ => String::new(),
    };
    let txn = crate::db::write(db).await?;
    issued_token::ActiveModel {
        jti: Set(issued.jti.clone()),
        subject: Set(subject.clone()),
        role: Set(role_name(&role).to_owned()),
        scopes: Set(scopes.clone()),
        issued_at: Set(Utc::now()),
        expires_at: Set(issued.expires_at),
        issued_by: Set(actor.label()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "token.issue",
        format!("token:{}", issued.jti),
        json!({ "subject": subject, "role": role_name(&role), "scopes": scopes, "expiresAt": issued.expires_at }),
    )
    .await?;
    txn.commit().await?;
    Ok(issued)
}

/// The tokens issued so far, for city administrators.
pub fn issued_tokens(actor: &Actor) -> ServiceResult<Select<issued_token::Entity>> {
    actor.require(Need::CityAdmin, "list issued tokens")?;
    Ok(issued_token::Entity::find())
}

/// Revokes one token by its id; refused on the next request that presents it.
pub async fn revoke_token(
    db: &DatabaseConnection,
    actor: &Actor,
    jti: &str,
    reason: &str,
) -> ServiceResult<()> {
    actor.require(Need::CityAdmin, "revoke tokens")?;
    let jti = text("id", jti, 64)?;
    let txn = crate::db::write(db).await?;
    revoke(&txn, actor, Some(&jti), None, reason).await?;
    txn.commit().await?;
    Ok(())
}

/// Revokes every token issued to a subject (a username or a partner) until now.
/// Accounts also lose their sign-ins; new tokens issued later work.
pub async fn revoke_subject(
    db: &DatabaseConnection,
    actor: &Actor,
    subject: &str,
    reason: &str,
) -> ServiceResult<()> {
    actor.require(Need::CityAdmin, "revoke tokens")?;
    let subject = text("subject", subject, 200)?;
    let txn = crate::db::write(db).await?;
    revoke(&txn, actor, None, Some(&subject), reason).await?;
    if let Some(user) = app_user::Entity::find()
        .filter(app_user::Column::Username.eq(subject.as_str()))
        .one(&txn)
        .await?
    {
        end_sessions(&txn, user.id).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Records a revocation and its audit entry.
async fn revoke(
    db: &impl ConnectionTrait,
    actor: &Actor,
    jti: Option<&str>,
    subject: Option<&str>,
    reason: &str,
) -> ServiceResult<()> {
    token_revocation::ActiveModel {
        jti: Set(jti.map(str::to_owned)),
        subject: Set(subject.map(str::to_owned)),
        revoked_at: Set(Utc::now()),
        revoked_by: Set(actor.label()),
        reason: Set(reason.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let (action, target) = match (jti, subject) {
        (Some(jti), _) => ("token.revoke", format!("token:{jti}")),
        (None, Some(subject)) => ("token.revoke_subject", format!("subject:{subject}")),
        (None, None) => unreachable!("a revocation names a token or a subject"),
    };
    audit::record(db, actor, action, target, json!({ "reason": reason })).await
}

/// The role an account's tokens grant.
pub fn role_of(user: &app_user::Model) -> Role {
    match user.role {
        UserRole::CityAdmin => Role::CityAdmin,
        UserRole::RuleAdmin => Role::RuleAdmin,
        UserRole::TownAdmin => Role::TownAdmin(user.org_unit_id.unwrap_or_default()),
        UserRole::YouthHomeAdmin => Role::YouthHomeAdmin(user.org_unit_id.unwrap_or_default()),
        UserRole::Member => Role::Member(user.member_id.unwrap_or_default()),
    }
}

/// Parses partner scopes such as `scores:read`, naming the unknown ones.
pub fn parse_scopes(names: &[String]) -> ServiceResult<Vec<Scope>> {
    names
        .iter()
        .flat_map(|n| n.split([',', ' ']))
        .filter(|n| !n.is_empty())
        .map(|name| {
            Scope::parse(name).ok_or_else(|| {
                ServiceError::invalid(
                    "scopes",
                    format!(
                        "unknown scope `{name}`; known: {}",
                        Scope::ALL.map(|s| s.name()).join(", ")
                    ),
                )
            })
        })
        .collect()
}

async fn open_session(
    db: &impl ConnectionTrait,
    auth: &Authenticator,
    user: app_user::Model,
    family: String,
) -> ServiceResult<Session> {
    let access = auth.issue(&user.username, &role_of(&user), auth.access_ttl);
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    let refresh = format!("qr_{}", hex::encode(bytes));
    let now = Utc::now();
    let refresh_expires_at =
        now + chrono::Duration::from_std(auth.refresh_ttl).unwrap_or(chrono::Duration::days(14));
    refresh_token::ActiveModel {
        token_hash: Set(digest(&refresh)),
        user_id: Set(user.id),
        family: Set(family),
        issued_at: Set(now),
        expires_at: Set(refresh_expires_at),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Session {
        access,
        refresh_token: refresh,
        refresh_expires_at,
        user,
    })
}

/// Marks every refresh token of a sign-in used.
async fn end_family(db: &impl ConnectionTrait, family: &str) -> ServiceResult<()> {
    end_refresh_tokens(db, refresh_token::Column::Family.eq(family)).await
}

/// Marks every refresh token of an account used.
async fn end_sessions(db: &impl ConnectionTrait, user_id: i64) -> ServiceResult<()> {
    end_refresh_tokens(db, refresh_token::Column::UserId.eq(user_id)).await
}

/// Marks the unused refresh tokens `which` selects used.
async fn end_refresh_tokens(
    db: &impl ConnectionTrait,
    which: sea_orm::sea_query::SimpleExpr,
) -> ServiceResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::UsedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(which)
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Usernames: 3–64 of lower-case letters, digits, `.`, `_` and `-`.
fn username(name: &str) -> ServiceResult<String> {
    let name = name.trim();
    let ok = (3..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(ServiceError::invalid(
            "username",
            format!("`{name}` is not a username: use 3 to 64 lower-case letters, digits, `.`, `_` or `-`"),
        ))
    }
}

fn check_password(password: &str) -> ServiceResult<()> {
    let len = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&len) {
        return Err(ServiceError::invalid(
            "password",
            format!(
                "a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters; this one has {len}"
            ),
        ));
    }
    Ok(())
}

/// A role names the unit or member it is bound to, and only that.
async fn check_binding(
    db: &DatabaseConnection,
    role: UserRole,
    org_unit_id: Option<i64>,
    member_id: Option<i64>,
) -> ServiceResult<()> {
    let unit_kind = match role {
        UserRole::TownAdmin => Some(OrgUnitKind::Town),
        UserRole::YouthHomeAdmin => Some(OrgUnitKind::YouthHome),
        _ => None,
    };
    match (unit_kind, org_unit_id) {
        (Some(kind), Some(id)) => {
            unit_of_kind(
                db,
                "orgUnitId",
                id,
                kind,
                "a town or Youth Home administrator's unit",
            )
            .await?;
        }
        (Some(_), None) => {
            return Err(ServiceError::invalid(
                "orgUnitId",
                "a town or Youth Home administrator needs `orgUnitId`, the unit they run",
            ))
        }
        (None, Some(_)) => {
            return Err(ServiceError::invalid(
                "orgUnitId",
                "only town and Youth Home administrators are bound to an org unit",
            ))
        }
        (None, None) => {}
    }
    match (role == UserRole::Member, member_id) {
        (true, Some(id)) => {
            referenced::<member::Entity>(db, "memberId", "member", id).await?;
        }
        (true, None) => {
            return Err(ServiceError::invalid(
                "memberId",
                "a member account needs `memberId`, the member it acts as",
            ))
        }
        (false, Some(_)) => {
            return Err(ServiceError::invalid(
                "memberId",
                "only member accounts are bound to a member",
            ))
        }
        (false, None) => {}
    }
    Ok(())
}

fn digest(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Hashes off the async threads: argon2 is deliberately slow.
async fn hash_password(password: String) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?
}

async fn verify_password(password: String, hash: String) -> ServiceResult<bool> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))
}

/// A hash to check against when the username is unknown, so that the answer takes as
/// long as for a known one.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        Argon2::default()
            .hash_password(b"no such account", &SaltString::generate(&mut OsRng))
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}
