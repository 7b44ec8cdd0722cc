//! The audit log: every rule publish and rollback (with the script diff), every approval
//! decision, every step of a platform training request, and every account, role and token
//! change, with who, when and what.
//!
//! Entries are written in the transaction of the change they record, so a change that
//! fails leaves no entry and an entry never lacks its change. Nothing updates or deletes
//! them; only city administrators read them.

use async_graphql::InputObject;
use chrono::{DateTime, Utc};
use entities::audit_entry;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select, Set,
};
use serde_json::Value;

use super::filter::Filters;
use crate::{authz::Need, error::ServiceResult, identity::Actor};

/// Records one change made by `actor`.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    target: impl Into<String>,
    detail: Value,
) -> ServiceResult<()> {
    record_as(db, &actor.label(), action, target, detail).await
}

/// Records one change made by the actor labelled `who` (see [`Actor::label`]).
pub async fn record_as(
    db: &impl ConnectionTrait,
    who: &str,
    action: &str,
    target: impl Into<String>,
    detail: Value,
) -> ServiceResult<()> {
    audit_entry::ActiveModel {
        at: Set(Utc::now()),
        actor: Set(who.to_owned()),
        action: Set(action.to_owned()),
        target: Set(target.into()),
        detail: Set(detail.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Which audit entries to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct AuditFilter {
    /// One action (`rules.publish`) or a family ending in a dot (`rules.`).
    pub action: Option<String>,
    /// Who acted, as recorded (`city_admin:alice`).
    pub actor: Option<String>,
    /// At or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub before: Option<DateTime<Utc>>,
}

/// The entries a city administrator may read, filtered.
pub fn entries(actor: &Actor, filter: &AuditFilter) -> ServiceResult<Select<audit_entry::Entity>> {
    use audit_entry::Column as C;
    actor.require(Need::CityAdmin, "read the audit log")?;
    let action = filter.action.as_deref().map(|action| {
        if action.ends_with('.') {
            C::Action.starts_with(action)
        } else {
            C::Action.eq(action)
        }
    });
    let cond = Filters::new()
        .when(action)
        .eq(C::Actor, filter.actor.clone())
        .range(C::At, filter.from, filter.before)
        .build();
    Ok(audit_entry::Entity::find().filter(cond))
}

/// A unified diff of one file between two versions, for the audit log of rule changes.
pub fn script_diff(path: &str, before: Option<&str>, after: Option<&str>) -> String {
    similar::TextDiff::from_lines(before.unwrap_or(""), after.unwrap_or(""))
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// The unified diff of every rule file a release changes, by path (sources, and test
/// cases under `PATH (tests)`).
pub fn release_diff(
    before: &[qii_engine::rules::source::RuleSource],
    after: &[qii_engine::rules::source::RuleSource],
) -> serde_json::Map<String, Value> {
    use std::collections::BTreeMap;
    let index =
        |files: &[qii_engine::rules::source::RuleSource]| -> BTreeMap<String, (String, Option<String>)> {
            files
                .iter()
                .map(|f| (f.path.clone(), (f.source.clone(), f.tests.clone())))
                .collect()
        };
    let (old, new) = (index(before), index(after));
    let mut diffs = serde_json::Map::new();
    let paths: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for path in paths {
        let (a, b) = (old.get(path), new.get(path));
        fn source(f: Option<&(String, Option<String>)>) -> Option<&str> {
            f.map(|(s, _)| s.as_str())
        }
        fn tests(f: Option<&(String, Option<String>)>) -> Option<&str> {
            f.and_then(|(_, t)| t.as_deref())
        }
        if source(a) != source(b) {
            diffs.insert(path.clone(), script_diff(path, source(a), source(b)).into());
        }
        if tests(a) != tests(b) {
            let name = format!("{path} (tests)");
            diffs.insert(name.clone(), script_diff(&name, tests(a), tests(b)).into());
        }
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_shows_the_changed_lines() {
        let diff = script_diff(
            "qii/v2.rhai",
            Some("let a = 1;\nlet b = 2;\n"),
            Some("let a = 1;\nlet b = 3;\n"),
        );
        assert!(diff.contains("-let b = 2;"), "{diff}");
        assert!(diff.contains("+let b = 3;"), "{diff}");
        assert!(diff.starts_with("--- a/qii/v2.rhai"), "{diff}");
    }
}
