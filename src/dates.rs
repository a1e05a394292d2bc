//! Dates as Polars stores them (days since 1970-01-01) and as scripts see them (YYYY-MM-DD).

use chrono::{Datelike, NaiveDate};

pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")
}

pub fn from_days(days: i32) -> NaiveDate {
    epoch() + chrono::Duration::days(days as i64)
}

pub fn to_days(date: NaiveDate) -> i32 {
    (date - epoch()).num_days() as i32
}

/// Parses the ISO form scripts use; also YYYYMMDD.
pub fn parse(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d")).ok()
}

/// Whether a day (days since 1970-01-01) lies in an optional inclusive window.
pub fn in_window(day: i32, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
    let day = from_days(day);
    from.is_none_or(|f| day >= f) && to.is_none_or(|t| day <= t)
}

/// Whole years of age on `on` for someone born on `birth`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i64 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age as i64
}
