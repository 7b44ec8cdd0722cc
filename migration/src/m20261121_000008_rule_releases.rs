//! Published rule versions, shared by every server on one database.
//!
//! A release is the whole set of rule files in force after one change (a publish, a
//! rollback, or an edit of the rules folder). Scripts are stored once each and never
//! changed; a release lists the scripts it holds. The latest release is the one in force,
//! and each release names its parent, uniquely, so that two changes made at the same time
//! from the same base cannot both land: the second is refused and retried on the new base.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{drop_tables, fk, fk_cascade, index, not_blank, one_of, unique};

/// String values of the kinds of change that make a release.
pub(crate) const RELEASE_ACTIONS: &[&str] = &["folder", "publish", "rollback"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum RuleScript {
    Table,
    Id,
    Path,
    Source,
    Tests,
    Hash,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum RuleRelease {
    Table,
    Id,
    ParentId,
    CreatedAt,
    Actor,
    Action,
    Note,
    FolderState,
}

#[derive(DeriveIden)]
pub(crate) enum RuleReleaseScript {
    Table,
    ReleaseId,
    ScriptId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RuleScript::Table)
                    .col(big_pk_auto(RuleScript::Id))
                    .col(string(RuleScript::Path))
                    .col(text(RuleScript::Source))
                    .col(text_null(RuleScript::Tests))
                    .col(string(RuleScript::Hash))
                    .col(timestamp_with_time_zone(RuleScript::CreatedAt))
                    .check(("ck_rule_script_path", not_blank(RuleScript::Path)))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_rule_script_path_hash",
            RuleScript::Table,
            [RuleScript::Path, RuleScript::Hash],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RuleRelease::Table)
                    .col(big_pk_auto(RuleRelease::Id))
                    .col(big_integer_null(RuleRelease::ParentId))
                    .col(timestamp_with_time_zone(RuleRelease::CreatedAt))
                    .col(string(RuleRelease::Actor))
                    .col(string(RuleRelease::Action))
                    .col(text(RuleRelease::Note))
                    .col(string_null(RuleRelease::FolderState))
                    .foreign_key(&mut fk(
                        "fk_rule_release_parent",
                        RuleRelease::ParentId,
                        RuleRelease::Table,
                        RuleRelease::Id,
                    ))
                    .check((
                        "ck_rule_release_action",
                        one_of(RuleRelease::Action, RELEASE_ACTIONS),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_rule_release_parent",
            RuleRelease::Table,
            [RuleRelease::ParentId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RuleReleaseScript::Table)
                    .col(big_integer(RuleReleaseScript::ReleaseId))
                    .col(big_integer(RuleReleaseScript::ScriptId))
                    .primary_key(
                        Index::create()
                            .name("pk_rule_release_script")
                            .col(RuleReleaseScript::ReleaseId)
                            .col(RuleReleaseScript::ScriptId),
                    )
                    .foreign_key(&mut fk_cascade(
                        "fk_rule_release_script_release",
                        RuleReleaseScript::ReleaseId,
                        RuleRelease::Table,
                        RuleRelease::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_rule_release_script_script",
                        RuleReleaseScript::ScriptId,
                        RuleScript::Table,
                        RuleScript::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                RuleReleaseScript::Table.into_iden(),
                RuleRelease::Table.into_iden(),
                RuleScript::Table.into_iden(),
            ],
        )
        .await
    }
}
