//! The weekly and monthly reports ([`qii_reports`]).

use crate::Id;
use async_graphql::{Context, Object, Result};

use super::ContextExt;
use qii_engine::period::Period;
use qii_reports::{self as reports, Report, ReportKind};

/// Reading reports.
#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// The weekly (`2017-W45`) or monthly (`2017-11`) report: every town's score, rank and
    /// change against the previous period, the indicators, target compliance and
    /// highlights. With `town`, that town's report; without, the city's — except for a
    /// town administrator, who gets its own town's. City administrators read every report,
    /// town administrators their town's. The numbers come from the stored ranking of the
    /// period (stored first when the period has ended and none is), so a report read again
    /// later is the same. With `district`, that district's towns only, each with its place
    /// among them. The same report as a page, a workbook and CSV:
    /// `/reports/{kind}/{period}[/{town}][.xlsx|.csv][?district=d1]`.
    async fn report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Weekly or monthly; it must match the form of `period`.")]
        kind: ReportKind,
        #[graphql(desc = "The ISO week (`2017-W45`) or month (`2017-11`) reported on.")]
        period: Period,
        #[graphql(
            desc = "The town's org-unit id, for that town's report; null for the city's (or, for a town administrator, their own town's)."
        )]
        town: Option<Id>,
        #[graphql(
            desc = "A supervision district's id, for its report: its towns only, each with its city rank and its place among them (city administrators)."
        )]
        district: Option<Id>,
    ) -> Result<Report> {
        let app = ctx.app()?;
        let town = match (&town, &district) {
            (Some(id), _) => Some(id.0),
            (None, Some(_)) => None,
            (None, None) => reports::default_town(&app.actor),
        };
        let district = district.map(|d| d.0);
        Ok(reports::build(
            &app.db, &app.actor, &app.rules, kind, &period, town, district,
        )
        .await?)
    }
}
