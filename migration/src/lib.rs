//! Schema history of the qii database, one file per change, for `sea-orm-migration`.
//!
//! [`Migrator`] lists the migrations in the order they apply. Every foreign key, unique
//! index and CHECK constraint is named (`fk_*`, `uq_*`, `ck_*`; plain indexes `idx_*`),
//! and the CHECK lists of the enumeration columns hold the string values of
//! `entities::enums`. The same migrations run on PostgreSQL and on SQLite.

pub use sea_orm_migration::prelude::*;

mod common;
mod m20261121_000001_org_structure;
mod m20261121_000002_members_experts;
mod m20261121_000003_questions_topics;
mod m20261121_000004_activities;
mod m20261121_000005_service_requests;
mod m20261121_000006_operations;
mod m20261121_000007_topic_vote_unique;
mod m20261121_000008_rule_releases;
mod m20261121_000009_score_snapshots;
mod m20261121_000010_imported_figures;
mod m20261121_000011_scoring_indexes;
mod m20261121_000012_snapshot_rules_hash;
mod m20261121_000013_incentive_special_resources;
mod m20261121_000015_attendee_roles;
mod m20261121_000016_access;
mod m20261202_000017_login_lockout;
mod m20261203_000018_kept_signup_counts;
mod m20261207_000019_persisted_operations;
mod m20261207_000020_score_changes;
mod m20261207_000021_figure_rollups;
mod m20261208_000022_rollups_to_date;
mod m20261209_000023_rule_attempts;
mod m20261210_000024_rule_settings;
mod m20261211_000025_receipt_times;
mod m20261212_000026_application_category;
mod m20261213_000027_application_topic;
mod m20261214_000028_platform_training;
mod m20261215_000029_photo_thumbnails;
pub mod rollup;

/// All migrations of the qii database, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_org_structure::Migration),
            Box::new(m20261121_000002_members_experts::Migration),
            Box::new(m20261121_000003_questions_topics::Migration),
            Box::new(m20261121_000004_activities::Migration),
            Box::new(m20261121_000005_service_requests::Migration),
            Box::new(m20261121_000006_operations::Migration),
            Box::new(m20261121_000007_topic_vote_unique::Migration),
            Box::new(m20261121_000008_rule_releases::Migration),
            Box::new(m20261121_000009_score_snapshots::Migration),
            Box::new(m20261121_000010_imported_figures::Migration),
            Box::new(m20261121_000011_scoring_indexes::Migration),
            Box::new(m20261121_000012_snapshot_rules_hash::Migration),
            Box::new(m20261121_000013_incentive_special_resources::Migration),
            Box::new(m20261121_000015_attendee_roles::Migration),
            Box::new(m20261121_000016_access::Migration),
            Box::new(m20261202_000017_login_lockout::Migration),
            Box::new(m20261203_000018_kept_signup_counts::Migration),
            Box::new(m20261207_000019_persisted_operations::Migration),
            Box::new(m20261207_000020_score_changes::Migration),
            Box::new(m20261207_000021_figure_rollups::Migration),
            Box::new(m20261208_000022_rollups_to_date::Migration),
            Box::new(m20261209_000023_rule_attempts::Migration),
            Box::new(m20261210_000024_rule_settings::Migration),
            Box::new(m20261211_000025_receipt_times::Migration),
            Box::new(m20261212_000026_application_category::Migration),
            Box::new(m20261213_000027_application_topic::Migration),
            Box::new(m20261214_000028_platform_training::Migration),
            Box::new(m20261215_000029_photo_thumbnails::Migration),
        ]
    }
}
