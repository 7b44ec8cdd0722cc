//! Enumerations shared by the tables and the GraphQL API.
//!
//! Each is stored as a lower-case string; the migrations hold the matching CHECK lists.

use sea_orm::entity::prelude::*;

/// What kind of league body an organisation unit is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OrgUnitKind {
    /// The city league committee (团市委), root of the tree.
    #[sea_orm(string_value = "city")]
    City,
    /// A town or sub-district league committee (镇街团委), the unit ranked by QII.
    #[sea_orm(string_value = "town")]
    Town,
    /// A Youth Home / offline service station (青年之家), belonging to a town.
    #[sea_orm(string_value = "youth_home")]
    YouthHome,
    /// A school league body.
    #[sea_orm(string_value = "school")]
    School,
    /// An enterprise league body.
    #[sea_orm(string_value = "enterprise")]
    Enterprise,
    /// A city-level unit (e.g. 莞香花, 爱心家园, 市志联).
    #[sea_orm(string_value = "city_unit")]
    CityUnit,
}

/// An expert's field in the expert alliance (专家联盟).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum ExpertField {
    /// Law (法律).
    #[sea_orm(string_value = "law")]
    Law,
    /// Psychology (心理).
    #[sea_orm(string_value = "psychology")]
    Psychology,
    /// Entrepreneurship (创业).
    #[sea_orm(string_value = "entrepreneurship")]
    Entrepreneurship,
    /// Public welfare (公益).
    #[sea_orm(string_value = "public_welfare")]
    PublicWelfare,
    /// Marriage and relationships (婚恋).
    #[sea_orm(string_value = "marriage")]
    Marriage,
    /// Career and employment (就业).
    #[sea_orm(string_value = "career")]
    Career,
    /// Any other field.
    #[sea_orm(string_value = "other")]
    Other,
}

/// Moderation state of a question: whether it may count as a valid question.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ModerationStatus {
    /// Visible on the platform.
    #[sea_orm(string_value = "visible")]
    Visible,
    /// Marked as spam by a moderator.
    #[sea_orm(string_value = "spam")]
    Spam,
    /// Deleted by its author or a moderator.
    #[sea_orm(string_value = "deleted")]
    Deleted,
}

/// How a member took part in a topic.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ParticipationKind {
    /// A comment in the discussion.
    #[sea_orm(string_value = "comment")]
    Comment,
    /// A vote (one per member and topic).
    #[sea_orm(string_value = "vote")]
    Vote,
}

/// Offline activity or online interactive topic (线下活动 / 线上话题).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ActivityKind {
    /// An activity held at a place.
    #[sea_orm(string_value = "offline")]
    Offline,
    /// An online interactive topic discussion.
    #[sea_orm(string_value = "online_topic")]
    OnlineTopic,
}

/// Category of an activity in "Find Activities" (找活动).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum ActivityCategory {
    /// Contest (比赛).
    #[sea_orm(string_value = "contest")]
    Contest,
    /// Social and friendship (交友).
    #[sea_orm(string_value = "social")]
    Social,
    /// Themed activity (主题活动).
    #[sea_orm(string_value = "themed")]
    Themed,
    /// Ticket perks (票务福利).
    #[sea_orm(string_value = "ticket_perk")]
    TicketPerk,
    /// Training (培训).
    #[sea_orm(string_value = "training")]
    Training,
    /// Volunteer service (志愿服务).
    #[sea_orm(string_value = "volunteer_service")]
    VolunteerService,
    /// Anything else.
    #[sea_orm(string_value = "other")]
    Other,
}

/// A like or a vote on an activity (点赞 / 投票).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum LikeKind {
    /// A like, for popularity.
    #[sea_orm(string_value = "like")]
    Like,
    /// A vote, in contests.
    #[sea_orm(string_value = "vote")]
    Vote,
}

/// Where an offline service request stands (submitted → reviewed → intervening → completed).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ServiceRequestStatus {
    /// Submitted by the applicant, not yet looked at.
    #[sea_orm(string_value = "submitted")]
    Submitted,
    /// Viewed and reviewed by the station.
    #[sea_orm(string_value = "reviewed")]
    Reviewed,
    /// The station is intervening.
    #[sea_orm(string_value = "intervening")]
    Intervening,
    /// Completed; the applicant may rate it.
    #[sea_orm(string_value = "completed")]
    Completed,
}

/// Decision state of an incentive application.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ApplicationStatus {
    /// Waiting for the city's decision.
    #[sea_orm(string_value = "submitted")]
    Submitted,
    /// Approved by the city.
    #[sea_orm(string_value = "approved")]
    Approved,
    /// Rejected by the city, with a reason.
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

/// Where a request for platform-skills training (平台使用技能培训) stands:
/// requested → scheduled (with a date) → done, or declined with a reason.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PlatformTrainingStatus {
    /// Asked for by the unit, waiting for the city.
    #[sea_orm(string_value = "requested")]
    Requested,
    /// Given a date by the city.
    #[sea_orm(string_value = "scheduled")]
    Scheduled,
    /// Held.
    #[sea_orm(string_value = "done")]
    Done,
    /// Declined by the city, with a reason.
    #[sea_orm(string_value = "declined")]
    Declined,
}

/// What an incentive application asks for (申报意向, seed 001 附件2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum IncentiveIntent {
    /// Activity design contest (活动设计大赛).
    #[sea_orm(string_value = "design_contest")]
    DesignContest,
    /// Heavyweight publishing through the city platform (重磅发布).
    #[sea_orm(string_value = "heavyweight")]
    Heavyweight,
    /// Cultural goods for participants (文创产品).
    #[sea_orm(string_value = "cultural_goods")]
    CulturalGoods,
    /// Activity linkage support (活动联动支持).
    #[sea_orm(string_value = "linkage_support")]
    LinkageSupport,
    /// Training support (培训支持).
    #[sea_orm(string_value = "training_support")]
    TrainingSupport,
}

/// Whom a unit sends to a supervision meeting (参会回执).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum AttendeeRole {
    /// The league secretary of the unit (团委书记).
    #[sea_orm(string_value = "secretary")]
    Secretary,
    /// The deputy secretary in charge (分管副书记).
    #[sea_orm(string_value = "deputy")]
    Deputy,
    /// A platform operator (平台操作员).
    #[sea_orm(string_value = "operator")]
    Operator,
}

/// The role an account holds; it decides what the account may read and change.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    serde::Deserialize,
    serde::Serialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    /// Runs the platform city-wide: every unit, target, decision, account and the audit log.
    #[sea_orm(string_value = "city_admin")]
    CityAdmin,
    /// Edits, tests and publishes the rule scripts; reads the scores they produce.
    #[sea_orm(string_value = "rule_admin")]
    RuleAdmin,
    /// Staff of one town: the town and its Youth Homes.
    #[sea_orm(string_value = "town_admin")]
    TownAdmin,
    /// Staff of one Youth Home.
    #[sea_orm(string_value = "youth_home_admin")]
    YouthHomeAdmin,
    /// A public member acting for themself.
    #[sea_orm(string_value = "member")]
    Member,
}
