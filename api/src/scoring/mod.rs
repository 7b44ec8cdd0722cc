//! Scoring: raw indicator figures from the database, for a period and a level of org units.
//! The arithmetic of the index itself is in [`crate::rules::compute`].

mod families;
pub mod raw;
mod update_days;

pub use raw::{raw_table, FigureRules, Level};
