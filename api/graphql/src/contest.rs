//! The monthly activity design contest: the month's entries ranked by the incentive rules.

use async_graphql::{Context, Object, Result};

use super::{
    incentive::IncentiveApplication,
    incentive_eligibility::PolicyRuleVersion,
    nodes::Activity,
    pagination::{cost, page_of, Page},
    ContextExt,
};
use qii_domain::service::contest::{self as service, Contest, Entry};

/// The design contest of one month (活动设计大赛): every activity entered by a
/// design-contest application that was not rejected and ended within the month.
pub struct DesignContest(Contest);

/// The design contest of one month (活动设计大赛): every activity entered by a
/// design-contest application that was not rejected and ended within the month.
#[Object]
impl DesignContest {
    /// The month, e.g. `2017-11`.
    async fn month(&self) -> String {
        self.0.month.to_string()
    }
    /// The incentive rules that scored it (name, version, script hash).
    async fn rule_version(&self) -> PolicyRuleVersion {
        self.0.rule_version.clone().into()
    }
    /// How many entries the month showcases.
    async fn showcase_size(&self) -> i64 {
        self.0.showcase
    }
    /// How many of the showcased entries are rewarded.
    async fn awarded_size(&self) -> i64 {
        self.0.awarded
    }
    /// The entries, best first (ties to the lower activity id).
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn entries(
        &self,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the edge the page starts after.")] after: Option<String>,
    ) -> Result<Page<ContestEntry>> {
        page_of(self.0.entries.clone(), first, after, ContestEntry)
    }
}

/// One entry of a month's design contest, with the figures that ranked it.
pub struct ContestEntry(Entry);

/// One entry of a month's design contest, with the figures that ranked it.
#[Object]
impl ContestEntry {
    /// 1 for the best score.
    async fn rank(&self) -> u32 {
        self.0.rank
    }
    /// The activity entered.
    async fn activity(&self) -> Activity {
        Activity(self.0.activity.clone())
    }
    /// The application that entered it (the earliest, when several did).
    async fn application(&self) -> IncentiveApplication {
        IncentiveApplication(self.0.application.clone())
    }
    /// The score the incentive rules give it (`contest_score`), the higher the better.
    async fn score(&self) -> f64 {
        self.0.score
    }
    /// Within the month's showcase (rank ≤ `showcaseSize`).
    async fn showcased(&self) -> bool {
        self.0.showcased
    }
    /// Rewarded (rank ≤ `awardedSize`).
    async fn awarded(&self) -> bool {
        self.0.awarded
    }
    /// Likes and votes (点赞/投票).
    async fn likes(&self) -> i64 {
        self.0.figures.likes
    }
    /// Sign-ups (报名).
    async fn signups(&self) -> i64 {
        self.0.figures.signups
    }
    /// Check-ins (签到).
    async fn checkins(&self) -> i64 {
        self.0.figures.checkins
    }
    /// Comments (评论).
    async fn comments(&self) -> i64 {
        self.0.figures.comments
    }
    /// Reviews (评价).
    async fn reviews(&self) -> i64 {
        self.0.figures.reviews
    }
    /// Mean rating of the reviews (1–5); null without reviews (the score counts it as 0).
    async fn average_rating(&self) -> Option<f64> {
        self.0.figures.average_rating
    }
    /// Photos uploaded after the activity ended.
    async fn photos_after_end(&self) -> i64 {
        self.0.figures.photos_after_end
    }
    /// Steps of the activity loop done, by the activity rules in force.
    async fn loop_steps_done(&self) -> i64 {
        self.0.figures.loop_steps_done
    }
    /// Steps of the activity loop.
    async fn loop_steps(&self) -> i64 {
        self.0.figures.loop_steps
    }
    /// Every required step of the loop is done (完整闭环).
    async fn loop_complete(&self) -> bool {
        self.0.figures.loop_complete
    }
}

/// The design contest.
#[derive(Default)]
pub struct ContestQuery;

#[Object]
impl ContestQuery {
    /// The design contest of a month (`2017-11`): its entries ranked by `contest_score` of
    /// the incentive rules in effect, the showcased and rewarded ones marked. A period
    /// other than a month is refused (`BAD_USER_INPUT`); a month no incentive rules cover
    /// is a `RULE_ERROR`.
    async fn design_contest(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The month, written `YYYY-MM`, e.g. `2017-11`.")] month: String,
    ) -> Result<DesignContest> {
        let app = ctx.app()?;
        app.actor
            .require(qii_domain::authz::Need::Staff, "read the design contest")?;
        let contest = service::design_contest(&app.db, &app.rules, &month).await?;
        Ok(DesignContest(contest))
    }
}
