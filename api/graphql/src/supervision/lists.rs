//! Reading supervision: single records by id and filtered, sorted connections.

use crate::Id;
use async_graphql::{Context, Enum, Object, Result};
use entities::{meeting_attendance, supervision_meeting, supervisor_assignment};

use super::{AttendanceReceipt, SupervisionMeeting, SupervisorAssignment};
use crate::{
    pagination::{OrderField, SortKey},
    visible_by_id, ContextExt,
};
use qii_domain::service::supervision as service;

/// What supervisor-assignment lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum SupervisorAssignmentOrderField {
    /// First day.
    #[default]
    StartsOn,
    /// Supervisor's name.
    SupervisorName,
}

impl OrderField<supervisor_assignment::Entity> for SupervisorAssignmentOrderField {
    fn column(self) -> supervisor_assignment::Column {
        match self {
            Self::StartsOn => supervisor_assignment::Column::StartsOn,
            Self::SupervisorName => supervisor_assignment::Column::SupervisorName,
        }
    }
    fn key(self, m: &supervisor_assignment::Model) -> SortKey {
        match self {
            Self::StartsOn => SortKey::Date(m.starts_on),
            Self::SupervisorName => SortKey::Text(m.supervisor_name.clone()),
        }
    }
}

/// What supervision-meeting lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum SupervisionMeetingOrderField {
    /// Day of the meeting.
    #[default]
    HeldOn,
    /// Venue.
    Venue,
}

impl OrderField<supervision_meeting::Entity> for SupervisionMeetingOrderField {
    fn column(self) -> supervision_meeting::Column {
        match self {
            Self::HeldOn => supervision_meeting::Column::HeldOn,
            Self::Venue => supervision_meeting::Column::Venue,
        }
    }
    fn key(self, m: &supervision_meeting::Model) -> SortKey {
        match self {
            Self::HeldOn => SortKey::Date(m.held_on),
            Self::Venue => SortKey::Text(m.venue.clone()),
        }
    }
}

/// What attendance-receipt lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum AttendanceReceiptOrderField {
    /// The order receipts came in.
    #[default]
    Received,
    /// Attendee's name.
    Name,
}

impl OrderField<meeting_attendance::Entity> for AttendanceReceiptOrderField {
    fn column(self) -> meeting_attendance::Column {
        match self {
            Self::Received => meeting_attendance::Column::Id,
            Self::Name => meeting_attendance::Column::Name,
        }
    }
    fn key(self, m: &meeting_attendance::Model) -> SortKey {
        match self {
            Self::Received => SortKey::Int(m.id),
            Self::Name => SortKey::Text(m.name.clone()),
        }
    }
}

/// Reading supervision.
#[derive(Default)]
pub struct SupervisionQuery;

#[Object]
impl SupervisionQuery {
    /// One supervisor assignment by id; null when there is none.
    async fn supervisor_assignment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The supervisor assignment's id.")] id: Id,
    ) -> Result<Option<SupervisorAssignment>> {
        let visible = service::assignments(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id)
            .await?
            .map(SupervisorAssignment))
    }

    /// One supervision meeting by id; null when there is none.
    async fn supervision_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The supervision meeting's id.")] id: Id,
    ) -> Result<Option<SupervisionMeeting>> {
        let visible = service::meetings(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id)
            .await?
            .map(SupervisionMeeting))
    }

    /// One attendance receipt by id; null when there is none.
    async fn attendance_receipt(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The attendance receipt's id.")] id: Id,
    ) -> Result<Option<AttendanceReceipt>> {
        let visible = service::receipts(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id)
            .await?
            .map(AttendanceReceipt))
    }
}

lists! {
    /// The lists of `SupervisionQuery`'s domain, as cursor connections.
    pub struct SupervisionLists;

    /// Supervisor assignments, filtered and sorted, as a cursor connection.
    supervisor_assignments(ctx, filter: service::AssignmentFilter) by SupervisorAssignmentOrderField -> SupervisorAssignment {
        let app = ctx.app()?;
        service::assignments(&app.actor, &filter)?
    }

    /// Supervision meetings, filtered and sorted, as a cursor connection.
    supervision_meetings(ctx, filter: service::MeetingFilter) by SupervisionMeetingOrderField -> SupervisionMeeting {
        let app = ctx.app()?;
        service::meetings(&app.actor, &filter)?
    }

    /// Attendance receipts, filtered and sorted, as a cursor connection.
    attendance_receipts(ctx, filter: service::ReceiptFilter) by AttendanceReceiptOrderField -> AttendanceReceipt {
        let app = ctx.app()?;
        service::receipts(&app.actor, &filter)?
    }
}
