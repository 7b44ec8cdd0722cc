//! Questions (提问) and their answers, online topics (话题) and how members take part in them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{drop_tables, fk, index, not_blank, one_of};
use crate::m20261121_000001_org_structure::OrgUnit;
use crate::m20261121_000002_members_experts::{Expert, Member};

/// String values of `ModerationStatus`.
pub(crate) const MODERATION_STATUSES: &[&str] = &["visible", "spam", "deleted"];

/// String values of `ParticipationKind`.
pub(crate) const PARTICIPATION_KINDS: &[&str] = &["comment", "vote"];

/// An answer is written by exactly one of a member, an expert and an org unit.
const ANSWER_HAS_ONE_AUTHOR: &str = "(CASE WHEN member_id IS NULL THEN 0 ELSE 1 END) \
     + (CASE WHEN expert_id IS NULL THEN 0 ELSE 1 END) \
     + (CASE WHEN org_unit_id IS NULL THEN 0 ELSE 1 END) = 1";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Question {
    Table,
    Id,
    AskerId,
    AddressedToId,
    Title,
    Body,
    Status,
    AskedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Answer {
    Table,
    Id,
    QuestionId,
    MemberId,
    ExpertId,
    OrgUnitId,
    Body,
    AnsweredAt,
}

#[derive(DeriveIden)]
pub(crate) enum Topic {
    Table,
    Id,
    OrgUnitId,
    Title,
    Body,
    PublishedAt,
    ClosesAt,
}

#[derive(DeriveIden)]
pub(crate) enum TopicParticipation {
    Table,
    Id,
    TopicId,
    MemberId,
    Kind,
    Body,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Question::Table)
                    .col(big_pk_auto(Question::Id))
                    .col(big_integer(Question::AskerId))
                    .col(big_integer_null(Question::AddressedToId))
                    .col(string(Question::Title))
                    .col(text(Question::Body))
                    .col(string_len(Question::Status, 16))
                    .col(timestamp_with_time_zone(Question::AskedAt))
                    .foreign_key(&mut fk(
                        "fk_question_asker",
                        Question::AskerId,
                        Member::Table,
                        Member::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_question_addressed_to",
                        Question::AddressedToId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check(("ck_question_title", not_blank(Question::Title)))
                    .check((
                        "ck_question_status",
                        one_of(Question::Status, MODERATION_STATUSES),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_question_asker_id",
            Question::Table,
            [Question::AskerId],
        )
        .await?;
        index(
            manager,
            "idx_question_addressed_to_id",
            Question::Table,
            [Question::AddressedToId],
        )
        .await?;
        index(
            manager,
            "idx_question_asked_at",
            Question::Table,
            [Question::AskedAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Answer::Table)
                    .col(big_pk_auto(Answer::Id))
                    .col(big_integer(Answer::QuestionId))
                    .col(big_integer_null(Answer::MemberId))
                    .col(big_integer_null(Answer::ExpertId))
                    .col(big_integer_null(Answer::OrgUnitId))
                    .col(text(Answer::Body))
                    .col(timestamp_with_time_zone(Answer::AnsweredAt))
                    .foreign_key(&mut fk(
                        "fk_answer_question",
                        Answer::QuestionId,
                        Question::Table,
                        Question::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_answer_member",
                        Answer::MemberId,
                        Member::Table,
                        Member::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_answer_expert",
                        Answer::ExpertId,
                        Expert::Table,
                        Expert::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_answer_org_unit",
                        Answer::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check(("ck_answer_one_author", Expr::cust(ANSWER_HAS_ONE_AUTHOR)))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_answer_question_id",
            Answer::Table,
            [Answer::QuestionId],
        )
        .await?;
        index(
            manager,
            "idx_answer_member_id",
            Answer::Table,
            [Answer::MemberId],
        )
        .await?;
        index(
            manager,
            "idx_answer_expert_id",
            Answer::Table,
            [Answer::ExpertId],
        )
        .await?;
        index(
            manager,
            "idx_answer_org_unit_id",
            Answer::Table,
            [Answer::OrgUnitId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Topic::Table)
                    .col(big_pk_auto(Topic::Id))
                    .col(big_integer(Topic::OrgUnitId))
                    .col(string(Topic::Title))
                    .col(text(Topic::Body))
                    .col(timestamp_with_time_zone(Topic::PublishedAt))
                    .col(timestamp_with_time_zone_null(Topic::ClosesAt))
                    .foreign_key(&mut fk(
                        "fk_topic_org_unit",
                        Topic::OrgUnitId,
                        OrgUnit::Table,
                        OrgUnit::Id,
                    ))
                    .check(("ck_topic_title", not_blank(Topic::Title)))
                    .check((
                        "ck_topic_closes_after_published",
                        Expr::col(Topic::ClosesAt)
                            .is_null()
                            .or(Expr::col(Topic::ClosesAt).gt(Expr::col(Topic::PublishedAt))),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_topic_org_unit_id",
            Topic::Table,
            [Topic::OrgUnitId],
        )
        .await?;
        index(
            manager,
            "idx_topic_published_at",
            Topic::Table,
            [Topic::PublishedAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TopicParticipation::Table)
                    .col(big_pk_auto(TopicParticipation::Id))
                    .col(big_integer(TopicParticipation::TopicId))
                    .col(big_integer(TopicParticipation::MemberId))
                    .col(string_len(TopicParticipation::Kind, 16))
                    .col(text_null(TopicParticipation::Body))
                    .col(timestamp_with_time_zone(TopicParticipation::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_topic_participation_topic",
                        TopicParticipation::TopicId,
                        Topic::Table,
                        Topic::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_topic_participation_member",
                        TopicParticipation::MemberId,
                        Member::Table,
                        Member::Id,
                    ))
                    .check((
                        "ck_topic_participation_kind",
                        one_of(TopicParticipation::Kind, PARTICIPATION_KINDS),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_topic_participation_topic_id",
            TopicParticipation::Table,
            [TopicParticipation::TopicId],
        )
        .await?;
        index(
            manager,
            "idx_topic_participation_member_id",
            TopicParticipation::Table,
            [TopicParticipation::MemberId],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                TopicParticipation::Table.into_iden(),
                Topic::Table.into_iden(),
                Answer::Table.into_iden(),
                Question::Table.into_iden(),
            ],
        )
        .await
    }
}
