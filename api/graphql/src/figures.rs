//! Figures imported from other systems: the bulk import and reading the figures back.

use crate::Id;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entities::imported_figure;

use super::{
    nodes::{unit_via, OrgUnit},
    pagination::{OrderField, SortKey},
    visible_by_id, ContextExt,
};
use qii_domain::service::figures as service;

/// A figure imported from another system for an org unit, a period and a key that rule
/// scripts name as a raw figure.
pub struct ImportedFigure(pub imported_figure::Model);

/// A figure imported from another system for an org unit, a period and a key that rule
/// scripts name as a raw figure.
#[Object]
impl ImportedFigure {
    /// Stable id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The org unit the figure is for.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        unit_via::<entities::imported_figure::Entity>(ctx, &self.0, "org_unit_id", |m| {
            Some(m.org_unit_id)
        })
        .await
    }
    /// The period: `2017-10`, `2017-W43`, `2017-Q4`, `2017-H2`, `2017` or `2017-10-01..2017-10-15`.
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// The key rule scripts name, e.g. `provincial_visits`.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// The value.
    async fn value(&self) -> f64 {
        self.0.value
    }
    /// The system the figure came from, when the import named it.
    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }
    /// When the value was last imported.
    async fn imported_at(&self) -> DateTime<Utc> {
        self.0.imported_at
    }
}

/// What imported-figure lists can be sorted by.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ImportedFigureOrderField {
    /// Period, as written (months and quarters of a year sort together).
    #[default]
    Period,
    /// Key.
    Key,
    /// Value.
    Value,
    /// When last imported.
    ImportedAt,
}

impl OrderField<imported_figure::Entity> for ImportedFigureOrderField {
    fn column(self) -> imported_figure::Column {
        match self {
            Self::Period => imported_figure::Column::Period,
            Self::Key => imported_figure::Column::Key,
            Self::Value => imported_figure::Column::Value,
            Self::ImportedAt => imported_figure::Column::ImportedAt,
        }
    }
    fn key(self, m: &imported_figure::Model) -> SortKey {
        match self {
            Self::Period => SortKey::Text(m.period.clone()),
            Self::Key => SortKey::Text(m.key.clone()),
            Self::Value => SortKey::Float(m.value),
            Self::ImportedAt => SortKey::Time(m.imported_at),
        }
    }
}

/// Reading imported figures.
#[derive(Default)]
pub struct FigureQuery;

#[Object]
impl FigureQuery {
    /// One imported figure by id; null when there is none.
    async fn imported_figure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The imported figure's id.")] id: Id,
    ) -> Result<Option<ImportedFigure>> {
        let visible = service::imported_figures(&ctx.app()?.actor, &Default::default());
        Ok(visible_by_id(ctx, visible, &id).await?.map(ImportedFigure))
    }
}

lists! {
    /// The lists of `FigureQuery`'s domain, as cursor connections.
    pub struct FigureLists;

    /// Imported figures, filtered and sorted, as a cursor connection.
    imported_figures(ctx, filter: service::ImportedFigureFilter) by ImportedFigureOrderField -> ImportedFigure {
        let app = ctx.app()?;
        service::imported_figures(&app.actor, &filter)?
    }
}

/// One row of a figure import. Every part is checked by the server, so that a bad row is
/// reported with the others instead of failing the whole request.
#[derive(InputObject)]
pub struct FigureRowInput {
    /// The org unit: its code (e.g. `town-shijie`) or its id.
    org_unit: String,
    /// `2017-10` (month), `2017-W43` (ISO week), `2017-Q4` (quarter), `2017-H2` (half-year),
    /// `2017` (year) or `2017-10-01..2017-10-15` (days, inclusive).
    period: String,
    /// lower_snake_case key that rule scripts name, e.g. `provincial_visits`; not one of the
    /// figures computed from the platform's own data.
    key: String,
    /// The value (zero or more).
    value: f64,
}

/// What an accepted figure import did.
#[derive(SimpleObject)]
pub struct ImportFiguresPayload {
    /// Rows that were new.
    inserted: i64,
    /// Rows that replaced the value stored for the same org unit, period and key.
    replaced: i64,
    /// The keys imported, sorted: raw figures a rule script can name.
    keys: Vec<String>,
}

/// Importing figures.
#[derive(Default)]
pub struct FigureMutation;

#[Object]
impl FigureMutation {
    /// Imports figures per org unit, period and key, replacing any value already stored
    /// for them, so that an import can be repeated. All or nothing: when a row is invalid,
    /// nothing is written and the error lists every problem in its message and in
    /// `extensions.rows` (`row` from 1, `index` from 0, `field`, `reason`).
    async fn import_figures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The figures; one per unit, period and key.")] rows: Vec<FigureRowInput>,
        #[graphql(desc = "The system the figures come from, e.g. `provincial-platform`.")]
        source: Option<String>,
    ) -> Result<ImportFiguresPayload> {
        let app = ctx.app()?;
        let rows: Vec<service::FigureRow> = rows
            .into_iter()
            .map(|r| service::FigureRow {
                org_unit: r.org_unit,
                period: r.period,
                key: r.key,
                value: Ok(r.value),
            })
            .collect();
        let done =
            service::import_figures(&app.db, &app.actor, &rows, source.as_deref(), &|_| {}).await?;
        Ok(ImportFiguresPayload {
            inserted: i64::try_from(done.inserted).unwrap_or(i64::MAX),
            replaced: i64::try_from(done.replaced).unwrap_or(i64::MAX),
            keys: done.keys,
        })
    }
}
