//! Figures imported from other systems per org unit, period and key (e.g. a partner's
//! count of visits), for rule scripts to name beside the figures computed from the
//! platform's own data. One value per unit, period and key: importing again replaces it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{fk, index, not_blank, unique};
use crate::m20261121_000001_org_structure::OrgUnit;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum ImportedFigure {
    Table,
    Id,
    OrgUnitId,
    Period,
    Key,
    Value,
    Source,
    ImportedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ImportedFigure::Table)
                    .col(big_pk_auto(ImportedFigure::Id))
                    .col(big_integer(ImportedFigure::OrgUnitId))
                    .col(string(ImportedFigure::Period))
                    .col(string(ImportedFigure::Key))
                    .col(double(ImportedFigure::Value))
                    .col(string_null(ImportedFigure::Source))
                    .col(timestamp_with_time_zone(ImportedFigure::ImportedAt))
                    .foreign_key(&mut fk(
                        "fk_imported_figure_org_unit",
                        ImportedFigure::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check((
                        "ck_imported_figure_period",
                        not_blank(ImportedFigure::Period),
                    ))
                    .check(("ck_imported_figure_key", not_blank(ImportedFigure::Key)))
                    .check((
                        "ck_imported_figure_value",
                        Expr::col(ImportedFigure::Value).gte(0),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_imported_figure_org_unit_period_key",
            ImportedFigure::Table,
            [
                ImportedFigure::OrgUnitId,
                ImportedFigure::Period,
                ImportedFigure::Key,
            ],
        )
        .await?;
        // Scoring reads one period's figures at a time.
        index(
            manager,
            "idx_imported_figure_period_key",
            ImportedFigure::Table,
            [ImportedFigure::Period, ImportedFigure::Key],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportedFigure::Table).to_owned())
            .await
    }
}
