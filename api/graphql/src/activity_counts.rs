//! Batched per-activity figures the kept counts of the activity row do not give: likes and
//! votes apart, and the ratings' sum and mean. Each is one grouped query for every activity
//! of a response.

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

/// The figures above for one activity, batched across the response.
impl Activity {
    pub(super) async fn likes(&self, ctx: &Context<'_>) -> Result<LikeTally> {
        let tally = batched::<activity::Entity, LikeTallies>(ctx, self.0.id).await?;
        Ok(tally.unwrap_or_default())
    }
    pub(super) async fn ratings(&self, ctx: &Context<'_>) -> Result<Tally> {
        let tally = batched::<activity::Entity, TallyOf<ReviewsOfActivity>>(ctx, self.0.id).await?;
        Ok(tally.unwrap_or_default())
    }
}
