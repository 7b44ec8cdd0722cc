//! What the supervision rules in force (`rules/supervision/`) allow: how many attendees of
//! each role a unit may send to a meeting, and from when and how many supervisors a town
//! has. A day no version of the rules covers has no such limits.

use std::sync::Arc;

use chrono::NaiveDate;
use entities::enums::AttendeeRole;
use serde::Deserialize;

use crate::error::ServiceResult;
use qii_engine::period::Period;
use qii_engine::rules::Registry;

/// One limit on the attendees a unit sends.
#[derive(Debug, Clone, Deserialize)]
pub struct AttendanceLimit {
    /// The roles counted together.
    pub roles: Vec<AttendeeRole>,
    pub at_most: u32,
    /// Who they are, for people.
    pub label: String,
}

/// What the rules say of a meeting's attendance receipts.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Attendance {
    pub limits: Vec<AttendanceLimit>,
    /// What to do with a receipt sent after the meeting's due day (or after the meeting,
    /// when it has none): `accept` it, flagged late, or `refuse` it.
    #[serde(default)]
    pub late_receipts: LateReceipts,
}

/// What to do with a receipt sent late.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LateReceipts {
    /// Accepted, and flagged late.
    #[default]
    Accept,
    /// Refused.
    Refuse,
}

/// Supervisor assignments.
#[derive(Debug, Clone, Deserialize)]
pub struct Supervisors {
    /// The first month a supervisor may be assigned.
    pub from: Period,
    /// Supervisors a town has at a time.
    pub per_town: u32,
}

/// The attendance rules in force on `day`: no limits, and late receipts accepted, when no
/// version covers it. The script runs on the script pool.
pub async fn attendance_on(registry: &Arc<Registry>, day: NaiveDate) -> ServiceResult<Attendance> {
    let rules = registry.clone();
    let attendance = registry
        .sandbox
        .run(move || match rules.policy_on("supervision", day) {
            Some(version) => version.call::<Attendance>(&rules.sandbox, "attendance", &[]),
            None => Ok(Attendance::default()),
        })
        .await??;
    Ok(attendance)
}

/// The supervisor rules in force on `day`; none when no version covers it. The script
/// runs on the script pool.
pub async fn supervisors_on(
    registry: &Arc<Registry>,
    day: NaiveDate,
) -> ServiceResult<Option<Supervisors>> {
    let rules = registry.clone();
    let supervisors = registry
        .sandbox
        .run(move || {
            rules
                .policy_on("supervision", day)
                .map(|version| version.call::<Supervisors>(&rules.sandbox, "supervisors", &[]))
                .transpose()
        })
        .await??;
    Ok(supervisors)
}
