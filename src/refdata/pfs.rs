//! The Medicare Physician Fee Schedule relative value file (`PPRRVU<yy>_<month>.csv` in the
//! quarterly `RVU<yy><A-D>.zip`), read as CMS publishes it: a few header rows, then one row per
//! code and modifier. Column order (CMS's record layout for the file): HCPCS, MOD, (the
//! descriptor, which some copies leave out), status code, a "not used for Medicare payment"
//! flag, work RVU, non-facility PE RVU, non-facility NA indicator, facility PE RVU, facility NA
//! indicator, malpractice RVU, the non-facility and facility totals, PC/TC indicator, global
//! days, pre-, intra- and post-operative shares, the multiple-procedure, bilateral, assistant,
//! co-surgeon and team-surgery indicators, endoscopic base code, conversion factor, physician
//! supervision, calculation flag, imaging family, and the OPPS cap RVUs.
//!
//! Each row's totals are checked against the sum of its RVUs, so a file whose columns do not
//! line up with this layout fails to load instead of pricing wrongly.
//!
//! The national amount is (work RVU x work GPCI + PE RVU x PE GPCI + MP RVU x MP GPCI) x the
//! conversion factor, with every GPCI 1.0 nationally. The caller gives the conversion factor
//! (the year's factor is a policy choice: CMS sets one per calendar year and has set several
//! within a year). Only status A (active), R (restricted) and T (injections) RVUs are used for
//! payment; other statuses, such as B (bundled), C (contractor priced), E, I, N, P, X, have no
//! national amount, nor has a setting the file marks NA for the code.

use super::compact::{self, IntMap};
use super::detect::{Detected, Plan, Probe};
use super::read;
use super::registry::{Parsed, TableLoader};
use super::source::SourceFile;
use super::{RefData, Releases, TableKind};
use anyhow::{anyhow, bail, Result};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Where a service was furnished, for the practice-expense RVU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PfsSetting {
    Facility,
    NonFacility,
}

impl PfsSetting {
    pub fn parse(s: &str) -> Option<PfsSetting> {
        match s.trim().to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
            "facility" => Some(PfsSetting::Facility),
            "non_facility" | "nonfacility" => Some(PfsSetting::NonFacility),
            _ => None,
        }
    }
}

/// One PFS row: RVUs (in hundredths, as the file gives them) and indicators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PfsEntry {
    pub code: String,
    /// "" for the global service, else 26, TC or 53.
    pub modifier: String,
    /// Status code (A active, B bundled, C contractor priced, R restricted, T injection, ...).
    pub status: char,
    work: u32,
    pe_non_facility: u32,
    pe_facility: u32,
    mp: u32,
    /// NA: rarely or never performed in that setting, so no amount there.
    pub non_facility_na: bool,
    pub facility_na: bool,
    /// PC/TC indicator (0-9).
    pub pctc: char,
    /// Global surgery days: 000, 010, 090, MMM, XXX, YYY, ZZZ.
    pub global_days: String,
    pub multiple_procedure: char,
    pub bilateral: char,
    pub assistant: char,
    pub co_surgeons: char,
    pub team_surgery: char,
    /// The conversion factor printed in the file (informational: amounts use the caller's).
    pub file_conversion_factor: f64,
}

impl PfsEntry {
    pub fn work_rvu(&self) -> f64 {
        self.work as f64 / 100.0
    }

    pub fn pe_rvu(&self, setting: PfsSetting) -> f64 {
        match setting {
            PfsSetting::Facility => self.pe_facility as f64 / 100.0,
            PfsSetting::NonFacility => self.pe_non_facility as f64 / 100.0,
        }
    }

    pub fn mp_rvu(&self) -> f64 {
        self.mp as f64 / 100.0
    }

    /// Statuses whose RVUs Medicare pays on: A, R and T.
    pub fn payable(&self) -> bool {
        matches!(self.status, 'A' | 'R' | 'T')
    }

    /// The national amount in dollars, rounded to cents: `None` when the status is not paid on
    /// RVUs, the setting is NA for the code, or the code has no RVUs there.
    pub fn amount(&self, setting: PfsSetting, conversion_factor: f64) -> Option<f64> {
        let (pe, na) = match setting {
            PfsSetting::Facility => (self.pe_facility, self.facility_na),
            PfsSetting::NonFacility => (self.pe_non_facility, self.non_facility_na),
        };
        if !self.payable() || na || !conversion_factor.is_finite() || conversion_factor <= 0.0 {
            return None;
        }
        // Work GPCI, PE GPCI and MP GPCI are 1.0 nationally; RVUs summed exactly in hundredths.
        let hundredths = self.work + pe + self.mp;
        if hundredths == 0 {
            return None;
        }
        Some((hundredths as f64 * conversion_factor).round() / 100.0)
    }
}

/// One release's rows by (packed code, packed modifier; 0 = none).
#[derive(Default)]
pub(crate) struct PfsIndex {
    map: IntMap<u64, PfsEntry>,
}

fn key(code: u32, modifier: u64) -> u64 {
    ((code as u64) << 12) | modifier
}

impl PfsIndex {
    fn get(&self, code: &str, modifier: &str) -> Option<&PfsEntry> {
        let c = compact::pack_hcpcs(code)?;
        let m = compact::pack_modifier(modifier).unwrap_or(0);
        self.map.get(&key(c, m)).or_else(|| self.map.get(&key(c, 0)))
    }
}

/// The entry for `code`/`modifier` on `dos`, from the release in force in that calendar year.
pub(crate) fn lookup(releases: &Releases<PfsIndex>, code: &str, modifier: &str, dos: NaiveDate) -> Option<PfsEntry> {
    let (start, idx) = releases.pick_dated(dos)?;
    // RVUs are set per calendar year: another year's file does not price this date.
    if start.is_some_and(|s| s.year() != dos.year()) {
        // The earliest release answers for older dates; pick the year's own if one is loaded.
        let same_year = releases.dated().find(|(d, _)| d.is_some_and(|d| d.year() == dos.year()));
        return same_year.and_then(|(_, idx)| idx.get(code, modifier).cloned());
    }
    idx.get(code, modifier).cloned()
}

#[derive(Serialize, Deserialize)]
pub(crate) struct PfsPart {
    rows: Vec<PfsEntry>,
}

pub(crate) struct PfsTable;

impl TableLoader for PfsTable {
    type Part = PfsPart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<PfsPart>> {
        let part = parse_rvu(src, plan)?;
        let n = part.rows.len();
        let zip = src.member.as_ref().map(|_| src.path.file_name().unwrap_or_default().to_string_lossy().to_ascii_lowercase());
        let release = pfs_release(&src.name).or_else(|| zip.as_deref().and_then(pfs_release)).or(release);
        let mut parsed = Parsed::new(part, n, 0, release);
        parsed.version = release.map(|d| format!("{} {}", d.year(), ["January", "April", "July", "October"][(d.month0() / 3) as usize]));
        Ok(parsed)
    }

    fn add(rd: &mut RefData, part: PfsPart, release: Option<NaiveDate>) {
        let idx = rd.pfs.entry(release);
        for e in part.rows {
            let (Some(c), m) = (compact::pack_hcpcs(&e.code), compact::pack_modifier(&e.modifier).unwrap_or(0)) else { continue };
            idx.map.insert(key(c, m), e);
        }
    }

    fn loaded(rd: &RefData) -> bool {
        !rd.pfs.is_empty()
    }

    fn entries(rd: &RefData) -> usize {
        rd.pfs.iter().map(|t| t.map.len()).sum()
    }

    fn releases(rd: &RefData) -> Vec<Option<NaiveDate>> {
        rd.pfs.dates()
    }
}

/// The release of a PFS file from its name: `RVU25D` (A-D = January, April, July, October),
/// `PPRRVU25_OCT`, `pfs_rvu2025_oct`.
pub(crate) fn pfs_release(name: &str) -> Option<NaiveDate> {
    let n = name.to_ascii_lowercase();
    let b = n.as_bytes();
    let digits = |i: usize, k: usize| i + k <= b.len() && b[i..i + k].iter().all(u8::is_ascii_digit);
    let at = n.find("rvu")? + 3;
    let (year, after) = if digits(at, 4) && !digits(at + 4, 1) {
        (n[at..at + 4].parse::<i32>().ok()?, at + 4)
    } else if digits(at, 2) && !digits(at + 2, 1) {
        (2000 + n[at..at + 2].parse::<i32>().ok()?, at + 2)
    } else {
        return None;
    };
    let letter = b.get(after).and_then(|c| match c {
        b'a' => Some(1),
        b'b' => Some(4),
        b'c' => Some(7),
        b'd' => Some(10),
        _ => None,
    });
    let rest = &n[after..];
    let word = [("jan", 1), ("apr", 4), ("jul", 7), ("oct", 10)].iter().find(|(w, _)| rest.contains(w)).map(|(_, m)| *m);
    NaiveDate::from_ymd_opt(year, word.or(letter).unwrap_or(1), 1)
}

pub(crate) fn detect(p: &Probe) -> Detected {
    p.official(TableKind::Pfs, "official CSV", |_, h| {
        let starts = h.len() > 20 && h[0] == "hcpcs" && h[1] == "mod";
        (starts && h.iter().any(|c| c == "factor")).then_some(Ok(h.len()))
    })
}

fn hundredths(s: Option<&str>, what: &str) -> Result<u32> {
    let t = s.unwrap_or("").trim();
    if t.is_empty() {
        return Ok(0);
    }
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let frac = format!("{frac:0<2}");
    if frac.len() > 2 || !int.bytes().all(|c| c.is_ascii_digit()) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        bail!("{what} {t:?} is not an RVU");
    }
    Ok(int.parse::<u32>().unwrap_or(0) * 100 + frac.parse::<u32>().unwrap_or(0))
}

fn parse_rvu(src: &SourceFile, plan: &Plan) -> Result<PfsPart> {
    let shown = &src.shown;
    // The descriptor column, when present, sits between MOD and the status code.
    let o = usize::from(plan.header.get(2).is_some_and(|h| h.contains("desc")));
    let cols_wanted: Vec<usize> =
        [0, 1, 2 + o, 4 + o, 5 + o, 6 + o, 7 + o, 8 + o, 9 + o, 10 + o, 11 + o, 12 + o, 13 + o, 17 + o, 18 + o, 19 + o, 20 + o, 21 + o, 23 + o]
            .into_iter()
            .collect();
    if cols_wanted.iter().any(|&c| c >= plan.columns.len()) {
        bail!("{}: too few columns for the PFS relative value layout", shown.display());
    }
    let mut rows = Vec::new();
    let mut line = 0usize;
    read::for_each_batch(src, plan, &cols_wanted, |cols| {
        for k in 0..cols[0].len() {
            line += 1;
            let cell = |i: usize| cols[i].get(k);
            // Header rows (one of them starts "HCPCS", itself five letters) and notes.
            let Some(code) = cell(0).map(str::trim).filter(|c| compact::pack_hcpcs(c).is_some() && !c.eq_ignore_ascii_case("hcpcs")) else {
                continue;
            };
            let row = || format!("{}: row {line} ({code})", shown.display());
            let ch = |i: usize| cell(i).and_then(|s| s.trim().chars().next()).unwrap_or(' ');
            let rvu = |i: usize, what: &str| hundredths(cell(i), what).map_err(|e| anyhow!("{}: {e}", row()));
            let e = PfsEntry {
                code: code.to_ascii_uppercase(),
                modifier: cell(1).unwrap_or("").trim().to_ascii_uppercase(),
                status: ch(2),
                work: rvu(3, "work RVU")?,
                pe_non_facility: rvu(4, "non-facility PE RVU")?,
                non_facility_na: cell(5).is_some_and(|s| s.trim().eq_ignore_ascii_case("NA")),
                pe_facility: rvu(6, "facility PE RVU")?,
                facility_na: cell(7).is_some_and(|s| s.trim().eq_ignore_ascii_case("NA")),
                mp: rvu(8, "malpractice RVU")?,
                pctc: ch(11),
                global_days: cell(12).unwrap_or("").trim().to_string(),
                multiple_procedure: ch(13),
                bilateral: ch(14),
                assistant: ch(15),
                co_surgeons: ch(16),
                team_surgery: ch(17),
                file_conversion_factor: cell(18).and_then(|s| s.trim().parse().ok()).unwrap_or(0.0),
            };
            let (total_nf, total_f) = (rvu(9, "non-facility total")?, rvu(10, "facility total")?);
            if e.work + e.pe_non_facility + e.mp != total_nf || e.work + e.pe_facility + e.mp != total_f {
                bail!("{}: the RVUs do not add up to the totals: the columns do not follow the PFS relative value layout", row());
            }
            rows.push(e);
        }
        Ok(())
    })?;
    Ok(PfsPart { rows })
}

/// The PFS conversion factor by date of service (claimlint's own table,
/// `rules/data/claimlint/pfs_conversion_factors.csv`): CMS sets one per calendar year in the
/// final rule, and Congress has changed it within a year (2024: from March 9).
#[derive(Default)]
pub(crate) struct ConversionFactors {
    /// (effective from, factor), sorted by date.
    rows: Vec<(NaiveDate, f64)>,
}

impl ConversionFactors {
    /// The factor in force on `dos`: the latest row of that calendar year starting on or before
    /// it. Another year's factor never prices a date: `None` for years the table does not list.
    pub fn on(&self, dos: NaiveDate) -> Option<f64> {
        let n = self.rows.partition_point(|(from, _)| *from <= dos);
        let (from, cf) = self.rows[..n].last()?;
        (from.year() == dos.year()).then_some(*cf)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct FactorsPart {
    rows: Vec<(NaiveDate, f64)>,
}

pub(crate) struct FactorsTable;

impl TableLoader for FactorsTable {
    type Part = FactorsPart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<FactorsPart>> {
        let part = parse_factors(src, plan)?;
        let n = part.rows.len();
        Ok(Parsed::new(part, n, 0, release))
    }

    fn add(rd: &mut RefData, part: FactorsPart, _release: Option<NaiveDate>) {
        let rows = &mut rd.pfs_factors.rows;
        for (from, cf) in part.rows {
            // A later file's factor for the same date replaces the earlier one.
            rows.retain(|(d, _)| *d != from);
            rows.push((from, cf));
        }
        rows.sort_by_key(|(d, _)| *d);
    }

    fn loaded(rd: &RefData) -> bool {
        rd.pfs_factors.len() > 0
    }

    fn entries(rd: &RefData) -> usize {
        rd.pfs_factors.len()
    }
}

pub(crate) fn detect_factors(p: &Probe) -> Detected {
    p.normalised(TableKind::PfsFactors, |_, h| h.iter().any(|c| c == "effective_from") && h.iter().any(|c| c == "conversion_factor"))
}

fn parse_factors(src: &SourceFile, plan: &Plan) -> Result<FactorsPart> {
    let shown = &src.shown;
    let year = read::require_col(&plan.header, "year", shown)?;
    let from = read::require_col(&plan.header, "effective_from", shown)?;
    let factor = read::require_col(&plan.header, "conversion_factor", shown)?;
    let mut rows = Vec::new();
    let mut line = 1usize;
    read::for_each_batch(src, plan, &[year, from, factor], |cols| {
        for k in 0..cols[0].len() {
            line += 1;
            let cell = |i: usize| cols[i].get(k).unwrap_or("").trim();
            if (0..3).all(|i| cell(i).is_empty()) {
                continue;
            }
            let at = || format!("{}: row {line}", shown.display());
            let y: i32 = cell(0).parse().map_err(|_| anyhow!("{}: year {:?} is not a year", at(), cell(0)))?;
            let d = NaiveDate::parse_from_str(cell(1), "%Y-%m-%d")
                .map_err(|_| anyhow!("{}: effective_from {:?} is not a YYYY-MM-DD date", at(), cell(1)))?;
            if d.year() != y {
                bail!("{}: effective_from {d} is not in year {y}", at());
            }
            let cf: f64 = cell(2)
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v > 0.0)
                .ok_or_else(|| anyhow!("{}: conversion_factor {:?} is not a positive number", at(), cell(2)))?;
            rows.push((d, cf));
        }
        Ok(())
    })?;
    Ok(FactorsPart { rows })
}
