//! The level a ranking is at (the towns, or every unit of one kind) and how a figure's
//! row is grouped for it: each row joined to its org unit as `ou`.

use entities::{enums::OrgUnitKind, org_unit};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, SelectStatement, SimpleExpr},
    ActiveEnum,
};

/// Which org units are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The towns, each with everything below it.
    Town,
    /// Every unit of one kind, on its own (e.g. Youth Homes).
    Kind(OrgUnitKind),
}

/// The org unit a row belongs to, joined as `ou`.
pub(super) fn ou() -> Alias {
    Alias::new("ou")
}

impl Level {
    /// The grouping column: the unit a row counts for.
    pub(super) fn unit(&self) -> SimpleExpr {
        match self {
            Level::Town => Expr::col((ou(), org_unit::Column::TownId)),
            Level::Kind(_) => Expr::col((ou(), org_unit::Column::Id)),
        }
    }

    pub(super) fn restrict(&self, query: &mut SelectStatement) {
        if let Level::Kind(kind) = self {
            query.and_where(Expr::col((ou(), org_unit::Column::Kind)).eq(kind.to_value()));
        }
    }

    /// The kind of the org units ranked.
    pub fn kind(&self) -> OrgUnitKind {
        match self {
            Level::Town => OrgUnitKind::Town,
            Level::Kind(kind) => *kind,
        }
    }
}
