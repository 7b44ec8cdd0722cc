//! Attendance receipts (回执): who each town or city-level unit sends to its district's meeting.

use crate::authz;
use crate::id::Id;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use std::sync::Arc;

use chrono::NaiveDate;
use entities::{
    enums::{AttendeeRole, OrgUnitKind},
    meeting_attendance, org_unit, supervision_meeting,
};
use sea_orm::{
    sea_query::Query, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Select,
};

use super::{
    parse_mobile,
    rules::{self, AttendanceLimit},
    NAME_MAX, REMARKS_MAX,
};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
    service::{find, opt_text, text},
};
use qii_engine::rules::Registry;

/// Which attendance receipts to list.
#[derive(Debug, Default, Clone, InputObject)]
#[graphql(name = "AttendanceReceiptFilter")]
pub struct ReceiptFilter {
    /// For this meeting.
    pub meeting_id: Option<Id>,
    /// Sent by this unit.
    pub org_unit_id: Option<Id>,
    /// Sent by this town (or a unit of it).
    pub town_id: Option<Id>,
    /// For the meetings of this district.
    pub district_id: Option<Id>,
    /// For meetings held on or after this day.
    pub held_from: Option<NaiveDate>,
    /// For meetings held on or before this day.
    pub held_to: Option<NaiveDate>,
}

/// The attendance receipts a caller may list, filtered.
pub fn receipts(
    actor: &Actor,
    filter: &ReceiptFilter,
) -> ServiceResult<Select<meeting_attendance::Entity>> {
    let visible = authz::unit_condition(
        actor,
        meeting_attendance::Column::OrgUnitId,
        "attendance receipts",
    )?;
    use meeting_attendance::Column as C;
    // District and meeting dates are the meeting's: filter through a subquery.
    let by_meeting =
        (filter.district_id.is_some() || filter.held_from.is_some() || filter.held_to.is_some())
            .then(|| {
                use supervision_meeting::Column as M;
                let meetings = Filters::new().eq(M::DistrictId, filter.district_id).days(
                    M::HeldOn,
                    filter.held_from,
                    filter.held_to,
                );
                C::MeetingId.in_subquery(
                    Query::select()
                        .column(M::Id)
                        .from(supervision_meeting::Entity)
                        .cond_where(meetings.build())
                        .to_owned(),
                )
            });
    let cond = Filters::new()
        .eq(C::MeetingId, filter.meeting_id)
        .eq(C::OrgUnitId, filter.org_unit_id)
        .town(C::OrgUnitId, filter.town_id)
        .when(by_meeting);
    Ok(meeting_attendance::Entity::find()
        .filter(cond.build())
        .filter(visible))
}

/// The last day receipts for `meeting` are on time: its due day, or the meeting's own.
pub fn due_day(meeting: &supervision_meeting::Model) -> chrono::NaiveDate {
    meeting.receipts_due_on.unwrap_or(meeting.held_on)
}

/// Whether a receipt sent at `at` is late for `meeting`: sent on a day (in Dongguan) after
/// the due day.
pub fn late(meeting: &supervision_meeting::Model, at: chrono::DateTime<chrono::Utc>) -> bool {
    qii_engine::time::local_day(at) > due_day(meeting)
}

/// A new attendance receipt.
#[derive(Debug, Clone)]
pub struct NewReceipt {
    pub meeting_id: i64,
    pub org_unit_id: i64,
    pub name: String,
    pub title: Option<String>,
    pub mobile: Option<String>,
    pub remarks: Option<String>,
    pub role: AttendeeRole,
}

/// Records who a unit sends to a meeting; each person once per meeting and unit, and no
/// more of a role than the supervision rules in force on the meeting's day allow.
pub async fn submit_receipt(
    db: &DatabaseConnection,
    actor: &Actor,
    registry: &Arc<Registry>,
    input: NewReceipt,
) -> ServiceResult<meeting_attendance::Model> {
    authz::require_unit(db, actor, input.org_unit_id, "send its attendance receipts").await?;
    let name = text("name", &input.name, NAME_MAX)?;
    let title = opt_text("title", input.title.as_deref(), NAME_MAX)?;
    let mobile = input
        .mobile
        .as_deref()
        .map(|m| parse_mobile("mobile", m))
        .transpose()?
        .flatten();
    let remarks = opt_text("remarks", input.remarks.as_deref(), REMARKS_MAX)?;
    let meeting = find::<supervision_meeting::Entity>(db, "supervision meeting", input.meeting_id)
        .await
        .map_err(|_| {
            ServiceError::invalid(
                "meetingId",
                format!("supervision meeting {} does not exist", input.meeting_id),
            )
        })?;
    ensure_invited(db, &meeting, input.org_unit_id).await?;
    let attendance = rules::attendance_on(registry, meeting.held_on).await?;
    let now = chrono::Utc::now();
    if late(&meeting, now) && attendance.late_receipts == rules::LateReceipts::Refuse {
        return Err(ServiceError::invalid(
            "meetingId",
            format!(
                "the receipts for the meeting of {} were due {}: the supervision rules in force \
                 refuse late receipts",
                meeting.held_on,
                due_day(&meeting)
            ),
        ));
    }
    // The checks and the insert in one transaction: two receipts sent at once cannot
    // both take the last place of a role.
    let tx = crate::db::write(db).await?;
    ensure_new_attendee(&tx, meeting.id, input.org_unit_id, &name, None).await?;
    ensure_room_for(
        &tx,
        &attendance.limits,
        meeting.id,
        input.org_unit_id,
        input.role,
        None,
    )
    .await?;
    let created = meeting_attendance::ActiveModel {
        meeting_id: Set(meeting.id),
        org_unit_id: Set(input.org_unit_id),
        name: Set(name),
        title: Set(title),
        mobile: Set(mobile),
        remarks: Set(remarks),
        role: Set(input.role),
        submitted_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Changes to a receipt; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ReceiptChanges {
    pub name: Option<String>,
    pub title: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub remarks: Option<Option<String>>,
    pub role: Option<AttendeeRole>,
}

/// Corrects an attendance receipt.
pub async fn update_receipt(
    db: &DatabaseConnection,
    actor: &Actor,
    registry: &Arc<Registry>,
    id: i64,
    changes: ReceiptChanges,
) -> ServiceResult<meeting_attendance::Model> {
    let tx = crate::db::write(db).await?;
    let current = find::<meeting_attendance::Entity>(&tx, "attendance receipt", id).await?;
    authz::require_unit(
        &tx,
        actor,
        current.org_unit_id,
        "change its attendance receipts",
    )
    .await?;
    let (meeting_id, org_unit_id) = (current.meeting_id, current.org_unit_id);
    if let Some(role) = changes.role.filter(|r| *r != current.role) {
        let meeting =
            find::<supervision_meeting::Entity>(&tx, "supervision meeting", meeting_id).await?;
        let attendance = rules::attendance_on(registry, meeting.held_on).await?;
        ensure_room_for(
            &tx,
            &attendance.limits,
            meeting_id,
            org_unit_id,
            role,
            Some(id),
        )
        .await?;
    }
    let db = &tx;
    let mut model: meeting_attendance::ActiveModel = current.into();
    if let Some(name) = changes.name {
        let name = text("name", &name, NAME_MAX)?;
        ensure_new_attendee(db, meeting_id, org_unit_id, &name, Some(id)).await?;
        model.name = Set(name);
    }
    if let Some(title) = changes.title {
        model.title = Set(opt_text("title", title.as_deref(), NAME_MAX)?);
    }
    if let Some(mobile) = changes.mobile {
        model.mobile = Set(mobile
            .as_deref()
            .map(|m| parse_mobile("mobile", m))
            .transpose()?
            .flatten());
    }
    if let Some(remarks) = changes.remarks {
        model.remarks = Set(opt_text("remarks", remarks.as_deref(), REMARKS_MAX)?);
    }
    if let Some(role) = changes.role {
        model.role = Set(role);
    }
    let updated = model.update(db).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Refuses one more attendee of `role` when the unit already sends as many of the roles
/// counted with it as a limit allows.
async fn ensure_room_for(
    db: &impl ConnectionTrait,
    limits: &[AttendanceLimit],
    meeting_id: i64,
    unit_id: i64,
    role: AttendeeRole,
    except: Option<i64>,
) -> ServiceResult<()> {
    use meeting_attendance::Column as C;
    for limit in limits.iter().filter(|l| l.roles.contains(&role)) {
        let sent = meeting_attendance::Entity::find()
            .filter(C::MeetingId.eq(meeting_id))
            .filter(C::OrgUnitId.eq(unit_id))
            .filter(C::Role.is_in(limit.roles.iter().copied()))
            .filter(C::Id.ne(except.unwrap_or(-1)))
            .count(db)
            .await?;
        if sent >= u64::from(limit.at_most) {
            return Err(ServiceError::invalid(
                "role",
                format!(
                    "this unit already sends {sent} of {} to the meeting; the supervision rules \
                     allow at most {}",
                    limit.label, limit.at_most
                ),
            ));
        }
    }
    Ok(())
}

/// Meetings gather the towns and city-level units of their district.
async fn ensure_invited(
    db: &impl ConnectionTrait,
    meeting: &supervision_meeting::Model,
    unit_id: i64,
) -> ServiceResult<()> {
    let unit = find::<org_unit::Entity>(db, "org unit", unit_id)
        .await
        .map_err(|_| {
            ServiceError::invalid("orgUnitId", format!("org unit {unit_id} does not exist"))
        })?;
    if !matches!(unit.kind, OrgUnitKind::Town | OrgUnitKind::CityUnit) {
        return Err(ServiceError::invalid(
            "orgUnitId",
            format!(
                "{} is not a town or city-level unit; receipts are sent by the towns and city-level units \
                 of the meeting's district",
                unit.name
            ),
        ));
    }
    if unit.district_id != Some(meeting.district_id) {
        return Err(ServiceError::invalid(
            "orgUnitId",
            format!(
                "{} is not in the district of this meeting; it attends its own district's meeting",
                unit.name
            ),
        ));
    }
    Ok(())
}

async fn ensure_new_attendee(
    db: &impl ConnectionTrait,
    meeting_id: i64,
    unit_id: i64,
    name: &str,
    except: Option<i64>,
) -> ServiceResult<()> {
    use meeting_attendance::Column as C;
    let clash = meeting_attendance::Entity::find()
        .filter(C::MeetingId.eq(meeting_id))
        .filter(C::OrgUnitId.eq(unit_id))
        .filter(C::Name.eq(name))
        .filter(C::Id.ne(except.unwrap_or(-1)))
        .one(db)
        .await?;
    match clash {
        Some(other) => Err(ServiceError::invalid(
            "name",
            format!(
                "{name} is already on this unit's receipt for the meeting (receipt {})",
                other.id
            ),
        )),
        None => Ok(()),
    }
}
