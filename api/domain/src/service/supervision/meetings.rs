//! Supervision meetings (督导会议) of the districts.

use crate::authz::Need;
use crate::id::Id;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use chrono::NaiveDate;
use entities::{district, meeting_attendance, org_unit, supervision_meeting};
use sea_orm::{
    sea_query::Query, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, Select,
};

use super::{AGENDA_MAX, NAME_MAX};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
    service::{find, opt_text, text},
};

/// Which supervision meetings to list.
#[derive(Debug, Default, Clone, InputObject)]
#[graphql(name = "SupervisionMeetingFilter")]
pub struct MeetingFilter {
    /// Of this district.
    pub district_id: Option<Id>,
    /// Of this town's district.
    pub town_id: Option<Id>,
    /// Visiting this unit.
    pub visit_org_unit_id: Option<Id>,
    /// Held on or after this day.
    pub held_from: Option<NaiveDate>,
    /// Held on or before this day.
    pub held_to: Option<NaiveDate>,
}

/// The supervision meetings a caller may list, filtered.
pub fn meetings(
    actor: &Actor,
    filter: &MeetingFilter,
) -> ServiceResult<Select<supervision_meeting::Entity>> {
    actor.require(Need::Staff, "read supervision meetings")?;
    use supervision_meeting::Column as C;
    // A town's meetings are those of its district.
    let of_town = filter.town_id.map(|town| {
        C::DistrictId.in_subquery(
            Query::select()
                .column(org_unit::Column::DistrictId)
                .from(org_unit::Entity)
                .and_where(org_unit::Column::Id.eq(town))
                .to_owned(),
        )
    });
    let cond = Filters::new()
        .eq(C::DistrictId, filter.district_id)
        .when(of_town)
        .eq(C::VisitOrgUnitId, filter.visit_org_unit_id)
        .days(C::HeldOn, filter.held_from, filter.held_to);
    Ok(supervision_meeting::Entity::find().filter(cond.build()))
}

/// A new supervision meeting.
#[derive(Debug, Clone)]
pub struct NewMeeting {
    pub district_id: i64,
    pub held_on: NaiveDate,
    pub venue: String,
    pub visit_org_unit_id: Option<i64>,
    pub agenda: Option<String>,
    pub receipts_due_on: Option<NaiveDate>,
}

/// Schedules a supervision meeting of a district.
pub async fn create_meeting(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewMeeting,
) -> ServiceResult<supervision_meeting::Model> {
    actor.require(Need::CityAdmin, "call supervision meetings")?;
    let venue = text("venue", &input.venue, NAME_MAX)?;
    let agenda = opt_text("agenda", input.agenda.as_deref(), AGENDA_MAX)?;
    check_due(input.held_on, input.receipts_due_on)?;
    ensure_district(db, input.district_id).await?;
    if let Some(unit) = input.visit_org_unit_id {
        ensure_visit_in_district(db, unit, input.district_id).await?;
    }
    let created = supervision_meeting::ActiveModel {
        district_id: Set(input.district_id),
        held_on: Set(input.held_on),
        venue: Set(venue),
        visit_org_unit_id: Set(input.visit_org_unit_id),
        agenda: Set(agenda),
        receipts_due_on: Set(input.receipts_due_on),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(created)
}

/// Changes to a meeting; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct MeetingChanges {
    pub district_id: Option<i64>,
    pub held_on: Option<NaiveDate>,
    pub venue: Option<String>,
    pub visit_org_unit_id: Option<Option<i64>>,
    pub agenda: Option<Option<String>>,
    pub receipts_due_on: Option<Option<NaiveDate>>,
}

/// Updates a supervision meeting.
pub async fn update_meeting(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: MeetingChanges,
) -> ServiceResult<supervision_meeting::Model> {
    actor.require(Need::CityAdmin, "change supervision meetings")?;
    let tx = crate::db::write(db).await?;
    let current = find::<supervision_meeting::Entity>(&tx, "supervision meeting", id).await?;
    let district_id = changes.district_id.unwrap_or(current.district_id);
    let held_on = changes.held_on.unwrap_or(current.held_on);
    let visit = changes
        .visit_org_unit_id
        .unwrap_or(current.visit_org_unit_id);
    let due = changes.receipts_due_on.unwrap_or(current.receipts_due_on);
    if district_id != current.district_id {
        ensure_district(&tx, district_id).await?;
        let receipts = meeting_attendance::Entity::find()
            .filter(meeting_attendance::Column::MeetingId.eq(id))
            .one(&tx)
            .await?;
        if receipts.is_some() {
            return Err(ServiceError::invalid(
                "districtId",
                "the meeting already has attendance receipts from its district's units; \
                 it cannot move to another district",
            ));
        }
    }
    if let Some(unit) = visit {
        ensure_visit_in_district(&tx, unit, district_id).await?;
    }
    check_due(held_on, due)?;
    let mut model: supervision_meeting::ActiveModel = current.into();
    if let Some(venue) = changes.venue {
        model.venue = Set(text("venue", &venue, NAME_MAX)?);
    }
    if let Some(agenda) = changes.agenda {
        model.agenda = Set(opt_text("agenda", agenda.as_deref(), AGENDA_MAX)?);
    }
    model.district_id = Set(district_id);
    model.held_on = Set(held_on);
    model.visit_org_unit_id = Set(visit);
    model.receipts_due_on = Set(due);
    let updated = model.update(&tx).await?;
    tx.commit().await?;
    Ok(updated)
}

fn check_due(held_on: NaiveDate, due: Option<NaiveDate>) -> ServiceResult<()> {
    match due {
        Some(d) if d > held_on => Err(ServiceError::invalid(
            "receiptsDueOn",
            format!(
                "attendance receipts must be due on or before the meeting ({d} is after {held_on})"
            ),
        )),
        _ => Ok(()),
    }
}

async fn ensure_district(db: &impl ConnectionTrait, id: i64) -> ServiceResult<()> {
    find::<district::Entity>(db, "district", id)
        .await
        .map_err(|_| {
            ServiceError::invalid("districtId", format!("district {id} does not exist"))
        })?;
    Ok(())
}

/// The unit visited (usually a Youth Home) lies in the meeting's district.
async fn ensure_visit_in_district(
    db: &impl ConnectionTrait,
    unit_id: i64,
    district_id: i64,
) -> ServiceResult<()> {
    let unit = find::<org_unit::Entity>(db, "org unit", unit_id)
        .await
        .map_err(|_| {
            ServiceError::invalid(
                "visitOrgUnitId",
                format!("org unit {unit_id} does not exist"),
            )
        })?;
    if unit.district_id != Some(district_id) {
        return Err(ServiceError::invalid(
            "visitOrgUnitId",
            format!(
                "{} is not in the meeting's district; visit a unit of the district",
                unit.name
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_are_due_before_the_meeting() {
        let meeting = NaiveDate::from_ymd_opt(2017, 10, 26).unwrap();
        assert!(check_due(meeting, NaiveDate::from_ymd_opt(2017, 10, 23)).is_ok());
        assert!(check_due(meeting, NaiveDate::from_ymd_opt(2017, 10, 27)).is_err());
    }
}
