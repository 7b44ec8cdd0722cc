//! The application form's activity category (培训, 比赛, …): an application that names no
//! platform activity states it itself, so that the incentive rules can tell a training
//! (training support) from other activities. Applications filed before have none; those
//! naming an activity take the activity's.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{add_column, drop_column, one_of};
use crate::m20261121_000004_activities::ACTIVITY_CATEGORIES;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IncentiveApplication {
    Table,
    Category,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let category = string_len_null(IncentiveApplication::Category, 24)
            .check((
                "ck_incentive_application_category",
                one_of(IncentiveApplication::Category, ACTIVITY_CATEGORIES),
            ))
            .to_owned();
        add_column(manager, IncentiveApplication::Table, category).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let (table, column) = (IncentiveApplication::Table, IncentiveApplication::Category);
        drop_column(manager, table, column).await
    }
}
