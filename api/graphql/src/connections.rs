//! Descriptions of the connection types (`XxxConnection`): async-graphql generates them
//! from [`Page`] without one, so the schema builder is given each type's here.

use async_graphql::SchemaBuilder;

use super::{
    access, activity_types, compliance, contest, expert_eval, figures, improvement, incentive,
    nodes, operations, pagination::Page, platform_training, qa, score_changes, scoring,
    service_request, stability, stats, supervision, topic, Mutation, Query, Subscription,
};

type Builder = SchemaBuilder<Query, Mutation, Subscription>;

/// Gives every connection type of the schema its description.
pub fn describe(builder: Builder) -> Builder {
    builder
        .override_output_type_description::<Page<nodes::Activity>>(
            "A page of activities, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<activity_types::ActivitySignup>>(
            "A page of activity sign-ups (报名), with its cursors and the total count.",
        )
        .override_output_type_description::<Page<activity_types::ActivityCheckin>>(
            "A page of activity check-ins (签到), with its cursors and the total count.",
        )
        .override_output_type_description::<Page<activity_types::ActivityComment>>(
            "A page of activity comments (评论), with its cursors and the total count.",
        )
        .override_output_type_description::<Page<activity_types::ActivityReview>>(
            "A page of activity reviews (评价), with its cursors and the total count.",
        )
        .override_output_type_description::<Page<activity_types::ActivityLike>>(
            "A page of activity likes and votes (点赞/投票), with its cursors and the total count.",
        )
        .override_output_type_description::<Page<activity_types::ActivityPhoto>>(
            "A page of activity photos, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<qa::Question>>(
            "A page of questions, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<qa::Answer>>(
            "A page of answers, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<supervision::SupervisorAssignment>>(
            "A page of supervisor assignments, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<supervision::SupervisionMeeting>>(
            "A page of supervision meetings, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<supervision::AttendanceReceipt>>(
            "A page of meeting attendance receipts, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<access::User>>(
            "A page of accounts, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<access::IssuedToken>>(
            "A page of issued tokens, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<access::AuditEntry>>(
            "A page of audit log entries, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<contest::ContestEntry>>(
            "A page of design-contest entries, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<operations::DailyVisit>>(
            "A page of daily visit figures, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<operations::Target>>(
            "A page of targets, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<nodes::District>>(
            "A page of supervision districts, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<nodes::OrgUnit>>(
            "A page of org units, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<nodes::Expert>>(
            "A page of experts, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<expert_eval::ExpertEvaluationEntry>>(
            "A page of experts' evaluation entries, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<score_changes::ScoreChange>>(
            "A page of the change feed of stored rankings, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<figures::ImportedFigure>>(
            "A page of imported figures, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<incentive::IncentiveApplication>>(
            "A page of incentive applications, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<platform_training::PlatformTrainingRequest>>(
            "A page of requests for platform-skills training, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<nodes::Member>>(
            "A page of members, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<improvement::ImprovementAction>>(
            "A page of an improvement plan's actions, best first, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<stability::RankInterval>>(
            "A page of the units of a rank-stability analysis, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<scoring::RankingEntry>>(
            "A page of a ranking's entries, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<scoring::VersionComparison>>(
            "A page of units scored by two rule versions, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<service_request::ServiceRequest>>(
            "A page of service requests, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<service_request::ServiceRequestEvent>>(
            "A page of service request history events, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<stats::StatsGroup>>(
            "A page of `activityStats` groups, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<topic::Topic>>(
            "A page of topics, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<topic::TopicParticipation>>(
            "A page of topic comments and votes, with its cursors and the total count.",
        )
        .override_output_type_description::<Page<compliance::TownComplianceRow>>(
            "A page of towns of the compliance board, with its cursors and the total count.",
        )
}
