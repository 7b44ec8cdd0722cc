//! The written form of a period: parsing it strictly and saying what is wrong.

use std::{fmt, str::FromStr};

use chrono::NaiveDate;

use super::Period;

/// The accepted forms, ending every parse error.
const FORMS: &str = "write a month `2017-10`, an ISO week `2017-W43`, a quarter `2017-Q4`, \
                     a half-year `2017-H2`, a year `2017` or an inclusive range of days \
                     `2017-10-01..2017-10-15`";

/// Text that is not a period: what is wrong with it, followed by the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodError {
    text: String,
    problem: String,
}

impl PeriodError {
    pub(super) fn new(text: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            problem: problem.into(),
        }
    }

    /// The same problem, reported against the text as the caller wrote it.
    pub(super) fn of(self, text: &str) -> Self {
        Self::new(text, self.problem)
    }
}

impl fmt::Display for PeriodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a period: {}; {FORMS}",
            self.text, self.problem
        )
    }
}

impl std::error::Error for PeriodError {}

impl FromStr for Period {
    type Err = PeriodError;

    /// Parses the written form exactly (zero-padded, capital `W` and `Q`), ignoring
    /// surrounding whitespace.
    fn from_str(text: &str) -> Result<Self, PeriodError> {
        let text = text.trim();
        let fail = |problem: String| Err(PeriodError::new(text, problem));
        if text.is_empty() {
            return fail("nothing was given".into());
        }
        if let Some((from, to)) = text.split_once("..") {
            let Some(first) = strict_day(from) else {
                return fail(format!(
                    "the range starts with `{from}`, not a day YYYY-MM-DD"
                ));
            };
            let Some(last) = strict_day(to) else {
                return fail(format!("the range ends with `{to}`, not a day YYYY-MM-DD"));
            };
            return Self::range(first, last).map_err(|e| e.of(text));
        }
        if strict_day(text).is_some() {
            return fail(format!("one day is written as a range, `{text}..{text}`"));
        }
        if let Some(year) = digits(text, 4).and_then(|y| i32::try_from(y).ok()) {
            return Self::year(year).map_err(|e| e.of(text));
        }
        let Some((year, rest)) = text.split_once('-') else {
            return fail("it has none of the six forms".into());
        };
        let Some(year) = digits(year, 4).and_then(|y| i32::try_from(y).ok()) else {
            return fail(format!("the year must be four digits, not `{year}`"));
        };
        let parsed = if let Some(week) = rest.strip_prefix('W') {
            match digits(week, 2) {
                Some(week) => Self::iso_week(year, week),
                None => return fail(format!("the week must be two digits (`W07`), not `{week}`")),
            }
        } else if let Some(quarter) = rest.strip_prefix('Q') {
            match digits(quarter, 1) {
                Some(quarter) => Self::quarter(year, quarter),
                None => return fail(format!("the quarter must be Q1 to Q4, not `Q{quarter}`")),
            }
        } else if let Some(half) = rest.strip_prefix('H') {
            match digits(half, 1) {
                Some(half) => Self::half(year, half),
                None => return fail(format!("the half-year must be H1 or H2, not `H{half}`")),
            }
        } else if rest.starts_with(['w', 'q', 'h']) {
            return fail("`W`, `Q` and `H` are written in capitals".into());
        } else {
            match digits(rest, 2) {
                Some(month) => Self::month(year, month),
                None => return fail(format!("the month must be two digits (`03`), not `{rest}`")),
            }
        };
        parsed.map_err(|e| e.of(text))
    }
}

/// Exactly `len` ASCII digits.
fn digits(text: &str, len: usize) -> Option<u32> {
    if text.len() == len && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// A day written exactly `YYYY-MM-DD` (not `2017-1-1`).
fn strict_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|day| day.to_string() == text)
}
