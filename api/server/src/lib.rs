//! qii: the GraphQL API server of the Dongguan "Youth Voice" platform and its influence index.
//!
//! The top of the layers: [`http`] (axum routes, the gate every API route passes, the
//! report addresses, the server), [`cli`] (the `qii` command) and [`telemetry`] (logs).
//! Below it, each its own crate so that arrows only point down: `qii_graphql` (the schema),
//! `qii_reports`, `qii_demo`, `qii_domain` (services and scoring) and `qii_engine` (rules).

#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![recursion_limit = "256"]

pub mod cli;
pub mod http;
pub mod telemetry;

/// The `qii` command: runs [`cli::run`] on a runtime whose threads have the stack the
/// server needs ([`http::WORKER_STACK_BYTES`]). The command's future is boxed so that it is
/// compiled here, with the rest of the server, and the binary only calls this.
pub fn main() -> anyhow::Result<()> {
    let run: std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>>>> =
        Box::pin(cli::run());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(http::WORKER_STACK_BYTES)
        .build()?
        .block_on(run)
}
