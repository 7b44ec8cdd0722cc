//! The rules engine: administrators' Rhai scripts under `rules/`, run in a sandbox.
//!
//! A scoring script declares its index once per run ([`spec::IndexSpec`]: indicators, their
//! raw figures, transforms, standardisation, direction, weights and aggregation); Rust then
//! does the arithmetic over all units ([`compute`]), calling back into the script per unit
//! only where it defines a method of its own. Every number that is policy lives in the
//! script, never here.

pub mod check;
pub mod compute;
pub mod registry;
pub mod releases;
pub mod sandbox;
pub mod source;
pub mod spec;
pub mod store;

pub use registry::Registry;
pub use sandbox::{RuleError, Sandbox, Script};
pub use source::RuleSource;
pub use store::RuleStore;
