//! Per-activity counts that a plain `GROUP BY activity_id` cannot give — check-ins (reached
//! through sign-ups) and photos uploaded after the end — for any set of activities in one
//! grouped query each. The response's batch loaders and the design contest share them.

use std::collections::HashMap;

use entities::{activity, activity_checkin, activity_photo, activity_signup};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query},
    ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationDef,
};

/// Check-ins per activity of `ids`; every id is present, 0 when none.
pub async fn checkins(db: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, i64>, DbErr> {
    use activity_signup::Column as S;
    // A check-in belongs to one sign-up (unique), so counting checked-in sign-ups counts
    // check-ins.
    let checked_in = Query::select()
        .column(activity_checkin::Column::SignupId)
        .from(activity_checkin::Entity)
        .to_owned();
    let counts: Vec<(i64, i64)> = activity_signup::Entity::find()
        .select_only()
        .column(S::ActivityId)
        .column_as(Expr::col(S::Id).count(), "n")
        .filter(crate::db::any_of(
            db.get_database_backend(),
            S::ActivityId,
            ids,
        ))
        .filter(Expr::col((activity_signup::Entity, S::Id)).in_subquery(checked_in))
        .group_by(S::ActivityId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(with_zeros(ids, counts))
}

/// Photos uploaded after their activity ended, per activity of `ids`; every id is present.
pub async fn photos_after_end(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, i64>, DbErr> {
    use activity_photo::Column as P;
    // The entities declare no relations.
    let photo_of_activity: RelationDef = activity_photo::Entity::belongs_to(activity::Entity)
        .from(P::ActivityId)
        .to(activity::Column::Id)
        .into();
    let counts: Vec<(i64, i64)> = activity_photo::Entity::find()
        .select_only()
        .column(P::ActivityId)
        .column_as(Expr::col((activity_photo::Entity, P::Id)).count(), "n")
        .join(JoinType::InnerJoin, photo_of_activity)
        .filter(crate::db::any_of(
            db.get_database_backend(),
            P::ActivityId,
            ids,
        ))
        .filter(
            Expr::col((activity_photo::Entity, P::UploadedAt))
                .gt(Expr::col((activity::Entity, activity::Column::EndsAt))),
        )
        .group_by(P::ActivityId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(with_zeros(ids, counts))
}

fn with_zeros(ids: &[i64], counts: Vec<(i64, i64)>) -> HashMap<i64, i64> {
    let mut out: HashMap<i64, i64> = ids.iter().map(|k| (*k, 0)).collect();
    out.extend(counts);
    out
}
