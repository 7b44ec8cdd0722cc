//! Requests for platform-skills training (平台使用技能培训, DOMAIN.md §5.5): any unit may
//! ask the city for training in using the platform, whatever its size; the city schedules
//! it, holds it or declines it with a reason.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{drop_tables, fk, index, one_of};
use crate::m20261121_000001_org_structure::OrgUnit;

/// String values of `PlatformTrainingStatus`.
const STATUSES: &[&str] = &["requested", "scheduled", "done", "declined"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlatformTrainingRequest {
    Table,
    Id,
    OrgUnitId,
    Trainees,
    PreferredDate,
    Note,
    Status,
    ScheduledOn,
    CityNote,
    RequestedAt,
    RequestedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PlatformTrainingRequest as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(big_pk_auto(R::Id))
                    .col(big_integer(R::OrgUnitId))
                    .col(integer(R::Trainees))
                    .col(date_null(R::PreferredDate))
                    .col(text_null(R::Note))
                    .col(string_len(R::Status, 16))
                    .col(date_null(R::ScheduledOn))
                    .col(text_null(R::CityNote))
                    .col(timestamp_with_time_zone(R::RequestedAt))
                    .col(string(R::RequestedBy))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_platform_training_request_org_unit",
                        R::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check((
                        "ck_platform_training_request_trainees",
                        Expr::col(R::Trainees).gt(0),
                    ))
                    .check((
                        "ck_platform_training_request_status",
                        one_of(R::Status, STATUSES),
                    ))
                    // A training scheduled or held has its day; a declined one its reason.
                    .check((
                        "ck_platform_training_request_scheduled_on",
                        Expr::col(R::Status)
                            .is_not_in(["scheduled", "done"])
                            .or(Expr::col(R::ScheduledOn).is_not_null()),
                    ))
                    .check((
                        "ck_platform_training_request_declined",
                        Expr::col(R::Status)
                            .ne("declined")
                            .or(Expr::col(R::CityNote).is_not_null()),
                    ))
                    .to_owned(),
            )
            .await?;
        // (org_unit_id, status) also serves lookups by org_unit_id alone.
        index(
            manager,
            "idx_platform_training_request_org_unit_id_status",
            R::Table,
            [R::OrgUnitId, R::Status],
        )
        .await?;
        index(
            manager,
            "idx_platform_training_request_status",
            R::Table,
            [R::Status],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [PlatformTrainingRequest::Table]).await
    }
}
