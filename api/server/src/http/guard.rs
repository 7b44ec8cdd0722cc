//! The gate every API request passes before it runs: body size, the bearer token (who is
//! calling), and the caller's request rate.
//!
//! - A body larger than the limit is answered 413.
//! - A token that is malformed, badly signed, expired, meant for another audience or
//!   issuer, or revoked is answered 401 with `extensions.code = UNAUTHENTICATED` and
//!   `WWW-Authenticate: Bearer error="invalid_token"`; no token means anonymous. A GET
//!   request without the header may carry the token as `?access_token=` (links opened in a
//!   browser: report pages and their downloads).
//! - Each token (without one: each client address) may make so many requests a minute;
//!   beyond that the answer is 429 with `Retry-After`. Limits are kept in Redis and shared
//!   by every replica when `QII_REDIS_URL` is set, else per replica.

use std::{net::SocketAddr, num::NonZeroU32, sync::Arc, time::Duration};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;

use super::{AppState, GRAPHQL_RESPONSE};
use qii_domain::{
    config::Limits,
    identity::{Actor, Role},
};

/// Requests per minute per caller: kept in Redis and shared by every replica when a Redis
/// URL is configured, else (and while Redis cannot be reached) by each replica.
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    shared: Option<super::shared_limit::Shared>,
    per_minute: u32,
}

impl RateLimit {
    /// The configured limit, or none when it is 0; the error when the Redis URL is not one.
    pub fn new(limits: &Limits, redis_url: Option<&str>) -> anyhow::Result<Option<Arc<Self>>> {
        let Some(per_minute) = NonZeroU32::new(limits.rate_per_minute) else {
            return Ok(None);
        };
        let burst = NonZeroU32::new(limits.rate_burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        let shared = redis_url
            .map(|url| super::shared_limit::Shared::new(url, per_minute.get(), burst.get()))
            .transpose()?;
        Ok(Some(Arc::new(Self {
            limiter: RateLimiter::keyed(quota),
            shared,
            per_minute: per_minute.get(),
        })))
    }

    /// Spends `n` requests of `key`'s budget: how long `key` must wait instead, none when
    /// it may go now.
    async fn spend(&self, key: &str, n: NonZeroU32) -> Option<Duration> {
        if let Some(shared) = &self.shared {
            match shared.spend(key, n.get()).await {
                super::shared_limit::Verdict::Allowed => return None,
                super::shared_limit::Verdict::Wait(wait) => return Some(wait),
                super::shared_limit::Verdict::Never => return Some(Duration::from_secs(60)),
                super::shared_limit::Verdict::Unknown => {}
            }
        }
        match self.limiter.check_key_n(&key.to_owned(), n) {
            Ok(Ok(())) => None,
            Ok(Err(not_until)) => {
                Some(not_until.wait_time_from(governor::clock::DefaultClock::default().now()))
            }
            // More than a whole burst: never at once.
            Err(_) => Some(Duration::from_secs(60)),
        }
    }

    /// How long `key` must wait, or none when it may go now (and has spent one request).
    pub(crate) async fn check(&self, key: &str) -> Option<Duration> {
        self.spend(key, NonZeroU32::MIN).await
    }

    /// Spends `n` more requests of `key`'s budget at once (the rest of a batch); the
    /// refusal to send when it cannot.
    pub async fn charge(&self, key: &str, n: usize) -> Option<Response> {
        let n = u32::try_from(n).ok().and_then(NonZeroU32::new)?;
        let wait = self.spend(key, n).await?;
        Some(self.refuse(key, wait))
    }

    fn refuse(&self, key: &str, wait: Duration) -> Response {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        tracing::info!(caller = %key, retry_after = seconds, "rate limited");
        let mut response = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            &format!(
                "too many requests: at most {} a minute per token (each operation of a batch \
                 counts); retry in {seconds} s",
                self.per_minute
            ),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        response
    }

    /// Forgets callers that have been quiet long enough to be back at a full burst.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The middleware: checks, then runs the request with its [`Actor`] in the extensions.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let limit = body_limit(&state, &request);
    if length.is_some_and(|n| n > limit.bytes) {
        return refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BAD_REQUEST",
            &format!(
                "the request body is larger than {} bytes, the most this server accepts{}",
                limit.bytes, limit.hint
            ),
        );
    }
    // A body sent without its length stops being read at the limit.
    let mut request =
        request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit.bytes)));
    let authorization = match request.headers().get(header::AUTHORIZATION) {
        None => query_token(&request).map(|token| format!("Bearer {token}")),
        Some(value) => match value.to_str() {
            Ok(value) => Some(value.to_owned()),
            Err(_) => return unauthorized("the Authorization header is not text"),
        },
    };
    let actor = match state
        .auth
        .authenticate(&state.db, authorization.as_deref())
        .await
    {
        Ok(actor) => actor,
        Err(err) => return unauthorized(&err.0),
    };
    let caller = Caller {
        key: caller_key(&actor, &request),
        address: client_address(&request),
    };
    if let Some(limit) = &state.rate_limit {
        if let Some(wait) = limit.check(&caller.key).await {
            return limit.refuse(&caller.key, wait);
        }
    }
    request.extensions_mut().insert(actor);
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The largest body a request may have, and what the refusal adds about it.
struct BodyLimit {
    bytes: usize,
    hint: &'static str,
}

/// A multipart request (a photo upload) may carry a photo of the largest size allowed
/// beside the operation; any other body is held to the request limit.
fn body_limit(state: &AppState, request: &Request) -> BodyLimit {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        BodyLimit {
            bytes: state
                .limits
                .max_body_bytes
                .saturating_add(state.photos.limits().max_bytes),
            hint: " with a file (the file itself at most QII_PHOTO_MAX_BYTES)",
        }
    } else {
        BodyLimit {
            bytes: state.limits.max_body_bytes,
            hint: "",
        }
    }
}

/// Who is calling, for limits: the key of their rate budget and their network address.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's, the subject's or the address's budget.
    pub key: String,
    /// The client's address, when the connection tells it.
    pub address: Option<String>,
}

fn client_address(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string())
}

/// The `access_token` query parameter of a GET request (RFC 6750 §2.3), for addresses a
/// browser opens where no header can be set: a report page, its downloads.
fn query_token(request: &Request) -> Option<String> {
    if request.method() != axum::http::Method::GET {
        return None;
    }
    let query = axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(
        request.uri(),
    )
    .ok()?;
    query.0.get("access_token").cloned()
}

/// Whose budget a request spends: its token's, else its subject's, else its address's.
fn caller_key(actor: &Actor, request: &Request) -> String {
    match (&actor.token_id, &actor.role) {
        (Some(jti), _) => format!("token:{jti}"),
        (None, Role::Anonymous) => {
            let addr = client_address(request).unwrap_or_else(|| "unknown".into());
            format!("addr:{addr}")
        }
        (None, _) => format!("subject:{}", actor.subject),
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = refusal(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer error="invalid_token""#),
    );
    response
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (
        status,
        [(header::CONTENT_TYPE, GRAPHQL_RESPONSE)],
        Json(body),
    )
        .into_response()
}
