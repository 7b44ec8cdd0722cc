//! Districts and the org-unit tree: city → towns → Youth Homes, schools, enterprises.
//!
//! The tree's invariants live here: a town hangs under the city and belongs to a
//! district; a Youth Home hangs under a town and inherits its town and district.

use crate::authz;
use crate::authz::Need;
use crate::id::Id;
use crate::identity::Role;
use crate::text::Search;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use chrono::{NaiveDate, Utc};
use entities::{district, enums::OrgUnitKind, org_unit};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Select,
};

use super::{ensure_unique, find, opt_text, referenced, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};

/// Longest name accepted for districts and org units.
const NAME_MAX: usize = 100;

/// Which org units to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct OrgUnitFilter {
    /// Only units of this kind.
    pub kind: Option<OrgUnitKind>,
    /// Only units directly under this unit.
    pub parent_id: Option<Id>,
    /// Only units of this town (the town itself included).
    pub town_id: Option<Id>,
    /// Only units of this district.
    pub district_id: Option<Id>,
    /// Only registered (or unregistered) units.
    pub registered: Option<bool>,
    /// Text contained in the name, English name or code.
    pub search: Option<Search>,
}

/// The districts a caller may list (all of them: they are public).
pub fn districts(_actor: &Actor) -> Select<district::Entity> {
    district::Entity::find()
}

/// The org units a caller may list, filtered.
pub fn org_units(_actor: &Actor, filter: &OrgUnitFilter) -> Select<org_unit::Entity> {
    use org_unit::Column as C;
    let cond = Filters::new()
        .eq(C::Kind, filter.kind)
        .eq(C::ParentId, filter.parent_id)
        .eq(C::TownId, filter.town_id)
        .eq(C::DistrictId, filter.district_id)
        .eq(C::Registered, filter.registered)
        .search(&[C::Name, C::NameEn, C::Code], filter.search.as_deref());
    org_unit::Entity::find().filter(cond.build())
}

/// The ids of the org units a filter keeps, in one statement.
pub async fn unit_ids(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &OrgUnitFilter,
) -> ServiceResult<std::collections::HashSet<i64>> {
    let ids: Vec<i64> = org_units(actor, filter)
        .select_only()
        .column(org_unit::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Looks an org unit up by its stable code.
pub async fn org_unit_by_code(
    db: &DatabaseConnection,
    _actor: &Actor,
    code: &str,
) -> ServiceResult<Option<org_unit::Model>> {
    Ok(org_unit::Entity::find()
        .filter(org_unit::Column::Code.eq(code.trim()))
        .one(db)
        .await?)
}

/// A new district.
#[derive(Debug, Clone)]
pub struct NewDistrict {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub position: Option<i32>,
}

/// Creates a district.
pub async fn create_district(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewDistrict,
) -> ServiceResult<district::Model> {
    actor.require(Need::CityAdmin, "create districts")?;
    let code = parse_code(&input.code)?;
    ensure_unique::<district::Entity>(db, district::Column::Code, &code, None, "code").await?;
    let model = district::ActiveModel {
        code: Set(code),
        name: Set(text("name", &input.name, NAME_MAX)?),
        name_en: Set(text("nameEn", &input.name_en, NAME_MAX)?),
        position: Set(input.position.unwrap_or(0)),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Changes to a district; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DistrictChanges {
    pub code: Option<String>,
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub position: Option<i32>,
}

/// Updates a district.
pub async fn update_district(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: DistrictChanges,
) -> ServiceResult<district::Model> {
    actor.require(Need::CityAdmin, "change districts")?;
    let current = find::<district::Entity>(db, "district", id).await?;
    let mut model: district::ActiveModel = current.into();
    if let Some(code) = changes.code {
        let code = parse_code(&code)?;
        ensure_unique::<district::Entity>(db, district::Column::Code, &code, Some(id), "code")
            .await?;
        model.code = Set(code);
    }
    if let Some(name) = changes.name {
        model.name = Set(text("name", &name, NAME_MAX)?);
    }
    if let Some(name_en) = changes.name_en {
        model.name_en = Set(text("nameEn", &name_en, NAME_MAX)?);
    }
    if let Some(position) = changes.position {
        model.position = Set(position);
    }
    Ok(model.update(db).await?)
}

/// A new org unit.
#[derive(Debug, Clone)]
pub struct NewOrgUnit {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub kind: OrgUnitKind,
    pub parent_id: Option<i64>,
    pub district_id: Option<i64>,
    pub population_coefficient: Option<f64>,
    pub registered: Option<bool>,
    pub founded_on: Option<NaiveDate>,
}

/// Creates an org unit in its place in the tree.
pub async fn create_org_unit(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewOrgUnit,
) -> ServiceResult<org_unit::Model> {
    // A town founds its own Youth Homes; everything else is the city's.
    match (&actor.role, input.kind, input.parent_id) {
        (Role::TownAdmin(town), OrgUnitKind::YouthHome, Some(parent)) if *town == parent => {}
        _ => actor.require(
            Need::CityAdmin,
            "create org units (town administrators: Youth Homes of their town)",
        )?,
    }
    let code = parse_code(&input.code)?;
    let name = text("name", &input.name, NAME_MAX)?;
    let name_en = opt_text("nameEn", input.name_en.as_deref(), NAME_MAX)?;
    check_coefficient(input.kind, input.population_coefficient)?;
    let tx = crate::db::write(db).await?;
    ensure_unique::<org_unit::Entity>(&tx, org_unit::Column::Code, &code, None, "code").await?;
    let place = place(&tx, input.kind, input.parent_id, input.district_id).await?;
    let model = org_unit::ActiveModel {
        code: Set(code),
        name: Set(name),
        name_en: Set(name_en),
        kind: Set(input.kind),
        parent_id: Set(input.parent_id),
        town_id: Set(place.town_id),
        district_id: Set(place.district_id),
        population_coefficient: Set(input.population_coefficient),
        registered: Set(input.registered.unwrap_or(false)),
        founded_on: Set(input.founded_on),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let mut created = model.insert(&tx).await?;
    if input.kind == OrgUnitKind::Town {
        // A town is its own town; its id is known only after the insert.
        let town_id = created.id;
        let mut own: org_unit::ActiveModel = created.into();
        own.town_id = Set(Some(town_id));
        created = own.update(&tx).await?;
    }
    tx.commit().await?;
    Ok(created)
}

/// Changes to an org unit; `None` leaves a field as it is, `Some(None)` clears it.
/// The kind cannot change: a town cannot become a Youth Home without breaking its tree.
#[derive(Debug, Clone, Default)]
pub struct OrgUnitChanges {
    pub code: Option<String>,
    pub name: Option<String>,
    pub name_en: Option<Option<String>>,
    pub parent_id: Option<Option<i64>>,
    pub district_id: Option<Option<i64>>,
    pub population_coefficient: Option<Option<f64>>,
    pub registered: Option<bool>,
    pub founded_on: Option<Option<NaiveDate>>,
}

/// Updates an org unit; moving it re-derives the town and district of it and its subtree.
pub async fn update_org_unit(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: OrgUnitChanges,
) -> ServiceResult<org_unit::Model> {
    let moves = changes.parent_id.is_some()
        || changes.district_id.is_some()
        || changes.population_coefficient.is_some()
        || changes.code.is_some();
    if moves {
        actor.require(
            Need::CityAdmin,
            "move units, recode them or set population coefficients",
        )?;
    }
    let tx = crate::db::write(db).await?;
    let current = find::<org_unit::Entity>(&tx, "org unit", id).await?;
    authz::require_unit(&tx, actor, id, "change the unit").await?;
    let kind = current.kind;
    let mut model: org_unit::ActiveModel = current.clone().into();
    if let Some(code) = changes.code {
        let code = parse_code(&code)?;
        ensure_unique::<org_unit::Entity>(&tx, org_unit::Column::Code, &code, Some(id), "code")
            .await?;
        model.code = Set(code);
    }
    if let Some(name) = changes.name {
        model.name = Set(text("name", &name, NAME_MAX)?);
    }
    if let Some(name_en) = changes.name_en {
        model.name_en = Set(opt_text("nameEn", name_en.as_deref(), NAME_MAX)?);
    }
    if let Some(coefficient) = changes.population_coefficient {
        check_coefficient(kind, coefficient)?;
        model.population_coefficient = Set(coefficient);
    }
    if let Some(registered) = changes.registered {
        model.registered = Set(registered);
    }
    if let Some(founded_on) = changes.founded_on {
        model.founded_on = Set(founded_on);
    }
    let moved = changes.parent_id.is_some() || changes.district_id.is_some();
    if moved {
        let parent_id = changes.parent_id.unwrap_or(current.parent_id);
        let district_id = changes.district_id.unwrap_or(current.district_id);
        if let Some(parent) = parent_id {
            ensure_not_below(&tx, parent, id).await?;
        }
        let mut place = place(&tx, kind, parent_id, district_id).await?;
        if kind == OrgUnitKind::Town {
            place.town_id = Some(id);
        }
        model.parent_id = Set(parent_id);
        model.town_id = Set(place.town_id);
        model.district_id = Set(place.district_id);
    }
    let updated = model.update(&tx).await?;
    if moved {
        // Units below carry their town's district (and, below a non-town, its town).
        let below_town = org_unit::Entity::update_many()
            .col_expr(
                org_unit::Column::DistrictId,
                Expr::value(updated.district_id),
            )
            .filter(org_unit::Column::TownId.eq(updated.town_id.unwrap_or(-1)))
            .filter(org_unit::Column::Id.ne(id));
        if kind == OrgUnitKind::Town {
            below_town.exec(&tx).await?;
        } else {
            org_unit::Entity::update_many()
                .col_expr(org_unit::Column::TownId, Expr::value(updated.town_id))
                .col_expr(
                    org_unit::Column::DistrictId,
                    Expr::value(updated.district_id),
                )
                .filter(org_unit::Column::ParentId.eq(id))
                .exec(&tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(updated)
}

/// Where a unit sits: the town and district it belongs to.
struct Place {
    town_id: Option<i64>,
    district_id: Option<i64>,
}

/// Checks that a unit of `kind` may hang under `parent_id` in `district_id`, and
/// derives its town and district.
async fn place(
    db: &impl ConnectionTrait,
    kind: OrgUnitKind,
    parent_id: Option<i64>,
    district_id: Option<i64>,
) -> ServiceResult<Place> {
    let parent = match parent_id {
        Some(pid) => {
            Some(referenced::<org_unit::Entity>(db, "parentId", "parent org unit", pid).await?)
        }
        None => None,
    };
    if let Some(did) = district_id {
        referenced::<district::Entity>(db, "districtId", "district", did).await?;
    }
    let parent_kind = parent.as_ref().map(|p| p.kind);
    use OrgUnitKind::*;
    match kind {
        City => {
            if parent.is_some() {
                return Err(ServiceError::invalid(
                    "parentId",
                    "the city is the root: it has no parent",
                ));
            }
            Ok(Place {
                town_id: None,
                district_id: None,
            })
        }
        Town | CityUnit => {
            if parent_kind != Some(City) {
                return Err(ServiceError::invalid(
                    "parentId",
                    format!("a {} must hang under the city unit", kind_name(kind)),
                ));
            }
            if kind == Town && district_id.is_none() {
                return Err(ServiceError::invalid(
                    "districtId",
                    "a town must belong to a district",
                ));
            }
            Ok(Place {
                town_id: None,
                district_id,
            })
        }
        YouthHome | School | Enterprise => {
            let parent = match parent {
                Some(p) if p.town_id.is_some() => p,
                _ => {
                    return Err(ServiceError::invalid(
                        "parentId",
                        format!(
                            "a {} must hang under a town or a unit of a town",
                            kind_name(kind)
                        ),
                    ))
                }
            };
            if district_id.is_some() && district_id != parent.district_id {
                return Err(ServiceError::invalid(
                    "districtId",
                    "a unit below a town belongs to its town's district; leave districtId out",
                ));
            }
            Ok(Place {
                town_id: parent.town_id,
                district_id: parent.district_id,
            })
        }
    }
}

/// Refuses to move a unit under itself or one of its descendants.
async fn ensure_not_below(
    db: &impl ConnectionTrait,
    new_parent: i64,
    id: i64,
) -> ServiceResult<()> {
    let mut cursor = Some(new_parent);
    // The tree is shallow (city → town → home); the bound only guards corrupt data.
    for _ in 0..64 {
        match cursor {
            Some(c) if c == id => {
                return Err(ServiceError::invalid(
                    "parentId",
                    "an org unit cannot be moved under itself or one of its own units",
                ))
            }
            Some(c) => cursor = find::<org_unit::Entity>(db, "org unit", c).await?.parent_id,
            None => return Ok(()),
        }
    }
    Ok(())
}

fn kind_name(kind: OrgUnitKind) -> &'static str {
    match kind {
        OrgUnitKind::City => "city",
        OrgUnitKind::Town => "town",
        OrgUnitKind::YouthHome => "Youth Home",
        OrgUnitKind::School => "school",
        OrgUnitKind::Enterprise => "enterprise",
        OrgUnitKind::CityUnit => "city-level unit",
    }
}

fn check_coefficient(kind: OrgUnitKind, coefficient: Option<f64>) -> ServiceResult<()> {
    match coefficient {
        None => Ok(()),
        Some(_) if kind != OrgUnitKind::Town => Err(ServiceError::invalid(
            "populationCoefficient",
            "only towns have a population coefficient",
        )),
        Some(c) if !c.is_finite() || c < 0.0 => Err(ServiceError::invalid(
            "populationCoefficient",
            format!("the population coefficient must be zero or more, got {c}"),
        )),
        Some(_) => Ok(()),
    }
}

/// Codes are stable keys for partners: lower-case letters, digits and `-`, 2–64 long.
fn parse_code(code: &str) -> ServiceResult<String> {
    let code = code.trim();
    let ok = (2..=64).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(code.to_owned())
    } else {
        Err(ServiceError::invalid(
            "code",
            format!("`{code}` is not a valid code: use 2–64 lower-case letters, digits and `-`"),
        ))
    }
}

/// The org unit an input field refers to, which must be of `kind`; BAD_USER_INPUT
/// naming the field otherwise, with `purpose` saying why.
pub async fn unit_of_kind(
    db: &impl ConnectionTrait,
    field: &'static str,
    id: i64,
    kind: OrgUnitKind,
    purpose: &str,
) -> ServiceResult<org_unit::Model> {
    let unit = referenced::<org_unit::Entity>(db, field, "org unit", id).await?;
    if unit.kind != kind {
        return Err(ServiceError::invalid(
            field,
            format!("{} is not a {}; {purpose}", unit.name, kind_name(kind)),
        ));
    }
    Ok(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_lower_case_slugs() {
        assert!(parse_code("town-shijie").is_ok());
        assert!(parse_code("Town Shijie").is_err());
        assert!(parse_code("x").is_err());
    }

    #[test]
    fn only_towns_carry_a_population_coefficient() {
        assert!(check_coefficient(OrgUnitKind::Town, Some(0.03)).is_ok());
        assert!(check_coefficient(OrgUnitKind::YouthHome, Some(0.03)).is_err());
        assert!(check_coefficient(OrgUnitKind::Town, Some(-1.0)).is_err());
    }
}
