//! A photo uploaded to the server keeps the path of its thumbnail beside its own; a photo
//! given by address has none.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ActivityPhoto {
    Table,
    ThumbnailUrl,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = string_null(ActivityPhoto::ThumbnailUrl);
        add_column(manager, ActivityPhoto::Table, column).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, ActivityPhoto::Table, ActivityPhoto::ThumbnailUrl).await
    }
}
