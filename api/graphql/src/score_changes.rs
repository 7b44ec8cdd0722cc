//! The change feed of stored rankings, for partners that pull only what changed.

use crate::Id;
use async_graphql::{Enum, Object};
use chrono::{DateTime, Utc};
use entities::score_change;

use super::{
    pagination::{OrderField, SortKey},
    scoring::RankingLevel,
    ContextExt,
};
use qii_domain::scoring::Level;
use qii_domain::service::scoring as service;

/// What happened to a stored ranking.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ScoreChangeKind {
    /// Stored for the first time (the first read after its period ended).
    Stored,
    /// Computed again and stored in place of the one before (`recomputeRanking`).
    Recomputed,
    /// A rule release put another version in effect for its period: the stored ranking
    /// stays as it is (`outdated: true`) until someone recomputes it.
    Outdated,
    /// After being outdated, the rules in effect are again those that scored it.
    Current,
}

/// A change of a stored ranking: pull `ranking(period, level, ruleSet)` to read it.
pub struct ScoreChange(pub score_change::Model);

/// A change of a stored ranking: pull `ranking(period, level, ruleSet)` to read it.
#[Object]
impl ScoreChange {
    /// Stable id; changes are listed in the order they were committed.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// What happened.
    async fn kind(&self) -> ScoreChangeKind {
        match self.0.kind.as_str() {
            "stored" => ScoreChangeKind::Stored,
            "recomputed" => ScoreChangeKind::Recomputed,
            "current" => ScoreChangeKind::Current,
            _ => ScoreChangeKind::Outdated,
        }
    }
    /// The rule set, e.g. `qii`.
    async fn rule_set(&self) -> &str {
        &self.0.rule_set
    }
    /// Which units the ranking ranks; null for a level this schema has no name for.
    async fn level(&self) -> Option<RankingLevel> {
        [
            RankingLevel::Town,
            RankingLevel::YouthHome,
            RankingLevel::School,
            RankingLevel::Enterprise,
            RankingLevel::CityUnit,
        ]
        .into_iter()
        .find(|level| Level::from(*level).to_string() == self.0.level)
    }
    /// The ranking's period, e.g. `2017-10`.
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// The rule version that scored the stored ranking, e.g. `2.0`.
    async fn version(&self) -> &str {
        &self.0.version
    }
    /// SHA-256 of the scoring script that scored it.
    async fn content_hash(&self) -> &str {
        &self.0.content_hash
    }
    /// For `OUTDATED`: SHA-256 of the scoring script in effect for the period now.
    async fn in_effect_hash(&self) -> Option<&str> {
        self.0.in_effect_hash.as_deref()
    }
    /// The stored ranking's id (a recomputed ranking has a new one).
    async fn snapshot_id(&self) -> Id {
        self.0.snapshot_id.into()
    }
    /// When it happened.
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
}

/// The order of the change feed.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ScoreChangeOrderField {
    /// The order the changes were committed in.
    #[default]
    Id,
}

impl OrderField<score_change::Entity> for ScoreChangeOrderField {
    fn column(self) -> score_change::Column {
        score_change::Column::Id
    }
    fn key(self, m: &score_change::Model) -> SortKey {
        SortKey::Int(m.id)
    }
}

lists! {
    /// The change feed of stored rankings.
    pub struct ScoreChangeLists;

    /// What changed in the stored rankings, oldest first: each ranking stored,
    /// recomputed, outdated by a rule release or current again. A partner keeps
    /// `pageInfo.endCursor` and passes it as `after` next time to get only what changed
    /// since; nothing committed after a pull is ever listed before its cursor.
    score_changes(ctx, filter: service::ScoreChangeFilter) by ScoreChangeOrderField -> ScoreChange {
        service::score_changes(&ctx.app()?.actor, &filter)?
    }
}
