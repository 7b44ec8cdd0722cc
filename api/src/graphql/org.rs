//! Districts and org units: the structure every screen starts from.

use async_graphql::{
    ComplexObject, Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject, ID,
};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{district, enums::OrgUnitKind, org_unit};

use super::{
    activity::{Activity, ActivitiesOfOrgUnit},
    load_error,
    loaders::{ById, ChildrenOf},
    pagination::{paginate, OrderField, Page, PageArgs, SortDirection, SortKey},
    parse_id, parse_opt_id, undefined_to_option, ContextExt,
};
use crate::{foreign_key, service::org as service};

foreign_key!(
    /// Org units hanging directly under an org unit.
    UnitsUnderParent, org_unit, ParentId, parent_id
);
foreign_key!(
    /// Org units of a district.
    UnitsOfDistrict, org_unit, DistrictId, district_id
);

/// A supervision district (片区): a group of towns sharing a supervision meeting.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct District {
    /// Stable id.
    pub id: ID,
    /// Stable code, e.g. `D1`.
    pub code: String,
    /// Name in Chinese, e.g. 第一片区.
    pub name: String,
    /// Name in English.
    pub name_en: String,
    /// Display order.
    pub position: i32,
}

impl From<district::Model> for District {
    fn from(m: district::Model) -> Self {
        Self {
            id: m.id.into(),
            code: m.code,
            name: m.name,
            name_en: m.name_en,
            position: m.position,
        }
    }
}

#[ComplexObject]
impl District {
    /// The towns (镇街) of this district, by name.
    async fn towns(&self, ctx: &Context<'_>) -> Result<Vec<OrgUnit>> {
        self.units_of_kind(ctx, Some(OrgUnitKind::Town)).await
    }

    /// Every org unit of this district, or those of one kind (e.g. `CITY_UNIT`).
    async fn units(&self, ctx: &Context<'_>, kind: Option<OrgUnitKind>) -> Result<Vec<OrgUnit>> {
        self.units_of_kind(ctx, kind).await
    }
}

impl District {
    async fn units_of_kind(&self, ctx: &Context<'_>, kind: Option<OrgUnitKind>) -> Result<Vec<OrgUnit>> {
        let id = parse_id(&self.id)?;
        let mut units = ctx
            .loader::<ChildrenOf<UnitsOfDistrict>>()?
            .load_one(id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        units.retain(|u| kind.is_none_or(|k| u.kind == k));
        units.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(units.into_iter().map(OrgUnit).collect())
    }
}

/// An organisation unit (组织用户): the city, a town, a Youth Home, a school, an
/// enterprise or a city-level unit.
pub struct OrgUnit(pub org_unit::Model);

#[Object]
impl OrgUnit {
    /// Stable id.
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// Stable external code, e.g. `town-shijie`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name in Chinese.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Name in English (pinyin), when known.
    async fn name_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }
    /// What kind of unit this is.
    async fn kind(&self) -> OrgUnitKind {
        self.0.kind
    }
    /// Population coefficient (人口系数) of a town: its share of city-wide targets.
    async fn population_coefficient(&self) -> Option<f64> {
        self.0.population_coefficient
    }
    /// Whether a Youth Home is registered (在册).
    async fn registered(&self) -> bool {
        self.0.registered
    }
    /// Day the unit was founded.
    async fn founded_on(&self) -> Option<NaiveDate> {
        self.0.founded_on
    }
    /// When the unit was created in the system.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The unit this one hangs under.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        load_unit(ctx, self.0.parent_id).await
    }
    /// The town this unit belongs to (itself for a town).
    async fn town(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        load_unit(ctx, self.0.town_id).await
    }
    /// The supervision district.
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        let Some(id) = self.0.district_id else { return Ok(None) };
        let found = ctx.loader::<ById<district::Entity>>()?.load_one(id).await.map_err(load_error)?;
        Ok(found.map(District::from))
    }
    /// Units directly below this one, optionally of one kind, by name.
    async fn children(&self, ctx: &Context<'_>, kind: Option<OrgUnitKind>) -> Result<Vec<OrgUnit>> {
        let mut units = ctx
            .loader::<ChildrenOf<UnitsUnderParent>>()?
            .load_one(self.0.id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        units.retain(|u| kind.is_none_or(|k| u.kind == k));
        units.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(units.into_iter().map(OrgUnit).collect())
    }
    /// The Youth Homes (青年之家) directly below this unit.
    async fn youth_homes(&self, ctx: &Context<'_>) -> Result<Vec<OrgUnit>> {
        self.children(ctx, Some(OrgUnitKind::YouthHome)).await
    }
    /// Activities this unit published (heavyweight ones it applied for included), by
    /// start time. For long lists or filters use `Query.activities(filter: {orgUnitId})`.
    async fn activities(&self, ctx: &Context<'_>) -> Result<Vec<Activity>> {
        let mut list = ctx
            .loader::<ChildrenOf<ActivitiesOfOrgUnit>>()?
            .load_one(self.0.id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        list.sort_by_key(|a| (a.starts_at, a.id));
        Ok(list.into_iter().map(Activity).collect())
    }
}

/// Loads an optional org unit through the request's batch loader.
pub async fn load_unit(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<OrgUnit>> {
    let Some(id) = id else { return Ok(None) };
    let found = ctx.loader::<ById<org_unit::Entity>>()?.load_one(id).await.map_err(load_error)?;
    Ok(found.map(OrgUnit))
}

/// Which org units to list.
#[derive(InputObject, Default)]
pub struct OrgUnitFilter {
    /// Only units of this kind.
    kind: Option<OrgUnitKind>,
    /// Only units directly under this unit.
    parent_id: Option<ID>,
    /// Only units of this town (the town itself included).
    town_id: Option<ID>,
    /// Only units of this district.
    district_id: Option<ID>,
    /// Only registered (or unregistered) units.
    registered: Option<bool>,
    /// Text contained in the name, English name or code.
    search: Option<String>,
}

impl OrgUnitFilter {
    fn into_service(self) -> Result<service::OrgUnitFilter> {
        Ok(service::OrgUnitFilter {
            kind: self.kind,
            parent_id: parse_opt_id(&self.parent_id)?,
            town_id: parse_opt_id(&self.town_id)?,
            district_id: parse_opt_id(&self.district_id)?,
            registered: self.registered,
            search: self.search,
        })
    }
}

/// What org-unit lists can be sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum OrgUnitOrderField {
    /// Chinese name.
    #[default]
    Name,
    /// Stable code.
    Code,
    /// Creation time.
    CreatedAt,
}

impl OrderField<org_unit::Entity> for OrgUnitOrderField {
    fn column(self) -> org_unit::Column {
        match self {
            Self::Name => org_unit::Column::Name,
            Self::Code => org_unit::Column::Code,
            Self::CreatedAt => org_unit::Column::CreatedAt,
        }
    }
    fn key(self, m: &org_unit::Model) -> SortKey {
        match self {
            Self::Name => SortKey::Text(m.name.clone()),
            Self::Code => SortKey::Text(m.code.clone()),
            Self::CreatedAt => SortKey::Time(m.created_at),
        }
    }
}

/// Reading districts and org units.
#[derive(Default)]
pub struct OrgQuery;

#[Object]
impl OrgQuery {
    /// All supervision districts, in display order.
    async fn districts(&self, ctx: &Context<'_>) -> Result<Vec<District>> {
        let app = ctx.app()?;
        let list = service::districts(&app.db, &app.actor).await?;
        Ok(list.into_iter().map(District::from).collect())
    }

    /// One district by id; null when there is none.
    async fn district(&self, ctx: &Context<'_>, id: ID) -> Result<Option<District>> {
        let found = ctx.loader::<ById<district::Entity>>()?.load_one(parse_id(&id)?).await.map_err(load_error)?;
        Ok(found.map(District::from))
    }

    /// One org unit by id or by code; null when there is none.
    async fn org_unit(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Option<OrgUnit>> {
        match (id, code) {
            (Some(id), None) => load_unit(ctx, Some(parse_id(&id)?)).await,
            (None, Some(code)) => {
                let app = ctx.app()?;
                Ok(service::org_unit_by_code(&app.db, &app.actor, &code).await?.map(OrgUnit))
            }
            _ => Err(crate::error::bad_input("pass exactly one of `id` and `code`")),
        }
    }

    /// Org units, filtered and sorted, as a cursor connection.
    #[allow(clippy::too_many_arguments)]
    async fn org_units(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrgUnitFilter>,
        #[graphql(default)] order_by: OrgUnitOrderField,
        #[graphql(default)] direction: SortDirection,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Page<OrgUnit>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default().into_service()?;
        let select = service::org_units(&app.actor, &filter);
        paginate(&app.db, select, order_by, direction, PageArgs::new(after, before, first, last), OrgUnit).await
    }
}

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
    code: Option<String>,
    name: Option<String>,
    name_en: Option<String>,
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
    parent_id: Option<ID>,
    /// District of a town or city-level unit; units below a town take their town's.
    district_id: Option<ID>,
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
    code: Option<String>,
    name: Option<String>,
    name_en: MaybeUndefined<String>,
    /// Move the unit; its town and district (and its units') follow.
    parent_id: MaybeUndefined<ID>,
    district_id: MaybeUndefined<ID>,
    population_coefficient: MaybeUndefined<f64>,
    registered: Option<bool>,
    founded_on: MaybeUndefined<NaiveDate>,
}

/// Changing districts and org units.
#[derive(Default)]
pub struct OrgMutation;

#[Object]
impl OrgMutation {
    /// Creates a supervision district.
    async fn create_district(&self, ctx: &Context<'_>, input: CreateDistrictInput) -> Result<District> {
        let app = ctx.app()?;
        let new = service::NewDistrict {
            code: input.code,
            name: input.name,
            name_en: input.name_en,
            position: input.position,
        };
        Ok(service::create_district(&app.db, &app.actor, new).await?.into())
    }

    /// Updates a district.
    async fn update_district(&self, ctx: &Context<'_>, id: ID, input: UpdateDistrictInput) -> Result<District> {
        let app = ctx.app()?;
        let changes = service::DistrictChanges {
            code: input.code,
            name: input.name,
            name_en: input.name_en,
            position: input.position,
        };
        Ok(service::update_district(&app.db, &app.actor, parse_id(&id)?, changes).await?.into())
    }

    /// Creates an org unit (a town, a Youth Home, …) in its place in the tree.
    async fn create_org_unit(&self, ctx: &Context<'_>, input: CreateOrgUnitInput) -> Result<OrgUnit> {
        let app = ctx.app()?;
        let new = service::NewOrgUnit {
            code: input.code,
            name: input.name,
            name_en: input.name_en,
            kind: input.kind,
            parent_id: parse_opt_id(&input.parent_id)?,
            district_id: parse_opt_id(&input.district_id)?,
            population_coefficient: input.population_coefficient,
            registered: input.registered,
            founded_on: input.founded_on,
        };
        Ok(OrgUnit(service::create_org_unit(&app.db, &app.actor, new).await?))
    }

    /// Updates an org unit; its kind cannot change.
    async fn update_org_unit(&self, ctx: &Context<'_>, id: ID, input: UpdateOrgUnitInput) -> Result<OrgUnit> {
        let app = ctx.app()?;
        let changes = service::OrgUnitChanges {
            code: input.code,
            name: input.name,
            name_en: undefined_to_option(input.name_en),
            parent_id: undefined_to_option(input.parent_id).map(|p| parse_opt_id(&p)).transpose()?,
            district_id: undefined_to_option(input.district_id).map(|d| parse_opt_id(&d)).transpose()?,
            population_coefficient: undefined_to_option(input.population_coefficient),
            registered: input.registered,
            founded_on: undefined_to_option(input.founded_on),
        };
        Ok(OrgUnit(service::update_org_unit(&app.db, &app.actor, parse_id(&id)?, changes).await?))
    }
}
