//! Compact representations shared by the tables: codes packed into integers, dates as day numbers,
//! a fast hasher for integer keys, a string interner, and the parsing of dates and release tags
//! found in CMS files and file names.

use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Day number: days since 1970-01-01, as Polars and [`crate::dates`] count them. Plain `i32`
/// keeps rows small.
pub(crate) type Day = i32;
/// "No lower bound" for an effective/start date.
pub(crate) const DAY_MIN: Day = i32::MIN;
/// "No upper bound" (still active): also what 9999-12-31 and `*` become.
pub(crate) const DAY_MAX: Day = i32::MAX;

pub(crate) fn day(d: NaiveDate) -> Day {
    crate::dates::to_days(d)
}

pub(crate) fn from_day(d: Day) -> Option<NaiveDate> {
    (d != DAY_MIN && d != DAY_MAX).then(|| crate::dates::from_days(d))
}

/// 6 bits per character; no character maps to 0, so codes of different lengths never collide
/// ("0A1" and "A1" differ) and a packed code is never 0.
#[inline]
fn char_code(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some((b - b'0') as u64 + 1),
        b'A'..=b'Z' => Some((b - b'A') as u64 + 11),
        b'a'..=b'z' => Some((b - b'a') as u64 + 11),
        _ => None,
    }
}

/// Pack an alphanumeric code of 1..=`max_len` characters (case-insensitive, surrounding
/// whitespace ignored). `None` for anything else, which lookups report as "not found".
#[inline]
pub(crate) fn pack(code: &str, max_len: usize) -> Option<u64> {
    let s = code.trim().as_bytes();
    if s.is_empty() || s.len() > max_len || s.len() > 10 {
        return None;
    }
    let mut v = 0u64;
    for &b in s {
        v = (v << 6) | char_code(b)?;
    }
    Some(v)
}

/// HCPCS/CPT procedure code: exactly five characters, packed in 30 bits.
#[inline]
pub(crate) fn pack_hcpcs(code: &str) -> Option<u32> {
    let t = code.trim();
    if t.len() != 5 {
        return None;
    }
    pack(t, 5).map(|v| v as u32)
}

/// ICD-10-CM code with or without the dot: 3..=7 characters once the dot is removed.
pub(crate) fn pack_icd(code: &str) -> Option<u64> {
    let t = code.trim();
    let mut buf = [0u8; 8];
    let mut n = 0;
    for &b in t.as_bytes() {
        if b == b'.' {
            continue;
        }
        if n == buf.len() {
            return None;
        }
        buf[n] = b;
        n += 1;
    }
    if !(3..=7).contains(&n) {
        return None;
    }
    let s = std::str::from_utf8(&buf[..n]).ok()?;
    pack(s, 7)
}

/// Place-of-service codes are two digits; "1" means "01".
pub(crate) fn pack_pos(code: &str) -> Option<u64> {
    let t = code.trim();
    match t.len() {
        1 if t.as_bytes()[0].is_ascii_digit() => pack(&format!("0{t}"), 2),
        2 => pack(t, 2),
        _ => None,
    }
}

/// Revenue codes are four digits on the UB-04; three-digit forms ("450") get the leading zero.
pub(crate) fn pack_revenue(code: &str) -> Option<u64> {
    let t = code.trim();
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match t.len() {
        3 => pack(&format!("0{t}"), 4),
        4 => pack(t, 4),
        _ => None,
    }
}

pub(crate) fn pack_modifier(m: &str) -> Option<u64> {
    let t = m.trim();
    if t.len() != 2 {
        return None;
    }
    pack(t, 2)
}

/// NPIs are ten digits; the OIG file uses 0000000000 for "no NPI", which is never a match.
pub(crate) fn parse_npi(s: &str) -> Option<u64> {
    let t = s.trim();
    if t.len() != 10 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u64 = t.parse().ok()?;
    (v != 0).then_some(v)
}

/// Dates as CMS writes them: `YYYY-MM-DD`, `YYYYMMDD`, `MM/DD/YYYY`, `YYYYDDD` (ordinal). Empty,
/// `*`, all zeros or 9999-12-31 mean "open" and give `Ok(None)`; anything else is an error.
pub(crate) fn parse_date_field(s: &str) -> Result<Option<NaiveDate>, String> {
    let t = s.trim().trim_matches('"').trim();
    if t.is_empty() || t == "*" || t.bytes().all(|b| b == b'0') {
        return Ok(None);
    }
    let d = parse_date_str(t).ok_or_else(|| format!("unreadable date {t:?}"))?;
    if d.year() >= 9999 {
        return Ok(None);
    }
    Ok(Some(d))
}

fn parse_date_str(t: &str) -> Option<NaiveDate> {
    let b = t.as_bytes();
    let num = |s: &str| s.parse::<u32>().ok();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        return NaiveDate::from_ymd_opt(num(&t[0..4])? as i32, num(&t[5..7])?, num(&t[8..10])?);
    }
    // A timestamp from a Parquet/Excel export: keep the date part.
    if b.len() > 10 && b[4] == b'-' && b[7] == b'-' && (b[10] == b' ' || b[10] == b'T') {
        return parse_date_str(&t[..10]);
    }
    if b.iter().all(|c| c.is_ascii_digit()) {
        return match b.len() {
            8 => NaiveDate::from_ymd_opt(num(&t[0..4])? as i32, num(&t[4..6])?, num(&t[6..8])?),
            7 => NaiveDate::from_yo_opt(num(&t[0..4])? as i32, num(&t[4..7])?),
            _ => None,
        };
    }
    let parts: Vec<&str> = t.split('/').collect();
    if parts.len() == 3 && parts[2].len() == 4 {
        return NaiveDate::from_ymd_opt(num(parts[2])? as i32, num(parts[0])?, num(parts[1])?);
    }
    None
}

/// Parse a date of service from a caller: `YYYY-MM-DD` (also `YYYYMMDD`, as in X12). Other
/// forms are refused rather than guessed (is 02/03/2024 February or March?).
pub fn parse_dos(s: &str) -> Option<NaiveDate> {
    crate::dates::parse(s)
}

/// The release a file belongs to, read from its name: `2024q3`, `Q3-2024`, `fy2026`, NCCI
/// versions (`v302r0` = 30.2 = 2024 Q3), MCE versions (`v43.1` = FY2026), `07-01-2024`,
/// `2024-07-01`, `20240701`, `2025-12`, or a bare year. `None` when the name carries no date.
pub(crate) fn release_from_name(name: &str) -> Option<NaiveDate> {
    let lower = name.to_ascii_lowercase();
    let s = lower.as_bytes();
    let n = s.len();
    let digits_at = |i: usize, k: usize| i + k <= n && s[i..i + k].iter().all(|c| c.is_ascii_digit());
    // A digit run must not continue past the span we read.
    let bounded = |i: usize, k: usize| (i == 0 || !s[i - 1].is_ascii_digit()) && (i + k == n || !s[i + k].is_ascii_digit());
    let year = |i: usize| -> Option<i32> {
        let y: i32 = lower[i..i + 4].parse().ok()?;
        (1980..=2100).contains(&y).then_some(y)
    };
    let quarter_start = |y: i32, q: u32| NaiveDate::from_ymd_opt(y, 3 * (q - 1) + 1, 1);

    for i in 0..n {
        // 2024q3, 2024-q3, 2024_q3
        if digits_at(i, 4) && bounded(i, 4) {
            let mut j = i + 4;
            if j < n && (s[j] == b'-' || s[j] == b'_' || s[j] == b' ') {
                j += 1;
            }
            if j + 1 < n && s[j] == b'q' && (b'1'..=b'4').contains(&s[j + 1]) {
                if let Some(y) = year(i) {
                    return quarter_start(y, (s[j + 1] - b'0') as u32);
                }
            }
        }
        // q3-2024, q3_2024, q32024
        if s[i] == b'q' && i + 1 < n && (b'1'..=b'4').contains(&s[i + 1]) && (i == 0 || !s[i - 1].is_ascii_alphanumeric()) {
            let mut j = i + 2;
            if j < n && (s[j] == b'-' || s[j] == b'_' || s[j] == b' ') {
                j += 1;
            }
            if digits_at(j, 4) && bounded(j, 4) {
                if let Some(y) = year(j) {
                    return quarter_start(y, (s[i + 1] - b'0') as u32);
                }
            }
        }
    }
    for i in 0..n {
        // fy2026: federal fiscal year starts on October 1 of the previous year.
        if i + 6 <= n && &s[i..i + 2] == b"fy" && digits_at(i + 2, 4) && bounded(i + 2, 4) {
            if let Some(y) = year(i + 2) {
                return NaiveDate::from_ymd_opt(y - 1, 10, 1);
            }
        }
        if s[i] == b'v' && (i == 0 || !s[i - 1].is_ascii_alphabetic()) {
            // NCCI version v302r0: major 30 = 2024 (1994 + major), minor 2 = third quarter.
            if digits_at(i + 1, 3) && i + 4 < n && s[i + 4] == b'r' {
                let major: i32 = lower[i + 1..i + 3].parse().ok()?;
                let minor = (s[i + 3] - b'0') as u32;
                if minor <= 3 {
                    return quarter_start(1994 + major, minor + 1);
                }
            }
            // MCE version v43.1: version 43 is fiscal year 2026 (1983 + major).
            if digits_at(i + 1, 2) && i + 3 < n && s[i + 3] == b'.' && bounded(i + 1, 2) {
                let major: i32 = lower[i + 1..i + 3].parse().ok()?;
                return NaiveDate::from_ymd_opt(1983 + major - 1, 10, 1);
            }
        }
    }
    for i in 0..n {
        // 07-01-2024 / 07_01_2024
        if digits_at(i, 2) && i + 10 <= n && bounded(i, 2) {
            let sep = s[i + 2];
            if (sep == b'-' || sep == b'_') && s[i + 5] == sep && digits_at(i + 3, 2) && digits_at(i + 6, 4) && bounded(i + 6, 4) {
                let m: u32 = lower[i..i + 2].parse().ok()?;
                let d: u32 = lower[i + 3..i + 5].parse().ok()?;
                if let (Some(y), true) = (year(i + 6), m <= 12) {
                    if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                        return Some(date);
                    }
                }
            }
        }
        if digits_at(i, 4) && bounded(i, 4) {
            if let Some(y) = year(i) {
                // 2024-07-01 or 2025-12
                if i + 7 <= n && (s[i + 4] == b'-' || s[i + 4] == b'_') && digits_at(i + 5, 2) && bounded(i + 5, 2) {
                    let m: u32 = lower[i + 5..i + 7].parse().ok()?;
                    if i + 10 <= n && s[i + 7] == s[i + 4] && digits_at(i + 8, 2) && bounded(i + 8, 2) {
                        let d: u32 = lower[i + 8..i + 10].parse().ok()?;
                        if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                            return Some(date);
                        }
                    }
                    if let Some(date) = NaiveDate::from_ymd_opt(y, m, 1) {
                        return Some(date);
                    }
                }
            }
        }
        if digits_at(i, 8) && bounded(i, 8) {
            if let Some(d) = parse_date_str(&lower[i..i + 8]) {
                if (1980..=2100).contains(&d.year()) {
                    return Some(d);
                }
            }
        }
    }
    // A bare year (hcpcs_level2_2022): January 1.
    (0..n).find_map(|i| if digits_at(i, 4) && bounded(i, 4) { year(i).and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1)) } else { None })
}

/// Multiply-shift hashing for keys that are already well-spread integers (packed codes); std's
/// SipHash costs more than the rest of the PTP index build.
#[derive(Default, Clone, Copy)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64)
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0 ^ i).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    }
}

pub(crate) type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;
pub(crate) type IntSet<K> = std::collections::HashSet<K, BuildHasherDefault<IntHasher>>;

/// Deduplicates the handful of distinct texts (PTP rationales, MUE rationales) that repeat on
/// millions of rows, so rows hold a small index instead of a String.
#[derive(Default)]
pub(crate) struct Interner {
    strings: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        // A dozen rationales cover millions of rows: a linear scan beats hashing 40 bytes a row.
        if self.strings.len() <= 32 {
            if let Some(i) = self.strings.iter().position(|x| &**x == s) {
                return i as u32;
            }
        } else if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.into());
        self.index.insert(s.into(), i);
        i
    }

    pub fn get(&self, i: u32) -> &str {
        self.strings.get(i as usize).map(|s| &**s).unwrap_or("")
    }

    /// The texts by id.
    pub fn into_strings(self) -> Vec<String> {
        self.strings.into_iter().map(String::from).collect()
    }
}

/// Codes written back from their packed form (for ptp hits and summaries).
pub(crate) fn unpack(mut v: u64) -> String {
    let mut out = Vec::new();
    while v != 0 {
        let c = (v & 63) as u8;
        out.push(if c <= 10 { b'0' + c - 1 } else { b'A' + c - 11 });
        v >>= 6;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
