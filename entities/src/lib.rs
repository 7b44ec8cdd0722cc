//! SeaORM entities: one module per table of the qii database.
//!
//! Instants are stored in UTC (`DateTimeUtc`); reporting days, weeks and months are
//! computed in Asia/Shanghai by the services. Enumerations are stored as short strings
//! guarded by CHECK constraints in the migrations.

pub mod enums;
pub mod prelude;

pub mod activity;
pub mod activity_checkin;
pub mod activity_comment;
pub mod activity_like;
pub mod activity_photo;
pub mod activity_review;
pub mod activity_signup;
pub mod answer;
pub mod app_user;
pub mod audit_entry;
pub mod daily_visit;
pub mod district;
pub mod expert;
pub mod imported_figure;
pub mod incentive_application;
pub mod incentive_intent;
pub mod issued_token;
pub mod meeting_attendance;
pub mod member;
pub mod org_unit;
pub mod persisted_operation;
pub mod platform_training_request;
pub mod question;
pub mod refresh_token;
pub mod rule_release;
pub mod rule_release_script;
pub mod rule_script;
pub mod score_change;
pub mod score_snapshot;
pub mod server_key;
pub mod service_request;
pub mod service_request_event;
pub mod supervision_meeting;
pub mod supervisor_assignment;
pub mod target;
pub mod token_revocation;
pub mod topic;
pub mod topic_participation;
pub mod unit_score;

/// Every table has an integer primary key `id`; this reaches it generically, so that
/// loaders and pagination work over any entity without looking columns up by name.
pub trait HasId: sea_orm::EntityTrait {
    /// The `id` column.
    fn id_column() -> Self::Column;
    /// The id of one row.
    fn id_of(model: &Self::Model) -> i64;
}

macro_rules! has_id {
    ($($table:ident),* $(,)?) => {$(
        impl HasId for $table::Entity {
            fn id_column() -> Self::Column {
                $table::Column::Id
            }
            fn id_of(model: &Self::Model) -> i64 {
                model.id
            }
        }
    )*};
}

has_id!(
    activity,
    activity_checkin,
    activity_comment,
    activity_like,
    activity_photo,
    activity_review,
    activity_signup,
    answer,
    app_user,
    audit_entry,
    daily_visit,
    district,
    expert,
    imported_figure,
    incentive_application,
    incentive_intent,
    issued_token,
    meeting_attendance,
    member,
    org_unit,
    platform_training_request,
    question,
    rule_release,
    rule_script,
    score_change,
    score_snapshot,
    service_request,
    service_request_event,
    supervision_meeting,
    supervisor_assignment,
    target,
    topic,
    topic_participation,
    unit_score,
);
