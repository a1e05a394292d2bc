//! Reference-data layer: the hand-made `rules/data` set, the official CMS layouts (fixtures under
//! tests/fixtures/refdata, and zips built from them), several releases side by side, the cache,
//! selective loading, the fee schedule, the Rhai functions, the generated docs, and (ignored
//! unless `--ignored`) facts and row counts from the real tables in ../shared/data.

use crate::common::{repo_root, shared_data};
use chrono::NaiveDate;
use claimlint::refdata::{load_for, register_functions, AgeRange, CacheSetting, CacheState, IcdStatus, LoadOptions, PfsSetting, RefData, TableKind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn fixtures(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures/refdata").join(rel)
}

fn handmade() -> &'static RefData {
    static RD: OnceLock<RefData> = OnceLock::new();
    RD.get_or_init(|| RefData::load_dir(&repo_root().join("rules/data")).expect("rules/data loads"))
}

fn official() -> &'static RefData {
    static RD: OnceLock<RefData> = OnceLock::new();
    RD.get_or_init(|| RefData::load_dir(&fixtures("official")).expect("official fixtures load"))
}

// ---------------------------------------------------------------- hand-made rules/data set

#[test]
fn handmade_set_has_every_table_but_cpt() {
    let rd = handmade();
    for kind in TableKind::ALL {
        let expected = !matches!(kind, TableKind::Cpt);
        assert_eq!(rd.has(kind), expected, "{kind}");
        assert_eq!(rd.has_table(kind.name()), expected, "{kind}");
    }
    assert!(!rd.has_table("no_such_table"));
    let summary = rd.summary();
    // Nothing is passed over silently: the README is listed, with the reason.
    assert_eq!(summary.ignored.len(), 1, "{summary}");
    assert!(summary.ignored[0].0.ends_with("rules/data/README.md"), "{summary}");
    assert!(summary.ignored[0].1.contains("documentation"), "{summary}");
    assert_eq!(summary.table(TableKind::Ptp).rows, 37);
    assert_eq!(summary.table(TableKind::Ptp).entries, 30);
    assert_eq!(summary.table(TableKind::Ptp).releases, vec![Some(d("2024-07-01"))]);
    assert_eq!(summary.table(TableKind::Mue).entries, 32);
    assert_eq!(summary.table(TableKind::Icd10).entries, 84);
    assert!(!summary.table(TableKind::Cpt).loaded);
    let text = summary.to_string();
    assert!(text.contains("cpt              not loaded"), "{text}");
    assert!(text.contains("ptp_practitioner_2024q3_subset.csv"), "{text}");
}

#[test]
fn handmade_ptp_edits() {
    let rd = handmade();
    let e = rd.ptp("80053", "80048", d("2024-08-01")).expect("80053/80048");
    assert_eq!(e.modifier_indicator, 0);
    assert_eq!(e.rationale, "CPT Manual or CMS manual coding instruction");
    assert_eq!(e.effective, None, "the normalised layout has no effective dates");
    assert_eq!(e.deletion, None);
    // Direction matters: 80048 is not column 1 of 80053.
    assert!(rd.ptp("80048", "80053", d("2024-08-01")).is_none());
    assert_eq!(rd.ptp("11042", "97597", d("2024-08-01")).unwrap().modifier_indicator, 1);
    // Deleted 2019-12-31: in force through that day, gone after it.
    let old = rd.ptp("97140", "97530", d("2019-12-31")).expect("in force on its deletion date");
    assert_eq!((old.modifier_indicator, old.deletion), (1, Some(d("2019-12-31"))));
    assert!(rd.ptp("97140", "97530", d("2020-01-01")).is_none());
    assert_eq!(rd.ptp("93005", "93010", d("2005-01-01")).unwrap().modifier_indicator, 9);
    // Codes are case- and space-insensitive.
    assert_eq!(rd.ptp(" g0008 ", "99211", d("2024-08-01")).unwrap().modifier_indicator, 1);
}

#[test]
fn handmade_ptp_versions_resolve_by_date() {
    // G0008/99211 has four rows: indicator 9 until 2000-10-30, 0 until 2019-12-31, 0 until
    // 2021-09-30, then 1 and still active. The earliest deletion on or after the date wins.
    let rd = handmade();
    let at = |s: &str| rd.ptp("G0008", "99211", d(s)).map(|e| (e.modifier_indicator, e.deletion));
    assert_eq!(at("2000-01-01"), Some((9, Some(d("2000-10-30")))));
    assert_eq!(at("2019-06-01"), Some((0, Some(d("2019-12-31")))));
    assert_eq!(at("2021-06-01"), Some((0, Some(d("2021-09-30")))));
    assert_eq!(at("2024-08-01"), Some((1, None)));
}

#[test]
fn handmade_ptp_hits_among_claim_lines() {
    let rd = handmade();
    let codes = ["99213", "80053", "17311", "80048", "97110", "97140"];
    let mut hits: Vec<(usize, usize, u8)> =
        rd.ptp_hits(&codes, d("2024-08-01")).into_iter().map(|h| (h.column1, h.column2, h.modifier_indicator)).collect();
    hits.sort();
    // 80053/80048 and 17311/99213; 97110/97140 is indicator 9 and so not a hit.
    assert_eq!(hits, vec![(1, 3, 0), (2, 0, 1)]);
    assert!(rd.ptp("97110", "97140", d("1998-01-01")).is_some());
    assert!(rd.ptp_hits(&["97110", "97140"], d("1998-01-01")).is_empty());
    // Before 2019-12-31 the deleted 97140/97530 edit still hits.
    assert_eq!(rd.ptp_hits(&["97530", "97140"], d("2019-06-01")).len(), 1);
    assert!(rd.ptp_hits(&["97530", "97140"], d("2020-06-01")).is_empty());
}

#[test]
fn handmade_mue_and_addon() {
    let rd = handmade();
    let dos = d("2024-08-01");
    let m = rd.mue("99213", dos).unwrap();
    assert_eq!((m.units, m.mai, m.rationale.as_str()), (2, 3, "Clinical: Data"));
    assert_eq!(rd.mue("17311", dos).unwrap().units, 4);
    assert_eq!(rd.mue("11042", dos).unwrap().mai, 2);
    assert_eq!(rd.mue("J1100", dos).unwrap().units, 120);
    for code in ["99214", "99215", "36415", "80053", "85025", "93000", "17312", "97110", "20610"] {
        assert!(rd.mue(code, dos).is_some(), "MUE {code}");
    }
    assert!(rd.mue("99999", dos).is_none());

    let a = rd.addon("17312", dos).unwrap();
    assert_eq!((a.edit_type, a.primaries.clone()), (1, vec!["17311".to_string()]));
    assert_eq!(rd.addon("17315", dos).unwrap().primaries, ["17311", "17312", "17313", "17314"]);
    let c = rd.addon("0054T", dos).unwrap();
    assert_eq!(c.edit_type, 2);
    assert!(c.primaries.is_empty(), "CCCCC = contractor-defined primaries");
    assert_eq!(rd.addon("20701", dos).unwrap().edit_type, 3);
    assert!(rd.addon("17311", dos).is_none(), "17311 is a primary, not an add-on");
}

#[test]
fn handmade_icd10_status_and_mce() {
    let rd = handmade();
    let dos = d("2024-08-15");
    assert_eq!(rd.icd10_status("S72.001A", dos), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("S72001A", dos), IcdStatus::Valid, "without the dot");
    assert_eq!(rd.icd10_status("s72.001a", dos), IcdStatus::Valid, "lower case");
    assert_eq!(rd.icd10_status("S72", dos), IcdStatus::NotBillable);
    assert_eq!(rd.icd10_status("S72.00", dos), IcdStatus::NotBillable);
    assert_eq!(rd.icd10_status("Q99.99", dos), IcdStatus::Unknown);
    assert_eq!(rd.icd10_status("not a code", dos), IcdStatus::Unknown);
    // M54.50 was created on 2021-10-01 when M54.5 became a header.
    assert_eq!(rd.icd10_status("M54.50", d("2021-06-01")), IcdStatus::InvalidOnDate);
    assert_eq!(rd.icd10_status("M54.50", d("2021-10-01")), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("M54.5", d("2021-09-30")), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("M54.5", d("2021-10-01")), IcdStatus::NotBillable);
    assert_eq!(rd.icd10_status("N80.00", d("2022-09-30")), IcdStatus::InvalidOnDate);
    assert_eq!(rd.icd10_status("I10", d("2015-09-30")), IcdStatus::InvalidOnDate, "before ICD-10");
    assert_eq!(rd.icd10_description("E11.9"), Some("Type 2 diabetes mellitus without complications"));
    assert_eq!(rd.icd10_description("E119"), Some("Type 2 diabetes mellitus without complications"));

    assert_eq!(rd.mce_flags("N80.00", dos), vec!["female"]);
    assert!(rd.mce_flags("N80.00", d("2025-01-15")).is_empty());
    assert_eq!(rd.mce_flags("A33", dos), vec!["newborn"]);
    let mut z = rd.mce_flags("Z00.00", dos);
    z.sort();
    assert_eq!(z, vec!["adult", "unacceptable"]);
    assert_eq!(rd.mce_flags("O80", d("2024-01-01")).len(), 2);
    assert_eq!(rd.mce_flags("O80", d("2025-01-01")), vec!["maternity"]);
    assert_eq!(rd.mce_age_range("maternity", d("2019-09-30")), Some(AgeRange { min: 12, max: 55 }));
    assert_eq!(rd.mce_age_range("Maternity", d("2019-10-01")), Some(AgeRange { min: 9, max: 64 }));
    assert_eq!(rd.mce_age_range("newborn", dos), Some(AgeRange { min: 0, max: 0 }));
    assert_eq!(rd.mce_age_range("pediatric", dos), Some(AgeRange { min: 0, max: 17 }));
    assert_eq!(rd.mce_age_range("adult", dos), Some(AgeRange { min: 15, max: 124 }));
    assert_eq!(rd.mce_age_range("elderly", dos), None);
}

#[test]
fn handmade_code_sets() {
    let rd = handmade();
    assert_eq!(rd.hcpcs_exists("J1100"), Some(true));
    assert_eq!(rd.hcpcs_exists("G2211"), Some(true));
    assert_eq!(rd.hcpcs_exists("J9999"), Some(false));
    assert_eq!(rd.hcpcs_exists("99213"), Some(false), "CPT codes are not HCPCS Level II");
    assert_eq!(rd.cpt_exists("99213"), None, "no CPT list is shipped");
    assert_eq!(rd.pos_valid("11"), Some(true));
    assert_eq!(rd.pos_valid("2"), Some(true), "02 written without the zero");
    assert_eq!(rd.pos_valid("28"), Some(false), "unassigned");
    for m in ["25", "59", "XE", "XS", "XP", "XU", "LT", "RT", "24", "57", "58", "78", "79", "91", "26", "TC", "GT", "95"] {
        assert_eq!(rd.modifier_valid(m), Some(true), "modifier {m}");
    }
    assert_eq!(rd.modifier_valid("xe"), Some(true));
    assert_eq!(rd.modifier_valid("ZZ"), Some(false));
    assert_eq!(rd.revenue_code_valid("0450"), Some(true));
    assert_eq!(rd.revenue_code_valid("450"), Some(true));
    assert_eq!(rd.revenue_code_valid("0999"), Some(false));
    // The hand-made LEIE: one NPI excluded since 2024-03-01, one reinstated on 2023-06-01.
    assert_eq!(rd.npi_excluded("1000000004", d("2024-01-01")), Some(false));
    assert_eq!(rd.npi_excluded("1999999984", d("2024-02-29")), Some(false));
    assert_eq!(rd.npi_excluded("1999999984", d("2024-03-01")), Some(true));
    assert_eq!(rd.npi_excluded("1888888884", d("2022-01-01")), Some(true));
    assert_eq!(rd.npi_excluded("1888888884", d("2023-06-01")), Some(false));
    assert_eq!(rd.minutes_per_unit("97110"), Some(15.0));
    assert_eq!(rd.minutes_per_unit("99213"), Some(20.0));
    assert_eq!(rd.minutes_per_unit("36415"), None);
}

#[test]
fn handmade_set_ships_no_cpt_descriptors() {
    // CPT descriptors belong to the AMA; the shipped tables carry codes and CMS/ICD texts only.
    for entry in std::fs::read_dir(repo_root().join("rules/data/ncci")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap().to_lowercase();
        for phrase in ["office or other outpatient visit", "comprehensive metabolic panel", "mohs micrographic"] {
            assert!(!text.contains(phrase), "{phrase}");
        }
    }
}

// ---------------------------------------------------------------- official CMS layouts

#[test]
fn official_files_are_recognised() {
    let rd = official();
    let s = rd.summary();
    let ptp = s.table(TableKind::Ptp);
    assert_eq!(ptp.files.len(), 3);
    assert!(ptp.files.iter().all(|f| f.official));
    // f1 and f2 of v30.2 merge into one release; v30.3 is the next quarter.
    assert_eq!(ptp.releases, vec![Some(d("2024-07-01")), Some(d("2024-10-01"))]);
    assert_eq!(ptp.rows, 6 + 2 + 7);
    let mue = s.table(TableKind::Mue);
    assert_eq!(mue.releases, vec![Some(d("2024-07-01")), Some(d("2024-10-01"))]);
    assert_eq!(mue.rows, 6 + 3);
    assert_eq!(s.table(TableKind::Aoc).rows, 6);
    assert_eq!(s.table(TableKind::Leie).rows, 2);
    assert_eq!(s.table(TableKind::Leie).files[0].skipped, 1, "the entity without an NPI");
    // The hospital MUE table is passed over, with the reason.
    assert_eq!(s.ignored.len(), 1, "{s}");
    assert!(s.ignored[0].0.ends_with("MCR_MUE_OutpatientHospitalServices_Eff_07-01-2024.csv"));
    assert!(s.ignored[0].1.contains("practitioner"));
    assert!(!rd.has(TableKind::Icd10));
}

#[test]
fn official_ptp_layout() {
    let rd = official();
    let e = rd.ptp("80053", "80048", d("2024-08-01")).unwrap();
    assert_eq!(e.modifier_indicator, 0);
    assert_eq!(e.effective, Some(d("1996-01-01")));
    assert_eq!(e.deletion, None, "`*` = not deleted");
    assert_eq!(e.rationale, "CPT Manual or CMS manual coding instruction", "no trailing CR");
    // Rows from the second part (f2) of the same release.
    assert_eq!(rd.ptp("99215", "99214", d("2024-08-01")).unwrap().modifier_indicator, 1);
    // Effective dates bound an edit from below: J1100/96372 starts 2024-07-01.
    assert!(rd.ptp("J1100", "96372", d("2024-07-01")).is_some());
    assert_eq!(rd.ptp("G0008", "99211", d("2021-06-01")).unwrap().modifier_indicator, 0);
    assert_eq!(rd.ptp("G0008", "99211", d("2022-06-01")).unwrap().modifier_indicator, 1);
    let nine = rd.ptp("93005", "93010", d("2005-10-01")).unwrap();
    assert_eq!((nine.modifier_indicator, nine.effective, nine.deletion), (9, Some(d("2005-10-01")), Some(d("2005-10-01"))));
    assert!(rd.ptp("93005", "93010", d("2005-10-02")).is_none());
}

#[test]
fn official_quarters_resolve_by_date_of_service() {
    let rd = official();
    // 97140/97530 was deleted 2024-09-30: in force in Q3, not in Q4.
    assert_eq!(rd.ptp("97140", "97530", d("2024-09-30")).unwrap().modifier_indicator, 1);
    assert!(rd.ptp("97140", "97530", d("2024-10-01")).is_none());
    // 11042/97597 re-issued in Q4 with indicator 0.
    assert_eq!(rd.ptp("11042", "97597", d("2024-08-01")).unwrap().modifier_indicator, 1);
    assert_eq!(rd.ptp("11042", "97597", d("2024-11-01")).unwrap().modifier_indicator, 0);
    // New in Q4 only.
    assert!(rd.ptp("36415", "99211", d("2024-08-01")).is_none());
    assert_eq!(rd.ptp("36415", "99211", d("2024-10-01")).unwrap().effective, Some(d("2024-10-01")));
    // Within a release the effective date still counts.
    assert!(rd.ptp("17311", "99213", d("2024-11-14")).is_none());
    assert!(rd.ptp("17311", "99213", d("2024-11-15")).is_some());
    // J1100/96372 exists only in the Q3 release (f2), so a Q4 date does not see it.
    assert!(rd.ptp("J1100", "96372", d("2024-12-01")).is_none());
    // Dates before the first loaded release use the earliest one.
    assert_eq!(rd.ptp("80053", "80048", d("2010-01-01")).unwrap().modifier_indicator, 0);
    assert_eq!(rd.ptp_pairs(d("2024-08-01")), 7);
    assert_eq!(rd.ptp_pairs(d("2024-12-01")), 6);
    assert_eq!(rd.ptp_active_pairs(d("2024-12-01")), 5);

    // MUE values change with the quarter; codes absent from Q4 are absent on Q4 dates.
    assert_eq!(rd.mue("99213", d("2024-09-30")).unwrap().units, 2);
    assert_eq!(rd.mue("99213", d("2024-10-01")).unwrap().units, 3);
    assert!(rd.mue("J1100", d("2024-08-01")).is_some());
    assert!(rd.mue("J1100", d("2024-10-01")).is_none());
}

#[test]
fn official_mue_layout_reads_indicator_text() {
    let rd = official();
    let dos = d("2024-08-01");
    let m = rd.mue("99213", dos).unwrap();
    assert_eq!((m.units, m.mai, m.rationale.as_str()), (2, 3, "Clinical: Data"));
    assert_eq!(rd.mue("11042", dos).unwrap().mai, 2);
    assert_eq!(rd.mue("A4550", dos).unwrap().mai, 1);
    assert_eq!(rd.mue("17311", dos).unwrap().units, 4);
}

#[test]
fn official_aoc_layout() {
    let rd = official();
    let dos = d("2024-08-01");
    let a = rd.addon("17312", dos).unwrap();
    assert_eq!((a.edit_type, a.primaries), (1, vec!["17311".to_string()]));
    let c = rd.addon("0054T", dos).unwrap();
    assert_eq!((c.edit_type, c.primaries.len()), (2, 0));
    assert_eq!(rd.addon("20701", dos).unwrap().primaries, ["11010", "11011"]);
    assert!(rd.addon("20701", d("2018-06-01")).is_none(), "edit effective 2019-01-01");
    // Primary 11043 was deleted 2024-06-30, so only 11042 remains afterwards.
    assert_eq!(rd.addon("11045", d("2024-06-30")).unwrap().primaries, ["11042", "11043"]);
    assert_eq!(rd.addon("11045", dos).unwrap().primaries, ["11042"]);
}

#[test]
fn leie_uses_exclusion_and_reinstatement_dates() {
    let rd = official();
    assert!(rd.leie_dated());
    assert_eq!(rd.npi_excluded("1000000004", d("2020-01-14")), Some(false));
    assert_eq!(rd.npi_excluded("1000000004", d("2020-01-15")), Some(true));
    assert_eq!(rd.npi_excluded("1000000004", d("2030-01-01")), Some(true));
    assert_eq!(rd.npi_excluded("1000000012", d("2021-01-01")), Some(true));
    assert_eq!(rd.npi_excluded("1000000012", d("2022-06-01")), Some(false), "reinstated");
    assert_eq!(rd.npi_excluded("0000000000", d("2021-01-01")), Some(false));
    assert_eq!(rd.npi_excluded("1999999999", d("2021-01-01")), Some(false));
}

#[test]
fn optional_cpt_list_answers_only_when_supplied() {
    let mut rd = RefData::load_dir(&repo_root().join("rules/data")).unwrap();
    assert_eq!(rd.cpt_exists("99213"), None);
    assert_eq!(rd.add_file(&fixtures("cpt/cpt_codes_user.csv")).unwrap(), Some(TableKind::Cpt));
    assert_eq!(rd.cpt_exists("99213"), Some(true));
    assert_eq!(rd.cpt_exists("99215"), Some(false));
    assert!(rd.has_table("cpt"));
    // The same file is loaded once.
    assert_eq!(rd.add_file(&fixtures("cpt/cpt_codes_user.csv")).unwrap(), None);
    assert_eq!(rd.summary().table(TableKind::Cpt).files.len(), 1);
}

#[test]
fn parquet_tables_load() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let mut df = polars::df!(
        "hcpcs_code" => ["99213", "17311"],
        "mue_units" => [7i64, 9],
        "mue_mai" => [3i64, 1],
        "mue_rationale" => ["Clinical: Data", "CMS Policy"],
    )
    .unwrap();
    let path = dir.path().join("mue_practitioner_2025q1.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap()).finish(&mut df).unwrap();
    let rd = RefData::load_dir(dir.path()).unwrap();
    let m = rd.mue("17311", d("2025-02-01")).unwrap();
    assert_eq!((m.units, m.mai, m.rationale.as_str()), (9, 1, "CMS Policy"));
    assert_eq!(rd.summary().table(TableKind::Mue).releases, vec![Some(d("2025-01-01"))]);
}

#[test]
fn icd10_lists_without_mce_are_bounded_by_their_fiscal_year() {
    // Two fiscal-year lists, no MCE master: a code dropped in FY2026 is invalid on FY2026 dates.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("icd10cm_fy2025.csv"), "code,billable,description\nM54.5,N,Low back pain\nM54.50,Y,x\nU09.9,Y,y\n").unwrap();
    std::fs::write(dir.path().join("icd10cm_fy2026.csv"), "code,billable,description\nM54.5,N,Low back pain\nM54.50,Y,x\n").unwrap();
    let rd = RefData::load_dir(dir.path()).unwrap();
    assert!(rd.has(TableKind::Icd10) && !rd.has(TableKind::Mce));
    assert_eq!(rd.icd10_status("U09.9", d("2025-09-30")), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("U09.9", d("2025-10-01")), IcdStatus::InvalidOnDate);
    assert_eq!(rd.icd10_status("M54.50", d("2025-10-01")), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("M54.5", d("2025-10-01")), IcdStatus::NotBillable);
    assert_eq!(rd.icd10_status("A00.0", d("2025-10-01")), IcdStatus::Unknown);
    // Outside every loaded year the nearest list answers.
    assert_eq!(rd.icd10_status("U09.9", d("2020-01-01")), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("U09.9", d("2030-01-01")), IcdStatus::InvalidOnDate);
    assert_eq!(rd.icd10_description("M54.5"), Some("Low back pain"));
    assert!(rd.mce_flags("M54.50", d("2025-10-01")).is_empty());
}

#[test]
fn malformed_rows_fail_loudly_with_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ptp_bad.csv");
    std::fs::write(&path, "column_1,column_2,deletion_date,modifier_indicator,rationale\n80053,80048,9999-12-31,7,x\n").unwrap();
    let err = format!("{:#}", RefData::load_dir(dir.path()).unwrap_err());
    assert!(err.contains("ptp_bad.csv") && err.contains("modifier indicator"), "{err}");
    assert!(RefData::load_dir(Path::new("/nonexistent/refdata")).is_err());
}

#[test]
fn empty_refdata_answers_not_loaded() {
    let rd = RefData::empty();
    let dos = d("2024-08-01");
    assert!(TableKind::ALL.iter().all(|k| !rd.has(*k)));
    assert_eq!(rd.icd10_status("I10", dos), IcdStatus::Unloaded);
    assert!(rd.ptp("80053", "80048", dos).is_none());
    assert!(rd.ptp_hits(&["80053", "80048"], dos).is_empty());
    assert_eq!(rd.hcpcs_exists("J1100"), None);
    assert_eq!(rd.pos_valid("11"), None);
    assert_eq!(rd.npi_excluded("1000000004", dos), None);
}

// ---------------------------------------------------------------- Rhai functions

fn engine(rd: RefData) -> rhai::Engine {
    let mut engine = rhai::Engine::new();
    register_functions(&mut engine, Arc::new(rd));
    engine
}

fn handmade_engine() -> &'static rhai::Engine {
    static E: OnceLock<rhai::Engine> = OnceLock::new();
    E.get_or_init(|| engine(RefData::load_dir(&repo_root().join("rules/data")).unwrap()))
}

#[test]
fn rhai_ptp_and_hits() {
    let e = handmade_engine();
    let ind: i64 = e.eval(r#"ptp("80053", "80048", "2024-08-01").indicator"#).unwrap();
    assert_eq!(ind, 0);
    let del: String = e.eval(r#"ptp("97140", "97530", "2019-06-01").deletion"#).unwrap();
    assert_eq!(del, "2019-12-31");
    let eff: String = e.eval(r#"ptp("97140", "97530", "2019-06-01").effective"#).unwrap();
    assert_eq!(eff, "");
    assert!(e.eval::<bool>(r#"ptp("97140", "97530", "2020-06-01") == ()"#).unwrap());
    let hits: String = e
        .eval(
            r#"let h = ptp_hits(["99213", "80053", 42, "80048"], "2024-08-01");
               `${h.len()}:${h[0].column1}>${h[0].column2}:${h[0].indicator}:${h[0].rationale}`"#,
        )
        .unwrap();
    assert_eq!(hits, "1:1>3:0:CPT Manual or CMS manual coding instruction");
}

#[test]
fn rhai_mue_addon_icd_mce() {
    let e = handmade_engine();
    assert_eq!(e.eval::<i64>(r#"mue("99213", "2024-08-01").units"#).unwrap(), 2);
    assert_eq!(e.eval::<i64>(r#"mue("99213", "2024-08-01").mai"#).unwrap(), 3);
    assert!(e.eval::<bool>(r#"mue("00000", "2024-08-01") == ()"#).unwrap());
    assert_eq!(e.eval::<i64>(r#"addon("17312", "2024-08-01").edit_type"#).unwrap(), 1);
    assert_eq!(e.eval::<String>(r#"addon("17312", "2024-08-01").primaries[0]"#).unwrap(), "17311");
    assert_eq!(e.eval::<i64>(r#"addon("0054T", "2024-08-01").primaries.len()"#).unwrap(), 0);
    let statuses: String = e
        .eval(
            r#"[icd10_status("S72.001A", "2024-08-15"), icd10_status("S72", "2024-08-15"),
                icd10_status("M54.50", "2020-01-01"), icd10_status("ZZZ9", "2024-08-15")].reduce(|s, v| s + v + ";", "")"#,
        )
        .unwrap();
    assert_eq!(statuses, "valid;not_billable;invalid_on_date;unknown;");
    assert_eq!(e.eval::<String>(r#"mce_flags("N80.00", "2024-08-15")[0]"#).unwrap(), "female");
    assert_eq!(e.eval::<i64>(r#"mce_flags("N80.00", "2025-01-15").len()"#).unwrap(), 0);
    assert_eq!(e.eval::<i64>(r#"mce_age_range("maternity", "2024-01-01")[1]"#).unwrap(), 64);
    assert!(e.eval::<bool>(r#"mce_age_range("nobody", "2024-01-01") == ()"#).unwrap());
    assert_eq!(e.eval::<String>(r#"icd10_description("I10")"#).unwrap(), "Essential (primary) hypertension");
}

#[test]
fn rhai_code_sets_and_tables() {
    let e = handmade_engine();
    assert!(e.eval::<bool>(r#"hcpcs_exists("J1100")"#).unwrap());
    assert!(!e.eval::<bool>(r#"hcpcs_exists("J9999")"#).unwrap());
    assert!(e.eval::<bool>(r#"cpt_exists("99213") == ()"#).unwrap(), "no CPT list loaded");
    assert!(e.eval::<bool>(r#"pos_valid("11") && !pos_valid("28")"#).unwrap());
    assert!(e.eval::<bool>(r#"modifier_valid("25") && !modifier_valid("ZZ")"#).unwrap());
    assert!(e.eval::<bool>(r#"revenue_code_valid("0450")"#).unwrap());
    assert!(e.eval::<bool>(r#"has_table("ptp") && has_table("icd10") && has_table("mce")"#).unwrap());
    assert!(e.eval::<bool>(r#"has_table("leie") && !has_table("cpt")"#).unwrap());
    assert!(!e.eval::<bool>(r#"npi_excluded("1000000004", "2024-01-01")"#).unwrap());
    // A malformed date is a script error, not a silent miss.
    let err = e.eval::<rhai::Dynamic>(r#"mue("99213", "08/01/2024")"#).unwrap_err();
    assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
}

#[test]
fn rhai_on_official_layouts_and_empty_tables() {
    let e = engine(RefData::load_dir(&fixtures("official")).unwrap());
    assert!(e.eval::<bool>(r#"npi_excluded("1000000004", "2021-01-01")"#).unwrap());
    assert!(!e.eval::<bool>(r#"npi_excluded("1000000004", "2019-01-01")"#).unwrap());
    assert_eq!(e.eval::<String>(r#"ptp("80053", "80048", "2024-08-01").effective"#).unwrap(), "1996-01-01");
    assert_eq!(e.eval::<i64>(r#"mue("99213", "2024-10-01").units"#).unwrap(), 3);
    assert_eq!(e.eval::<String>(r#"icd10_status("I10", "2024-10-01")"#).unwrap(), "unloaded");
    assert!(e.eval::<bool>(r#"hcpcs_exists("J1100") == ()"#).unwrap());
}

// ---------------------------------------------------------------- real tables (../shared)

fn real() -> &'static RefData {
    static RD: OnceLock<RefData> = OnceLock::new();
    RD.get_or_init(|| RefData::load_dir(&shared_data("")).expect("../shared/data loads"))
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_ncci_facts() {
    assert!(shared_data("ncci/ptp_practitioner_2024q3.csv.gz").is_file());
    let rd = real();
    let dos = d("2024-08-01");
    let m = rd.mue("99213", dos).unwrap();
    assert_eq!((m.units, m.mai), (2, 3));
    assert_eq!(rd.mue("17311", dos).unwrap().units, 4);
    let a = rd.addon("17312", dos).unwrap();
    assert_eq!(a.edit_type, 1);
    assert!(a.primaries.contains(&"17311".to_string()));
    assert!(rd.addon("0054T", dos).unwrap().primaries.is_empty());
    assert_eq!(rd.ptp("80053", "80048", dos).unwrap().modifier_indicator, 0);
    assert_eq!(rd.ptp("11042", "97597", dos).unwrap().modifier_indicator, 1);
    // 97140/97530 (indicator 1) was deleted 2019-12-31.
    assert_eq!(rd.ptp("97140", "97530", d("2019-06-01")).unwrap().modifier_indicator, 1);
    assert!(rd.ptp("97140", "97530", d("2020-01-01")).is_none());
    assert!(rd.ptp("97140", "97530", dos).is_none());
    let hits = rd.ptp_hits(&["99213", "11042", "97597"], dos);
    let pairs: Vec<(usize, usize)> = hits.iter().map(|h| (h.column1, h.column2)).collect();
    assert!(pairs.contains(&(1, 0)) && pairs.contains(&(1, 2)), "{pairs:?}");
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_ptp_counts_match_the_readme() {
    let rd = real();
    let s = rd.summary();
    assert_eq!(s.table(TableKind::Ptp).rows, 2_546_017);
    assert_eq!(rd.ptp_pairs(d("2024-07-01")), 2_238_466);
    assert_eq!(rd.ptp_active_pairs(d("2024-07-01")), 1_669_820);
    assert_eq!(s.table(TableKind::Mue).rows, 14_677);
    assert_eq!(s.table(TableKind::Aoc).rows, 7_465);
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_icd10_and_mce() {
    let rd = real();
    assert_eq!(rd.icd10_status("S72.001A", d("2024-08-15")), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("S72", d("2024-08-15")), IcdStatus::NotBillable);
    assert_eq!(rd.icd10_status("XYZ.123", d("2024-08-15")), IcdStatus::Unknown);
    assert_eq!(rd.icd10_status("M54.50", d("2021-06-01")), IcdStatus::InvalidOnDate);
    assert_eq!(rd.mce_flags("N80.00", d("2024-08-15")), vec!["female"]);
    assert!(rd.mce_flags("N80.00", d("2025-01-15")).is_empty());
    assert!(rd.mce_flags("A33", d("2024-08-15")).contains(&"newborn"));
    assert_eq!(rd.mce_age_range("maternity", d("2019-01-01")), Some(AgeRange { min: 12, max: 55 }));
    let s = rd.summary();
    // The CSV (98,147 codes) and the tabular XML agree on every code both have; the XML also has
    // 39 categories the CSV leaves out (B20, Z68, ...).
    assert_eq!(s.table(TableKind::Icd10).entries, 98_186);
    assert_eq!(s.table(TableKind::Mce).rows, 84_932);
    // The PCS master and the older undated MCE edit list are recognised and passed over.
    let ignored: Vec<String> = s.ignored.iter().map(|(p, _)| p.display().to_string()).collect();
    assert!(ignored.iter().any(|p| p.ends_with("mce_v43.1_icd10_pcs_master.csv.gz")), "{ignored:?}");
    assert!(ignored.iter().any(|p| p.ends_with("mce_v41.1_dx_edits.csv")), "{ignored:?}");
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_code_sets_and_leie() {
    let rd = real();
    assert_eq!(rd.hcpcs_exists("J1100"), Some(true));
    assert_eq!(rd.hcpcs_exists("99213"), Some(false));
    assert_eq!(rd.cpt_exists("99213"), None);
    assert_eq!(rd.pos_valid("11"), Some(true));
    assert_eq!(rd.pos_valid("28"), Some(false), "unassigned in the CMS list");
    assert_eq!(rd.modifier_valid("XU"), Some(true));
    assert_eq!(rd.modifier_valid("A1"), Some(true));
    assert_eq!(rd.revenue_code_valid("0450"), Some(true));
    // The December 2025 list has no dates: a listed NPI is excluded on any date.
    assert!(!rd.leie_dated());
    assert_eq!(rd.npi_excluded("1003005315", d("2024-08-01")), Some(true));
    assert_eq!(rd.npi_excluded("1003005316", d("2024-08-01")), Some(false));
    assert_eq!(rd.summary().table(TableKind::Leie).entries, 8_172);
}

// ---------------------------------------------------------------- official downloads as published

fn cms(rel: &str) -> PathBuf {
    fixtures("cms").join(rel)
}

/// A zip of `(name, bytes)` members, deflated as CMS's are.
fn write_zip(path: &Path, members: &[(&str, Vec<u8>)]) {
    let mut out = Vec::new();
    let mut archive = rawzip::ZipArchiveWriter::new(&mut out);
    for (name, data) in members {
        let (mut entry, config) = archive.new_file(name).compression_method(rawzip::CompressionMethod::DEFLATE).start().unwrap();
        let encoder = flate2::write::DeflateEncoder::new(&mut entry, flate2::Compression::default());
        let mut writer = config.wrap(encoder);
        std::io::copy(&mut &data[..], &mut writer).unwrap();
        let (encoder, descriptor) = writer.finish().unwrap();
        encoder.finish().unwrap();
        entry.finish(descriptor).unwrap();
    }
    archive.finish().unwrap();
    std::fs::write(path, out).unwrap();
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[test]
fn release_zips_are_read_in_place_and_every_member_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let ncci = fixtures("official/ncci");
    write_zip(
        &dir.path().join("ccipra-v302r0-f1.zip"),
        &[
            ("ccipra-v302r0-f1.txt", read(&ncci.join("ccipra-v302r0-f1.txt"))),
            ("ccipra-v302r0-f1.xlsx", b"PK not really a spreadsheet".to_vec()),
            ("README.txt", b"Practitioner PTP edits, quarter 3\n".to_vec()),
        ],
    );
    write_zip(
        &dir.path().join("MCR_MUE_PractitionerServices_Eff_07-01-2024.zip"),
        &[("MCR_MUE_PractitionerServices_Eff_07-01-2024.csv", read(&ncci.join("MCR_MUE_PractitionerServices_Eff_07-01-2024.csv")))],
    );
    write_zip(&dir.path().join("AOC_V2025Q1.zip"), &[("AOC_V2025Q1-MCR.txt", read(&cms("AOC_V2025Q1-MCR.txt")))]);
    let rd = RefData::load_dir(dir.path()).unwrap();
    let s = rd.summary();
    let ptp = s.table(TableKind::Ptp);
    assert_eq!((ptp.rows, ptp.files.len()), (6, 1), "{s}");
    let f = &ptp.files[0];
    assert!(f.path.ends_with("ccipra-v302r0-f1.zip/ccipra-v302r0-f1.txt"), "{s}");
    assert!(f.archive.as_ref().unwrap().ends_with("ccipra-v302r0-f1.zip"));
    assert_eq!(f.release, Some(d("2024-07-01")), "the release comes from the member's name");
    assert_eq!(rd.ptp("80053", "80048", d("2024-08-01")).unwrap().modifier_indicator, 0);
    assert_eq!(rd.mue("99213", d("2024-08-01")).unwrap().units, 2);
    assert_eq!(rd.addon("17312", d("2024-08-01")).unwrap().primaries, ["17311"]);
    // The other members are listed with the reason they were passed over.
    let why = |leaf: &str| s.ignored.iter().find(|(p, _)| p.ends_with(leaf)).map(|(_, w)| w.clone());
    assert!(why("README.txt").unwrap().contains("documentation"), "{s}");
    assert!(why("ccipra-v302r0-f1.xlsx").unwrap().contains("spreadsheet"), "{s}");
    assert_eq!(s.ignored.len(), 2, "{s}");
    assert_eq!(s.files_seen(), 5);
}

#[test]
fn a_damaged_zip_member_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("ccipra-v302r0-f1.zip");
    write_zip(&zip, &[("ccipra-v302r0-f1.txt", read(&fixtures("official/ncci/ccipra-v302r0-f1.txt")))]);
    // Flip a byte inside the compressed data: the CRC no longer matches.
    let mut bytes = read(&zip);
    bytes[60] ^= 0x55;
    std::fs::write(&zip, &bytes).unwrap();
    let err = format!("{:#}", RefData::load_dir(dir.path()).unwrap_err());
    assert!(err.contains("ccipra-v302r0-f1"), "{err}");
}

#[test]
fn hcpcs_fixed_width_file_loads_as_published() {
    let mut rd = RefData::empty();
    assert_eq!(rd.add_file(&cms("HCPC2025_JAN_ANWEB.txt")).unwrap(), Some(TableKind::Hcpcs));
    for code in ["A4550", "G2211", "J1100", "Q0091", "G0001"] {
        assert_eq!(rd.hcpcs_exists(code), Some(true), "{code}");
    }
    // Modifier records are not codes, and continuation lines are not rows.
    assert_eq!(rd.hcpcs_exists("LT"), Some(false));
    assert_eq!(rd.hcpcs_exists("J9999"), Some(false));
    let f = &rd.summary().table(TableKind::Hcpcs).files[0].clone();
    assert_eq!((f.rows, f.skipped, f.layout), (5, 2, "official fixed-width"));
    assert!(f.official);
}

#[test]
fn a_malformed_hcpcs_record_stops_the_load_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from_utf8(read(&cms("HCPC2025_JAN_ANWEB.txt"))).unwrap();
    text.push_str("this line is not a record\r\n");
    std::fs::write(dir.path().join("HCPC2025_JAN_ANWEB.txt"), text).unwrap();
    let err = format!("{:#}", RefData::load_dir(dir.path()).unwrap_err());
    assert!(err.contains("HCPC2025_JAN_ANWEB.txt") && err.contains("line 15"), "{err}");
}

#[test]
fn icd10_order_files_of_several_years_answer_by_date_of_service() {
    let mut rd = RefData::empty();
    rd.add_file(&cms("icd10cm_order_2021.txt")).unwrap();
    rd.add_file(&cms("icd10cm_order_2022.txt")).unwrap();
    let s = rd.summary();
    let t = s.table(TableKind::Icd10);
    // The order file's name gives the fiscal year: FY2022 starts on 2021-10-01.
    assert_eq!(t.releases, vec![Some(d("2020-10-01")), Some(d("2021-10-01"))]);
    assert_eq!(t.files[0].version.as_deref(), Some("FY2021"));
    assert_eq!(t.files[0].layout, "official fixed-width order file");
    assert_eq!(rd.icd10_status("M54.5", d("2021-09-30")), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("M54.5", d("2021-10-01")), IcdStatus::NotBillable);
    assert_eq!(rd.icd10_status("M54.50", d("2021-10-01")), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("M54.50", d("2021-06-01")), IcdStatus::InvalidOnDate);
    assert_eq!(rd.icd10_status("M54", d("2021-06-01")), IcdStatus::NotBillable);
    assert_eq!(rd.icd10_status("I10", d("2022-03-01")), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("Z99.99", d("2022-03-01")), IcdStatus::Unknown);
    assert_eq!(rd.icd10_description("M54.59"), Some("Other low back pain"));
}

#[test]
fn icd10_tabular_xml_expands_seventh_characters_and_dates_itself() {
    // The fiscal year comes from <version>, not the name.
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("tabular.xml.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &read(&cms("icd10cm_tabular_2026.xml"))).unwrap();
    enc.finish().unwrap();
    let rd = RefData::load_dir(dir.path()).unwrap();
    let f = rd.summary().table(TableKind::Icd10).files[0].clone();
    assert_eq!((f.release, f.version.as_deref(), f.layout), (Some(d("2025-10-01")), Some("FY2026"), "official tabular XML"));
    let dos = d("2026-02-01");
    let st = |c: &str| rd.icd10_status(c, dos);
    assert_eq!(st("A00"), IcdStatus::NotBillable);
    assert_eq!(st("A00.0"), IcdStatus::Valid);
    assert_eq!(st("B20"), IcdStatus::Valid);
    // A 7th character is required below S72: the six-character code is a header.
    assert_eq!(st("S72.001"), IcdStatus::NotBillable);
    assert_eq!(st("S72.001A"), IcdStatus::Valid);
    assert_eq!(st("S72.001B"), IcdStatus::Valid);
    // Padded with X to six characters; the nearest definition (S72.8's) wins.
    assert_eq!(st("S72.8XXA"), IcdStatus::Valid);
    assert_eq!(st("S72.8XXB"), IcdStatus::Unknown);
    // S06 codes for death before regaining consciousness take only A.
    assert_eq!(st("S06.1X7A"), IcdStatus::Valid);
    assert_eq!(st("S06.1X7D"), IcdStatus::Unknown);
    assert_eq!(st("S06.0X0D"), IcdStatus::Valid);
    assert_eq!(st("S73"), IcdStatus::Valid);
    assert_eq!(rd.icd10_description("S72.001A"), Some("Fracture of unspecified part of neck of right femur, initial encounter for closed fracture"));
    assert_eq!(rd.icd10_description("S73"), Some("Dislocation & sprain of joint and ligaments of hip"));
    // Outside FY2026 the list bounds validity only when an MCE master is loaded; alone, the
    // nearest list answers.
    assert_eq!(rd.icd10_status("B20", d("2024-01-01")), IcdStatus::Valid);
}

#[test]
fn aoc_fixed_width_text_loads_with_columns_from_its_header() {
    let mut rd = RefData::empty();
    assert_eq!(rd.add_file(&cms("AOC_V2025Q1-MCR.txt")).unwrap(), Some(TableKind::Aoc));
    let f = rd.summary().table(TableKind::Aoc).files[0].clone();
    assert_eq!((f.rows, f.layout, f.release), (6, "official fixed-width", Some(d("2025-01-01"))));
    let dos = d("2024-08-01");
    assert_eq!(rd.addon("17312", dos).unwrap().primaries, ["17311"]);
    let c = rd.addon("0054T", dos).unwrap();
    assert_eq!((c.edit_type, c.primaries.len()), (2, 0));
    assert_eq!(rd.addon("20701", dos).unwrap().edit_type, 3);
    assert!(rd.addon("20701", d("2018-06-01")).is_none());
    assert_eq!(rd.addon("11045", d("2024-06-30")).unwrap().primaries, ["11042", "11043"]);
    assert_eq!(rd.addon("11045", dos).unwrap().primaries, ["11042"]);
    // The edit's own deletion date ends it.
    assert!(rd.addon("22552", d("2024-12-31")).is_some());
    assert!(rd.addon("22552", d("2025-01-01")).is_none());
}

// ---------------------------------------------------------------- fee schedule

#[test]
fn pfs_amounts_match_the_hand_computed_national_amounts() {
    let rd = handmade();
    let cf = 32.3465; // CY2025 conversion factor
    let dos = d("2025-11-03");
    let nf = |code: &str, m: &str| rd.pfs_amount(code, m, dos, PfsSetting::NonFacility, cf);
    let fac = |code: &str, m: &str| rd.pfs_amount(code, m, dos, PfsSetting::Facility, cf);
    // 99213: work 1.30, non-facility PE 1.35, facility PE 0.57, MP 0.10.
    // (1.30 + 1.35 + 0.10) x 32.3465 = 2.75 x 32.3465 = 88.952875 -> 88.95
    assert_eq!(nf("99213", ""), Some(88.95));
    // (1.30 + 0.57 + 0.10) x 32.3465 = 1.97 x 32.3465 = 63.722605 -> 63.72
    assert_eq!(fac("99213", ""), Some(63.72));
    // A modifier without its own row (25) prices as the global service.
    assert_eq!(nf("99213", "25"), Some(88.95));
    // 71046-26: (0.22 + 0.08 + 0.01) x 32.3465 = 0.31 x 32.3465 = 10.027415 -> 10.03
    assert_eq!(nf("71046", "26"), Some(10.03));
    // 71046-TC: (0.00 + 0.69 + 0.01) x 32.3465 = 22.64255 -> 22.64; facility is NA.
    assert_eq!(nf("71046", "TC"), Some(22.64));
    assert_eq!(fac("71046", "TC"), None);
    assert_eq!(fac("71046", ""), None, "NA in the facility setting");
    // 17311: (6.20 + 13.60 + 0.64) x 32.3465 = 20.44 x 32.3465 = 661.16246 -> 661.16
    assert_eq!(nf("17311", ""), Some(661.16));
    // (6.20 + 3.76 + 0.64) x 32.3465 = 10.60 x 32.3465 = 342.8729 -> 342.87
    assert_eq!(fac("17311", ""), Some(342.87));
    // G2211: (0.33 + 0.13 + 0.02) x 32.3465 = 0.48 x 32.3465 = 15.52632 -> 15.53
    assert_eq!(nf("G2211", ""), Some(15.53));
    // The caller's factor is used, not the file's: 2.75 x 33.4009 = 91.852475 -> 91.85
    assert_eq!(rd.pfs_amount("99213", "", dos, PfsSetting::NonFacility, 33.4009), Some(91.85));
    // Statuses without national RVU payment: X (36415, statutory exclusion), E (J1100).
    assert_eq!(nf("36415", ""), None);
    assert_eq!(nf("J1100", ""), None);
    let e = rd.pfs("36415", "", dos).unwrap();
    assert!(e.status == 'X' && !e.payable());
    // The entry carries the RVUs and indicators.
    let e = rd.pfs("17311", "", dos).unwrap();
    assert_eq!((e.status, e.work_rvu(), e.pe_rvu(PfsSetting::Facility), e.mp_rvu()), ('A', 6.2, 3.76, 0.64));
    assert_eq!((e.global_days.as_str(), e.multiple_procedure, e.bilateral), ("000", '2', '0'));
    // The October 2025 file prices 2025 dates only.
    assert!(rd.pfs("99213", "", d("2025-01-15")).is_some());
    assert!(rd.pfs("99213", "", d("2024-12-31")).is_none());
    assert!(rd.pfs("99213", "", d("2026-01-01")).is_none());
    assert!(rd.pfs("99999", "", dos).is_none());
    assert_eq!(rd.summary().table(TableKind::Pfs).releases, vec![Some(d("2025-10-01"))]);
}

#[test]
fn pfs_official_csv_with_descriptors_and_header_rows_loads() {
    let dir = tempfile::tempdir().unwrap();
    write_zip(&dir.path().join("RVU25D.zip"), &[("PPRRVU25_OCT.csv", read(&cms("PPRRVU25_OCT.csv")))]);
    let rd = RefData::load_dir(dir.path()).unwrap();
    let f = rd.summary().table(TableKind::Pfs).files[0].clone();
    assert_eq!((f.rows, f.release, f.version.as_deref()), (7, Some(d("2025-10-01")), Some("2025 October")));
    let dos = d("2025-10-15");
    assert_eq!(rd.pfs_amount("99213", "", dos, PfsSetting::NonFacility, 32.3465), Some(88.95));
    assert_eq!(rd.pfs_amount("71046", "26", dos, PfsSetting::Facility, 32.3465), Some(10.03));
    // Status B (bundled) has RVUs but no payment.
    assert!(!rd.pfs("99211", "", dos).unwrap().payable());
    assert_eq!(rd.pfs_amount("99211", "", dos, PfsSetting::NonFacility, 32.3465), None);
}

#[test]
fn pfs_rows_whose_totals_do_not_add_up_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(read(&cms("PPRRVU25_OCT.csv"))).unwrap().replace("2.75,1.97", "2.76,1.97");
    std::fs::write(dir.path().join("PPRRVU25_OCT.csv"), text).unwrap();
    let err = format!("{:#}", RefData::load_dir(dir.path()).unwrap_err());
    assert!(err.contains("99213") && err.contains("do not add up"), "{err}");
}

#[test]
fn rhai_pfs_functions() {
    let e = handmade_engine();
    assert_eq!(e.eval::<f64>(r#"pfs_amount("99213", "", "2025-11-03", "non_facility", 32.3465)"#).unwrap(), 88.95);
    assert_eq!(e.eval::<f64>(r#"pfs_amount("99213", "", "2025-11-03", "facility", 32.3465)"#).unwrap(), 63.72);
    assert_eq!(e.eval::<f64>(r#"pfs_amount("99213", "", "2025-11-03", "facility", 32)"#).unwrap(), 63.04);
    assert!(e.eval::<bool>(r#"pfs_amount("36415", "", "2025-11-03", "facility", 32.3465) == ()"#).unwrap());
    assert_eq!(e.eval::<String>(r#"pfs("J1100", "", "2025-11-03").status"#).unwrap(), "E");
    assert_eq!(e.eval::<f64>(r#"pfs("71046", "26", "2025-11-03").work_rvu"#).unwrap(), 0.22);
    assert!(e.eval::<bool>(r#"pfs("71046", "", "2025-11-03").facility_na"#).unwrap());
    assert!(e.eval::<bool>(r#"has_table("pfs")"#).unwrap());
    let err = e.eval::<rhai::Dynamic>(r#"pfs_amount("99213", "", "2025-11-03", "office", 32.3)"#).unwrap_err();
    assert!(err.to_string().contains("non_facility"), "{err}");
}

// ---------------------------------------------------------------- cache

fn cached(dir: &Path, cache: &Path) -> RefData {
    RefData::load_dir_with(dir, &LoadOptions { only: None, cache: CacheSetting::Dir(cache.to_path_buf()) }).unwrap()
}

fn states(rd: &RefData) -> Vec<CacheState> {
    rd.files().iter().map(|f| f.cache).collect()
}

/// Lookups that cover every table kind in the official fixtures.
fn official_answers(rd: &RefData) -> Vec<String> {
    vec![
        format!("{:?}", rd.ptp("80053", "80048", d("2024-08-01"))),
        format!("{:?}", rd.ptp("11042", "97597", d("2024-11-01"))),
        format!("{:?}", rd.mue("99213", d("2024-10-01"))),
        format!("{:?}", rd.addon("11045", d("2024-08-01"))),
        format!("{:?}", rd.npi_excluded("1000000012", d("2022-06-01"))),
        format!("{:?}", rd.hcpcs_exists("G2211")),
        format!("{:?}", rd.icd10_status("M54.50", d("2021-10-01"))),
        format!("{:?}", rd.icd10_description("S72.001A")),
        format!("{:?}", rd.pfs_amount("71046", "26", d("2025-10-15"), PfsSetting::NonFacility, 32.3465)),
        format!("{:?}", rd.summary().tables.iter().map(|t| (t.rows, t.entries)).collect::<Vec<_>>()),
    ]
}

fn official_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for src in [fixtures("official"), fixtures("cms")] {
        for f in walk_files(&src) {
            let to = dir.path().join(f.strip_prefix(&src).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&f, &to).unwrap();
        }
    }
    dir
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn the_cache_is_built_once_then_read_and_answers_the_same() {
    let data = official_copy();
    let cache = tempfile::tempdir().unwrap();
    let uncached = RefData::load_dir(data.path()).unwrap();
    let first = cached(data.path(), cache.path());
    assert!(states(&first).iter().all(|s| *s == CacheState::Built), "{:?}", states(&first));
    let second = cached(data.path(), cache.path());
    assert!(states(&second).iter().all(|s| *s == CacheState::Hit), "{:?}", states(&second));
    assert_eq!(official_answers(&second), official_answers(&uncached));
    assert_eq!(official_answers(&first), official_answers(&uncached));
    assert_eq!(second.summary().to_string().matches("cache hit").count(), second.files().len());
    // One entry per loaded file, and clearing removes them all.
    let entries = std::fs::read_dir(cache.path()).unwrap().count();
    assert_eq!(entries, second.files().len());
    assert_eq!(claimlint::refdata::cache::Cache::clear(cache.path()).unwrap(), entries);
    let third = cached(data.path(), cache.path());
    assert!(states(&third).iter().all(|s| *s == CacheState::Built));
}

#[test]
fn a_changed_source_file_is_parsed_again() {
    let data = official_copy();
    let cache = tempfile::tempdir().unwrap();
    cached(data.path(), cache.path());
    // Same size, new content: the key's content hash tells them apart even at the same mtime.
    let mue = data.path().join("ncci/MCR_MUE_PractitionerServices_Eff_10-01-2024.csv");
    let meta = std::fs::metadata(&mue).unwrap();
    let text = String::from_utf8(read(&mue)).unwrap().replace("\"99213\",\"3\"", "\"99213\",\"5\"");
    std::fs::write(&mue, text).unwrap();
    std::fs::File::options().write(true).open(&mue).unwrap().set_modified(meta.modified().unwrap()).unwrap();
    assert_eq!(std::fs::metadata(&mue).unwrap().len(), meta.len());
    let rd = cached(data.path(), cache.path());
    let state = |leaf: &str| rd.files().iter().find(|f| f.path.ends_with(leaf)).unwrap().cache;
    assert_eq!(state("MCR_MUE_PractitionerServices_Eff_10-01-2024.csv"), CacheState::Stale);
    assert_eq!(state("MCR_MUE_PractitionerServices_Eff_07-01-2024.csv"), CacheState::Hit);
    assert_eq!(rd.mue("99213", d("2024-10-01")).unwrap().units, 5);
}

#[test]
fn truncated_corrupted_or_foreign_cache_entries_are_rebuilt_and_answers_stay_right() {
    let data = official_copy();
    let cache = tempfile::tempdir().unwrap();
    let truth = official_answers(&RefData::load_dir(data.path()).unwrap());
    cached(data.path(), cache.path());
    let mut entries = walk_files(cache.path());
    assert!(entries.len() >= 10, "{entries:?}");
    // Truncate one, write garbage over another, flip a payload byte in a third, empty a fourth,
    // and swap two entries of different tables.
    let bytes = read(&entries[0]);
    std::fs::write(&entries[0], &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(&entries[1], b"not a cache file at all").unwrap();
    let mut b = read(&entries[2]);
    let last = b.len() - 1;
    b[last] ^= 0xff;
    std::fs::write(&entries[2], b).unwrap();
    std::fs::write(&entries[3], b"").unwrap();
    let (a, z) = (entries.remove(4), entries.pop().unwrap());
    let (ba, bz) = (read(&a), read(&z));
    std::fs::write(&a, bz).unwrap();
    std::fs::write(&z, ba).unwrap();
    let rd = cached(data.path(), cache.path());
    let s = states(&rd);
    assert_eq!(s.iter().filter(|s| **s == CacheState::Rebuilt).count(), 4, "{s:?}");
    assert_eq!(s.iter().filter(|s| **s == CacheState::Stale).count(), 2, "swapped entries are another file's: {s:?}");
    assert_eq!(official_answers(&rd), truth);
    // Rebuilt entries are good again.
    let again = cached(data.path(), cache.path());
    assert!(states(&again).iter().all(|s| *s == CacheState::Hit), "{:?}", states(&again));
    assert_eq!(official_answers(&again), truth);
}

#[test]
fn an_unwritable_cache_folder_only_costs_the_cache() {
    let data = official_copy();
    let file = tempfile::NamedTempFile::new().unwrap();
    // A file where the folder should be: entries cannot be written, the load still succeeds.
    let rd = cached(data.path(), file.path());
    assert_eq!(official_answers(&rd), official_answers(&RefData::load_dir(data.path()).unwrap()));
}

// ---------------------------------------------------------------- selective loading

#[test]
fn only_the_tables_asked_for_are_read() {
    let only = [TableKind::Mue, TableKind::Hcpcs].into_iter().collect();
    let rd = RefData::load_dir_with(&fixtures("official"), &LoadOptions { only: Some(only), cache: CacheSetting::Off }).unwrap();
    assert!(rd.has(TableKind::Mue) && !rd.has(TableKind::Ptp) && !rd.has(TableKind::Aoc) && !rd.has(TableKind::Leie));
    let s = rd.summary();
    let kinds: Vec<TableKind> = s.not_needed.iter().map(|(_, k)| *k).collect();
    assert_eq!(kinds.iter().filter(|k| **k == TableKind::Ptp).count(), 3, "{s}");
    assert!(kinds.contains(&TableKind::Aoc) && kinds.contains(&TableKind::Leie), "{s}");
    assert!(s.to_string().contains("not needed"), "{s}");
    // The hospital MUE table is still passed over with its reason, as in a full load.
    assert_eq!(s.ignored.len(), 1, "{s}");
}

#[test]
fn a_named_folder_with_no_table_is_an_error_that_lists_what_it_saw() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "notes").unwrap();
    std::fs::write(dir.path().join("rvu25d.pdf"), "%PDF").unwrap();
    std::fs::write(dir.path().join("claims.csv"), "claim_id,line\nC1,1\n").unwrap();
    let err = format!("{:#}", load_for(&repo_root().join("rules"), Some(dir.path()), &LoadOptions::uncached()).unwrap_err());
    assert!(err.contains("no reference table recognised"), "{err}");
    for (file, why) in [("README.md", "documentation"), ("rvu25d.pdf", "documentation"), ("claims.csv", "no recognised")] {
        assert!(err.contains(file) && err.contains(why), "{file}: {err}");
    }
    // The default rules/data still loads, with claimlint's own table.
    let rd = load_for(&repo_root().join("rules"), None, &LoadOptions::uncached()).unwrap();
    assert!(rd.has(TableKind::ServiceMinutes) && rd.has(TableKind::Ptp));
}

#[test]
fn a_cms_folder_still_gets_claimlints_own_tables() {
    let rd = load_for(&repo_root().join("rules"), Some(&fixtures("official")), &LoadOptions::uncached()).unwrap();
    assert!(rd.has(TableKind::ServiceMinutes));
    assert!(!rd.has(TableKind::Icd10), "nothing else from rules/data");
}

// ---------------------------------------------------------------- generated docs

/// Check the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` in a doc against the
/// generated text; with `CLAIMLINT_BLESS=1` the doc is rewritten instead.
pub(crate) fn check_generated(doc: &str, name: &str, generated: &str) {
    let path = repo_root().join(doc);
    let text = std::fs::read_to_string(&path).unwrap();
    let (start, end) = (format!("<!-- {name}:start -->\n"), format!("<!-- {name}:end -->"));
    let from = text.find(&start).unwrap_or_else(|| panic!("{doc} has no {start:?} marker")) + start.len();
    let to = text[from..].find(&end).unwrap_or_else(|| panic!("{doc} has no {end:?} marker")) + from;
    if std::env::var_os("CLAIMLINT_BLESS").is_some() {
        std::fs::write(&path, format!("{}{generated}{}", &text[..from], &text[to..])).unwrap();
        return;
    }
    assert_eq!(&text[from..to], generated, "{doc} is stale: regenerate it with CLAIMLINT_BLESS=1 cargo test docs_");
}

#[test]
fn docs_rules_md_lists_the_reference_functions_from_the_registry() {
    check_generated("docs/rules.md", "refdata-functions", &claimlint::refdata::functions_markdown());
}

#[test]
fn docs_refdata_md_lists_every_table_from_the_registry() {
    check_generated("docs/refdata.md", "refdata-tables", &claimlint::refdata::tables_markdown());
}

#[test]
fn every_documented_function_is_registered_and_every_registered_one_documented() {
    let mut engine = rhai::Engine::new_raw();
    register_functions(&mut engine, Arc::new(RefData::empty()));
    let mut registered: Vec<String> = engine.collect_fn_metadata(None, |info| Some(info.metadata.name.to_string()), false);
    registered.sort();
    registered.dedup();
    let mut documented: Vec<String> = claimlint::refdata::TABLES
        .iter()
        .flat_map(|t| t.functions)
        .chain(claimlint::refdata::registry::GENERAL_FUNCTIONS)
        .map(|f| f.call.split('(').next().unwrap().to_string())
        .collect();
    documented.sort();
    documented.dedup();
    assert_eq!(registered, documented);
    // Every table has a name has_table answers to, and the kinds follow the registry.
    for (i, t) in claimlint::refdata::TABLES.iter().enumerate() {
        assert_eq!(TableKind::ALL[i], t.kind);
        assert_eq!(TableKind::from_name(t.name), Some(t.kind));
    }
}

// ---------------------------------------------------------------- official downloads = normalised

/// Rows of a small CSV (quotes allowed), header first.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (mut cells, mut cur, mut quoted) = (Vec::new(), String::new(), false);
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => cells.push(std::mem::take(&mut cur)),
                    _ => cur.push(c),
                }
            }
            cells.push(cur);
            cells
        })
        .collect()
}

fn ymd(iso: &str) -> String {
    if iso.starts_with("9999") {
        "*".into()
    } else {
        iso.replace('-', "")
    }
}

/// Two folders holding the same edits and codes for the sample: the official CMS layouts (zips,
/// fixed-width, preambles) written from rules/data, and rules/data's normalised files under names
/// without `subset` (so messages match). Tables with no official download (MCE, POS, modifiers,
/// revenue) are in neither.
fn official_and_normalised(hcpcs: Option<(Vec<u8>, &str)>) -> (tempfile::TempDir, tempfile::TempDir) {
    let data = repo_root().join("rules/data");
    let (off, norm) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let o = off.path();
    let n = norm.path();
    for (from, to) in [
        ("ncci/ptp_practitioner_2024q3_subset.csv", "ptp_practitioner_2024q3.csv"),
        ("ncci/mue_practitioner_2024q3_subset.csv", "mue_practitioner_2024q3.csv"),
        ("ncci/aoc_2024q3_subset.csv", "aoc_2024q3.csv"),
        ("codes/icd10cm_fy2026_subset.csv", "icd10cm_fy2026.csv"),
        ("leie/leie_subset.csv", "leie.csv"),
    ] {
        std::fs::copy(data.join(from), n.join(to)).unwrap();
    }
    let preamble = "Hand-made test file in the layout of the CMS file (not CMS data).\r\nCPT codes and descriptions only are copyright American Medical Association. All rights reserved.\r\n\r\n";

    // PTP: the versions of a pair follow one another, so each starts the day after the last ended.
    let mut ptp = format!("{preamble}Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\tModifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale\r\n");
    let mut rows = csv_rows(&data.join("ncci/ptp_practitioner_2024q3_subset.csv"));
    rows.remove(0);
    rows.sort_by(|a, b| (&a[0], &a[1], &a[2]).cmp(&(&b[0], &b[1], &b[2])));
    for (i, r) in rows.iter().enumerate() {
        let eff = match i.checked_sub(1).map(|p| &rows[p]) {
            Some(prev) if prev[0] == r[0] && prev[1] == r[1] => (d(&prev[2]) + chrono::Days::new(1)).format("%Y%m%d").to_string(),
            _ => "19960101".into(),
        };
        ptp.push_str(&format!("{}\t{}\t\t{eff}\t{}\t{}\t{}\r\n", r[0], r[1], ymd(&r[2]), r[3], r[4]));
    }
    write_zip(&o.join("ccipra-v302r0-f1.zip"), &[("ccipra-v302r0-f1.txt", ptp.into_bytes())]);

    let mut mue = String::from("\"Hand-made test file in the layout of the CMS file (not CMS data).\"\r\n\"\"\r\n\"HCPCS/CPT Code\",\"Practitioner Services MUE Values\",\"MUE Adjudication Indicator\",\"MUE Rationale\"\r\n");
    for r in csv_rows(&data.join("ncci/mue_practitioner_2024q3_subset.csv")).iter().skip(1) {
        let mai = ["", "1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical"][r[2].parse::<usize>().unwrap()];
        mue.push_str(&format!("\"{}\",\"{}\",\"{mai}\",\"{}\"\r\n", r[0], r[1], r[3]));
    }
    write_zip(&o.join("MCR_MUE_PractitionerServices_Eff_07-01-2024.zip"), &[("MCR_MUE_PractitionerServices_Eff_07-01-2024.csv", mue.into_bytes())]);

    let cols = ["Add-on Code", "Primary Code", "AOC Edit Type", "AOC Edit Effective Date", "AOC Edit Deletion Date"];
    let line = |v: [&str; 5]| v.iter().map(|c| format!("{c:<26}")).collect::<String>().trim_end().to_string() + "\r\n";
    let mut aoc = format!("{preamble}{}", line(cols));
    for r in csv_rows(&data.join("ncci/aoc_2024q3_subset.csv")).iter().skip(1) {
        aoc.push_str(&line([&r[1], &r[0], &r[2], "19960101", "*"]));
    }
    write_zip(&o.join("AOC_V2024Q3.zip"), &[("AOC_V2024Q3-MCR.txt", aoc.into_bytes())]);

    let mut order = String::new();
    for (i, r) in csv_rows(&data.join("codes/icd10cm_fy2026_subset.csv")).iter().skip(1).enumerate() {
        let flag = if r[1] == "Y" { '1' } else { '0' };
        let short: String = r[2].chars().take(60).collect();
        order.push_str(&format!("{:05} {:<7} {flag} {short:<60} {}\r\n", i + 1, r[0].replace('.', ""), r[2]));
    }
    write_zip(&o.join("2026-code-descriptions-tabular-order.zip"), &[("icd10cm_order_2026.txt", order.into_bytes())]);

    let mut leie = String::from(
        "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\r\n",
    );
    for r in csv_rows(&data.join("leie/leie_subset.csv")).iter().skip(1) {
        let rein = if r[4].is_empty() { "00000000" } else { &r[4] };
        leie.push_str(&format!(
            "{},{},,,IND- LIC HC SERV PRO,NURSE,,{},19700101,1 TEST ST,TESTVILLE,XX,00000,1128a1,{},{rein},00000000,\r\n",
            r[1], r[2], r[0], r[3]
        ));
    }
    std::fs::write(o.join("UPDATED.csv"), leie).unwrap();

    // HCPCS: the given release zip and the codes it holds, or a fixed-width file written from
    // rules/data's subset.
    let codes: Vec<String> = match &hcpcs {
        Some((zip, name)) => {
            std::fs::write(o.join(name), zip).unwrap();
            anweb_codes(zip)
        }
        None => {
            let codes: Vec<String> = csv_rows(&data.join("codes/hcpcs_level2_subset.csv")).iter().skip(1).map(|r| r[0].clone()).collect();
            let mut txt = String::from("Hand-made test file in the layout of the CMS HCPCS file (not CMS data).\r\n\r\n");
            txt.push_str(&format!("{:>5}001007{:<80}{:<28}\r\n", "25", "Significant, separately identifiable e/m service", "Separate e/m service"));
            for c in &codes {
                txt.push_str(&format!("{c:<5}001003{:<80}{:<28}{:>173}N\r\n", "Hand-made description", "Hand-made", ""));
            }
            write_zip(
                &o.join("2024-alpha-numeric-hcpcs-file.zip"),
                &[("HCPC2024_JAN_ANWEB.txt", txt.into_bytes()), ("HCPC2024_README.txt", b"readme".to_vec())],
            );
            codes
        }
    };
    std::fs::write(n.join("hcpcs_codes.csv"), format!("code\n{}\n", codes.join("\n"))).unwrap();
    (off, norm)
}

/// The procedure codes of an alpha-numeric HCPCS zip, read with plain slicing (record id `3` in
/// column 11) as a check independent of the loader.
fn anweb_codes(zip: &[u8]) -> Vec<String> {
    let archive = rawzip::ZipArchive::from_slice(zip).unwrap();
    let mut entries = archive.entries();
    while let Some(e) = entries.next_entry().unwrap() {
        let name = e.file_path().try_normalize().unwrap().as_str().to_string();
        if !name.contains("ANWEB") || !name.ends_with(".txt") {
            continue;
        }
        let entry = archive.get_entry(e.wayfinder()).unwrap();
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut flate2::bufread::DeflateDecoder::new(entry.data()), &mut text).unwrap();
        return String::from_utf8_lossy(&text)
            .lines()
            .filter(|l| l.len() > 11 && l.as_bytes()[10] == b'3' && l[5..10].bytes().all(|b| b.is_ascii_digit()))
            .map(|l| l[..5].to_string())
            .collect();
    }
    panic!("no ANWEB text in the zip");
}

fn audit_sample(refdata: &Path) -> claimlint::audit::AuditResult {
    claimlint::audit::run_audit(&claimlint::audit::AuditOptions {
        inputs: vec![repo_root().join("samples/claims.csv")],
        rules_dir: repo_root().join("rules"),
        refdata: Some(refdata.to_path_buf()),
        strict: true,
        ..Default::default()
    })
    .expect("audit runs")
}

fn same_findings_on_official_and_normalised(hcpcs: Option<(Vec<u8>, &str)>) {
    let (off, norm) = official_and_normalised(hcpcs);
    // The official folder is all CMS layouts.
    let rd = RefData::load_dir(off.path()).unwrap();
    assert!(rd.files().iter().all(|f| f.official), "{}", rd.summary());
    for kind in [TableKind::Ptp, TableKind::Mue, TableKind::Aoc, TableKind::Icd10, TableKind::Hcpcs, TableKind::Leie] {
        assert!(rd.has(kind), "{kind}: {}", rd.summary());
    }
    let (a, b) = (audit_sample(off.path()), audit_sample(norm.path()));
    let key = |r: &claimlint::audit::AuditResult| {
        let mut v: Vec<String> =
            r.findings.iter().map(|f| format!("{} {:?} {} {} {:.2}", f.claim_id, f.line_number, f.rule_id, f.message, f.amount_at_risk)).collect();
        v.sort();
        v
    };
    assert_eq!(key(&a), key(&b));
    // The comparison covers the reference-table edits, not only the core checks.
    let rules: std::collections::BTreeSet<&str> = a.findings.iter().map(|f| f.rule_id.as_str()).collect();
    for rule in ["FED-NCCI-PTP", "FED-MUE", "FED-ADDON-PRIMARY", "FED-ICD10-NOT-BILLABLE", "FED-HCPCS-EXISTS"] {
        assert!(rules.contains(rule), "{rule} not among {rules:?}");
    }
    // And the command line works on the folder of downloads.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimlint"))
        .args(["audit", "samples/claims.csv", "--refdata"])
        .arg(off.path())
        .env("CLAIMLINT_CACHE_DIR", off.path().join(".cache"))
        .current_dir(repo_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("findings: {} error", a.totals.errors)), "{stdout}");
}

#[test]
fn official_downloads_give_the_same_findings_as_the_normalised_tables() {
    same_findings_on_official_and_normalised(None);
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn official_downloads_with_the_real_hcpcs_zip_give_the_same_findings() {
    let zip = read(&shared_data("codes/hcpcs_2020_official.zip"));
    same_findings_on_official_and_normalised(Some((zip, "hcpcs_2020_official.zip")));
}

// ---------------------------------------------------------------- real official files (../shared)

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_hcpcs_release_zip_loads_in_place() {
    let mut rd = RefData::empty();
    let zip = shared_data("codes/hcpcs_2020_official.zip");
    assert_eq!(rd.add_file(&zip).unwrap(), Some(TableKind::Hcpcs));
    let s = rd.summary();
    let f = &s.table(TableKind::Hcpcs).files[0];
    assert!(f.path.ends_with("hcpcs_2020_official.zip/HCPC2020_ANWEB_w_disclaimer.txt"), "{s}");
    // 6,710 procedure records and 369 modifier records (counted by slicing the file as well).
    assert_eq!((f.rows, f.skipped), (6_710, 369), "{s}");
    assert_eq!(anweb_codes(&read(&zip)).len(), 6_710);
    assert_eq!(s.table(TableKind::Hcpcs).entries, 6_710);
    for code in ["J1100", "G0008", "E0100", "A4550", "Q0091"] {
        assert_eq!(rd.hcpcs_exists(code), Some(true), "{code}");
    }
    assert_eq!(rd.hcpcs_exists("99213"), Some(false), "CPT codes are not in the HCPCS file");
    assert_eq!(rd.hcpcs_exists("A1"), Some(false), "modifier records are not codes");
    // Every other member is listed with its reason.
    let ignored: Vec<String> = s.ignored.iter().map(|(p, why)| format!("{}: {why}", p.display())).collect();
    assert_eq!(ignored.len(), 6, "{ignored:#?}");
    for member in [
        "Changes_by_ActionCode.prn",
        "HCPC2020_ANWEB_w_disclaimer.xls",
        "HCPC2020_README.txt",
        "HCPC2020_TRANS_ALPHA_w_disclaimer.xlsx",
        "proc_notes_2020.txt",
    ] {
        assert!(ignored.iter().any(|i| i.contains(member)), "{member}: {ignored:#?}");
    }
    assert!(ignored.iter().any(|i| i.contains(".xls: spreadsheet")), "{ignored:#?}");
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_icd10_tabular_xml_agrees_with_the_csv() {
    let load = |file: &str| {
        let mut rd = RefData::empty();
        rd.add_file(&shared_data(&format!("codes/{file}"))).unwrap();
        rd
    };
    let xml = load("icd10cm_tabular_fy2026.xml.gz");
    let f = xml.summary().table(TableKind::Icd10).files[0].clone();
    assert_eq!((f.rows, f.release, f.version.as_deref()), (98_186, Some(d("2025-10-01")), Some("FY2026")));
    // Every code of the CSV, with the same billable flag, and the 39 categories it leaves out.
    let csv_path = shared_data("codes/icd10cm_fy2026.csv.gz");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(csv_path).unwrap()), &mut text).unwrap();
    let dos = d("2026-01-15");
    let (mut billable, mut codes) = (0, 0);
    for line in text.lines().skip(1) {
        let mut cells = line.splitn(3, ',');
        let (code, flag) = (cells.next().unwrap(), cells.next().unwrap());
        let want = if flag == "Y" { IcdStatus::Valid } else { IcdStatus::NotBillable };
        assert_eq!(xml.icd10_status(code, dos), want, "{code}");
        codes += 1;
        billable += usize::from(flag == "Y");
    }
    assert_eq!((codes, billable), (98_147, 74_714));
    assert_eq!(xml.icd10_status("B20", dos), IcdStatus::Valid, "a category the CSV leaves out");
    assert_eq!(xml.icd10_status("Z68", dos), IcdStatus::NotBillable);
    assert_eq!(xml.icd10_status("S06.1X7A", dos), IcdStatus::Valid);
    assert_eq!(xml.icd10_status("S06.1X7D", dos), IcdStatus::Unknown);
    assert_eq!(xml.icd10_status("S72.001A", dos), IcdStatus::Valid);
    assert_eq!(xml.icd10_status("S72.001", dos), IcdStatus::NotBillable);
    assert_eq!(xml.icd10_description("S72.001A"), Some("Fracture of unspecified part of neck of right femur, initial encounter for closed fracture"));
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_pfs_file_prices_as_computed_by_hand() {
    let mut rd = RefData::empty();
    rd.add_file(&shared_data("codes/pfs_rvu2025_oct_nodesc.csv")).unwrap();
    let s = rd.summary();
    assert_eq!(s.table(TableKind::Pfs).rows, 19_090);
    assert_eq!(s.table(TableKind::Pfs).releases, vec![Some(d("2025-10-01"))]);
    let dos = d("2025-10-20");
    let cf = 32.3465;
    let amount = |code: &str, m: &str, setting| rd.pfs_amount(code, m, dos, setting, cf);
    // 99214: work 1.92, PE 1.80 non-facility / 0.83 facility, MP 0.15.
    // (1.92 + 1.80 + 0.15) x 32.3465 = 3.87 x 32.3465 = 125.180955 -> 125.18
    // (1.92 + 0.83 + 0.15) x 32.3465 = 2.90 x 32.3465 = 93.80485 -> 93.80
    let e = rd.pfs("99214", "", dos).unwrap();
    assert_eq!((e.work_rvu(), e.pe_rvu(PfsSetting::NonFacility), e.pe_rvu(PfsSetting::Facility), e.mp_rvu()), (1.92, 1.8, 0.83, 0.15));
    assert_eq!(amount("99214", "", PfsSetting::NonFacility), Some(125.18));
    assert_eq!(amount("99214", "", PfsSetting::Facility), Some(93.80));
    // 20610: (0.79 + 1.04 + 0.13) x 32.3465 = 1.96 x 32.3465 = 63.39914 -> 63.40
    assert_eq!(amount("20610", "", PfsSetting::NonFacility), Some(63.40));
    // 71046-26: (0.22 + 0.08 + 0.01) x 32.3465 = 0.31 x 32.3465 = 10.027415 -> 10.03
    assert_eq!(amount("71046", "26", PfsSetting::Facility), Some(10.03));
    // 93000 is NA in the facility setting; non-facility (0.17 + 0.24 + 0.02) = 0.43 -> 13.908995 -> 13.91
    assert_eq!(amount("93000", "", PfsSetting::Facility), None);
    assert_eq!(amount("93000", "", PfsSetting::NonFacility), Some(13.91));
    // Bundled, excluded and statutory-exclusion codes have no national amount.
    for code in ["80053", "36415", "J1100"] {
        assert_eq!(amount(code, "", PfsSetting::NonFacility), None, "{code}");
    }
}
