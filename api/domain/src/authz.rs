//! Authorisation: what each role may read and change, decided in the service layer.
//!
//! Two kinds of decision:
//! - by operation ([`Need`]): may this role do this kind of thing at all?
//! - by row ([`Reach`]): which org units' private data may it touch? A town administrator
//!   reaches its town and the units whose `town_id` is that town (its Youth Homes); a Youth
//!   Home administrator its own Youth Home; the city administrator every unit. Lists are
//!   filtered in SQL by [`unit_condition`]; single rows are checked by [`require_unit`].
//!
//! Anonymous callers get `UNAUTHENTICATED` where they need to sign in; signed-in callers
//! get `FORBIDDEN` with the reason.
//!
//! Errors are read too: a rule error's internals (the script's path, the line, the
//! engine's own words) reach rule and city administrators only
//! ([`withhold_script_internals`]).

use entities::{member, org_unit};
use sea_orm::{
    sea_query::Query, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QuerySelect,
};

use crate::{
    error::{code, ServiceError, ServiceResult},
    identity::{Actor, Role, Scope},
};

/// A kind of operation, from the most to the least open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any caller that signed in, partners included.
    SignedIn,
    /// People of the platform: members and staff, not partners (questions, topics,
    /// experts, activity feedback).
    People,
    /// Rankings and scores: people, and partners granted `scores:read`.
    Scores,
    /// Staff of any level: town, Youth Home, rule and city administrators.
    Staff,
    /// Rule scripts: rule and city administrators.
    Rules,
    /// City-wide management: city administrators.
    CityAdmin,
}

impl Need {
    fn who(self) -> &'static str {
        match self {
            Need::SignedIn => "signed-in callers",
            Need::People => "members and staff",
            Need::Scores => "members, staff and partners granted `scores:read`",
            Need::Staff => "town, Youth Home, rule and city administrators",
            Need::Rules => "rule and city administrators",
            Need::CityAdmin => "city administrators",
        }
    }

    fn allows(self, role: &Role) -> bool {
        use Role::*;
        match (self, role) {
            (_, System) => true,
            (_, Anonymous) => false,
            (Need::SignedIn, _) => true,
            (Need::People, Partner(_)) => false,
            (Need::People, _) => true,
            (Need::Scores, Partner(scopes)) => scopes.contains(&Scope::ScoresRead),
            (Need::Scores, _) => true,
            (Need::Staff, TownAdmin(_) | YouthHomeAdmin(_) | RuleAdmin | CityAdmin) => true,
            (Need::Staff, _) => false,
            (Need::Rules, RuleAdmin | CityAdmin) => true,
            (Need::Rules, _) => false,
            (Need::CityAdmin, CityAdmin) => true,
            (Need::CityAdmin, _) => false,
        }
    }
}

/// What a caller who may not read the scripts is told of a rule error.
pub const RULE_ERROR_WITHHELD: &str = "the index rules could not answer this request (for \
     example, no rules are in force for the period asked); a rule administrator can read why \
     in the server log";

/// The extensions of a rule error that show the scripts' internals.
const SCRIPT_INTERNALS: [&str; 7] = [
    "script",
    "line",
    "column",
    "errors",
    "keyPath",
    "orgUnitId",
    "ruleErrors",
];

/// Withholds a rule error's internals from a caller who is not a rule or city
/// administrator: the message becomes [`RULE_ERROR_WITHHELD`] and the script's path, its
/// position and the list of errors leave the extensions, the code staying. The whole error
/// is logged first. Any other error is left as it is.
pub fn withhold_script_internals(
    actor: &Actor,
    message: &mut String,
    extensions: Option<&mut async_graphql::ErrorExtensionValues>,
) {
    let Some(extensions) = extensions else {
        return;
    };
    let is_rule_error = matches!(
        extensions.get("code"),
        Some(async_graphql::Value::String(c)) if c == code::RULE_ERROR
    );
    if !is_rule_error || Need::Rules.allows(&actor.role) {
        return;
    }
    tracing::warn!(
        caller = %actor.label(),
        message = %message,
        script = ?extensions.get("script"),
        line = ?extensions.get("line"),
        errors = ?extensions.get("errors"),
        "rule error: its details were withheld from the caller"
    );
    *message = RULE_ERROR_WITHHELD.to_owned();
    for key in SCRIPT_INTERNALS {
        extensions.unset(key);
    }
}

/// The error for a caller who may not do `what`.
pub fn denied(actor: &Actor, message: impl Into<String>) -> ServiceError {
    match actor.role {
        Role::Anonymous => ServiceError::Unauthenticated,
        _ => ServiceError::Forbidden(message.into()),
    }
}

impl Actor {
    /// Succeeds when the caller's role may do `what` (a phrase such as "set targets").
    pub fn require(&self, need: Need, what: &str) -> ServiceResult<()> {
        if need.allows(&self.role) {
            Ok(())
        } else {
            Err(denied(self, format!("only {} may {what}", need.who())))
        }
    }

    /// The org units whose private data the caller reaches.
    pub fn reach(&self) -> Reach {
        match self.role {
            Role::System | Role::CityAdmin => Reach::All,
            Role::TownAdmin(town) => Reach::Town(town),
            Role::YouthHomeAdmin(home) => Reach::Unit(home),
            _ => Reach::Nothing,
        }
    }
}

/// Which org units' private data a caller reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every unit.
    All,
    /// The town and every unit belonging to it.
    Town(i64),
    /// One unit.
    Unit(i64),
    /// None.
    Nothing,
}

impl Reach {
    /// Whether a unit (by id and the town it belongs to) is reached.
    pub fn covers(self, unit_id: i64, unit_town: Option<i64>) -> bool {
        match self {
            Reach::All => true,
            Reach::Town(town) => unit_town == Some(town) || unit_id == town,
            Reach::Unit(unit) => unit == unit_id,
            Reach::Nothing => false,
        }
    }

    /// Whether a town is reached as a whole (town-level figures such as a member's home
    /// town or a town's targets).
    pub fn covers_town(self, town_id: i64) -> bool {
        match self {
            Reach::All => true,
            Reach::Town(town) => town == town_id,
            Reach::Unit(_) | Reach::Nothing => false,
        }
    }
}

/// The SQL condition "`column` names a unit the caller reaches", for filtering lists of
/// units' private data; refused for callers that reach none.
pub fn unit_condition<C: ColumnTrait>(
    actor: &Actor,
    column: C,
    what: &str,
) -> ServiceResult<Condition> {
    Ok(match actor.reach() {
        Reach::All => Condition::all(),
        Reach::Town(town) => Condition::all().add(
            column.in_subquery(
                Query::select()
                    .column(org_unit::Column::Id)
                    .from(org_unit::Entity)
                    .and_where(org_unit::Column::TownId.eq(town))
                    .to_owned(),
            ),
        ),
        Reach::Unit(unit) => Condition::all().add(column.eq(unit)),
        Reach::Nothing => {
            return Err(denied(
                actor,
                format!("only the administrators of a unit may read its {what}"),
            ))
        }
    })
}

/// The SQL condition "`column` names a town the caller reaches as a whole": members'
/// home towns, towns' targets.
pub fn town_condition<C: ColumnTrait>(
    actor: &Actor,
    column: C,
    what: &str,
) -> ServiceResult<Condition> {
    match actor.reach() {
        Reach::All => Ok(Condition::all()),
        Reach::Town(town) => Ok(Condition::all().add(column.eq(town))),
        Reach::Unit(_) | Reach::Nothing => Err(denied(
            actor,
            format!("only city and town administrators may read {what}"),
        )),
    }
}

/// Succeeds when the caller reaches the unit `unit_id`: it may read and change the
/// unit's private data (`what` says which, for the message).
pub async fn require_unit(
    db: &impl ConnectionTrait,
    actor: &Actor,
    unit_id: i64,
    what: &str,
) -> ServiceResult<()> {
    let reach = actor.reach();
    match reach {
        Reach::All => return Ok(()),
        Reach::Unit(unit) if unit == unit_id => return Ok(()),
        Reach::Town(town) if town == unit_id => return Ok(()),
        Reach::Nothing => {
            return Err(denied(
                actor,
                format!("only the unit's administrators may {what}"),
            ))
        }
        _ => {}
    }
    let town: Option<Option<i64>> = org_unit::Entity::find_by_id(unit_id)
        .select_only()
        .column(org_unit::Column::TownId)
        .into_tuple()
        .one(db)
        .await?;
    let Some(town) = town else {
        return Err(ServiceError::not_found("orgUnit", unit_id));
    };
    if reach.covers(unit_id, town) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "org unit {unit_id} is outside your {}: you may only {what} for {}",
            match reach {
                Reach::Town(_) => "town",
                _ => "Youth Home",
            },
            match reach {
                Reach::Town(_) => "your town and its Youth Homes",
                _ => "your own Youth Home",
            }
        )))
    }
}

/// Succeeds when the caller may act for the member `member_id`: the member themself, the
/// city administrators, or the administrators of the member's home town.
pub async fn require_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    member_id: i64,
    what: &str,
) -> ServiceResult<()> {
    // The member themself and city-wide roles need no look-up; a town's administrators
    // need the member's home town.
    if Personal::of_member(actor, member_id, None).is_full() {
        return Ok(());
    }
    if let Reach::Town(_) = actor.reach() {
        let home: Option<Option<i64>> = member::Entity::find_by_id(member_id)
            .select_only()
            .column(member::Column::HomeTownId)
            .into_tuple()
            .one(db)
            .await?;
        let Some(home) = home else {
            return Err(ServiceError::not_found("member", member_id));
        };
        if Personal::of_member(actor, member_id, home).is_full() {
            return Ok(());
        }
    }
    Err(denied(
        actor,
        format!("only the member themself or the administrators of their town may {what}"),
    ))
}

/// Succeeds when the caller may act for member `member_id` on something of unit
/// `unit_id`: the member themself, or the administrators who reach the unit. Members act
/// only as themselves.
pub async fn require_member_or_unit(
    db: &impl ConnectionTrait,
    actor: &Actor,
    member_id: i64,
    unit_id: i64,
    what: &str,
) -> ServiceResult<()> {
    match actor.role {
        Role::Member(me) if me == member_id => Ok(()),
        Role::Member(_) => Err(ServiceError::Forbidden(format!(
            "members may {what} only as themselves"
        ))),
        _ => require_unit(db, actor, unit_id, what).await,
    }
}

/// The SQL condition for lists of records that belong to a member and to a unit (sign-ups,
/// check-ins, service requests): a member sees their own, administrators those of the
/// units they reach.
pub fn member_or_unit_condition<M: ColumnTrait, U: ColumnTrait>(
    actor: &Actor,
    member_column: M,
    unit_column: U,
    what: &str,
) -> ServiceResult<Condition> {
    match actor.role {
        Role::Member(me) => Ok(Condition::all().add(member_column.eq(me))),
        _ => unit_condition(actor, unit_column, what),
    }
}

/// The SQL condition for lists of a member's records about activities (sign-ups,
/// check-ins): a member sees their own, administrators those of activities of the units
/// they reach.
pub fn activity_records_condition<A: ColumnTrait, M: ColumnTrait>(
    actor: &Actor,
    activity_column: A,
    member_column: M,
    what: &str,
) -> ServiceResult<Condition> {
    if let Role::Member(me) = actor.role {
        return Ok(Condition::all().add(member_column.eq(me)));
    }
    if actor.reach() == Reach::All {
        return Ok(Condition::all());
    }
    let units = unit_condition(actor, entities::activity::Column::OrgUnitId, what)?;
    Ok(Condition::all().add(
        activity_column.in_subquery(
            Query::select()
                .column(entities::activity::Column::Id)
                .from(entities::activity::Entity)
                .cond_where(units)
                .to_owned(),
        ),
    ))
}

/// A person's details (a name, a mobile number) as one caller may see them: in full, or
/// masked (`张**`, `138****5678`). The one place that decides; every field that shows a
/// person reads through it, whichever relation led there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Personal {
    full: bool,
}

impl Personal {
    /// A member: in full for the member, the city administrators and the administrators
    /// of the member's home town; masked for everyone else (a sign-up at another town's
    /// activity, the asker of a public question).
    pub fn of_member(actor: &Actor, member_id: i64, home_town: Option<i64>) -> Self {
        let full = actor.member_id() == Some(member_id)
            || match actor.reach() {
                Reach::All => true,
                Reach::Town(town) => home_town == Some(town),
                _ => false,
            };
        Self { full }
    }

    /// A person a unit names (an attendee it sends to a meeting): in full for callers
    /// whose reach covers the unit (`unit_town` is the unit's town), masked for others.
    pub fn of_unit(actor: &Actor, unit_id: i64, unit_town: Option<i64>) -> Self {
        Self {
            full: actor.reach().covers(unit_id, unit_town),
        }
    }

    /// In full: for a person the caller reaches through something of its own unit that
    /// shows them (the applicant of its Youth Home's service request).
    pub fn full() -> Self {
        Self { full: true }
    }

    /// Whether the details show in full.
    pub fn is_full(self) -> bool {
        self.full
    }

    /// A name, in full or masked.
    pub fn name(self, name: &str) -> String {
        if self.full {
            name.to_owned()
        } else {
            mask_name(name)
        }
    }

    /// A mobile number, in full or masked.
    pub fn mobile(self, mobile: Option<&str>) -> Option<String> {
        mobile.map(|m| {
            if self.full {
                m.to_owned()
            } else {
                mask_mobile(m)
            }
        })
    }
}

/// Masks a mobile number for callers who may not see it: `138****5678`.
pub fn mask_mobile(mobile: &str) -> String {
    let chars: Vec<char> = mobile.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// Masks a person's name or nickname: its first character, then one `*` per other
/// character (`张**`).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_what_identifies_nobody() {
        assert_eq!(mask_mobile("13812345678"), "138****5678");
        assert_eq!(mask_mobile("123"), "***");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("Li"), "L*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn needs_follow_the_roles() {
        let partner = |scopes: Vec<Scope>| Actor::new(Role::Partner(scopes), "acme");
        assert!(partner(vec![Scope::ScoresRead])
            .require(Need::Scores, "x")
            .is_ok());
        assert!(partner(vec![]).require(Need::Scores, "x").is_err());
        assert!(partner(vec![Scope::ScoresRead])
            .require(Need::People, "x")
            .is_err());
        assert!(Actor::new(Role::Member(1), "m")
            .require(Need::People, "x")
            .is_ok());
        assert!(Actor::new(Role::Member(1), "m")
            .require(Need::Staff, "x")
            .is_err());
        assert!(Actor::new(Role::RuleAdmin, "r")
            .require(Need::Rules, "x")
            .is_ok());
        assert!(Actor::new(Role::RuleAdmin, "r")
            .require(Need::CityAdmin, "x")
            .is_err());
        assert!(Actor::new(Role::TownAdmin(1), "t")
            .require(Need::Rules, "x")
            .is_err());
        assert!(Actor::system().require(Need::CityAdmin, "x").is_ok());
        assert!(Actor::anonymous().require(Need::SignedIn, "x").is_err());
    }

    #[test]
    fn reach_covers_the_town_and_its_units() {
        assert!(Reach::Town(5).covers(5, Some(5)));
        assert!(Reach::Town(5).covers(9, Some(5)));
        assert!(!Reach::Town(5).covers(9, Some(6)));
        assert!(Reach::Unit(9).covers(9, Some(5)));
        assert!(!Reach::Unit(9).covers(5, Some(5)));
        assert!(!Reach::Nothing.covers(1, None));
    }
}
