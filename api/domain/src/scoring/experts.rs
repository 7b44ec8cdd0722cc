//! The figures of the expert evaluation (专家考核) for a period, for every expert at once:
//! answers given, topic participations and distinct topics joined (grouped by expert), and
//! the topics open city-wide. The score is the `experts` policy script's business.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::{answer, expert, topic, topic_participation};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Query},
    ConnectionTrait, DbErr,
};

/// One expert's figures for a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpertFigures {
    /// Answers the expert wrote in the period.
    pub answers: i64,
    /// Comments and votes on topics by the expert's member account in the period.
    pub topic_participations: i64,
    /// Distinct topics among them.
    pub topics_joined: i64,
}

/// The figures of every expert with any, by expert id, and the number of topics open at
/// some time within `[start, end)` city-wide: three queries.
pub async fn expert_figures(
    db: &impl ConnectionTrait,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<(HashMap<i64, ExpertFigures>, i64), DbErr> {
    let (a, p, e, t) = (
        answer::Entity,
        topic_participation::Entity,
        expert::Entity,
        topic::Entity,
    );
    let answers = Query::select()
        .expr_as(
            Expr::col((a, answer::Column::ExpertId)),
            Alias::new("expert"),
        )
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(a)
        .and_where(Expr::col((a, answer::Column::ExpertId)).is_not_null())
        .and_where(Expr::col((a, answer::Column::AnsweredAt)).gte(start))
        .and_where(Expr::col((a, answer::Column::AnsweredAt)).lt(end))
        .add_group_by([Expr::col((a, answer::Column::ExpertId))])
        .to_owned();
    let participations = Query::select()
        .expr_as(Expr::col((e, expert::Column::Id)), Alias::new("expert"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .expr_as(
            Expr::cust("COUNT(DISTINCT topic_participation.topic_id)"),
            Alias::new("topics"),
        )
        .from(p)
        .inner_join(
            e,
            Expr::col((e, expert::Column::MemberId))
                .equals((p, topic_participation::Column::MemberId)),
        )
        .and_where(Expr::col((p, topic_participation::Column::CreatedAt)).gte(start))
        .and_where(Expr::col((p, topic_participation::Column::CreatedAt)).lt(end))
        .add_group_by([Expr::col((e, expert::Column::Id))])
        .to_owned();
    // Open at some time in the period: published before its end, not closed before its start.
    let open = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(t)
        .and_where(Expr::col((t, topic::Column::PublishedAt)).lt(end))
        .and_where(
            Expr::col((t, topic::Column::ClosesAt))
                .is_null()
                .or(Expr::col((t, topic::Column::ClosesAt)).gte(start)),
        )
        .to_owned();
    let (answer_rows, participation_rows, open_row) = tokio::try_join!(
        db.query_all(&answers),
        db.query_all(&participations),
        db.query_one(&open),
    )?;
    let mut out: HashMap<i64, ExpertFigures> = HashMap::new();
    for row in answer_rows {
        let id: i64 = row.try_get("", "expert")?;
        out.entry(id).or_default().answers = row.try_get("", "n")?;
    }
    for row in participation_rows {
        let id: i64 = row.try_get("", "expert")?;
        let figures = out.entry(id).or_default();
        figures.topic_participations = row.try_get("", "n")?;
        figures.topics_joined = row.try_get("", "topics")?;
    }
    let open = match open_row {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    };
    Ok((out, open))
}
