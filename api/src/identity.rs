//! The acting identity: who is calling. Every service function receives one.
//!
//! Until tokens are verified, HTTP callers are [`Actor::Anonymous`]; the command line
//! and the demo loader act as [`Actor::System`].

/// Who performs an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A caller that presented no credentials.
    Anonymous,
    /// A public member, by member id.
    Member(i64),
    /// An administrator of an org unit (city, town or Youth Home), by org unit id.
    OrgAdmin(i64),
    /// An integration partner, by client name.
    Partner(String),
    /// The server itself: command line, imports, demo data.
    System,
}

impl Actor {
    /// A short label recorded in histories ("who acted").
    pub fn label(&self) -> String {
        match self {
            Actor::Anonymous => "anonymous".into(),
            Actor::Member(id) => format!("member:{id}"),
            Actor::OrgAdmin(id) => format!("org_admin:{id}"),
            Actor::Partner(name) => format!("partner:{name}"),
            Actor::System => "system".into(),
        }
    }
}
