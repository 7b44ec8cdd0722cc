//! Supervision: town supervisors, district supervision meetings and attendance receipts.

mod lists;
mod types;

pub use lists::{
    AttendanceReceiptOrderField, SupervisionLists, SupervisionQuery, SupervisorAssignmentOrderField,
};
pub use types::{AttendanceReceipt, SupervisionMeeting, SupervisorAssignment};

use crate::Id;
use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result};
use chrono::NaiveDate;
use entities::enums::AttendeeRole;

use super::{undefined_id, undefined_to_option, ContextExt};
use qii_domain::service::supervision as service;

/// A new supervisor assignment.
#[derive(InputObject)]
pub struct AssignSupervisorInput {
    /// The town (an org unit of kind `TOWN`).
    town_id: Id,
    /// The supervisor's name.
    supervisor_name: String,
    /// The supervisor's university.
    university: Option<String>,
    /// The supervisor's mobile number (11 digits).
    mobile: Option<String>,
    /// First day; must not overlap another assignment of the town.
    starts_on: NaiveDate,
    /// Last day (on or after `startsOn`); leave out while open-ended.
    ends_on: Option<NaiveDate>,
}

/// Changes to an assignment; omitted fields stay, `null` clears an optional field.
#[derive(InputObject)]
pub struct UpdateSupervisorAssignmentInput {
    /// Move the assignment to another town.
    town_id: Option<Id>,
    /// The supervisor's name.
    supervisor_name: Option<String>,
    /// The supervisor's university; `null` clears it.
    university: MaybeUndefined<String>,
    /// Mobile number (11 digits); `null` clears it.
    mobile: MaybeUndefined<String>,
    /// First day; must not overlap another assignment of the town.
    starts_on: Option<NaiveDate>,
    /// `null` makes the assignment open-ended.
    ends_on: MaybeUndefined<NaiveDate>,
}

/// A new supervision meeting.
#[derive(InputObject)]
pub struct CreateSupervisionMeetingInput {
    /// The district meeting.
    district_id: Id,
    /// Day of the meeting.
    held_on: NaiveDate,
    /// Where it is held.
    venue: String,
    /// The unit visited (usually a Youth Home); it must be in the district.
    visit_org_unit_id: Option<Id>,
    /// The agenda.
    agenda: Option<String>,
    /// Day by which attendance receipts are due (on or before the meeting).
    receipts_due_on: Option<NaiveDate>,
}

/// Changes to a meeting; omitted fields stay, `null` clears an optional field.
#[derive(InputObject)]
pub struct UpdateSupervisionMeetingInput {
    /// Another district; only while no receipts have come in.
    district_id: Option<Id>,
    /// Day of the meeting.
    held_on: Option<NaiveDate>,
    /// Where it is held.
    venue: Option<String>,
    /// The unit visited (in the district); `null` for none.
    visit_org_unit_id: MaybeUndefined<Id>,
    /// The agenda; `null` clears it.
    agenda: MaybeUndefined<String>,
    /// Day receipts are due (on or before the meeting); `null` clears it.
    receipts_due_on: MaybeUndefined<NaiveDate>,
}

/// A new attendance receipt.
#[derive(InputObject)]
pub struct SubmitAttendanceReceiptInput {
    /// The meeting.
    meeting_id: Id,
    /// The sending unit: a town or city-level unit of the meeting's district.
    org_unit_id: Id,
    /// The attendee's name; each person once per meeting and unit.
    name: String,
    /// The attendee's title, e.g. 团委书记.
    title: Option<String>,
    /// The attendee's mobile number (11 digits).
    mobile: Option<String>,
    /// Remarks.
    remarks: Option<String>,
    /// What the attendee comes as; the supervision rules limit how many of each role a
    /// unit sends (the secretary or the deputy, plus two operators).
    role: AttendeeRole,
}

/// Corrections to a receipt; omitted fields stay, `null` clears an optional field.
#[derive(InputObject)]
pub struct UpdateAttendanceReceiptInput {
    /// The attendee's name; each person once per meeting and unit.
    name: Option<String>,
    /// The attendee's title; `null` clears it.
    title: MaybeUndefined<String>,
    /// Mobile number (11 digits); `null` clears it.
    mobile: MaybeUndefined<String>,
    /// Remarks; `null` clears them.
    remarks: MaybeUndefined<String>,
    /// What the attendee comes as.
    role: Option<AttendeeRole>,
}

/// Assigning supervisors, scheduling meetings and sending receipts.
#[derive(Default)]
pub struct SupervisionMutation;

#[Object]
impl SupervisionMutation {
    /// Assigns a supervisor to a town; a town has one supervisor at a time.
    async fn assign_supervisor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The town, the supervisor and the term of the assignment.")]
        input: AssignSupervisorInput,
    ) -> Result<SupervisorAssignment> {
        let app = ctx.app()?;
        let new = service::NewAssignment {
            town_id: input.town_id.0,
            supervisor_name: input.supervisor_name,
            university: input.university,
            mobile: input.mobile,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
        };
        Ok(SupervisorAssignment(
            service::assign_supervisor(&app.db, &app.actor, &app.registry()?, new).await?,
        ))
    }

    /// Updates a supervisor assignment.
    async fn update_supervisor_assignment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The supervisor assignment's id.")] id: Id,
        #[graphql(
            desc = "The changes; fields left out stay as they are, `null` clears an optional field."
        )]
        input: UpdateSupervisorAssignmentInput,
    ) -> Result<SupervisorAssignment> {
        let app = ctx.app()?;
        let changes = service::AssignmentChanges {
            town_id: input.town_id.map(Id::get),
            supervisor_name: input.supervisor_name,
            university: undefined_to_option(input.university),
            mobile: undefined_to_option(input.mobile),
            starts_on: input.starts_on,
            ends_on: undefined_to_option(input.ends_on),
        };
        Ok(SupervisorAssignment(
            service::update_assignment(&app.db, &app.actor, &app.registry()?, id.0, changes)
                .await?,
        ))
    }

    /// Schedules a supervision meeting of a district.
    async fn create_supervision_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting to schedule.")] input: CreateSupervisionMeetingInput,
    ) -> Result<SupervisionMeeting> {
        let app = ctx.app()?;
        let new = service::NewMeeting {
            district_id: input.district_id.0,
            held_on: input.held_on,
            venue: input.venue,
            visit_org_unit_id: input.visit_org_unit_id.map(Id::get),
            agenda: input.agenda,
            receipts_due_on: input.receipts_due_on,
        };
        Ok(SupervisionMeeting(
            service::create_meeting(&app.db, &app.actor, new).await?,
        ))
    }

    /// Updates a supervision meeting.
    async fn update_supervision_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The supervision meeting's id.")] id: Id,
        #[graphql(
            desc = "The changes; fields left out stay as they are, `null` clears an optional field."
        )]
        input: UpdateSupervisionMeetingInput,
    ) -> Result<SupervisionMeeting> {
        let app = ctx.app()?;
        let changes = service::MeetingChanges {
            district_id: input.district_id.map(Id::get),
            held_on: input.held_on,
            venue: input.venue,
            visit_org_unit_id: undefined_id(input.visit_org_unit_id),
            agenda: undefined_to_option(input.agenda),
            receipts_due_on: undefined_to_option(input.receipts_due_on),
        };
        Ok(SupervisionMeeting(
            service::update_meeting(&app.db, &app.actor, id.0, changes).await?,
        ))
    }

    /// Sends an attendance receipt: one person a unit sends to a meeting.
    async fn submit_attendance_receipt(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting, the sending unit and the person it sends.")]
        input: SubmitAttendanceReceiptInput,
    ) -> Result<AttendanceReceipt> {
        let app = ctx.app()?;
        let new = service::NewReceipt {
            meeting_id: input.meeting_id.0,
            org_unit_id: input.org_unit_id.0,
            name: input.name,
            title: input.title,
            mobile: input.mobile,
            remarks: input.remarks,
            role: input.role,
        };
        Ok(AttendanceReceipt(
            service::submit_receipt(&app.db, &app.actor, &app.registry()?, new).await?,
        ))
    }

    /// Corrects an attendance receipt.
    async fn update_attendance_receipt(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The attendance receipt's id.")] id: Id,
        #[graphql(
            desc = "The corrections; fields left out stay as they are, `null` clears an optional field."
        )]
        input: UpdateAttendanceReceiptInput,
    ) -> Result<AttendanceReceipt> {
        let app = ctx.app()?;
        let changes = service::ReceiptChanges {
            name: input.name,
            title: undefined_to_option(input.title),
            mobile: undefined_to_option(input.mobile),
            remarks: undefined_to_option(input.remarks),
            role: input.role,
        };
        Ok(AttendanceReceipt(
            service::update_receipt(&app.db, &app.actor, &app.registry()?, id.0, changes).await?,
        ))
    }
}
