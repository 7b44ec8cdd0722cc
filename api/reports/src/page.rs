//! A report as a printable page: server-rendered HTML from `templates/report.html`, with
//! its charts as inline SVG — the ranking as bars, the town's score over the periods as a
//! line, the indicators as bars against their weights. The geometry is worked out here;
//! the template draws it. Readable on a phone, printable on A4.

use std::sync::LazyLock;

use minijinja::{context, Environment};
use serde::Serialize;

use super::{
    columns::{ranking_columns, Cell, Column, Kind},
    Report, ReportHeading, TownLine, TrendPoint,
};

const TEMPLATE: &str = include_str!("../templates/report.html");

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_filter("num", |value: Option<f64>| {
        value
            .map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| "—".into())
    });
    env.add_filter("signed", |value: Option<f64>| match value {
        Some(v) if v > 0.0 => format!("+{v:.2}"),
        Some(v) => format!("{v:.2}"),
        None => "—".into(),
    });
    env.add_template("report.html", TEMPLATE)
        .expect("the report template compiles");
    env
});

/// Width of every chart's drawing, in SVG units (the page scales it).
const WIDTH: f64 = 720.0;
/// Room for the labels left of bars.
const LABEL: f64 = 150.0;
/// Room for the value right of bars.
const VALUE: f64 = 60.0;
const ROW: f64 = 18.0;

/// One bar of a bar chart.
#[derive(Serialize)]
struct Bar {
    label: String,
    value: String,
    /// Top of the row.
    y: f64,
    width: f64,
    /// The full extent behind the bar (an indicator's weight), if any.
    extent: Option<f64>,
    /// Where the value is written: after the bar or its extent.
    value_x: f64,
    highlight: bool,
}

impl Bar {
    fn new(label: String, value: String, row: usize, width: f64, extent: Option<f64>) -> Self {
        Self {
            label,
            value,
            y: row as f64 * ROW,
            width,
            extent,
            value_x: LABEL + width.max(extent.unwrap_or(0.0)) + 4.0,
            highlight: false,
        }
    }
}

/// A horizontal bar chart.
#[derive(Serialize)]
struct BarChart {
    width: f64,
    height: f64,
    label_width: f64,
    row: f64,
    bars: Vec<Bar>,
}

impl BarChart {
    fn new(bars: Vec<Bar>) -> Self {
        Self {
            width: WIDTH,
            height: bars.len() as f64 * ROW + 4.0,
            label_width: LABEL,
            row: ROW,
            bars,
        }
    }
}

/// A point of the trend line.
#[derive(Serialize)]
struct Dot {
    x: f64,
    y: f64,
    period: String,
    total: String,
    rank: i32,
}

/// A line chart of a town's score over the periods.
#[derive(Serialize)]
struct LineChart {
    width: f64,
    height: f64,
    /// The `points` of the polyline.
    points: String,
    dots: Vec<Dot>,
    /// Horizontal grid lines: (y, label).
    grid: Vec<(f64, String)>,
}

/// The page of `report`; `links` is appended to the addresses of the downloads (it carries
/// the access token of a page opened with one).
pub fn render(report: &Report, base: &str, links: &str) -> Result<String, minijinja::Error> {
    let town = report.town.as_ref().map(|t| t.id);
    let ranking = ranking_chart(&report.ranking, town);
    let detail = report.details.first().filter(|_| town.is_some());
    let indicators = match detail {
        Some(detail) => indicator_chart(&report.indicators, &[&detail.town]),
        None => indicator_chart(
            &report.indicators,
            &report.ranking.iter().collect::<Vec<_>>(),
        ),
    };
    let trend = detail.map(|d| trend_chart(&d.trend));
    TEMPLATES.get_template("report.html")?.render(context! {
        report,
        detail,
        table => table(report),
        ranking_chart => ranking,
        indicator_chart => indicators,
        trend_chart => trend,
        stored_at => report.stored_at.map(super::local_time),
        xlsx => format!("{base}.xlsx{links}"),
        csv => format!("{base}.csv{links}"),
    })
}

/// The ranking table of the page: the columns the page shows, in the order
/// [`ranking_columns`] gives them, and each line's cells.
#[derive(Serialize)]
struct Table<'a> {
    headings: Vec<String>,
    rows: Vec<Row<'a>>,
}

#[derive(Serialize)]
struct Row<'a> {
    line: &'a TownLine,
    cells: Vec<PageCell<'a>>,
}

#[derive(Serialize)]
struct PageCell<'a> {
    kind: Kind,
    value: Option<Cell<'a>>,
}

fn table(report: &Report) -> Table<'_> {
    let columns: Vec<Column> = ranking_columns(report)
        .into_iter()
        .filter(|c| c.page_heading.is_some())
        .collect();
    let rows = report
        .ranking
        .iter()
        .map(|line| Row {
            line,
            cells: columns
                .iter()
                .map(|c| PageCell {
                    kind: c.kind,
                    value: c.cell(line),
                })
                .collect(),
        })
        .collect();
    Table {
        headings: columns.into_iter().filter_map(|c| c.page_heading).collect(),
        rows,
    }
}

fn ranking_chart(lines: &[TownLine], town: Option<qii_domain::id::Id>) -> BarChart {
    let plot = WIDTH - LABEL - VALUE;
    let bars = lines
        .iter()
        .enumerate()
        .map(|(i, line)| Bar {
            highlight: town == Some(line.town.id),
            ..Bar::new(
                format!("{}. {}", line.rank, line.town.name),
                format!("{:.2}{}", line.total, line.arrow),
                i,
                (line.total.clamp(0.0, 100.0) / 100.0 * plot).max(1.0),
                None,
            )
        })
        .collect::<Vec<_>>();
    BarChart::new(bars)
}

/// Each indicator's contribution (the mean over `lines`) against its weight.
fn indicator_chart(headings: &[ReportHeading], lines: &[&TownLine]) -> BarChart {
    let plot = WIDTH - LABEL - VALUE;
    let most = headings
        .iter()
        .map(|h| h.weight)
        .fold(0.0, f64::max)
        .max(1.0);
    let count = lines.len().max(1) as f64;
    let bars = headings
        .iter()
        .enumerate()
        .map(|(i, heading)| {
            let contribution = lines
                .iter()
                .filter_map(|l| l.indicators.get(i))
                .map(|v| v.contribution)
                .sum::<f64>()
                / count;
            Bar::new(
                heading.label.clone(),
                format!("{contribution:.2} / {:.0}", heading.weight),
                i,
                contribution.max(0.0) / most * plot,
                Some(heading.weight / most * plot),
            )
        })
        .collect::<Vec<_>>();
    BarChart::new(bars)
}

fn trend_chart(points: &[TrendPoint]) -> LineChart {
    const HEIGHT: f64 = 220.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 30.0;
    const LEFT: f64 = 40.0;
    let plot_w = WIDTH - LEFT - 30.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y_of = |total: f64| TOP + (1.0 - total.clamp(0.0, 100.0) / 100.0) * plot_h;
    let step = if points.len() > 1 {
        plot_w / (points.len() - 1) as f64
    } else {
        0.0
    };
    let dots: Vec<Dot> = points
        .iter()
        .enumerate()
        .map(|(i, p)| Dot {
            x: LEFT
                + if points.len() > 1 {
                    i as f64 * step
                } else {
                    plot_w / 2.0
                },
            y: y_of(p.total),
            period: p.period.clone(),
            total: format!("{:.2}", p.total),
            rank: p.rank,
        })
        .collect();
    LineChart {
        width: WIDTH,
        height: HEIGHT,
        points: dots
            .iter()
            .map(|d| format!("{:.1},{:.1}", d.x, d.y))
            .collect::<Vec<_>>()
            .join(" "),
        dots,
        grid: [0.0, 25.0, 50.0, 75.0, 100.0]
            .iter()
            .map(|v| (y_of(*v), format!("{v:.0}")))
            .collect(),
    }
}
