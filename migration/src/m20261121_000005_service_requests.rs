//! Offline service requests to Youth Homes (线下服务申请) and their status history.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{drop_tables, fk, fk_cascade, index, not_blank, one_of};
use crate::m20261121_000001_org_structure::OrgUnit;
use crate::m20261121_000002_members_experts::Member;

/// String values of `ServiceRequestStatus`.
pub(crate) const SERVICE_REQUEST_STATUSES: &[&str] =
    &["submitted", "reviewed", "intervening", "completed"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum ServiceRequest {
    Table,
    Id,
    YouthHomeId,
    ApplicantId,
    Title,
    Description,
    Status,
    SubmittedAt,
    UpdatedAt,
    Rating,
    Feedback,
    RatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum ServiceRequestEvent {
    Table,
    Id,
    RequestId,
    FromStatus,
    ToStatus,
    Actor,
    Note,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceRequest::Table)
                    .col(big_pk_auto(ServiceRequest::Id))
                    .col(big_integer(ServiceRequest::YouthHomeId))
                    .col(big_integer(ServiceRequest::ApplicantId))
                    .col(string(ServiceRequest::Title))
                    .col(text(ServiceRequest::Description))
                    .col(string_len(ServiceRequest::Status, 16))
                    .col(timestamp_with_time_zone(ServiceRequest::SubmittedAt))
                    .col(timestamp_with_time_zone(ServiceRequest::UpdatedAt))
                    .col(small_integer_null(ServiceRequest::Rating))
                    .col(text_null(ServiceRequest::Feedback))
                    .col(timestamp_with_time_zone_null(ServiceRequest::RatedAt))
                    .foreign_key(&mut fk(
                        "fk_service_request_youth_home",
                        ServiceRequest::YouthHomeId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_service_request_applicant",
                        ServiceRequest::ApplicantId,
                        Member::Table,
                        Member::Id,
                    ))
                    .check(("ck_service_request_title", not_blank(ServiceRequest::Title)))
                    .check((
                        "ck_service_request_status",
                        one_of(ServiceRequest::Status, SERVICE_REQUEST_STATUSES),
                    ))
                    .check((
                        "ck_service_request_rating",
                        Expr::col(ServiceRequest::Rating)
                            .is_null()
                            .or(Expr::col(ServiceRequest::Rating).between(1, 5)),
                    ))
                    .to_owned(),
            )
            .await?;
        // (youth_home_id, status) also serves lookups by youth_home_id alone.
        index(
            manager,
            "idx_service_request_youth_home_id_status",
            ServiceRequest::Table,
            [ServiceRequest::YouthHomeId, ServiceRequest::Status],
        )
        .await?;
        index(
            manager,
            "idx_service_request_applicant_id",
            ServiceRequest::Table,
            [ServiceRequest::ApplicantId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ServiceRequestEvent::Table)
                    .col(big_pk_auto(ServiceRequestEvent::Id))
                    .col(big_integer(ServiceRequestEvent::RequestId))
                    .col(string_len_null(ServiceRequestEvent::FromStatus, 16))
                    .col(string_len(ServiceRequestEvent::ToStatus, 16))
                    .col(string(ServiceRequestEvent::Actor))
                    .col(text_null(ServiceRequestEvent::Note))
                    .col(timestamp_with_time_zone(ServiceRequestEvent::At))
                    .foreign_key(&mut fk_cascade(
                        "fk_service_request_event_request",
                        ServiceRequestEvent::RequestId,
                        ServiceRequest::Table,
                        ServiceRequest::Id,
                    ))
                    .check((
                        "ck_service_request_event_from_status",
                        one_of(ServiceRequestEvent::FromStatus, SERVICE_REQUEST_STATUSES),
                    ))
                    .check((
                        "ck_service_request_event_to_status",
                        one_of(ServiceRequestEvent::ToStatus, SERVICE_REQUEST_STATUSES),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_service_request_event_request_id",
            ServiceRequestEvent::Table,
            [ServiceRequestEvent::RequestId],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                ServiceRequestEvent::Table.into_iden(),
                ServiceRequest::Table.into_iden(),
            ],
        )
        .await
    }
}
