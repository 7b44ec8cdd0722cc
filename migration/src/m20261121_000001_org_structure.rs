//! The organisation structure: districts (片区) and the tree of org units
//! (city, towns, Youth Homes, schools, enterprises, city-level units).

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{drop_tables, fk, index, not_blank, one_of, unique};

/// String values of `OrgUnitKind`.
pub(crate) const ORG_UNIT_KINDS: &[&str] = &[
    "city",
    "town",
    "youth_home",
    "school",
    "enterprise",
    "city_unit",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum District {
    Table,
    Id,
    Code,
    Name,
    NameEn,
    Position,
}

#[derive(DeriveIden)]
pub(crate) enum OrgUnit {
    Table,
    Id,
    Code,
    Name,
    NameEn,
    Kind,
    ParentId,
    TownId,
    DistrictId,
    PopulationCoefficient,
    Registered,
    FoundedOn,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(District::Table)
                    .col(big_pk_auto(District::Id))
                    .col(string(District::Code))
                    .col(string(District::Name))
                    .col(string(District::NameEn))
                    .col(integer(District::Position))
                    .check(("ck_district_code", not_blank(District::Code)))
                    .check(("ck_district_name", not_blank(District::Name)))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_district_code",
            District::Table,
            [District::Code],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrgUnit::Table)
                    .col(big_pk_auto(OrgUnit::Id))
                    .col(string(OrgUnit::Code))
                    .col(string(OrgUnit::Name))
                    .col(string_null(OrgUnit::NameEn))
                    .col(string_len(OrgUnit::Kind, 16))
                    .col(big_integer_null(OrgUnit::ParentId))
                    .col(big_integer_null(OrgUnit::TownId))
                    .col(big_integer_null(OrgUnit::DistrictId))
                    .col(double_null(OrgUnit::PopulationCoefficient))
                    .col(boolean(OrgUnit::Registered))
                    .col(date_null(OrgUnit::FoundedOn))
                    .col(timestamp_with_time_zone(OrgUnit::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_org_unit_parent",
                        OrgUnit::ParentId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_org_unit_town",
                        OrgUnit::TownId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_org_unit_district",
                        OrgUnit::DistrictId,
                        District::Table,
                        District::Id,
                    ))
                    .check(("ck_org_unit_code", not_blank(OrgUnit::Code)))
                    .check(("ck_org_unit_name", not_blank(OrgUnit::Name)))
                    .check(("ck_org_unit_kind", one_of(OrgUnit::Kind, ORG_UNIT_KINDS)))
                    .check((
                        "ck_org_unit_population_coefficient",
                        Expr::col(OrgUnit::PopulationCoefficient)
                            .is_null()
                            .or(Expr::col(OrgUnit::PopulationCoefficient).gte(0)),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(manager, "uq_org_unit_code", OrgUnit::Table, [OrgUnit::Code]).await?;
        index(
            manager,
            "idx_org_unit_parent_id",
            OrgUnit::Table,
            [OrgUnit::ParentId],
        )
        .await?;
        index(
            manager,
            "idx_org_unit_town_id",
            OrgUnit::Table,
            [OrgUnit::TownId],
        )
        .await?;
        index(
            manager,
            "idx_org_unit_district_id",
            OrgUnit::Table,
            [OrgUnit::DistrictId],
        )
        .await?;
        index(
            manager,
            "idx_org_unit_kind",
            OrgUnit::Table,
            [OrgUnit::Kind],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [OrgUnit::Table.into_iden(), District::Table.into_iden()],
        )
        .await
    }
}
