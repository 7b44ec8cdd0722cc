#![allow(dead_code)] // Each test crate uses part of it.
//! A client of the `graphql-transport-ws` protocol, as a front-end's subscription client
//! speaks it, for tests of `/graphql/ws`.

use std::{collections::VecDeque, time::Duration};

use async_graphql::futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{client::IntoClientRequest, http::HeaderValue, Message},
    MaybeTlsStream, WebSocketStream,
};

/// One WebSocket connection to a server's `/graphql/ws`.
pub struct Ws {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    /// Messages read while waiting for another subscription's.
    pending: VecDeque<Value>,
}

/// How a subscription's message ended the wait.
#[derive(Debug)]
pub enum Event {
    /// A `next` message: its payload (`data`, maybe `errors`).
    Next(Value),
    /// An `error` message: its list of errors.
    Error(Value),
    /// The server completed the subscription.
    Complete,
}

impl Ws {
    /// Connects to the server at `base` (`http://host:port`) and initialises the
    /// connection with `token` in the `connection_init` payload; the server's refusal
    /// (the close frame's reason) when it does not acknowledge.
    pub async fn connect(base: &str, token: Option<&str>) -> Result<Ws, String> {
        let url = format!("{}/graphql/ws", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().map_err(|e| e.to_string())?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, _) = connect_async(request).await.map_err(|e| e.to_string())?;
        let mut ws = Ws {
            socket,
            pending: VecDeque::new(),
        };
        let payload = match token {
            Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match ws.read(Duration::from_secs(20)).await {
            Some(message) if message["type"] == "connection_ack" => Ok(ws),
            Some(message) => Err(message.to_string()),
            None => Err("the connection closed".into()),
        }
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("the message is sent");
    }

    /// The next protocol message (pings answered), or none when the connection closed;
    /// a close frame comes back as `{"type": "close", "reason": …}`.
    async fn read(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let frame = tokio::time::timeout(wait, self.socket.next())
                .await
                .expect("the server answers in time")?;
            match frame.ok()? {
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON message");
                    if message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(message);
                }
                Message::Close(frame) => {
                    let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                    return Some(json!({ "type": "close", "reason": reason }));
                }
                _ => continue,
            }
        }
    }

    /// Starts subscription `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "id": id, "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    /// Stops subscription `id`.
    pub async fn complete(&mut self, id: &str) {
        self.send(json!({ "id": id, "type": "complete" })).await;
    }

    /// The next message of subscription `id`, waiting at most `wait`.
    pub async fn next(&mut self, id: &str, wait: Duration) -> Event {
        let position = self.pending.iter().position(|m| m["id"] == id);
        let message = match position.and_then(|i| self.pending.remove(i)) {
            Some(message) => message,
            None => loop {
                let message = self.read(wait).await.expect("the connection stays open");
                if message["id"] == id || message["type"] == "close" {
                    break message;
                }
                self.pending.push_back(message);
            },
        };
        match message["type"].as_str() {
            Some("next") => Event::Next(message["payload"].clone()),
            Some("error") => Event::Error(message["payload"].clone()),
            Some("complete") => Event::Complete,
            _ => panic!("unexpected message: {message}"),
        }
    }

    /// The `data` of the next message of `id`, which must be one without errors.
    pub async fn data(&mut self, id: &str, wait: Duration) -> Value {
        match self.next(id, wait).await {
            Event::Next(payload) if payload.get("errors").is_none() => payload["data"].clone(),
            other => panic!("expected data for {id}, got {other:?}"),
        }
    }

    /// The code of the error that ends subscription `id`.
    pub async fn error_code(&mut self, id: &str, wait: Duration) -> String {
        let errors = match self.next(id, wait).await {
            Event::Error(errors) => errors,
            Event::Next(payload) if payload.get("errors").is_some() => payload["errors"].clone(),
            other => panic!("expected an error for {id}, got {other:?}"),
        };
        errors[0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("an error with a code: {errors}"))
            .to_owned()
    }
}
