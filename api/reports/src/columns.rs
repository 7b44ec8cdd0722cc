//! The ranking's columns, described once. The workbook's sheets, the CSV and the printable
//! page each lay the ranking out from [`ranking_columns`]: a column added here appears in
//! all three, in the same place, and none of them counts positions of its own.

use serde::Serialize;

use super::{Report, TownLine};

/// How a column's values read, and so how each format writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A whole number: a rank.
    Rank,
    /// Text: a town's name.
    Name,
    /// A score or a points contribution.
    Score,
    /// Places gained since the previous period, negative when lost.
    RankChange,
    /// A change of score since the previous period.
    ScoreChange,
}

/// Where a column's values come from in a town's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Rank,
    Place,
    Name,
    Total,
    PreviousRank,
    RankChange,
    PreviousTotal,
    TotalChange,
    Dimension(usize),
    Indicator(usize),
}

/// One column of the ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its heading in the workbook and the CSV.
    pub heading: String,
    /// Its heading on the printable page; none when the page leaves the column out (the
    /// page is narrower than a sheet).
    pub page_heading: Option<String>,
    pub kind: Kind,
    source: Source,
}

/// A cell of the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell<'a> {
    Whole(i64),
    Number(f64),
    Text(&'a str),
}

impl Column {
    fn new(
        heading: impl Into<String>,
        page_heading: Option<String>,
        kind: Kind,
        source: Source,
    ) -> Self {
        Self {
            heading: heading.into(),
            page_heading,
            kind,
            source,
        }
    }

    /// The cell of `line` in this column; none where the line has no value (no previous
    /// period to compare with).
    pub fn cell<'a>(&self, line: &'a TownLine) -> Option<Cell<'a>> {
        match self.source {
            Source::Rank => Some(Cell::Whole(line.rank.into())),
            Source::Place => line.place.map(|p| Cell::Whole(p.into())),
            Source::Name => Some(Cell::Text(&line.town.name)),
            Source::Total => Some(Cell::Number(line.total)),
            Source::PreviousRank => line.previous_rank.map(|r| Cell::Whole(r.into())),
            Source::RankChange => line.rank_change.map(|r| Cell::Whole(r.into())),
            Source::PreviousTotal => line.previous_total.map(Cell::Number),
            Source::TotalChange => line.total_change.map(Cell::Number),
            Source::Dimension(i) => line.dimensions.get(i).copied().map(Cell::Number),
            Source::Indicator(i) => line.indicators.get(i).map(|v| Cell::Number(v.contribution)),
        }
    }
}

/// The ranking's columns for `report`: rank (and, in a district's report, the place among
/// its towns), town, score, the comparison with the previous
/// period, each dimension's score and each indicator's contribution.
pub fn ranking_columns(report: &Report) -> Vec<Column> {
    let shown = |heading: &str| Some(heading.to_owned());
    let mut columns = vec![Column::new("排名", shown("排名"), Kind::Rank, Source::Rank)];
    if report.district.is_some() {
        columns.push(Column::new(
            "片区内名次",
            shown("片区内名次"),
            Kind::Rank,
            Source::Place,
        ));
    }
    columns.extend([
        Column::new("镇街", shown("镇街"), Kind::Name, Source::Name),
        Column::new("得分", shown("得分"), Kind::Score, Source::Total),
        Column::new("上期排名", None, Kind::Rank, Source::PreviousRank),
        Column::new(
            "名次变化",
            shown("名次变化"),
            Kind::RankChange,
            Source::RankChange,
        ),
        Column::new("上期得分", None, Kind::Score, Source::PreviousTotal),
        Column::new(
            "得分变化",
            shown("得分变化"),
            Kind::ScoreChange,
            Source::TotalChange,
        ),
    ]);
    columns.extend(report.dimensions.iter().enumerate().map(|(i, d)| {
        Column::new(
            format!("{}（维度分）", d.label),
            Some(d.label.clone()),
            Kind::Score,
            Source::Dimension(i),
        )
    }));
    columns.extend(report.indicators.iter().enumerate().map(|(i, indicator)| {
        Column::new(
            format!("{}（贡献分）", indicator.label),
            None,
            Kind::Score,
            Source::Indicator(i),
        )
    }));
    columns
}

/// The headings of `columns` in the workbook and the CSV.
pub fn headings(columns: &[Column]) -> Vec<String> {
    columns.iter().map(|c| c.heading.clone()).collect()
}
