//! Stored rankings: a period's ranking at one level under one rule set, as it was computed,
//! so that a past period reads the same after later rule or data changes until someone
//! recomputes it. Each unit's score keeps its explanation (dimension and indicator values)
//! and the snapshot names the rule version (content hash) that produced it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{drop_tables, fk, fk_cascade, index, not_blank, unique};
use crate::m20261121_000001_org_structure::OrgUnit;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum ScoreSnapshot {
    Table,
    Id,
    RuleSet,
    Level,
    Period,
    Version,
    ContentHash,
    EffectiveFrom,
    ComputedAt,
    ComputedBy,
}

#[derive(DeriveIden)]
pub(crate) enum UnitScore {
    Table,
    Id,
    SnapshotId,
    OrgUnitId,
    Rank,
    Total,
    Explanation,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScoreSnapshot::Table)
                    .col(big_pk_auto(ScoreSnapshot::Id))
                    .col(string(ScoreSnapshot::RuleSet))
                    .col(string(ScoreSnapshot::Level))
                    .col(string(ScoreSnapshot::Period))
                    .col(string(ScoreSnapshot::Version))
                    .col(string(ScoreSnapshot::ContentHash))
                    .col(string(ScoreSnapshot::EffectiveFrom))
                    .col(timestamp_with_time_zone(ScoreSnapshot::ComputedAt))
                    .col(string(ScoreSnapshot::ComputedBy))
                    .check((
                        "ck_score_snapshot_rule_set",
                        not_blank(ScoreSnapshot::RuleSet),
                    ))
                    .check(("ck_score_snapshot_period", not_blank(ScoreSnapshot::Period)))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_score_snapshot_rule_set_level_period",
            ScoreSnapshot::Table,
            [
                ScoreSnapshot::RuleSet,
                ScoreSnapshot::Level,
                ScoreSnapshot::Period,
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(UnitScore::Table)
                    .col(big_pk_auto(UnitScore::Id))
                    .col(big_integer(UnitScore::SnapshotId))
                    .col(big_integer(UnitScore::OrgUnitId))
                    .col(integer(UnitScore::Rank))
                    .col(double(UnitScore::Total))
                    .col(text(UnitScore::Explanation))
                    .foreign_key(&mut fk_cascade(
                        "fk_unit_score_snapshot",
                        UnitScore::SnapshotId,
                        ScoreSnapshot::Table,
                        ScoreSnapshot::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_unit_score_org_unit",
                        UnitScore::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check(("ck_unit_score_rank", Expr::col(UnitScore::Rank).gte(1)))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_unit_score_snapshot_org_unit",
            UnitScore::Table,
            [UnitScore::SnapshotId, UnitScore::OrgUnitId],
        )
        .await?;
        index(
            manager,
            "idx_unit_score_org_unit",
            UnitScore::Table,
            [UnitScore::OrgUnitId],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                UnitScore::Table.into_iden(),
                ScoreSnapshot::Table.into_iden(),
            ],
        )
        .await
    }
}
