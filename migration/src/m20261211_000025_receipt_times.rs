//! When an attendance receipt was sent, so that one sent after its meeting's due day is
//! flagged late (and the supervision rules may refuse it). Receipts kept before have none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MeetingAttendance {
    Table,
    SubmittedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MeetingAttendance::Table)
                    .add_column(timestamp_with_time_zone_null(
                        MeetingAttendance::SubmittedAt,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MeetingAttendance::Table)
                    .drop_column(MeetingAttendance::SubmittedAt)
                    .to_owned(),
            )
            .await
    }
}
