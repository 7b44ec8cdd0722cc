//! Tokens: issuing this server's own (HS256) and verifying every bearer token a request
//! presents, this server's or a trusted partner identity provider's (RS256/ES256/EdDSA).
//!
//! The key and algorithm used to check a token are chosen by its issuer from the
//! configuration, never by the token's header: a token whose header names another
//! algorithm is refused, so `alg: none` and algorithm confusion (an HMAC token signed
//! with a provider's public key) cannot pass. `exp`, `nbf`, `iss` and `aud` are required
//! and checked; revoked tokens and subjects are refused on every request.

use std::{collections::HashMap, time::Duration};

use base64::Engine;
use chrono::{DateTime, Utc};
use entities::{server_key, token_revocation};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::{
    config::AuthConfig,
    identity::{role_name, scope_claim, Actor, Role, Scope},
};

/// Allowed clock difference between servers when checking `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 5;

/// The claims of a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Who the token was granted to: a username or a partner's name.
    pub sub: String,
    /// `city_admin`, `rule_admin`, `town_admin`, `youth_home_admin`, `member` or `partner`.
    #[serde(default)]
    pub role: Option<String>,
    /// The org unit of a town or Youth Home administrator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<i64>,
    /// The member a member token acts as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<i64>,
    /// Granted scopes, separated by spaces (OAuth style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The token's id, for revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default)]
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: Audience,
}

/// `aud` is a string or a list of strings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Why a bearer token was refused; answered with HTTP 401 and `UNAUTHENTICATED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError(pub String);

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A partner identity provider whose tokens are accepted.
struct Trusted {
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Issues and verifies tokens. One per server, shared by every request.
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    audience: String,
    trusted: HashMap<String, Trusted>,
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_ttl: Duration,
    /// How sign-ins are throttled.
    pub logins: LoginThrottle,
}

/// Sign-in throttling: per client address here (each replica its own), per account in the
/// database (shared by every replica).
pub struct LoginThrottle {
    per_address: Option<governor::DefaultKeyedRateLimiter<String>>,
    /// Failures in a row that lock an account.
    pub max_failures: u32,
    /// How long a lock lasts.
    pub lockout: Duration,
}

impl LoginThrottle {
    fn new(config: &AuthConfig) -> Self {
        let per_address = std::num::NonZeroU32::new(config.login_per_minute)
            .map(|n| governor::RateLimiter::keyed(governor::Quota::per_minute(n)));
        Self {
            per_address,
            max_failures: config.login_max_failures.max(1),
            lockout: config.login_lockout,
        }
    }

    /// Whether `address` may try to sign in now; the seconds to wait otherwise.
    pub fn admit(&self, address: Option<&str>) -> Result<(), u64> {
        let (Some(limiter), Some(address)) = (&self.per_address, address) else {
            return Ok(());
        };
        limiter.check_key(&address.to_owned()).map_err(|not_until| {
            use governor::clock::Clock;
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }
}

/// The name under which the generated signing secret is kept in the database.
const SECRET_KEY_NAME: &str = "jwt_hs256";

impl Authenticator {
    /// From the configuration; without a configured secret, the one kept in the database
    /// (made by the first server to start).
    pub async fn open(db: &impl ConnectionTrait, config: &AuthConfig) -> anyhow::Result<Self> {
        let secret = match config.jwt_secret.as_ref().map(|s| s.expose()) {
            Some(secret) if secret.len() >= 32 => secret.to_owned(),
            Some(_) => anyhow::bail!("QII_JWT_SECRET must be at least 32 characters long"),
            None => stored_secret(db).await?,
        };
        Self::with_secret(&secret, config)
    }

    /// With the given HS256 secret.
    pub fn with_secret(secret: &str, config: &AuthConfig) -> anyhow::Result<Self> {
        let mut trusted = HashMap::new();
        for entry in &config.trusted_issuers {
            let (issuer, trust) = parse_trusted(entry)?;
            trusted.insert(issuer, trust);
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            trusted,
            access_ttl: config.access_ttl,
            refresh_ttl: config.refresh_ttl,
            logins: LoginThrottle::new(config),
        })
    }

    /// A signed token granting `role` to `subject` for `ttl`; its id and expiry.
    pub fn issue(&self, subject: &str, role: &Role, ttl: Duration) -> IssuedToken {
        let now = Utc::now();
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let (org, member, scope) = match role {
            Role::TownAdmin(org) | Role::YouthHomeAdmin(org) => (Some(*org), None, None),
            Role::Member(member) => (None, Some(*member), None),
            Role::Partner(scopes) => (None, None, Some(scope_claim(scopes))),
            _ => (None, None, None),
        };
        let claims = Claims {
            sub: subject.to_owned(),
            role: Some(role_name(role).to_owned()),
            org,
            member,
            scope,
            jti: Some(jti.clone()),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail");
        IssuedToken {
            token,
            jti,
            expires_at,
        }
    }

    /// The claims of a token whose signature, algorithm, issuer, audience and times are
    /// all valid (revocation is checked by [`Authenticator::authenticate`]).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = decode_header(token).map_err(|e| AuthError(describe(e.kind())))?;
        let issuer = unverified_issuer(token)?;
        let (algorithm, key) = if issuer == self.issuer {
            (Algorithm::HS256, &self.decoding)
        } else if let Some(trusted) = self.trusted.get(&issuer) {
            (trusted.algorithm, &trusted.key)
        } else {
            return Err(AuthError(format!(
                "tokens issued by `{issuer}` are not accepted"
            )));
        };
        if header.alg != algorithm {
            return Err(AuthError(format!(
                "tokens of `{issuer}` must be signed with {algorithm:?}, not {:?}",
                header.alg
            )));
        }
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        decode::<Claims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|e| AuthError(describe(e.kind())))
    }

    /// The actor a request's `Authorization` header value names: anonymous without one;
    /// refused when the token is invalid, revoked or grants nothing known.
    pub async fn authenticate(
        &self,
        db: &impl ConnectionTrait,
        authorization: Option<&str>,
    ) -> Result<Actor, AuthError> {
        let Some(value) = authorization else {
            return Ok(Actor::anonymous());
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| AuthError("use `Authorization: Bearer <token>`".into()))?
            .trim();
        let claims = self.verify(token)?;
        let role = self.role_of(&claims)?;
        if revoked(db, &claims).await.map_err(|e| {
            tracing::error!(error = %e, "revocation check failed");
            AuthError("the token could not be checked; try again".into())
        })? {
            return Err(AuthError("the token has been revoked".into()));
        }
        Ok(Actor {
            role,
            subject: claims.sub,
            token_id: claims.jti,
        })
    }

    /// The role a verified token grants. A trusted provider's tokens are partners'.
    fn role_of(&self, claims: &Claims) -> Result<Role, AuthError> {
        let scopes = || {
            claims
                .scope
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(Scope::parse)
                .collect::<Vec<_>>()
        };
        if claims.iss != self.issuer {
            return Ok(Role::Partner(scopes()));
        }
        let need = |id: Option<i64>, what: &str| {
            id.ok_or_else(|| AuthError(format!("the token names no {what}")))
        };
        Ok(match claims.role.as_deref() {
            Some("city_admin") => Role::CityAdmin,
            Some("rule_admin") => Role::RuleAdmin,
            Some("town_admin") => Role::TownAdmin(need(claims.org, "org unit")?),
            Some("youth_home_admin") => Role::YouthHomeAdmin(need(claims.org, "org unit")?),
            Some("member") => Role::Member(need(claims.member, "member")?),
            Some("partner") => Role::Partner(scopes()),
            Some(other) => return Err(AuthError(format!("unknown role `{other}`"))),
            None => return Err(AuthError("the token names no role".into())),
        })
    }
}

/// A newly signed token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub jti: String,
    pub expires_at: DateTime<Utc>,
}

/// Whether the token's id, or its subject since the token was issued, is revoked.
async fn revoked(db: &impl ConnectionTrait, claims: &Claims) -> Result<bool, sea_orm::DbErr> {
    use token_revocation::Column as C;
    let issued = DateTime::from_timestamp(claims.iat, 0).unwrap_or_default();
    let mut cond = Condition::any().add(
        Condition::all()
            .add(C::Subject.eq(claims.sub.as_str()))
            .add(C::RevokedAt.gte(issued)),
    );
    if let Some(jti) = &claims.jti {
        cond = cond.add(C::Jti.eq(jti.as_str()));
    }
    let hit: Option<i64> = token_revocation::Entity::find()
        .select_only()
        .column(C::Id)
        .filter(cond)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(hit.is_some())
}

/// The `iss` claim read without checking the signature, to choose the key that checks it.
fn unverified_issuer(token: &str) -> Result<String, AuthError> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| AuthError("malformed token: expected header.payload.signature".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| AuthError("malformed token: payload is not base64url".into()))?;
    #[derive(Deserialize)]
    struct Iss {
        iss: Option<String>,
    }
    let iss: Iss = serde_json::from_slice(&bytes)
        .map_err(|_| AuthError("malformed token: payload is not JSON".into()))?;
    iss.iss
        .ok_or_else(|| AuthError("the token names no issuer (`iss`)".into()))
}

/// A person-readable reason for a refused token.
fn describe(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => "the token has expired; sign in again or refresh it".into(),
        K::ImmatureSignature => "the token is not valid yet (`nbf`)".into(),
        K::InvalidAudience => "the token is meant for another audience (`aud`)".into(),
        K::InvalidIssuer => "the token's issuer (`iss`) is not accepted".into(),
        K::InvalidSignature => "the token's signature is not valid".into(),
        K::InvalidAlgorithm => "the token's algorithm is not accepted".into(),
        K::MissingRequiredClaim(claim) => format!("the token lacks the `{claim}` claim"),
        K::Json(err) => {
            // serde names the claim: "missing field `exp` at line 1 column 40".
            let text = err.to_string();
            match text.split('`').nth(1) {
                Some(claim) if text.starts_with("missing field") => {
                    format!("the token lacks the `{claim}` claim")
                }
                _ => "the token's claims are not what this server issues (exp, nbf, iss, aud, \
                      sub, role)"
                    .into(),
            }
        }
        K::InvalidToken | K::Base64(_) | K::Utf8(_) => {
            "malformed token: expected header.payload.signature in base64url".into()
        }
        _ => "the token is not valid".into(),
    }
}

/// Parses `ISSUER|ALGORITHM|PEM_FILE`.
fn parse_trusted(entry: &str) -> anyhow::Result<(String, Trusted)> {
    let parts: Vec<&str> = entry.split('|').map(str::trim).collect();
    let [issuer, algorithm, path] = parts.as_slice() else {
        anyhow::bail!("trusted issuer `{entry}`: expected ISSUER|ALGORITHM|PUBLIC_KEY_PEM_FILE");
    };
    let pem = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("trusted issuer `{issuer}`: cannot read {path}: {e}"))?;
    let (algorithm, key) = decoding_key(algorithm, &pem)
        .map_err(|e| anyhow::anyhow!("trusted issuer `{issuer}`: {e}"))?;
    Ok((issuer.to_string(), Trusted { algorithm, key }))
}

/// A public key for an asymmetric algorithm, from PEM.
pub fn decoding_key(algorithm: &str, pem: &[u8]) -> anyhow::Result<(Algorithm, DecodingKey)> {
    let algorithm = match algorithm {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        other => anyhow::bail!(
            "algorithm `{other}` is not accepted for a provider; use RS256, RS384, RS512, ES256, ES384 or EdDSA"
        ),
    };
    let key = match algorithm {
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem)?,
        Algorithm::EdDSA => DecodingKey::from_ed_pem(pem)?,
        _ => DecodingKey::from_rsa_pem(pem)?,
    };
    Ok((algorithm, key))
}

/// The signing secret kept in the database, made on first use. Servers starting at the
/// same time agree: the first insert wins and everyone reads it back.
async fn stored_secret(db: &impl ConnectionTrait) -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    let fresh = hex::encode(bytes);
    server_key::Entity::insert(server_key::ActiveModel {
        name: Set(SECRET_KEY_NAME.into()),
        value: Set(fresh),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([server_key::Column::Name])
    .exec(db)
    .await?;
    let key = server_key::Entity::find_by_id(SECRET_KEY_NAME.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the signing secret could not be stored"))?;
    Ok(key.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authenticator() -> Authenticator {
        Authenticator::with_secret(&"s".repeat(32), &AuthConfig::default()).unwrap()
    }

    #[test]
    fn an_issued_token_verifies_and_names_its_role() {
        let auth = authenticator();
        let issued = auth.issue("alice", &Role::TownAdmin(7), Duration::from_secs(60));
        let claims = auth.verify(&issued.token).unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(auth.role_of(&claims).unwrap(), Role::TownAdmin(7));
        assert_eq!(claims.jti.as_deref(), Some(issued.jti.as_str()));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = Authenticator::with_secret(&"t".repeat(32), &AuthConfig::default()).unwrap();
        let token = other
            .issue("x", &Role::CityAdmin, Duration::from_secs(60))
            .token;
        let err = authenticator().verify(&token).unwrap_err();
        assert!(err.0.contains("signature"), "{err}");
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let now = Utc::now().timestamp();
        let token = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&format!(
                r#"{{"sub":"x","role":"city_admin","iss":"qii","aud":"qii","nbf":{now},"exp":{}}}"#,
                now + 60
            ))
        );
        assert!(authenticator().verify(&token).is_err());
    }
}
