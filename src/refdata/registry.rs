//! The one list of reference tables. Each entry holds the table's kind and name, how its files
//! are recognised, its loader, the Rhai functions that read it and its documentation; the table
//! kinds, `has_table` names, the load summary and the docs tables are all derived from it.
//! Adding a table is one entry here plus its loader (a [`TableLoader`]).

use super::cache::{Cache, CacheState};
use super::detect::{Detected, Plan, Probe};
use super::source::SourceFile;
use super::{codesets, hcpcs, icd, icd_official, ncci, pfs, RefData, TableKind};
use anyhow::{bail, Result};
use chrono::NaiveDate;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::marker::PhantomData;

/// One reference table.
pub struct TableDef {
    pub kind: TableKind,
    /// The name rules use (`has_table("ptp")`, `requires: [ptp]`).
    pub name: &'static str,
    pub title: &'static str,
    /// Where CMS (or the owner) publishes it and the exact file to download (markdown).
    pub download: &'static str,
    /// What claimlint reads as downloaded (markdown).
    pub loads: &'static str,
    /// Rhai functions that answer from this table.
    pub functions: &'static [RhaiFn],
    pub(crate) detect: fn(&Probe) -> Detected,
    pub(crate) ops: &'static dyn TableOps,
}

/// A Rhai function for the docs: its call form and what it returns.
pub struct RhaiFn {
    pub call: &'static str,
    pub returns: &'static str,
}

/// What one file of a table yields once parsed: this is what the cache stores.
#[derive(Serialize, Deserialize)]
pub(crate) struct Parsed<P> {
    pub part: P,
    /// Data rows read.
    pub rows: usize,
    /// Rows that were not entries of the table (HCPCS modifier records, NPI-less LEIE rows).
    pub skipped: usize,
    /// The release the file belongs to (from its name, or from its content where it says).
    pub release: Option<NaiveDate>,
    /// A version label from the file itself ("FY2026"), when it has one.
    pub version: Option<String>,
}

impl<P> Parsed<P> {
    pub fn new(part: P, rows: usize, skipped: usize, release: Option<NaiveDate>) -> Parsed<P> {
        Parsed { part, rows, skipped, release, version: None }
    }
}

/// A table's loader: parse one file into a part, and add parts to the loaded tables.
pub(crate) trait TableLoader: Sync + 'static {
    type Part: Serialize + DeserializeOwned;
    /// `release` is the one read from the file name.
    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<Self::Part>>;
    fn add(rd: &mut RefData, part: Self::Part, release: Option<NaiveDate>);
    fn loaded(rd: &RefData) -> bool;
    /// Distinct entries indexed (pairs, codes, NPIs, MCE periods, ...), all releases.
    fn entries(rd: &RefData) -> usize;
    /// Release dates loaded; empty for tables not split by release.
    fn releases(_rd: &RefData) -> Vec<Option<NaiveDate>> {
        Vec::new()
    }
}

/// What loading one file did.
pub(crate) struct FileLoad {
    pub rows: usize,
    pub skipped: usize,
    pub release: Option<NaiveDate>,
    pub version: Option<String>,
    pub cache: CacheState,
}

/// [`TableLoader`] behind a vtable, so the registry can hold every table in one list.
pub(crate) trait TableOps: Sync {
    fn load(&self, rd: &mut RefData, src: &SourceFile, plan: &Plan, cache: &Cache, release: Option<NaiveDate>) -> Result<FileLoad>;
    fn loaded(&self, rd: &RefData) -> bool;
    fn entries(&self, rd: &RefData) -> usize;
    fn releases(&self, rd: &RefData) -> Vec<Option<NaiveDate>>;
}

pub(crate) struct Ops<L>(PhantomData<L>);

impl<L: TableLoader> TableOps for Ops<L> {
    fn load(&self, rd: &mut RefData, src: &SourceFile, plan: &Plan, cache: &Cache, release: Option<NaiveDate>) -> Result<FileLoad> {
        let (parsed, state) = cache.get_or_build::<Parsed<L::Part>>(plan.kind, src, || {
            let parsed = L::parse(src, plan, release)?;
            if parsed.rows == 0 {
                bail!("{}: recognised as a {} table but it holds no data rows", src.shown.display(), plan.kind);
            }
            Ok(parsed)
        })?;
        let load = FileLoad { rows: parsed.rows, skipped: parsed.skipped, release: parsed.release, version: parsed.version, cache: state };
        L::add(rd, parsed.part, parsed.release);
        Ok(load)
    }

    fn loaded(&self, rd: &RefData) -> bool {
        L::loaded(rd)
    }

    fn entries(&self, rd: &RefData) -> usize {
        L::entries(rd)
    }

    fn releases(&self, rd: &RefData) -> Vec<Option<NaiveDate>> {
        L::releases(rd)
    }
}

const fn ops<L: TableLoader>() -> &'static dyn TableOps {
    &Ops::<L>(PhantomData)
}

/// Functions that are about the tables rather than one of them.
pub const GENERAL_FUNCTIONS: &[RhaiFn] = &[
    RhaiFn { call: "has_table(name)", returns: "bool: a table of that name is loaded (names below)" },
    RhaiFn { call: "table_is_subset(name)", returns: "bool: only hand-made subset files (such as rules/data) are loaded for it" },
];

/// Every table, in [`TableKind`] order. Detectors are tried in this order and the first that
/// claims a file decides, so the broad ones (a `code` column and a telling file name) check that
/// no other table's columns are there.
pub const TABLES: &[TableDef] = &[
    TableDef {
        kind: TableKind::Ptp,
        name: "ptp",
        title: "NCCI procedure-to-procedure (PTP) edits, practitioner",
        download: "cms.gov, *Medicare NCCI Procedure to Procedure (PTP) Edits*: the quarter's four *Practitioner PTP Edits* zips, parts f1–f4 (each holds `ccipra-v312r0-f1.txt` … `-f4.txt`)",
        loads: "the zips as downloaded (or the tab-delimited `.txt` parts inside them), copyright preamble included; the release comes from the version in the name (`v312r0` = 2025 Q3). Hospital outpatient files (`ccioph*`) are recognised and passed over",
        functions: &[
            RhaiFn { call: "ptp(col1, col2, dos)", returns: "`#{indicator, rationale, effective, deletion}` or `()` (effective/deletion \"\" when open or unknown)" },
            RhaiFn { call: "ptp_hits(codes, dos)", returns: "array of `#{column1, column2, indicator, rationale}`, indexes into `codes`, indicator 0/1 only" },
        ],
        detect: ncci::detect_ptp,
        ops: ops::<ncci::PtpTable>(),
    },
    TableDef {
        kind: TableKind::Mue,
        name: "mue",
        title: "NCCI medically unlikely edits (MUE), practitioner services",
        download: "cms.gov, *Medicare NCCI Medically Unlikely Edits (MUEs)*: the quarter's *Practitioner Services MUE Table* zip (it holds `MCR_MUE_PractitionerServices_Eff_07-01-2025.csv`)",
        loads: "the zip as downloaded, or the `.csv` in it with its quoted preamble; the indicator text (`3 Date of Service Edit: Clinical`) gives the MAI. The outpatient hospital and DME tables are recognised and passed over",
        functions: &[RhaiFn { call: "mue(code, dos)", returns: "`#{units, mai, rationale}` or `()`" }],
        detect: ncci::detect_mue,
        ops: ops::<ncci::MueTable>(),
    },
    TableDef {
        kind: TableKind::Aoc,
        name: "aoc",
        title: "NCCI add-on code (AOC) edits",
        download: "cms.gov, *Medicare NCCI Add-on Code Edits*: the current zip (it holds `AOC_V2025Q3-MCR.txt` and the same table as `.xlsx`)",
        loads: "the zip as downloaded, or the `.txt` in it (fixed-width or tab-delimited, with its header row; columns are found by name)",
        functions: &[RhaiFn { call: "addon(code, dos)", returns: "`#{edit_type, primaries}` or `()`; primaries empty when contractor-defined" }],
        detect: ncci::detect_aoc,
        ops: ops::<ncci::AocTable>(),
    },
    TableDef {
        kind: TableKind::Icd10,
        name: "icd10",
        title: "ICD-10-CM code list (fiscal year)",
        download: "cms.gov, *ICD-10* (the fiscal-year *ICD-10-CM* files): the *Code Descriptions in Tabular Order* zip (`icd10cm_order_2026.txt`) or the *Code Tables, Tabular and Index* zip (`icd10cm_tabular_2026.xml`)",
        loads: "either file as downloaded (zipped, gzipped or plain). The fiscal year comes from the XML's `<version>` or the order file's name, so several years side by side answer by date of service. From the XML, codes taking a 7th character are expanded (S72.001 → S72.001A …) and the code itself is a header",
        functions: &[
            RhaiFn { call: "icd10_status(code, dos)", returns: "\"valid\", \"not_billable\", \"invalid_on_date\", \"unknown\" or \"unloaded\"" },
            RhaiFn { call: "icd10_description(code)", returns: "string or `()`" },
        ],
        detect: icd_official::detect,
        ops: ops::<icd::IcdListTable>(),
    },
    TableDef {
        kind: TableKind::Mce,
        name: "mce",
        title: "Medicare Code Editor (MCE) diagnosis master",
        download: "cms.gov, *ICD-10 MS-DRG Definitions Manual and Software*: the Medicare Code Editor software for the fiscal year (the master is in its data files)",
        loads: "a CSV `code,start_date,end_date,flags` extracted from the MCE's diagnosis master (CMS publishes it only inside the software). A master whose name contains `pcs` is passed over",
        functions: &[RhaiFn { call: "mce_flags(code, dos)", returns: "array of flag names (female, male, newborn, pediatric, maternity, adult, manifestation, ...)" }],
        detect: icd::detect_mce,
        ops: ops::<icd::MceTable>(),
    },
    TableDef {
        kind: TableKind::MceAges,
        name: "mce_ages",
        title: "MCE age groups",
        download: "the same MCE release (*Definitions of Medicare Code Edits*)",
        loads: "`age_group,min_age,max_age,start_date,end_date`",
        functions: &[RhaiFn { call: "mce_age_range(group, dos)", returns: "`[min, max]` or `()`" }],
        detect: icd::detect_ages,
        ops: ops::<icd::AgesTable>(),
    },
    TableDef {
        kind: TableKind::Hcpcs,
        name: "hcpcs",
        title: "HCPCS Level II codes",
        download: "cms.gov, *HCPCS Quarterly Update* (Alpha-Numeric HCPCS): the alpha-numeric HCPCS file zip for the quarter (it holds `HCPC<year>…_ANWEB….txt`)",
        loads: "the zip as downloaded: the fixed-width `HCPC*_ANWEB*.txt` in it (procedure records only; modifier records are counted as skipped), or a CSV with a `code` column",
        functions: &[RhaiFn { call: "hcpcs_exists(code)", returns: "bool, or `()` when the table is not loaded" }],
        detect: hcpcs::detect,
        ops: ops::<codesets::HcpcsTable>(),
    },
    TableDef {
        kind: TableKind::Cpt,
        name: "cpt",
        title: "CPT code list (optional, your AMA licence)",
        download: "your AMA-licensed CPT data",
        loads: "codes only: a CSV with a `code` column in a file named `*cpt*`. Never put descriptors here",
        functions: &[RhaiFn { call: "cpt_exists(code)", returns: "bool, or `()` when no CPT list is loaded" }],
        detect: codesets::detect_cpt,
        ops: ops::<codesets::CptTable>(),
    },
    TableDef {
        kind: TableKind::Pos,
        name: "pos",
        title: "Place of service codes",
        download: "cms.gov, *Place of Service Code Set* (a web page, no download file)",
        loads: "`pos_code,pos_type,pos_name` (\"Unassigned\" rows are dropped)",
        functions: &[RhaiFn { call: "pos_valid(code)", returns: "bool, or `()` when the table is not loaded" }],
        detect: codesets::detect_pos,
        ops: ops::<codesets::PosTable>(),
    },
    TableDef {
        kind: TableKind::Modifiers,
        name: "modifiers",
        title: "Procedure modifiers (CPT and HCPCS Level II)",
        download: "CMS and Medicare contractor modifier lists (no single official file)",
        loads: "`modifier,type,category`",
        functions: &[RhaiFn { call: "modifier_valid(modifier)", returns: "bool, or `()` when the table is not loaded" }],
        detect: codesets::detect_modifiers,
        ops: ops::<codesets::ModifiersTable>(),
    },
    TableDef {
        kind: TableKind::Revenue,
        name: "revenue",
        title: "UB-04 revenue codes",
        download: "NUBC UB-04 data specifications (licensed; no free download)",
        loads: "a CSV with a `code` column in a file named `*revenue*`",
        functions: &[RhaiFn { call: "revenue_code_valid(code)", returns: "bool, or `()` when the table is not loaded" }],
        detect: codesets::detect_revenue,
        ops: ops::<codesets::RevenueTable>(),
    },
    TableDef {
        kind: TableKind::Leie,
        name: "leie",
        title: "OIG List of Excluded Individuals/Entities (LEIE)",
        download: "oig.hhs.gov, *LEIE Downloadable Databases*: the full `UPDATED.csv`",
        loads: "the file as downloaded (NPI, EXCLDATE and REINDATE are used; rows without an NPI are counted and skipped)",
        functions: &[RhaiFn { call: "npi_excluded(npi, dos)", returns: "bool (false when no LEIE is loaded: check `has_table(\"leie\")`)" }],
        detect: codesets::detect_leie,
        ops: ops::<codesets::LeieTable>(),
    },
    TableDef {
        kind: TableKind::ServiceMinutes,
        name: "service_minutes",
        title: "Minutes per unit of time-based codes (claimlint's own table)",
        download: "shipped with the rules in `rules/data/claimlint/`",
        loads: "`code,minutes_per_unit,basis`",
        functions: &[],
        detect: codesets::detect_minutes,
        ops: ops::<codesets::MinutesTable>(),
    },
    TableDef {
        kind: TableKind::Pfs,
        name: "pfs",
        title: "Physician Fee Schedule relative value units (PFS RVU)",
        download: "cms.gov, *PFS Relative Value Files*: the quarter's `RVU25D.zip` (it holds `PPRRVU25_OCT.csv`)",
        loads: "the zip or the `PPRRVU*.csv` as downloaded (multi-row header, with or without the descriptor column); the release comes from the name (`RVU25D`, `_oct` = October). Lookups answer for dates in the release's calendar year",
        functions: &[
            RhaiFn { call: "pfs(code, modifier, dos)", returns: "`#{status, work_rvu, pe_rvu_non_facility, pe_rvu_facility, mp_rvu, non_facility_na, facility_na, pctc, global_days, payable}` or `()`" },
            RhaiFn { call: "pfs_amount(code, modifier, dos, setting, conversion_factor)", returns: "national amount in dollars for `\"facility\"` or `\"non_facility\"`, or `()` when the code has no payable RVUs that day (status other than A, R, T, or NA in that setting)" },
        ],
        detect: pfs::detect,
        ops: ops::<pfs::PfsTable>(),
    },
    TableDef {
        kind: TableKind::PfsFactors,
        name: "pfs_factors",
        title: "PFS conversion factors by calendar year (claimlint's own table)",
        download: "shipped with the rules in `rules/data/claimlint/` (the figures of CMS's PFS final rules and of the laws that changed them, each row citing its source)",
        loads: "`year,effective_from,conversion_factor,source`: a factor applies from its date to the end of its year or the year's next row",
        functions: &[RhaiFn { call: "pfs_conversion_factor(dos)", returns: "the conversion factor in dollars per RVU in force that day, or `()` for a year the table does not list" }],
        detect: pfs::detect_factors,
        ops: ops::<pfs::FactorsTable>(),
    },
];

// The registry is indexed by kind.
const _: () = {
    let mut i = 0;
    while i < TABLES.len() {
        assert!(TABLES[i].kind as usize == i, "TABLES must list the kinds in TableKind order");
        i += 1;
    }
};

pub(crate) fn def(kind: TableKind) -> &'static TableDef {
    &TABLES[kind as usize]
}

/// The markdown table of reference functions for docs/rules.md.
pub fn functions_markdown() -> String {
    let mut out = String::from("| function | table | returns |\n|---|---|---|\n");
    for t in TABLES {
        for f in t.functions {
            out.push_str(&format!("| `{}` | `{}` | {} |\n", f.call, t.name, f.returns));
        }
    }
    for f in GENERAL_FUNCTIONS {
        out.push_str(&format!("| `{}` | any | {} |\n", f.call, f.returns));
    }
    out.push_str(&format!(
        "\nTable names: {}. Dates are `\"YYYY-MM-DD\"` strings; a malformed date is a script error.\n",
        TABLES.iter().map(|t| format!("`{}`", t.name)).collect::<Vec<_>>().join(", ")
    ));
    out
}

/// The markdown table of where each table comes from, for docs/refdata.md.
pub fn tables_markdown() -> String {
    let mut out = String::from("| name | table | download | loads as downloaded |\n|---|---|---|---|\n");
    for t in TABLES {
        out.push_str(&format!("| `{}` | {} | {} | {} |\n", t.name, t.title, t.download, t.loads));
    }
    out
}
