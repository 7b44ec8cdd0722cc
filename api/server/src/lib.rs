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
