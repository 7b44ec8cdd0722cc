//! The supervision types as front-ends see them, with their relations batched.

use crate::Id;
use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;
use entities::enums::AttendeeRole;
use entities::{district, meeting_attendance, supervision_meeting, supervisor_assignment};
use qii_domain::authz::Personal;

use crate::nodes::{unit_via, District, OrgUnit};
use crate::{
    foreign_key,
    {
        count_of, load_by_id,
        pagination::{cost, nested, Page, SortDirection},
        ContextExt,
    },
};

foreign_key!(
    /// Attendance receipts of a supervision meeting.
    ReceiptsOfMeeting, meeting_attendance, MeetingId, meeting_id, supervision_meeting
);

/// A supervisor (督导专员) assigned to a town: a trained university student helping
/// with platform management and data analysis.
pub struct SupervisorAssignment(pub supervisor_assignment::Model);

/// A supervisor (督导专员) assigned to a town: a trained university student helping
/// with platform management and data analysis.
#[Object]
impl SupervisorAssignment {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The town supervised.
    async fn town(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::supervisor_assignment::Entity>(ctx, &self.0, "town_id", |m| {
            Some(m.town_id)
        })
        .await
    }
    /// The supervisor's name.
    async fn supervisor_name(&self) -> &str {
        &self.0.supervisor_name
    }
    /// The supervisor's university.
    async fn university(&self) -> Option<&str> {
        self.0.university.as_deref()
    }
    /// The supervisor's mobile number.
    async fn mobile(&self) -> Option<&str> {
        self.0.mobile.as_deref()
    }
    /// First day of the assignment.
    async fn starts_on(&self) -> NaiveDate {
        self.0.starts_on
    }
    /// Last day of the assignment; null while open-ended.
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.0.ends_on
    }
}

/// A supervision meeting (督导会议) of a district, with the unit visited.
pub struct SupervisionMeeting(pub supervision_meeting::Model);

/// A supervision meeting (督导会议) of a district, with the unit visited.
#[Object]
impl SupervisionMeeting {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The district whose towns and city-level units meet.
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        let found = load_by_id::<district::Entity>(ctx, self.0.district_id).await?;
        Ok(found.map(District::from))
    }
    /// Day of the meeting.
    async fn held_on(&self) -> NaiveDate {
        self.0.held_on
    }
    /// Where it is held, e.g. 石碣.
    async fn venue(&self) -> &str {
        &self.0.venue
    }
    /// The unit visited during the meeting (usually a Youth Home).
    async fn visit_org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::supervision_meeting::Entity>(ctx, &self.0, "visit_org_unit_id", |m| {
            m.visit_org_unit_id
        })
        .await
    }
    /// The agenda (plain text).
    async fn agenda(&self) -> Option<&str> {
        self.0.agenda.as_deref()
    }
    /// Day by which attendance receipts are due.
    async fn receipts_due_on(&self) -> Option<NaiveDate> {
        self.0.receipts_due_on
    }
    /// The attendance receipts the caller may see, in the order they came in unless
    /// sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn attendance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<qii_domain::service::supervision::ReceiptFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: super::AttendanceReceiptOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<AttendanceReceipt>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let select = qii_domain::service::supervision::receipts(&app.actor, &filter)?;
        nested::<supervision_meeting::Entity, ReceiptsOfMeeting, _, _>(
            ctx,
            self.0.id,
            select,
            &filter,
            (order_by, direction),
            (first, after),
            AttendanceReceipt,
        )
        .await
    }
    /// Number of people announced by attendance receipts.
    async fn attendance_count(&self, ctx: &Context<'_>) -> Result<i64> {
        count_of::<ReceiptsOfMeeting>(ctx, self.0.id).await
    }
}

/// An attendance receipt (回执): one person a unit sends to a supervision meeting.
pub struct AttendanceReceipt(pub meeting_attendance::Model);

/// An attendance receipt (回执): one person a unit sends to a supervision meeting.
#[Object]
impl AttendanceReceipt {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The meeting.
    async fn meeting(&self, ctx: &Context<'_>) -> Result<Option<SupervisionMeeting>> {
        let found = load_by_id::<supervision_meeting::Entity>(ctx, self.0.meeting_id).await?;
        Ok(found.map(SupervisionMeeting))
    }
    /// The sending unit: a town or city-level unit of the meeting's district.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::meeting_attendance::Entity>(ctx, &self.0, "org_unit_id", |m| {
            Some(m.org_unit_id)
        })
        .await
    }
    /// The attendee's name.
    /// Masked (`张**`) for callers outside the attendee's unit.
    async fn name(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.personal(ctx).await?.name(&self.0.name))
    }
    /// What the attendee comes as.
    async fn role(&self) -> AttendeeRole {
        self.0.role
    }
    /// The attendee's title, e.g. 团委书记.
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    /// The attendee's mobile number.
    /// Masked (`138****5678`) for callers outside the attendee's unit.
    async fn mobile(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.personal(ctx).await?.mobile(self.0.mobile.as_deref()))
    }
    /// When the unit sent the receipt; null for receipts kept before this was recorded.
    async fn submitted_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.submitted_at
    }
    /// Sent after the meeting's due day (in Dongguan; the meeting's own day when it has
    /// none), so late; null for receipts kept before the time they were sent was recorded.
    async fn late(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        let Some(at) = self.0.submitted_at else {
            return Ok(None);
        };
        let meeting = load_by_id::<supervision_meeting::Entity>(ctx, self.0.meeting_id).await?;
        Ok(meeting.map(|m| qii_domain::service::supervision::late(&m, at)))
    }
    /// Anything else the unit wants the organisers to know.
    async fn remarks(&self) -> Option<&str> {
        self.0.remarks.as_deref()
    }
}

impl AttendanceReceipt {
    /// How the caller sees the attendee's personal details: in full within its reach of
    /// the sending unit.
    async fn personal(&self, ctx: &Context<'_>) -> Result<Personal> {
        let unit = self.0.org_unit_id;
        let town = crate::nodes::town_of(ctx, unit).await?;
        Ok(Personal::of_unit(&ctx.app()?.actor, unit, town))
    }
}
