//! An attendance receipt names the attendee's role — the town's secretary, the deputy in
//! charge or an operator — so that the supervision rules can limit how many of each a unit
//! sends. Receipts sent before are taken to be operators'.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{common::one_of, m20261121_000006_operations::MeetingAttendance};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Column {
    Role,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MeetingAttendance::Table)
                    .add_column(
                        string_len(Column::Role, 16)
                            .default("operator")
                            .check(one_of(Column::Role, &["secretary", "deputy", "operator"])),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MeetingAttendance::Table)
                    .drop_column(Column::Role)
                    .to_owned(),
            )
            .await
    }
}
