//! Relay cursor connections over any entity, with keyset (seek) pagination.
//!
//! A cursor holds the sort key and id of an edge, so a page costs one indexed range
//! scan however deep it is; `totalCount` runs its COUNT only when asked for.

use std::{any::TypeId, collections::HashMap, future::Future, pin::Pin, sync::Arc};

use async_graphql::{
    connection::{Connection, CursorType, Edge},
    Context, Enum, Object, OutputType, Result,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait, SimpleExpr, WindowStatement},
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Value,
};
use serde::{Deserialize, Serialize};

use entities::HasId;

use super::{batch::Group, loaders::ForeignKey, ContextExt};
use qii_domain::{
    db::any_of,
    error::{bad_input, ServiceError},
};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: usize = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE: usize = 100;

/// Direction of a sort.
#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum SortDirection {
    /// Smallest (or earliest, or A) first.
    #[default]
    Asc,
    /// Largest (or latest, or Z) first.
    Desc,
}

/// The value an edge is sorted by, as carried in its cursor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SortKey {
    Int(i64),
    Float(f64),
    Text(String),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Bool(bool),
}

impl From<SortKey> for Value {
    fn from(key: SortKey) -> Self {
        match key {
            SortKey::Int(v) => v.into(),
            SortKey::Float(v) => v.into(),
            SortKey::Text(v) => v.into(),
            SortKey::Time(v) => v.into(),
            SortKey::Date(v) => v.into(),
            SortKey::Bool(v) => v.into(),
        }
    }
}

/// An opaque cursor: sort key and id of one edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keyset {
    key: SortKey,
    id: i64,
}

impl Keyset {
    /// The cursor of an edge.
    pub fn new(key: SortKey, id: i64) -> Self {
        Self { key, id }
    }
}

impl CursorType for Keyset {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| format!("`{s}` is not a cursor returned by this API"))?;
        serde_json::from_slice(&bytes)
            .map_err(|_| format!("`{s}` is not a cursor returned by this API"))
    }

    fn encode_cursor(&self) -> String {
        // Serialising a plain enum and an integer cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// A field a list can be sorted by: which column, and how to read an edge's key.
pub trait OrderField<E: EntityTrait>: Copy + Send + Sync + 'static {
    /// The column sorted on; it must not be nullable.
    fn column(self) -> E::Column;
    /// The sort key of one row, for its cursor.
    fn key(self, model: &E::Model) -> SortKey;
}

/// The `first`/`after`/`last`/`before` arguments of a connection field.
#[derive(Debug, Default, Clone)]
pub struct PageArgs {
    pub after: Option<String>,
    pub before: Option<String>,
    pub first: Option<i32>,
    pub last: Option<i32>,
}

impl PageArgs {
    /// Bundles the four Relay arguments.
    pub fn new(
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Self {
        Self {
            after,
            before,
            first,
            last,
        }
    }
}

type CountFuture = Pin<Box<dyn Future<Output = Result<u64>> + Send>>;

/// Fields every connection carries besides its edges.
pub struct ConnectionTotals {
    count: Arc<dyn Fn() -> CountFuture + Send + Sync>,
}

impl ConnectionTotals {
    /// A total already known (a list computed in full).
    pub fn known(n: usize) -> Self {
        let n = n as u64;
        Self {
            count: Arc::new(move || Box::pin(async move { Ok(n) })),
        }
    }

    /// A total counted by `count` when asked for.
    pub fn lazy<F, Fut>(count: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<u64>> + Send + 'static,
    {
        Self {
            count: Arc::new(move || Box::pin(count())),
        }
    }
}

#[Object]
impl ConnectionTotals {
    /// Number of items matching the filters, regardless of pagination.
    async fn total_count(&self) -> Result<i64> {
        let n = (self.count)().await?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// A page of `N` nodes built from rows of `E`.
pub type Page<N> = Connection<Keyset, N, ConnectionTotals>;

/// The complexity of a connection field: what one node costs, times the nodes a page of
/// `first` (or `last`) can hold. Nested connections multiply at every level, so a query
/// is refused before it runs when its pages could add up to more than the limit.
pub fn cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let n = match first.or(last) {
        Some(n) => usize::try_from(n).unwrap_or(0).min(MAX_PAGE),
        None => DEFAULT_PAGE,
    };
    n.max(1).saturating_mul(child.max(1))
}

/// Runs `select` as one page of a Relay connection sorted by `field` then id. The rows
/// become a group of siblings: relations asked of them load for the whole page at once.
pub async fn paginate<E, F, N>(
    ctx: &Context<'_>,
    select: Select<E>,
    field: F,
    direction: SortDirection,
    args: PageArgs,
    node: impl Fn(E::Model) -> N,
) -> Result<Page<N>>
where
    E: HasId,
    E::Model: Sync + Clone,
    F: OrderField<E>,
    N: OutputType,
{
    let app = ctx.app()?;
    let db = &app.db;
    let (size, backward) = page_size(&args)?;
    let after = args.after.as_deref().map(decode).transpose()?;
    let before = args.before.as_deref().map(decode).transpose()?;

    let count_query = select.clone();
    let count_db = db.clone();
    let totals = ConnectionTotals::lazy(move || {
        let query = count_query.clone();
        let db = count_db.clone();
        async move { Ok(query.count(&db).await.map_err(ServiceError::from)?) }
    });

    let col = field.column();
    let id = E::id_column();
    let desc = direction == SortDirection::Desc;
    let mut query = select;
    if let Some(c) = &after {
        query = query.filter(beyond(col, id, c, !desc));
    }
    if let Some(c) = &before {
        query = query.filter(beyond(col, id, c, desc));
    }
    // Paging backwards reads the order reversed, then flips the page back.
    let order = if desc != backward {
        Order::Desc
    } else {
        Order::Asc
    };
    let mut rows = query
        .order_by(col, order.clone())
        .order_by(id, order)
        .limit(size as u64 + 1)
        .all(db)
        .await
        .map_err(ServiceError::from)?;
    let more = rows.len() > size;
    rows.truncate(size);
    if backward {
        rows.reverse();
    }
    app.batches.register::<E>(&rows);
    let (has_previous, has_next) = if backward {
        (more, before.is_some())
    } else {
        (after.is_some(), more)
    };
    let mut connection = Connection::with_additional_fields(has_previous, has_next, totals);
    connection.edges = rows
        .into_iter()
        .map(|row| {
            let cursor = Keyset {
                key: field.key(&row),
                id: E::id_of(&row),
            };
            Edge::new(cursor, node(row))
        })
        .collect();
    Ok(connection)
}

/// The rows of each parent, first to last, and their count per parent.
type Pages<M> = HashMap<i64, Vec<M>>;

/// One page of the children of `parent` through relation `R`, sorted by `field` then
/// id. The page is loaded together with the pages of every sibling of `parent` (the rows
/// it was read with): one windowed statement for all of them, at once. `key` names what
/// `select` filters on beyond the relation, so that siblings asking the same share it.
pub async fn nested<P, R, F, N>(
    ctx: &Context<'_>,
    parent: i64,
    select: Select<R::Entity>,
    key: &(dyn std::fmt::Debug + Sync),
    (field, direction): (F, SortDirection),
    (first, after): (Option<i32>, Option<String>),
    node: impl Fn(<R::Entity as EntityTrait>::Model) -> N,
) -> Result<Page<N>>
where
    P: 'static,
    R: ForeignKey,
    <R::Entity as EntityTrait>::Model: Sync + Clone,
    F: OrderField<R::Entity> + std::fmt::Debug,
    N: OutputType,
{
    // Boxed: the page's state (statements, rows, keys) lives on the heap, so that the
    // resolvers awaiting it stay small; async-graphql moves each field's future, and an
    // object's fields share the size of its largest.
    Box::pin(async move {
        let key = format!("{key:?}");
        let app = ctx.app()?;
        let (size, _) = page_size(&PageArgs::new(after.clone(), None, first, None))?;
        let cursor = after.as_deref().map(decode).transpose()?;
        let group = app
            .batches
            .group_of::<P>(parent)
            .unwrap_or_else(|| Arc::new(Group::single(parent)));
        let db = app.db.clone();
        let page_key = format!("{key}|{field:?}|{direction:?}|{size}|{after:?}");
        let base = select.clone();
        let batches = app.batches.clone();
        let pages: Arc<Pages<<R::Entity as EntityTrait>::Model>> = group
            .once(TypeId::of::<(R, F)>(), page_key, |ids| async move {
                let pages =
                    windowed::<R, F>(&db, base, &ids, field, direction, cursor.as_ref(), size + 1)
                        .await?;
                // The children of every sibling are siblings in turn.
                let all: Vec<_> = pages.values().flatten().cloned().collect();
                batches.register::<R::Entity>(&all);
                Ok(pages)
            })
            .await?;
        let mut rows = pages.get(&parent).cloned().unwrap_or_default();
        let more = rows.len() > size;
        rows.truncate(size);

        let count_db = app.db.clone();
        let count_group = group.clone();
        let count_key = key;
        let totals = ConnectionTotals::lazy(move || {
            let (db, group, select, key) = (
                count_db.clone(),
                count_group.clone(),
                select.clone(),
                count_key.clone(),
            );
            async move {
                let counts = group
                    .once(TypeId::of::<CountsOf<R>>(), key, |ids| async move {
                        counts_of::<R>(&db, select, &ids).await
                    })
                    .await?;
                Ok(counts.get(&parent).copied().unwrap_or(0))
            }
        });
        let mut connection = Connection::with_additional_fields(after.is_some(), more, totals);
        connection.edges = rows
            .into_iter()
            .map(|row| {
                let cursor = Keyset {
                    key: field.key(&row),
                    id: R::Entity::id_of(&row),
                };
                Edge::new(cursor, node(row))
            })
            .collect();
        Ok(connection)
    })
    .await
}

/// Marks the per-parent counts of relation `R` in a group.
struct CountsOf<R>(std::marker::PhantomData<R>);

/// The first `limit` children of each of `parents` in one statement: `ROW_NUMBER()` over
/// each parent's children in page order, bounded outside.
async fn windowed<R, F>(
    db: &DatabaseConnection,
    select: Select<R::Entity>,
    parents: &[i64],
    field: F,
    direction: SortDirection,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<Pages<<R::Entity as EntityTrait>::Model>>
where
    R: ForeignKey,
    F: OrderField<R::Entity>,
{
    let backend = db.get_database_backend();
    let col = field.column();
    let id = R::Entity::id_column();
    let desc = direction == SortDirection::Desc;
    let mut query = select.filter(any_of(backend, R::column(), parents));
    if let Some(c) = after {
        query = query.filter(beyond(col, id, c, !desc));
    }
    let order = if desc { Order::Desc } else { Order::Asc };
    let mut inner = query.into_query();
    inner.expr_window_as(
        Expr::cust("ROW_NUMBER()"),
        WindowStatement::partition_by(R::column().as_column_ref())
            .order_by(col.as_column_ref(), order.clone())
            .order_by(id.as_column_ref(), order)
            .to_owned(),
        "qii_rn",
    );
    let outer = sea_orm::sea_query::Query::select()
        .column(sea_orm::sea_query::Asterisk)
        .from_subquery(inner, "qii_page")
        .and_where(Expr::col("qii_rn").lte(limit as i64))
        .order_by("qii_rn", Order::Asc)
        .to_owned();
    let rows = R::Entity::find()
        .from_raw_sql(backend.build(&outer))
        .all(db)
        .await
        .map_err(ServiceError::from)?;
    let mut pages: Pages<_> = HashMap::new();
    for row in rows {
        if let Some(parent) = R::parent_of(&row) {
            pages.entry(parent).or_default().push(row);
        }
    }
    Ok(pages)
}

/// How many children each of `parents` has through `R` among those `select` keeps: one
/// GROUP BY.
async fn counts_of<R: ForeignKey>(
    db: &DatabaseConnection,
    select: Select<R::Entity>,
    parents: &[i64],
) -> Result<HashMap<i64, u64>> {
    let backend = db.get_database_backend();
    let rows: Vec<(i64, i64)> = select
        .select_only()
        .column(R::column())
        .column_as(
            Expr::col(R::Entity::id_column().as_column_ref()).count(),
            "n",
        )
        .filter(any_of(backend, R::column(), parents))
        .group_by(R::column())
        .into_tuple()
        .all(db)
        .await
        .map_err(ServiceError::from)?;
    Ok(rows
        .into_iter()
        .map(|(parent, n)| (parent, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// The page size and the position a page of a positional list starts at.
pub fn decode_position(first: Option<i32>, after: Option<&str>) -> Result<(usize, usize)> {
    let (size, _) = page_size(&PageArgs::new(after.map(str::to_owned), None, first, None))?;
    let start = match after.map(decode).transpose()? {
        Some(Keyset {
            key: SortKey::Int(position),
            ..
        }) => usize::try_from(position).unwrap_or(0) + 1,
        Some(_) => return Err(bad_input("`after` is not a cursor of this list")),
        None => 0,
    };
    Ok((size, start))
}

/// A page of a list computed in full (a ranking's entries): `first` items after the
/// cursor, which holds a position.
pub fn page_of<T, N>(
    items: Vec<T>,
    first: Option<i32>,
    after: Option<String>,
    node: impl Fn(T) -> N,
) -> Result<Page<N>>
where
    N: OutputType,
{
    let (size, start) = decode_position(first, after.as_deref())?;
    let total = items.len();
    let more = total > start.saturating_add(size);
    let mut connection =
        Connection::with_additional_fields(start > 0, more, ConnectionTotals::known(total));
    connection.edges = items
        .into_iter()
        .enumerate()
        .skip(start)
        .take(size)
        .map(|(i, item)| {
            let cursor = Keyset {
                key: SortKey::Int(i as i64),
                id: i as i64,
            };
            Edge::new(cursor, node(item))
        })
        .collect();
    Ok(connection)
}

/// Rows strictly past cursor `c` in the ascending (`greater`) or descending direction.
fn beyond<C: ColumnTrait>(col: C, id: C, c: &Keyset, greater: bool) -> Condition {
    let key: Value = c.key.clone().into();
    let (past_key, past_id): (SimpleExpr, SimpleExpr) = if greater {
        (Expr::col(col).gt(key.clone()), Expr::col(id).gt(c.id))
    } else {
        (Expr::col(col).lt(key.clone()), Expr::col(id).lt(c.id))
    };
    Condition::any()
        .add(past_key)
        .add(Condition::all().add(Expr::col(col).eq(key)).add(past_id))
}

fn decode(cursor: &str) -> Result<Keyset> {
    Keyset::decode_cursor(cursor).map_err(bad_input)
}

/// Page size and whether the page is read backwards (`last`).
fn page_size(args: &PageArgs) -> Result<(usize, bool)> {
    let check = |name: &str, n: i32| -> Result<usize> {
        match usize::try_from(n) {
            Ok(n) if n <= MAX_PAGE => Ok(n),
            _ => Err(bad_input(format!(
                "`{name}` must be between 0 and {MAX_PAGE}, got {n}"
            ))),
        }
    };
    match (args.first, args.last) {
        (Some(_), Some(_)) => Err(bad_input("pass either `first` or `last`, not both")),
        (Some(n), None) => Ok((check("first", n)?, false)),
        (None, Some(n)) => Ok((check("last", n)?, true)),
        (None, None) => Ok((DEFAULT_PAGE, args.before.is_some() && args.after.is_none())),
    }
}

/// Declares a query object whose fields are lists: each a cursor connection over the rows
/// a service selects, with one set of arguments everywhere (`filter`, `orderBy`,
/// `direction` and the four Relay arguments), described once, costed by its page size
/// and run by [`paginate`]. A field gives its filter type, its order field, its node type
/// and the block that turns the filter into the service's selection:
///
/// ```ignore
/// lists! {
///     /// Reading experts.
///     pub struct ExpertLists;
///     /// Experts, filtered and sorted, as a cursor connection.
///     experts(ctx, filter: ExpertFilter) by ExpertOrderField -> Expert {
///         let app = ctx.app()?;
///         service::experts(&app.actor, &filter)?
///     }
/// }
/// ```
///
/// A list without a filter leaves out `filter: …`.
macro_rules! lists {
    (
        $(#[$outer:meta])*
        $vis:vis struct $name:ident;
        $(
            $(#[$doc:meta])*
            $field:ident($ctx:ident $(, $filter:ident: $filter_ty:ty)?) by $order:ident -> $node:ident
            $body:block
        )*
    ) => {
        $(#[$outer])*
        #[derive(Default)]
        $vis struct $name;

        #[async_graphql::Object]
        impl $name {
            $(
                $(#[$doc])*
                #[allow(clippy::too_many_arguments)]
                #[graphql(complexity = "crate::pagination::cost(first, last, child_complexity)")]
                async fn $field(
                    &self,
                    $ctx: &async_graphql::Context<'_>,
                    $(
                        #[graphql(desc = "Which rows to list; without it, every row the caller may read.")]
                        $filter: Option<$filter_ty>,
                    )?
                    #[graphql(default, desc = "The field the rows are sorted by; rows that tie are sorted by id.")]
                    order_by: $order,
                    #[graphql(default, desc = "Ascending (the default) or descending.")]
                    direction: $crate::pagination::SortDirection,
                    #[graphql(desc = "Start after the edge with this cursor (`pageInfo.endCursor` of the page before).")]
                    after: Option<String>,
                    #[graphql(desc = "End before the edge with this cursor (`pageInfo.startCursor` of the page after); with `last`, pages backwards.")]
                    before: Option<String>,
                    #[graphql(desc = "Page size counted from the start (default 20, at most 100).")]
                    first: Option<i32>,
                    #[graphql(desc = "Page size counted from the end, to page backwards (at most 100).")]
                    last: Option<i32>,
                ) -> async_graphql::Result<$crate::pagination::Page<$node>> {
                    // Without a filter, every row the caller may read.
                    $(let $filter: $filter_ty = $filter.unwrap_or_default();)?
                    let select = $body;
                    let args = $crate::pagination::PageArgs::new(after, before, first, last);
                    $crate::pagination::paginate($ctx, select, order_by, direction, args, $node).await
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_a_round_trip() {
        let c = Keyset {
            key: SortKey::Text("石碣".into()),
            id: 42,
        };
        assert_eq!(Keyset::decode_cursor(&c.encode_cursor()), Ok(c));
    }

    #[test]
    fn a_forged_cursor_is_refused() {
        assert!(Keyset::decode_cursor("not-a-cursor").is_err());
    }

    #[test]
    fn pages_larger_than_the_maximum_are_refused() {
        let args = PageArgs::new(None, None, Some(1000), None);
        assert!(page_size(&args).is_err());
        let args = PageArgs::new(None, None, Some(5), Some(5));
        assert!(page_size(&args).is_err());
        assert_eq!(
            page_size(&PageArgs::default()).ok(),
            Some((DEFAULT_PAGE, false))
        );
    }
}
