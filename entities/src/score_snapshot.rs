//! A stored ranking: one period, level and rule set, with the rule version that scored it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "score_snapshot")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rule_set: String,
    /// `town`, or an org-unit kind such as `youth_home`.
    pub level: String,
    /// Canonical period: `2017-10`, `2017-W43`, `2017-Q4`.
    pub period: String,
    pub version: String,
    /// SHA-256 of the script that scored it.
    pub content_hash: String,
    pub effective_from: String,
    pub computed_at: DateTimeUtc,
    pub computed_by: String,
    /// SHA-256 over every script that fed it (scoring, eligibility, targets); none for
    /// rankings stored before it was kept.
    pub rules_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
