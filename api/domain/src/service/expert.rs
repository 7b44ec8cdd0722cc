//! The expert alliance (专家联盟): recruiting experts and keeping their records.
//!
//! An expert is a member recruited by an org unit; a member is an expert at most once.

use crate::authz;
use crate::authz::Need;
use crate::id::Id;
use crate::text::Search;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use chrono::{DateTime, Utc};
use entities::{enums::ExpertField, expert, member, org_unit};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Select,
};

use super::{find, opt_text, referenced, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};

/// Longest name accepted.
const NAME_MAX: usize = 100;
/// Longest professional title accepted.
const TITLE_MAX: usize = 200;

/// Which experts to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct ExpertFilter {
    /// Of this field.
    pub field: Option<ExpertField>,
    /// Recruited by this org unit.
    pub recruited_by_id: Option<Id>,
    /// Recruited by any unit of this town (its Youth Homes included).
    pub town_id: Option<Id>,
    /// Recruited by any unit of this district.
    pub district_id: Option<Id>,
    /// Joined at or after this instant.
    pub joined_from: Option<DateTime<Utc>>,
    /// Joined before this instant.
    pub joined_before: Option<DateTime<Utc>>,
    /// Text contained in the name or title.
    pub search: Option<Search>,
}

/// The experts a caller may list, filtered.
pub fn experts(actor: &Actor, filter: &ExpertFilter) -> ServiceResult<Select<expert::Entity>> {
    actor.require(Need::People, "read experts")?;
    use expert::Column as C;
    let cond = Filters::new()
        .eq(C::Field, filter.field)
        .eq(C::RecruitedById, filter.recruited_by_id)
        .town(C::RecruitedById, filter.town_id)
        .district(C::RecruitedById, filter.district_id)
        .range(C::JoinedAt, filter.joined_from, filter.joined_before)
        .search(&[C::Name, C::Title], filter.search.as_deref());
    Ok(expert::Entity::find().filter(cond.build()))
}

/// A member recruited into the expert alliance.
#[derive(Debug, Clone)]
pub struct NewExpert {
    pub member_id: i64,
    pub name: String,
    pub field: ExpertField,
    pub title: Option<String>,
    pub recruited_by_id: i64,
}

/// Recruits a member as an expert.
pub async fn recruit_expert(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewExpert,
) -> ServiceResult<expert::Model> {
    referenced::<org_unit::Entity>(db, "recruitedById", "org unit", input.recruited_by_id).await?;
    authz::require_unit(db, actor, input.recruited_by_id, "recruit experts").await?;
    let name = text("name", &input.name, NAME_MAX)?;
    let title = opt_text("title", input.title.as_deref(), TITLE_MAX)?;
    referenced::<member::Entity>(db, "memberId", "member", input.member_id).await?;
    // The unique index on member_id is the final guard; this gives the clear message.
    let already = expert::Entity::find()
        .filter(expert::Column::MemberId.eq(input.member_id))
        .one(db)
        .await?;
    if let Some(existing) = already {
        return Err(ServiceError::invalid(
            "memberId",
            format!(
                "member {} is already an expert (expert {})",
                input.member_id, existing.id
            ),
        ));
    }
    referenced::<org_unit::Entity>(db, "recruitedById", "org unit", input.recruited_by_id).await?;
    let model = expert::ActiveModel {
        member_id: Set(input.member_id),
        name: Set(name),
        field: Set(input.field),
        title: Set(title),
        recruited_by_id: Set(input.recruited_by_id),
        joined_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Changes to an expert; `None` leaves a field as it is, `Some(None)` clears it.
/// The member cannot change: an expert's answers stay with the person who gave them.
#[derive(Debug, Clone, Default)]
pub struct ExpertChanges {
    pub name: Option<String>,
    pub field: Option<ExpertField>,
    pub title: Option<Option<String>>,
    pub recruited_by_id: Option<i64>,
}

/// Updates an expert.
pub async fn update_expert(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: ExpertChanges,
) -> ServiceResult<expert::Model> {
    let current = find::<expert::Entity>(db, "expert", id).await?;
    authz::require_unit(db, actor, current.recruited_by_id, "change its experts").await?;
    let mut model: expert::ActiveModel = current.into();
    if let Some(name) = changes.name {
        model.name = Set(text("name", &name, NAME_MAX)?);
    }
    if let Some(field) = changes.field {
        model.field = Set(field);
    }
    if let Some(title) = changes.title {
        model.title = Set(opt_text("title", title.as_deref(), TITLE_MAX)?);
    }
    if let Some(unit) = changes.recruited_by_id {
        referenced::<org_unit::Entity>(db, "recruitedById", "org unit", unit).await?;
        model.recruited_by_id = Set(unit);
    }
    Ok(model.update(db).await?)
}
