use clap::Parser;

use serde_json::json;

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn period(text: &str) -> Period {
    text.parse()
        .unwrap_or_else(|e| panic!("{text} should parse: {e}"))
}

fn bounds(text: &str) -> (NaiveDate, NaiveDate) {
    let p = period(text);
    (p.first_day(), p.last_day())
}

#[test]
fn each_form_parses_and_prints_back_the_same_text() {
    let cases = [
        (
            "2017-10",
            Period::Month {
                year: 2017,
                month: Month::October,
            },
        ),
        ("2017-W43", Period::iso_week(2017, 43).unwrap()),
        (
            "2017-Q4",
            Period::Quarter {
                year: 2017,
                quarter: Quarter::Q4,
            },
        ),
        (
            "2017-10-01..2017-10-15",
            Period::Range {
                from: day(2017, 10, 1),
                to: day(2017, 10, 15),
            },
        ),
        (
            "2017-10-01..2017-10-01",
            Period::range(day(2017, 10, 1), day(2017, 10, 1)).unwrap(),
        ),
        ("0001-01", Period::month(1, 1).unwrap()),
        ("2021", Period::Year { year: 2021 }),
        (
            "2017-H1",
            Period::Half {
                year: 2017,
                second: false,
            },
        ),
        ("2017-H2", Period::half(2017, 2).unwrap()),
    ];
    for (text, expected) in cases {
        assert_eq!(period(text), expected, "{text}");
        assert_eq!(expected.to_string(), text);
    }
    assert_eq!(period("  2017-W43\n").to_string(), "2017-W43");
}

#[test]
fn each_form_covers_the_days_it_names() {
    assert_eq!(bounds("2017-10"), (day(2017, 10, 1), day(2017, 10, 31)));
    assert_eq!(bounds("2017-W43"), (day(2017, 10, 23), day(2017, 10, 29)));
    assert_eq!(bounds("2017-Q4"), (day(2017, 10, 1), day(2017, 12, 31)));
    assert_eq!(
        bounds("2017-10-01..2017-10-15"),
        (day(2017, 10, 1), day(2017, 10, 15))
    );
    assert_eq!(period("2020-02").days(), 29);
    assert_eq!(period("2017-02").days(), 28);
    assert_eq!(period("2017-W43").days(), 7);
    assert_eq!(period("2017-10-01..2017-10-15").days(), 15);
    assert_eq!(period("2017-10-01..2017-10-01").days(), 1);
    assert_eq!(bounds("2017-H1"), (day(2017, 1, 1), day(2017, 6, 30)));
    assert_eq!(bounds("2017-H2"), (day(2017, 7, 1), day(2017, 12, 31)));
    assert_eq!(bounds("2020"), (day(2020, 1, 1), day(2020, 12, 31)));
    assert_eq!(period("2020").days(), 366);
    assert_eq!(period("2020").kind(), PeriodKind::Year);
    assert_eq!(period("2020-H2").kind(), PeriodKind::Half);
    let kinds =
        ["2017-10", "2017-W43", "2017-Q4", "2017-10-01..2017-10-15"].map(|t| period(t).kind());
    assert_eq!(
        kinds,
        [
            PeriodKind::Month,
            PeriodKind::Week,
            PeriodKind::Quarter,
            PeriodKind::Range
        ]
    );
}

#[test]
fn iso_weeks_follow_the_iso_calendar_across_year_boundaries() {
    assert_eq!(bounds("2017-W52"), (day(2017, 12, 25), day(2017, 12, 31)));
    assert_eq!(bounds("2018-W01"), (day(2018, 1, 1), day(2018, 1, 7)));
    assert_eq!(bounds("2020-W53"), (day(2020, 12, 28), day(2021, 1, 3)));
    assert_eq!(period("2021-W01").first_day(), day(2021, 1, 4));
    let err = "2017-W53".parse::<Period>().unwrap_err().to_string();
    assert!(
        err.contains("there is no week 53: 2017 has 52 ISO weeks"),
        "{err}"
    );
}

#[test]
fn the_fourth_quarter_of_2017_runs_from_october_to_december() {
    let q4 = period("2017-Q4");
    assert_eq!(q4.first_day(), day(2017, 10, 1));
    assert_eq!(q4.last_day(), day(2017, 12, 31));
    assert_eq!(q4.days(), 92);
    assert_eq!(bounds("2017-Q1"), (day(2017, 1, 1), day(2017, 3, 31)));
}

#[test]
fn a_month_in_utc_runs_from_the_shanghai_midnight_before_its_first_day() {
    let october = period("2017-10");
    assert_eq!(
        october.start_utc().to_rfc3339(),
        "2017-09-30T16:00:00+00:00"
    );
    assert_eq!(october.end_utc().to_rfc3339(), "2017-10-31T16:00:00+00:00");
    assert_eq!(october.end_utc(), period("2017-11").start_utc());
}

#[test]
fn a_period_contains_its_first_and_last_day_only() {
    let week = period("2017-W43");
    assert!(week.contains_day(day(2017, 10, 23)));
    assert!(week.contains_day(day(2017, 10, 29)));
    assert!(!week.contains_day(day(2017, 10, 22)));
    assert!(!week.contains_day(day(2017, 10, 30)));
    let range = period("2017-10-01..2017-10-15");
    assert!(range.contains_day(day(2017, 10, 15)));
    assert!(!range.contains_day(day(2017, 10, 16)));
}

#[test]
fn the_previous_period_is_of_the_same_kind_and_crosses_years() {
    for (text, previous) in [
        ("2018-01", "2017-12"),
        ("2017-11", "2017-10"),
        ("2018-W01", "2017-W52"),
        ("2021-W01", "2020-W53"),
        ("2017-W43", "2017-W42"),
        ("2018-Q1", "2017-Q4"),
        ("2017-Q4", "2017-Q3"),
        ("2018-H1", "2017-H2"),
        ("2018-H2", "2018-H1"),
        ("2018", "2017"),
        ("2017-10-01..2017-10-15", "2017-09-16..2017-09-30"),
        ("2018-01-01..2018-01-01", "2017-12-31..2017-12-31"),
    ] {
        assert_eq!(period(text).previous().to_string(), previous, "{text}");
    }
}

#[test]
fn bad_inputs_are_rejected_saying_what_is_wrong() {
    for (text, problem) in [
        ("2017-13", "there is no month 13"),
        ("2017-00", "there is no month 0"),
        ("2017-1", "the month must be two digits"),
        ("2017-W54", "there is no week 54: 2017 has 52 ISO weeks"),
        ("2017-W00", "numbered from W01"),
        ("2017-W7", "the week must be two digits"),
        ("2017-w43", "capitals"),
        ("2017-Q5", "there is no quarter 5"),
        ("2017-Q0", "there is no quarter 0"),
        ("2017-Q", "Q1 to Q4"),
        (
            "2017-10-15..2017-10-01",
            "ends on 2017-10-01, before it starts on 2017-10-15",
        ),
        ("2017-10-01..2017-1-5", "ends with `2017-1-5`"),
        ("2017-02-30..2017-03-01", "starts with `2017-02-30`"),
        ("2017-10-01..", "ends with ``"),
        (
            "2017-10-01",
            "one day is written as a range, `2017-10-01..2017-10-01`",
        ),
        ("17-10", "the year must be four digits"),
        ("2017/10", "none of the six forms"),
        ("Oct 2017", "none of the six forms"),
        ("2017-H3", "there is no half-year 3"),
        ("2017-h1", "capitals"),
        ("2017-H", "H1 or H2"),
        ("10000", "none of the six forms"),
        ("   ", "nothing was given"),
    ] {
        let err = text.parse::<Period>().unwrap_err().to_string();
        assert!(err.contains(problem), "{text}: {err}");
        assert!(
            err.contains("`2017-W43`"),
            "{text} should list the forms: {err}"
        );
    }
    assert!(Period::month(10000, 1).is_err());
    assert!(Period::range(day(2017, 10, 2), day(2017, 10, 1)).is_err());
}

#[test]
fn serde_reads_and_writes_the_written_form() {
    let p = period("2017-W43");
    assert_eq!(serde_json::to_value(p).unwrap(), json!("2017-W43"));
    assert_eq!(
        serde_json::from_value::<Period>(json!("2017-W43")).unwrap(),
        p
    );
    let err = serde_json::from_value::<Period>(json!("2017-Q5")).unwrap_err();
    assert!(err.to_string().contains("there is no quarter 5"), "{err}");
    assert!(serde_json::from_value::<Period>(json!(201710)).is_err());
}

#[test]
fn the_command_line_takes_periods() {
    #[derive(Parser)]
    struct Report {
        #[arg(long)]
        period: Period,
    }
    let args = Report::try_parse_from(["report", "--period", "2017-Q4"]).unwrap();
    assert_eq!(args.period, period("2017-Q4"));
    let err = Report::try_parse_from(["report", "--period", "2017-Q5"])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("there is no quarter 5"), "{err}");
}

#[test]
fn the_months_weeks_and_quarters_starting_within_a_span() {
    let span = |s: &str| s.parse::<Period>().unwrap();
    let names = |list: Vec<Period>| list.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
        names(span("2017-Q4").starting_within(PeriodKind::Month)),
        ["2017-10", "2017-11", "2017-12"]
    );
    // 2017-10-01 is a Sunday: the week holding it started in September.
    assert_eq!(
        names(span("2017-10").starting_within(PeriodKind::Week)),
        ["2017-W40", "2017-W41", "2017-W42", "2017-W43", "2017-W44"]
    );
    assert_eq!(
        names(span("2017-12-25..2018-01-08").starting_within(PeriodKind::Week)),
        ["2017-W52", "2018-W01", "2018-W02"]
    );
    assert_eq!(
        names(span("2017-01-01..2017-12-31").starting_within(PeriodKind::Quarter)),
        ["2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4"]
    );
    assert!(span("2017-10")
        .starting_within(PeriodKind::Range)
        .is_empty());
}
