//! Changing districts and org units.

use crate::Id;
use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result};
use chrono::NaiveDate;
use entities::enums::OrgUnitKind;

use super::{District, OrgUnit};
use crate::{undefined_id, undefined_to_option, ContextExt};
use qii_domain::service::org as service;

/// A new district.
#[derive(InputObject)]
pub struct CreateDistrictInput {
    /// Stable code: lower-case letters, digits and `-`.
    code: String,
    /// Name in Chinese.
    name: String,
    /// Name in English.
    name_en: String,
    /// Display order (default 0).
    position: Option<i32>,
}

/// Changes to a district; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateDistrictInput {
    /// New stable code: lower-case letters, digits and `-`.
    code: Option<String>,
    /// New name in Chinese.
    name: Option<String>,
    /// New name in English.
    name_en: Option<String>,
    /// New display order.
    position: Option<i32>,
}

/// A new org unit.
#[derive(InputObject)]
pub struct CreateOrgUnitInput {
    /// Stable code: lower-case letters, digits and `-`, e.g. `home-shijie-2`.
    code: String,
    /// Name in Chinese.
    name: String,
    /// Name in English.
    name_en: Option<String>,
    /// Kind of unit; it decides where the unit may hang.
    kind: OrgUnitKind,
    /// The unit above: the city for towns and city-level units, a town for Youth Homes.
    parent_id: Option<Id>,
    /// District of a town or city-level unit; units below a town take their town's.
    district_id: Option<Id>,
    /// Population coefficient of a town.
    population_coefficient: Option<f64>,
    /// Registered (在册) Youth Home; default false.
    registered: Option<bool>,
    /// Day it was founded.
    founded_on: Option<NaiveDate>,
}

/// Changes to an org unit; omitted fields stay, `null` clears an optional field.
#[derive(InputObject)]
pub struct UpdateOrgUnitInput {
    /// New stable code: lower-case letters, digits and `-`.
    code: Option<String>,
    /// New name in Chinese.
    name: Option<String>,
    /// New name in English; `null` clears it.
    name_en: MaybeUndefined<String>,
    /// Move the unit; its town and district (and its units') follow.
    parent_id: MaybeUndefined<Id>,
    /// The district of a town or city-level unit; `null` clears it. Units below a town take
    /// their town's.
    district_id: MaybeUndefined<Id>,
    /// Population coefficient (人口系数) of a town: its share of city-wide targets; `null`
    /// clears it.
    population_coefficient: MaybeUndefined<f64>,
    /// Whether a Youth Home is registered (在册).
    registered: Option<bool>,
    /// Day the unit was founded; `null` clears it.
    founded_on: MaybeUndefined<NaiveDate>,
}

/// Changing districts and org units.
#[derive(Default)]
pub struct OrgMutation;

#[Object]
impl OrgMutation {
    /// Creates a supervision district.
    async fn create_district(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The district to create.")] input: CreateDistrictInput,
    ) -> Result<District> {
        let app = ctx.app()?;
        let new = service::NewDistrict {
            code: input.code,
            name: input.name,
            name_en: input.name_en,
            position: input.position,
        };
        Ok(service::create_district(&app.db, &app.actor, new)
            .await?
            .into())
    }

    /// Updates a district.
    async fn update_district(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The district's id.")] id: Id,
        #[graphql(desc = "The changes; fields left out stay as they are.")]
        input: UpdateDistrictInput,
    ) -> Result<District> {
        let app = ctx.app()?;
        let changes = service::DistrictChanges {
            code: input.code,
            name: input.name,
            name_en: input.name_en,
            position: input.position,
        };
        Ok(service::update_district(&app.db, &app.actor, id.0, changes)
            .await?
            .into())
    }

    /// Creates an org unit (a town, a Youth Home, …) in its place in the tree.
    async fn create_org_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The org unit to create.")] input: CreateOrgUnitInput,
    ) -> Result<OrgUnit> {
        let app = ctx.app()?;
        let new = service::NewOrgUnit {
            code: input.code,
            name: input.name,
            name_en: input.name_en,
            kind: input.kind,
            parent_id: input.parent_id.map(Id::get),
            district_id: input.district_id.map(Id::get),
            population_coefficient: input.population_coefficient,
            registered: input.registered,
            founded_on: input.founded_on,
        };
        Ok(OrgUnit(
            service::create_org_unit(&app.db, &app.actor, new).await?,
        ))
    }

    /// Updates an org unit; its kind cannot change.
    async fn update_org_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The org unit's id.")] id: Id,
        #[graphql(
            desc = "The changes; fields left out stay as they are, `null` clears an optional field."
        )]
        input: UpdateOrgUnitInput,
    ) -> Result<OrgUnit> {
        let app = ctx.app()?;
        let changes = service::OrgUnitChanges {
            code: input.code,
            name: input.name,
            name_en: undefined_to_option(input.name_en),
            parent_id: undefined_id(input.parent_id),
            district_id: undefined_id(input.district_id),
            population_coefficient: undefined_to_option(input.population_coefficient),
            registered: input.registered,
            founded_on: undefined_to_option(input.founded_on),
        };
        Ok(OrgUnit(
            service::update_org_unit(&app.db, &app.actor, id.0, changes).await?,
        ))
    }
}
