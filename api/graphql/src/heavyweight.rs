//! Where a heavyweight activity stands with the city, batched across a response.

use std::collections::HashMap;

use async_graphql::{dataloader::Loader, Context, Enum, Result};
use sea_orm::DatabaseConnection;

use super::{
    loaders::{FromDb, LoadError},
    nodes::Activity,
};
use qii_domain::service::heavyweight::{self as service, Decision, Standing};

/// Where a heavyweight activity (重磅活动) stands: it counts into its publisher's figures
/// only once approved.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum HeavyweightStatus {
    /// No heavyweight application naming it has been decided yet: it does not count.
    Pending,
    /// A heavyweight application naming it was approved: it counts.
    Approved,
    /// Its heavyweight applications were rejected: it does not count.
    Rejected,
}

impl From<Standing> for HeavyweightStatus {
    fn from(s: Standing) -> Self {
        match s {
            Standing::Pending => Self::Pending,
            Standing::Approved => Self::Approved,
            Standing::Rejected => Self::Rejected,
        }
    }
}

/// The decision on each heavyweight activity, in one query per batch.
pub struct HeavyweightDecisions(DatabaseConnection);

impl FromDb for HeavyweightDecisions {
    fn from_db(db: DatabaseConnection) -> Self {
        Self(db)
    }
}

impl Loader<i64> for HeavyweightDecisions {
    type Value = Decision;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Decision>, Self::Error> {
        Ok(service::decisions(&self.0, keys).await?)
    }
}

impl Activity {
    /// The decision on this activity when it is heavyweight; none for an ordinary one.
    pub(super) async fn heavyweight_decision(&self, ctx: &Context<'_>) -> Result<Option<Decision>> {
        if !self.0.heavyweight {
            return Ok(None);
        }
        super::batch::batched::<entities::activity::Entity, HeavyweightDecisions>(ctx, self.0.id)
            .await
    }
}
