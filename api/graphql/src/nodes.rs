//! The schema's node types: each a record read from the database, and the loaders that
//! fetch one by id or through a relation. Each node's fields are resolved in the module
//! of its feature (`org`, `activity`, `member`, `expert`); a feature that shows another's
//! node goes through the types and loaders here, so feature modules depend on this module
//! and never on each other in a circle.

use crate::Id;
use async_graphql::{Context, Result, SimpleObject};
use entities::{activity, expert, member, org_unit};

use crate::{
    batch::{self, related},
    foreign_key, load_by_id,
};

/// A supervision district (片区): a group of towns sharing a supervision meeting.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct District {
    /// Stable id.
    pub id: Id,
    /// Stable code, e.g. `D1`.
    pub code: String,
    /// Name in Chinese, e.g. 第一片区.
    pub name: String,
    /// Name in English.
    pub name_en: String,
    /// Display order.
    pub position: i32,
}

/// An organisation unit (组织用户): the city, a town, a Youth Home, a school, an
/// enterprise or a city-level unit.
pub struct OrgUnit(pub org_unit::Model);

/// The org unit that row `child` of `C` points to through `fk`, loaded for every sibling
/// of `child` at once.
pub async fn unit_via<C>(
    ctx: &Context<'_>,
    child: &C::Model,
    label: &'static str,
    fk: fn(&C::Model) -> Option<i64>,
) -> Result<Option<OrgUnit>>
where
    C: entities::HasId,
    C::Model: Clone + Send + Sync,
{
    let child_id = C::id_of(child);
    let found = if ctx.look_ahead().field("town").exists() {
        // Read with their towns, which the query asks for next: one statement, not two.
        let link = (label, fk, fk(child));
        batch::related_with::<C, org_unit::Entity, UnitsWithTowns>(ctx, child_id, link).await?
    } else {
        related::<C, org_unit::Entity>(ctx, child_id, label, fk, fk(child)).await?
    };
    Ok(found.map(OrgUnit))
}

/// Org units by id together with the towns they belong to, in one statement.
struct UnitsWithTowns;

impl batch::LoadRows<org_unit::Entity> for UnitsWithTowns {
    async fn load(
        db: sea_orm::DatabaseConnection,
        keys: Vec<i64>,
    ) -> Result<std::collections::HashMap<i64, org_unit::Model>> {
        use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
        let backend = db.get_database_backend();
        let towns = org_unit::Entity::find()
            .select_only()
            .column(org_unit::Column::TownId)
            .filter(qii_domain::db::any_of(backend, org_unit::Column::Id, &keys))
            .into_query();
        let rows = org_unit::Entity::find()
            .filter(
                Condition::any()
                    .add(qii_domain::db::any_of(backend, org_unit::Column::Id, &keys))
                    .add(org_unit::Column::Id.in_subquery(towns)),
            )
            .all(&db)
            .await
            .map_err(qii_domain::error::ServiceError::from)?;
        Ok(rows.into_iter().map(|m| (m.id, m)).collect())
    }
}

/// The town of unit `id` (none for a unit above the towns), read through the request's
/// batch loader.
pub async fn town_of(ctx: &Context<'_>, id: i64) -> Result<Option<i64>> {
    Ok(load_by_id::<org_unit::Entity>(ctx, id)
        .await?
        .and_then(|unit| unit.town_id))
}

/// Loads an optional org unit: from what the request has read, or through its batch loader.
pub async fn load_unit(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<OrgUnit>> {
    let Some(id) = id else { return Ok(None) };
    let found = load_by_id::<org_unit::Entity>(ctx, id).await?;
    Ok(found.map(OrgUnit))
}

/// An activity in "Find Activities" (找活动): an offline activity or an online topic.
pub struct Activity(pub activity::Model);

/// Loads an activity through the request's batch loader.
pub async fn load_activity(ctx: &Context<'_>, id: i64) -> Result<Option<Activity>> {
    let found = load_by_id::<activity::Entity>(ctx, id).await?;
    Ok(found.map(Activity))
}

foreign_key!(
    /// Sign-ups of an activity.
    SignupsOfActivity, activity_signup, ActivityId, activity_id, activity
);

/// A public user (公众用户) of the platform.
pub struct Member(pub member::Model);

/// Loads a member through the request's batch loader.
pub async fn load_member(ctx: &Context<'_>, id: i64) -> Result<Option<Member>> {
    let found = load_by_id::<member::Entity>(ctx, id).await?;
    Ok(found.map(Member))
}

/// An expert (专家) of the expert alliance, recruited by an org unit.
pub struct Expert(pub expert::Model);

/// Loads an expert through the request's batch loader.
pub async fn load_expert(ctx: &Context<'_>, id: i64) -> Result<Option<Expert>> {
    let found = load_by_id::<expert::Entity>(ctx, id).await?;
    Ok(found.map(Expert))
}
