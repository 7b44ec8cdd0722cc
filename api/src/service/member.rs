//! Public members (公众用户): registration and mobile binding.

use chrono::{DateTime, Utc};
use entities::{enums::OrgUnitKind, member};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, Select,
};

use super::{
    contains_pattern, ensure_unique, find,
    org::{in_district, unit_of_kind},
    parse_mobile, text,
};
use crate::{error::ServiceResult, identity::Actor};

/// Longest nickname accepted.
const NICKNAME_MAX: usize = 50;

/// Which members to list.
#[derive(Debug, Default, Clone)]
pub struct MemberFilter {
    pub home_town_id: Option<i64>,
    pub district_id: Option<i64>,
    /// Only members with (or without) a bound mobile.
    pub mobile_bound: Option<bool>,
    pub registered_from: Option<DateTime<Utc>>,
    pub registered_before: Option<DateTime<Utc>>,
    /// Text contained in the nickname.
    pub search: Option<String>,
}

/// The members a caller may list, filtered.
pub fn members(_actor: &Actor, filter: &MemberFilter) -> Select<member::Entity> {
    use member::Column as C;
    let mut cond = Condition::all();
    if let Some(town) = filter.home_town_id {
        cond = cond.add(C::HomeTownId.eq(town));
    }
    if let Some(district) = filter.district_id {
        cond = cond.add(in_district(C::HomeTownId, district));
    }
    match filter.mobile_bound {
        Some(true) => cond = cond.add(C::MobileBoundAt.is_not_null()),
        Some(false) => cond = cond.add(C::MobileBoundAt.is_null()),
        None => {}
    }
    if let Some(from) = filter.registered_from {
        cond = cond.add(C::RegisteredAt.gte(from));
    }
    if let Some(before) = filter.registered_before {
        cond = cond.add(C::RegisteredAt.lt(before));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        cond = cond.add(Expr::col(C::Nickname).like(contains_pattern(search)));
    }
    member::Entity::find().filter(cond)
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
    _actor: &Actor,
    input: NewMember,
) -> ServiceResult<member::Model> {
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
    _actor: &Actor,
    id: i64,
    changes: MemberChanges,
) -> ServiceResult<member::Model> {
    let current = find::<member::Entity>(db, "member", id).await?;
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
