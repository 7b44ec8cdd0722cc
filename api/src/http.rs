//! The HTTP server: GraphQL over HTTP at `/graphql`, reports at `/reports/…`
//! ([`crate::reports::routes`]), GraphiQL at `/`, health probes,
//! request ids in every log line, graceful shutdown. API routes pass [`guard::gate`]
//! first: body size, bearer token, rate limit.

pub mod guard;

use std::{future::Future, net::SocketAddr, time::Duration};

use async_graphql::{
    http::GraphiQLSource,
    parser::{parse_query, types::OperationType},
    ParseRequestError,
};
use async_graphql_axum::GraphQLRequest;
use axum::{
    extract::{Extension, FromRequest, State},
    http::{header, HeaderMap, HeaderValue, Request, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    Json, Router,
};
use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};

use crate::{
    config::Config,
    db::{self, StatementCounter},
    graphql::{schema_with, QiiSchema, RequestContext},
    identity::Actor,
};

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub schema: QiiSchema,
    pub db: DatabaseConnection,
    /// Batching window of the per-request loaders.
    pub batch_window: Duration,
    /// The rules scoring uses.
    pub rules: std::sync::Arc<crate::rules::RuleStore>,
    /// Verifies and issues tokens.
    pub auth: std::sync::Arc<crate::auth::Authenticator>,
    /// Requests per minute per caller, when limited.
    pub rate_limit: Option<std::sync::Arc<guard::RateLimit>>,
    /// Request size and cost limits.
    pub limits: crate::config::Limits,
}

/// The response media type of the GraphQL-over-HTTP specification.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The router with every route and layer.
pub fn router(state: AppState) -> Router {
    let request_id = header::HeaderName::from_static("x-request-id");
    let api = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .merge(crate::reports::routes::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::gate,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            state.limits.max_body_bytes,
        ));
    Router::new()
        .route("/", get(graphiql))
        .merge(api)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
        })
        // One line per response (status, latency) inside the request's span: its id.
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("qii GraphQL")
            .finish(),
    )
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// A request body or query string that is not a GraphQL request.
pub struct BadRequest(ParseRequestError);

impl From<ParseRequestError> for BadRequest {
    fn from(err: ParseRequestError) -> Self {
        Self(err)
    }
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        let (status, message) = match self.0 {
            ParseRequestError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large".to_owned(),
            ),
            other => (
                StatusCode::BAD_REQUEST,
                format!("not a GraphQL request: {other}"),
            ),
        };
        request_error(status, &message)
    }
}

fn request_error(status: StatusCode, message: &str) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] });
    (
        status,
        [(header::CONTENT_TYPE, GRAPHQL_RESPONSE)],
        Json(body),
    )
        .into_response()
}

/// POST takes JSON (or multipart, for uploads); the media type is checked before the
/// body is read.
async fn graphql_post(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    request: axum::extract::Request,
) -> Response {
    let headers = request.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json")
        && !content_type.starts_with("multipart/form-data")
    {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as `Content-Type: application/json`",
        );
    }
    match GraphQLRequest::<BadRequest>::from_request(request, &state).await {
        Ok(request) => execute(state, actor, &headers, request.into_inner()).await,
        Err(rejection) => rejection.into_response(),
    }
}

/// GET serves queries only: a mutation must not run on a request that may be cached or
/// prefetched.
async fn graphql_get(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    request: GraphQLRequest<BadRequest>,
) -> Response {
    let request = request.into_inner();
    if is_mutation(&request) {
        let mut response = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(state, actor, &headers, request).await
}

fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(doc) = parse_query(&request.query) else {
        return false;
    };
    doc.operations.iter().any(|(name, op)| {
        let selected = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            _ => true,
        };
        selected && op.node.ty == OperationType::Mutation
    })
}

/// Runs one request and answers in the media type the client accepts: with
/// `application/graphql-response+json`, a request that could not execute is a 400.
async fn execute(
    state: AppState,
    actor: Actor,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> Response {
    let context = RequestContext::new(
        state.db.clone(),
        actor,
        state.batch_window,
        state.rules.clone(),
        state.auth.clone(),
    );
    let mut response = state.schema.execute(request.data(context)).await;
    // Errors raised before execution (syntax, validation, depth and complexity limits)
    // carry no code of their own.
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_REQUEST");
        }
    }
    let wants_graphql = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE));
    let not_executed = response.data == async_graphql::Value::Null && response.is_err();
    let (status, media) = match (wants_graphql, not_executed) {
        (true, true) => (StatusCode::BAD_REQUEST, GRAPHQL_RESPONSE),
        (true, false) => (StatusCode::OK, GRAPHQL_RESPONSE),
        (false, _) => (StatusCode::OK, "application/json"),
    };
    (status, [(header::CONTENT_TYPE, media)], Json(response)).into_response()
}

/// A server bound to its address, ready to run.
pub struct Server {
    pub listener: TcpListener,
    pub state: AppState,
    pub statements: StatementCounter,
}

impl Server {
    /// Connects to the database, migrates it, and binds the listening socket.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let (db, statements) = db::connect(config).await?;
        db::migrate(&db).await?;
        let rules = crate::rules::RuleStore::open(db.clone(), &config.rules_dir).await;
        let auth = crate::auth::Authenticator::open(&db, &config.auth).await?;
        let listener = TcpListener::bind(config.addr).await?;
        Ok(Self {
            listener,
            state: AppState {
                schema: schema_with(&config.limits),
                db,
                batch_window: Duration::from_millis(config.batch_window_ms),
                rules: std::sync::Arc::new(rules),
                auth: std::sync::Arc::new(auth),
                rate_limit: guard::RateLimit::new(&config.limits),
                limits: config.limits.clone(),
            },
            statements,
        })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = router(self.state.clone());
        let watcher = self.state.rules.watch();
        let forgetter = self.state.rate_limit.clone().map(|limit| {
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    limit.forget_idle();
                }
            })
        });
        tracing::info!(addr = %self.addr()?, "serving GraphQL at /graphql, GraphiQL at /");
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        watcher.abort();
        if let Some(forgetter) = forgetter {
            forgetter.abort();
        }
        self.state.db.close_by_ref().await?;
        tracing::info!("stopped");
        Ok(())
    }

    /// Runs in the background (tests): the address, the statement counter and the task.
    pub fn spawn(
        self,
    ) -> anyhow::Result<(SocketAddr, StatementCounter, JoinHandle<anyhow::Result<()>>)> {
        let addr = self.addr()?;
        let statements = self.statements.clone();
        let handle = tokio::spawn(self.run(std::future::pending()));
        Ok((addr, statements, handle))
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
    // Give load balancers a moment to notice before the socket closes.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutation_is_recognised_for_the_selected_operation() {
        let doc = "query A { districts { name } } mutation B { x }";
        assert!(is_mutation(&async_graphql::Request::new(doc)));
        assert!(!is_mutation(
            &async_graphql::Request::new(doc).operation_name("A")
        ));
        assert!(!is_mutation(&async_graphql::Request::new(
            "{ districts { name } }"
        )));
    }
}
