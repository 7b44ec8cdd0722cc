//! One entry of the change feed of stored rankings (`scoreChanges`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "score_change")]
pub struct Model {
    /// Increases with every change, in the order the changes were committed.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The stored ranking it is about (`score_snapshot.id`; a recomputed ranking gets a
    /// new one).
    pub snapshot_id: i64,
    /// `stored`, `recomputed`, `outdated` or `current`.
    pub kind: String,
    pub rule_set: String,
    pub level: String,
    pub period: String,
    /// The version that scored the stored ranking, and its script's hash.
    pub version: String,
    pub content_hash: String,
    /// For `outdated`: the hash of the scoring script in effect for the period now.
    pub in_effect_hash: Option<String>,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
