//! The measured side of operations: daily valid visits (有效访问量) from the platform's
//! logs ([`visits`]), and targets (目标) set per org unit, period and metric
//! ([`targets`]).
//!
//! The target *values* are policy and come from administrators; this module only checks
//! their shape (period syntax, metric name, non-negative value).

mod targets;
mod visits;

pub use targets::*;
pub use visits::*;
