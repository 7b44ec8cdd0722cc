//! The named unique constraints (`uq_*`) of the schema, and what a client is told when a
//! write runs into one.
//!
//! The services check uniqueness before they write and name the field themselves; a
//! constraint is reached only when two requests race past that check (two sign-ups of one
//! member sent at once). The answer is then the same field error, not a bare "already
//! exists". PostgreSQL names the constraint in its message, SQLite names the table and
//! columns; both are matched here. A test compares this table with the constraints of a
//! freshly migrated database, so a new `uq_*` index without an entry fails.

/// One unique constraint and its client-facing form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unique {
    /// The index name, as the migrations create it.
    pub name: &'static str,
    /// The table it belongs to.
    pub table: &'static str,
    /// Its columns, in index order.
    pub columns: &'static [&'static str],
    /// The input field the client should change (`extensions.field`); `None` for
    /// constraints on rows the server writes on its own (a concurrent publication).
    pub field: Option<&'static str>,
    /// What the client is told.
    pub message: &'static str,
}

const fn uq(
    name: &'static str,
    table: &'static str,
    columns: &'static [&'static str],
    field: Option<&'static str>,
    message: &'static str,
) -> Unique {
    Unique {
        name,
        table,
        columns,
        field,
        message,
    }
}

/// Every named unique constraint of the schema.
#[rustfmt::skip]
pub const CONSTRAINTS: &[Unique] = &[
    uq("uq_district_code", "district", &["code"], Some("code"),
        "another district already has this code"),
    uq("uq_org_unit_code", "org_unit", &["code"], Some("code"),
        "another org unit already has this code"),
    uq("uq_member_mobile", "member", &["mobile"], Some("mobile"),
        "another member already has this mobile number"),
    uq("uq_expert_member", "expert", &["member_id"], Some("memberId"),
        "this member is already an expert"),
    uq("uq_activity_signup_member", "activity_signup", &["activity_id", "member_id"],
        Some("memberId"), "this member has already signed up for the activity"),
    uq("uq_activity_checkin_signup", "activity_checkin", &["signup_id"], Some("signupId"),
        "this sign-up has already checked in"),
    uq("uq_activity_review_member", "activity_review", &["activity_id", "member_id"],
        Some("memberId"), "this member has already reviewed the activity; update that review instead"),
    uq("uq_activity_like_member_kind", "activity_like", &["activity_id", "member_id", "kind"],
        Some("kind"), "this member has already given this to the activity"),
    uq("uq_daily_visit_org_unit_day", "daily_visit", &["org_unit_id", "day"], Some("day"),
        "the unit already has a visit figure for this day"),
    uq("uq_target_org_unit_period_metric", "target", &["org_unit_id", "period", "metric"],
        Some("metric"), "the unit already has a target for this metric and period"),
    uq("uq_meeting_attendance_name", "meeting_attendance", &["meeting_id", "org_unit_id", "name"],
        Some("name"), "this person's attendance is already recorded for the meeting"),
    uq("uq_incentive_intent_application_intent", "incentive_intent", &["application_id", "intent"],
        Some("intents"), "the application names the same support twice"),
    uq("uq_topic_participation_vote", "topic_participation", &["topic_id", "member_id"],
        Some("memberId"), "this member has already voted on the topic; a member votes once"),
    uq("uq_rule_release_parent", "rule_release", &["parent_id"], None,
        "another change of the rules was published at the same moment; reload the releases and try again"),
    uq("uq_score_snapshot_rule_set_level_period", "score_snapshot", &["rule_set", "level", "period"],
        None, "this ranking is being stored by another request at the same moment; try again"),
    uq("uq_unit_score_snapshot_org_unit", "unit_score", &["snapshot_id", "org_unit_id"], None,
        "this ranking is being stored by another request at the same moment; try again"),
    uq("uq_imported_figure_org_unit_period_key", "imported_figure", &["org_unit_id", "period", "key"],
        Some("key"), "this figure is being imported by another request at the same moment; try again"),
    uq("uq_app_user_username", "app_user", &["username"], Some("username"),
        "this user name is already taken"),
    uq("uq_issued_token_jti", "issued_token", &["jti"], None,
        "two tokens got the same id; try again"),
    uq("uq_refresh_token_hash", "refresh_token", &["token_hash"], None,
        "two sessions got the same refresh token; try again"),
];

/// The constraint a database's unique-violation message names: PostgreSQL's
/// `… violates unique constraint "uq_member_mobile"`, or SQLite's
/// `UNIQUE constraint failed: member.mobile` (table and columns, in index order).
pub fn violated(message: &str) -> Option<&'static Unique> {
    if let Some(found) = CONSTRAINTS
        .iter()
        .find(|u| message.contains(&format!("\"{}\"", u.name)))
    {
        return Some(found);
    }
    let listed = message.split_once("UNIQUE constraint failed:")?.1;
    let columns: Vec<&str> = listed.split(',').map(str::trim).collect();
    CONSTRAINTS.iter().find(|u| {
        u.columns.len() == columns.len()
            && u.columns
                .iter()
                .zip(&columns)
                .all(|(column, named)| *named == format!("{}.{column}", u.table))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_databases_words_find_the_constraint() {
        let pg = r#"error returned from database: duplicate key value violates unique constraint "uq_activity_signup_member""#;
        assert_eq!(violated(pg).map(|u| u.field), Some(Some("memberId")));
        let sqlite = "error returned from database: (code: 2067) UNIQUE constraint failed: \
                      activity_signup.activity_id, activity_signup.member_id";
        assert_eq!(
            violated(sqlite).map(|u| u.name),
            Some("uq_activity_signup_member")
        );
        // The same columns in another table, or a prefix of the columns, are not it.
        assert_eq!(
            violated("UNIQUE constraint failed: activity_review.activity_id"),
            None
        );
        assert_eq!(
            violated("duplicate key value violates unique constraint \"pk_x\""),
            None
        );
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = CONSTRAINTS.iter().map(|u| u.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CONSTRAINTS.len());
    }
}
