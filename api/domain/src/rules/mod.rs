//! The rules a running server scores with: the engine's rules ([`qii_engine::rules`],
//! re-exported here whole) and what the engine leaves to this layer, their persistence:
//! releases kept in the database and audited ([`releases`]), and the store that keeps every
//! server on one database on the latest release ([`store`]).

pub use qii_engine::rules::*;

pub mod releases;
pub mod store;

pub use store::RuleStore;
