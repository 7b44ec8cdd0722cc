//! Batched per-activity figures the generic loaders cannot express: check-ins (reached
//! through sign-ups), likes and votes apart, and photos uploaded after the end. Each is
//! one grouped query for every activity of a response.

use std::collections::HashMap;

use async_graphql::{dataloader::Loader, Context, Result};
use entities::{activity, activity_like, enums::LikeKind};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};

use super::{
    activity_types::ReviewsOfActivity,
    batch::batched,
    loaders::{FromDb, LoadError, Tally, TallyOf},
    nodes::Activity,
};

/// Check-ins per activity.
pub struct CheckinCounts(DatabaseConnection);

impl FromDb for CheckinCounts {
    fn from_db(db: DatabaseConnection) -> Self {
        Self(db)
    }
}

impl Loader<i64> for CheckinCounts {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, i64>, Self::Error> {
        Ok(qii_domain::service::activity_counts::checkins(&self.0, keys).await?)
    }
}

/// Likes and votes of one activity.
#[derive(Debug, Clone, Copy, Default)]
pub struct LikeTally {
    pub likes: i64,
    pub votes: i64,
}

/// Likes and votes per activity, in one query.
pub struct LikeTallies(DatabaseConnection);

impl FromDb for LikeTallies {
    fn from_db(db: DatabaseConnection) -> Self {
        Self(db)
    }
}

impl Loader<i64> for LikeTallies {
    type Value = LikeTally;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, LikeTally>, Self::Error> {
        use activity_like::Column as L;
        let rows: Vec<(i64, LikeKind, i64)> = activity_like::Entity::find()
            .select_only()
            .column(L::ActivityId)
            .column(L::Kind)
            .column_as(Expr::col(L::Id).count(), "n")
            .filter(qii_domain::db::any_of(
                sea_orm::ConnectionTrait::get_database_backend(&self.0),
                L::ActivityId,
                keys,
            ))
            .group_by(L::ActivityId)
            .group_by(L::Kind)
            .into_tuple()
            .all(&self.0)
            .await?;
        let mut out: HashMap<i64, LikeTally> =
            keys.iter().map(|k| (*k, LikeTally::default())).collect();
        for (activity, kind, n) in rows {
            let tally = out.entry(activity).or_default();
            match kind {
                LikeKind::Like => tally.likes = n,
                LikeKind::Vote => tally.votes = n,
            }
        }
        Ok(out)
    }
}

/// Photos uploaded after their activity ended, per activity.
pub struct PhotosAfterEnd(DatabaseConnection);

impl FromDb for PhotosAfterEnd {
    fn from_db(db: DatabaseConnection) -> Self {
        Self(db)
    }
}

impl Loader<i64> for PhotosAfterEnd {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, i64>, Self::Error> {
        Ok(qii_domain::service::activity_counts::photos_after_end(&self.0, keys).await?)
    }
}

/// The figures above for one activity, batched across the response.
impl Activity {
    pub(super) async fn checkins(&self, ctx: &Context<'_>) -> Result<i64> {
        let n = batched::<activity::Entity, CheckinCounts>(ctx, self.0.id).await?;
        Ok(n.unwrap_or(0))
    }
    pub(super) async fn likes(&self, ctx: &Context<'_>) -> Result<LikeTally> {
        let tally = batched::<activity::Entity, LikeTallies>(ctx, self.0.id).await?;
        Ok(tally.unwrap_or_default())
    }
    pub(super) async fn ratings(&self, ctx: &Context<'_>) -> Result<Tally> {
        let tally = batched::<activity::Entity, TallyOf<ReviewsOfActivity>>(ctx, self.0.id).await?;
        Ok(tally.unwrap_or_default())
    }
    pub(super) async fn photos_after(&self, ctx: &Context<'_>) -> Result<i64> {
        let n = batched::<activity::Entity, PhotosAfterEnd>(ctx, self.0.id).await?;
        Ok(n.unwrap_or(0))
    }
}
