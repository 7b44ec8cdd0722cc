//! qii: the GraphQL API server of the Dongguan "Youth Voice" platform and its influence index.
//!
//! Layers, one folder or file each: [`config`] (typed settings), [`telemetry`] (logs),
//! [`db`] (connections and migrations), [`auth`] (tokens) and [`authz`] (who may do
//! what), [`service`] (validation, authorisation and
//! transactions over the entities), [`graphql`] (the schema front-ends see), [`http`]
//! (axum routes and the server), [`demo`] (the Dongguan demo data set) and [`cli`].

pub mod auth;
pub mod authz;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod graphql;
pub mod http;
pub mod identity;
pub mod period;
pub mod reports;
pub mod rules;
pub mod scoring;
pub mod service;
pub mod telemetry;
pub mod time;
