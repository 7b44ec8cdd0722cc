//! Reporting periods: a month, an ISO week, a quarter, a half-year, a year or an inclusive
//! range of Asia/Shanghai days, written `2017-10`, `2017-W43`, `2017-Q4`, `2017-H2`, `2017`
//! or `2017-10-01..2017-10-15`. That text is the one spelling used everywhere: command-line
//! arguments (`FromStr`), the GraphQL `Period` scalar, serde and the database.

use std::fmt;

use chrono::{DateTime, Datelike, Days, IsoWeek, Month, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::day_start;

mod parse;

pub use parse::PeriodError;

/// A reporting period of whole Asia/Shanghai days.
///
/// Build one by parsing its text or with [`Period::month`], [`Period::iso_week`],
/// [`Period::quarter`], [`Period::half`], [`Period::year`] or [`Period::range`], which
/// check it. Months, weeks and quarters
/// are typed so that none can be out of range; a period built by hand must still keep
/// its years within 0000–9999 (the written form) and, for a range, `from <= to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A calendar month, `2017-10`.
    Month { year: i32, month: Month },
    /// An ISO 8601 week, Monday to Sunday, `2017-W43`. Its year is the ISO week-numbering
    /// year: 2018-W01 starts on Monday 2018-01-01, 2021-W01 on 2021-01-04.
    IsoWeek(IsoWeek),
    /// A calendar quarter, `2017-Q4`.
    Quarter { year: i32, quarter: Quarter },
    /// A half of a calendar year, `2017-H1` (January to June) or `2017-H2`.
    Half { year: i32, second: bool },
    /// A calendar year, `2017`.
    Year { year: i32 },
    /// The days `from` to `to`, both included, `2017-10-01..2017-10-15`.
    Range { from: NaiveDate, to: NaiveDate },
}

/// A quarter of a calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Quarter {
    Q1,
    Q2,
    Q3,
    Q4,
}

/// What kind of period a [`Period`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodKind {
    Month,
    Week,
    Quarter,
    Half,
    Year,
    Range,
}

impl PeriodKind {
    /// In words: `month`, `ISO week`, `quarter`, `half-year`, `year`, `range`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Week => "ISO week",
            Self::Quarter => "quarter",
            Self::Half => "half-year",
            Self::Year => "year",
            Self::Range => "range",
        }
    }
}

impl Quarter {
    /// 1 to 4.
    pub fn number(self) -> u32 {
        match self {
            Self::Q1 => 1,
            Self::Q2 => 2,
            Self::Q3 => 3,
            Self::Q4 => 4,
        }
    }

    /// The quarter numbered 1 to 4.
    pub fn from_number(number: u32) -> Option<Self> {
        match number {
            1 => Some(Self::Q1),
            2 => Some(Self::Q2),
            3 => Some(Self::Q3),
            4 => Some(Self::Q4),
            _ => None,
        }
    }

    /// The month the quarter starts with.
    pub fn first_month(self) -> Month {
        match self {
            Self::Q1 => Month::January,
            Self::Q2 => Month::April,
            Self::Q3 => Month::July,
            Self::Q4 => Month::October,
        }
    }

    /// The month the quarter ends with.
    pub fn last_month(self) -> Month {
        self.first_month().succ().succ()
    }
}

impl Period {
    /// The month numbered 1 to 12 of a year.
    pub fn month(year: i32, month: u32) -> Result<Self, PeriodError> {
        let text = format!("{year:04}-{month:02}");
        check_year(year, &text)?;
        let number = u8::try_from(month).ok();
        match number.and_then(|m| Month::try_from(m).ok()) {
            Some(month) => Ok(Self::Month { year, month }),
            None => Err(PeriodError::new(
                text,
                format!("there is no month {month} (months are 01 to 12)"),
            )),
        }
    }

    /// The ISO week numbered 1 to 52 or 53 of an ISO week-numbering year.
    pub fn iso_week(year: i32, week: u32) -> Result<Self, PeriodError> {
        let text = format!("{year:04}-W{week:02}");
        check_year(year, &text)?;
        match NaiveDate::from_isoywd_opt(year, week, Weekday::Mon) {
            Some(monday) => Ok(Self::IsoWeek(monday.iso_week())),
            None if week == 0 => Err(PeriodError::new(text, "ISO weeks are numbered from W01")),
            None => Err(PeriodError::new(
                text,
                format!(
                    "there is no week {week}: {year} has {} ISO weeks",
                    weeks_in(year)
                ),
            )),
        }
    }

    /// The quarter numbered 1 to 4 of a year.
    pub fn quarter(year: i32, quarter: u32) -> Result<Self, PeriodError> {
        let text = format!("{year:04}-Q{quarter}");
        check_year(year, &text)?;
        match Quarter::from_number(quarter) {
            Some(quarter) => Ok(Self::Quarter { year, quarter }),
            None => Err(PeriodError::new(
                text,
                format!("there is no quarter {quarter} (quarters are Q1 to Q4)"),
            )),
        }
    }

    /// The half-year numbered 1 (January to June) or 2 of a year.
    pub fn half(year: i32, half: u32) -> Result<Self, PeriodError> {
        let text = format!("{year:04}-H{half}");
        check_year(year, &text)?;
        match half {
            1 | 2 => Ok(Self::Half {
                year,
                second: half == 2,
            }),
            _ => Err(PeriodError::new(
                text,
                format!("there is no half-year {half} (they are H1 and H2)"),
            )),
        }
    }

    /// A calendar year.
    pub fn year(year: i32) -> Result<Self, PeriodError> {
        check_year(year, &format!("{year:04}"))?;
        Ok(Self::Year { year })
    }

    /// The days `from` to `to`, both included; one day is `day..day`.
    pub fn range(from: NaiveDate, to: NaiveDate) -> Result<Self, PeriodError> {
        let text = format!("{from}..{to}");
        check_year(from.year(), &text)?;
        check_year(to.year(), &text)?;
        if to < from {
            return Err(PeriodError::new(
                text,
                format!("the range ends on {to}, before it starts on {from}"),
            ));
        }
        Ok(Self::Range { from, to })
    }

    /// Month, week, quarter, half-year, year or range.
    pub fn kind(&self) -> PeriodKind {
        match self {
            Self::Month { .. } => PeriodKind::Month,
            Self::IsoWeek(_) => PeriodKind::Week,
            Self::Quarter { .. } => PeriodKind::Quarter,
            Self::Half { .. } => PeriodKind::Half,
            Self::Year { .. } => PeriodKind::Year,
            Self::Range { .. } => PeriodKind::Range,
        }
    }

    /// The first Asia/Shanghai day of the period.
    pub fn first_day(&self) -> NaiveDate {
        match *self {
            Self::Month { year, month } => ymd(year, month, 1),
            Self::IsoWeek(week) => monday_of(week),
            Self::Quarter { year, quarter } => ymd(year, quarter.first_month(), 1),
            Self::Half { year, second } => {
                ymd(year, if second { Month::July } else { Month::January }, 1)
            }
            Self::Year { year } => ymd(year, Month::January, 1),
            Self::Range { from, .. } => from,
        }
    }

    /// The last Asia/Shanghai day of the period (included).
    pub fn last_day(&self) -> NaiveDate {
        match *self {
            Self::Month { year, month } => month_end(year, month),
            Self::IsoWeek(week) => days_after(monday_of(week), 6),
            Self::Quarter { year, quarter } => month_end(year, quarter.last_month()),
            Self::Half { year, second } => {
                month_end(year, if second { Month::December } else { Month::June })
            }
            Self::Year { year } => month_end(year, Month::December),
            Self::Range { to, .. } => to,
        }
    }

    /// How many days the period has.
    pub fn days(&self) -> i64 {
        let span = self.last_day().signed_duration_since(self.first_day());
        (span.num_days() + 1).max(0)
    }

    /// The instant the period starts: Asia/Shanghai midnight at its first day.
    pub fn start_utc(&self) -> DateTime<Utc> {
        day_start(self.first_day())
    }

    /// The instant the period ends (excluded): Asia/Shanghai midnight after its last day.
    pub fn end_utc(&self) -> DateTime<Utc> {
        day_start(days_after(self.last_day(), 1))
    }

    /// Whether the Asia/Shanghai day falls within the period.
    pub fn contains_day(&self, day: NaiveDate) -> bool {
        self.first_day() <= day && day <= self.last_day()
    }

    /// The month, ISO week, quarter, half-year or year holding `day`; none for a range.
    pub fn containing(kind: PeriodKind, day: NaiveDate) -> Option<Self> {
        let month = Month::try_from(u8::try_from(day.month()).ok()?).ok()?;
        match kind {
            PeriodKind::Month => Some(Self::Month {
                year: day.year(),
                month,
            }),
            PeriodKind::Week => Some(Self::IsoWeek(day.iso_week())),
            PeriodKind::Quarter => Some(Self::Quarter {
                year: day.year(),
                quarter: Quarter::from_number((day.month() - 1) / 3 + 1)?,
            }),
            PeriodKind::Half => Some(Self::Half {
                year: day.year(),
                second: day.month() > 6,
            }),
            PeriodKind::Year => Some(Self::Year { year: day.year() }),
            PeriodKind::Range => None,
        }
    }

    /// The periods of a kind (months, ISO weeks, …) that start within this period, in order.
    pub fn starting_within(&self, kind: PeriodKind) -> Vec<Self> {
        let mut out = Vec::new();
        let mut next = Self::containing(kind, self.first_day());
        while let Some(period) = next {
            if period.first_day() > self.last_day() {
                break;
            }
            if period.first_day() >= self.first_day() {
                out.push(period);
            }
            next = Self::containing(kind, days_after(period.last_day(), 1));
        }
        out
    }

    /// The period of the same kind just before: the previous month, ISO week, quarter,
    /// half-year or year; for a range, the range as long ending the day before it starts.
    pub fn previous(&self) -> Self {
        match *self {
            Self::Month { year, month } => match month {
                Month::January => Self::Month {
                    year: year.saturating_sub(1),
                    month: Month::December,
                },
                _ => Self::Month {
                    year,
                    month: month.pred(),
                },
            },
            Self::IsoWeek(week) => Self::IsoWeek(days_before(monday_of(week), 7).iso_week()),
            Self::Quarter { year, quarter } => match Quarter::from_number(quarter.number() - 1) {
                Some(quarter) => Self::Quarter { year, quarter },
                None => Self::Quarter {
                    year: year.saturating_sub(1),
                    quarter: Quarter::Q4,
                },
            },
            Self::Half { year, second: true } => Self::Half {
                year,
                second: false,
            },
            Self::Half {
                year,
                second: false,
            } => Self::Half {
                year: year.saturating_sub(1),
                second: true,
            },
            Self::Year { year } => Self::Year {
                year: year.saturating_sub(1),
            },
            Self::Range { from, .. } => Self::Range {
                from: days_before(from, self.days().unsigned_abs()),
                to: days_before(from, 1),
            },
        }
    }
}

/// Years are written with four digits.
fn check_year(year: i32, text: &str) -> Result<(), PeriodError> {
    if (0..=9999).contains(&year) {
        Ok(())
    } else {
        Err(PeriodError::new(
            text,
            format!("the year {year} cannot be written with four digits"),
        ))
    }
}

/// How many ISO weeks a week-numbering year has (52 or 53): 28 December is always in
/// the year's last week.
fn weeks_in(year: i32) -> u32 {
    NaiveDate::from_ymd_opt(year, 12, 28).map_or(52, |day| day.iso_week().week())
}

// The fallbacks below only apply to years beyond chrono's ±262,000, which no checked
// period has; they keep the accessors total without panicking.

fn ymd(year: i32, month: Month, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month.number_from_month(), day).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

fn month_end(year: i32, month: Month) -> NaiveDate {
    ymd(year, month, month.num_days(year).map_or(28, u32::from))
}

fn monday_of(week: IsoWeek) -> NaiveDate {
    NaiveDate::from_isoywd_opt(week.year(), week.week(), Weekday::Mon).unwrap_or(NaiveDate::MIN)
}

fn days_after(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_add_days(Days::new(n)).unwrap_or(NaiveDate::MAX)
}

fn days_before(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(n)).unwrap_or(NaiveDate::MIN)
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Month { year, month } => write!(f, "{year:04}-{:02}", month.number_from_month()),
            Self::IsoWeek(week) => write!(f, "{:04}-W{:02}", week.year(), week.week()),
            Self::Quarter { year, quarter } => write!(f, "{year:04}-Q{}", quarter.number()),
            Self::Half { year, second } => write!(f, "{year:04}-H{}", 1 + u8::from(*second)),
            Self::Year { year } => write!(f, "{year:04}"),
            Self::Range { from, to } => write!(f, "{from}..{to}"),
        }
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "graphql")]
mod scalar;

#[cfg(test)]
mod tests;
