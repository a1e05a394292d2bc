//! Dates as Polars stores them (days since 1970-01-01) and as scripts see them (YYYY-MM-DD).

use chrono::{Datelike, NaiveDate};

pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")
}

/// 1970-01-01 counted from 0001-01-01 as day 1, the way chrono counts days of the era.
const EPOCH_FROM_CE: i32 = 719_163;

pub fn from_days(days: i32) -> NaiveDate {
    // Direct day-of-era arithmetic: kernels convert a day per record, and date addition is slower.
    NaiveDate::from_num_days_from_ce_opt(days.saturating_add(EPOCH_FROM_CE)).expect("day number within chrono's date range")
}

pub fn to_days(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - EPOCH_FROM_CE
}

/// Parses the ISO form scripts use; also YYYYMMDD. Rules call this for every record, so the
/// two fixed layouts are read digit by digit instead of through a format string.
pub fn parse(s: &str) -> Option<NaiveDate> {
    let b = s.trim().as_bytes();
    let digits = |r: &[u8]| r.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32));
    let (y, m, d) = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?),
        8 => (digits(&b[0..4])?, digits(&b[4..6])?, digits(&b[6..8])?),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(y as i32, m, d)
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
