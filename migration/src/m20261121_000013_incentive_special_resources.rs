//! The application form's "specially good resources" mark (资源优质, DOMAIN.md §5.4): a
//! linkage-support application may co-host on its resources alone, whatever its scale.
//! Applications filed before it have none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IncentiveApplication {
    Table,
    SpecialResources,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IncentiveApplication::Table)
                    .add_column(boolean(IncentiveApplication::SpecialResources).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IncentiveApplication::Table)
                    .drop_column(IncentiveApplication::SpecialResources)
                    .to_owned(),
            )
            .await
    }
}
