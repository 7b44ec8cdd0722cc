//! Signing in and out, accounts and their roles, issued tokens and the audit log.

use crate::Id;
use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entities::{app_user, audit_entry, enums::UserRole, issued_token};

use super::{
    nodes::{unit_via, OrgUnit},
    pagination::{OrderField, SortKey},
    undefined_id, ContextExt,
};
use qii_domain::{
    identity::{role_name, Role},
    service::{accounts as service, audit},
};

/// An account that signs in with a password.
pub struct User(pub app_user::Model);

/// An account that signs in with a password.
#[Object]
impl User {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The name to sign in with; also the subject of the account's tokens.
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// The name shown to people.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// What the account may do.
    async fn role(&self) -> UserRole {
        self.0.role
    }
    /// The town or Youth Home a town or Youth Home administrator runs.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::app_user::Entity>(ctx, &self.0, "org_unit_id", |m| m.org_unit_id).await
    }
    /// The member a member account acts as.
    async fn member_id(&self) -> Option<Id> {
        self.0.member_id.map(Id::from)
    }
    /// A disabled account cannot sign in.
    async fn disabled(&self) -> bool {
        self.0.disabled
    }
    /// Until when sign-in is refused after too many failed attempts; null when not locked.
    async fn locked_until(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.locked_until.filter(|t| *t > chrono::Utc::now())
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A signed-in session.
#[derive(SimpleObject)]
pub struct Session {
    /// Send as `Authorization: Bearer <accessToken>`.
    access_token: String,
    /// When the access token stops working; refresh before then.
    access_token_expires_at: DateTime<Utc>,
    /// Exchange it once, with `refreshToken`, for a new session.
    refresh_token: String,
    /// When the refresh token stops working; then sign in again.
    refresh_token_expires_at: DateTime<Utc>,
    /// The signed-in account.
    user: User,
}

impl From<service::Session> for Session {
    fn from(s: service::Session) -> Self {
        Self {
            access_token: s.access.token,
            access_token_expires_at: s.access.expires_at,
            refresh_token: s.refresh_token,
            refresh_token_expires_at: s.refresh_expires_at,
            user: User(s.user),
        }
    }
}

/// Who is calling, as the server sees it.
#[derive(SimpleObject)]
pub struct Viewer {
    /// `anonymous`, `member`, `town_admin`, `youth_home_admin`, `rule_admin`,
    /// `city_admin` or `partner`.
    role: String,
    /// The token's subject: a username or a partner's name.
    subject: String,
    /// The org unit a town or Youth Home administrator runs.
    org_unit_id: Option<Id>,
    /// The member a member acts as.
    member_id: Option<Id>,
    /// A partner's scopes.
    scopes: Vec<String>,
    /// The token's id (`jti`).
    token_id: Option<String>,
}

/// A token issued to a partner, as recorded (the token itself is never stored).
pub struct IssuedToken(issued_token::Model);

/// A token issued to a partner, as recorded (the token itself is never stored).
#[Object]
impl IssuedToken {
    /// The token's id (`jti`); revoke it with `revokeToken`.
    async fn id(&self) -> &str {
        &self.0.jti
    }
    /// Whom it was issued to.
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// The role it grants.
    async fn role(&self) -> &str {
        &self.0.role
    }
    /// The scopes it grants.
    async fn scopes(&self) -> Vec<&str> {
        self.0.scopes.split_whitespace().collect()
    }
    /// When it was issued.
    async fn issued_at(&self) -> DateTime<Utc> {
        self.0.issued_at
    }
    /// When it stops working.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// Who issued it.
    async fn issued_by(&self) -> &str {
        &self.0.issued_by
    }
}

/// One recorded change.
pub struct AuditEntry(audit_entry::Model);

/// One recorded change: who, when, what. Entries cannot be changed.
#[Object]
impl AuditEntry {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Who, as `role:subject` (`system` for the command line).
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// What kind of change: `rules.publish`, `rules.rollback`, `incentive.decide`,
    /// `user.create`, `user.update`, `token.issue`, `token.revoke`, `token.revoke_subject`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// What it changed, e.g. `incentive_application:12`, `user:alice`, `qii`.
    async fn target(&self) -> &str {
        &self.0.target
    }
    /// The change itself, as JSON: for a rule publish or rollback, each file's unified
    /// diff; for a decision, the outcome and note; for an account, before and after.
    async fn detail(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(serde_json::from_str(&self.0.detail).unwrap_or_default())
    }
}

/// What the audit log can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum AuditOrderField {
    /// When the change was made.
    #[default]
    At,
}

impl OrderField<audit_entry::Entity> for AuditOrderField {
    fn column(self) -> audit_entry::Column {
        audit_entry::Column::At
    }
    fn key(self, m: &audit_entry::Model) -> SortKey {
        SortKey::Time(m.at)
    }
}

/// What account lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum UserOrderField {
    /// Username.
    #[default]
    Username,
}

impl OrderField<app_user::Entity> for UserOrderField {
    fn column(self) -> app_user::Column {
        app_user::Column::Username
    }
    fn key(self, m: &app_user::Model) -> SortKey {
        SortKey::Text(m.username.clone())
    }
}

/// What issued-token lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum IssuedTokenOrderField {
    /// When the token was issued.
    #[default]
    IssuedAt,
}

impl OrderField<issued_token::Entity> for IssuedTokenOrderField {
    fn column(self) -> issued_token::Column {
        issued_token::Column::IssuedAt
    }
    fn key(self, m: &issued_token::Model) -> SortKey {
        SortKey::Time(m.issued_at)
    }
}

/// Reading accounts, tokens and the audit log.
#[derive(Default)]
pub struct AccessQuery;

#[Object]
impl AccessQuery {
    /// Who is calling: the role and subject of the bearer token, or `anonymous`.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let actor = &ctx.app()?.actor;
        let (org, member, scopes) = match &actor.role {
            Role::TownAdmin(id) | Role::YouthHomeAdmin(id) => (Some(*id), None, vec![]),
            Role::Member(id) => (None, Some(*id), vec![]),
            Role::Partner(scopes) => (
                None,
                None,
                scopes.iter().map(|s| s.name().to_owned()).collect(),
            ),
            _ => (None, None, vec![]),
        };
        Ok(Viewer {
            role: role_name(&actor.role).to_owned(),
            subject: actor.subject.clone(),
            org_unit_id: org.map(Id::from),
            member_id: member.map(Id::from),
            scopes,
            token_id: actor.token_id.clone(),
        })
    }
}

lists! {
    /// The lists of `AccessQuery`'s domain, as cursor connections.
    pub struct AccessLists;

    /// Accounts (city administrators).
    users(ctx) by UserOrderField -> User {
        let app = ctx.app()?;
        service::users(&app.actor)?
    }

    /// Tokens issued to partners (city administrators).
    issued_tokens(ctx) by IssuedTokenOrderField -> IssuedToken {
        let app = ctx.app()?;
        service::issued_tokens(&app.actor)?
    }

    /// The audit log (city administrators), newest last by default.
    audit_log(ctx, filter: audit::AuditFilter) by AuditOrderField -> AuditEntry {
        let app = ctx.app()?;
        audit::entries(&app.actor, &filter)?
    }
}

/// A new account.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// 3–64 lower-case letters, digits, `.`, `_` or `-`.
    username: String,
    /// The name shown to people.
    display_name: String,
    /// 10–128 characters.
    password: String,
    /// What the account may do.
    role: UserRole,
    /// For town and Youth Home administrators: the unit they run.
    org_unit_id: Option<Id>,
    /// For members: the member the account acts as.
    member_id: Option<Id>,
}

/// Changes to an account; omitted fields stay. Changing the role, unit, member or
/// password, or disabling, revokes the account's tokens at once.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// New name shown to people.
    display_name: Option<String>,
    /// New password, 10–128 characters.
    password: Option<String>,
    /// New role: what the account may do.
    role: Option<UserRole>,
    /// For town and Youth Home administrators: the id of the unit they run; `null` clears
    /// it.
    org_unit_id: MaybeUndefined<Id>,
    /// For members: the id of the member the account acts as; `null` clears it.
    member_id: MaybeUndefined<Id>,
    /// True to disable the account (it can no longer sign in), false to enable it again.
    disabled: Option<bool>,
}

/// Signing in and managing access.
#[derive(Default)]
pub struct AccessMutation;

#[Object]
impl AccessMutation {
    /// Signs in with a username and password: a short-lived access token and a refresh
    /// token. A wrong username or password is `UNAUTHENTICATED`. Attempts are throttled
    /// per client address and per account (`RATE_LIMITED`): after too many failures in a
    /// row the account is locked for a while, or until a city administrator runs
    /// `unlockUser`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's username.")] username: String,
        #[graphql(desc = "The account's password.")] password: String,
    ) -> Result<Session> {
        let app = ctx.app()?;
        let client = app.client.as_deref();
        Ok(
            service::login(&app.db, &app.auth, &username, &password, client)
                .await?
                .into(),
        )
    }

    /// Lifts the sign-in lock of an account locked after too many failed sign-ins (city
    /// administrators).
    async fn unlock_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's id.")] id: Id,
    ) -> Result<User> {
        let app = ctx.app()?;
        Ok(User(service::unlock_user(&app.db, &app.actor, id.0).await?))
    }

    /// Exchanges a refresh token (once) for a new session.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token of the current session; it can be used only once.")]
        refresh_token: String,
    ) -> Result<Session> {
        let app = ctx.app()?;
        Ok(service::refresh(&app.db, &app.auth, &refresh_token)
            .await?
            .into())
    }

    /// Signs out: ends the refresh token's sign-in and revokes the access token used.
    /// True when the refresh token was known.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token of the session to end.")] refresh_token: String,
    ) -> Result<bool> {
        let app = ctx.app()?;
        Ok(service::logout(&app.db, &app.actor, &refresh_token).await?)
    }

    /// Creates an account (city administrators).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account to create.")] input: CreateUserInput,
    ) -> Result<User> {
        let app = ctx.app()?;
        let user = service::create_user(
            &app.db,
            &app.actor,
            service::NewUser {
                username: input.username,
                display_name: input.display_name,
                password: input.password,
                role: input.role,
                org_unit_id: input.org_unit_id.map(Id::get),
                member_id: input.member_id.map(Id::get),
            },
        )
        .await?;
        Ok(User(user))
    }

    /// Changes an account (city administrators).
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's id.")] id: Id,
        #[graphql(
            desc = "The changes; fields left out stay as they are, `null` clears the org unit or member."
        )]
        input: UpdateUserInput,
    ) -> Result<User> {
        let app = ctx.app()?;
        let user = service::update_user(
            &app.db,
            &app.actor,
            id.0,
            service::UserChange {
                display_name: input.display_name,
                password: input.password,
                role: input.role,
                org_unit_id: undefined_id(input.org_unit_id),
                member_id: undefined_id(input.member_id),
                disabled: input.disabled,
            },
        )
        .await?;
        Ok(User(user))
    }

    /// Revokes one token by its id (`jti`); it is refused from the next request on
    /// (city administrators).
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's id (`jti`), as listed by `issuedTokens`.")] id: String,
        #[graphql(
            desc = "Why the token is revoked; kept with the revocation and in the audit log."
        )]
        reason: String,
    ) -> Result<bool> {
        let app = ctx.app()?;
        service::revoke_token(&app.db, &app.actor, &id, &reason).await?;
        Ok(true)
    }

    /// Revokes every token issued to a subject (a username or partner) so far; an
    /// account's sign-ins end too (city administrators).
    async fn revoke_subject(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The subject whose tokens to revoke: a username or a partner's name.")]
        subject: String,
        #[graphql(
            desc = "Why the tokens are revoked; kept with the revocation and in the audit log."
        )]
        reason: String,
    ) -> Result<bool> {
        let app = ctx.app()?;
        service::revoke_subject(&app.db, &app.actor, &subject, &reason).await?;
        Ok(true)
    }
}
