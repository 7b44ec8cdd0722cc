//! Supervision: supervisors (督导专员) assigned one-to-one to towns, the districts'
//! supervision meetings, and the attendance receipts (回执) units send for them.

use crate::authz;
use crate::authz::Need;
use crate::id::Id;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use std::sync::Arc;

use chrono::NaiveDate;
use entities::{enums::OrgUnitKind, supervisor_assignment};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, Select,
};

use super::{find, opt_text, org::unit_of_kind, parse_mobile, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};
use qii_engine::rules::Registry;

/// Longest name, title, university or venue accepted.
const NAME_MAX: usize = 100;
/// Longest remark accepted.
const REMARKS_MAX: usize = 500;
/// Longest agenda accepted.
const AGENDA_MAX: usize = 5_000;

mod meetings;
mod receipts;
pub mod rules;

pub use meetings::*;
pub use receipts::*;

/// Which supervisor assignments to list.
#[derive(Debug, Default, Clone, InputObject)]
#[graphql(name = "SupervisorAssignmentFilter")]
pub struct AssignmentFilter {
    /// Of this town.
    pub town_id: Option<Id>,
    /// Of the towns of this district.
    pub district_id: Option<Id>,
    /// Running on this day.
    pub active_on: Option<NaiveDate>,
    /// Starting on or after this day.
    pub starts_from: Option<NaiveDate>,
    /// Starting on or before this day.
    pub starts_to: Option<NaiveDate>,
}

/// The supervisor assignments a caller may list, filtered.
pub fn assignments(
    actor: &Actor,
    filter: &AssignmentFilter,
) -> ServiceResult<Select<supervisor_assignment::Entity>> {
    let visible = authz::town_condition(
        actor,
        supervisor_assignment::Column::TownId,
        "supervisor assignments",
    )?;
    use supervisor_assignment::Column as C;
    // Active on a day: started by then and not ended before it.
    let active = filter.active_on.map(|day| {
        Condition::all().add(C::StartsOn.lte(day)).add(
            Condition::any()
                .add(C::EndsOn.is_null())
                .add(C::EndsOn.gte(day)),
        )
    });
    let cond = Filters::new()
        .eq(C::TownId, filter.town_id)
        .district(C::TownId, filter.district_id)
        .when(active)
        .days(C::StartsOn, filter.starts_from, filter.starts_to);
    Ok(supervisor_assignment::Entity::find()
        .filter(cond.build())
        .filter(visible))
}

/// A new supervisor assignment.
#[derive(Debug, Clone)]
pub struct NewAssignment {
    pub town_id: i64,
    pub supervisor_name: String,
    pub university: Option<String>,
    pub mobile: Option<String>,
    pub starts_on: NaiveDate,
    /// None while open-ended.
    pub ends_on: Option<NaiveDate>,
}

/// Assigns a supervisor to a town, from the month and up to the number of supervisors
/// per town the supervision rules in force allow.
pub async fn assign_supervisor(
    db: &DatabaseConnection,
    actor: &Actor,
    registry: &Arc<Registry>,
    input: NewAssignment,
) -> ServiceResult<supervisor_assignment::Model> {
    actor.require(Need::CityAdmin, "assign supervisors")?;
    let name = text("supervisorName", &input.supervisor_name, NAME_MAX)?;
    let university = opt_text("university", input.university.as_deref(), NAME_MAX)?;
    let mobile = input
        .mobile
        .as_deref()
        .map(|m| parse_mobile("mobile", m))
        .transpose()?
        .flatten();
    check_period(input.starts_on, input.ends_on)?;
    let allowed = allowed_supervisors(registry, input.starts_on).await?;
    let tx = crate::db::write(db).await?;
    ensure_supervised_town(&tx, input.town_id).await?;
    ensure_no_overlap(
        &tx,
        input.town_id,
        input.starts_on,
        input.ends_on,
        None,
        allowed,
    )
    .await?;
    let created = supervisor_assignment::ActiveModel {
        town_id: Set(input.town_id),
        supervisor_name: Set(name),
        university: Set(university),
        mobile: Set(mobile),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Changes to an assignment; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct AssignmentChanges {
    pub town_id: Option<i64>,
    pub supervisor_name: Option<String>,
    pub university: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<Option<NaiveDate>>,
}

/// Updates an assignment, within what the supervision rules in force allow.
pub async fn update_assignment(
    db: &DatabaseConnection,
    actor: &Actor,
    registry: &Arc<Registry>,
    id: i64,
    changes: AssignmentChanges,
) -> ServiceResult<supervisor_assignment::Model> {
    actor.require(Need::CityAdmin, "change supervisor assignments")?;
    let tx = crate::db::write(db).await?;
    let current = find::<supervisor_assignment::Entity>(&tx, "supervisor assignment", id).await?;
    let town_id = changes.town_id.unwrap_or(current.town_id);
    let starts_on = changes.starts_on.unwrap_or(current.starts_on);
    let ends_on = changes.ends_on.unwrap_or(current.ends_on);
    let mut model: supervisor_assignment::ActiveModel = current.into();
    if let Some(name) = changes.supervisor_name {
        model.supervisor_name = Set(text("supervisorName", &name, NAME_MAX)?);
    }
    if let Some(university) = changes.university {
        model.university = Set(opt_text("university", university.as_deref(), NAME_MAX)?);
    }
    if let Some(mobile) = changes.mobile {
        model.mobile = Set(mobile
            .as_deref()
            .map(|m| parse_mobile("mobile", m))
            .transpose()?
            .flatten());
    }
    check_period(starts_on, ends_on)?;
    let allowed = allowed_supervisors(registry, starts_on).await?;
    if changes.town_id.is_some() {
        ensure_supervised_town(&tx, town_id).await?;
    }
    ensure_no_overlap(&tx, town_id, starts_on, ends_on, Some(id), allowed).await?;
    model.town_id = Set(town_id);
    model.starts_on = Set(starts_on);
    model.ends_on = Set(ends_on);
    let updated = model.update(&tx).await?;
    tx.commit().await?;
    Ok(updated)
}

fn check_period(starts_on: NaiveDate, ends_on: Option<NaiveDate>) -> ServiceResult<()> {
    match ends_on {
        Some(end) if end < starts_on => Err(ServiceError::invalid(
            "endsOn",
            format!("the assignment must end on or after its start ({starts_on} → {end})"),
        )),
        _ => Ok(()),
    }
}

/// Supervisors are assigned to towns only.
async fn ensure_supervised_town(db: &impl ConnectionTrait, id: i64) -> ServiceResult<()> {
    unit_of_kind(
        db,
        "townId",
        id,
        OrgUnitKind::Town,
        "supervisors are assigned to towns",
    )
    .await?;
    Ok(())
}

/// How many supervisors a town may have at a time from `starts_on`, by the supervision
/// rules in force; refuses a start before the month they begin, or on a day no version of
/// the rules covers.
async fn allowed_supervisors(registry: &Arc<Registry>, starts_on: NaiveDate) -> ServiceResult<u64> {
    match rules::supervisors_on(registry, starts_on).await? {
        Some(rules) if starts_on < rules.from.first_day() => Err(ServiceError::invalid(
            "startsOn",
            format!(
                "supervisors are assigned from {} on, by the supervision rules in force; \
                 start on or after {}",
                rules.from,
                rules.from.first_day()
            ),
        )),
        Some(rules) => Ok(u64::from(rules.per_town)),
        None => Err(ServiceError::invalid(
            "startsOn",
            format!("no supervision rules are in effect on {starts_on}; assignments follow them"),
        )),
    }
}

/// Refuses a period in which the town already has `allowed` other assignments.
async fn ensure_no_overlap(
    db: &impl ConnectionTrait,
    town_id: i64,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    except: Option<i64>,
    allowed: u64,
) -> ServiceResult<()> {
    use supervisor_assignment::Column as C;
    let mut query = supervisor_assignment::Entity::find()
        .filter(C::TownId.eq(town_id))
        .filter(C::Id.ne(except.unwrap_or(-1)))
        .filter(
            Condition::any()
                .add(C::EndsOn.is_null())
                .add(C::EndsOn.gte(starts_on)),
        );
    if let Some(end) = ends_on {
        query = query.filter(C::StartsOn.lte(end));
    }
    let others = query.all(db).await?;
    match others.first() {
        Some(other) if others.len() as u64 >= allowed => Err(ServiceError::invalid(
            "startsOn",
            format!(
                "the town already has {allowed} supervisor(s) in this period, as many as the \
                 supervision rules allow: {} from {} to {} (assignment {}); end that assignment first",
                other.supervisor_name,
                other.starts_on,
                other.ends_on.map_or_else(|| "open end".to_owned(), |d| d.to_string()),
                other.id
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assignment_cannot_end_before_it_starts() {
        let start = NaiveDate::from_ymd_opt(2017, 12, 1).unwrap();
        assert!(check_period(start, None).is_ok());
        assert!(check_period(start, start.pred_opt()).is_err());
    }
}
