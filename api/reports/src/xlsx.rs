//! A report as an Excel workbook: the city's ranking, one sheet per town, the highlights
//! and a sheet saying what produced the numbers. Chinese headers, number formats, frozen
//! header rows, changes shown as ↑/↓ (the cells keep the numbers), missed targets in red.

use rust_xlsxwriter::{
    Color, ConditionalFormatCell, ConditionalFormatCellRule, ConditionalFormatFormula, Format,
    FormatAlign, Workbook, Worksheet, XlsxError,
};

use super::{
    columns::{headings, ranking_columns, Cell, Column, Kind},
    Report, TownDetail, TownLine,
};

/// The ranking sheet's name.
pub const RANKING_SHEET: &str = "全市排名";
/// The highlights sheet's name.
pub const HIGHLIGHTS_SHEET: &str = "亮点";
/// The sheet naming the rule version.
pub const ABOUT_SHEET: &str = "说明";

/// `↑2` for places gained, `↓1` for places lost, `→0` for none; the cell holds the number.
const CHANGE: &str = r#"[Color10]"↑"0;[Red]"↓"0;"→"0"#;
const SCORE_CHANGE: &str = r#"[Color10]"↑"0.00;[Red]"↓"0.00;"→"0.00"#;
/// The words for a target met and missed.
pub const MET: &str = "达标";
pub const MISSED: &str = "未达标";

struct Formats {
    header: Format,
    score: Format,
    change: Format,
    score_change: Format,
    missed: Format,
    title: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_align(FormatAlign::Center),
            score: Format::new().set_num_format("0.00"),
            change: Format::new().set_num_format(CHANGE),
            score_change: Format::new().set_num_format(SCORE_CHANGE),
            missed: Format::new()
                .set_background_color(Color::RGB(0xFFC7CE))
                .set_font_color(Color::RGB(0x9C0006)),
            title: Format::new().set_bold().set_font_size(14),
        }
    }
}

/// The workbook of `report`: for a city report the ranking sheet first and then every town's
/// sheet; for a town's report the town's sheet first.
pub fn workbook(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    if report.town.is_some() {
        for detail in &report.details {
            town_sheet(workbook.add_worksheet(), report, detail, &formats)?;
        }
        ranking_sheet(workbook.add_worksheet(), report, &formats)?;
    } else {
        ranking_sheet(workbook.add_worksheet(), report, &formats)?;
        for detail in &report.details {
            town_sheet(workbook.add_worksheet(), report, detail, &formats)?;
        }
    }
    highlights_sheet(workbook.add_worksheet(), report, &formats)?;
    about_sheet(workbook.add_worksheet(), report, &formats)?;
    workbook.save_to_buffer()
}

fn headers(
    sheet: &mut Worksheet,
    row: u32,
    names: &[String],
    f: &Formats,
) -> Result<(), XlsxError> {
    for (col, name) in names.iter().enumerate() {
        sheet.write_string_with_format(row, col as u16, name, &f.header)?;
    }
    Ok(())
}

fn optional(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: Option<f64>,
    format: &Format,
) -> Result<(), XlsxError> {
    if let Some(value) = value {
        sheet.write_number_with_format(row, col, value, format)?;
    }
    Ok(())
}

fn ranking_sheet(sheet: &mut Worksheet, report: &Report, f: &Formats) -> Result<(), XlsxError> {
    sheet.set_name(RANKING_SHEET)?;
    let columns = ranking_columns(report);
    let mut names = headings(&columns);
    let with_targets = report.town.is_none();
    if with_targets {
        names.push("未达标目标数".into());
    }
    headers(sheet, 0, &names, f)?;
    sheet.set_freeze_panes(1, 2)?;
    sheet.set_column_width(1, 10)?;
    for (i, line) in report.ranking.iter().enumerate() {
        let row = i as u32 + 1;
        let col = line_cells(sheet, row, line, &columns, f)?;
        if with_targets {
            let missed = report
                .details
                .iter()
                .find(|d| d.town.town.id == line.town.id)
                .map(|d| d.missed)
                .unwrap_or_default();
            sheet.write_number(row, col, missed)?;
        }
    }
    if with_targets && !report.ranking.is_empty() {
        let col = names.len() as u16 - 1;
        let red = ConditionalFormatCell::new()
            .set_rule(ConditionalFormatCellRule::GreaterThan(0))
            .set_format(f.missed.clone());
        sheet.add_conditional_format(1, col, report.ranking.len() as u32, col, &red)?;
    }
    Ok(())
}

/// Writes a town's ranking line from column 0, one cell per column; the next free column.
fn line_cells(
    sheet: &mut Worksheet,
    row: u32,
    line: &TownLine,
    columns: &[Column],
    f: &Formats,
) -> Result<u16, XlsxError> {
    for (col, column) in (0u16..).zip(columns) {
        let format = match column.kind {
            Kind::Rank | Kind::Name => None,
            Kind::Score => Some(&f.score),
            Kind::RankChange => Some(&f.change),
            Kind::ScoreChange => Some(&f.score_change),
        };
        let number = match column.cell(line) {
            None => continue,
            Some(Cell::Text(text)) => {
                sheet.write_string(row, col, text)?;
                continue;
            }
            Some(Cell::Whole(n)) => n as f64,
            Some(Cell::Number(n)) => n,
        };
        match format {
            Some(format) => sheet.write_number_with_format(row, col, number, format)?,
            None => sheet.write_number(row, col, number)?,
        };
    }
    Ok(columns.len() as u16)
}

/// A town's sheet: its line of the ranking in frozen rows at the top, then its indicators,
/// targets and trend.
fn town_sheet(
    sheet: &mut Worksheet,
    report: &Report,
    detail: &TownDetail,
    f: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_name(&detail.town.town.name)?;
    let columns = ranking_columns(report);
    let mut names = headings(&columns);
    names.push("未达标目标数".into());
    headers(sheet, 0, &names, f)?;
    let col = line_cells(sheet, 1, &detail.town, &columns, f)?;
    sheet.write_number(1, col, detail.missed)?;
    sheet.set_freeze_panes(2, 0)?;
    sheet.set_column_width(0, 22)?;

    let mut row = 3;
    let indicator_names =
        ["指标", "维度", "原始值", "标准分", "权重（%）", "贡献分"].map(String::from);
    headers(sheet, row, &indicator_names, f)?;
    for (heading, value) in report.indicators.iter().zip(&detail.town.indicators) {
        row += 1;
        sheet.write_string(row, 0, &heading.label)?;
        let dimension = report
            .dimensions
            .iter()
            .find(|d| Some(&d.key) == heading.dimension.as_ref())
            .map(|d| d.label.as_str())
            .unwrap_or_default();
        sheet.write_string(row, 1, dimension)?;
        optional(sheet, row, 2, value.raw, &f.score)?;
        optional(sheet, row, 3, value.standardised, &f.score)?;
        sheet.write_number_with_format(row, 4, heading.weight, &f.score)?;
        sheet.write_number_with_format(row, 5, value.contribution, &f.score)?;
    }

    row += 2;
    let target_names = ["目标", "实际值", "目标值", "是否达标", "差距"].map(String::from);
    headers(sheet, row, &target_names, f)?;
    let first = row + 1;
    for target in &detail.targets {
        row += 1;
        sheet.write_string(row, 0, &target.label)?;
        optional(sheet, row, 1, target.actual, &f.score)?;
        sheet.write_number_with_format(row, 2, target.target, &f.score)?;
        let met = match target.met {
            Some(true) => MET,
            Some(false) => MISSED,
            None => "无数据",
        };
        sheet.write_string(row, 3, met)?;
        optional(sheet, row, 4, target.gap, &f.score)?;
    }
    if !detail.targets.is_empty() {
        let red = ConditionalFormatFormula::new()
            .set_rule(format!("=$D{}=\"{MISSED}\"", first + 1).as_str())
            .set_format(f.missed.clone());
        sheet.add_conditional_format(first, 0, row, 4, &red)?;
    }

    row += 2;
    headers(sheet, row, &["期间", "得分", "排名"].map(String::from), f)?;
    for point in &detail.trend {
        row += 1;
        sheet.write_string(row, 0, &point.period)?;
        sheet.write_number_with_format(row, 1, point.total, &f.score)?;
        sheet.write_number(row, 2, point.rank)?;
    }

    if !detail.advice.is_empty() {
        row += 2;
        let names = ["改进建议", "举手之劳", "完成后得分", "加分", "完成后排名"].map(String::from);
        headers(sheet, row, &names, f)?;
        for advice in &detail.advice {
            row += 1;
            sheet.write_string(row, 0, &advice.title)?;
            sheet.write_string(row, 1, if advice.cheap { "是" } else { "" })?;
            sheet.write_number_with_format(row, 2, advice.total, &f.score)?;
            sheet.write_number_with_format(row, 3, advice.gain, &f.score)?;
            sheet.write_number(row, 4, advice.rank)?;
        }
    }
    Ok(())
}

fn highlights_sheet(sheet: &mut Worksheet, report: &Report, f: &Formats) -> Result<(), XlsxError> {
    sheet.set_name(HIGHLIGHTS_SHEET)?;
    let h = &report.highlights;
    let contest = match &h.contest_month {
        Some(month) => format!("{month} 设计大赛入选活动"),
        None => "设计大赛入选活动（本期无激励计划）".to_owned(),
    };
    sheet.write_string_with_format(0, 0, &contest, &f.title)?;
    headers(
        sheet,
        1,
        &["名次", "活动", "举办单位", "得分", "获奖"].map(String::from),
        f,
    )?;
    sheet.set_freeze_panes(2, 0)?;
    sheet.set_column_width(1, 36)?;
    sheet.set_column_width(2, 24)?;
    let mut row = 1;
    for a in &h.top_activities {
        row += 1;
        sheet.write_number(row, 0, a.rank)?;
        sheet.write_string(row, 1, &a.title)?;
        sheet.write_string(row, 2, &a.org_unit)?;
        sheet.write_number_with_format(row, 3, a.score, &f.score)?;
        sheet.write_string(row, 4, if a.awarded { "是" } else { "" })?;
    }
    row += 2;
    sheet.write_string_with_format(row, 0, "优秀专家", &f.title)?;
    row += 1;
    headers(
        sheet,
        row,
        &["名次", "专家", "回答数", "得分"].map(String::from),
        f,
    )?;
    for e in &h.top_experts {
        row += 1;
        sheet.write_number(row, 0, e.rank)?;
        sheet.write_string(row, 1, &e.name)?;
        sheet.write_number(row, 2, e.answers)?;
        sheet.write_number_with_format(row, 3, e.score, &f.score)?;
    }
    let columns = ranking_columns(report);
    let names = headings(&columns);
    for (title, lines) in [
        ("进步最大的镇街", &h.risers),
        ("退步最大的镇街", &h.fallers),
    ] {
        row += 2;
        sheet.write_string_with_format(row, 0, title, &f.title)?;
        row += 1;
        headers(sheet, row, &names, f)?;
        for line in lines.iter() {
            row += 1;
            line_cells(sheet, row, line, &columns, f)?;
        }
    }
    Ok(())
}

fn about_sheet(sheet: &mut Worksheet, report: &Report, f: &Formats) -> Result<(), XlsxError> {
    sheet.set_name(ABOUT_SHEET)?;
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 70)?;
    sheet.write_string_with_format(0, 0, &report.title, &f.title)?;
    let stored = report
        .stored_at
        .map(super::local_time)
        .unwrap_or_else(|| "期间尚未结束：每次打开时重新计算".to_owned());
    let rows = [
        ("期间", report.period.clone()),
        (
            "对比期间",
            report.previous_period.clone().unwrap_or_default(),
        ),
        ("规则", format!("{} {}", report.rule_set, report.version)),
        ("规则哈希", report.content_hash.clone()),
        ("排名存储时间", stored),
    ];
    for (i, (name, value)) in rows.iter().enumerate() {
        let row = i as u32 + 2;
        sheet.write_string_with_format(row, 0, *name, &f.header)?;
        sheet.write_string(row, 1, value)?;
    }
    Ok(())
}
