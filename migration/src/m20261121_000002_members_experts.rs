//! Platform members (注册用户) and the experts of the expert alliance (专家联盟).

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{drop_tables, fk, index, not_blank, one_of, unique};
use crate::m20261121_000001_org_structure::OrgUnit;

/// String values of `ExpertField`.
pub(crate) const EXPERT_FIELDS: &[&str] = &[
    "law",
    "psychology",
    "entrepreneurship",
    "public_welfare",
    "marriage",
    "career",
    "other",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Member {
    Table,
    Id,
    Nickname,
    Mobile,
    RegisteredAt,
    MobileBoundAt,
    HomeTownId,
}

#[derive(DeriveIden)]
pub(crate) enum Expert {
    Table,
    Id,
    MemberId,
    Name,
    Field,
    Title,
    RecruitedById,
    JoinedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Member::Table)
                    .col(big_pk_auto(Member::Id))
                    .col(string(Member::Nickname))
                    .col(string_null(Member::Mobile))
                    .col(timestamp_with_time_zone(Member::RegisteredAt))
                    .col(timestamp_with_time_zone_null(Member::MobileBoundAt))
                    .col(big_integer_null(Member::HomeTownId))
                    .foreign_key(&mut fk(
                        "fk_member_home_town",
                        Member::HomeTownId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // Several members may have no mobile: NULLs are distinct in unique indexes.
        unique(manager, "uq_member_mobile", Member::Table, [Member::Mobile]).await?;
        index(
            manager,
            "idx_member_home_town_id",
            Member::Table,
            [Member::HomeTownId],
        )
        .await?;
        index(
            manager,
            "idx_member_registered_at",
            Member::Table,
            [Member::RegisteredAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Expert::Table)
                    .col(big_pk_auto(Expert::Id))
                    .col(big_integer(Expert::MemberId))
                    .col(string(Expert::Name))
                    .col(string_len(Expert::Field, 24))
                    .col(string_null(Expert::Title))
                    .col(big_integer(Expert::RecruitedById))
                    .col(timestamp_with_time_zone(Expert::JoinedAt))
                    .foreign_key(&mut fk(
                        "fk_expert_member",
                        Expert::MemberId,
                        Member::Table,
                        Member::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_expert_recruited_by",
                        Expert::RecruitedById,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check(("ck_expert_name", not_blank(Expert::Name)))
                    .check(("ck_expert_field", one_of(Expert::Field, EXPERT_FIELDS)))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_expert_member",
            Expert::Table,
            [Expert::MemberId],
        )
        .await?;
        index(
            manager,
            "idx_expert_recruited_by_id",
            Expert::Table,
            [Expert::RecruitedById],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [Expert::Table.into_iden(), Member::Table.into_iden()],
        )
        .await
    }
}
