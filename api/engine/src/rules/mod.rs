//! The rules engine: administrators' Rhai scripts under `rules/`, run in a sandbox.
//!
//! A scoring script declares its index once per run ([`spec::IndexSpec`]: indicators, their
//! raw figures, transforms, standardisation, direction, weights and aggregation); Rust then
//! does the arithmetic over all units ([`compute`]), calling back into the script per unit
//! only where it defines a method of its own. A targets script declares the targets of a
//! span of periods ([`targets::TargetsSpec`]), worked out per unit in Rust as well. Every
//! number that is policy lives in the scripts, never here.

pub mod activity;
pub mod check;
pub mod compute;
pub mod declaration;
pub mod policy;
pub mod registry;
pub mod sandbox;
pub mod source;
pub mod spec;
pub mod stability;
pub mod targets;

pub use policy::PolicyVersion;
pub use registry::{Registry, TargetsVersion};
pub use sandbox::{RuleError, Sandbox, Script};
pub use source::RuleSource;
