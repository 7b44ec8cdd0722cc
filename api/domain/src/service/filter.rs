//! The WHERE clause of a list, built from optional filters: each method adds its
//! condition only when the filter was given, so a list function reads as its filters.

use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, Condition, Value,
};

use entities::org_unit;

use super::contains_pattern;

/// Conditions that must all hold.
pub struct Filters(Condition);

impl Default for Filters {
    fn default() -> Self {
        Self(Condition::all())
    }
}

impl Filters {
    pub fn new() -> Self {
        Self::default()
    }

    /// `column = value`.
    pub fn eq<C: ColumnTrait, V: Into<Value>>(self, column: C, value: Option<V>) -> Self {
        self.when(value.map(|v| column.eq(v)))
    }

    /// `from <= column < before`: the half-open ranges of instants.
    pub fn range<C: ColumnTrait, V: Into<Value>>(
        self,
        column: C,
        from: Option<V>,
        before: Option<V>,
    ) -> Self {
        self.when(from.map(|v| column.gte(v)))
            .when(before.map(|v| column.lt(v)))
    }

    /// `from <= column <= to`: the inclusive ranges of calendar days.
    pub fn days<C: ColumnTrait, V: Into<Value>>(
        self,
        column: C,
        from: Option<V>,
        to: Option<V>,
    ) -> Self {
        self.when(from.map(|v| column.gte(v)))
            .when(to.map(|v| column.lte(v)))
    }

    /// The org unit in `column` belongs to this town (the town itself included).
    pub fn town<C: ColumnTrait>(self, column: C, town: Option<impl Into<i64>>) -> Self {
        self.when(town.map(|t| in_town(column, t.into())))
    }

    /// The org unit in `column` belongs to this district.
    pub fn district<C: ColumnTrait>(self, column: C, district: Option<impl Into<i64>>) -> Self {
        self.when(district.map(|d| in_district(column, d.into())))
    }

    /// Any of `columns` contains the text; blank text filters nothing.
    pub fn search<C: ColumnTrait>(self, columns: &[C], text: Option<&str>) -> Self {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return self;
        };
        let pattern = contains_pattern(text);
        let any = columns.iter().fold(Condition::any(), |any, c| {
            any.add(Expr::col(*c).like(pattern.clone()))
        });
        self.when(Some(any))
    }

    /// Any other condition, when there is one.
    pub fn when(self, condition: Option<impl Into<Condition>>) -> Self {
        match condition {
            Some(c) => Self(self.0.add(c.into())),
            None => self,
        }
    }

    /// The finished condition.
    pub fn build(self) -> Condition {
        self.0
    }
}

/// `column IN (units of this town)`: filters any table by the town of its org unit.
pub fn in_town<C: ColumnTrait>(column: C, town_id: i64) -> sea_orm::sea_query::SimpleExpr {
    units_where(column, org_unit::Column::TownId.eq(town_id))
}

/// `column IN (units of this district)`.
pub fn in_district<C: ColumnTrait>(column: C, district_id: i64) -> sea_orm::sea_query::SimpleExpr {
    units_where(column, org_unit::Column::DistrictId.eq(district_id))
}

fn units_where<C: ColumnTrait>(
    column: C,
    cond: sea_orm::sea_query::SimpleExpr,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::Query;
    column.in_subquery(
        Query::select()
            .column(org_unit::Column::Id)
            .from(org_unit::Entity)
            .and_where(cond)
            .to_owned(),
    )
}
