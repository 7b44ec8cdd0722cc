//! Changing the rules in force: publishing a rule file, returning a rule set to an earlier
//! release, and reading the history of releases. Every change is checked in full (scripts,
//! declarations, test cases) before it lands; a refused change leaves the rules in force.
//!
//! The engine leaves persistence to this layer: releases are kept in the database and
//! audited ([`releases`]), and the [`store`] keeps every server on one database on the
//! latest release.

use crate::authz::Need;

use entities::rule_release;

use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};
use qii_engine::rules::source::{self, RuleSource};

pub mod releases;
pub mod store;

pub use releases::Attempt;
use releases::Release;
pub use store::{version_labels, ChangeError, Changed, RuleStore, StoreOptions};

/// The most releases one history read returns.
pub const MAX_HISTORY: u64 = 500;

/// Publishes one rule file (a new version of a rule set, or an edit of a file in force)
/// with its test cases.
pub async fn publish(
    actor: &Actor,
    store: &RuleStore,
    file: RuleSource,
    note: Option<&str>,
) -> ServiceResult<Changed> {
    actor.require(Need::Rules, "publish rule scripts")?;
    let why = release_note(note)?;
    source::check_path(&file.path).map_err(|m| ServiceError::invalid("path", m))?;
    if file.source.trim().is_empty() {
        return Err(ServiceError::invalid("source", "the script is empty"));
    }
    if file.tests.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(ServiceError::invalid(
            "tests",
            "the test cases are empty: leave them out, or give a JSON list of cases",
        ));
    }
    let note = format!("{} published{why}", file.path);
    let who = actor.label();
    let change = store.change(&who, "publish", note, None, |base| {
        Ok(source::apply(base, std::slice::from_ref(&file), &[]))
    });
    outcome(change.await)
}

/// Longest note accepted with a release.
const NOTE_MAX: usize = 500;

/// What an administrator says of a change, as it follows the server's own note (`: …`);
/// nothing when none is given. A blank or overlong note is refused.
fn release_note(note: Option<&str>) -> ServiceResult<String> {
    let Some(note) = note else {
        return Ok(String::new());
    };
    let note = note.trim();
    if note.is_empty() {
        return Err(ServiceError::invalid(
            "note",
            "the note is blank: leave it out, or say why the rules change",
        ));
    }
    if note.chars().count() > NOTE_MAX {
        return Err(ServiceError::invalid(
            "note",
            format!("the note is longer than {NOTE_MAX} characters"),
        ));
    }
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ServiceError::invalid(
            "note",
            "the note holds control characters: write plain text",
        ));
    }
    Ok(format!(": {note}"))
}

/// Returns the files of `rule_set` to what they were in release `to` — by default the
/// latest earlier release in which they differed — leaving other rule sets as they are.
pub async fn rollback(
    actor: &Actor,
    store: &RuleStore,
    rule_set: &str,
    to: Option<i64>,
    note: Option<&str>,
) -> ServiceResult<Changed> {
    actor.require(Need::Rules, "roll rule sets back")?;
    let why = release_note(note)?;
    let db = store.db();
    let current = releases::latest(db)
        .await?
        .ok_or_else(|| ServiceError::conflict("no rules have been published yet"))?;
    let in_force = files_of(&current, rule_set);
    let target = match to {
        Some(id) => {
            let release = releases::load(db, id)
                .await?
                .ok_or_else(|| ServiceError::not_found("rule release", id))?;
            if release.row.outcome == releases::REJECTED {
                return Err(ServiceError::invalid(
                    "toRelease",
                    format!("release {id} is a refused attempt: none of it was ever in force"),
                ));
            }
            if id >= current.row.id {
                return Err(ServiceError::invalid(
                    "toRelease",
                    format!(
                        "release {id} is not earlier than the release in force ({})",
                        current.row.id
                    ),
                ));
            }
            release
        }
        None => earlier_differing(store, &current, rule_set, &in_force)
            .await?
            .ok_or_else(|| {
                ServiceError::conflict(format!(
                    "rule set `{rule_set}` has no earlier release to return to"
                ))
            })?,
    };
    let restored = files_of(&target, rule_set);
    if restored.is_empty() && in_force.is_empty() {
        return Err(ServiceError::not_found("rule set", rule_set));
    }
    if source::state_of(&restored) == source::state_of(&in_force) {
        return Err(ServiceError::conflict(format!(
            "rule set `{rule_set}` is already as it was in release {}",
            target.row.id
        )));
    }
    let note = format!(
        "rule set {rule_set} returned to release {}{why}",
        target.row.id
    );
    let who = actor.label();
    let change = store.change(&who, "rollback", note, None, |base| {
        let mut files: Vec<RuleSource> = base
            .iter()
            .filter(|f| f.rule_set() != rule_set)
            .cloned()
            .collect();
        files.extend(restored.iter().cloned());
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    });
    outcome(change.await)
}

/// Releases, newest first.
pub async fn history(
    actor: &Actor,
    store: &RuleStore,
    limit: u64,
) -> ServiceResult<Vec<rule_release::Model>> {
    actor.require(Need::Staff, "read the rule releases")?;
    Ok(releases::history(store.db(), limit.min(MAX_HISTORY)).await?)
}

/// One release with its files.
pub async fn release(actor: &Actor, store: &RuleStore, id: i64) -> ServiceResult<Release> {
    actor.require(Need::Staff, "read rule releases")?;
    releases::load(store.db(), id)
        .await?
        .ok_or_else(|| ServiceError::not_found("rule release", id))
}

/// The latest release before `current` in which `rule_set`'s files were not as they are.
async fn earlier_differing(
    store: &RuleStore,
    current: &Release,
    rule_set: &str,
    in_force: &[RuleSource],
) -> ServiceResult<Option<Release>> {
    let state = source::state_of(in_force);
    for row in releases::history(store.db(), MAX_HISTORY).await? {
        if row.id >= current.row.id || row.outcome == releases::REJECTED {
            continue;
        }
        if let Some(release) = releases::load(store.db(), row.id).await? {
            if source::state_of(&files_of(&release, rule_set)) != state {
                return Ok(Some(release));
            }
        }
    }
    Ok(None)
}

fn files_of(release: &Release, rule_set: &str) -> Vec<RuleSource> {
    release
        .files
        .iter()
        .filter(|f| f.rule_set() == rule_set)
        .cloned()
        .collect()
}

fn outcome(result: Result<Changed, ChangeError>) -> ServiceResult<Changed> {
    result.map_err(|e| match e {
        ChangeError::Rejected(errors) => ServiceError::RulesRejected(errors),
        ChangeError::Busy => ServiceError::conflict(
            "other changes of the rules kept landing at the same time; try again",
        ),
        ChangeError::Database(e) => ServiceError::Database(e),
    })
}

/// A script by its content hash: any content a rule file had in a release (and so any that
/// scored something).
pub async fn script(
    actor: &Actor,
    store: &RuleStore,
    hash: &str,
) -> ServiceResult<Option<entities::rule_script::Model>> {
    actor.require(Need::Rules, "read rule scripts")?;
    let hash = hash.trim().to_ascii_lowercase();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ServiceError::invalid(
            "hash",
            "a content hash is the 64 hexadecimal digits of the script's SHA-256",
        ));
    }
    Ok(releases::script_by_hash(store.db(), &hash).await?)
}

/// What checking a draft found.
pub struct DraftCheck {
    /// Every error: the draft's (compiling, its declaration, its test cases, a version label
    /// already taken, test cases missing) and any it causes in the rules it would join.
    pub errors: Vec<qii_engine::rules::RuleError>,
    /// Test cases of the draft that passed, and how many it has.
    pub cases_passed: usize,
    pub cases: usize,
    /// The rule set and version it declares, when it declares one.
    pub declared: Option<(String, String)>,
    /// For a scoring script, the period it starts (`effective_from`).
    pub effective_from: Option<String>,
}

/// Checks a draft of a rule file as publishing it would, storing nothing.
pub async fn check_draft(
    actor: &Actor,
    store: &RuleStore,
    file: RuleSource,
) -> ServiceResult<DraftCheck> {
    actor.require(Need::Rules, "check rule drafts")?;
    source::check_path(&file.path).map_err(|m| ServiceError::invalid("path", m))?;
    if file.source.trim().is_empty() {
        return Err(ServiceError::invalid("source", "the script is empty"));
    }
    let base = releases::latest(store.db())
        .await?
        .map(|r| r.files)
        .unwrap_or_default();
    let next = source::apply(&base, std::slice::from_ref(&file), &[]);
    let mut errors = match store.checked(&next, &base).await? {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    // The draft's own report: its cases and what it declares.
    let sandbox = store.sandbox().clone();
    let pool = sandbox.clone();
    let draft = file.clone();
    let report = pool
        .run(move || qii_engine::rules::check::check_source(&sandbox, &draft))
        .await?;
    let cases = file
        .tests
        .as_deref()
        .and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(t).ok())
        .map_or(0, |c| c.len());
    let declared = report
        .index
        .as_ref()
        .map(|s| (s.name.clone(), s.version.clone()))
        .or_else(|| {
            report
                .targets
                .as_ref()
                .map(|s| (s.name.clone(), s.version.clone()))
        })
        .or_else(|| {
            report
                .policy
                .as_ref()
                .map(|s| (s.name.clone(), s.version.clone()))
        });
    // The draft's errors first, then those of other files.
    errors.sort_by_key(|e| e.script != file.path && e.script != file.tests_path());
    Ok(DraftCheck {
        errors,
        cases_passed: report.cases_passed,
        cases,
        declared,
        effective_from: report.index.as_ref().map(|s| s.effective_from.clone()),
    })
}
