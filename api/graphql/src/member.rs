//! Public members.

use crate::Id;
use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entities::{member, org_unit};

use super::{
    children_of, load_by_id,
    nodes::{unit_via, Expert, Member, OrgUnit},
    pagination::{OrderField, SortKey},
    undefined_id, undefined_to_option, visible_by_id, ContextExt,
};
use crate::foreign_key;
use qii_domain::{
    authz::{Personal, Reach},
    service::member as service,
};

foreign_key!(
    /// The expert profile of a member (at most one).
    ExpertProfileOfMember, expert, MemberId, member_id, member
);

foreign_key!(
    /// The service requests a member made.
    RequestsOfApplicant, service_request, ApplicantId, applicant_id, member
);

/// A public user (公众用户) of the platform.
#[Object]
impl Member {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// Display name; masked (`张**`) except for the member, the city administrators, the
    /// administrators of the member's home town and those of a Youth Home serving one of
    /// the member's service requests.
    async fn nickname(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.personal(ctx).await?.name(&self.0.nickname))
    }
    /// The bound mobile number; masked (`138****5678`) except for the member, the city
    /// administrators, the administrators of the member's home town and those of a Youth
    /// Home serving one of the member's service requests (they call the applicant back).
    async fn mobile(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.personal(ctx).await?.mobile(self.0.mobile.as_deref()))
    }
    /// When the member registered.
    async fn registered_at(&self) -> DateTime<Utc> {
        self.0.registered_at
    }
    /// Whether a mobile number is bound (移动端绑定).
    async fn mobile_bound(&self) -> bool {
        self.0.mobile_bound_at.is_some()
    }
    /// When the mobile number was bound.
    async fn mobile_bound_at(&self) -> Option<DateTime<Utc>> {
        self.0.mobile_bound_at
    }
    /// The member's expert profile, when the member is an expert.
    async fn expert(&self, ctx: &Context<'_>) -> Result<Option<Expert>> {
        let profiles = children_of::<ExpertProfileOfMember>(ctx, self.0.id).await?;
        Ok(profiles.into_iter().next().map(Expert))
    }
    /// The town the member registered under.
    async fn home_town(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::member::Entity>(ctx, &self.0, "home_town_id", |m| m.home_town_id).await
    }
}

impl Member {
    /// How the caller sees this member's personal details: as the member's home town
    /// decides, or in full for the administrators of a Youth Home serving one of the
    /// member's service requests (the requests and their homes come batched).
    async fn personal(&self, ctx: &Context<'_>) -> Result<Personal> {
        let actor = &ctx.app()?.actor;
        let personal = Personal::of_member(actor, self.0.id, self.0.home_town_id);
        let reach = actor.reach();
        if personal.is_full() || !matches!(reach, Reach::Unit(_) | Reach::Town(_)) {
            return Ok(personal);
        }
        for request in children_of::<RequestsOfApplicant>(ctx, self.0.id).await? {
            let home = request.youth_home_id;
            let town = match reach {
                Reach::Town(_) => load_by_id::<org_unit::Entity>(ctx, home)
                    .await?
                    .and_then(|u| u.town_id),
                _ => None,
            };
            if reach.covers(home, town) {
                return Ok(Personal::full());
            }
        }
        Ok(personal)
    }
}

/// What member lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum MemberOrderField {
    /// Registration time.
    #[default]
    RegisteredAt,
    /// Nickname.
    Nickname,
}

impl OrderField<member::Entity> for MemberOrderField {
    fn column(self) -> member::Column {
        match self {
            Self::RegisteredAt => member::Column::RegisteredAt,
            Self::Nickname => member::Column::Nickname,
        }
    }
    fn key(self, m: &member::Model) -> SortKey {
        match self {
            Self::RegisteredAt => SortKey::Time(m.registered_at),
            Self::Nickname => SortKey::Text(m.nickname.clone()),
        }
    }
}

/// Reading members.
#[derive(Default)]
pub struct MemberQuery;

#[Object]
impl MemberQuery {
    /// One member by id; null when there is none.
    async fn member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] id: Id,
    ) -> Result<Option<Member>> {
        let visible = service::members(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(Member))
    }
}

lists! {
    /// The lists of `MemberQuery`'s domain, as cursor connections.
    pub struct MemberLists;

    /// Members, filtered and sorted, as a cursor connection.
    members(ctx, filter: service::MemberFilter) by MemberOrderField -> Member {
        let app = ctx.app()?;
        service::members(&app.actor, &filter)?
    }
}

/// A new member.
#[derive(InputObject)]
pub struct RegisterMemberInput {
    /// Display name.
    nickname: String,
    /// The town the member registers under.
    home_town_id: Option<Id>,
    /// A mobile number to bind now (11 digits).
    mobile: Option<String>,
}

/// Changes to a member; omitted fields stay, `null` clears.
#[derive(InputObject)]
pub struct UpdateMemberInput {
    /// New display name.
    nickname: Option<String>,
    /// The id of the town the member registers under; `null` clears it.
    home_town_id: MaybeUndefined<Id>,
    /// Bind a mobile number, or `null` to unbind.
    mobile: MaybeUndefined<String>,
}

/// Registering and updating members.
#[derive(Default)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Registers a member.
    async fn register_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member to register.")] input: RegisterMemberInput,
    ) -> Result<Member> {
        let app = ctx.app()?;
        let new = service::NewMember {
            nickname: input.nickname,
            home_town_id: input.home_town_id.map(Id::get),
            mobile: input.mobile,
        };
        Ok(Member(
            service::register_member(&app.db, &app.actor, new).await?,
        ))
    }

    /// Updates a member.
    async fn update_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] id: Id,
        #[graphql(
            desc = "The changes; fields left out stay as they are, `null` clears an optional field."
        )]
        input: UpdateMemberInput,
    ) -> Result<Member> {
        let app = ctx.app()?;
        let changes = service::MemberChanges {
            nickname: input.nickname,
            home_town_id: undefined_id(input.home_town_id),
            mobile: undefined_to_option(input.mobile),
        };
        Ok(Member(
            service::update_member(&app.db, &app.actor, id.0, changes).await?,
        ))
    }
}
