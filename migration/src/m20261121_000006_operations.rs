//! Operations of the league: daily visits and targets (the inputs of QII), town
//! supervisors and their supervision meetings, and incentive applications.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{drop_tables, fk, fk_cascade, index, not_blank, one_of, unique};
use crate::m20261121_000001_org_structure::{District, OrgUnit};
use crate::m20261121_000004_activities::{Activity, ACTIVITY_KINDS};

/// String values of `ApplicationStatus`.
pub(crate) const APPLICATION_STATUSES: &[&str] = &["submitted", "approved", "rejected"];

/// String values of `IncentiveIntent`.
pub(crate) const INCENTIVE_INTENTS: &[&str] = &[
    "design_contest",
    "heavyweight",
    "cultural_goods",
    "linkage_support",
    "training_support",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum DailyVisit {
    Table,
    Id,
    OrgUnitId,
    Day,
    Visits,
    ImportedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Target {
    Table,
    Id,
    OrgUnitId,
    Period,
    Metric,
    Value,
}

#[derive(DeriveIden)]
pub(crate) enum SupervisorAssignment {
    Table,
    Id,
    TownId,
    SupervisorName,
    University,
    Mobile,
    StartsOn,
    EndsOn,
}

#[derive(DeriveIden)]
pub(crate) enum SupervisionMeeting {
    Table,
    Id,
    DistrictId,
    HeldOn,
    Venue,
    VisitOrgUnitId,
    Agenda,
    ReceiptsDueOn,
}

#[derive(DeriveIden)]
pub(crate) enum MeetingAttendance {
    Table,
    Id,
    MeetingId,
    OrgUnitId,
    Name,
    Title,
    Mobile,
    Remarks,
}

#[derive(DeriveIden)]
pub(crate) enum IncentiveApplication {
    Table,
    Id,
    OrgUnitId,
    ActivityId,
    ActivityName,
    StartsAt,
    EndsAt,
    Place,
    Scale,
    Kind,
    Description,
    PlanUrl,
    Status,
    SubmittedAt,
    DecidedAt,
    DecisionNote,
}

#[derive(DeriveIden)]
pub(crate) enum IncentiveIntent {
    Table,
    Id,
    ApplicationId,
    Intent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DailyVisit::Table)
                    .col(big_pk_auto(DailyVisit::Id))
                    .col(big_integer(DailyVisit::OrgUnitId))
                    .col(date(DailyVisit::Day))
                    .col(big_integer(DailyVisit::Visits))
                    .col(timestamp_with_time_zone(DailyVisit::ImportedAt))
                    .foreign_key(&mut fk(
                        "fk_daily_visit_org_unit",
                        DailyVisit::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check((
                        "ck_daily_visit_visits",
                        Expr::col(DailyVisit::Visits).gte(0),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_daily_visit_org_unit_day",
            DailyVisit::Table,
            [DailyVisit::OrgUnitId, DailyVisit::Day],
        )
        .await?;
        index(
            manager,
            "idx_daily_visit_day",
            DailyVisit::Table,
            [DailyVisit::Day],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Target::Table)
                    .col(big_pk_auto(Target::Id))
                    .col(big_integer(Target::OrgUnitId))
                    .col(string(Target::Period))
                    .col(string(Target::Metric))
                    .col(double(Target::Value))
                    .foreign_key(&mut fk(
                        "fk_target_org_unit",
                        Target::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check(("ck_target_period", not_blank(Target::Period)))
                    .check(("ck_target_metric", not_blank(Target::Metric)))
                    .check(("ck_target_value", Expr::col(Target::Value).gte(0)))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_target_org_unit_period_metric",
            Target::Table,
            [Target::OrgUnitId, Target::Period, Target::Metric],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupervisorAssignment::Table)
                    .col(big_pk_auto(SupervisorAssignment::Id))
                    .col(big_integer(SupervisorAssignment::TownId))
                    .col(string(SupervisorAssignment::SupervisorName))
                    .col(string_null(SupervisorAssignment::University))
                    .col(string_null(SupervisorAssignment::Mobile))
                    .col(date(SupervisorAssignment::StartsOn))
                    .col(date_null(SupervisorAssignment::EndsOn))
                    .foreign_key(&mut fk(
                        "fk_supervisor_assignment_town",
                        SupervisorAssignment::TownId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check((
                        "ck_supervisor_assignment_supervisor_name",
                        not_blank(SupervisorAssignment::SupervisorName),
                    ))
                    .check((
                        "ck_supervisor_assignment_period",
                        Expr::col(SupervisorAssignment::EndsOn)
                            .is_null()
                            .or(Expr::col(SupervisorAssignment::EndsOn)
                                .gte(Expr::col(SupervisorAssignment::StartsOn))),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_supervisor_assignment_town_id",
            SupervisorAssignment::Table,
            [SupervisorAssignment::TownId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupervisionMeeting::Table)
                    .col(big_pk_auto(SupervisionMeeting::Id))
                    .col(big_integer(SupervisionMeeting::DistrictId))
                    .col(date(SupervisionMeeting::HeldOn))
                    .col(string(SupervisionMeeting::Venue))
                    .col(big_integer_null(SupervisionMeeting::VisitOrgUnitId))
                    .col(text_null(SupervisionMeeting::Agenda))
                    .col(date_null(SupervisionMeeting::ReceiptsDueOn))
                    .foreign_key(&mut fk(
                        "fk_supervision_meeting_district",
                        SupervisionMeeting::DistrictId,
                        District::Table,
                        District::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_supervision_meeting_visit_org_unit",
                        SupervisionMeeting::VisitOrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_supervision_meeting_district_id",
            SupervisionMeeting::Table,
            [SupervisionMeeting::DistrictId],
        )
        .await?;
        index(
            manager,
            "idx_supervision_meeting_visit_org_unit_id",
            SupervisionMeeting::Table,
            [SupervisionMeeting::VisitOrgUnitId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(MeetingAttendance::Table)
                    .col(big_pk_auto(MeetingAttendance::Id))
                    .col(big_integer(MeetingAttendance::MeetingId))
                    .col(big_integer(MeetingAttendance::OrgUnitId))
                    .col(string(MeetingAttendance::Name))
                    .col(string_null(MeetingAttendance::Title))
                    .col(string_null(MeetingAttendance::Mobile))
                    .col(string_null(MeetingAttendance::Remarks))
                    .foreign_key(&mut fk_cascade(
                        "fk_meeting_attendance_meeting",
                        MeetingAttendance::MeetingId,
                        SupervisionMeeting::Table,
                        SupervisionMeeting::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_meeting_attendance_org_unit",
                        MeetingAttendance::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check((
                        "ck_meeting_attendance_name",
                        not_blank(MeetingAttendance::Name),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_meeting_attendance_name",
            MeetingAttendance::Table,
            [
                MeetingAttendance::MeetingId,
                MeetingAttendance::OrgUnitId,
                MeetingAttendance::Name,
            ],
        )
        .await?;
        index(
            manager,
            "idx_meeting_attendance_org_unit_id",
            MeetingAttendance::Table,
            [MeetingAttendance::OrgUnitId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(IncentiveApplication::Table)
                    .col(big_pk_auto(IncentiveApplication::Id))
                    .col(big_integer(IncentiveApplication::OrgUnitId))
                    .col(big_integer_null(IncentiveApplication::ActivityId))
                    .col(string(IncentiveApplication::ActivityName))
                    .col(timestamp_with_time_zone_null(
                        IncentiveApplication::StartsAt,
                    ))
                    .col(timestamp_with_time_zone_null(IncentiveApplication::EndsAt))
                    .col(string_null(IncentiveApplication::Place))
                    .col(integer(IncentiveApplication::Scale))
                    .col(string_len(IncentiveApplication::Kind, 16))
                    .col(text(IncentiveApplication::Description))
                    .col(string_null(IncentiveApplication::PlanUrl))
                    .col(string_len(IncentiveApplication::Status, 16))
                    .col(timestamp_with_time_zone(IncentiveApplication::SubmittedAt))
                    .col(timestamp_with_time_zone_null(
                        IncentiveApplication::DecidedAt,
                    ))
                    .col(text_null(IncentiveApplication::DecisionNote))
                    .foreign_key(&mut fk(
                        "fk_incentive_application_org_unit",
                        IncentiveApplication::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_incentive_application_activity",
                        IncentiveApplication::ActivityId,
                        Activity::Table,
                        Activity::Id,
                    ))
                    .check((
                        "ck_incentive_application_activity_name",
                        not_blank(IncentiveApplication::ActivityName),
                    ))
                    .check((
                        "ck_incentive_application_scale",
                        Expr::col(IncentiveApplication::Scale).gte(0),
                    ))
                    .check((
                        "ck_incentive_application_kind",
                        one_of(IncentiveApplication::Kind, ACTIVITY_KINDS),
                    ))
                    .check((
                        "ck_incentive_application_status",
                        one_of(IncentiveApplication::Status, APPLICATION_STATUSES),
                    ))
                    .check((
                        "ck_incentive_application_period",
                        Expr::col(IncentiveApplication::EndsAt)
                            .is_null()
                            .or(Expr::col(IncentiveApplication::StartsAt).is_null())
                            .or(Expr::col(IncentiveApplication::EndsAt)
                                .gt(Expr::col(IncentiveApplication::StartsAt))),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_incentive_application_org_unit_id",
            IncentiveApplication::Table,
            [IncentiveApplication::OrgUnitId],
        )
        .await?;
        index(
            manager,
            "idx_incentive_application_activity_id",
            IncentiveApplication::Table,
            [IncentiveApplication::ActivityId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(IncentiveIntent::Table)
                    .col(big_pk_auto(IncentiveIntent::Id))
                    .col(big_integer(IncentiveIntent::ApplicationId))
                    .col(string_len(IncentiveIntent::Intent, 24))
                    .foreign_key(&mut fk_cascade(
                        "fk_incentive_intent_application",
                        IncentiveIntent::ApplicationId,
                        IncentiveApplication::Table,
                        IncentiveApplication::Id,
                    ))
                    .check((
                        "ck_incentive_intent_intent",
                        one_of(IncentiveIntent::Intent, INCENTIVE_INTENTS),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_incentive_intent_application_intent",
            IncentiveIntent::Table,
            [IncentiveIntent::ApplicationId, IncentiveIntent::Intent],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                IncentiveIntent::Table.into_iden(),
                IncentiveApplication::Table.into_iden(),
                MeetingAttendance::Table.into_iden(),
                SupervisionMeeting::Table.into_iden(),
                SupervisorAssignment::Table.into_iden(),
                Target::Table.into_iden(),
                DailyVisit::Table.into_iden(),
            ],
        )
        .await
    }
}
