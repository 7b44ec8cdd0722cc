//! What a report holds: plain data, the same for the GraphQL query, the workbook, the CSV
//! and the printable page.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};
use qii_domain::id::Id;
use serde::Serialize;

/// How often a report is issued.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    /// Of an ISO week, e.g. `2017-W45`.
    Weekly,
    /// Of a month, e.g. `2017-11`: the one sent to every town's league secretary.
    Monthly,
}

impl ReportKind {
    /// The name in addresses and file names: `weekly`, `monthly`.
    pub fn slug(self) -> &'static str {
        match self {
            ReportKind::Weekly => "weekly",
            ReportKind::Monthly => "monthly",
        }
    }

    /// The kind named by `slug`.
    pub fn from_slug(slug: &str) -> Option<Self> {
        match slug {
            "weekly" => Some(ReportKind::Weekly),
            "monthly" => Some(ReportKind::Monthly),
            _ => None,
        }
    }

    /// The name in titles: 周报, 月报.
    pub fn title(self) -> &'static str {
        match self {
            ReportKind::Weekly => "周报",
            ReportKind::Monthly => "月报",
        }
    }
}

/// A town, as a report names it.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct ReportTown {
    /// The town's org-unit id.
    pub id: Id,
    /// Its code, e.g. `town-humen`.
    pub code: String,
    /// Its name, e.g. `虎门`.
    pub name: String,
}

/// A supervision district (片区), as a report names it.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct ReportDistrict {
    /// The district's id.
    pub id: Id,
    /// Its code, e.g. `d1`.
    pub code: String,
    /// Its name, e.g. `第一片区`.
    pub name: String,
}

/// A weekly or monthly report: the city's ranking of towns with each town's change against
/// the previous period, every indicator, target compliance and highlights.
#[derive(SimpleObject, Serialize, Debug)]
pub struct Report {
    /// Weekly or monthly.
    pub kind: ReportKind,
    /// The period reported on, e.g. `2017-11` or `2017-W45`.
    pub period: String,
    /// The period compared with; null when no rule version scores it.
    pub previous_period: Option<String>,
    /// E.g. `2017-11 青年之声影响力指数月报`.
    pub title: String,
    /// The town of a town's report; null for the city's.
    pub town: Option<ReportTown>,
    /// The district of a district's report (its towns only, each with its city rank and
    /// its place among them); null otherwise.
    pub district: Option<ReportDistrict>,
    /// The rule set, e.g. `qii`.
    pub rule_set: String,
    /// The rule version that scored the period, e.g. `2.0`.
    pub version: String,
    /// SHA-256 of the scoring script.
    pub content_hash: String,
    /// When the period's ranking was stored (reports read stored rankings, so a report
    /// opened again shows the same numbers); null for a period still running.
    pub stored_at: Option<DateTime<Utc>>,
    /// The index's dimensions, in the script's order.
    pub dimensions: Vec<ReportHeading>,
    /// The index's indicators, in the script's order (the order of every town's
    /// `indicators`).
    pub indicators: Vec<ReportHeading>,
    /// Every town, best first.
    pub ranking: Vec<TownLine>,
    /// Target compliance and score trend: of every town in the city's report, of the town
    /// in a town's report.
    pub details: Vec<TownDetail>,
    /// What stood out in the period: design-contest activities, best-scored experts, and
    /// the towns that gained or lost the most places.
    pub highlights: Highlights,
}

/// A dimension or indicator of the index.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct ReportHeading {
    /// Its key in the script.
    pub key: String,
    /// What it measures (the script's label, else the key).
    pub label: String,
    /// The dimension it belongs to (for an indicator).
    pub dimension: Option<String>,
    /// Weight in percent of the index.
    pub weight: f64,
}

/// One town's place in the ranking.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct TownLine {
    /// The town.
    pub town: ReportTown,
    /// 1 is best; equal totals share a rank.
    pub rank: i32,
    /// In a district's report, the town's place among the district's towns by the same
    /// scores (1 is best; equal totals share a place); null in other reports.
    pub place: Option<i32>,
    /// The rank in the previous period.
    pub previous_rank: Option<i32>,
    /// Places gained since the previous period (negative when lost).
    pub rank_change: Option<i32>,
    /// `↑`, `↓` or `→` against the previous period; empty without one.
    pub arrow: String,
    /// The index score, 0–100.
    pub total: f64,
    /// The score in the previous period.
    pub previous_total: Option<f64>,
    /// `total - previousTotal`.
    pub total_change: Option<f64>,
    /// Each dimension's score (0–100), in the order of `Report.dimensions`.
    pub dimensions: Vec<f64>,
    /// Each indicator, in the order of `Report.indicators`.
    pub indicators: Vec<IndicatorValue>,
}

/// One indicator of one town.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct IndicatorValue {
    /// The raw figure; null when missing.
    pub raw: Option<f64>,
    /// The standardised score, 0–100; null when left out as missing.
    pub standardised: Option<f64>,
    /// Points of the total it gives.
    pub contribution: f64,
}

/// A town's targets and score trend.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct TownDetail {
    /// The town and its line of the ranking (rank, score and change).
    pub town: TownLine,
    /// Each target in effect for the period beside the town's actual value.
    pub targets: Vec<TargetLine>,
    /// How many targets the town missed.
    pub missed: i32,
    /// The town's score in the periods up to this one (same kind, oldest first, those a
    /// rule version scores).
    pub trend: Vec<TrendPoint>,
    /// What would help most: the first three actions of the town's improvement plan
    /// (`improvementPlan`), scored with the data of now; in a town's report only.
    pub advice: Vec<Advice>,
}

/// One action of a town's improvement plan.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct Advice {
    /// What to do.
    pub title: String,
    /// Little work: a photo upload on an activity that otherwise counts.
    pub cheap: bool,
    /// The town's total once done.
    pub total: f64,
    /// Its rank once done.
    pub rank: i32,
    /// Points gained.
    pub gain: f64,
}

/// One target of a town.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct TargetLine {
    /// The metric, e.g. `update_days`.
    pub metric: String,
    /// What it counts (the targets script's label).
    pub label: String,
    /// The town's value; null when the data do not give it.
    pub actual: Option<f64>,
    /// The value the town must reach (met when `actual` is at least this), in the
    /// metric's unit.
    pub target: f64,
    /// Null when the actual value is unknown.
    pub met: Option<bool>,
    /// How far the value is below the target; 0 when met.
    pub gap: Option<f64>,
}

/// A town's score in one period.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct TrendPoint {
    /// The period, e.g. `2017-10` or `2017-W45`.
    pub period: String,
    /// The town's index score in that period, 0–100.
    pub total: f64,
    /// The town's rank among the towns in that period; 1 is best.
    pub rank: i32,
}

/// What stood out in the period.
#[derive(SimpleObject, Serialize, Clone, Debug, Default)]
pub struct Highlights {
    /// The month whose design contest is shown (the report's month, or the month a weekly
    /// report's week ends in); null when no incentive programme runs then.
    pub contest_month: Option<String>,
    /// The design contest's showcased activities (a town's report: the town's entries).
    pub top_activities: Vec<ActivityHighlight>,
    /// The best-scored experts (a town's report: those its units recruited).
    pub top_experts: Vec<ExpertHighlight>,
    /// The towns that gained the most places.
    pub risers: Vec<TownLine>,
    /// The towns that lost the most places.
    pub fallers: Vec<TownLine>,
}

/// An activity of the design contest.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct ActivityHighlight {
    /// Its place in the contest.
    pub rank: i32,
    /// The activity's id.
    pub activity_id: Id,
    /// The activity's title.
    pub title: String,
    /// The unit that ran it.
    pub org_unit: String,
    /// The score the incentive rules give it in the contest (`contest_score`), the higher
    /// the better.
    pub score: f64,
    /// Whether it is among the month's rewarded entries (see `DesignContest.awardedSize`).
    pub awarded: bool,
}

/// An expert of the evaluation.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct ExpertHighlight {
    /// Its place among all the city's experts.
    pub rank: i32,
    /// The expert's id.
    pub expert_id: Id,
    /// The expert's name.
    pub name: String,
    /// Answers the expert gave in the period.
    pub answers: i32,
    /// The score the `experts` evaluation script gives the expert, the higher the better.
    pub score: f64,
}
