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

#[derive(Debug, Clone, Deserialize)]
pub struct Attendance {
    pub limits: Vec<AttendanceLimit>,
}

/// Supervisor assignments.
#[derive(Debug, Clone, Deserialize)]
pub struct Supervisors {
    /// The first month a supervisor may be assigned.
    pub from: Period,
    /// Supervisors a town has at a time.
    pub per_town: u32,
}

/// The attendance limits in force on `day`; none when no version covers it. The script
/// runs on the script pool.
pub async fn attendance_on(
    registry: &Arc<Registry>,
    day: NaiveDate,
) -> ServiceResult<Vec<AttendanceLimit>> {
    let rules = registry.clone();
    let limits = registry
        .sandbox
        .run(move || match rules.policy_on("supervision", day) {
            Some(version) => version
                .call::<Attendance>(&rules.sandbox, "attendance", &[])
                .map(|a| a.limits),
            None => Ok(Vec::new()),
        })
        .await??;
    Ok(limits)
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
