//! Figures imported from other systems for the scored period: the value imported for
//! exactly that period (by its canonical text), added up per unit of the level like every
//! other figure, in one grouped query.

use std::collections::HashMap;

use entities::imported_figure::{self, Column};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Func},
    ConnectionTrait, DbErr, EntityTrait, QuerySelect,
};

use super::{families::Families, level::Level};
use qii_engine::period::Period;

/// Every key ever imported, with the level's values for `period` per unit: see
/// [`Imported::columns`].
pub(super) struct Imported {
    keys: Vec<String>,
    values: Vec<(String, i64, Option<f64>)>,
}

impl Imported {
    /// Every key ever imported, with the values in the order of `units`; a unit without a
    /// value has none, and the rule's missing-value policy decides.
    ///
    /// Keys without a value in this period are still listed, so that a rule naming an
    /// imported figure scores every period instead of failing where nothing was imported.
    pub(super) fn columns(self, units: &[i64]) -> HashMap<String, Vec<Option<f64>>> {
        let mut figures: HashMap<String, Vec<Option<f64>>> = self
            .keys
            .into_iter()
            .map(|key| (key, vec![None; units.len()]))
            .collect();
        let position: HashMap<i64, usize> =
            units.iter().enumerate().map(|(i, u)| (*u, i)).collect();
        for (key, unit, total) in self.values {
            // A key first imported after the key list was read waits for the next run.
            if let (Some(column), Some(&i)) = (figures.get_mut(&key), position.get(&unit)) {
                column[i] = total;
            }
        }
        figures
    }
}

/// Reads the imported figures of `period` at `level`: the keys and the grouped values side
/// by side.
pub(super) async fn imported_figures(
    db: &impl ConnectionTrait,
    period: &Period,
    level: Level,
) -> Result<Imported, DbErr> {
    let table = imported_figure::Entity;
    let key = Expr::col((table, Column::Key));
    let unit = level.unit();
    let mut query = Families::from_unit(table, Column::OrgUnitId);
    level.restrict(&mut query);
    query
        .expr_as(key.clone(), Alias::new("figure"))
        .expr_as(unit.clone(), Alias::new("unit"))
        .expr_as(
            Func::sum(Expr::col((table, Column::Value))),
            Alias::new("total"),
        )
        .and_where(Expr::col((table, Column::Period)).eq(period.to_string()))
        .and_where(unit.clone().is_not_null())
        .add_group_by([key, unit]);
    let values = async {
        let mut out = Vec::new();
        for row in db.query_all(&query).await? {
            out.push((
                row.try_get("", "figure")?,
                row.try_get("", "unit")?,
                row.try_get("", "total")?,
            ));
        }
        Ok::<_, DbErr>(out)
    };
    let keys = imported_figure::Entity::find()
        .select_only()
        .column(Column::Key)
        .distinct()
        .into_tuple()
        .all(db);
    let (keys, values) = tokio::try_join!(keys, values)?;
    Ok(Imported { keys, values })
}
