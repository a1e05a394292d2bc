//! NCCI edits: procedure-to-procedure (PTP) pairs, medically unlikely edits (MUE) and add-on
//! code (AOC) edits, in the normalised layouts and the official CMS downloads.
//!
//! Date conventions, shared by all three tables:
//! - an edit is in force on a date of service when `effective <= dos <= deletion`. CMS deletion
//!   dates are the last day an edit applies (they fall on quarter ends such as 2023-12-31 or
//!   2023-06-30, the day before the next quarterly release), so the deletion date is inclusive;
//!   9999-12-31, `*` and an empty cell mean "not deleted".
//! - the normalised PTP layout has no effective date: its edits count as in force since the
//!   beginning. When a pair has several rows (an edit deleted and later re-added, or re-issued
//!   with another modifier indicator), the row whose deletion date is the earliest one on or after
//!   the date of service wins, i.e. a re-added edit is taken to replace the deleted one from the
//!   day after that deletion. Where effective dates are known, the latest effective date wins.

use super::cache::pod_vec;
use super::compact::{self, day, from_day, Day, IntMap, Interner, DAY_MAX, DAY_MIN};
use super::detect::{self, has, has_any, Detected, Plan, Probe};
use super::read;
use super::registry::{Parsed, TableLoader};
use super::source::SourceFile;
use super::{RefData, TableKind};
use anyhow::{anyhow, bail, Context, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One PTP edit as found for a pair and date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtpEdit {
    /// 0 = no modifier allowed, 1 = an NCCI-associated modifier may bypass, 9 = not applicable.
    pub modifier_indicator: u8,
    pub rationale: String,
    /// `None` in the normalised layout, which does not carry effective dates.
    pub effective: Option<NaiveDate>,
    /// `None` while the edit is active.
    pub deletion: Option<NaiveDate>,
}

/// A PTP edit found among a set of codes; `column1`/`column2` index into the codes given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtpHit {
    pub column1: usize,
    pub column2: usize,
    pub modifier_indicator: u8,
    pub rationale: String,
}

/// One PTP row. Field order matters: rows sort by pair, then deletion, then effective date.
/// Plain data (the padding is explicit) so the cache stores rows as bytes.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct PtpRow {
    key: u64,
    del: Day,
    eff: Day,
    ind: u8,
    pad: u8,
    rat: u16,
    pad2: u32,
}

/// All PTP rows of one release, sorted by the packed (column 1, column 2) pair, with a hash
/// directory from each packed column 1 code to its run of rows. A lookup is one probe in that
/// small map plus a binary search within the code's run (a few hundred rows, contiguous).
/// Building is an append and one adaptive sort of files CMS already orders by pair: measured at
/// a third of the time of inserting the 2.2 million pairs into a hash table, and half the memory.
#[derive(Default)]
pub(crate) struct PtpIndex {
    rows: Vec<PtpRow>,
    /// `rows[..sorted]` is sorted and deduplicated; later rows are pending a `finish`.
    sorted: usize,
    by_col1: IntMap<u32, (u32, u32)>,
    pairs: usize,
    rationales: Interner,
}

#[inline]
fn pair_key(c1: u32, c2: u32) -> u64 {
    ((c1 as u64) << 30) | c2 as u64
}

impl PtpIndex {
    /// Sort and index the rows appended since the last call. The stable sort detects the
    /// sorted runs (each CMS file is ordered by pair) and merges them in linear time.
    fn finish(&mut self) {
        if self.sorted == self.rows.len() {
            return;
        }
        self.rows.sort();
        // The same edit from a second copy of a file is stored once.
        self.rows.dedup();
        self.rows.shrink_to_fit();
        self.index();
    }

    /// Take a file's rows as the whole index: they come sorted and deduplicated (from the parser
    /// or the cache), so only the directory is built.
    fn adopt(&mut self, rows: Vec<PtpRow>) {
        debug_assert!(rows.windows(2).all(|w| w[0] < w[1]));
        self.rows = rows;
        self.index();
    }

    fn index(&mut self) {
        self.sorted = self.rows.len();
        self.by_col1.clear();
        self.pairs = 0;
        let mut i = 0;
        while i < self.rows.len() {
            let c1 = (self.rows[i].key >> 30) as u32;
            let start = i;
            let mut last = u64::MAX;
            while i < self.rows.len() && (self.rows[i].key >> 30) as u32 == c1 {
                if self.rows[i].key != last {
                    self.pairs += 1;
                    last = self.rows[i].key;
                }
                i += 1;
            }
            self.by_col1.insert(c1, (start as u32, i as u32));
        }
    }

    /// Whether `code` is column 1 of any edit (on any date): a patient-day without such a code
    /// has no PTP hit.
    pub fn is_column1(&self, code: &str) -> bool {
        compact::pack_hcpcs(code).is_some_and(|c| self.by_col1.contains_key(&c))
    }

    /// The rows of column 1 code `c1`.
    fn col1_rows(&self, c1: u32) -> &[PtpRow] {
        match self.by_col1.get(&c1) {
            Some(&(s, e)) => &self.rows[s as usize..e as usize],
            None => &[],
        }
    }

    fn find_in(run: &[PtpRow], key: u64, dos: Day) -> Option<&PtpRow> {
        let start = run.partition_point(|r| r.key < key);
        let mut best: Option<&PtpRow> = None;
        for r in run[start..].iter().take_while(|r| r.key == key) {
            if r.eff <= dos && dos <= r.del {
                let better = match best {
                    None => true,
                    Some(b) => r.eff > b.eff || (r.eff == b.eff && r.del < b.del),
                };
                if better {
                    best = Some(r);
                }
            }
        }
        best
    }

    fn edit(&self, r: &PtpRow) -> PtpEdit {
        PtpEdit {
            modifier_indicator: r.ind,
            rationale: self.rationales.get(r.rat as u32).to_string(),
            effective: from_day(r.eff),
            deletion: from_day(r.del),
        }
    }

    pub fn lookup(&self, c1: &str, c2: &str, dos: NaiveDate) -> Option<PtpEdit> {
        let (a, b) = (compact::pack_hcpcs(c1)?, compact::pack_hcpcs(c2)?);
        Self::find_in(self.col1_rows(a), pair_key(a, b), day(dos)).map(|r| self.edit(r))
    }

    /// Every ordered pair (i, j) of distinct positions whose codes have an edit in force on `dos`
    /// with modifier indicator 0 or 1. Indicator 9 means "no edit applies" and is left out.
    pub fn hits<S: AsRef<str>>(&self, codes: &[S], dos: NaiveDate) -> Vec<PtpHit> {
        let mut out = Vec::new();
        self.each_hit(codes, dos, |i, j, r| {
            out.push(PtpHit { column1: i, column2: j, modifier_indicator: r.ind, rationale: self.rationales.get(r.rat as u32).to_string() })
        });
        out
    }

    /// As [`PtpIndex::hits`], with the modifier indicator only (no rationale text to copy).
    pub fn hit_indicators<S: AsRef<str>>(&self, codes: &[S], dos: NaiveDate) -> Vec<(usize, usize, u8)> {
        let mut out = Vec::new();
        self.each_hit(codes, dos, |i, j, r| out.push((i, j, r.ind)));
        out
    }

    fn each_hit<S: AsRef<str>>(&self, codes: &[S], dos: NaiveDate, f: impl FnMut(usize, usize, &PtpRow)) {
        let packed: Vec<Option<u32>> = codes.iter().map(|c| compact::pack_hcpcs(c.as_ref())).collect();
        self.each_packed_hit(&packed, day(dos), f)
    }

    /// As [`PtpIndex::hit_indicators`], for codes already packed (`pack_code`) and a day number.
    pub fn packed_hit_indicators(&self, packed: &[Option<u32>], dos: Day, out: &mut Vec<(usize, usize, u8)>) {
        self.each_packed_hit(packed, dos, |i, j, r| out.push((i, j, r.ind)));
    }

    fn each_packed_hit(&self, packed: &[Option<u32>], d: Day, mut f: impl FnMut(usize, usize, &PtpRow)) {
        for (i, a) in packed.iter().enumerate() {
            let Some(a) = *a else { continue };
            let run = self.col1_rows(a);
            if run.is_empty() {
                continue;
            }
            for (j, b) in packed.iter().enumerate() {
                let Some(b) = *b else { continue };
                if i == j {
                    continue;
                }
                if let Some(r) = Self::find_in(run, pair_key(a, b), d) {
                    if r.ind != 9 {
                        f(i, j, r);
                    }
                }
            }
        }
    }

    pub fn pairs(&self) -> usize {
        self.pairs
    }

    /// Pairs with an edit in force on `dos` (any modifier indicator).
    pub fn active_pairs(&self, dos: NaiveDate) -> usize {
        let d = day(dos);
        self.rows.chunk_by(|a, b| a.key == b.key).filter(|versions| versions.iter().any(|r| r.eff <= d && d <= r.del)).count()
    }
}

fn date_day(s: Option<&str>, open: Day, what: &str) -> Result<Day> {
    match s {
        None => Ok(open),
        // Fast path for the 1.7 million "still active" rows.
        Some("9999-12-31") => Ok(DAY_MAX),
        Some(s) => Ok(compact::parse_date_field(s).map_err(|e| anyhow!("{what}: {e}"))?.map(day).unwrap_or(open)),
    }
}

fn indicator(s: Option<&str>) -> Result<u8> {
    let t = s.unwrap_or("").trim();
    match t.parse::<u8>() {
        Ok(v @ (0 | 1 | 9)) => Ok(v),
        _ => bail!("modifier indicator {t:?} is not 0, 1 or 9"),
    }
}

/// What one PTP file yields: its rows sorted and deduplicated, with rationale ids into
/// `rationales`.
#[derive(Serialize, Deserialize)]
pub(crate) struct PtpPart {
    #[serde(with = "pod_vec")]
    rows: Vec<PtpRow>,
    rationales: Vec<String>,
}

pub(crate) struct PtpTable;

impl TableLoader for PtpTable {
    type Part = PtpPart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<PtpPart>> {
        let (part, n) = parse_ptp(src, plan)?;
        Ok(Parsed::new(part, n, 0, release))
    }

    fn add(rd: &mut RefData, part: PtpPart, release: Option<NaiveDate>) {
        let idx = rd.ptp.entry(release);
        let ids: Vec<u16> = part.rationales.iter().map(|r| idx.rationales.intern(r) as u16).collect();
        if idx.rows.is_empty() && ids.iter().enumerate().all(|(i, &id)| i == id as usize) {
            idx.adopt(part.rows);
        } else {
            idx.rows.extend(part.rows.into_iter().map(|r| PtpRow { rat: ids[r.rat as usize], ..r }));
            idx.finish();
        }
    }

    fn loaded(rd: &RefData) -> bool {
        !rd.ptp.is_empty()
    }

    fn entries(rd: &RefData) -> usize {
        rd.ptp.iter().map(|t| t.pairs()).sum()
    }

    fn releases(rd: &RefData) -> Vec<Option<NaiveDate>> {
        rd.ptp.dates()
    }
}

pub(crate) fn detect_ptp(p: &Probe) -> Detected {
    match p.normalised(TableKind::Ptp, |_, h| has(h, "column_1") && has(h, "column_2")) {
        Detected::No => {}
        d => return d,
    }
    p.official(TableKind::Ptp, "official tab-delimited", |name, h| {
        if !(has(h, "column 1") && has(h, "column 2")) {
            return None;
        }
        if ["ccioph", "hospital", "outpatient"].iter().any(|k| name.contains(k)) {
            return Some(Err("hospital outpatient PTP edits: this pack uses the practitioner edits".into()));
        }
        Some(Ok(7))
    })
}

/// Read a PTP file (either layout); returns the part and the number of data rows read.
fn parse_ptp(src: &SourceFile, plan: &Plan) -> Result<(PtpPart, usize)> {
    let shown = &src.shown;
    let (c1, c2, eff, del, ind, rat) = if plan.official {
        (
            0,
            1,
            plan.col(|h| h.contains("effective")).or(Some(3)),
            plan.col(|h| h.contains("deletion")).unwrap_or(4),
            plan.col(|h| h.starts_with("modifier")).unwrap_or(5),
            plan.col(|h| h.contains("rationale")).unwrap_or(6),
        )
    } else {
        let req = |n: &str| read::require_col(&plan.header, n, shown);
        (req("column_1")?, req("column_2")?, plan.named("effective_date"), req("deletion_date")?, req("modifier_indicator")?, req("rationale")?)
    };
    let mut wanted = vec![c1, c2, del, ind, rat];
    wanted.extend(eff);
    let mut rows = Vec::new();
    let mut rationales = Interner::default();
    let mut n = 0usize;
    let mut line = 0usize;
    read::for_each_batch(src, plan, &wanted, |cols| {
        let eff_col = cols.get(5);
        for (k, ((((a, b), d), m), r)) in cols[0].iter().zip(cols[1].iter()).zip(cols[2].iter()).zip(cols[3].iter()).zip(cols[4].iter()).enumerate() {
            line += 1;
            let (Some(a), Some(b)) = (a.and_then(compact::pack_hcpcs), b.and_then(compact::pack_hcpcs)) else {
                if plan.official {
                    continue; // preamble, header or blank line
                }
                bail!("{}: row {line}: column_1/column_2 are not HCPCS/CPT codes", shown.display());
            };
            let row = || format!("{}: row {line}", shown.display());
            let e = match eff_col {
                Some(c) => date_day(c.get(k), DAY_MIN, "effective date").with_context(row)?,
                None => DAY_MIN,
            };
            let d = date_day(d, DAY_MAX, "deletion date").with_context(row)?;
            let m = indicator(m).with_context(row)?;
            let r = rationales.intern(r.unwrap_or("").trim());
            let r = u16::try_from(r).map_err(|_| anyhow!("{}: too many distinct rationales", row()))?;
            rows.push(PtpRow { key: pair_key(a, b), del: d, eff: e, ind: m, pad: 0, rat: r, pad2: 0 });
            n += 1;
        }
        Ok(())
    })?;
    // Sorted once here, so the cached part is ready to use.
    rows.sort();
    rows.dedup();
    Ok((PtpPart { rows, rationales: rationales.into_strings() }, n))
}

/// Medically unlikely edit for one code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MueEdit {
    pub units: u32,
    /// MUE adjudication indicator: 1 = line edit, 2 = date of service (policy), 3 = date of
    /// service (clinical).
    pub mai: u8,
    pub rationale: String,
}

#[derive(Default)]
pub(crate) struct MueIndex {
    map: IntMap<u32, (u32, u8, u32)>,
    rationales: Interner,
}

impl MueIndex {
    pub fn lookup(&self, code: &str) -> Option<MueEdit> {
        let &(units, mai, rat) = self.map.get(&compact::pack_hcpcs(code)?)?;
        Some(MueEdit { units, mai, rationale: self.rationales.get(rat).to_string() })
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
}

/// What one MUE file yields: (code, units, MAI, rationale id) in file order.
#[derive(Serialize, Deserialize)]
pub(crate) struct MuePart {
    edits: Vec<(u32, u32, u8, u32)>,
    rationales: Vec<String>,
}

pub(crate) struct MueTable;

impl TableLoader for MueTable {
    type Part = MuePart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<MuePart>> {
        let part = parse_mue(src, plan)?;
        let n = part.edits.len();
        Ok(Parsed::new(part, n, 0, release))
    }

    fn add(rd: &mut RefData, part: MuePart, release: Option<NaiveDate>) {
        let idx = rd.mue.entry(release);
        let ids: Vec<u32> = part.rationales.iter().map(|r| idx.rationales.intern(r)).collect();
        for (code, units, mai, rat) in part.edits {
            idx.map.insert(code, (units, mai, ids[rat as usize]));
        }
    }

    fn loaded(rd: &RefData) -> bool {
        !rd.mue.is_empty()
    }

    fn entries(rd: &RefData) -> usize {
        rd.mue.iter().map(|t| t.len()).sum()
    }

    fn releases(rd: &RefData) -> Vec<Option<NaiveDate>> {
        rd.mue.dates()
    }
}

pub(crate) fn detect_mue(p: &Probe) -> Detected {
    match p.normalised(TableKind::Mue, |_, h| has(h, "hcpcs_code") && has(h, "mue_units")) {
        Detected::No => {}
        d => return d,
    }
    p.official(TableKind::Mue, "official CSV", |_, h| {
        let any = |pred: &dyn Fn(&str) -> bool| h.iter().any(|c| pred(c));
        if !(any(&|c| c.starts_with("hcpcs/cpt code")) && any(&|c| c.contains("mue"))) {
            return None;
        }
        if any(&|c| c.contains("mue values") && !c.contains("practitioner")) {
            return Some(Err("MUE table for another service type: this pack uses the practitioner MUEs".into()));
        }
        Some(Ok(4))
    })
}

fn parse_mue(src: &SourceFile, plan: &Plan) -> Result<MuePart> {
    let shown = &src.shown;
    let (code, units, mai, rat) = if plan.official {
        (
            0,
            plan.col(|h| h.contains("mue values")).unwrap_or(1),
            plan.col(|h| h.contains("adjudication")).unwrap_or(2),
            plan.col(|h| h.contains("rationale")).unwrap_or(3),
        )
    } else {
        let req = |n: &str| read::require_col(&plan.header, n, shown);
        (req("hcpcs_code")?, req("mue_units")?, req("mue_mai")?, req("mue_rationale")?)
    };
    let mut edits = Vec::new();
    let mut rationales = Interner::default();
    let mut line = 0usize;
    read::for_each_batch(src, plan, &[code, units, mai, rat], |cols| {
        for (((c, u), m), r) in cols[0].iter().zip(cols[1].iter()).zip(cols[2].iter()).zip(cols[3].iter()) {
            line += 1;
            let Some(c) = c.and_then(compact::pack_hcpcs) else {
                if plan.official {
                    continue;
                }
                bail!("{}: row {line}: hcpcs_code is not a HCPCS/CPT code", shown.display());
            };
            let u = u.unwrap_or("").trim();
            let units: u32 = u.parse().map_err(|_| anyhow!("{}: row {line}: MUE units {u:?} is not a number", shown.display()))?;
            // Official files write the indicator as text, "3 Date of Service Edit: Clinical".
            let m = m.unwrap_or("").trim();
            let mai = match m.bytes().next() {
                Some(b @ b'1'..=b'3') => b - b'0',
                _ => bail!("{}: row {line}: MUE adjudication indicator {m:?}", shown.display()),
            };
            edits.push((c, units, mai, rationales.intern(r.unwrap_or("").trim())));
        }
        Ok(())
    })?;
    Ok(MuePart { edits, rationales: rationales.into_strings() })
}

/// Add-on code edit for one add-on code on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOnEdit {
    /// 1 = only the listed primaries, 2 = primaries defined by the contractor ("CCCCC"),
    /// 3 = some primaries listed, the contractor may accept others.
    pub edit_type: u8,
    /// Sorted primary codes; empty when the contractor defines them.
    pub primaries: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AocRow {
    /// 0 = "CCCCC", contractor-defined.
    primary: u32,
    edit_type: u8,
    eff: Day,
    del: Day,
}

#[derive(Default)]
pub(crate) struct AocIndex {
    map: IntMap<u32, Vec<AocRow>>,
    rows: usize,
}

impl AocIndex {
    /// Whether `code` is an add-on code of this release on any date.
    pub fn has_code(&self, code: &str) -> bool {
        compact::pack_hcpcs(code).is_some_and(|c| self.map.contains_key(&c))
    }

    pub fn lookup(&self, code: &str, dos: NaiveDate) -> Option<AddOnEdit> {
        let d = day(dos);
        let rows = self.map.get(&compact::pack_hcpcs(code)?)?;
        let live: Vec<&AocRow> = rows.iter().filter(|r| r.eff <= d && d <= r.del).collect();
        let first = live.first()?;
        let mut primaries: Vec<String> = live.iter().filter(|r| r.primary != 0).map(|r| compact::unpack(r.primary as u64)).collect();
        primaries.sort();
        primaries.dedup();
        // The type belongs to the add-on code; rows of a type 2 code list only "CCCCC".
        let edit_type = live.iter().map(|r| r.edit_type).min().unwrap_or(first.edit_type);
        Some(AddOnEdit { edit_type, primaries })
    }

    pub fn len(&self) -> usize {
        self.rows
    }
}

/// What one AOC file yields: (add-on code, row) in file order.
#[derive(Serialize, Deserialize)]
pub(crate) struct AocPart {
    rows: Vec<(u32, AocRow)>,
}

pub(crate) struct AocTable;

impl TableLoader for AocTable {
    type Part = AocPart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<AocPart>> {
        let part = parse_aoc(src, plan)?;
        let n = part.rows.len();
        Ok(Parsed::new(part, n, 0, release))
    }

    fn add(rd: &mut RefData, part: AocPart, release: Option<NaiveDate>) {
        let idx = rd.aoc.entry(release);
        for (addon, r) in part.rows {
            let rows = idx.map.entry(addon).or_default();
            if !rows.contains(&r) {
                rows.push(r);
                idx.rows += 1;
            }
        }
    }

    fn loaded(rd: &RefData) -> bool {
        !rd.aoc.is_empty()
    }

    fn entries(rd: &RefData) -> usize {
        rd.aoc.iter().map(|t| t.len()).sum()
    }

    fn releases(rd: &RefData) -> Vec<Option<NaiveDate>> {
        rd.aoc.dates()
    }
}

fn primary_cell(c: &str) -> bool {
    (c.starts_with("primary code") || c == "primary_code") && !c.contains("date")
}

pub(crate) fn detect_aoc(p: &Probe) -> Detected {
    let normalised = p.normalised(TableKind::Aoc, |_, h| {
        has_any(h, &["add_on_code", "addon_code", "add-on code", "add on code"]) && has_any(h, &["primary_code", "primary code"])
    });
    match normalised {
        Detected::No => {}
        d => return d,
    }
    match p.official(TableKind::Aoc, "official tab-delimited", |_, h| {
        let any = |pred: &dyn Fn(&str) -> bool| h.iter().any(|c| pred(c));
        (any(&|c| c.starts_with("primary code")) && any(&|c| detect::add_on_code_cell(c))).then_some(Ok(3))
    }) {
        Detected::No => {}
        d => return d,
    }
    // The fixed-width text: a header row naming the columns where each column starts.
    if !p.is_text() {
        return Detected::No;
    }
    for line in &p.lines {
        if line.contains('\t') || line.contains(',') {
            continue;
        }
        let (header, starts) = detect::fixed_width_header(line);
        if header.iter().any(|c| primary_cell(c)) && header.iter().any(|c| detect::add_on_code_cell(c)) && header.len() >= 3 {
            let mut plan = Plan::native(TableKind::Aoc, "official fixed-width");
            plan.header = header;
            plan.starts = starts;
            return Detected::Table(plan);
        }
    }
    Detected::No
}

fn is_effective(c: &str) -> bool {
    c.contains("effective") || c.ends_with("eff_dt") || c.ends_with("eff dt")
}

fn is_deletion(c: &str) -> bool {
    c.contains("deletion") || c.ends_with("del_dt") || c.ends_with("del dt")
}

fn parse_aoc(src: &SourceFile, plan: &Plan) -> Result<AocPart> {
    let shown = &src.shown;
    let h = &plan.header;
    let addon = plan.col(detect::add_on_code_cell).ok_or_else(|| anyhow!("{}: no add-on code column", shown.display()))?;
    let primary = plan.col(primary_cell).ok_or_else(|| anyhow!("{}: no primary code column", shown.display()))?;
    let etype = plan.col(|c| c.contains("type")).ok_or_else(|| anyhow!("{}: no edit type column", shown.display()))?;
    // Official files may carry dates for the edit and for each code; the edit holds only while
    // all of them do, so the latest effective and the earliest deletion date are used.
    let effs: Vec<usize> = (0..h.len()).filter(|&i| is_effective(&h[i])).collect();
    let dels: Vec<usize> = (0..h.len()).filter(|&i| is_deletion(&h[i])).collect();
    let mut wanted = vec![addon, primary, etype];
    wanted.extend(&effs);
    wanted.extend(&dels);
    let ne = effs.len();
    let mut rows = Vec::new();
    // One record: the wanted cells in `wanted` order.
    let mut record = |line: usize, cell: &dyn Fn(usize) -> Option<String>| -> Result<()> {
        let first = cell(0);
        let Some(a) = first.as_deref().and_then(compact::pack_hcpcs) else {
            if plan.official || first.as_deref().is_none_or(|s| s.trim().is_empty()) {
                return Ok(()); // preamble, header or blank line
            }
            bail!("{}: row {line}: add-on code is not a HCPCS/CPT code", shown.display());
        };
        let row = || format!("{}: row {line}", shown.display());
        let p = cell(1).unwrap_or_default();
        let p = p.trim();
        let primary =
            if p.eq_ignore_ascii_case("CCCCC") { 0 } else { compact::pack_hcpcs(p).ok_or_else(|| anyhow!("{}: primary code {p:?}", row()))? };
        let t = cell(2).unwrap_or_default();
        let t = t.trim();
        // "1", "Type 1", or the older roman numerals.
        let edit_type = match t.to_ascii_uppercase().trim_start_matches("TYPE").trim() {
            "1" | "I" => 1,
            "2" | "II" => 2,
            "3" | "III" => 3,
            _ => bail!("{}: AOC edit type {t:?}", row()),
        };
        let mut eff = DAY_MIN;
        for i in 3..3 + ne {
            eff = eff.max(date_day(cell(i).as_deref(), DAY_MIN, "effective date").with_context(row)?);
        }
        let mut del = DAY_MAX;
        for i in 3 + ne..wanted.len() {
            del = del.min(date_day(cell(i).as_deref(), DAY_MAX, "deletion date").with_context(row)?);
        }
        rows.push((a, AocRow { primary, edit_type, eff, del }));
        Ok(())
    };
    if plan.starts.is_empty() {
        let mut line = 0usize;
        read::for_each_batch(src, plan, &wanted, |cols| {
            for k in 0..cols[0].len() {
                line += 1;
                record(line, &|i| cols[i].get(k).map(str::to_string))?;
            }
            Ok(())
        })?;
    } else {
        let text = read::text_lines(src)?;
        for (i, l) in text.lines().enumerate() {
            let fields = detect::fixed_width_cells(l.trim_end_matches('\r'), &plan.starts);
            record(i + 1, &|c| fields.get(wanted[c]).map(|s| s.to_string()).filter(|s| !s.is_empty()))?;
        }
    }
    Ok(AocPart { rows })
}
