//! Heavyweight activities (重磅活动, DOMAIN.md §5.2): one counts into its publisher's
//! figures only once an incentive application with the intent `heavyweight` naming it is
//! approved ([`crate::scoring::activity_sql::counts_for_publisher`]). This module says
//! where each stands.

use std::collections::HashMap;

use entities::{
    enums::{ApplicationStatus, IncentiveIntent},
    incentive_application, incentive_intent,
};
use sea_orm::{
    sea_query::Query, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

/// Where a heavyweight activity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No heavyweight application naming it has been decided.
    Pending,
    /// One was approved: it counts.
    Approved,
    /// Every decided one was rejected: it does not count.
    Rejected,
}

/// The standing of one heavyweight activity and the note of the decision behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub standing: Standing,
    pub note: Option<String>,
}

/// The standing of each of `activities` (heavyweight ones), in one query. An approval
/// wins over rejections; among rejections, the latest one's note is given.
pub async fn decisions(
    db: &impl ConnectionTrait,
    activities: &[i64],
) -> Result<HashMap<i64, Decision>, DbErr> {
    use incentive_application::Column as A;
    let heavyweight = Query::select()
        .column(incentive_intent::Column::ApplicationId)
        .from(incentive_intent::Entity)
        .and_where(incentive_intent::Column::Intent.eq(IncentiveIntent::Heavyweight))
        .to_owned();
    let applications = incentive_application::Entity::find()
        .filter(crate::db::any_of(
            db.get_database_backend(),
            A::ActivityId,
            activities,
        ))
        .filter(A::Status.ne(ApplicationStatus::Submitted))
        .filter(A::Id.in_subquery(heavyweight))
        .order_by_asc(A::DecidedAt)
        .order_by_asc(A::Id)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Decision> = activities
        .iter()
        .map(|&id| {
            let pending = Decision {
                standing: Standing::Pending,
                note: None,
            };
            (id, pending)
        })
        .collect();
    for application in applications {
        let Some(activity) = application.activity_id else {
            continue;
        };
        let entry = out.entry(activity).or_insert(Decision {
            standing: Standing::Pending,
            note: None,
        });
        if entry.standing == Standing::Approved {
            continue;
        }
        entry.standing = match application.status {
            ApplicationStatus::Approved => Standing::Approved,
            _ => Standing::Rejected,
        };
        entry.note = application.decision_note;
    }
    Ok(out)
}
