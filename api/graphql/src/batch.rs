//! Sibling batching: the rows of every page a request reads are registered as one group,
//! and a relation asked of any of them is loaded for the whole group at once.
//!
//! When `towns { activities { signupCount } } }` resolves, the 32 towns of the page are a
//! group: the first town whose `activities` runs loads the activities of all 32 in one
//! statement, and the others find them ready. Nothing waits for a batching window, and each
//! relation level costs one statement whatever the page size. A row that was not read
//! through a page (rare) falls back to the request's [`super::loaders::Loaders`].

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
};

use async_graphql::{dataloader::Loader, Context, Result};
use entities::HasId;
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::OnceCell;

use super::{
    load_error,
    loaders::{ById, FromDb, LoadError},
    ContextExt,
};

type Shared = Arc<dyn Any + Send + Sync>;
type Cell = Arc<OnceCell<Shared>>;

/// Rows read together, and what has been loaded for all of them.
pub struct Group {
    ids: Vec<i64>,
    /// The rows themselves (`Vec<E::Model>`), for relations through their foreign keys.
    models: Shared,
    /// Position of each id in `models`.
    index: HashMap<i64, usize>,
    /// Relations loaded for the group, by loader type and a key for its arguments.
    cells: Mutex<HashMap<(TypeId, String), Cell>>,
}

impl Group {
    /// A group of one row that was not read through a page.
    pub fn single(id: i64) -> Self {
        Self {
            ids: vec![id],
            models: Arc::new(()),
            index: HashMap::new(),
            cells: Mutex::default(),
        }
    }

    /// The ids of the group, in the order they were read.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    fn models<E: EntityTrait>(&self) -> Option<&Vec<E::Model>>
    where
        E::Model: Send + Sync,
    {
        self.models.downcast_ref::<Vec<E::Model>>()
    }

    fn cell(&self, loader: TypeId, key: String) -> Cell {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        cells.entry((loader, key)).or_default().clone()
    }

    /// What `load` gives for the whole group, computed once however many rows ask.
    pub async fn once<T, F, Fut>(&self, loader: TypeId, key: String, load: F) -> Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(Vec<i64>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let cell = self.cell(loader, key);
        let ids = self.ids.clone();
        let value = cell
            .get_or_try_init(|| async move {
                Ok::<Shared, async_graphql::Error>(Arc::new(load(ids).await?))
            })
            .await?
            .clone();
        value
            .downcast::<T>()
            .map_err(|_| async_graphql::Error::new("a batch was read as the wrong type"))
    }
}

/// The groups of one request, by entity.
#[derive(Default)]
pub struct Batches {
    groups: Mutex<HashMap<TypeId, HashMap<i64, Arc<Group>>>>,
}

impl Batches {
    /// Registers rows read together as a group; later relations of any of them load for
    /// all of them.
    pub fn register<E>(&self, rows: &[E::Model])
    where
        E: HasId,
        E::Model: Clone + Send + Sync,
    {
        if rows.is_empty() {
            return;
        }
        let ids: Vec<i64> = rows.iter().map(E::id_of).collect();
        let index = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let group = Arc::new(Group {
            ids,
            models: Arc::new(rows.to_vec()),
            index,
            cells: Mutex::default(),
        });
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let of_entity = groups.entry(TypeId::of::<E>()).or_default();
        for id in &group.ids {
            of_entity.insert(*id, group.clone());
        }
    }

    /// Forgets every group: after a change, rows read before may be out of date.
    pub fn clear(&self) {
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The group row `id` of `E` was read in.
    pub fn group_of<E: 'static>(&self, id: i64) -> Option<Arc<Group>> {
        let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups.get(&TypeId::of::<E>())?.get(&id).cloned()
    }

    /// Row `id` of `E` when this request has read it already.
    pub fn row<E>(&self, id: i64) -> Option<E::Model>
    where
        E: HasId,
        E::Model: Clone + Send + Sync,
    {
        let group = self.group_of::<E>(id)?;
        let at = *group.index.get(&id)?;
        group.models::<E>()?.get(at).cloned()
    }
}

/// What loader `L` gives for row `id` of `P`, loaded for the whole group `id` was read in
/// (in one statement, at once); through the request's batch loader otherwise.
pub async fn batched<P, L>(ctx: &Context<'_>, id: i64) -> Result<Option<L::Value>>
where
    P: 'static,
    L: FromDb + Loader<i64, Error = LoadError>,
    L::Value: Clone,
{
    // Boxed: the awaiting field's future stays small (async-graphql moves each field's
    // future, and an object's fields share the size of the largest).
    Box::pin(async move {
        let app = ctx.app()?;
        let Some(group) = app.batches.group_of::<P>(id) else {
            return ctx.loader::<L>()?.load_one(id).await.map_err(load_error);
        };
        let db = app.db.clone();
        let values = group
            .once(TypeId::of::<L>(), String::new(), |ids| async move {
                L::from_db(db).load(&ids).await.map_err(load_error)
            })
            .await?;
        Ok(values.get(&id).cloned())
    })
    .await
}

/// Rows of `E` by id in one statement, registered as a group.
pub async fn fetch<E>(ctx: &Context<'_>, ids: &[i64]) -> Result<HashMap<i64, E::Model>>
where
    E: HasId,
    E::Model: Clone + Send + Sync,
{
    let app = ctx.app()?;
    let rows = load_rows::<E>(&app.db, ids).await?;
    let list: Vec<E::Model> = rows.values().cloned().collect();
    app.batches.register::<E>(&list);
    Ok(rows)
}

async fn load_rows<E>(db: &DatabaseConnection, ids: &[i64]) -> Result<HashMap<i64, E::Model>>
where
    E: HasId,
    E::Model: Send + Sync,
{
    ById::<E>::from_db(db.clone())
        .load(ids)
        .await
        .map_err(load_error)
}

/// The row of `T` that row `child` of `C` points to through `fk`: loaded for every row of
/// `child`'s group at once (the loaded rows become a group of their own), from what the
/// request has read already, or through the request's batch loader.
pub async fn related<C, T>(
    ctx: &Context<'_>,
    child: i64,
    label: &'static str,
    fk: fn(&C::Model) -> Option<i64>,
    target: Option<i64>,
) -> Result<Option<T::Model>>
where
    C: HasId,
    C::Model: Clone + Send + Sync,
    T: HasId,
    T::Model: Clone + Send + Sync,
{
    related_with::<C, T, ByIds>(ctx, child, (label, fk, target)).await
}

/// How [`related_with`] reads the rows pointed to: by their ids, and possibly more rows
/// that the request is about to ask for (they are registered with the others).
pub trait LoadRows<T: EntityTrait>: 'static {
    fn load(
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> impl Future<Output = Result<HashMap<i64, T::Model>>> + Send;
}

/// The rows with the ids asked for, nothing more.
pub struct ByIds;

impl<T: HasId> LoadRows<T> for ByIds
where
    T::Model: Send + Sync,
{
    async fn load(db: DatabaseConnection, keys: Vec<i64>) -> Result<HashMap<i64, T::Model>> {
        load_rows::<T>(&db, &keys).await
    }
}

/// A relation from a row of `C` to the row it points to: a label for the batch, the
/// foreign key, and its value on the row asked about.
pub type Link<C> = (&'static str, ForeignKeyOf<C>, Option<i64>);

/// How a row of `C` names the row it points to.
pub type ForeignKeyOf<C> = fn(&<C as EntityTrait>::Model) -> Option<i64>;

/// [`related`], with the rows read by `L`.
pub async fn related_with<C, T, L>(
    ctx: &Context<'_>,
    child: i64,
    (label, fk, target): Link<C>,
) -> Result<Option<T::Model>>
where
    C: HasId,
    C::Model: Clone + Send + Sync,
    T: HasId,
    T::Model: Clone + Send + Sync,
    L: LoadRows<T>,
{
    // Boxed: the awaiting field's future stays small (async-graphql moves each field's
    // future, and an object's fields share the size of the largest).
    Box::pin(async move {
        let Some(target) = target else {
            return Ok(None);
        };
        let app = ctx.app()?;
        if let Some(row) = app.batches.row::<T>(target) {
            return Ok(Some(row));
        }
        let Some(group) = app.batches.group_of::<C>(child) else {
            return super::load_by_id::<T>(ctx, target).await;
        };
        let mut keys: Vec<i64> = group
            .models::<C>()
            .map(|rows| rows.iter().filter_map(fk).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys.dedup();
        let db = app.db.clone();
        let batches = app.batches.clone();
        let rows = group
            .once(
                TypeId::of::<(ById<T>, L)>(),
                label.to_owned(),
                |_| async move {
                    let rows = L::load(db, keys).await?;
                    // The rows pointed to are siblings in turn.
                    let list: Vec<T::Model> = rows.values().cloned().collect();
                    batches.register::<T>(&list);
                    Ok(rows)
                },
            )
            .await?;
        Ok(rows.get(&target).cloned())
    })
    .await
}
