//! The qii domain layer: validation, authorisation and transactions over the entities, and
//! the scoring that feeds the rules engine from the database.
//!
//! [`config`] (typed settings), [`id`] (the `ID` scalar), [`text`] (search text), [`db`] (connections and migrations), [`auth`] (tokens),
//! [`live`] (what subscriptions push), [`photos`] (uploaded pictures, their checks and files), [`identity`] (who is calling) and [`authz`] (what they may do), [`error`] (the layer's
//! errors and their client form), [`service`] (one module per domain), [`scoring`] (figures
//! gathered in the database, scored by the engine, stored) and [`rules`] (the engine's
//! rules with their releases kept in the database).

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod auth;
pub mod authz;
pub mod config;
pub mod db;
pub mod error;
pub mod id;
pub mod identity;
pub mod live;
pub mod metrics;
pub mod photos;
pub mod scoring;
pub mod service;
pub mod text;
