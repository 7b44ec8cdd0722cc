//! Subscriptions over WebSocket at `/graphql/ws` (`graphql-transport-ws`, and the older
//! `graphql-ws`), with the same authentication and limits as `/graphql`:
//!
//! - the upgrade request passes the gate (a bearer token in the header or, from a browser,
//!   `?access_token=`); a token in the `connection_init` payload (`Authorization` or
//!   `authorization`: `Bearer <token>`, or `token`) takes its place;
//! - each subscription started spends one request of the caller's rate budget, and passes
//!   the persisted-query policy (in allow-list mode, only registered operations);
//! - depth, cost and input limits apply as to any operation; a connection holds at most
//!   `QII_MAX_SUBSCRIPTIONS_PER_CONNECTION` subscriptions and the server at most
//!   `QII_MAX_SUBSCRIPTIONS`, beyond which `TOO_MANY_SUBSCRIPTIONS`;
//! - queries and mutations are answered over HTTP only (`BAD_REQUEST` here).

use std::{
    any::TypeId,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Instant,
};

use async_graphql::{
    futures_util::{stream, stream::BoxStream, StreamExt},
    http::ALL_WEBSOCKET_PROTOCOLS,
    parser::types::OperationType,
    Data, Executor, Response,
};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{ws::WebSocketUpgrade, Extension, State},
    response::Response as HttpResponse,
};

use qii_domain::{error::code, identity::Actor};
use qii_graphql::RequestContext;

use super::{finish_errors, guard::Caller, metrics::operation_name, outcome_of, AppState};

/// Who holds a WebSocket connection, and how many subscriptions it has open.
#[derive(Clone)]
struct Session {
    actor: Actor,
    caller: Caller,
    open: Arc<AtomicUsize>,
}

/// Upgrades to a WebSocket that serves subscriptions.
pub async fn graphql_ws(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Extension(caller): Extension<Caller>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let executor = Subscriptions {
                state: state.clone(),
            };
            GraphQLWebSocket::new(socket, executor, protocol)
                .on_connection_init(move |payload| async move {
                    let actor = match token_in(&payload) {
                        Some(authorization) => state
                            .auth
                            .authenticate(&state.db, Some(&authorization))
                            .await
                            .map_err(|e| async_graphql::Error::new(e.0))?,
                        None => actor,
                    };
                    let mut data = Data::default();
                    data.insert(Session {
                        actor,
                        caller,
                        open: Arc::default(),
                    });
                    Ok(data)
                })
                .serve()
        })
}

/// The bearer token a `connection_init` payload carries, as an `Authorization` value.
fn token_in(payload: &serde_json::Value) -> Option<String> {
    let text = |key: &str| payload.get(key).and_then(|v| v.as_str());
    if let Some(value) = text("Authorization").or_else(|| text("authorization")) {
        return Some(value.to_owned());
    }
    text("token").map(|token| format!("Bearer {token}"))
}

/// Runs the subscriptions of one connection.
#[derive(Clone)]
struct Subscriptions {
    state: AppState,
}

/// One answer carrying one error.
fn refused(code: &str, message: impl Into<String>) -> Response {
    Response::from_errors(vec![qii_graphql::limits::refusal(code, message)])
}

/// Gives back a subscription's places when it ends.
struct Slot {
    connection: Arc<AtomicUsize>,
    live: Arc<qii_domain::live::Live>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connection.fetch_sub(1, Ordering::Relaxed);
        self.live
            .figures
            .subscriptions
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl Subscriptions {
    /// Takes one place on the connection and on the server, or says why not.
    fn slot(&self, session: &Session) -> Result<Slot, Box<Response>> {
        let limits = &self.state.live_limits;
        let live = &self.state.live;
        let on_connection = session.open.fetch_add(1, Ordering::Relaxed) + 1;
        let on_server = live.figures.subscriptions.fetch_add(1, Ordering::Relaxed) + 1;
        let slot = Slot {
            connection: session.open.clone(),
            live: live.clone(),
        };
        if on_connection > limits.max_per_connection {
            return Err(Box::new(refused(
                code::TOO_MANY_SUBSCRIPTIONS,
                format!(
                    "this connection holds {} subscriptions already, the most it may: \
                     complete one first",
                    limits.max_per_connection
                ),
            )));
        }
        if on_server > limits.max_total {
            return Err(Box::new(refused(
                code::TOO_MANY_SUBSCRIPTIONS,
                format!(
                    "this server holds {} subscriptions, the most it may: try again later",
                    limits.max_total
                ),
            )));
        }
        Ok(slot)
    }

    /// The subscription's answers, or the one refusal that ends it.
    async fn start(
        self,
        request: async_graphql::Request,
        data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let state = &self.state;
        let started = Instant::now();
        let operation = operation_name(&request);
        let session = data
            .as_ref()
            .and_then(|data| data.get(&TypeId::of::<Session>()))
            .and_then(|session| session.downcast_ref::<Session>())
            .cloned();
        let Some(session) = session else {
            return stream::once(async {
                refused(code::UNAUTHENTICATED, "send `connection_init` first")
            })
            .boxed();
        };
        let refuse = |response: Response| {
            let outcome = outcome_of(&response.errors);
            state
                .metrics
                .record(&operation, &outcome, started.elapsed());
            stream::once(async { response }).boxed()
        };
        if let Some(limit) = &state.rate_limit {
            if let Some(wait) = limit.check(&session.caller.key).await {
                let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
                return refuse(refused(
                    code::RATE_LIMITED,
                    format!("too many requests: retry in {seconds} s"),
                ));
            }
        }
        let request = match state.persisted.prepare(&state.db, request).await {
            Ok(request) => request,
            Err(refusal) => return refuse(refused(refusal.code, refusal.message)),
        };
        if !is_subscription(&request) {
            return refuse(refused(
                code::BAD_REQUEST,
                "only subscriptions are served over WebSocket: send queries and mutations \
                 to /graphql over HTTP",
            ));
        }
        let slot = match self.slot(&session) {
            Ok(slot) => slot,
            Err(response) => return refuse(*response),
        };
        let viewer = session.actor.clone();
        let mut context = RequestContext::new(
            state.db.clone(),
            session.actor.clone(),
            state.batch_window,
            state.rules.clone(),
            state.auth.clone(),
        );
        context.client = session.caller.address.clone();
        context.rankings = state.rankings.clone();
        let request = request.data(context).data(state.live.clone());
        let metrics = state.metrics.clone();
        let mut first = true;
        // Held while the subscription runs.
        let mut slot = Some(slot);
        Executor::execute_stream(&state.schema, request, data)
            .map(move |mut response| {
                finish_errors(&viewer, &mut response.errors);
                if std::mem::take(&mut first) {
                    metrics.record(&operation, &outcome_of(&response.errors), started.elapsed());
                    if response.data == async_graphql::Value::Null && !response.errors.is_empty() {
                        // Refused as it starts: the subscription ends with this answer, and
                        // its place is free before the client reads it (so that the next
                        // subscription the client sends finds it free).
                        slot.take();
                    }
                }
                response
            })
            .boxed()
    }
}

/// Whether the operation a request selects is a subscription (one that does not parse is
/// left to the schema, which refuses it with its parse error).
fn is_subscription(request: &async_graphql::Request) -> bool {
    super::selects(request, OperationType::Subscription).unwrap_or(true)
}

impl Executor for Subscriptions {
    async fn execute(&self, _request: async_graphql::Request) -> Response {
        refused(
            code::BAD_REQUEST,
            "only subscriptions are served over WebSocket: send queries and mutations to \
             /graphql over HTTP",
        )
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let this = self.clone();
        stream::once(this.start(request, session_data))
            .flatten()
            .boxed()
    }
}
