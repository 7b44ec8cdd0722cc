//! Public members (公众用户): registration and mobile binding.

use crate::authz;
use crate::authz::Need;
use crate::id::Id;
use crate::identity::Role;
use crate::text::Search;
use async_graphql::InputObject;

use crate::service::filter::Filters;
use chrono::{DateTime, Utc};
use entities::{enums::OrgUnitKind, member};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Select,
};

use super::{ensure_unique, find, org::unit_of_kind, parse_mobile, text};
use crate::{error::ServiceResult, identity::Actor};

/// Longest nickname accepted.
const NICKNAME_MAX: usize = 50;

/// Which members to list.
#[derive(Debug, Default, Clone, InputObject)]
pub struct MemberFilter {
    /// Registered under this town.
    pub home_town_id: Option<Id>,
    /// Registered under a town of this district.
    pub district_id: Option<Id>,
    /// With (or without) a bound mobile.
    pub mobile_bound: Option<bool>,
    /// Registered at or after this instant.
    pub registered_from: Option<DateTime<Utc>>,
    /// Registered before this instant.
    pub registered_before: Option<DateTime<Utc>>,
    /// Text contained in the nickname.
    pub search: Option<Search>,
}

/// The members a caller may list, filtered.
pub fn members(actor: &Actor, filter: &MemberFilter) -> ServiceResult<Select<member::Entity>> {
    let visible = match actor.role {
        Role::Member(me) => sea_orm::Condition::all().add(member::Column::Id.eq(me)),
        _ => authz::town_condition(actor, member::Column::HomeTownId, "members")?,
    };
    use member::Column as C;
    let bound = filter.mobile_bound.map(|bound| match bound {
        true => C::MobileBoundAt.is_not_null(),
        false => C::MobileBoundAt.is_null(),
    });
    let cond = Filters::new()
        .eq(C::HomeTownId, filter.home_town_id)
        .district(C::HomeTownId, filter.district_id)
        .when(bound)
        .range(
            C::RegisteredAt,
            filter.registered_from,
            filter.registered_before,
        )
        .search(&[C::Nickname], filter.search.as_deref());
    Ok(member::Entity::find().filter(cond.build()).filter(visible))
}

/// A new member.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub nickname: String,
    pub home_town_id: Option<i64>,
    /// Binds this mobile number at registration.
    pub mobile: Option<String>,
}

/// Registers a member.
pub async fn register_member(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewMember,
) -> ServiceResult<member::Model> {
    // Anyone may register (public sign-up), except partners.
    if actor.role != Role::Anonymous {
        actor.require(Need::People, "register members")?;
    }
    let now = Utc::now();
    let mobile = input
        .mobile
        .as_deref()
        .map(|m| parse_mobile("mobile", m))
        .transpose()?
        .flatten();
    if let Some(m) = &mobile {
        ensure_unique::<member::Entity>(db, member::Column::Mobile, m, None, "mobile").await?;
    }
    if let Some(town) = input.home_town_id {
        unit_of_kind(
            db,
            "homeTownId",
            town,
            OrgUnitKind::Town,
            "a member's home town must be one of the towns",
        )
        .await?;
    }
    let model = member::ActiveModel {
        nickname: Set(text("nickname", &input.nickname, NICKNAME_MAX)?),
        mobile_bound_at: Set(mobile.as_ref().map(|_| now)),
        mobile: Set(mobile),
        registered_at: Set(now),
        home_town_id: Set(input.home_town_id),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Changes to a member; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct MemberChanges {
    pub nickname: Option<String>,
    pub home_town_id: Option<Option<i64>>,
    /// Binding a number records the binding time; clearing it unbinds.
    pub mobile: Option<Option<String>>,
}

/// Updates a member.
pub async fn update_member(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: MemberChanges,
) -> ServiceResult<member::Model> {
    let current = find::<member::Entity>(db, "member", id).await?;
    authz::require_member(db, actor, id, "change member details").await?;
    let mut model: member::ActiveModel = current.clone().into();
    if let Some(nickname) = changes.nickname {
        model.nickname = Set(text("nickname", &nickname, NICKNAME_MAX)?);
    }
    if let Some(town) = changes.home_town_id {
        if let Some(t) = town {
            unit_of_kind(
                db,
                "homeTownId",
                t,
                OrgUnitKind::Town,
                "a member's home town must be one of the towns",
            )
            .await?;
        }
        model.home_town_id = Set(town);
    }
    if let Some(mobile) = changes.mobile {
        let mobile = mobile
            .as_deref()
            .map(|m| parse_mobile("mobile", m))
            .transpose()?
            .flatten();
        if let Some(m) = &mobile {
            ensure_unique::<member::Entity>(db, member::Column::Mobile, m, Some(id), "mobile")
                .await?;
        }
        let bound_at = match (&mobile, current.mobile_bound_at) {
            (Some(m), Some(at)) if current.mobile.as_deref() == Some(m) => Some(at),
            (Some(_), _) => Some(Utc::now()),
            (None, _) => None,
        };
        model.mobile = Set(mobile);
        model.mobile_bound_at = Set(bound_at);
    }
    Ok(model.update(db).await?)
}
