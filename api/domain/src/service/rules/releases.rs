//! Releases in the database: the set of rule files in force after each change. Scripts are
//! written once and shared by the releases that hold them; the latest release is in force.

use std::collections::BTreeMap;

use entities::{rule_release, rule_release_script, rule_script};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use qii_engine::rules::{sandbox::content_hash, source::RuleSource};

/// A release and the files it holds.
#[derive(Debug, Clone)]
pub struct Release {
    pub row: rule_release::Model,
    /// Sorted by path.
    pub files: Vec<RuleSource>,
}

impl Release {
    /// The rules folder as last applied: path → content key.
    pub fn folder_state(&self) -> BTreeMap<String, String> {
        self.row
            .folder_state
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }
}

/// A release to write.
pub struct NewRelease<'a> {
    /// The release it was made from; `None` for the first.
    pub parent: Option<i64>,
    pub actor: &'a str,
    /// `folder`, `publish` or `rollback`.
    pub action: &'a str,
    pub note: String,
    pub folder_state: &'a BTreeMap<String, String>,
    pub files: &'a [RuleSource],
    /// The files it replaces, for the audit log's diff.
    pub base: &'a [RuleSource],
}

/// A change of the rules being attempted.
pub struct Attempt<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub note: &'a str,
    pub folder_state: Option<&'a BTreeMap<String, String>>,
    /// The files in force it starts from.
    pub base: &'a [RuleSource],
}

/// Another change landed on the same parent first.
#[derive(Debug)]
pub struct Conflict;

/// A release that was in force (not a refused attempt).
pub const RELEASED: &str = "released";
/// A change refused by its checks.
pub const REJECTED: &str = "rejected";

/// The id of the release in force, if any.
pub async fn latest_id(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    let id: Option<Option<i64>> = rule_release::Entity::find()
        .filter(rule_release::Column::Outcome.eq(RELEASED))
        .select_only()
        .column_as(rule_release::Column::Id.max(), "id")
        .into_tuple()
        .one(db)
        .await?;
    Ok(id.flatten())
}

/// The release in force, if any.
pub async fn latest(db: &impl ConnectionTrait) -> Result<Option<Release>, DbErr> {
    match latest_id(db).await? {
        Some(id) => load(db, id).await,
        None => Ok(None),
    }
}

/// One release with its files.
pub async fn load(db: &impl ConnectionTrait, id: i64) -> Result<Option<Release>, DbErr> {
    let Some(row) = rule_release::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let script_ids: Vec<i64> = rule_release_script::Entity::find()
        .select_only()
        .column(rule_release_script::Column::ScriptId)
        .filter(rule_release_script::Column::ReleaseId.eq(id))
        .into_tuple()
        .all(db)
        .await?;
    let files = rule_script::Entity::find()
        .filter(rule_script::Column::Id.is_in(script_ids))
        .order_by_asc(rule_script::Column::Path)
        .all(db)
        .await?
        .into_iter()
        .map(|s| RuleSource {
            path: s.path,
            source: s.source,
            tests: s.tests,
        })
        .collect();
    Ok(Some(Release { row, files }))
}

/// Releases, newest first.
pub async fn history(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<rule_release::Model>, DbErr> {
    rule_release::Entity::find()
        .order_by_desc(rule_release::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The PostgreSQL channel a new release is announced on, as it commits.
pub const RELEASE_CHANNEL: &str = "qii_rule_release";

/// Writes a release in one transaction, reusing stored scripts of the same content.
pub async fn insert(
    db: &DatabaseConnection,
    new: NewRelease<'_>,
) -> Result<Result<i64, Conflict>, DbErr> {
    let tx = crate::db::write(db).await?;
    let now = chrono::Utc::now();
    let release = rule_release::Entity::insert(rule_release::ActiveModel {
        parent_id: Set(new.parent),
        created_at: Set(now),
        actor: Set(new.actor.to_owned()),
        action: Set(new.action.to_owned()),
        note: Set(new.note.clone()),
        folder_state: Set(Some(
            serde_json::to_string(new.folder_state).expect("a map of strings serialises"),
        )),
        outcome: Set(RELEASED.to_owned()),
        ..Default::default()
    })
    .exec(&tx)
    .await;
    let release_id = match release {
        Ok(done) => done.last_insert_id,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            tx.rollback().await?;
            return Ok(Err(Conflict));
        }
        Err(e) => return Err(e),
    };
    for file in new.files {
        let hash = content_hash(&file.source);
        let stored = rule_script::Entity::find()
            .filter(rule_script::Column::Path.eq(&file.path))
            .filter(rule_script::Column::Hash.eq(&hash))
            .all(&tx)
            .await?
            .into_iter()
            .find(|s| s.tests == file.tests);
        let script_id = match stored {
            Some(s) => s.id,
            None => {
                rule_script::Entity::insert(rule_script::ActiveModel {
                    path: Set(file.path.clone()),
                    source: Set(file.source.clone()),
                    tests: Set(file.tests.clone()),
                    hash: Set(hash),
                    created_at: Set(now),
                    ..Default::default()
                })
                .exec(&tx)
                .await?
                .last_insert_id
            }
        };
        rule_release_script::Entity::insert(rule_release_script::ActiveModel {
            release_id: Set(release_id),
            script_id: Set(script_id),
        })
        .exec_without_returning(&tx)
        .await?;
    }
    if tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Delivered at commit to every server listening (see `RuleStore::watch`).
        tx.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [RELEASE_CHANNEL.into(), release_id.to_string().into()],
        ))
        .await?;
    }
    crate::service::audit::record_as(
        &tx,
        new.actor,
        &format!("rules.{}", new.action),
        format!("rule_release:{release_id}"),
        serde_json::json!({
            "release": release_id,
            "parent": new.parent,
            "note": new.note,
            "diff": crate::service::audit::release_diff(new.base, new.files),
        }),
    )
    .await
    .map_err(audit_failure)?;
    tx.commit().await?;
    Ok(Ok(release_id))
}

/// Records a change refused by its checks, with every error, in the history and the audit
/// log. The folder's refusal of one state is recorded once, however many servers see it.
pub async fn insert_rejection(
    db: &DatabaseConnection,
    attempt: &Attempt<'_>,
    files: &[RuleSource],
    errors: &[qii_engine::rules::RuleError],
) -> Result<i64, DbErr> {
    let tx = crate::db::write(db).await?;
    let folder_state = attempt
        .folder_state
        .map(|state| serde_json::to_string(state).expect("a map of strings serialises"));
    if folder_state.is_some() {
        let last = rule_release::Entity::find()
            .order_by_desc(rule_release::Column::Id)
            .one(&tx)
            .await?;
        if let Some(last) = last.filter(|l| l.outcome == REJECTED && l.folder_state == folder_state)
        {
            tx.rollback().await?;
            return Ok(last.id);
        }
    }
    let errors_json = crate::error::rule_errors_json(errors);
    let id = rule_release::Entity::insert(rule_release::ActiveModel {
        parent_id: Set(None),
        created_at: Set(chrono::Utc::now()),
        actor: Set(attempt.actor.to_owned()),
        action: Set(attempt.action.to_owned()),
        note: Set(format!("refused: {}", attempt.note)),
        folder_state: Set(folder_state),
        outcome: Set(REJECTED.to_owned()),
        errors: Set(Some(errors_json.to_string())),
        ..Default::default()
    })
    .exec(&tx)
    .await?
    .last_insert_id;
    let diff = if files.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::Object(crate::service::audit::release_diff(attempt.base, files))
    };
    crate::service::audit::record_as(
        &tx,
        attempt.actor,
        "rules.rejected",
        format!("rule_release:{id}"),
        serde_json::json!({
            "attempt": id,
            "action": attempt.action,
            "note": attempt.note,
            "errors": errors_json,
            "diff": diff,
        }),
    )
    .await
    .map_err(audit_failure)?;
    tx.commit().await?;
    Ok(id)
}

/// A script as stored: every content a rule file ever had in a release.
pub async fn script_by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<rule_script::Model>, DbErr> {
    rule_script::Entity::find()
        .filter(rule_script::Column::Hash.eq(hash))
        .order_by_asc(rule_script::Column::Id)
        .one(db)
        .await
}

/// The stored scripts of rule set `name` (its folder) with content other than `hash`, one
/// per content.
pub async fn scripts_of_rule_set(
    db: &impl ConnectionTrait,
    name: &str,
    hash: &str,
) -> Result<Vec<rule_script::Model>, DbErr> {
    let mut rows = rule_script::Entity::find()
        .filter(rule_script::Column::Path.starts_with(format!("{name}/")))
        .filter(rule_script::Column::Hash.ne(hash))
        .order_by_asc(rule_script::Column::Id)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| seen.insert(r.hash.clone()));
    Ok(rows)
}

/// An audit entry that could not be written, as the database error the transaction fails with.
fn audit_failure(e: crate::error::ServiceError) -> DbErr {
    match e {
        crate::error::ServiceError::Database(e) => e,
        other => DbErr::Custom(format!("{other:?}")),
    }
}
