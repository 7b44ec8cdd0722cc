//! Stored rankings. A ranking of a month, ISO week or quarter that has ended is stored the
//! first time it is computed, with each unit's explanation and the rule version that
//! produced it; from then on the period reads the same, whatever rules or data change,
//! until someone recomputes it explicitly. Rankings of custom ranges, and of periods still
//! running, are computed each time and never stored.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use entities::{score_snapshot, unit_score};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    SqlErr,
};
use serde::{Deserialize, Serialize};

use super::{unit_names, Level, Ranking};
use qii_engine::period::{Period, PeriodKind};
use qii_engine::rules::compute::{DimensionScore, IndicatorScore, Labels, UnitScore};

/// Rows per multi-row insert; far below every backend's limit on bound parameters.
const CHUNK: usize = 1_000;

/// When and by whom a stored ranking was computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub computed_at: DateTime<Utc>,
    pub computed_by: String,
}

/// Whether a period's ranking is stored: months, weeks and quarters once they have ended
/// (on `today`, an Asia/Shanghai day).
pub fn storable(period: &Period, today: NaiveDate) -> bool {
    period.kind() != PeriodKind::Range && period.last_day() < today
}

/// How a unit's explanation is stored: complete on its own, keys and weights included.
#[derive(Serialize, Deserialize)]
struct Explanation {
    labels: Labels,
    dimensions: Vec<DimensionScore>,
    indicators: Vec<IndicatorScore>,
}

/// Unit scores of stored rankings this server has read, so that reading one again costs
/// one small statement (its snapshot row) instead of reading and decoding every unit's
/// explanation. A stored ranking never changes under its snapshot id and computation time
/// (a recompute replaces the row and writes a new time), so the row read is the check:
/// every replica sees a recompute made by another at its next read. At most
/// [`Cache::RANKINGS`] rankings are kept, the least recently read dropped first.
#[derive(Default)]
pub struct Cache {
    entries: Mutex<Vec<Cached>>,
}

struct Cached {
    /// Snapshot id, computation time and the hashes of what scored it.
    stamp: Stamp,
    scores: Arc<Vec<UnitScore>>,
}

type Stamp = (i64, DateTime<Utc>, String, Option<String>);

fn stamp(snapshot: &score_snapshot::Model) -> Stamp {
    (
        snapshot.id,
        snapshot.computed_at,
        snapshot.content_hash.clone(),
        snapshot.rules_hash.clone(),
    )
}

impl Cache {
    /// Rankings kept; a month, its predecessor and the weeks and quarters around them at
    /// every level fit.
    pub const RANKINGS: usize = 64;

    fn get(&self, stamp: &Stamp) -> Option<Arc<Vec<UnitScore>>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let at = entries.iter().position(|c| &c.stamp == stamp)?;
        // Most recently read last.
        let entry = entries.remove(at);
        let scores = entry.scores.clone();
        entries.push(entry);
        Some(scores)
    }

    fn put(&self, stamp: Stamp, scores: Arc<Vec<UnitScore>>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // A recompute replaces its period's entry.
        entries.retain(|c| c.stamp.0 != stamp.0);
        if entries.len() >= Self::RANKINGS {
            entries.remove(0);
        }
        entries.push(Cached { stamp, scores });
    }
}

/// The stored ranking of a period, level and rule set, if there is one. With `names`,
/// the units' names (as they are now) come with it.
pub async fn find(
    db: &impl ConnectionTrait,
    cache: &Cache,
    (rule_set, period, level): (&str, &Period, Level),
    names: bool,
) -> Result<Option<(Ranking, Stored)>, DbErr> {
    let Some(snapshot) = score_snapshot::Entity::find()
        .filter(score_snapshot::Column::RuleSet.eq(rule_set))
        .filter(score_snapshot::Column::Level.eq(level.to_string()))
        .filter(score_snapshot::Column::Period.eq(period.to_string()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let stamp = stamp(&snapshot);
    let scores = match cache.get(&stamp) {
        Some(scores) => scores,
        None => {
            let scores = Arc::new(unit_scores(db, snapshot.id).await?);
            cache.put(stamp, scores.clone());
            scores
        }
    };
    let names = if names {
        unit_names(db, scores.iter().map(|s| s.unit)).await?
    } else {
        HashMap::new()
    };
    let ranking = Ranking {
        rule_set: snapshot.rule_set,
        version: snapshot.version,
        hash: snapshot.content_hash,
        rules_hash: snapshot.rules_hash.unwrap_or_default(),
        effective_from: snapshot.effective_from,
        period: *period,
        level,
        scores: Arc::unwrap_or_clone(scores),
        names,
    };
    let stored = Stored {
        computed_at: snapshot.computed_at,
        computed_by: snapshot.computed_by,
    };
    Ok(Some((ranking, stored)))
}

/// The unit scores of one stored ranking, best first, decoded from their explanations.
async fn unit_scores(db: &impl ConnectionTrait, snapshot: i64) -> Result<Vec<UnitScore>, DbErr> {
    let rows = unit_score::Entity::find()
        .filter(unit_score::Column::SnapshotId.eq(snapshot))
        .order_by_asc(unit_score::Column::Rank)
        .order_by_asc(unit_score::Column::OrgUnitId)
        .all(db)
        .await?;
    let mut scores: Vec<UnitScore> = Vec::with_capacity(rows.len());
    for row in rows {
        let explanation: Explanation = serde_json::from_str(&row.explanation).map_err(|e| {
            DbErr::Custom(format!("stored score {} cannot be read back: {e}", row.id))
        })?;
        // The units of one ranking share their keys and weights, as when computed.
        let labels = match scores.last() {
            Some(previous) if *previous.labels == explanation.labels => previous.labels.clone(),
            _ => Arc::new(explanation.labels),
        };
        scores.push(UnitScore {
            unit: row.org_unit_id,
            total: row.total,
            rank: u32::try_from(row.rank).unwrap_or(u32::MAX),
            dimensions: explanation.dimensions,
            indicators: explanation.indicators,
            labels,
        });
    }
    Ok(scores)
}

/// Stores a ranking in one transaction. With `replace`, a ranking stored before for the
/// same period, level and rule set is replaced; without, the one stored first stays (two
/// servers computing the same period at once store it once) and `None` is returned.
pub async fn store(
    db: &DatabaseConnection,
    ranking: &Ranking,
    computed_by: &str,
    replace: bool,
) -> Result<Option<Stored>, DbErr> {
    let tx = crate::db::write(db).await?;
    let lock = format!(
        "ranking|{}|{}|{}",
        ranking.rule_set, ranking.level, ranking.period
    );
    crate::db::serialise(&tx, &lock).await?;
    let key = score_snapshot::Entity::find()
        .filter(score_snapshot::Column::RuleSet.eq(&ranking.rule_set))
        .filter(score_snapshot::Column::Level.eq(ranking.level.to_string()))
        .filter(score_snapshot::Column::Period.eq(ranking.period.to_string()));
    let replaced = key.one(&tx).await?;
    if let Some(old) = &replaced {
        if !replace {
            return Ok(None);
        }
        unit_score::Entity::delete_many()
            .filter(unit_score::Column::SnapshotId.eq(old.id))
            .exec(&tx)
            .await?;
        score_snapshot::Entity::delete_by_id(old.id)
            .exec(&tx)
            .await?;
    }
    let stored = Stored {
        // As precise as every backend keeps it, so that what is returned now reads back
        // the same later.
        computed_at: Utc::now().trunc_subsecs(6),
        computed_by: computed_by.to_owned(),
    };
    let mut snapshot = score_snapshot::Model {
        id: 0,
        rule_set: ranking.rule_set.clone(),
        level: ranking.level.to_string(),
        period: ranking.period.to_string(),
        version: ranking.version.clone(),
        content_hash: ranking.hash.clone(),
        effective_from: ranking.effective_from.clone(),
        computed_at: stored.computed_at,
        computed_by: stored.computed_by.clone(),
        rules_hash: Some(ranking.rules_hash.clone()),
    };
    let row = score_snapshot::ActiveModel {
        id: NotSet,
        ..snapshot.clone().into()
    };
    let inserted = score_snapshot::Entity::insert(row).exec(&tx).await;
    snapshot.id = match inserted {
        Ok(done) => done.last_insert_id,
        // Another server stored it meanwhile.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            tx.rollback().await?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    for chunk in ranking.scores.chunks(CHUNK) {
        let rows = chunk.iter().map(|score| {
            let explanation = Explanation {
                labels: (*score.labels).clone(),
                dimensions: score.dimensions.clone(),
                indicators: score.indicators.clone(),
            };
            unit_score::ActiveModel {
                snapshot_id: Set(snapshot.id),
                org_unit_id: Set(score.unit),
                rank: Set(i32::try_from(score.rank).unwrap_or(i32::MAX)),
                total: Set(score.total),
                explanation: Set(
                    serde_json::to_string(&explanation).expect("scores serialise to JSON")
                ),
                ..Default::default()
            }
        });
        unit_score::Entity::insert_many(rows)
            .exec_without_returning(&tx)
            .await?;
    }
    let kind = match replaced {
        Some(_) => super::changes::Kind::Recomputed,
        None => super::changes::Kind::Stored,
    };
    super::changes::record(&tx, kind, &snapshot, None).await?;
    tx.commit().await?;
    Ok(Some(stored))
}

impl std::fmt::Display for Level {
    /// `town`, or the org-unit kind: the form [`Level`] is parsed from.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use sea_orm::ActiveEnum;
        match self {
            Level::Town => f.write_str("town"),
            Level::Kind(kind) => f.write_str(&kind.to_value()),
        }
    }
}
