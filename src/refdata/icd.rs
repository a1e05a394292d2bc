//! ICD-10-CM: the fiscal-year code lists (billable flag, description), the Medicare Code Editor
//! (MCE) diagnosis master with date-effective validity and flags, and the MCE age groups.

use super::cache::pod_vec;
use super::compact::{self, day, Day, IntMap, DAY_MAX, DAY_MIN};
use super::detect::{has, Detected, Plan, Probe, Reader};
use super::read;
use super::registry::{Parsed, TableLoader};
use super::source::SourceFile;
use super::{icd_official, RefData, Releases, TableKind};
use anyhow::{anyhow, bail, Context, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What the loaded ICD-10-CM tables say about a diagnosis code on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IcdStatus {
    /// A valid, billable code on that date.
    Valid,
    /// A category/header code (S72): it exists but is never billable.
    NotBillable,
    /// A real code that is not valid on that date (not yet created, or deleted/expanded).
    InvalidOnDate,
    /// No loaded table knows the code.
    Unknown,
    /// No ICD-10-CM table is loaded at all.
    Unloaded,
}

impl IcdStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IcdStatus::Valid => "valid",
            IcdStatus::NotBillable => "not_billable",
            IcdStatus::InvalidOnDate => "invalid_on_date",
            IcdStatus::Unknown => "unknown",
            IcdStatus::Unloaded => "unloaded",
        }
    }
}

impl std::fmt::Display for IcdStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy)]
struct ListEntry {
    billable: bool,
    desc_off: u32,
    desc_len: u32,
}

/// One fiscal year's code list. Its window is the fiscal year named in the file (fy2026 =
/// 2025-10-01..2026-09-30); a list without a year in its name has no window.
#[derive(Default)]
pub(crate) struct IcdList {
    entries: IntMap<u64, ListEntry>,
    descs: String,
    pub window: Option<(Day, Day)>,
}

impl IcdList {
    fn get(&self, key: u64) -> Option<ListEntry> {
        self.entries.get(&key).copied()
    }

    fn covers(&self, d: Day) -> bool {
        self.window.is_none_or(|(s, e)| s <= d && d <= e)
    }

    pub fn description(&self, code: &str) -> Option<&str> {
        let e = self.get(compact::pack_icd(code)?)?;
        let s = &self.descs[e.desc_off as usize..(e.desc_off + e.desc_len) as usize];
        (!s.is_empty()).then_some(s)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The window of the fiscal year starting on `start` (October 1).
pub(crate) fn fiscal_window(start: NaiveDate) -> (Day, Day) {
    let end = start.checked_add_months(chrono::Months::new(12)).map(|d| day(d) - 1).unwrap_or(DAY_MAX);
    (day(start), end)
}

/// One code of a list file: the billable flag rides in the top bit of `len`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct IcdRow {
    key: u64,
    off: u32,
    len: u32,
}

const BILLABLE: u32 = 1 << 31;

/// What one ICD-10-CM list file yields.
#[derive(Serialize, Deserialize, Default)]
pub(crate) struct IcdPart {
    #[serde(with = "pod_vec")]
    rows: Vec<IcdRow>,
    descs: String,
    /// The fiscal year the list is for, when the file says.
    pub window: Option<(Day, Day)>,
}

impl IcdPart {
    /// Add a code (with or without the dot); `false` when it is not an ICD-10-CM code.
    pub fn push(&mut self, code: &str, billable: bool, desc: &str) -> bool {
        let Some(key) = compact::pack_icd(code) else { return false };
        let off = self.descs.len() as u32;
        self.descs.push_str(desc);
        self.rows.push(IcdRow { key, off, len: desc.len() as u32 | if billable { BILLABLE } else { 0 } });
        true
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

pub(crate) struct IcdListTable;

impl TableLoader for IcdListTable {
    type Part = IcdPart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<IcdPart>> {
        if matches!(plan.reader, Reader::Native) {
            return icd_official::parse(src, plan);
        }
        let mut part = parse_list(src, plan)?;
        // A fiscal year in the name (icd10cm_fy2026.csv) bounds the list.
        if let Some(start) = release.filter(|_| src.name.contains("fy")) {
            part.window = Some(fiscal_window(start));
        }
        let n = part.len();
        Ok(Parsed::new(part, n, 0, release))
    }

    fn add(rd: &mut RefData, part: IcdPart, release: Option<NaiveDate>) {
        let list = rd.icd_lists.entry(release);
        if part.window.is_some() {
            list.window = part.window;
        }
        let base = list.descs.len() as u32;
        list.descs.push_str(&part.descs);
        list.entries.reserve(part.rows.len());
        for r in part.rows {
            list.entries.insert(r.key, ListEntry { billable: r.len & BILLABLE != 0, desc_off: base + r.off, desc_len: r.len & !BILLABLE });
        }
    }

    fn loaded(rd: &RefData) -> bool {
        !rd.icd_lists.is_empty() || !rd.mce.is_empty()
    }

    fn entries(rd: &RefData) -> usize {
        rd.icd_lists.iter().map(|t| t.len()).sum()
    }

    fn releases(rd: &RefData) -> Vec<Option<NaiveDate>> {
        rd.icd_lists.dates()
    }
}

/// The normalised list `code,billable,description`.
pub(crate) fn detect_list(p: &Probe) -> Detected {
    p.normalised(TableKind::Icd10, |_, h| has(h, "code") && has(h, "billable"))
}

fn parse_list(src: &SourceFile, plan: &Plan) -> Result<IcdPart> {
    let shown = &src.shown;
    let code = read::require_col(&plan.header, "code", shown)?;
    let billable = read::require_col(&plan.header, "billable", shown)?;
    let mut wanted = vec![code, billable];
    wanted.extend(plan.named("description"));
    let mut part = IcdPart::default();
    let mut line = 0usize;
    read::for_each_batch(src, plan, &wanted, |cols| {
        for k in 0..cols[0].len() {
            line += 1;
            let c = cols[0].get(k).unwrap_or("");
            let b = match cols[1].get(k).unwrap_or("").trim() {
                "Y" | "y" | "1" | "true" | "TRUE" => true,
                "N" | "n" | "0" | "false" | "FALSE" => false,
                other => bail!("{}: row {line}: billable {other:?} is not Y/N", shown.display()),
            };
            let d = cols.get(2).and_then(|c| c.get(k)).unwrap_or("").trim();
            if !part.push(c, b, d) {
                bail!("{}: row {line}: {c:?} is not an ICD-10-CM code", shown.display());
            }
        }
        Ok(())
    })?;
    Ok(part)
}

#[derive(Clone, Copy)]
struct MceRow {
    start: Day,
    end: Day,
    flags: u64,
    next: u32,
}

const NIL: u32 = u32::MAX;

/// One MCE diagnosis master: every code with its validity periods and the flags of each period.
#[derive(Default)]
pub(crate) struct MceMaster {
    heads: IntMap<u64, u32>,
    rows: Vec<MceRow>,
    flag_names: Vec<String>,
}

impl MceMaster {
    fn periods(&self, key: u64) -> Option<impl Iterator<Item = &MceRow>> {
        let mut i = *self.heads.get(&key)?;
        Some(std::iter::from_fn(move || {
            if i == NIL {
                return None;
            }
            let r = &self.rows[i as usize];
            i = r.next;
            Some(r)
        }))
    }

    pub fn flags(&self, code: &str, dos: NaiveDate) -> Vec<&str> {
        let d = day(dos);
        let Some(mut periods) = compact::pack_icd(code).and_then(|k| self.periods(k)) else {
            return Vec::new();
        };
        let Some(r) = periods.find(|r| r.start <= d && d <= r.end) else {
            return Vec::new();
        };
        (0..self.flag_names.len()).filter(|b| r.flags & (1 << b) != 0).map(|b| self.flag_names[b].as_str()).collect()
    }

    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Add a validity period, unless the same one is there already.
    fn insert(&mut self, key: u64, start: Day, end: Day, flags: u64) {
        let head = self.heads.entry(key).or_insert(NIL);
        let mut i = *head;
        while i != NIL {
            let r = &self.rows[i as usize];
            if r.start == start && r.end == end && r.flags == flags {
                return;
            }
            i = r.next;
        }
        let new = self.rows.len() as u32;
        self.rows.push(MceRow { start, end, flags, next: *head });
        *head = new;
    }

    fn flag_bit(&mut self, name: &str) -> Result<u64> {
        let i = match self.flag_names.iter().position(|f| f == name) {
            Some(i) => i,
            None => {
                if self.flag_names.len() == 64 {
                    bail!("more than 64 distinct MCE flags");
                }
                self.flag_names.push(name.to_string());
                self.flag_names.len() - 1
            }
        };
        Ok(1 << i)
    }
}

/// One MCE row of a file; `flags` are bits into the file's own flag names.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct McePartRow {
    key: u64,
    flags: u64,
    start: Day,
    end: Day,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct McePart {
    #[serde(with = "pod_vec")]
    rows: Vec<McePartRow>,
    flag_names: Vec<String>,
}

pub(crate) struct MceTable;

impl TableLoader for MceTable {
    type Part = McePart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<McePart>> {
        let part = parse_mce(src, plan)?;
        let n = part.rows.len();
        Ok(Parsed::new(part, n, 0, release))
    }

    fn add(rd: &mut RefData, part: McePart, release: Option<NaiveDate>) {
        let m = rd.mce.entry(release);
        // Flags beyond 64 distinct names cannot happen: parse_mce refuses them per file, and
        // the MCE defines a dozen.
        let bits: Vec<u64> = part.flag_names.iter().map(|f| m.flag_bit(f).unwrap_or(0)).collect();
        for r in part.rows {
            let mut flags = 0u64;
            for (b, bit) in bits.iter().enumerate() {
                if r.flags & (1 << b) != 0 {
                    flags |= bit;
                }
            }
            m.insert(r.key, r.start, r.end, flags);
        }
    }

    fn loaded(rd: &RefData) -> bool {
        !rd.mce.is_empty()
    }

    fn entries(rd: &RefData) -> usize {
        rd.mce.iter().map(|t| t.rows()).sum()
    }

    fn releases(rd: &RefData) -> Vec<Option<NaiveDate>> {
        rd.mce.dates()
    }
}

pub(crate) fn detect_mce(p: &Probe) -> Detected {
    let d = p.normalised(TableKind::Mce, |_, h| has(h, "code") && has(h, "start_date") && has(h, "end_date") && has(h, "flags"));
    if matches!(d, Detected::Table(_)) && p.base.contains("pcs") {
        return Detected::Skip("ICD-10-PCS (procedure) master: not used for claims diagnosis edits".into());
    }
    d
}

fn parse_mce(src: &SourceFile, plan: &Plan) -> Result<McePart> {
    let shown = &src.shown;
    let req = |n: &str| read::require_col(&plan.header, n, shown);
    let wanted = [req("code")?, req("start_date")?, req("end_date")?, req("flags")?];
    let mut part = McePart { rows: Vec::new(), flag_names: Vec::new() };
    let mut line = 0usize;
    read::for_each_batch(src, plan, &wanted, |cols| {
        for k in 0..cols[0].len() {
            line += 1;
            let row = || format!("{}: row {line}", shown.display());
            let c = cols[0].get(k).unwrap_or("");
            let key = compact::pack_icd(c).ok_or_else(|| anyhow!("{}: {c:?} is not an ICD-10-CM code", row()))?;
            let start = date_or(cols[1].get(k), DAY_MIN).with_context(row)?;
            let end = date_or(cols[2].get(k), DAY_MAX).with_context(row)?;
            let mut flags = 0u64;
            for f in cols[3].get(k).unwrap_or("").split('|') {
                let f = f.trim().to_ascii_lowercase();
                if f.is_empty() {
                    continue;
                }
                let i = match part.flag_names.iter().position(|x| *x == f) {
                    Some(i) => i,
                    None => {
                        if part.flag_names.len() == 64 {
                            bail!("{}: more than 64 distinct MCE flags", row());
                        }
                        part.flag_names.push(f);
                        part.flag_names.len() - 1
                    }
                };
                flags |= 1 << i;
            }
            part.rows.push(McePartRow { key, flags, start, end });
        }
        Ok(())
    })?;
    Ok(part)
}

fn date_or(s: Option<&str>, open: Day) -> Result<Day> {
    Ok(compact::parse_date_field(s.unwrap_or("")).map_err(|e| anyhow!(e))?.map(day).unwrap_or(open))
}

/// Status of `code` on `dos` from the code lists and MCE masters.
///
/// The MCE master, when loaded, decides validity (a period covering the date). A fiscal-year
/// list then tells header codes (not billable) apart and vouches for billable codes within its
/// own year. With lists only, the list for the date's fiscal year answers; for a date outside
/// every loaded year the nearest list answers as if the code set had not changed.
/// Whether any loaded code list or MCE master holds the code, on any date. A code none holds has
/// status `Unknown` (or `Unloaded`) on every date.
pub(crate) fn known(lists: &Releases<IcdList>, mce: &Releases<MceMaster>, code: &str) -> bool {
    compact::pack_icd(code).is_some_and(|key| lists.iter().any(|l| l.get(key).is_some()) || mce.iter().any(|m| m.periods(key).is_some()))
}

pub(crate) fn status(lists: &Releases<IcdList>, mce: &Releases<MceMaster>, code: &str, dos: NaiveDate) -> IcdStatus {
    if lists.is_empty() && mce.is_empty() {
        return IcdStatus::Unloaded;
    }
    let Some(key) = compact::pack_icd(code) else {
        return IcdStatus::Unknown;
    };
    let d = day(dos);
    let list = lists.pick(dos);
    let entry = list.and_then(|l| l.get(key));
    // A category code such as S72 (or A04.7 once it was expanded) is a header in the lists.
    let is_header = lists.iter().any(|l| l.get(key).is_some_and(|e| !e.billable));
    if let Some(m) = mce.pick(dos) {
        if let Some(mut periods) = m.periods(key) {
            if periods.any(|r| r.start <= d && d <= r.end) {
                return IcdStatus::Valid;
            }
            return if is_header { IcdStatus::NotBillable } else { IcdStatus::InvalidOnDate };
        }
    }
    match (list, entry) {
        (_, Some(e)) if !e.billable => IcdStatus::NotBillable,
        (Some(l), Some(_)) => {
            if l.covers(d) || mce.is_empty() {
                IcdStatus::Valid
            } else {
                IcdStatus::InvalidOnDate
            }
        }
        _ => {
            if lists.iter().any(|l| l.get(key).is_some()) {
                IcdStatus::InvalidOnDate
            } else {
                IcdStatus::Unknown
            }
        }
    }
}

/// An MCE age group's range on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRange {
    pub min: u16,
    pub max: u16,
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AgeRow {
    group: String,
    range: AgeRange,
    start: Day,
    end: Day,
}

#[derive(Default)]
pub(crate) struct AgeRanges {
    rows: Vec<AgeRow>,
}

impl AgeRanges {
    pub fn lookup(&self, group: &str, dos: NaiveDate) -> Option<AgeRange> {
        let g = group.trim().to_ascii_lowercase();
        let d = day(dos);
        self.rows.iter().find(|r| r.group == g && r.start <= d && d <= r.end).map(|r| r.range)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct AgesPart {
    rows: Vec<AgeRow>,
}

pub(crate) struct AgesTable;

impl TableLoader for AgesTable {
    type Part = AgesPart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<AgesPart>> {
        let part = parse_ages(src, plan)?;
        let n = part.rows.len();
        Ok(Parsed::new(part, n, 0, release))
    }

    fn add(rd: &mut RefData, part: AgesPart, _release: Option<NaiveDate>) {
        for r in part.rows {
            if !rd.ages.rows.iter().any(|x| x.group == r.group && x.range == r.range && x.start == r.start && x.end == r.end) {
                rd.ages.rows.push(r);
            }
        }
    }

    fn loaded(rd: &RefData) -> bool {
        rd.ages.len() > 0
    }

    fn entries(rd: &RefData) -> usize {
        rd.ages.len()
    }
}

pub(crate) fn detect_ages(p: &Probe) -> Detected {
    p.normalised(TableKind::MceAges, |_, h| has(h, "age_group") && has(h, "min_age") && has(h, "max_age"))
}

fn parse_ages(src: &SourceFile, plan: &Plan) -> Result<AgesPart> {
    let shown = &src.shown;
    let req = |n: &str| read::require_col(&plan.header, n, shown);
    let mut wanted = vec![req("age_group")?, req("min_age")?, req("max_age")?];
    let (s, e) = (plan.named("start_date"), plan.named("end_date"));
    wanted.extend(s);
    wanted.extend(e);
    let mut rows = Vec::new();
    read::for_each_batch(src, plan, &wanted, |cols| {
        for k in 0..cols[0].len() {
            let row = || format!("{}: age group row {}", shown.display(), rows.len() + 1);
            let group = cols[0].get(k).unwrap_or("").trim().to_ascii_lowercase();
            let age = |c: usize| -> Result<u16> {
                let v = cols[c].get(k).unwrap_or("").trim();
                v.parse().map_err(|_| anyhow!("{}: age {v:?}", row()))
            };
            let range = AgeRange { min: age(1)?, max: age(2)? };
            let start = match s {
                Some(_) => date_or(cols[3].get(k), DAY_MIN).with_context(row)?,
                None => DAY_MIN,
            };
            let end = match e {
                Some(_) => date_or(cols[3 + s.is_some() as usize].get(k), DAY_MAX).with_context(row)?,
                None => DAY_MAX,
            };
            rows.push(AgeRow { group, range, start, end });
        }
        Ok(())
    })?;
    Ok(AgesPart { rows })
}
