//! When an attendance receipt was sent, so that one sent after its meeting's due day is
//! flagged late (and the supervision rules may refuse it). Receipts kept before have none.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{add_column, drop_column};

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
        let column = timestamp_with_time_zone_null(MeetingAttendance::SubmittedAt);
        add_column(manager, MeetingAttendance::Table, column).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(
            manager,
            MeetingAttendance::Table,
            MeetingAttendance::SubmittedAt,
        )
        .await
    }
}
