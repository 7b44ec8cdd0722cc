//! The acting identity: who is calling. Every service function receives one and decides
//! with it, row by row, what the caller may read and change (see [`crate::authz`]).
//!
//! HTTP callers are identified by their bearer token ([`crate::auth`]); without one they
//! are anonymous. The command line and the demo loader act as [`Role::System`].

use std::fmt;

/// What a caller is allowed to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A caller that presented no credentials: public activity listings only.
    Anonymous,
    /// A public member, by member id.
    Member(i64),
    /// An administrator of a town (org unit id): the town and its Youth Homes.
    TownAdmin(i64),
    /// An administrator of one Youth Home (org unit id).
    YouthHomeAdmin(i64),
    /// Edits and publishes rule scripts; reads scores.
    RuleAdmin,
    /// Runs the platform city-wide.
    CityAdmin,
    /// An integration partner with the scopes it was granted.
    Partner(Vec<Scope>),
    /// The server itself: command line, imports, demo data.
    System,
}

/// A permission granted to a partner token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Rankings, scores and their explanations (`scores:read`).
    ScoresRead,
}

impl Scope {
    /// Every scope there is.
    pub const ALL: [Scope; 1] = [Scope::ScoresRead];

    /// The scope's name in tokens and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scope::ScoresRead => "scores:read",
        }
    }

    /// The scope of that name.
    pub fn parse(name: &str) -> Option<Scope> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Scopes as a token's `scope` claim spells them: names separated by spaces.
pub fn scope_claim(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who performs an operation: a role, the subject it was granted to and, for token
/// holders, the token's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub role: Role,
    /// The token's subject: a username, a partner's name, `system` or `anonymous`.
    pub subject: String,
    /// The token's `jti`, when the caller presented one.
    pub token_id: Option<String>,
}

impl Actor {
    /// A caller without credentials.
    pub fn anonymous() -> Self {
        Self {
            role: Role::Anonymous,
            subject: "anonymous".into(),
            token_id: None,
        }
    }

    /// The server itself.
    pub fn system() -> Self {
        Self {
            role: Role::System,
            subject: "system".into(),
            token_id: None,
        }
    }

    /// A caller in `role` named `subject` (tests and tools; HTTP callers come from tokens).
    pub fn new(role: Role, subject: impl Into<String>) -> Self {
        Self {
            role,
            subject: subject.into(),
            token_id: None,
        }
    }

    /// A short label recorded in histories and the audit log ("who acted"):
    /// `role:subject`, e.g. `town_admin:alice`, `member:42`, `partner:acme`.
    pub fn label(&self) -> String {
        match &self.role {
            Role::Anonymous | Role::System => self.subject.clone(),
            Role::Member(id) if self.subject.is_empty() => format!("member:{id}"),
            role => format!("{}:{}", role_name(role), self.subject),
        }
    }

    /// The member this caller acts as, if a member.
    pub fn member_id(&self) -> Option<i64> {
        match self.role {
            Role::Member(id) => Some(id),
            _ => None,
        }
    }
}

/// The role's name as tokens and labels spell it.
pub fn role_name(role: &Role) -> &'static str {
    match role {
        Role::Anonymous => "anonymous",
        Role::Member(_) => "member",
        Role::TownAdmin(_) => "town_admin",
        Role::YouthHomeAdmin(_) => "youth_home_admin",
        Role::RuleAdmin => "rule_admin",
        Role::CityAdmin => "city_admin",
        Role::Partner(_) => "partner",
        Role::System => "system",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_role_and_the_subject() {
        assert_eq!(Actor::system().label(), "system");
        assert_eq!(Actor::anonymous().label(), "anonymous");
        assert_eq!(
            Actor::new(Role::TownAdmin(3), "alice").label(),
            "town_admin:alice"
        );
        assert_eq!(Actor::new(Role::Member(42), "").label(), "member:42");
        assert_eq!(Scope::parse("scores:read"), Some(Scope::ScoresRead));
        assert_eq!(Scope::parse("scores:write"), None);
    }
}
