//! Reference data for the federal edit pack: NCCI PTP/MUE/AOC edits, ICD-10-CM code lists, the
//! Medicare Code Editor (MCE) master and age groups, HCPCS Level II, an optional CPT code list,
//! place of service, modifiers, revenue codes and the OIG exclusion list (LEIE).
//!
//! [`RefData::load_dir`] reads every table it recognises under a directory, in the normalised
//! layouts of `rules/data` and `../shared/data` (CSV, CSV.gz, Parquet) or in the official CMS
//! download layouts (see `docs/refdata.md`). Tables are indexed natively (packed codes, day
//! numbers), and lookups take the date of service:
//!
//! - Rows carry their own validity where the source gives it (PTP and AOC effective/deletion
//!   dates, MCE start/end dates, LEIE exclusion dates).
//! - Files are also grouped into *releases* by the date in their name (`2024q3`, `v302r0`,
//!   `Eff_07-01-2024`, `fy2026`, `v43.1`, ...). For a date of service the release in force is the
//!   latest one starting on or before it, or the earliest release for older dates, so several
//!   quarters can be loaded side by side. Files of the same release (the PTP f1..f4 parts) merge.
//!
//! A table that is not loaded answers "unknown" (`None`) rather than "invalid", so rules can
//! skip edits whose table is absent: see [`RefData::has`] and [`RefData::has_table`].

mod codesets;
mod detect;
mod icd;
mod ncci;
mod pack;
mod read;
pub mod rhai_api;

pub use icd::{AgeRange, IcdStatus};
pub use ncci::{AddOnEdit, MueEdit, PtpEdit, PtpHit};
pub use pack::parse_dos;
pub use rhai_api::register_functions;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable naming the reference-data directory (the CLI's `--refdata` wins).
pub const REFDATA_ENV: &str = "CLAIMLINT_REFDATA";

/// The kinds of reference table.
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
}

impl TableKind {
    pub const ALL: [TableKind; 13] = [
        TableKind::Ptp,
        TableKind::Mue,
        TableKind::Aoc,
        TableKind::Icd10,
        TableKind::Mce,
        TableKind::MceAges,
        TableKind::Hcpcs,
        TableKind::Cpt,
        TableKind::Pos,
        TableKind::Modifiers,
        TableKind::Revenue,
        TableKind::Leie,
        TableKind::ServiceMinutes,
    ];

    /// The name used by `has_table` in rule scripts.
    pub fn name(self) -> &'static str {
        match self {
            TableKind::Ptp => "ptp",
            TableKind::Mue => "mue",
            TableKind::Aoc => "aoc",
            TableKind::Icd10 => "icd10",
            TableKind::Mce => "mce",
            TableKind::MceAges => "mce_ages",
            TableKind::Hcpcs => "hcpcs",
            TableKind::Cpt => "cpt",
            TableKind::Pos => "pos",
            TableKind::Modifiers => "modifiers",
            TableKind::Revenue => "revenue",
            TableKind::Leie => "leie",
            TableKind::ServiceMinutes => "service_minutes",
        }
    }

    pub fn from_name(name: &str) -> Option<TableKind> {
        let n = name.trim().to_ascii_lowercase();
        TableKind::ALL.into_iter().find(|k| k.name() == n)
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
    fn entry(&mut self, start: Option<NaiveDate>) -> &mut T {
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
        let n = self
            .items
            .partition_point(|(s, _)| s.is_none_or(|s| s <= dos));
        let i = if n == 0 { 0 } else { n - 1 };
        self.items.get(i).map(|(_, t)| t)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|(_, t)| t)
    }

    fn dates(&self) -> Vec<Option<NaiveDate>> {
        self.items.iter().map(|(d, _)| *d).collect()
    }
}

/// One loaded file.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    pub path: PathBuf,
    pub kind: TableKind,
    /// Official CMS layout (as opposed to the normalised one).
    pub official: bool,
    /// Release date taken from the file name, if any.
    pub release: Option<NaiveDate>,
    /// Data rows read.
    pub rows: usize,
    /// Rows that were not codes of the table's kind (HCPCS modifier records, NPI-less LEIE
    /// entities).
    pub skipped: usize,
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

/// [`RefData::summary`]: every table kind (loaded or not) and the files that were passed over.
#[derive(Debug, Clone)]
pub struct Summary {
    pub tables: Vec<TableSummary>,
    /// Files found but not loaded, with the reason.
    pub ignored: Vec<(PathBuf, String)>,
}

impl Summary {
    pub fn table(&self, kind: TableKind) -> &TableSummary {
        self.tables
            .iter()
            .find(|t| t.kind == kind)
            .expect("every kind is listed")
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.tables {
            if !t.loaded {
                writeln!(f, "{:<10} not loaded", t.kind.name())?;
                continue;
            }
            let rel: Vec<String> = t
                .releases
                .iter()
                .map(|r| r.map_or("undated".to_string(), |d| d.to_string()))
                .collect();
            write!(
                f,
                "{:<10} {} rows, {} entries",
                t.kind.name(),
                t.rows,
                t.entries
            )?;
            // Code sets are not split by release.
            if !rel.is_empty() {
                write!(f, ", release(s) {}", rel.join(", "))?;
            }
            writeln!(f)?;
            for file in &t.files {
                let layout = if file.official {
                    "official"
                } else {
                    "normalised"
                };
                write!(
                    f,
                    "           {} ({layout}, {} rows",
                    file.path.display(),
                    file.rows
                )?;
                if file.skipped > 0 {
                    write!(f, ", {} skipped", file.skipped)?;
                }
                writeln!(f, ")")?;
            }
        }
        for (p, why) in &self.ignored {
            writeln!(f, "ignored    {}: {why}", p.display())?;
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
    hcpcs: codesets::CodeSet,
    cpt: codesets::CodeSet,
    pos: codesets::CodeSet,
    modifiers: codesets::CodeSet,
    revenue: codesets::CodeSet,
    leie: codesets::Leie,
    service_minutes: codesets::ServiceMinutes,
    files: Vec<LoadedFile>,
    ignored: Vec<(PathBuf, String)>,
    seen: HashSet<PathBuf>,
}

impl fmt::Debug for RefData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefData")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl RefData {
    /// No tables: every lookup answers "not loaded".
    pub fn empty() -> RefData {
        RefData::default()
    }

    /// Load every recognised table under `dir`, recursively.
    pub fn load_dir(dir: &Path) -> Result<RefData> {
        let mut rd = RefData::default();
        rd.add_dir(dir)?;
        Ok(rd)
    }

    /// Add the tables under `dir` (recursively; hidden entries are skipped).
    pub fn add_dir(&mut self, dir: &Path) -> Result<()> {
        if !dir.is_dir() {
            bail!("reference data directory {} does not exist", dir.display());
        }
        let mut visited = HashSet::new();
        self.walk(dir, &mut visited)
    }

    fn walk(&mut self, dir: &Path, visited: &mut HashSet<PathBuf>) -> Result<()> {
        // Symlinked directories may loop back.
        if !visited.insert(
            dir.canonicalize()
                .with_context(|| format!("reading {}", dir.display()))?,
        ) {
            return Ok(());
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading directory {}", dir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        entries.sort();
        for p in entries {
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
            {
                continue;
            }
            if p.is_dir() {
                self.walk(&p, visited)?;
            } else if p.is_file() {
                self.add_file(&p)?;
            }
        }
        Ok(())
    }

    /// Load one file if it is a recognised table; returns its kind, or `None` when the file was
    /// passed over (listed in [`Summary::ignored`]). The same file is never loaded twice.
    pub fn add_file(&mut self, path: &Path) -> Result<Option<TableKind>> {
        let canon = path
            .canonicalize()
            .with_context(|| format!("reading {}", path.display()))?;
        if !self.seen.insert(canon) {
            return Ok(None);
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.eq_ignore_ascii_case("README.md") {
            return Ok(None);
        }
        let plan =
            match detect::detect(path).with_context(|| format!("reading {}", path.display()))? {
                Ok(plan) => plan,
                Err(why) => {
                    self.ignored.push((path.to_path_buf(), why));
                    return Ok(None);
                }
            };
        let release = pack::release_from_name(name);
        let started = std::time::Instant::now();
        let (rows, skipped) = self
            .load_plan(path, &plan, release)
            .with_context(|| format!("loading {} table {}", plan.kind, path.display()))?;
        tracing::debug!(
            file = %path.display(),
            kind = %plan.kind,
            rows,
            ms = started.elapsed().as_millis() as u64,
            "loaded reference table"
        );
        if rows == 0 {
            bail!(
                "{}: recognised as a {} table but it holds no data rows",
                path.display(),
                plan.kind
            );
        }
        self.files.push(LoadedFile {
            path: path.to_path_buf(),
            kind: plan.kind,
            official: plan.official,
            release,
            rows,
            skipped,
        });
        Ok(Some(plan.kind))
    }

    fn load_plan(
        &mut self,
        path: &Path,
        plan: &detect::Plan,
        release: Option<NaiveDate>,
    ) -> Result<(usize, usize)> {
        use TableKind::*;
        let no_skips = |n: usize| (n, 0);
        Ok(match plan.kind {
            Ptp => no_skips(ncci::load_ptp(self.ptp.entry(release), path, plan)?),
            Mue => no_skips(ncci::load_mue(self.mue.entry(release), path, plan)?),
            Aoc => no_skips(ncci::load_aoc(self.aoc.entry(release), path, plan)?),
            Icd10 => {
                let list = self.icd_lists.entry(release);
                if let Some(start) = release.filter(|_| name_has_fiscal_year(path)) {
                    list.window = Some(icd::fiscal_window(start));
                }
                no_skips(icd::load_list(list, path, plan)?)
            }
            Mce => no_skips(icd::load_mce(self.mce.entry(release), path, plan)?),
            MceAges => no_skips(icd::load_ages(&mut self.ages, path, plan)?),
            Hcpcs => codesets::load_codes(&mut self.hcpcs, Hcpcs, path, plan)?,
            Cpt => codesets::load_codes(&mut self.cpt, Cpt, path, plan)?,
            Pos => codesets::load_codes(&mut self.pos, Pos, path, plan)?,
            Modifiers => codesets::load_codes(&mut self.modifiers, Modifiers, path, plan)?,
            Revenue => codesets::load_codes(&mut self.revenue, Revenue, path, plan)?,
            Leie => codesets::load_leie(&mut self.leie, path, plan)?,
            ServiceMinutes => codesets::load_minutes(&mut self.service_minutes, path, plan)?,
        })
    }

    /// Whether a table of this kind is loaded. `Icd10` is loaded when either a code list or an
    /// MCE master is (both decide validity).
    pub fn has(&self, kind: TableKind) -> bool {
        use TableKind::*;
        match kind {
            Ptp => !self.ptp.is_empty(),
            Mue => !self.mue.is_empty(),
            Aoc => !self.aoc.is_empty(),
            Icd10 => !self.icd_lists.is_empty() || !self.mce.is_empty(),
            Mce => !self.mce.is_empty(),
            MceAges => self.ages.len() > 0,
            Hcpcs => self.hcpcs.len() > 0,
            Cpt => self.cpt.len() > 0,
            Pos => self.pos.len() > 0,
            Modifiers => self.modifiers.len() > 0,
            Revenue => self.revenue.len() > 0,
            Leie => self.leie.len() > 0,
            ServiceMinutes => self.service_minutes.len() > 0,
        }
    }

    /// Whether every loaded file of this kind is a hand-made subset (its file name says
    /// `subset`, as in rules/data). Existence checks against a subset cannot prove a code is
    /// unknown, so rules say so in their messages.
    /// ICD-10 validity comes from the code list or the MCE master, so it is a subset only when
    /// both are.
    pub fn is_subset(&self, kind: TableKind) -> bool {
        let counts = |f: &&LoadedFile| f.kind == kind || (kind == TableKind::Icd10 && f.kind == TableKind::Mce);
        let mut files = self.files.iter().filter(counts).peekable();
        files.peek().is_some()
            && files.all(|f| f.path.file_name().is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().contains("subset")))
    }

    /// Names of the loaded tables that are only subsets.
    pub fn subset_tables(&self) -> Vec<&'static str> {
        TableKind::ALL.into_iter().filter(|&k| self.is_subset(k)).map(TableKind::name).collect()
    }

    /// [`RefData::has`] by name ("ptp", "mue", "aoc", "icd10", "mce", "mce_ages", "hcpcs",
    /// "cpt", "pos", "modifiers", "revenue", "leie"); unknown names are not loaded.
    pub fn has_table(&self, name: &str) -> bool {
        TableKind::from_name(name).is_some_and(|k| self.has(k))
    }

    pub fn summary(&self) -> Summary {
        let tables = TableKind::ALL
            .into_iter()
            .map(|kind| {
                let files: Vec<LoadedFile> = self
                    .files
                    .iter()
                    .filter(|f| f.kind == kind)
                    .cloned()
                    .collect();
                let (entries, releases) = self.entries(kind);
                TableSummary {
                    kind,
                    loaded: self.has(kind),
                    rows: files.iter().map(|f| f.rows).sum(),
                    entries,
                    releases,
                    files,
                }
            })
            .collect();
        Summary {
            tables,
            ignored: self.ignored.clone(),
        }
    }

    fn entries(&self, kind: TableKind) -> (usize, Vec<Option<NaiveDate>>) {
        use TableKind::*;
        match kind {
            Ptp => (self.ptp.iter().map(|t| t.pairs()).sum(), self.ptp.dates()),
            Mue => (self.mue.iter().map(|t| t.len()).sum(), self.mue.dates()),
            Aoc => (self.aoc.iter().map(|t| t.len()).sum(), self.aoc.dates()),
            Icd10 => (
                self.icd_lists.iter().map(|t| t.len()).sum(),
                self.icd_lists.dates(),
            ),
            Mce => (self.mce.iter().map(|t| t.rows()).sum(), self.mce.dates()),
            MceAges => (self.ages.len(), vec![]),
            Hcpcs => (self.hcpcs.len(), vec![]),
            Cpt => (self.cpt.len(), vec![]),
            Pos => (self.pos.len(), vec![]),
            Modifiers => (self.modifiers.len(), vec![]),
            Revenue => (self.revenue.len(), vec![]),
            Leie => (self.leie.len(), vec![]),
            ServiceMinutes => (self.service_minutes.len(), vec![]),
        }
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
        self.ptp
            .pick(dos)
            .map(|t| t.hits(codes, dos))
            .unwrap_or_default()
    }

    /// As [`RefData::ptp_hits`]: (column 1 position, column 2 position, modifier indicator),
    /// without the rationale text.
    pub fn ptp_hit_indicators<S: AsRef<str>>(&self, codes: &[S], dos: NaiveDate) -> Vec<(usize, usize, u8)> {
        self.ptp.pick(dos).map(|t| t.hit_indicators(codes, dos)).unwrap_or_default()
    }

    /// Distinct (column 1, column 2) pairs in the PTP release in force on `dos`.
    pub fn ptp_pairs(&self, dos: NaiveDate) -> usize {
        self.ptp.pick(dos).map_or(0, |t| t.pairs())
    }

    /// Pairs of that release with an edit in force on `dos`.
    pub fn ptp_active_pairs(&self, dos: NaiveDate) -> usize {
        self.ptp.pick(dos).map_or(0, |t| t.active_pairs(dos))
    }

    /// PTP rows indexed for the release in force on `dos` (after removing exact duplicates).
    pub fn ptp_rows(&self, dos: NaiveDate) -> usize {
        self.ptp.pick(dos).map_or(0, |t| t.rows())
    }

    /// Approximate heap bytes of the PTP indexes (all releases).
    pub fn ptp_heap_bytes(&self) -> usize {
        self.ptp.iter().map(|t| t.heap_bytes()).sum()
    }

    /// The practitioner MUE for `code` in the release in force on `dos`.
    pub fn mue(&self, code: &str, dos: NaiveDate) -> Option<MueEdit> {
        self.mue.pick(dos)?.lookup(code)
    }

    /// The add-on code edit for `code` in force on `dos`; `None` when it is not an add-on code.
    pub fn addon(&self, code: &str, dos: NaiveDate) -> Option<AddOnEdit> {
        self.aoc.pick(dos)?.lookup(code, dos)
    }

    // ----- ICD-10-CM / MCE -----

    /// Status of a diagnosis code (with or without the dot) on `dos`.
    pub fn icd10_status(&self, code: &str, dos: NaiveDate) -> IcdStatus {
        icd::status(&self.icd_lists, &self.mce, code, dos)
    }

    /// The code's description from the newest code list that has it.
    pub fn icd10_description(&self, code: &str) -> Option<&str> {
        self.icd_lists
            .items
            .iter()
            .rev()
            .find_map(|(_, l)| l.description(code))
    }

    /// Billable codes below a header code on `dos`, shortest first then in code order, at most
    /// `limit` (the tabular list's children, e.g. M54.5 -> M54.50, M54.51, M54.59). Found by
    /// trying each next character, so only codes the loaded tables know are visited.
    pub fn icd10_billable_children(&self, code: &str, dos: NaiveDate, limit: usize) -> Vec<String> {
        const NEXT: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let with_dot = |c: &str| if c.len() > 3 { format!("{}.{}", &c[..3], &c[3..]) } else { c.to_string() };
        let mut out = Vec::new();
        let mut level = vec![code.trim().replace('.', "").to_ascii_uppercase()];
        while !level.is_empty() && out.len() < limit {
            let mut next = Vec::new();
            for parent in level.iter().filter(|p| p.len() < 7) {
                for &ch in NEXT {
                    let child = format!("{parent}{}", ch as char);
                    match self.icd10_status(&child, dos) {
                        IcdStatus::Valid if out.len() < limit => out.push(with_dot(&child)),
                        IcdStatus::NotBillable => next.push(child),
                        _ => {}
                    }
                }
            }
            level = next;
        }
        out
    }

    /// MCE flags of the code's period covering `dos` ("female", "newborn", "manifestation",
    /// ...); empty when unflagged, not valid that day, or no MCE master is loaded.
    pub fn mce_flags(&self, code: &str, dos: NaiveDate) -> Vec<&str> {
        self.mce
            .pick(dos)
            .map(|m| m.flags(code, dos))
            .unwrap_or_default()
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

    /// Whether the NPI is on the exclusion list on `dos`; `None` when no LEIE file is loaded.
    /// Exclusion dates are used when the file has them (see `docs/refdata.md`).
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

    pub fn npi_excluded(&self, npi: &str, dos: NaiveDate) -> Option<bool> {
        self.has(TableKind::Leie)
            .then(|| self.leie.excluded(npi, dos))
    }

    /// Whether the loaded LEIE file(s) carry exclusion dates.
    pub fn leie_dated(&self) -> bool {
        self.leie.dated
    }
}

fn name_has_fiscal_year(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().contains("fy"))
}
