//! Reference data for the federal edit pack: NCCI PTP/MUE/AOC edits, ICD-10-CM code lists, the
//! Medicare Code Editor (MCE) master and age groups, HCPCS Level II, the Physician Fee Schedule
//! RVUs, an optional CPT code list, place of service, modifiers, revenue codes and the OIG
//! exclusion list (LEIE).
//!
//! The tables are listed once, in [`registry::TABLES`]: each entry says how its files are
//! recognised, how they load, which Rhai functions read it and where to download it. A folder is
//! read as CMS publishes it (release zips opened in place, fixed-width files, the tabular XML) or
//! in the normalised layouts of `rules/data`; every file seen is reported in the [`Summary`]. What
//! parsing yields is cached ([`cache`]), so later runs skip the parsing. Tables are indexed
//! natively (packed codes, day numbers), and lookups take the date of service:
//!
//! - Rows carry their own validity where the source gives it (PTP and AOC effective/deletion
//!   dates, MCE start/end dates, LEIE exclusion dates).
//! - Files are also grouped into *releases* by the date in their name (`2024q3`, `v302r0`,
//!   `Eff_07-01-2024`, `fy2026`, `v43.1`, ...) or, where the file says, its content (the
//!   ICD-10-CM XML's fiscal year). For a date of service the release in force is the latest one
//!   starting on or before it, or the earliest release for older dates, so several quarters can be
//!   loaded side by side. Files of the same release (the PTP f1..f4 parts) merge.
//!
//! A table that is not loaded answers "unknown" (`None`) rather than "invalid", so rules can
//! skip edits whose table is absent: see [`RefData::has`] and [`RefData::has_table`].

pub mod cache;
mod codesets;
mod compact;
mod detect;
mod hcpcs;
mod icd;
mod icd_official;
mod load;
mod ncci;
mod pfs;
mod read;
pub mod registry;
pub mod rhai_api;
mod source;

pub use cache::{CacheSetting, CacheState, CACHE_ENV};
pub use compact::parse_dos;
pub use icd::{AgeRange, IcdStatus};
pub use load::{load_for, LoadOptions};
pub use ncci::{AddOnEdit, MueEdit, PtpEdit, PtpHit};
pub use pfs::{PfsEntry, PfsSetting};
pub use registry::{functions_markdown, tables_markdown, TableDef, TABLES};
pub use rhai_api::register_functions;

use anyhow::Result;
use chrono::NaiveDate;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable naming the reference-data directory (the CLI's `--refdata` wins).
pub const REFDATA_ENV: &str = "CLAIMLINT_REFDATA";

/// The kinds of reference table, in [`registry::TABLES`] order (which is also the order
/// detectors are tried in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableKind {
    Ptp,
    Mue,
    Aoc,
    Icd10,
    Mce,
    MceAges,
    Hcpcs,
    Cpt,
    Pos,
    Modifiers,
    Revenue,
    Leie,
    /// claimlint's own table of minutes per unit of time-based codes (impossible-day analytics).
    ServiceMinutes,
    /// Physician Fee Schedule relative value units.
    Pfs,
    /// claimlint's own table of PFS conversion factors by calendar year.
    PfsFactors,
}

impl TableKind {
    pub const ALL: [TableKind; TABLES.len()] = {
        let mut all = [TableKind::Ptp; TABLES.len()];
        let mut i = 0;
        while i < TABLES.len() {
            all[i] = TABLES[i].kind;
            i += 1;
        }
        all
    };

    /// The table's registry entry.
    pub fn def(self) -> &'static TableDef {
        registry::def(self)
    }

    /// The name used by `has_table` in rule scripts.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn from_name(name: &str) -> Option<TableKind> {
        let n = name.trim().to_ascii_lowercase();
        TABLES.iter().find(|t| t.name == n).map(|t| t.kind)
    }
}

impl fmt::Display for TableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A table's files grouped by release date (`None` = no date in the file name).
pub(crate) struct Releases<T> {
    items: Vec<(Option<NaiveDate>, T)>,
}

impl<T> Default for Releases<T> {
    fn default() -> Self {
        Releases { items: Vec::new() }
    }
}

impl<T: Default> Releases<T> {
    pub(crate) fn entry(&mut self, start: Option<NaiveDate>) -> &mut T {
        let i = match self.items.iter().position(|(s, _)| *s == start) {
            Some(i) => i,
            None => {
                // Undated releases sort first (None < Some), i.e. they are the oldest.
                let at = self.items.partition_point(|(s, _)| *s < start);
                self.items.insert(at, (start, T::default()));
                at
            }
        };
        &mut self.items[i].1
    }
}

impl<T> Releases<T> {
    /// The release in force on `dos`: the latest starting on or before it, else the earliest.
    pub fn pick(&self, dos: NaiveDate) -> Option<&T> {
        let n = self.items.partition_point(|(s, _)| s.is_none_or(|s| s <= dos));
        let i = if n == 0 { 0 } else { n - 1 };
        self.items.get(i).map(|(_, t)| t)
    }

    /// Like [`Releases::pick`], with the release's start date.
    pub fn pick_dated(&self, dos: NaiveDate) -> Option<(Option<NaiveDate>, &T)> {
        let n = self.items.partition_point(|(s, _)| s.is_none_or(|s| s <= dos));
        let i = if n == 0 { 0 } else { n - 1 };
        self.items.get(i).map(|(d, t)| (*d, t))
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|(_, t)| t)
    }

    pub(crate) fn dated(&self) -> impl Iterator<Item = (Option<NaiveDate>, &T)> {
        self.items.iter().map(|(d, t)| (*d, t))
    }

    pub(crate) fn dates(&self) -> Vec<Option<NaiveDate>> {
        self.items.iter().map(|(d, _)| *d).collect()
    }
}

/// One loaded file.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// The file, or `zip/member` for a member of a zip.
    pub path: PathBuf,
    /// The zip it was read from.
    pub archive: Option<PathBuf>,
    pub kind: TableKind,
    /// Official CMS layout (as opposed to the normalised one).
    pub official: bool,
    /// The layout in words ("official fixed-width", "normalised", ...).
    pub layout: &'static str,
    /// Release date, from the file name or (ICD-10-CM XML) the file's content.
    pub release: Option<NaiveDate>,
    /// A version label the file carries ("FY2026").
    pub version: Option<String>,
    /// Data rows read.
    pub rows: usize,
    /// Rows that were not codes of the table's kind (HCPCS modifier records, NPI-less LEIE
    /// entities).
    pub skipped: usize,
    pub cache: CacheState,
}

/// What is loaded, per table.
#[derive(Debug, Clone)]
pub struct TableSummary {
    pub kind: TableKind,
    pub loaded: bool,
    /// Data rows read from all files of the table.
    pub rows: usize,
    /// Distinct entries indexed (PTP pairs, codes, NPIs, MCE periods, ...), all releases.
    pub entries: usize,
    /// Release dates loaded (`None` = undated).
    pub releases: Vec<Option<NaiveDate>>,
    pub files: Vec<LoadedFile>,
}

/// [`RefData::summary`]: every table kind (loaded or not) and every other file seen.
#[derive(Debug, Clone)]
pub struct Summary {
    pub tables: Vec<TableSummary>,
    /// Files found but not loaded, with the reason.
    pub ignored: Vec<(PathBuf, String)>,
    /// Files recognised as a table the loaded rules do not need, so not read.
    pub not_needed: Vec<(PathBuf, TableKind)>,
    /// The cache folder used, if any.
    pub cache_dir: Option<PathBuf>,
}

impl Summary {
    pub fn table(&self, kind: TableKind) -> &TableSummary {
        self.tables.iter().find(|t| t.kind == kind).expect("every kind is listed")
    }

    /// Every file seen: loaded, not needed or ignored.
    pub fn files_seen(&self) -> usize {
        self.tables.iter().map(|t| t.files.len()).sum::<usize>() + self.ignored.len() + self.not_needed.len()
    }
}

fn release_text(r: Option<NaiveDate>) -> String {
    r.map_or("undated".to_string(), |d| d.to_string())
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.tables {
            if !t.loaded {
                writeln!(f, "{:<16} not loaded", t.kind.name())?;
                continue;
            }
            write!(f, "{:<16} {} rows, {} entries", t.kind.name(), t.rows, t.entries)?;
            // Code sets are not split by release.
            if !t.releases.is_empty() {
                let rel: Vec<String> = t.releases.iter().map(|r| release_text(*r)).collect();
                write!(f, ", release(s) {}", rel.join(", "))?;
            }
            writeln!(f)?;
            for file in &t.files {
                write!(f, "                 {} ({}, ", file.path.display(), file.layout)?;
                if let Some(v) = &file.version {
                    write!(f, "{v}, ")?;
                } else if let Some(r) = file.release {
                    write!(f, "release {r}, ")?;
                }
                write!(f, "{} rows", file.rows)?;
                if file.skipped > 0 {
                    write!(f, ", {} skipped", file.skipped)?;
                }
                writeln!(f, ", {})", file.cache)?;
            }
        }
        for (p, kind) in &self.not_needed {
            writeln!(f, "not needed       {}: a {kind} table; the loaded rules do not use it", p.display())?;
        }
        for (p, why) in &self.ignored {
            writeln!(f, "ignored          {}: {why}", p.display())?;
        }
        Ok(())
    }
}

/// All loaded reference tables. Build once, share behind an `Arc`.
#[derive(Default)]
pub struct RefData {
    ptp: Releases<ncci::PtpIndex>,
    mue: Releases<ncci::MueIndex>,
    aoc: Releases<ncci::AocIndex>,
    icd_lists: Releases<icd::IcdList>,
    mce: Releases<icd::MceMaster>,
    ages: icd::AgeRanges,
    pfs: Releases<pfs::PfsIndex>,
    pfs_factors: pfs::ConversionFactors,
    hcpcs: codesets::CodeSet,
    cpt: codesets::CodeSet,
    pos: codesets::CodeSet,
    modifiers: codesets::CodeSet,
    revenue: codesets::CodeSet,
    leie: codesets::Leie,
    service_minutes: codesets::ServiceMinutes,
    files: Vec<LoadedFile>,
    ignored: Vec<(PathBuf, String)>,
    not_needed: Vec<(PathBuf, TableKind)>,
    cache_dir: Option<PathBuf>,
    seen: HashSet<PathBuf>,
    /// ICD-10 code (no dot) -> the next-character children any loaded table knows, found once
    /// per code for `icd10_billable_children`.
    icd_children: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<Vec<String>>>>,
}

impl fmt::Debug for RefData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefData").field("files", &self.files).finish_non_exhaustive()
    }
}

impl RefData {
    /// No tables: every lookup answers "not loaded".
    pub fn empty() -> RefData {
        RefData::default()
    }

    /// Load every recognised table under `dir`, recursively, without the cache.
    pub fn load_dir(dir: &Path) -> Result<RefData> {
        RefData::load_dir_with(dir, &LoadOptions::uncached())
    }

    /// Load the tables under `dir` that `opts` asks for, through its cache.
    pub fn load_dir_with(dir: &Path, opts: &LoadOptions) -> Result<RefData> {
        let mut rd = RefData::default();
        rd.add_dir_with(dir, opts)?;
        Ok(rd)
    }

    /// Add the tables under `dir` (recursively; hidden entries are listed, not read).
    pub fn add_dir(&mut self, dir: &Path) -> Result<()> {
        self.add_dir_with(dir, &LoadOptions::uncached())
    }

    pub fn add_dir_with(&mut self, dir: &Path, opts: &LoadOptions) -> Result<()> {
        load::Loader::new(self, opts).add_dir(dir)
    }

    /// Load one file (a zip: each member) if it is a recognised table; returns its kind, or
    /// `None` when the file was passed over (listed in [`Summary::ignored`]) or already loaded.
    pub fn add_file(&mut self, path: &Path) -> Result<Option<TableKind>> {
        load::Loader::new(self, &LoadOptions::uncached()).add_file(path)
    }

    /// Whether a table of this kind is loaded. `Icd10` is loaded when either a code list or an
    /// MCE master is (both decide validity).
    pub fn has(&self, kind: TableKind) -> bool {
        kind.def().ops.loaded(self)
    }

    /// Whether every loaded file of this kind is a hand-made subset (its file name says
    /// `subset`, as in rules/data). Existence checks against a subset cannot prove a code is
    /// unknown, so rules say so in their messages.
    /// ICD-10 validity comes from the code list or the MCE master, so it is a subset only when
    /// both are.
    pub fn is_subset(&self, kind: TableKind) -> bool {
        let counts = |f: &&LoadedFile| f.kind == kind || (kind == TableKind::Icd10 && f.kind == TableKind::Mce);
        let mut files = self.files.iter().filter(counts).peekable();
        files.peek().is_some() && files.all(|f| f.path.file_name().is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().contains("subset")))
    }

    /// Names of the loaded tables that are only subsets.
    pub fn subset_tables(&self) -> Vec<&'static str> {
        TableKind::ALL.into_iter().filter(|&k| self.is_subset(k)).map(TableKind::name).collect()
    }

    /// [`RefData::has`] by name (the names in [`registry::TABLES`]); unknown names are not
    /// loaded.
    pub fn has_table(&self, name: &str) -> bool {
        TableKind::from_name(name).is_some_and(|k| self.has(k))
    }

    pub fn summary(&self) -> Summary {
        let tables = TABLES
            .iter()
            .map(|def| {
                let files: Vec<LoadedFile> = self.files.iter().filter(|f| f.kind == def.kind).cloned().collect();
                TableSummary {
                    kind: def.kind,
                    loaded: def.ops.loaded(self),
                    rows: files.iter().map(|f| f.rows).sum(),
                    entries: def.ops.entries(self),
                    releases: def.ops.releases(self),
                    files,
                }
            })
            .collect();
        Summary { tables, ignored: self.ignored.clone(), not_needed: self.not_needed.clone(), cache_dir: self.cache_dir.clone() }
    }

    /// Files loaded, in load order.
    pub fn files(&self) -> &[LoadedFile] {
        &self.files
    }

    // ----- NCCI -----

    /// The PTP edit for (column 1, column 2) in force on `dos` (any modifier indicator,
    /// including 9 = "not applicable").
    pub fn ptp(&self, column1: &str, column2: &str, dos: NaiveDate) -> Option<PtpEdit> {
        self.ptp.pick(dos)?.lookup(column1, column2, dos)
    }

    /// Every PTP edit in force on `dos` among `codes` (ordered pairs of positions), modifier
    /// indicator 0 or 1. Empty when the PTP table is not loaded.
    pub fn ptp_hits<S: AsRef<str>>(&self, codes: &[S], dos: NaiveDate) -> Vec<PtpHit> {
        self.ptp.pick(dos).map(|t| t.hits(codes, dos)).unwrap_or_default()
    }

    /// As [`RefData::ptp_hits`]: (column 1 position, column 2 position, modifier indicator),
    /// without the rationale text.
    pub fn ptp_hit_indicators<S: AsRef<str>>(&self, codes: &[S], dos: NaiveDate) -> Vec<(usize, usize, u8)> {
        self.ptp.pick(dos).map(|t| t.hit_indicators(codes, dos)).unwrap_or_default()
    }

    /// [`RefData::ptp_hit_indicators`] for procedure codes packed with [`RefData::pack_procedure_code`]
    /// and a day number (days since 1970-01-01); hits are appended to `out`.
    pub fn ptp_packed_hit_indicators(&self, packed: &[Option<u32>], day: i32, out: &mut Vec<(usize, usize, u8)>) {
        if let Some(t) = self.ptp.pick(crate::dates::from_days(day)) {
            t.packed_hit_indicators(packed, day, out);
        }
    }

    /// A procedure code as the NCCI tables key it; `None` for what no table can hold.
    pub fn pack_procedure_code(code: &str) -> Option<u32> {
        compact::pack_hcpcs(code)
    }

    /// Whether `code` is column 1 of an edit in any loaded PTP release, on any date.
    pub fn ptp_column1_anywhere(&self, code: &str) -> bool {
        self.ptp.iter().any(|t| t.is_column1(code))
    }

    /// Distinct (column 1, column 2) pairs in the PTP release in force on `dos`.
    pub fn ptp_pairs(&self, dos: NaiveDate) -> usize {
        self.ptp.pick(dos).map_or(0, |t| t.pairs())
    }

    /// Pairs of that release with an edit in force on `dos`.
    pub fn ptp_active_pairs(&self, dos: NaiveDate) -> usize {
        self.ptp.pick(dos).map_or(0, |t| t.active_pairs(dos))
    }

    /// The practitioner MUE for `code` in the release in force on `dos`.
    pub fn mue(&self, code: &str, dos: NaiveDate) -> Option<MueEdit> {
        self.mue.pick(dos)?.lookup(code)
    }

    /// The add-on code edit for `code` in force on `dos`; `None` when it is not an add-on code.
    pub fn addon(&self, code: &str, dos: NaiveDate) -> Option<AddOnEdit> {
        self.aoc.pick(dos)?.lookup(code, dos)
    }

    /// Whether `code` is an add-on code in any loaded AOC release, on any date.
    pub fn addon_code_anywhere(&self, code: &str) -> bool {
        self.aoc.iter().any(|t| t.has_code(code))
    }

    // ----- ICD-10-CM / MCE -----

    /// Status of a diagnosis code (with or without the dot) on `dos`.
    pub fn icd10_status(&self, code: &str, dos: NaiveDate) -> IcdStatus {
        icd::status(&self.icd_lists, &self.mce, code, dos)
    }

    /// The code's description from the newest code list that has it.
    pub fn icd10_description(&self, code: &str) -> Option<&str> {
        self.icd_lists.items.iter().rev().find_map(|(_, l)| l.description(code))
    }

    /// Billable codes below a header code on `dos`, shortest first then in code order, at most
    /// `limit` (the tabular list's children, e.g. M54.5 -> M54.50, M54.51, M54.59). Found by
    /// level among the children the loaded tables know, so no other code is looked up.
    pub fn icd10_billable_children(&self, code: &str, dos: NaiveDate, limit: usize) -> Vec<String> {
        let with_dot = |c: &str| if c.len() > 3 { format!("{}.{}", &c[..3], &c[3..]) } else { c.to_string() };
        let mut out = Vec::new();
        let mut level = vec![code.trim().replace('.', "").to_ascii_uppercase()];
        while !level.is_empty() && out.len() < limit {
            let mut next = Vec::new();
            'level: for parent in level.iter().filter(|p| p.len() < 7) {
                for child in self.icd10_known_children(parent).iter() {
                    if out.len() >= limit {
                        break 'level;
                    }
                    match self.icd10_status(child, dos) {
                        IcdStatus::Valid if out.len() < limit => out.push(with_dot(child)),
                        IcdStatus::NotBillable => next.push(child.clone()),
                        _ => {}
                    }
                }
            }
            level = next;
        }
        out
    }

    /// The codes one character longer than `parent` (no dot) that some loaded table holds, in
    /// character order. Only they can be valid or headers on any date, so the children search
    /// looks up no others.
    fn icd10_known_children(&self, parent: &str) -> std::sync::Arc<Vec<String>> {
        const NEXT: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        if let Some(c) = self.icd_children.lock().expect("icd children").get(parent) {
            return c.clone();
        }
        let children: Vec<String> =
            NEXT.iter().map(|&ch| format!("{parent}{}", ch as char)).filter(|child| icd::known(&self.icd_lists, &self.mce, child)).collect();
        let children = std::sync::Arc::new(children);
        self.icd_children.lock().expect("icd children").insert(parent.to_string(), children.clone());
        children
    }

    /// MCE flags of the code's period covering `dos` ("female", "newborn", "manifestation",
    /// ...); empty when unflagged, not valid that day, or no MCE master is loaded.
    pub fn mce_flags(&self, code: &str, dos: NaiveDate) -> Vec<&str> {
        self.mce.pick(dos).map(|m| m.flags(code, dos)).unwrap_or_default()
    }

    /// The age range of an MCE group ("newborn", "pediatric", "maternity", "adult") on `dos`.
    pub fn mce_age_range(&self, group: &str, dos: NaiveDate) -> Option<AgeRange> {
        self.ages.lookup(group, dos)
    }

    // ----- code sets (None = table not loaded) -----

    fn in_set(&self, kind: TableKind, set: &codesets::CodeSet, code: &str) -> Option<bool> {
        self.has(kind).then(|| set.contains(kind, code))
    }

    pub fn hcpcs_exists(&self, code: &str) -> Option<bool> {
        self.in_set(TableKind::Hcpcs, &self.hcpcs, code)
    }

    /// Only answers when a CPT code list was supplied (the project ships none).
    pub fn cpt_exists(&self, code: &str) -> Option<bool> {
        self.in_set(TableKind::Cpt, &self.cpt, code)
    }

    pub fn pos_valid(&self, code: &str) -> Option<bool> {
        self.in_set(TableKind::Pos, &self.pos, code)
    }

    pub fn modifier_valid(&self, modifier: &str) -> Option<bool> {
        self.in_set(TableKind::Modifiers, &self.modifiers, modifier)
    }

    pub fn revenue_code_valid(&self, code: &str) -> Option<bool> {
        self.in_set(TableKind::Revenue, &self.revenue, code)
    }

    /// Minutes one unit of a time-based code stands for; `None` for untimed codes.
    pub fn minutes_per_unit(&self, code: &str) -> Option<f64> {
        self.service_minutes.get(code)
    }

    /// Every time-based code with its minutes per unit.
    pub fn service_minutes(&self) -> Vec<(String, f64)> {
        self.service_minutes.entries()
    }

    /// Whether the NPI appears on the exclusion list at all, whatever the dates.
    pub fn npi_listed(&self, npi: &str) -> bool {
        self.leie.listed(npi)
    }

    /// Whether the NPI is on the exclusion list on `dos`; `None` when no LEIE file is loaded.
    /// Exclusion dates are used when the file has them (see `docs/refdata.md`).
    pub fn npi_excluded(&self, npi: &str, dos: NaiveDate) -> Option<bool> {
        self.has(TableKind::Leie).then(|| self.leie.excluded(npi, dos))
    }

    /// Whether the loaded LEIE file(s) carry exclusion dates.
    pub fn leie_dated(&self) -> bool {
        self.leie.dated
    }

    // ----- Physician Fee Schedule -----

    /// The PFS RVU entry for `code` with `modifier` (`""` for the global service) on `dos`: the
    /// row for that modifier when the file has one (26, TC, 53), else the code's global row.
    /// `None` when no PFS file covers that calendar year or the code is not in it.
    pub fn pfs(&self, code: &str, modifier: &str, dos: NaiveDate) -> Option<PfsEntry> {
        pfs::lookup(&self.pfs, code, modifier, dos)
    }

    /// The national fee-schedule amount: (work RVU x work GPCI 1.0 + PE RVU of the setting +
    /// MP RVU) x `conversion_factor`, rounded to cents. `None` when [`RefData::pfs`] has no entry,
    /// the status is not one paid on RVUs (A, R, T), or the setting is marked NA for the code.
    pub fn pfs_amount(&self, code: &str, modifier: &str, dos: NaiveDate, setting: PfsSetting, conversion_factor: f64) -> Option<f64> {
        self.pfs(code, modifier, dos)?.amount(setting, conversion_factor)
    }

    /// The PFS conversion factor in force on `dos` (the `pfs_factors` table); `None` for a year
    /// the table does not list.
    pub fn pfs_conversion_factor(&self, dos: NaiveDate) -> Option<f64> {
        self.pfs_factors.on(dos)
    }
}
