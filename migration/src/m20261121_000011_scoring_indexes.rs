//! Covering indexes for the raw-figure queries of the QII (`api/domain/src/scoring/families.rs`):
//! each holds every column its query reads from the table, so a query walking it by unit or
//! activity needs no lookup of the table row per counted row.
//!
//! SQLite plans these queries as nested loops through indexes, and with the table lookups
//! they cost up to ten times as much (BENCHMARKS.md, scoring). PostgreSQL aggregates them
//! with hash plans over sequential scans at the sizes measured and is unaffected. The two
//! single-column indexes that the new ones extend are dropped.

use sea_orm_migration::prelude::*;

use crate::common::index;
use crate::m20261121_000002_members_experts::Member;
use crate::m20261121_000004_activities::{ActivityComment, ActivityReview, ActivitySignup};
use crate::m20261121_000006_operations::DailyVisit;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Valid visits: summed per unit over the period's days.
        index(
            manager,
            "idx_daily_visit_org_unit_id_day_visits",
            DailyVisit::Table,
            [DailyVisit::OrgUnitId, DailyVisit::Day, DailyVisit::Visits],
        )
        .await?;
        // Registrations and mobile binding: counted per home town up to the period's end.
        index(
            manager,
            "idx_member_home_town_id_registered_at_mobile_bound_at",
            Member::Table,
            [
                Member::HomeTownId,
                Member::RegisteredAt,
                Member::MobileBoundAt,
            ],
        )
        .await?;
        drop_index(manager, "idx_member_home_town_id", Member::Table).await?;
        // Youth Home sign-ups, comments and ratings: per activity, made in the period.
        index(
            manager,
            "idx_activity_signup_activity_id_signed_up_at",
            ActivitySignup::Table,
            [ActivitySignup::ActivityId, ActivitySignup::SignedUpAt],
        )
        .await?;
        index(
            manager,
            "idx_activity_comment_activity_id_created_at",
            ActivityComment::Table,
            [ActivityComment::ActivityId, ActivityComment::CreatedAt],
        )
        .await?;
        drop_index(
            manager,
            "idx_activity_comment_activity_id",
            ActivityComment::Table,
        )
        .await?;
        index(
            manager,
            "idx_activity_review_activity_id_created_at_rating",
            ActivityReview::Table,
            [
                ActivityReview::ActivityId,
                ActivityReview::CreatedAt,
                ActivityReview::Rating,
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(
            manager,
            "idx_activity_comment_activity_id",
            ActivityComment::Table,
            [ActivityComment::ActivityId],
        )
        .await?;
        index(
            manager,
            "idx_member_home_town_id",
            Member::Table,
            [Member::HomeTownId],
        )
        .await?;
        drop_index(
            manager,
            "idx_activity_review_activity_id_created_at_rating",
            ActivityReview::Table,
        )
        .await?;
        drop_index(
            manager,
            "idx_activity_comment_activity_id_created_at",
            ActivityComment::Table,
        )
        .await?;
        drop_index(
            manager,
            "idx_activity_signup_activity_id_signed_up_at",
            ActivitySignup::Table,
        )
        .await?;
        drop_index(
            manager,
            "idx_member_home_town_id_registered_at_mobile_bound_at",
            Member::Table,
        )
        .await?;
        drop_index(
            manager,
            "idx_daily_visit_org_unit_id_day_visits",
            DailyVisit::Table,
        )
        .await
    }
}

async fn drop_index<T: IntoTableRef>(
    manager: &SchemaManager<'_>,
    name: &'static str,
    table: T,
) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(name).table(table).to_owned())
        .await
}
