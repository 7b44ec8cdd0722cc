//! The change feed of stored rankings, what a partner pulls to learn what changed since
//! its last pull (`scoreChanges(after: …)`): each time a ranking is stored, recomputed,
//! becomes outdated under a new rule release, or current again after one.
//!
//! Every writer takes one lock for the feed before it adds a row and holds it to its
//! commit, so rows are committed in the order of their ids: a reader that has seen id *n*
//! will never later find a row below *n* (an id taken by a transaction still running
//! shows up after it, above every id read so far).

use chrono::{SubsecRound, Utc};
use entities::{score_change, score_snapshot};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use qii_engine::period::Period;
use qii_engine::rules::Registry;

/// The key of the lock every writer of the feed takes.
const FEED_LOCK: &str = "score-change-feed";

/// What happened to a stored ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Stored for the first time.
    Stored,
    /// Computed again and stored in place of the one before (a new snapshot id).
    Recomputed,
    /// The rule version in effect for its period is no longer the one that scored it.
    Outdated,
    /// After being outdated, the rules in effect are again those that scored it.
    Current,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Recomputed => "recomputed",
            Self::Outdated => "outdated",
            Self::Current => "current",
        }
    }
}

/// Whether a ranking scored by the script with `content_hash`, fed by the scripts with
/// `rules_hash`, is outdated under `registry`: another scoring script, or another script
/// feeding it, is in effect for the period now. With it, the hash of the scoring script in
/// effect; none when no version of the rule set is in effect for the period.
pub fn outdated(
    registry: &Registry,
    rule_set: &str,
    period: &Period,
    content_hash: &str,
    rules_hash: &str,
) -> Option<(bool, String)> {
    let version = registry.version_for(rule_set, period).ok()?;
    let outdated = version.script.hash != content_hash
        || registry.rules_hash(&version.script, period) != rules_hash;
    Some((outdated, version.script.hash.clone()))
}

/// Adds a row for `snapshot` inside the caller's write transaction (which must be one of
/// [`crate::db::write`]); the lock is held until that transaction ends.
pub async fn record(
    tx: &sea_orm::DatabaseTransaction,
    kind: Kind,
    snapshot: &score_snapshot::Model,
    in_effect_hash: Option<String>,
) -> Result<(), DbErr> {
    crate::db::serialise(tx, FEED_LOCK).await?;
    score_change::Entity::insert(score_change::ActiveModel {
        snapshot_id: Set(snapshot.id),
        kind: Set(kind.as_str().to_owned()),
        rule_set: Set(snapshot.rule_set.clone()),
        level: Set(snapshot.level.clone()),
        period: Set(snapshot.period.clone()),
        version: Set(snapshot.version.clone()),
        content_hash: Set(snapshot.content_hash.clone()),
        in_effect_hash: Set(in_effect_hash),
        changed_at: Set(Utc::now().trunc_subsecs(6)),
        ..Default::default()
    })
    .exec_without_returning(tx)
    .await?;
    Ok(())
}

/// Compares every stored ranking with what `registry` puts in effect for its period and
/// adds an `outdated` (or `current`) row for each whose state changed since its last row.
/// Every replica runs it when it puts a release in force; the feed's lock makes the
/// second one find nothing left to add. Returns the rows added.
pub async fn record_outdated(db: &DatabaseConnection, registry: &Registry) -> Result<usize, DbErr> {
    let tx = crate::db::write(db).await?;
    crate::db::serialise(&tx, FEED_LOCK).await?;
    let snapshots = score_snapshot::Entity::find()
        .order_by_asc(score_snapshot::Column::Id)
        .all(&tx)
        .await?;
    // The last outdated/current row of each snapshot, in one statement.
    let last: std::collections::HashMap<i64, String> = score_change::Entity::find()
        .select_only()
        .column(score_change::Column::SnapshotId)
        .column(score_change::Column::Kind)
        .filter(score_change::Column::Kind.is_in([Kind::Outdated.as_str(), Kind::Current.as_str()]))
        .order_by_asc(score_change::Column::Id)
        .into_tuple::<(i64, String)>()
        .all(&tx)
        .await?
        .into_iter()
        .collect();
    let mut added = 0;
    for snapshot in &snapshots {
        let Ok(period) = snapshot.period.parse::<Period>() else {
            continue;
        };
        // A ranking stored before the hash of every script was kept counts as outdated.
        let rules_hash = snapshot.rules_hash.as_deref().unwrap_or_default();
        let judged = outdated(
            registry,
            &snapshot.rule_set,
            &period,
            &snapshot.content_hash,
            rules_hash,
        );
        let Some((outdated, in_effect)) = judged else {
            // No version in effect for the period any more: nothing to compare with.
            continue;
        };
        let was_outdated =
            last.get(&snapshot.id).map(String::as_str) == Some(Kind::Outdated.as_str());
        if outdated != was_outdated {
            let kind = if outdated {
                Kind::Outdated
            } else {
                Kind::Current
            };
            let cause = outdated.then_some(in_effect);
            record(&tx, kind, snapshot, cause).await?;
            added += 1;
        }
    }
    tx.commit().await?;
    Ok(added)
}
