//! Activities (活动) and online topic activities, with signups, check-ins, comments,
//! reviews, likes/votes and photos.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{drop_tables, fk, fk_cascade, index, not_blank, one_of, unique};
use crate::m20261121_000001_org_structure::OrgUnit;
use crate::m20261121_000002_members_experts::Member;

/// String values of `ActivityKind`.
pub(crate) const ACTIVITY_KINDS: &[&str] = &["offline", "online_topic"];

/// String values of `ActivityCategory`.
pub(crate) const ACTIVITY_CATEGORIES: &[&str] = &[
    "contest",
    "social",
    "themed",
    "ticket_perk",
    "training",
    "volunteer_service",
    "other",
];

/// String values of `LikeKind`.
pub(crate) const LIKE_KINDS: &[&str] = &["like", "vote"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Activity {
    Table,
    Id,
    OrgUnitId,
    Title,
    Description,
    Kind,
    Category,
    StartsAt,
    EndsAt,
    SignupDeadline,
    Place,
    Capacity,
    Heavyweight,
    PublishedAt,
}

#[derive(DeriveIden)]
pub(crate) enum ActivitySignup {
    Table,
    Id,
    ActivityId,
    MemberId,
    SignedUpAt,
}

#[derive(DeriveIden)]
pub(crate) enum ActivityCheckin {
    Table,
    Id,
    SignupId,
    CheckedInAt,
}

#[derive(DeriveIden)]
pub(crate) enum ActivityComment {
    Table,
    Id,
    ActivityId,
    MemberId,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum ActivityReview {
    Table,
    Id,
    ActivityId,
    MemberId,
    Rating,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum ActivityLike {
    Table,
    Id,
    ActivityId,
    MemberId,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum ActivityPhoto {
    Table,
    Id,
    ActivityId,
    Url,
    Caption,
    UploadedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Activity::Table)
                    .col(big_pk_auto(Activity::Id))
                    .col(big_integer(Activity::OrgUnitId))
                    .col(string(Activity::Title))
                    .col(text(Activity::Description))
                    .col(string_len(Activity::Kind, 16))
                    .col(string_len(Activity::Category, 24))
                    .col(timestamp_with_time_zone(Activity::StartsAt))
                    .col(timestamp_with_time_zone(Activity::EndsAt))
                    .col(timestamp_with_time_zone_null(Activity::SignupDeadline))
                    .col(string_null(Activity::Place))
                    .col(integer_null(Activity::Capacity))
                    .col(boolean(Activity::Heavyweight))
                    .col(timestamp_with_time_zone(Activity::PublishedAt))
                    .foreign_key(&mut fk(
                        "fk_activity_org_unit",
                        Activity::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check(("ck_activity_title", not_blank(Activity::Title)))
                    .check(("ck_activity_kind", one_of(Activity::Kind, ACTIVITY_KINDS)))
                    .check((
                        "ck_activity_category",
                        one_of(Activity::Category, ACTIVITY_CATEGORIES),
                    ))
                    .check((
                        "ck_activity_ends_after_starts",
                        Expr::col(Activity::EndsAt).gt(Expr::col(Activity::StartsAt)),
                    ))
                    .check((
                        "ck_activity_capacity",
                        Expr::col(Activity::Capacity)
                            .is_null()
                            .or(Expr::col(Activity::Capacity).gt(0)),
                    ))
                    .to_owned(),
            )
            .await?;
        // (org_unit_id, starts_at) also serves lookups by org_unit_id alone.
        index(
            manager,
            "idx_activity_org_unit_id_starts_at",
            Activity::Table,
            [Activity::OrgUnitId, Activity::StartsAt],
        )
        .await?;
        index(
            manager,
            "idx_activity_starts_at",
            Activity::Table,
            [Activity::StartsAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivitySignup::Table)
                    .col(big_pk_auto(ActivitySignup::Id))
                    .col(big_integer(ActivitySignup::ActivityId))
                    .col(big_integer(ActivitySignup::MemberId))
                    .col(timestamp_with_time_zone(ActivitySignup::SignedUpAt))
                    .foreign_key(&mut fk(
                        "fk_activity_signup_activity",
                        ActivitySignup::ActivityId,
                        Activity::Table,
                        Activity::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_activity_signup_member",
                        ActivitySignup::MemberId,
                        Member::Table,
                        Member::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_activity_signup_member",
            ActivitySignup::Table,
            [ActivitySignup::ActivityId, ActivitySignup::MemberId],
        )
        .await?;
        index(
            manager,
            "idx_activity_signup_member_id",
            ActivitySignup::Table,
            [ActivitySignup::MemberId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivityCheckin::Table)
                    .col(big_pk_auto(ActivityCheckin::Id))
                    .col(big_integer(ActivityCheckin::SignupId))
                    .col(timestamp_with_time_zone(ActivityCheckin::CheckedInAt))
                    .foreign_key(&mut fk_cascade(
                        "fk_activity_checkin_signup",
                        ActivityCheckin::SignupId,
                        ActivitySignup::Table,
                        ActivitySignup::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_activity_checkin_signup",
            ActivityCheckin::Table,
            [ActivityCheckin::SignupId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivityComment::Table)
                    .col(big_pk_auto(ActivityComment::Id))
                    .col(big_integer(ActivityComment::ActivityId))
                    .col(big_integer(ActivityComment::MemberId))
                    .col(text(ActivityComment::Body))
                    .col(timestamp_with_time_zone(ActivityComment::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_activity_comment_activity",
                        ActivityComment::ActivityId,
                        Activity::Table,
                        Activity::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_activity_comment_member",
                        ActivityComment::MemberId,
                        Member::Table,
                        Member::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_activity_comment_activity_id",
            ActivityComment::Table,
            [ActivityComment::ActivityId],
        )
        .await?;
        index(
            manager,
            "idx_activity_comment_member_id",
            ActivityComment::Table,
            [ActivityComment::MemberId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivityReview::Table)
                    .col(big_pk_auto(ActivityReview::Id))
                    .col(big_integer(ActivityReview::ActivityId))
                    .col(big_integer(ActivityReview::MemberId))
                    .col(small_integer(ActivityReview::Rating))
                    .col(text_null(ActivityReview::Body))
                    .col(timestamp_with_time_zone(ActivityReview::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_activity_review_activity",
                        ActivityReview::ActivityId,
                        Activity::Table,
                        Activity::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_activity_review_member",
                        ActivityReview::MemberId,
                        Member::Table,
                        Member::Id,
                    ))
                    .check((
                        "ck_activity_review_rating",
                        Expr::col(ActivityReview::Rating).between(1, 5),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_activity_review_member",
            ActivityReview::Table,
            [ActivityReview::ActivityId, ActivityReview::MemberId],
        )
        .await?;
        index(
            manager,
            "idx_activity_review_member_id",
            ActivityReview::Table,
            [ActivityReview::MemberId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivityLike::Table)
                    .col(big_pk_auto(ActivityLike::Id))
                    .col(big_integer(ActivityLike::ActivityId))
                    .col(big_integer(ActivityLike::MemberId))
                    .col(string_len(ActivityLike::Kind, 8))
                    .col(timestamp_with_time_zone(ActivityLike::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_activity_like_activity",
                        ActivityLike::ActivityId,
                        Activity::Table,
                        Activity::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_activity_like_member",
                        ActivityLike::MemberId,
                        Member::Table,
                        Member::Id,
                    ))
                    .check((
                        "ck_activity_like_kind",
                        one_of(ActivityLike::Kind, LIKE_KINDS),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_activity_like_member_kind",
            ActivityLike::Table,
            [
                ActivityLike::ActivityId,
                ActivityLike::MemberId,
                ActivityLike::Kind,
            ],
        )
        .await?;
        index(
            manager,
            "idx_activity_like_member_id",
            ActivityLike::Table,
            [ActivityLike::MemberId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivityPhoto::Table)
                    .col(big_pk_auto(ActivityPhoto::Id))
                    .col(big_integer(ActivityPhoto::ActivityId))
                    .col(string(ActivityPhoto::Url))
                    .col(string_null(ActivityPhoto::Caption))
                    .col(timestamp_with_time_zone(ActivityPhoto::UploadedAt))
                    .foreign_key(&mut fk(
                        "fk_activity_photo_activity",
                        ActivityPhoto::ActivityId,
                        Activity::Table,
                        Activity::Id,
                    ))
                    .check(("ck_activity_photo_url", not_blank(ActivityPhoto::Url)))
                    .to_owned(),
            )
            .await?;
        // Also serves lookups by activity_id alone.
        index(
            manager,
            "idx_activity_photo_activity_id_uploaded_at",
            ActivityPhoto::Table,
            [ActivityPhoto::ActivityId, ActivityPhoto::UploadedAt],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                ActivityPhoto::Table.into_iden(),
                ActivityLike::Table.into_iden(),
                ActivityReview::Table.into_iden(),
                ActivityComment::Table.into_iden(),
                ActivityCheckin::Table.into_iden(),
                ActivitySignup::Table.into_iden(),
                Activity::Table.into_iden(),
            ],
        )
        .await
    }
}
