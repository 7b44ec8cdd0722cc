//! The qii rules engine: administrators' Rhai scripts run in a sandbox, their declarations
//! read and checked, the index's arithmetic over all units, and the scripts' test cases.
//!
//! It knows nothing of databases or HTTP: scripts come through a [`rules::source::Loader`]
//! (a folder, or memory in tests and embedders), figures come in as tables, and results go
//! out as values. [`period`] and [`time`] are the calendar every layer above shares, and
//! [`code`] the error codes every layer sends.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod code;
pub mod names;
pub mod period;
pub mod rules;
pub mod time;
