//! The activity rules ([`ActivityRules`]) as SQL conditions on an activity row, so that
//! the database counts the activities that count toward the index, or whose loop is whole,
//! for every unit at once; and whether a heavyweight activity counts for its publisher yet.

use entities::{
    activity, activity_checkin, activity_comment, activity_like, activity_photo, activity_review,
    activity_signup,
    enums::{ApplicationStatus, IncentiveIntent, ModerationStatus},
    incentive_application, incentive_intent, question,
};
use sea_orm::{
    sea_query::{
        Condition, Expr, ExprTrait, Query, QueryStatementBuilder, SelectStatement, SimpleExpr,
    },
    ActiveEnum, EntityTrait,
};

use qii_engine::rules::activity::{ActivityFigure, ActivityRules, PeriodDate};

/// `SELECT … FROM` the rows of `figure` for the activity row of table `activity`, with
/// nothing selected yet.
fn figure_rows(figure: ActivityFigure) -> SelectStatement {
    let a = activity::Entity;
    let id = Expr::col((a, activity::Column::Id));
    fn of<E: EntityTrait>(
        entity: E,
        activity_id: impl sea_orm::sea_query::IntoIden,
        id: SimpleExpr,
    ) -> SelectStatement {
        let mut q = Query::select();
        q.from(entity)
            .and_where(Expr::col((entity, activity_id)).eq(id));
        q
    }
    match figure {
        ActivityFigure::Signups => of(
            activity_signup::Entity,
            activity_signup::Column::ActivityId,
            id,
        ),
        ActivityFigure::Checkins => {
            // A check-in belongs to one sign-up of the activity. A join, not
            // `signup_id IN (sign-ups of the activity)`: PostgreSQL cannot pull a correlated
            // IN inside EXISTS up into a join and rescans every check-in per activity.
            let (checkin, signup) = (activity_checkin::Entity, activity_signup::Entity);
            Query::select()
                .from(checkin)
                .inner_join(
                    signup,
                    Expr::col((signup, activity_signup::Column::Id))
                        .equals((checkin, activity_checkin::Column::SignupId)),
                )
                .and_where(Expr::col((signup, activity_signup::Column::ActivityId)).eq(id))
                .to_owned()
        }
        ActivityFigure::Comments => of(
            activity_comment::Entity,
            activity_comment::Column::ActivityId,
            id,
        ),
        ActivityFigure::Reviews => of(
            activity_review::Entity,
            activity_review::Column::ActivityId,
            id,
        ),
        ActivityFigure::Photos => of(
            activity_photo::Entity,
            activity_photo::Column::ActivityId,
            id,
        ),
        ActivityFigure::PhotosAfterEnd => {
            let mut q = of(
                activity_photo::Entity,
                activity_photo::Column::ActivityId,
                id,
            );
            q.and_where(
                Expr::col((activity_photo::Entity, activity_photo::Column::UploadedAt))
                    .gt(Expr::col((a, activity::Column::EndsAt))),
            );
            q
        }
        ActivityFigure::Likes => of(activity_like::Entity, activity_like::Column::ActivityId, id),
    }
}

/// The activity row's `figure` is at least `at_least`.
fn reaches(figure: ActivityFigure, at_least: i64) -> Option<SimpleExpr> {
    let mut rows = figure_rows(figure);
    match at_least {
        ..=0 => None,
        // EXISTS stops at the first row.
        1 => Some(Expr::exists(rows.expr(Expr::val(1)).to_owned())),
        n => {
            let count = rows.expr(Expr::cust("COUNT(*)")).to_owned();
            Some(
                Expr::expr(SimpleExpr::SubQuery(
                    None,
                    Box::new(count.into_sub_query_statement()),
                ))
                .gte(n),
            )
        }
    }
}

/// The activity row (table `activity`) counts toward the index.
pub fn counts_toward_index(rules: &ActivityRules) -> Condition {
    rules
        .conditions
        .iter()
        .filter_map(|c| reaches(c.figure, c.at_least))
        .fold(Condition::all(), Condition::add)
}

/// The activity row (table `activity`) has every required step of its loop done.
pub fn loop_whole(rules: &ActivityRules) -> Condition {
    rules
        .required_steps()
        .filter_map(|s| reaches(s.figure, s.at_least))
        .fold(Condition::all(), Condition::add)
}

/// The activity row (table `activity`) counts for its publisher at all: an ordinary
/// activity always does, a heavyweight one (重磅活动) only once an incentive application
/// with the intent `heavyweight` naming it has been approved, when the rules say so. Every
/// figure family that reads activities adds this condition.
pub fn counts_for_publisher(rules: &ActivityRules) -> Condition {
    if !rules.heavyweight.counts_once_approved {
        return Condition::all();
    }
    Condition::all().add(approved_or_ordinary())
}

/// The activity date that puts an activity in a period, by the rules.
pub fn period_column(rules: &ActivityRules) -> activity::Column {
    match rules.counted_by {
        PeriodDate::Start => activity::Column::StartsAt,
        PeriodDate::End => activity::Column::EndsAt,
    }
}

/// The question row (table `question`) is a valid question by the rules: visible, and with
/// enough characters in its title and body (spaces at either end not counted).
pub fn valid_question(rules: &ActivityRules) -> Condition {
    // As the rollups count it (LENGTH counts characters on both databases).
    let characters = Expr::cust("(LENGTH(TRIM(question.title)) + LENGTH(TRIM(question.body)))");
    Condition::all()
        .add(
            Expr::col((question::Entity, question::Column::Status))
                .eq(ModerationStatus::Visible.to_value()),
        )
        .add(characters.gte(rules.questions.at_least_characters))
}

fn approved_or_ordinary() -> SimpleExpr {
    let (app, intent) = (incentive_application::Entity, incentive_intent::Entity);
    let approved = Query::select()
        .expr(Expr::val(1))
        .from(app)
        .inner_join(
            intent,
            Expr::col((intent, incentive_intent::Column::ApplicationId))
                .equals((app, incentive_application::Column::Id)),
        )
        .and_where(
            Expr::col((app, incentive_application::Column::ActivityId))
                .equals((activity::Entity, activity::Column::Id)),
        )
        .and_where(
            Expr::col((app, incentive_application::Column::Status))
                .eq(ApplicationStatus::Approved.to_value()),
        )
        .and_where(
            Expr::col((intent, incentive_intent::Column::Intent))
                .eq(IncentiveIntent::Heavyweight.to_value()),
        )
        .to_owned();
    Expr::col((activity::Entity, activity::Column::Heavyweight))
        .eq(false)
        .or(Expr::exists(approved))
}
