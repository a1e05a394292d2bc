//! US federal holidays as observed (5 U.S.C. 6103), for the weekend/holiday billing share.

use chrono::{Datelike, NaiveDate, Weekday};

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).expect("every month has four of each weekday")
}

fn last_monday(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) };
    let mut d = next.expect("valid month").pred_opt().expect("not the first day ever");
    while d.weekday() != Weekday::Mon {
        d = d.pred_opt().expect("not the first day ever");
    }
    d
}

/// A fixed-date holiday on a Saturday is observed on the Friday before, on a Sunday on the Monday after.
fn observed(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d.pred_opt().unwrap_or(d),
        Weekday::Sun => d.succ_opt().unwrap_or(d),
        _ => d,
    }
}

/// The federal holidays of `year` as observed.
pub fn federal_holidays(year: i32) -> Vec<NaiveDate> {
    let fixed = |m, d| NaiveDate::from_ymd_opt(year, m, d).map(observed);
    let mut v: Vec<NaiveDate> = [fixed(1, 1), fixed(7, 4), fixed(11, 11), fixed(12, 25)].into_iter().flatten().collect();
    if year >= 2021 {
        v.extend(fixed(6, 19)); // Juneteenth, since 2021
    }
    v.extend([
        nth_weekday(year, 1, Weekday::Mon, 3),  // Martin Luther King Jr. Day
        nth_weekday(year, 2, Weekday::Mon, 3),  // Washington's Birthday
        last_monday(year, 5),                   // Memorial Day
        nth_weekday(year, 9, Weekday::Mon, 1),  // Labor Day
        nth_weekday(year, 10, Weekday::Mon, 2), // Columbus Day
        nth_weekday(year, 11, Weekday::Thu, 4), // Thanksgiving
    ]);
    v.sort();
    v
}
