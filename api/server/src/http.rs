//! The HTTP server: GraphQL over HTTP at `/graphql`, reports at `/reports/…`
//! ([`crate::http::reports`]), GraphiQL at `/`, the rule console at `/console/rules`, health probes,
//! request ids in every log line, graceful shutdown. API routes pass [`guard::gate`]
//! first: body size, bearer token, rate limit.

pub mod guard;
pub mod live;
pub mod metrics;
pub mod persisted;
pub mod photos;
pub mod reports;
pub mod shared_limit;

use std::{future::Future, net::SocketAddr, time::Duration};

use async_graphql::BatchRequest;
use async_graphql::{
    parser::{parse_query, types::OperationType},
    ParseRequestError,
};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLRequest};
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

use qii_domain::{
    authz::withhold_script_internals,
    config::Config,
    db::{self, StatementCounter},
    error::code,
    identity::Actor,
};
use qii_graphql::{schema_with, QiiSchema, RequestContext};

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub schema: QiiSchema,
    pub db: DatabaseConnection,
    /// Batching window of the per-request loaders.
    pub batch_window: Duration,
    /// The rules scoring uses.
    pub rules: std::sync::Arc<qii_domain::service::rules::RuleStore>,
    /// Stored rankings read so far, shared by every request.
    pub rankings: std::sync::Arc<qii_domain::scoring::snapshot::Cache>,
    /// Verifies and issues tokens.
    pub auth: std::sync::Arc<qii_domain::auth::Authenticator>,
    /// Requests per minute per caller, when limited.
    pub rate_limit: Option<std::sync::Arc<guard::RateLimit>>,
    /// Request size and cost limits.
    pub limits: qii_domain::config::Limits,
    /// Persisted queries: the policy and the texts this server holds.
    pub persisted: std::sync::Arc<persisted::Persisted>,
    /// What `/metrics` reports.
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// The bearer token `/metrics` asks for, when set.
    pub metrics_token: Option<qii_domain::config::Secret>,
    /// Live rankings and the announcements of writes.
    pub live: std::sync::Arc<qii_domain::live::Live>,
    /// Subscription limits.
    pub live_limits: qii_domain::config::LiveConfig,
    /// Uploaded photos: their checks, files and limits.
    pub photos: std::sync::Arc<qii_domain::photos::PhotoStore>,
}

/// The response media type of the GraphQL-over-HTTP specification.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The router with every route and layer.
pub fn router(state: AppState) -> Router {
    let request_id = header::HeaderName::from_static("x-request-id");
    let api = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(live::graphql_ws))
        .merge(crate::http::reports::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::gate,
        ));
    Router::new()
        .route("/", get(graphiql))
        .route("/console/rules", get(rules_console))
        .merge(api)
        .merge(photos::router())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_page))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or("-");
            let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
            crate::telemetry::continue_trace(&span, req.headers());
            span
        })
        // One line per response (status, latency) inside the request's span: its id.
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// GraphiQL, pointed at `/graphql`: a fixed page (its scripts come from the public CDN, as
/// async-graphql's own page does), so no template engine is compiled in for it.
async fn graphiql() -> Html<&'static str> {
    Html(include_str!("http/graphiql.html"))
}

/// The rule console for rule and city administrators: a fixed page, its styles and script
/// inline (nothing is fetched from elsewhere), that edits, checks, previews, publishes and
/// rolls back rules through `/graphql` like any other client.
async fn rules_console() -> Html<&'static str> {
    Html(include_str!("http/console.html"))
}

async fn healthz() -> &'static str {
    "ok"
}

/// The figures for Prometheus; with `QII_METRICS_TOKEN` set, only for a request that
/// carries it as a bearer token.
async fn metrics_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.expose()) {
            return (
                StatusCode::UNAUTHORIZED,
                "send the metrics token as `Authorization: Bearer <token>`",
            )
                .into_response();
        }
    }
    let versions = state
        .rules
        .current()
        .map(|registry| qii_domain::service::rules::version_labels(&registry))
        .unwrap_or_default();
    let mut text = state.metrics.render(
        db::pool_figures(&state.db),
        state.rules.release(),
        &versions,
    );
    metrics::render_live(&state.live.figures, &mut text);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
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
            // A body sent without its length, cut at the limit by the gate (the reader
            // passes the cause on as text only).
            other if other.to_string().contains("length limit exceeded") => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is larger than this server accepts".to_owned(),
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
    refusal(status, code::BAD_REQUEST, message)
}

/// POST takes JSON (or multipart, for uploads), one operation or a batch (a JSON array);
/// the media type is checked before the body is read.
async fn graphql_post(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Extension(caller): Extension<guard::Caller>,
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
    let batch = match GraphQLBatchRequest::<BadRequest>::from_request(request, &state).await {
        Ok(batch) => batch.into_inner(),
        Err(rejection) => return rejection.into_response(),
    };
    match batch {
        BatchRequest::Single(request) => execute(state, actor, caller, &headers, request).await,
        BatchRequest::Batch(requests) => {
            execute_batch(state, actor, caller, &headers, requests).await
        }
    }
}

/// GET serves queries only: a mutation must not run on a request that may be cached or
/// prefetched.
async fn graphql_get(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Extension(caller): Extension<guard::Caller>,
    headers: HeaderMap,
    request: GraphQLRequest<BadRequest>,
) -> Response {
    let request = request.into_inner();
    let operation = metrics::operation_name(&request);
    let request = match state.persisted.prepare(&state.db, request).await {
        Ok(request) => request,
        Err(refusal) => return respond(&headers, refused(&state, &operation, refusal)),
    };
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
    let answer = run_prepared(&state, actor, &caller, request).await;
    respond(&headers, answer)
}

fn is_mutation(request: &async_graphql::Request) -> bool {
    selects(request, OperationType::Mutation) == Some(true)
}

/// Whether the operation a request selects is of type `ty`; none when the document does
/// not parse.
pub(crate) fn selects(request: &async_graphql::Request, ty: OperationType) -> Option<bool> {
    let doc = parse_query(&request.query).ok()?;
    Some(doc.operations.iter().any(|(name, op)| {
        let selected = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            _ => true,
        };
        selected && op.node.ty == ty
    }))
}

/// Whether the client asked for the GraphQL-over-HTTP response media type.
fn wants_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE))
}

/// One operation's answer, and whether it got to execution at all.
struct Answer {
    /// The answer's JSON, written straight from the response (no intermediate tree).
    body: Vec<u8>,
    executed: bool,
    timed_out: bool,
    /// Not a GraphQL request at all (no query): a 400 whatever the media type.
    malformed: bool,
    /// `ok`, or the code of the first error: what metrics count.
    outcome: String,
}

impl From<persisted::Refusal> for Answer {
    fn from(refusal: persisted::Refusal) -> Self {
        Self {
            body: error_bytes(refusal.code, &refusal.message),
            executed: false,
            timed_out: false,
            malformed: refusal.code == code::BAD_REQUEST,
            outcome: refusal.code.to_owned(),
        }
    }
}

/// Runs one operation: its query text put in place first (persisted queries).
async fn run(
    state: &AppState,
    actor: Actor,
    caller: &guard::Caller,
    request: async_graphql::Request,
) -> Answer {
    let operation = metrics::operation_name(&request);
    match state.persisted.prepare(&state.db, request).await {
        Ok(request) => run_prepared(state, actor, caller, request).await,
        Err(refusal) => refused(state, &operation, refusal),
    }
}

/// A request refused before it could run, counted.
fn refused(state: &AppState, operation: &str, refusal: persisted::Refusal) -> Answer {
    let answer = Answer::from(refusal);
    state
        .metrics
        .record(operation, &answer.outcome, Duration::ZERO);
    answer
}

/// Runs one operation and counts it.
async fn run_prepared(
    state: &AppState,
    actor: Actor,
    caller: &guard::Caller,
    request: async_graphql::Request,
) -> Answer {
    let started = std::time::Instant::now();
    let operation = metrics::operation_name(&request);
    let answer = tracing::Instrument::instrument(
        answer_prepared(state, actor, caller, request),
        tracing::info_span!("graphql", operation = %operation),
    )
    .await;
    state
        .metrics
        .record(&operation, &answer.outcome, started.elapsed());
    answer
}

/// Runs one operation within the request deadline. A request that did not get to
/// execution (it did not parse or validate, or a limit refused it) has no `data` in its
/// answer, as the GraphQL-over-HTTP specification has it.
async fn answer_prepared(
    state: &AppState,
    actor: Actor,
    caller: &guard::Caller,
    request: async_graphql::Request,
) -> Answer {
    if request.query.trim().is_empty() {
        return Answer {
            body: error_bytes(code::BAD_REQUEST, "the request has no `query`"),
            executed: false,
            timed_out: false,
            malformed: true,
            outcome: code::BAD_REQUEST.to_owned(),
        };
    }
    let outcome = std::sync::Arc::new(qii_graphql::limits::Outcome::default());
    let viewer = actor.clone();
    let mut context = RequestContext::new(
        state.db.clone(),
        actor,
        state.batch_window,
        state.rules.clone(),
        state.auth.clone(),
    );
    context.client = caller.address.clone();
    context.rankings = state.rankings.clone();
    context.photos = state.photos.clone();
    let mut request = request;
    let files = qii_graphql::upload::UploadedFiles(std::mem::take(&mut request.uploads));
    let request = request
        .data(context)
        .data(outcome.clone())
        .data(files)
        .data(state.live.clone());
    let deadline = state.limits.request_timeout;
    let Ok(mut response) = tokio::time::timeout(deadline, state.schema.execute(request)).await
    else {
        // Dropping the execution stopped its work; PostgreSQL cancels its statements at
        // the same deadline.
        tracing::warn!(caller = %caller.key, ?deadline, "request stopped at its deadline");
        return Answer {
            body: error_bytes(
                code::TIMEOUT,
                &format!(
                    "the request ran longer than {} and was stopped: ask for smaller pages or \
                     fewer fields",
                    humantime::format_duration(deadline)
                ),
            ),
            executed: false,
            timed_out: true,
            malformed: false,
            outcome: code::TIMEOUT.to_owned(),
        };
    };
    finish_errors(&viewer, &mut response.errors);
    let executed = !outcome
        .not_executed
        .load(std::sync::atomic::Ordering::Relaxed);
    let mut counted = outcome_of(&response.errors);
    let written = if executed {
        serde_json::to_vec(&response)
    } else {
        // Not executed: the answer has no `data` at all, as the GraphQL-over-HTTP
        // specification has it.
        serde_json::to_value(&response).and_then(|mut body| {
            if let Some(map) = body.as_object_mut() {
                map.remove("data");
            }
            serde_json::to_vec(&body)
        })
    };
    let body = written.unwrap_or_else(|_| {
        counted = code::INTERNAL.to_owned();
        error_bytes(
            code::INTERNAL,
            "internal error: the response could not be written",
        )
    });
    Answer {
        body,
        executed,
        timed_out: false,
        malformed: false,
        outcome: counted,
    }
}

/// Every error as a client may see it: script internals withheld from those who may not
/// read scripts, and a code on each (an input the schema could not read is the caller's;
/// any other error without a code is a fault, logged and reported as `INTERNAL`).
pub(crate) fn finish_errors(viewer: &Actor, errors: &mut [async_graphql::ServerError]) {
    for error in errors {
        withhold_script_internals(viewer, &mut error.message, error.extensions.as_mut());
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if matches!(extensions.get("code"), Some(async_graphql::Value::String(c)) if c == code::RULE_ERROR)
        {
            // A rule error's position is the script's (`extensions.line` and `column`), not
            // the query's: no `locations` to take for it.
            error.locations.clear();
        }
        if extensions.get("code").is_none() {
            if is_input_coercion(&error.message) {
                // A value the schema could not read as its type (a date that is not a
                // date, a number out of its range, null where a value is needed), found as
                // the arguments are read: the caller's input, and the message names the type.
                if error.message.ends_with("found null.") {
                    error.message.push_str(
                        " A variable the request leaves out is null: give it a value, or a default in the operation (`$first: Int = 20`).",
                    );
                }
                extensions.set("code", code::BAD_USER_INPUT);
                continue;
            }
            // Every error the services raise carries its code; one without is a fault.
            tracing::error!(message = %error.message, "error without a code");
            error.message = "internal error".into();
            extensions.set("code", code::INTERNAL);
        }
    }
}

/// What metrics count for an answer: `ok`, or the code of its first error.
pub(crate) fn outcome_of(errors: &[async_graphql::ServerError]) -> String {
    match errors.first() {
        None => "ok".to_owned(),
        Some(error) => match error.extensions.as_ref().and_then(|e| e.get("code")) {
            Some(async_graphql::Value::String(code)) => code.clone(),
            _ => code::INTERNAL.to_owned(),
        },
    }
}

/// Whether an error without a code is async-graphql's refusal of an argument it could not
/// read as its type (`Failed to parse "NaiveDate": …`). The prefix is how the library words
/// every such refusal; no error of qii's own starts with it.
fn is_input_coercion(message: &str) -> bool {
    message.starts_with("Failed to parse \"") || message.starts_with("Expected input type \"")
}

fn error_body(code: &str, message: &str) -> serde_json::Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

fn error_bytes(code: &str, message: &str) -> Vec<u8> {
    error_body(code, message).to_string().into_bytes()
}

/// Answers one operation in the media type the client accepts: with
/// `application/graphql-response+json`, a request that could not execute is a 400 (504
/// when it ran out of time); with `application/json`, always 200.
async fn execute(
    state: AppState,
    actor: Actor,
    caller: guard::Caller,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> Response {
    let answer = run(&state, actor, &caller, request).await;
    respond(headers, answer)
}

/// One operation's answer as an HTTP response, in the media type the client accepts.
fn respond(headers: &HeaderMap, answer: Answer) -> Response {
    let wants_graphql = wants_graphql_response(headers);
    let status = match (wants_graphql, answer.executed, answer.timed_out) {
        _ if answer.malformed => StatusCode::BAD_REQUEST,
        (true, _, true) => StatusCode::GATEWAY_TIMEOUT,
        (true, false, _) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let media = if wants_graphql {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    (status, [(header::CONTENT_TYPE, media)], answer.body).into_response()
}

/// Runs a batch one operation after another: each counts against the caller's rate
/// limit, and together they may select no more root fields than one operation may.
async fn execute_batch(
    state: AppState,
    actor: Actor,
    caller: guard::Caller,
    headers: &HeaderMap,
    requests: Vec<async_graphql::Request>,
) -> Response {
    let limits = &state.limits;
    if requests.is_empty() || requests.len() > limits.max_batch {
        return refusal(
            StatusCode::BAD_REQUEST,
            code::BATCH_TOO_LARGE,
            &format!(
                "a batch holds {} operations; send between 1 and {}",
                requests.len(),
                limits.max_batch
            ),
        );
    }
    let roots: usize = requests.iter().map(|r| root_field_count(&r.query)).sum();
    if roots > limits.max_root_fields {
        return refusal(
            StatusCode::BAD_REQUEST,
            code::TOO_MANY_ROOT_FIELDS,
            &format!(
                "the batch selects {roots} root fields in all; at most {} are accepted",
                limits.max_root_fields
            ),
        );
    }
    if let Some(limit) = &state.rate_limit {
        // The first operation passed the gate; the others pay their way too.
        if let Some(response) = limit.charge(&caller.key, requests.len() - 1).await {
            return response;
        }
    }
    let mut answers = Vec::with_capacity(requests.len());
    for request in requests {
        answers.push(run(&state, actor.clone(), &caller, request).await.body);
    }
    let media = if wants_graphql_response(headers) {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, media)],
        batch_body(answers),
    )
        .into_response()
}

/// The answers of a batch as one JSON array.
fn batch_body(answers: Vec<Vec<u8>>) -> Vec<u8> {
    let mut body = Vec::with_capacity(answers.iter().map(|a| a.len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (i, answer) in answers.into_iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&answer);
    }
    body.push(b']');
    body
}

/// Root fields of the largest operation of a query (0 when it does not parse: the
/// operation is refused on its own then).
fn root_field_count(query: &str) -> usize {
    parse_query(query)
        .map(|doc| qii_graphql::limits::root_fields(&doc))
        .unwrap_or(0)
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, GRAPHQL_RESPONSE)],
        Json(error_body(code, message)),
    )
        .into_response()
}

/// A server bound to its address, ready to run.
pub struct Server {
    pub listener: TcpListener,
    pub state: AppState,
    pub statements: StatementCounter,
    /// How often the rules folder and the database are looked at for a new release.
    pub rules_poll: Duration,
}

impl Server {
    /// Connects to the database, migrates it, and binds the listening socket.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        {
            // Migrations may take longer than a request may: their own connection.
            let (db, _) = db::connect(config).await?;
            db::migrate(&db).await?;
            db.close().await?;
        }
        let (db, statements) = db::connect_for_requests(config).await?;
        let rules = qii_domain::service::rules::RuleStore::open(
            db.clone(),
            &config.rules_dir,
            qii_domain::service::rules::StoreOptions::of(config),
        )
        .await;
        let auth = qii_domain::auth::Authenticator::open(&db, &config.auth).await?;
        let listener = TcpListener::bind(config.addr).await?;
        let rules = std::sync::Arc::new(rules);
        let rankings: std::sync::Arc<qii_domain::scoring::snapshot::Cache> =
            std::sync::Arc::default();
        let live = qii_domain::live::Live::new(
            db.clone(),
            rules.clone(),
            rankings.clone(),
            &config.live,
            config.limits.request_timeout,
        );
        Ok(Self {
            listener,
            state: AppState {
                schema: schema_with(&config.limits),
                db,
                batch_window: Duration::from_millis(config.batch_window_ms),
                rules,
                rankings,
                auth: std::sync::Arc::new(auth),
                rate_limit: guard::RateLimit::new(&config.limits, config.redis_url.as_deref())?,
                limits: config.limits.clone(),
                persisted: std::sync::Arc::new(persisted::Persisted::new(&config.persisted)),
                metrics: std::sync::Arc::default(),
                metrics_token: config.metrics_token.clone(),
                live,
                live_limits: config.live.clone(),
                photos: std::sync::Arc::new(qii_domain::photos::PhotoStore::new(
                    &config.data_dir,
                    config.photos,
                )),
            },
            statements,
            rules_poll: config.rules_poll,
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
        let watcher = self.state.rules.watch(self.rules_poll);
        let announcing = self.state.live.start();
        let forgetter = self.state.rate_limit.clone().map(|limit| {
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    limit.forget_idle();
                }
            })
        });
        tracing::info!(addr = %self.addr()?, "serving GraphQL at /graphql (subscriptions over WebSocket at /graphql/ws), GraphiQL at /");
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        watcher.abort();
        for task in announcing {
            task.abort();
        }
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

/// Stack of the threads that answer requests and run scripts. Nested pages recurse
/// through their resolvers: the default 2 MiB is short for the deepest query the depth
/// limit lets through. Only the pages a thread touches take memory.
pub const WORKER_STACK_BYTES: usize = 16 * 1024 * 1024;

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
