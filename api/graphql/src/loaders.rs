//! Batched loading of relations (DataLoader), generic over entities.
//!
//! A request gets one [`Loaders`] registry; each loader type is created on first use, so
//! a query touching three relations builds three loaders. Relations are declared with
//! [`foreign_key!`]: a marker type naming the child table and its foreign-key column.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    marker::PhantomData,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::dataloader::{DataLoader, Loader};
use entities::HasId;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use qii_domain::db::any_of;

/// Errors are shared between every field waiting on a batch.
pub type LoadError = Arc<DbErr>;

/// A loader that can be built from the request's database connection.
pub trait FromDb: Send + Sync + 'static {
    fn from_db(db: DatabaseConnection) -> Self;
}

/// The per-request registry of loaders.
pub struct Loaders {
    db: DatabaseConnection,
    window: Duration,
    loaders: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Loaders {
    /// A registry whose loaders gather keys for `window` before querying.
    pub fn new(db: DatabaseConnection, window: Duration) -> Self {
        Self {
            db,
            window,
            loaders: Mutex::new(HashMap::new()),
        }
    }

    fn create<L: FromDb>(&self) -> DataLoader<L> {
        DataLoader::new(L::from_db(self.db.clone()), tokio::spawn).delay(self.window)
    }

    /// The loader of type `L` for this request, created on first use.
    pub fn get<L: FromDb>(&self) -> Arc<DataLoader<L>> {
        let mut map = self.loaders.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map
            .entry(TypeId::of::<L>())
            .or_insert_with(|| Arc::new(self.create::<L>()));
        match entry.clone().downcast::<DataLoader<L>>() {
            Ok(loader) => loader,
            // Unreachable: the map is keyed by the loader's own TypeId.
            Err(_) => Arc::new(self.create::<L>()),
        }
    }
}

/// A relation: rows of `Entity` point to a parent through an integer column.
pub trait ForeignKey: Send + Sync + 'static {
    type Entity: HasId;
    /// The table pointed to.
    type Parent: HasId;
    /// The foreign-key column on the child table.
    fn column() -> <Self::Entity as EntityTrait>::Column;
    /// The foreign-key value of one child row.
    fn parent_of(model: &<Self::Entity as EntityTrait>::Model) -> Option<i64>;
}

/// Declares a [`ForeignKey`] marker:
/// `foreign_key!(Name, table_module, Column, field, parent_table_module)`.
#[macro_export]
macro_rules! foreign_key {
    ($(#[$doc:meta])* $name:ident, $table:ident, $column:ident, $field:ident, $parent:ident) => {
        $(#[$doc])*
        pub struct $name;
        impl $crate::loaders::ForeignKey for $name {
            type Entity = entities::$table::Entity;
            type Parent = entities::$parent::Entity;
            fn column() -> entities::$table::Column {
                entities::$table::Column::$column
            }
            fn parent_of(model: &entities::$table::Model) -> Option<i64> {
                $crate::loaders::IntoParent::into_parent(model.$field)
            }
        }
    };
}

/// Foreign keys are `i64` or `Option<i64>`.
pub trait IntoParent {
    fn into_parent(self) -> Option<i64>;
}
impl IntoParent for i64 {
    fn into_parent(self) -> Option<i64> {
        Some(self)
    }
}
impl IntoParent for Option<i64> {
    fn into_parent(self) -> Option<i64> {
        self
    }
}

type Model<E> = <E as EntityTrait>::Model;

/// Loads rows by id.
pub struct ById<E>(DatabaseConnection, PhantomData<E>);

impl<E: HasId> FromDb for ById<E> {
    fn from_db(db: DatabaseConnection) -> Self {
        Self(db, PhantomData)
    }
}

impl<E> Loader<i64> for ById<E>
where
    E: HasId,
    Model<E>: Sync,
{
    type Value = Model<E>;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = E::find()
            .filter(any_of(self.0.get_database_backend(), E::id_column(), keys))
            .all(&self.0)
            .await?;
        Ok(rows.into_iter().map(|m| (E::id_of(&m), m)).collect())
    }
}

/// Loads the children of many parents at once, in id order.
pub struct ChildrenOf<F>(DatabaseConnection, PhantomData<F>);

impl<F: ForeignKey> FromDb for ChildrenOf<F> {
    fn from_db(db: DatabaseConnection) -> Self {
        Self(db, PhantomData)
    }
}

impl<F> Loader<i64> for ChildrenOf<F>
where
    F: ForeignKey,
    Model<F::Entity>: Sync,
{
    type Value = Vec<Model<F::Entity>>;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = F::Entity::find()
            .filter(any_of(self.0.get_database_backend(), F::column(), keys))
            .order_by_asc(F::Entity::id_column())
            .all(&self.0)
            .await?;
        let mut out: HashMap<i64, Self::Value> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            if let Some(parent) = F::parent_of(&row) {
                out.entry(parent).or_default().push(row);
            }
        }
        Ok(out)
    }
}

/// Counts the children of many parents with one GROUP BY.
pub struct CountOf<F>(DatabaseConnection, PhantomData<F>);

impl<F: ForeignKey> FromDb for CountOf<F> {
    fn from_db(db: DatabaseConnection) -> Self {
        Self(db, PhantomData)
    }
}

impl<F: ForeignKey> Loader<i64> for CountOf<F> {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, i64>, Self::Error> {
        let counts: Vec<(i64, i64)> = F::Entity::find()
            .select_only()
            .column(F::column())
            .column_as(Expr::col(F::Entity::id_column()).count(), "n")
            .filter(any_of(self.0.get_database_backend(), F::column(), keys))
            .group_by(F::column())
            .into_tuple()
            .all(&self.0)
            .await?;
        let mut out: HashMap<i64, i64> = keys.iter().map(|k| (*k, 0)).collect();
        out.extend(counts);
        Ok(out)
    }
}

/// A numeric column summed per parent (e.g. ratings), for averages.
pub trait SummedColumn: ForeignKey {
    fn value() -> <Self::Entity as EntityTrait>::Column;
}

/// Count and sum of a numeric column per parent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub count: i64,
    pub sum: i64,
}

impl Tally {
    /// The mean, or none when there is nothing to average.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }
}

/// Loads a [`Tally`] per parent with one GROUP BY.
pub struct TallyOf<F>(DatabaseConnection, PhantomData<F>);

impl<F: SummedColumn> FromDb for TallyOf<F> {
    fn from_db(db: DatabaseConnection) -> Self {
        Self(db, PhantomData)
    }
}

impl<F: SummedColumn> Loader<i64> for TallyOf<F> {
    type Value = Tally;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Tally>, Self::Error> {
        // SUM over a small integer is a BIGINT on PostgreSQL and an INTEGER on SQLite:
        // both decode as i64, unlike AVG, whose type differs between the two.
        let rows: Vec<(i64, i64, Option<i64>)> = F::Entity::find()
            .select_only()
            .column(F::column())
            .column_as(Expr::col(F::Entity::id_column()).count(), "n")
            .column_as(Expr::col(F::value()).sum(), "total")
            .filter(any_of(self.0.get_database_backend(), F::column(), keys))
            .group_by(F::column())
            .into_tuple()
            .all(&self.0)
            .await?;
        let mut out: HashMap<i64, Tally> = keys.iter().map(|k| (*k, Tally::default())).collect();
        for (parent, count, sum) in rows {
            out.insert(
                parent,
                Tally {
                    count,
                    sum: sum.unwrap_or(0),
                },
            );
        }
        Ok(out)
    }
}
