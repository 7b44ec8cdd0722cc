//! Districts and org units: the structure every screen starts from.

use crate::Id;
use async_graphql::{ComplexObject, Context, Enum, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{district, enums::OrgUnitKind, org_unit};

use super::{
    activity::{activities_of_unit, ActivityOrderField},
    batch::related,
    count_of,
    expert::ExpertOrderField,
    load_by_id,
    loaders::ForeignKey,
    nodes::{load_unit, unit_via, Activity, District, Expert, OrgUnit},
    operations::{Target, TargetOrderField},
    pagination::{cost, nested, paginate, OrderField, Page, PageArgs, SortDirection, SortKey},
    service_request::{ServiceRequest, ServiceRequestOrderField},
    supervision::{SupervisorAssignment, SupervisorAssignmentOrderField},
    ContextExt,
};
use crate::foreign_key;
use qii_domain::service::{
    activity::ActivityFilter, expert::ExpertFilter, operations::TargetFilter, org as service,
    service_request::ServiceRequestFilter, supervision::AssignmentFilter,
};

mod mutation;

pub use mutation::OrgMutation;

foreign_key!(
    /// Org units hanging directly under an org unit.
    UnitsUnderParent, org_unit, ParentId, parent_id, org_unit
);
foreign_key!(
    /// Org units of a district.
    UnitsOfDistrict, org_unit, DistrictId, district_id, district
);
foreign_key!(
    /// Experts recruited by an org unit.
    ExpertsOfOrgUnit, expert, RecruitedById, recruited_by_id, org_unit
);
foreign_key!(
    /// Members registered under a town.
    MembersOfTown, member, HomeTownId, home_town_id, org_unit
);
foreign_key!(
    /// Service requests made to a Youth Home.
    RequestsOfYouthHome, service_request, YouthHomeId, youth_home_id, org_unit
);
foreign_key!(
    /// Targets set for an org unit.
    TargetsOfUnit, target, OrgUnitId, org_unit_id, org_unit
);
foreign_key!(
    /// Supervisors assigned to a town.
    SupervisorsOfTown, supervisor_assignment, TownId, town_id, org_unit
);

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
    /// The towns (镇街) of this district, by name unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn towns(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<service::OrgUnitFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: OrgUnitOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<OrgUnit>> {
        let mut filter = filter.unwrap_or_default();
        filter.kind = Some(OrgUnitKind::Town);
        units_page::<district::Entity, UnitsOfDistrict>(
            ctx,
            self.id.0,
            filter,
            (order_by, direction),
            first,
            after,
        )
        .await
    }

    /// Every org unit of this district, or those the filter keeps (e.g. `kind: CITY_UNIT`),
    /// by name unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn units(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<service::OrgUnitFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: OrgUnitOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<OrgUnit>> {
        let filter = filter.unwrap_or_default();
        units_page::<district::Entity, UnitsOfDistrict>(
            ctx,
            self.id.0,
            filter,
            (order_by, direction),
            first,
            after,
        )
        .await
    }
}

/// A page of the org units under `parent` through relation `R`, loaded for every sibling
/// of `parent` at once.
async fn units_page<P: 'static, R>(
    ctx: &Context<'_>,
    parent: i64,
    filter: service::OrgUnitFilter,
    (order_by, direction): (OrgUnitOrderField, SortDirection),
    first: Option<i32>,
    after: Option<String>,
) -> Result<Page<OrgUnit>>
where
    R: ForeignKey<Entity = org_unit::Entity>,
{
    let app = ctx.app()?;
    let select = service::org_units(&app.actor, &filter);
    nested::<P, R, _, _>(
        ctx,
        parent,
        select,
        &filter,
        (order_by, direction),
        (first, after),
        OrgUnit,
    )
    .await
}

/// An organisation unit (组织用户): the city, a town, a Youth Home, a school, an
/// enterprise or a city-level unit.
#[Object]
impl OrgUnit {
    /// Stable id.
    async fn id(&self) -> Id {
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
        unit_via::<org_unit::Entity>(ctx, &self.0, "parent_id", |m| m.parent_id).await
    }
    /// The town this unit belongs to (itself for a town).
    async fn town(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        if self.0.town_id == Some(self.0.id) {
            return Ok(Some(OrgUnit(self.0.clone())));
        }
        unit_via::<org_unit::Entity>(ctx, &self.0, "town_id", |m| m.town_id).await
    }
    /// The supervision district.
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        let found = related::<org_unit::Entity, district::Entity>(
            ctx,
            self.0.id,
            "district_id",
            |m| m.district_id,
            self.0.district_id,
        )
        .await?;
        Ok(found.map(District::from))
    }
    /// Units directly below this one, or those the filter keeps (e.g. `kind: SCHOOL`), by
    /// name unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn children(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<service::OrgUnitFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: OrgUnitOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<OrgUnit>> {
        let filter = filter.unwrap_or_default();
        units_page::<org_unit::Entity, UnitsUnderParent>(
            ctx,
            self.0.id,
            filter,
            (order_by, direction),
            first,
            after,
        )
        .await
    }
    /// The Youth Homes (青年之家) directly below this unit, by name unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn youth_homes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<service::OrgUnitFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: OrgUnitOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<OrgUnit>> {
        let mut filter = filter.unwrap_or_default();
        filter.kind = Some(OrgUnitKind::YouthHome);
        units_page::<org_unit::Entity, UnitsUnderParent>(
            ctx,
            self.0.id,
            filter,
            (order_by, direction),
            first,
            after,
        )
        .await
    }
    /// Experts (专家) this unit recruited, by join date unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn experts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<ExpertFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: ExpertOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<Expert>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let select = qii_domain::service::expert::experts(&app.actor, &filter)?;
        nested::<org_unit::Entity, ExpertsOfOrgUnit, _, _>(
            ctx,
            self.0.id,
            select,
            &filter,
            (order_by, direction),
            (first, after),
            Expert,
        )
        .await
    }
    /// Number of members registered under this town (zero for other kinds).
    async fn member_count(&self, ctx: &Context<'_>) -> Result<i64> {
        count_of::<MembersOfTown>(ctx, self.0.id).await
    }
    /// Service requests made to this Youth Home that the caller may see (e.g. the open
    /// ones with `filter: {statuses: [SUBMITTED, REVIEWED, INTERVENING]}`), oldest first
    /// unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn service_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<ServiceRequestFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: ServiceRequestOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<ServiceRequest>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let select = qii_domain::service::service_request::service_requests(&app.actor, &filter)?;
        nested::<org_unit::Entity, RequestsOfYouthHome, _, _>(
            ctx,
            self.0.id,
            select,
            &filter,
            (order_by, direction),
            (first, after),
            ServiceRequest,
        )
        .await
    }
    /// Targets administrators set for this unit (e.g. `filter: {period: "2017-10"}`):
    /// overrides of the targets scripts' values. `targetsInEffect` gives every target the
    /// unit has for a period, whichever its source.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn targets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<TargetFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: TargetOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<Target>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let select = qii_domain::service::operations::targets(&app.actor, &filter)?;
        nested::<org_unit::Entity, TargetsOfUnit, _, _>(
            ctx,
            self.0.id,
            select,
            &filter,
            (order_by, direction),
            (first, after),
            Target,
        )
        .await
    }
    /// Supervisors (督导专员) assigned to this town, earliest first unless sorted otherwise.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn supervisors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<AssignmentFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: SupervisorAssignmentOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<SupervisorAssignment>> {
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let select = qii_domain::service::supervision::assignments(&app.actor, &filter)?;
        nested::<org_unit::Entity, SupervisorsOfTown, _, _>(
            ctx,
            self.0.id,
            select,
            &filter,
            (order_by, direction),
            (first, after),
            SupervisorAssignment,
        )
        .await
    }
    /// Activities this unit published (heavyweight ones it applied for included), by
    /// start time unless sorted otherwise; the filter narrows them (a month with
    /// `startsFrom`/`startsBefore`, a category, …).
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
        filter: Option<ActivityFilter>,
        #[graphql(
            default,
            desc = "The field the rows are sorted by; rows that tie are sorted by id."
        )]
        order_by: ActivityOrderField,
        #[graphql(default, desc = "Ascending (the default) or descending.")]
        direction: SortDirection,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<Activity>> {
        activities_of_unit(ctx, self.0.id, filter, (order_by, direction), first, after).await
    }
}

/// Districts are listed in their display order.
#[derive(Clone, Copy)]
struct DistrictOrder;

impl OrderField<district::Entity> for DistrictOrder {
    fn column(self) -> district::Column {
        district::Column::Position
    }
    fn key(self, m: &district::Model) -> SortKey {
        SortKey::Int(i64::from(m.position))
    }
}

/// What org-unit lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
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
    /// The supervision districts, in display order.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn districts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<District>> {
        let app = ctx.app()?;
        let select = service::districts(&app.actor);
        let args = PageArgs::new(after, None, first, None);
        paginate(
            ctx,
            select,
            DistrictOrder,
            SortDirection::Asc,
            args,
            District::from,
        )
        .await
    }

    /// One district by id; null when there is none.
    async fn district(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The district's id.")] id: Id,
    ) -> Result<Option<District>> {
        let found = load_by_id::<district::Entity>(ctx, id.0).await?;
        Ok(found.map(District::from))
    }

    /// One org unit by id or by code; null when there is none.
    async fn org_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The org unit's id; give either this or `code`.")] id: Option<Id>,
        #[graphql(desc = "The org unit's code, e.g. `town-humen`; give either this or `id`.")]
        code: Option<String>,
    ) -> Result<Option<OrgUnit>> {
        match (id, code) {
            (Some(id), None) => load_unit(ctx, Some(id.0)).await,
            (None, Some(code)) => {
                let app = ctx.app()?;
                Ok(service::org_unit_by_code(&app.db, &app.actor, &code)
                    .await?
                    .map(OrgUnit))
            }
            _ => Err(qii_domain::error::bad_input(
                "pass exactly one of `id` and `code`",
            )),
        }
    }
}

lists! {
    /// The lists of `OrgQuery`'s domain, as cursor connections.
    pub struct OrgLists;

    /// Org units, filtered and sorted, as a cursor connection.
    org_units(ctx, filter: service::OrgUnitFilter) by OrgUnitOrderField -> OrgUnit {
        let app = ctx.app()?;
        service::org_units(&app.actor, &filter)
    }
}
