//! Reporting time: instants are stored in UTC, days belong to Asia/Shanghai.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

/// The Asia/Shanghai calendar day an instant falls on.
pub fn local_day(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&Shanghai).date_naive()
}

/// The UTC instant at which an Asia/Shanghai day begins.
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    // Shanghai has had no DST since 1991, so midnight always exists exactly once.
    Shanghai
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shanghai_day_starts_at_sixteen_hundred_utc_the_day_before() {
        let day = NaiveDate::from_ymd_opt(2017, 10, 1).unwrap();
        assert_eq!(day_start(day).to_rfc3339(), "2017-09-30T16:00:00+00:00");
        assert_eq!(local_day(day_start(day)), day);
    }
}
