//! The queries of the raw-figure families: each selects the rows of one figure for the
//! period, joined to the org unit they belong to (`ou`); [`Families::count`] and
//! [`Families::sum`] group them by the level's unit.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::{
    activity, answer, daily_visit, enums::OrgUnitKind, expert, member, org_unit, question, topic,
    topic_participation,
};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query, SelectStatement, SimpleExpr},
    ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
};

use super::activity_sql::{counts_for_publisher, period_column, valid_question};
use super::level::{ou, Level};
use qii_engine::period::Period;
use qii_engine::rules::activity::ActivityRules;

/// The queries of the figure families.
pub(super) struct Families {
    pub level: Level,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Families {
    /// `SELECT unit, COUNT(*) … GROUP BY unit`.
    pub(super) async fn count(
        &self,
        db: &impl ConnectionTrait,
        mut query: SelectStatement,
    ) -> Result<HashMap<i64, i64>, DbErr> {
        query.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"));
        self.grouped(db, &mut query).await
    }

    /// `SELECT unit, SUM(column) … GROUP BY unit`, as an integer on both databases.
    pub(super) async fn sum<T, C>(
        &self,
        db: &impl ConnectionTrait,
        query: &mut SelectStatement,
        column: (T, C),
    ) -> Result<HashMap<i64, i64>, DbErr>
    where
        T: sea_orm::sea_query::IntoIden,
        C: sea_orm::sea_query::IntoIden,
    {
        query.expr_as(
            Func::cast_as(Func::sum(Expr::col(column)), Alias::new("BIGINT")),
            Alias::new("n"),
        );
        self.grouped(db, query).await
    }

    pub(super) async fn grouped(
        &self,
        db: &impl ConnectionTrait,
        query: &mut SelectStatement,
    ) -> Result<HashMap<i64, i64>, DbErr> {
        let [n] = self.grouped_columns(db, query, ["n"]).await?;
        Ok(n)
    }

    /// Groups `query` by the level's unit and reads the integer columns `names` per unit.
    async fn grouped_columns<const N: usize>(
        &self,
        db: &impl ConnectionTrait,
        query: &mut SelectStatement,
        names: [&str; N],
    ) -> Result<[HashMap<i64, i64>; N], DbErr> {
        let unit = self.level.unit();
        self.level.restrict(query);
        query
            .expr_as(unit.clone(), Alias::new("unit"))
            .and_where(unit.clone().is_not_null())
            .add_group_by([unit]);
        let mut out = std::array::from_fn(|_| HashMap::new());
        for row in db.query_all(&*query).await? {
            let unit: i64 = row.try_get("", "unit")?;
            for (name, values) in names.iter().zip(out.iter_mut()) {
                let n: Option<i64> = row.try_get("", name)?;
                values.insert(unit, n.unwrap_or(0));
            }
        }
        Ok(out)
    }

    /// `FROM table JOIN org_unit ou ON ou.id = table.fk`.
    pub(super) fn from_unit<E: EntityTrait, C: ColumnTrait>(table: E, fk: C) -> SelectStatement {
        Query::select()
            .from(table)
            .join_as(
                JoinType::InnerJoin,
                org_unit::Entity,
                ou(),
                Expr::col((ou(), org_unit::Column::Id)).equals((table, fk)),
            )
            .to_owned()
    }

    pub(super) fn within<T: sea_orm::sea_query::IntoIden, C: sea_orm::sea_query::IntoIden>(
        &self,
        column: (T, C),
    ) -> SimpleExpr {
        let column = Expr::col(column);
        column.clone().gte(self.start).and(column.lt(self.end))
    }

    /// Valid questions addressed to the unit, by the rules.
    pub(super) fn questions(&self, rules: &ActivityRules) -> SelectStatement {
        let mut q = Self::from_unit(question::Entity, question::Column::AddressedToId);
        q.cond_where(valid_question(rules))
            .and_where(self.within((question::Entity, question::Column::AskedAt)));
        q
    }

    /// Answers to the questions addressed to the unit (to its valid ones only, when the
    /// rules say so).
    pub(super) fn answers(&self, rules: &ActivityRules) -> SelectStatement {
        let mut q = Query::select()
            .from(answer::Entity)
            .inner_join(
                question::Entity,
                Expr::col((question::Entity, question::Column::Id))
                    .equals((answer::Entity, answer::Column::QuestionId)),
            )
            .join_as(
                JoinType::InnerJoin,
                org_unit::Entity,
                ou(),
                Expr::col((ou(), org_unit::Column::Id))
                    .equals((question::Entity, question::Column::AddressedToId)),
            )
            .to_owned();
        q.and_where(self.within((answer::Entity, answer::Column::AnsweredAt)));
        if rules.questions.answers_need_valid_question {
            q.cond_where(valid_question(rules));
        }
        q
    }

    /// Answers written by experts the unit recruited.
    pub(super) fn expert_answers(&self) -> SelectStatement {
        let mut q = Query::select()
            .from(answer::Entity)
            .inner_join(
                expert::Entity,
                Expr::col((expert::Entity, expert::Column::Id))
                    .equals((answer::Entity, answer::Column::ExpertId)),
            )
            .join_as(
                JoinType::InnerJoin,
                org_unit::Entity,
                ou(),
                Expr::col((ou(), org_unit::Column::Id))
                    .equals((expert::Entity, expert::Column::RecruitedById)),
            )
            .to_owned();
        q.and_where(self.within((answer::Entity, answer::Column::AnsweredAt)));
        q
    }

    /// Participations in the unit's topics.
    pub(super) fn participations(&self) -> SelectStatement {
        let mut q = Query::select()
            .from(topic_participation::Entity)
            .inner_join(
                topic::Entity,
                Expr::col((topic::Entity, topic::Column::Id)).equals((
                    topic_participation::Entity,
                    topic_participation::Column::TopicId,
                )),
            )
            .join_as(
                JoinType::InnerJoin,
                org_unit::Entity,
                ou(),
                Expr::col((ou(), org_unit::Column::Id))
                    .equals((topic::Entity, topic::Column::OrgUnitId)),
            )
            .to_owned();
        q.and_where(self.within((
            topic_participation::Entity,
            topic_participation::Column::CreatedAt,
        )));
        q
    }

    /// The activities that count for their publisher, joined to it as `ou`: every family
    /// of activities starts here, so a heavyweight one counts only once approved (when the
    /// rules say so).
    pub(super) fn activities(rules: &ActivityRules) -> SelectStatement {
        let mut q = Self::from_unit(activity::Entity, activity::Column::OrgUnitId);
        q.cond_where(counts_for_publisher(rules));
        q
    }

    /// The activities that count for their publisher and fall in the period by the date
    /// the rules count them by.
    pub(super) fn activities_within(&self, rules: &ActivityRules) -> SelectStatement {
        let mut q = Self::activities(rules);
        q.and_where(self.within((activity::Entity, period_column(rules))));
        q
    }

    /// Activities of the period that meet the rules' conditions (sign-ups, photos after
    /// the end).
    pub(super) fn eligible_activities(&self, rules: &ActivityRules) -> SelectStatement {
        let mut q = self.activities_within(rules);
        q.cond_where(super::activity_sql::counts_toward_index(rules));
        q
    }

    /// Registered Youth Homes existing at the period's end.
    pub(super) fn youth_homes(&self, period: &Period) -> SelectStatement {
        let mut q = Query::select().from_as(org_unit::Entity, ou()).to_owned();
        q.and_where(
            Expr::col((ou(), org_unit::Column::Kind)).eq(OrgUnitKind::YouthHome.to_value()),
        )
        .and_where(Expr::col((ou(), org_unit::Column::Registered)).eq(true))
        .and_where(
            Expr::col((ou(), org_unit::Column::FoundedOn))
                .is_null()
                .or(Expr::col((ou(), org_unit::Column::FoundedOn)).lte(period.last_day())),
        );
        q
    }

    /// Activities of Youth Homes in the period.
    pub(super) fn home_activities(&self, rules: &ActivityRules) -> SelectStatement {
        let mut q = self.activities_within(rules);
        q.and_where(
            Expr::col((ou(), org_unit::Column::Kind)).eq(OrgUnitKind::YouthHome.to_value()),
        );
        q
    }

    /// Rows (sign-ups, comments, reviews) on Youth Homes' activities, made in the period.
    pub(super) fn home_rows<E: EntityTrait + Default>(
        &self,
        rules: &ActivityRules,
        activity_fk: E::Column,
        at: E::Column,
    ) -> SelectStatement {
        let mut q = Query::select()
            .from(E::default())
            .inner_join(
                activity::Entity,
                Expr::col((activity::Entity, activity::Column::Id))
                    .equals((E::default(), activity_fk)),
            )
            .join_as(
                JoinType::InnerJoin,
                org_unit::Entity,
                ou(),
                Expr::col((ou(), org_unit::Column::Id))
                    .equals((activity::Entity, activity::Column::OrgUnitId)),
            )
            .to_owned();
        q.and_where(
            Expr::col((ou(), org_unit::Column::Kind)).eq(OrgUnitKind::YouthHome.to_value()),
        )
        .and_where(self.within((E::default(), at)))
        .cond_where(counts_for_publisher(rules));
        q
    }

    /// Experts the unit recruited in the period.
    pub(super) fn experts(&self) -> SelectStatement {
        let mut q = Self::from_unit(expert::Entity, expert::Column::RecruitedById);
        q.and_where(self.within((expert::Entity, expert::Column::JoinedAt)));
        q
    }

    /// Members registered under the unit by the period's end, and how many of them had bound
    /// a mobile number by then, in one pass over the members: counted per home town first,
    /// so the join to the unit sees one row per town instead of one per member.
    pub(super) async fn registrations(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<[HashMap<i64, i64>; 2], DbErr> {
        let m = Alias::new("m");
        let (registered, bound) = (Alias::new("registered"), Alias::new("bound"));
        let per_town = Query::select()
            .column(member::Column::HomeTownId)
            .expr_as(Expr::cust("COUNT(*)"), registered.clone())
            .expr_as(
                Func::sum(
                    Expr::case(Expr::col(member::Column::MobileBoundAt).lt(self.end), 1).finally(0),
                ),
                bound.clone(),
            )
            .from(member::Entity)
            .and_where(Expr::col(member::Column::RegisteredAt).lt(self.end))
            .group_by_col(member::Column::HomeTownId)
            .to_owned();
        let total = |column: &Alias| {
            Func::cast_as(
                Func::sum(Expr::col((m.clone(), column.clone()))),
                Alias::new("BIGINT"),
            )
        };
        let mut query = Query::select()
            .from_subquery(per_town, m.clone())
            .join_as(
                JoinType::InnerJoin,
                org_unit::Entity,
                ou(),
                Expr::col((ou(), org_unit::Column::Id))
                    .equals((m.clone(), member::Column::HomeTownId)),
            )
            .expr_as(total(&registered), Alias::new("n"))
            .expr_as(total(&bound), Alias::new("b"))
            .to_owned();
        self.grouped_columns(db, &mut query, ["n", "b"]).await
    }

    /// Imported daily visits on the period's days.
    pub(super) fn visits(&self, period: &Period) -> SelectStatement {
        let mut q = Self::from_unit(daily_visit::Entity, daily_visit::Column::OrgUnitId);
        q.and_where(
            Expr::col((daily_visit::Entity, daily_visit::Column::Day)).gte(period.first_day()),
        )
        .and_where(
            Expr::col((daily_visit::Entity, daily_visit::Column::Day)).lte(period.last_day()),
        );
        q
    }
}
