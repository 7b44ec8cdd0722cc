//! Relay cursor connections over any entity, with keyset (seek) pagination.
//!
//! A cursor holds the sort key and id of an edge, so a page costs one indexed range
//! scan however deep it is; `totalCount` runs its COUNT only when asked for.

use std::{future::Future, pin::Pin, sync::Arc};

use async_graphql::{
    connection::{Connection, CursorType, Edge},
    Enum, Object, OutputType, Result,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait, SimpleExpr},
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Value,
};
use serde::{Deserialize, Serialize};

use entities::HasId;

use crate::error::bad_input;

/// Page size when neither `first` nor `last` is given.
const DEFAULT_PAGE: usize = 20;
/// Largest page a client may ask for.
const MAX_PAGE: usize = 100;

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

type CountFuture = Pin<Box<dyn Future<Output = Result<u64, DbErr>> + Send>>;

/// Fields every connection carries besides its edges.
pub struct ConnectionTotals {
    count: Arc<dyn Fn() -> CountFuture + Send + Sync>,
}

#[Object]
impl ConnectionTotals {
    /// Number of items matching the filters, regardless of pagination.
    async fn total_count(&self) -> Result<i64> {
        let n = (self.count)()
            .await
            .map_err(crate::error::ServiceError::from)?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// A page of `N` nodes built from rows of `E`.
pub type Page<N> = Connection<Keyset, N, ConnectionTotals>;

/// Runs `select` as one page of a Relay connection sorted by `field` then id.
pub async fn paginate<E, F, N>(
    db: &DatabaseConnection,
    select: Select<E>,
    field: F,
    direction: SortDirection,
    args: PageArgs,
    node: impl Fn(E::Model) -> N,
) -> Result<Page<N>>
where
    E: HasId,
    E::Model: Sync,
    F: OrderField<E>,
    N: OutputType,
{
    let (size, backward) = page_size(&args)?;
    let after = args.after.as_deref().map(decode).transpose()?;
    let before = args.before.as_deref().map(decode).transpose()?;

    let count_query = select.clone();
    let count_db = db.clone();
    let totals = ConnectionTotals {
        count: Arc::new(move || {
            let query = count_query.clone();
            let db = count_db.clone();
            Box::pin(async move { query.count(&db).await })
        }),
    };

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
        .map_err(crate::error::ServiceError::from)?;
    let more = rows.len() > size;
    rows.truncate(size);
    if backward {
        rows.reverse();
    }
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
