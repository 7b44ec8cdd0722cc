//! Districts and org units: the structure every screen starts from.

use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{
    district,
    enums::{OrgUnitKind, ServiceRequestStatus},
    org_unit,
};

use super::{
    activity::{ActivitiesOfOrgUnit, Activity},
    children_of, count_of,
    expert::Expert,
    load_by_id,
    operations::Target,
    pagination::{paginate, OrderField, Page, PageArgs, SortDirection, SortKey},
    parse_id, parse_opt_id,
    service_request::ServiceRequest,
    supervision::SupervisorAssignment,
    ContextExt,
};
use crate::{foreign_key, service::org as service};

mod mutation;

pub use mutation::OrgMutation;

foreign_key!(
    /// Org units hanging directly under an org unit.
    UnitsUnderParent, org_unit, ParentId, parent_id
);
foreign_key!(
    /// Org units of a district.
    UnitsOfDistrict, org_unit, DistrictId, district_id
);
foreign_key!(
    /// Experts recruited by an org unit.
    ExpertsOfOrgUnit, expert, RecruitedById, recruited_by_id
);
foreign_key!(
    /// Members registered under a town.
    MembersOfTown, member, HomeTownId, home_town_id
);
foreign_key!(
    /// Service requests made to a Youth Home.
    RequestsOfYouthHome, service_request, YouthHomeId, youth_home_id
);
foreign_key!(
    /// Targets set for an org unit.
    TargetsOfUnit, target, OrgUnitId, org_unit_id
);
foreign_key!(
    /// Supervisors assigned to a town.
    SupervisorsOfTown, supervisor_assignment, TownId, town_id
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
    /// The towns (镇街) of this district, in pinyin order.
    async fn towns(&self, ctx: &Context<'_>) -> Result<Vec<OrgUnit>> {
        self.units_of_kind(ctx, Some(OrgUnitKind::Town)).await
    }

    /// Every org unit of this district, or those of one kind (e.g. `CITY_UNIT`), in pinyin
    /// order.
    async fn units(&self, ctx: &Context<'_>, kind: Option<OrgUnitKind>) -> Result<Vec<OrgUnit>> {
        self.units_of_kind(ctx, kind).await
    }
}

impl District {
    async fn units_of_kind(
        &self,
        ctx: &Context<'_>,
        kind: Option<OrgUnitKind>,
    ) -> Result<Vec<OrgUnit>> {
        let id = parse_id(&self.id)?;
        let mut units = children_of::<UnitsOfDistrict>(ctx, id).await?;
        units.retain(|u| kind.is_none_or(|k| u.kind == k));
        units.sort_by(|a, b| pinyin_order(a).cmp(&pinyin_order(b)));
        Ok(units.into_iter().map(OrgUnit).collect())
    }
}

/// An organisation unit (组织用户): the city, a town, a Youth Home, a school, an
/// enterprise or a city-level unit.
pub struct OrgUnit(pub org_unit::Model);

/// An organisation unit (组织用户): the city, a town, a Youth Home, a school, an
/// enterprise or a city-level unit.
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
        let Some(id) = self.0.district_id else {
            return Ok(None);
        };
        let found = load_by_id::<district::Entity>(ctx, id).await?;
        Ok(found.map(District::from))
    }
    /// Units directly below this one, optionally of one kind, in pinyin order.
    async fn children(&self, ctx: &Context<'_>, kind: Option<OrgUnitKind>) -> Result<Vec<OrgUnit>> {
        let mut units = children_of::<UnitsUnderParent>(ctx, self.0.id).await?;
        units.retain(|u| kind.is_none_or(|k| u.kind == k));
        units.sort_by(|a, b| pinyin_order(a).cmp(&pinyin_order(b)));
        Ok(units.into_iter().map(OrgUnit).collect())
    }
    /// The Youth Homes (青年之家) directly below this unit.
    async fn youth_homes(&self, ctx: &Context<'_>) -> Result<Vec<OrgUnit>> {
        self.children(ctx, Some(OrgUnitKind::YouthHome)).await
    }
    /// Experts (专家) this unit recruited, by join date.
    async fn experts(&self, ctx: &Context<'_>) -> Result<Vec<Expert>> {
        let mut list = children_of::<ExpertsOfOrgUnit>(ctx, self.0.id).await?;
        list.sort_by_key(|e| (e.joined_at, e.id));
        Ok(list.into_iter().map(Expert).collect())
    }
    /// Number of members registered under this town (zero for other kinds).
    async fn member_count(&self, ctx: &Context<'_>) -> Result<i64> {
        count_of::<MembersOfTown>(ctx, self.0.id).await
    }
    /// Service requests made to this Youth Home, optionally only those in the given
    /// statuses (e.g. the open ones), oldest first.
    async fn service_requests(
        &self,
        ctx: &Context<'_>,
        statuses: Option<Vec<ServiceRequestStatus>>,
    ) -> Result<Vec<ServiceRequest>> {
        // Private to the units that reach this one; empty for everyone else.
        if !ctx.app()?.actor.reach().covers(self.0.id, self.0.town_id) {
            return Ok(vec![]);
        }
        let mut list = children_of::<RequestsOfYouthHome>(ctx, self.0.id).await?;
        if let Some(statuses) = statuses {
            list.retain(|r| statuses.contains(&r.status));
        }
        list.sort_by_key(|r| (r.submitted_at, r.id));
        Ok(list.into_iter().map(ServiceRequest).collect())
    }
    /// Targets administrators set for this unit, optionally for one period (e.g.
    /// `2017-10`): overrides of the targets scripts' values. `targetsInEffect` gives
    /// every target the unit has for a period, whichever its source.
    async fn targets(&self, ctx: &Context<'_>, period: Option<String>) -> Result<Vec<Target>> {
        if !ctx.app()?.actor.reach().covers(self.0.id, self.0.town_id) {
            return Ok(vec![]);
        }
        let mut list = children_of::<TargetsOfUnit>(ctx, self.0.id).await?;
        if let Some(period) = period {
            list.retain(|t| t.period == period.trim());
        }
        list.sort_by(|a, b| (&a.period, &a.metric).cmp(&(&b.period, &b.metric)));
        Ok(list.into_iter().map(Target).collect())
    }
    /// Supervisors (督导专员) assigned to this town, earliest first.
    async fn supervisors(&self, ctx: &Context<'_>) -> Result<Vec<SupervisorAssignment>> {
        if !ctx.app()?.actor.reach().covers_town(self.0.id) {
            return Ok(vec![]);
        }
        let mut list = children_of::<SupervisorsOfTown>(ctx, self.0.id).await?;
        list.sort_by_key(|a| (a.starts_on, a.id));
        Ok(list.into_iter().map(SupervisorAssignment).collect())
    }
    /// Activities this unit published (heavyweight ones it applied for included), by
    /// start time. For long lists or filters use `Query.activities(filter: {orgUnitId})`.
    async fn activities(&self, ctx: &Context<'_>) -> Result<Vec<Activity>> {
        let mut list = children_of::<ActivitiesOfOrgUnit>(ctx, self.0.id).await?;
        list.sort_by_key(|a| (a.starts_at, a.id));
        Ok(list.into_iter().map(Activity).collect())
    }
}

/// Chinese lists are read in pinyin order: sort by the English (pinyin) name when known.
fn pinyin_order(unit: &org_unit::Model) -> (String, &str) {
    let key = unit.name_en.as_deref().unwrap_or(&unit.name).to_lowercase();
    (key, &unit.name)
}

/// Loads an optional org unit through the request's batch loader.
/// Whether the caller reaches the unit `id` (its private data, its people's details).
pub async fn reaches(ctx: &Context<'_>, id: i64) -> Result<bool> {
    let reach = ctx.app()?.actor.reach();
    if reach == crate::authz::Reach::All {
        return Ok(true);
    }
    let town = load_by_id::<org_unit::Entity>(ctx, id)
        .await?
        .and_then(|unit| unit.town_id);
    Ok(reach.covers(id, town))
}

pub async fn load_unit(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<OrgUnit>> {
    let Some(id) = id else { return Ok(None) };
    let found = load_by_id::<org_unit::Entity>(ctx, id).await?;
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
        let found = load_by_id::<district::Entity>(ctx, parse_id(&id)?).await?;
        Ok(found.map(District::from))
    }

    /// One org unit by id or by code; null when there is none.
    async fn org_unit(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        code: Option<String>,
    ) -> Result<Option<OrgUnit>> {
        match (id, code) {
            (Some(id), None) => load_unit(ctx, Some(parse_id(&id)?)).await,
            (None, Some(code)) => {
                let app = ctx.app()?;
                Ok(service::org_unit_by_code(&app.db, &app.actor, &code)
                    .await?
                    .map(OrgUnit))
            }
            _ => Err(crate::error::bad_input(
                "pass exactly one of `id` and `code`",
            )),
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
        paginate(
            &app.db,
            select,
            order_by,
            direction,
            PageArgs::new(after, before, first, last),
            OrgUnit,
        )
        .await
    }
}
