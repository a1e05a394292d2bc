//! Reference-data layer: the hand-made `rules/data` set, the official CMS layouts (fixtures under
//! tests/fixtures/refdata), several releases side by side, the Rhai functions, and (ignored
//! unless `--ignored`) facts and row counts from the real tables in ../shared/data.

use crate::common::{repo_root, shared_data};
use chrono::NaiveDate;
use claimlint::refdata::{register_functions, AgeRange, IcdStatus, RefData, TableKind};
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
    assert_eq!(
        summary.table(TableKind::Ptp).releases,
        vec![Some(d("2024-07-01"))]
    );
    assert_eq!(summary.table(TableKind::Mue).entries, 32);
    assert_eq!(summary.table(TableKind::Icd10).entries, 84);
    assert!(!summary.table(TableKind::Cpt).loaded);
    let text = summary.to_string();
    assert!(text.contains("cpt              not loaded"), "{text}");
    assert!(
        text.contains("ptp_practitioner_2024q3_subset.csv"),
        "{text}"
    );
}

#[test]
fn handmade_ptp_edits() {
    let rd = handmade();
    let e = rd
        .ptp("80053", "80048", d("2024-08-01"))
        .expect("80053/80048");
    assert_eq!(e.modifier_indicator, 0);
    assert_eq!(e.rationale, "CPT Manual or CMS manual coding instruction");
    assert_eq!(
        e.effective, None,
        "the normalised layout has no effective dates"
    );
    assert_eq!(e.deletion, None);
    // Direction matters: 80048 is not column 1 of 80053.
    assert!(rd.ptp("80048", "80053", d("2024-08-01")).is_none());
    assert_eq!(
        rd.ptp("11042", "97597", d("2024-08-01"))
            .unwrap()
            .modifier_indicator,
        1
    );
    // Deleted 2019-12-31: in force through that day, gone after it.
    let old = rd
        .ptp("97140", "97530", d("2019-12-31"))
        .expect("in force on its deletion date");
    assert_eq!(
        (old.modifier_indicator, old.deletion),
        (1, Some(d("2019-12-31")))
    );
    assert!(rd.ptp("97140", "97530", d("2020-01-01")).is_none());
    assert_eq!(
        rd.ptp("93005", "93010", d("2005-01-01"))
            .unwrap()
            .modifier_indicator,
        9
    );
    // Codes are case- and space-insensitive.
    assert_eq!(
        rd.ptp(" g0008 ", "99211", d("2024-08-01"))
            .unwrap()
            .modifier_indicator,
        1
    );
}

#[test]
fn handmade_ptp_versions_resolve_by_date() {
    // G0008/99211 has four rows: indicator 9 until 2000-10-30, 0 until 2019-12-31, 0 until
    // 2021-09-30, then 1 and still active. The earliest deletion on or after the date wins.
    let rd = handmade();
    let at = |s: &str| {
        rd.ptp("G0008", "99211", d(s))
            .map(|e| (e.modifier_indicator, e.deletion))
    };
    assert_eq!(at("2000-01-01"), Some((9, Some(d("2000-10-30")))));
    assert_eq!(at("2019-06-01"), Some((0, Some(d("2019-12-31")))));
    assert_eq!(at("2021-06-01"), Some((0, Some(d("2021-09-30")))));
    assert_eq!(at("2024-08-01"), Some((1, None)));
}

#[test]
fn handmade_ptp_hits_among_claim_lines() {
    let rd = handmade();
    let codes = ["99213", "80053", "17311", "80048", "97110", "97140"];
    let mut hits: Vec<(usize, usize, u8)> = rd
        .ptp_hits(&codes, d("2024-08-01"))
        .into_iter()
        .map(|h| (h.column1, h.column2, h.modifier_indicator))
        .collect();
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
    assert_eq!(
        (m.units, m.mai, m.rationale.as_str()),
        (2, 3, "Clinical: Data")
    );
    assert_eq!(rd.mue("17311", dos).unwrap().units, 4);
    assert_eq!(rd.mue("11042", dos).unwrap().mai, 2);
    assert_eq!(rd.mue("J1100", dos).unwrap().units, 120);
    for code in [
        "99214", "99215", "36415", "80053", "85025", "93000", "17312", "97110", "20610",
    ] {
        assert!(rd.mue(code, dos).is_some(), "MUE {code}");
    }
    assert!(rd.mue("99999", dos).is_none());

    let a = rd.addon("17312", dos).unwrap();
    assert_eq!(
        (a.edit_type, a.primaries.clone()),
        (1, vec!["17311".to_string()])
    );
    assert_eq!(
        rd.addon("17315", dos).unwrap().primaries,
        ["17311", "17312", "17313", "17314"]
    );
    let c = rd.addon("0054T", dos).unwrap();
    assert_eq!(c.edit_type, 2);
    assert!(
        c.primaries.is_empty(),
        "CCCCC = contractor-defined primaries"
    );
    assert_eq!(rd.addon("20701", dos).unwrap().edit_type, 3);
    assert!(
        rd.addon("17311", dos).is_none(),
        "17311 is a primary, not an add-on"
    );
}

#[test]
fn handmade_icd10_status_and_mce() {
    let rd = handmade();
    let dos = d("2024-08-15");
    assert_eq!(rd.icd10_status("S72.001A", dos), IcdStatus::Valid);
    assert_eq!(
        rd.icd10_status("S72001A", dos),
        IcdStatus::Valid,
        "without the dot"
    );
    assert_eq!(
        rd.icd10_status("s72.001a", dos),
        IcdStatus::Valid,
        "lower case"
    );
    assert_eq!(rd.icd10_status("S72", dos), IcdStatus::NotBillable);
    assert_eq!(rd.icd10_status("S72.00", dos), IcdStatus::NotBillable);
    assert_eq!(rd.icd10_status("Q99.99", dos), IcdStatus::Unknown);
    assert_eq!(rd.icd10_status("not a code", dos), IcdStatus::Unknown);
    // M54.50 was created on 2021-10-01 when M54.5 became a header.
    assert_eq!(
        rd.icd10_status("M54.50", d("2021-06-01")),
        IcdStatus::InvalidOnDate
    );
    assert_eq!(rd.icd10_status("M54.50", d("2021-10-01")), IcdStatus::Valid);
    assert_eq!(rd.icd10_status("M54.5", d("2021-09-30")), IcdStatus::Valid);
    assert_eq!(
        rd.icd10_status("M54.5", d("2021-10-01")),
        IcdStatus::NotBillable
    );
    assert_eq!(
        rd.icd10_status("N80.00", d("2022-09-30")),
        IcdStatus::InvalidOnDate
    );
    assert_eq!(
        rd.icd10_status("I10", d("2015-09-30")),
        IcdStatus::InvalidOnDate,
        "before ICD-10"
    );
    assert_eq!(
        rd.icd10_description("E11.9"),
        Some("Type 2 diabetes mellitus without complications")
    );
    assert_eq!(
        rd.icd10_description("E119"),
        Some("Type 2 diabetes mellitus without complications")
    );

    assert_eq!(rd.mce_flags("N80.00", dos), vec!["female"]);
    assert!(rd.mce_flags("N80.00", d("2025-01-15")).is_empty());
    assert_eq!(rd.mce_flags("A33", dos), vec!["newborn"]);
    let mut z = rd.mce_flags("Z00.00", dos);
    z.sort();
    assert_eq!(z, vec!["adult", "unacceptable"]);
    assert_eq!(rd.mce_flags("O80", d("2024-01-01")).len(), 2);
    assert_eq!(rd.mce_flags("O80", d("2025-01-01")), vec!["maternity"]);
    assert_eq!(
        rd.mce_age_range("maternity", d("2019-09-30")),
        Some(AgeRange { min: 12, max: 55 })
    );
    assert_eq!(
        rd.mce_age_range("Maternity", d("2019-10-01")),
        Some(AgeRange { min: 9, max: 64 })
    );
    assert_eq!(
        rd.mce_age_range("newborn", dos),
        Some(AgeRange { min: 0, max: 0 })
    );
    assert_eq!(
        rd.mce_age_range("pediatric", dos),
        Some(AgeRange { min: 0, max: 17 })
    );
    assert_eq!(
        rd.mce_age_range("adult", dos),
        Some(AgeRange { min: 15, max: 124 })
    );
    assert_eq!(rd.mce_age_range("elderly", dos), None);
}

#[test]
fn handmade_code_sets() {
    let rd = handmade();
    assert_eq!(rd.hcpcs_exists("J1100"), Some(true));
    assert_eq!(rd.hcpcs_exists("G2211"), Some(true));
    assert_eq!(rd.hcpcs_exists("J9999"), Some(false));
    assert_eq!(
        rd.hcpcs_exists("99213"),
        Some(false),
        "CPT codes are not HCPCS Level II"
    );
    assert_eq!(rd.cpt_exists("99213"), None, "no CPT list is shipped");
    assert_eq!(rd.pos_valid("11"), Some(true));
    assert_eq!(rd.pos_valid("2"), Some(true), "02 written without the zero");
    assert_eq!(rd.pos_valid("28"), Some(false), "unassigned");
    for m in [
        "25", "59", "XE", "XS", "XP", "XU", "LT", "RT", "24", "57", "58", "78", "79", "91", "26",
        "TC", "GT", "95",
    ] {
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
        let text = std::fs::read_to_string(entry.unwrap().path())
            .unwrap()
            .to_lowercase();
        for phrase in [
            "office or other outpatient visit",
            "comprehensive metabolic panel",
            "mohs micrographic",
        ] {
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
    assert_eq!(
        ptp.releases,
        vec![Some(d("2024-07-01")), Some(d("2024-10-01"))]
    );
    assert_eq!(ptp.rows, 6 + 2 + 7);
    let mue = s.table(TableKind::Mue);
    assert_eq!(
        mue.releases,
        vec![Some(d("2024-07-01")), Some(d("2024-10-01"))]
    );
    assert_eq!(mue.rows, 6 + 3);
    assert_eq!(s.table(TableKind::Aoc).rows, 6);
    assert_eq!(s.table(TableKind::Leie).rows, 2);
    assert_eq!(
        s.table(TableKind::Leie).files[0].skipped,
        1,
        "the entity without an NPI"
    );
    // The hospital MUE table is passed over, with the reason.
    assert_eq!(s.ignored.len(), 1, "{s}");
    assert!(s.ignored[0]
        .0
        .ends_with("MCR_MUE_OutpatientHospitalServices_Eff_07-01-2024.csv"));
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
    assert_eq!(
        e.rationale, "CPT Manual or CMS manual coding instruction",
        "no trailing CR"
    );
    // Rows from the second part (f2) of the same release.
    assert_eq!(
        rd.ptp("99215", "99214", d("2024-08-01"))
            .unwrap()
            .modifier_indicator,
        1
    );
    // Effective dates bound an edit from below: J1100/96372 starts 2024-07-01.
    assert!(rd.ptp("J1100", "96372", d("2024-07-01")).is_some());
    assert_eq!(
        rd.ptp("G0008", "99211", d("2021-06-01"))
            .unwrap()
            .modifier_indicator,
        0
    );
    assert_eq!(
        rd.ptp("G0008", "99211", d("2022-06-01"))
            .unwrap()
            .modifier_indicator,
        1
    );
    let nine = rd.ptp("93005", "93010", d("2005-10-01")).unwrap();
    assert_eq!(
        (nine.modifier_indicator, nine.effective, nine.deletion),
        (9, Some(d("2005-10-01")), Some(d("2005-10-01")))
    );
    assert!(rd.ptp("93005", "93010", d("2005-10-02")).is_none());
}

#[test]
fn official_quarters_resolve_by_date_of_service() {
    let rd = official();
    // 97140/97530 was deleted 2024-09-30: in force in Q3, not in Q4.
    assert_eq!(
        rd.ptp("97140", "97530", d("2024-09-30"))
            .unwrap()
            .modifier_indicator,
        1
    );
    assert!(rd.ptp("97140", "97530", d("2024-10-01")).is_none());
    // 11042/97597 re-issued in Q4 with indicator 0.
    assert_eq!(
        rd.ptp("11042", "97597", d("2024-08-01"))
            .unwrap()
            .modifier_indicator,
        1
    );
    assert_eq!(
        rd.ptp("11042", "97597", d("2024-11-01"))
            .unwrap()
            .modifier_indicator,
        0
    );
    // New in Q4 only.
    assert!(rd.ptp("36415", "99211", d("2024-08-01")).is_none());
    assert_eq!(
        rd.ptp("36415", "99211", d("2024-10-01")).unwrap().effective,
        Some(d("2024-10-01"))
    );
    // Within a release the effective date still counts.
    assert!(rd.ptp("17311", "99213", d("2024-11-14")).is_none());
    assert!(rd.ptp("17311", "99213", d("2024-11-15")).is_some());
    // J1100/96372 exists only in the Q3 release (f2), so a Q4 date does not see it.
    assert!(rd.ptp("J1100", "96372", d("2024-12-01")).is_none());
    // Dates before the first loaded release use the earliest one.
    assert_eq!(
        rd.ptp("80053", "80048", d("2010-01-01"))
            .unwrap()
            .modifier_indicator,
        0
    );
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
    assert_eq!(
        (m.units, m.mai, m.rationale.as_str()),
        (2, 3, "Clinical: Data")
    );
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
    assert_eq!(
        rd.addon("20701", dos).unwrap().primaries,
        ["11010", "11011"]
    );
    assert!(
        rd.addon("20701", d("2018-06-01")).is_none(),
        "edit effective 2019-01-01"
    );
    // Primary 11043 was deleted 2024-06-30, so only 11042 remains afterwards.
    assert_eq!(
        rd.addon("11045", d("2024-06-30")).unwrap().primaries,
        ["11042", "11043"]
    );
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
    assert_eq!(
        rd.npi_excluded("1000000012", d("2022-06-01")),
        Some(false),
        "reinstated"
    );
    assert_eq!(rd.npi_excluded("0000000000", d("2021-01-01")), Some(false));
    assert_eq!(rd.npi_excluded("1999999999", d("2021-01-01")), Some(false));
}

#[test]
fn optional_cpt_list_answers_only_when_supplied() {
    let mut rd = RefData::load_dir(&repo_root().join("rules/data")).unwrap();
    assert_eq!(rd.cpt_exists("99213"), None);
    assert_eq!(
        rd.add_file(&fixtures("cpt/cpt_codes_user.csv")).unwrap(),
        Some(TableKind::Cpt)
    );
    assert_eq!(rd.cpt_exists("99213"), Some(true));
    assert_eq!(rd.cpt_exists("99215"), Some(false));
    assert!(rd.has_table("cpt"));
    // The same file is loaded once.
    assert_eq!(
        rd.add_file(&fixtures("cpt/cpt_codes_user.csv")).unwrap(),
        None
    );
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
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let rd = RefData::load_dir(dir.path()).unwrap();
    let m = rd.mue("17311", d("2025-02-01")).unwrap();
    assert_eq!((m.units, m.mai, m.rationale.as_str()), (9, 1, "CMS Policy"));
    assert_eq!(
        rd.summary().table(TableKind::Mue).releases,
        vec![Some(d("2025-01-01"))]
    );
}

#[test]
fn icd10_lists_without_mce_are_bounded_by_their_fiscal_year() {
    // Two fiscal-year lists, no MCE master: a code dropped in FY2026 is invalid on FY2026 dates.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("icd10cm_fy2025.csv"),
        "code,billable,description\nM54.5,N,Low back pain\nM54.50,Y,x\nU09.9,Y,y\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("icd10cm_fy2026.csv"),
        "code,billable,description\nM54.5,N,Low back pain\nM54.50,Y,x\n",
    )
    .unwrap();
    let rd = RefData::load_dir(dir.path()).unwrap();
    assert!(rd.has(TableKind::Icd10) && !rd.has(TableKind::Mce));
    assert_eq!(rd.icd10_status("U09.9", d("2025-09-30")), IcdStatus::Valid);
    assert_eq!(
        rd.icd10_status("U09.9", d("2025-10-01")),
        IcdStatus::InvalidOnDate
    );
    assert_eq!(rd.icd10_status("M54.50", d("2025-10-01")), IcdStatus::Valid);
    assert_eq!(
        rd.icd10_status("M54.5", d("2025-10-01")),
        IcdStatus::NotBillable
    );
    assert_eq!(
        rd.icd10_status("A00.0", d("2025-10-01")),
        IcdStatus::Unknown
    );
    // Outside every loaded year the nearest list answers.
    assert_eq!(rd.icd10_status("U09.9", d("2020-01-01")), IcdStatus::Valid);
    assert_eq!(
        rd.icd10_status("U09.9", d("2030-01-01")),
        IcdStatus::InvalidOnDate
    );
    assert_eq!(rd.icd10_description("M54.5"), Some("Low back pain"));
    assert!(rd.mce_flags("M54.50", d("2025-10-01")).is_empty());
}

#[test]
fn malformed_rows_fail_loudly_with_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ptp_bad.csv");
    std::fs::write(
        &path,
        "column_1,column_2,deletion_date,modifier_indicator,rationale\n80053,80048,9999-12-31,7,x\n",
    )
    .unwrap();
    let err = format!("{:#}", RefData::load_dir(dir.path()).unwrap_err());
    assert!(
        err.contains("ptp_bad.csv") && err.contains("modifier indicator"),
        "{err}"
    );
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
    let ind: i64 = e
        .eval(r#"ptp("80053", "80048", "2024-08-01").indicator"#)
        .unwrap();
    assert_eq!(ind, 0);
    let del: String = e
        .eval(r#"ptp("97140", "97530", "2019-06-01").deletion"#)
        .unwrap();
    assert_eq!(del, "2019-12-31");
    let eff: String = e
        .eval(r#"ptp("97140", "97530", "2019-06-01").effective"#)
        .unwrap();
    assert_eq!(eff, "");
    assert!(e
        .eval::<bool>(r#"ptp("97140", "97530", "2020-06-01") == ()"#)
        .unwrap());
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
    assert_eq!(
        e.eval::<i64>(r#"mue("99213", "2024-08-01").units"#)
            .unwrap(),
        2
    );
    assert_eq!(
        e.eval::<i64>(r#"mue("99213", "2024-08-01").mai"#).unwrap(),
        3
    );
    assert!(e
        .eval::<bool>(r#"mue("00000", "2024-08-01") == ()"#)
        .unwrap());
    assert_eq!(
        e.eval::<i64>(r#"addon("17312", "2024-08-01").edit_type"#)
            .unwrap(),
        1
    );
    assert_eq!(
        e.eval::<String>(r#"addon("17312", "2024-08-01").primaries[0]"#)
            .unwrap(),
        "17311"
    );
    assert_eq!(
        e.eval::<i64>(r#"addon("0054T", "2024-08-01").primaries.len()"#)
            .unwrap(),
        0
    );
    let statuses: String = e
        .eval(
            r#"[icd10_status("S72.001A", "2024-08-15"), icd10_status("S72", "2024-08-15"),
                icd10_status("M54.50", "2020-01-01"), icd10_status("ZZZ9", "2024-08-15")].reduce(|s, v| s + v + ";", "")"#,
        )
        .unwrap();
    assert_eq!(statuses, "valid;not_billable;invalid_on_date;unknown;");
    assert_eq!(
        e.eval::<String>(r#"mce_flags("N80.00", "2024-08-15")[0]"#)
            .unwrap(),
        "female"
    );
    assert_eq!(
        e.eval::<i64>(r#"mce_flags("N80.00", "2025-01-15").len()"#)
            .unwrap(),
        0
    );
    assert_eq!(
        e.eval::<i64>(r#"mce_age_range("maternity", "2024-01-01")[1]"#)
            .unwrap(),
        64
    );
    assert!(e
        .eval::<bool>(r#"mce_age_range("nobody", "2024-01-01") == ()"#)
        .unwrap());
    assert_eq!(
        e.eval::<String>(r#"icd10_description("I10")"#).unwrap(),
        "Essential (primary) hypertension"
    );
}

#[test]
fn rhai_code_sets_and_tables() {
    let e = handmade_engine();
    assert!(e.eval::<bool>(r#"hcpcs_exists("J1100")"#).unwrap());
    assert!(!e.eval::<bool>(r#"hcpcs_exists("J9999")"#).unwrap());
    assert!(
        e.eval::<bool>(r#"cpt_exists("99213") == ()"#).unwrap(),
        "no CPT list loaded"
    );
    assert!(e
        .eval::<bool>(r#"pos_valid("11") && !pos_valid("28")"#)
        .unwrap());
    assert!(e
        .eval::<bool>(r#"modifier_valid("25") && !modifier_valid("ZZ")"#)
        .unwrap());
    assert!(e.eval::<bool>(r#"revenue_code_valid("0450")"#).unwrap());
    assert!(e
        .eval::<bool>(r#"has_table("ptp") && has_table("icd10") && has_table("mce")"#)
        .unwrap());
    assert!(e.eval::<bool>(r#"has_table("leie") && !has_table("cpt")"#).unwrap());
    assert!(!e
        .eval::<bool>(r#"npi_excluded("1000000004", "2024-01-01")"#)
        .unwrap());
    // A malformed date is a script error, not a silent miss.
    let err = e
        .eval::<rhai::Dynamic>(r#"mue("99213", "08/01/2024")"#)
        .unwrap_err();
    assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
}

#[test]
fn rhai_on_official_layouts_and_empty_tables() {
    let e = engine(RefData::load_dir(&fixtures("official")).unwrap());
    assert!(e
        .eval::<bool>(r#"npi_excluded("1000000004", "2021-01-01")"#)
        .unwrap());
    assert!(!e
        .eval::<bool>(r#"npi_excluded("1000000004", "2019-01-01")"#)
        .unwrap());
    assert_eq!(
        e.eval::<String>(r#"ptp("80053", "80048", "2024-08-01").effective"#)
            .unwrap(),
        "1996-01-01"
    );
    assert_eq!(
        e.eval::<i64>(r#"mue("99213", "2024-10-01").units"#)
            .unwrap(),
        3
    );
    assert_eq!(
        e.eval::<String>(r#"icd10_status("I10", "2024-10-01")"#)
            .unwrap(),
        "unloaded"
    );
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
    assert_eq!(
        rd.ptp("97140", "97530", d("2019-06-01"))
            .unwrap()
            .modifier_indicator,
        1
    );
    assert!(rd.ptp("97140", "97530", d("2020-01-01")).is_none());
    assert!(rd.ptp("97140", "97530", dos).is_none());
    let hits = rd.ptp_hits(&["99213", "11042", "97597"], dos);
    let pairs: Vec<(usize, usize)> = hits.iter().map(|h| (h.column1, h.column2)).collect();
    assert!(
        pairs.contains(&(1, 0)) && pairs.contains(&(1, 2)),
        "{pairs:?}"
    );
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
    assert_eq!(
        rd.icd10_status("S72.001A", d("2024-08-15")),
        IcdStatus::Valid
    );
    assert_eq!(
        rd.icd10_status("S72", d("2024-08-15")),
        IcdStatus::NotBillable
    );
    assert_eq!(
        rd.icd10_status("XYZ.123", d("2024-08-15")),
        IcdStatus::Unknown
    );
    assert_eq!(
        rd.icd10_status("M54.50", d("2021-06-01")),
        IcdStatus::InvalidOnDate
    );
    assert_eq!(rd.mce_flags("N80.00", d("2024-08-15")), vec!["female"]);
    assert!(rd.mce_flags("N80.00", d("2025-01-15")).is_empty());
    assert!(rd.mce_flags("A33", d("2024-08-15")).contains(&"newborn"));
    assert_eq!(
        rd.mce_age_range("maternity", d("2019-01-01")),
        Some(AgeRange { min: 12, max: 55 })
    );
    let s = rd.summary();
    // The CSV (98,147 codes) and the tabular XML agree on every code both have; the XML also has
    // 19 categories the CSV leaves out (B20, Z68, ...).
    assert_eq!(s.table(TableKind::Icd10).entries, 98_166);
    assert_eq!(s.table(TableKind::Mce).rows, 84_932);
    // The PCS master and the older undated MCE edit list are recognised and passed over.
    let ignored: Vec<String> = s
        .ignored
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(
        ignored
            .iter()
            .any(|p| p.ends_with("mce_v43.1_icd10_pcs_master.csv.gz")),
        "{ignored:?}"
    );
    assert!(
        ignored
            .iter()
            .any(|p| p.ends_with("mce_v41.1_dx_edits.csv")),
        "{ignored:?}"
    );
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_code_sets_and_leie() {
    let rd = real();
    assert_eq!(rd.hcpcs_exists("J1100"), Some(true));
    assert_eq!(rd.hcpcs_exists("99213"), Some(false));
    assert_eq!(rd.cpt_exists("99213"), None);
    assert_eq!(rd.pos_valid("11"), Some(true));
    assert_eq!(
        rd.pos_valid("28"),
        Some(false),
        "unassigned in the CMS list"
    );
    assert_eq!(rd.modifier_valid("XU"), Some(true));
    assert_eq!(rd.modifier_valid("A1"), Some(true));
    assert_eq!(rd.revenue_code_valid("0450"), Some(true));
    // The December 2025 list has no dates: a listed NPI is excluded on any date.
    assert!(!rd.leie_dated());
    assert_eq!(rd.npi_excluded("1003005315", d("2024-08-01")), Some(true));
    assert_eq!(rd.npi_excluded("1003005316", d("2024-08-01")), Some(false));
    assert_eq!(rd.summary().table(TableKind::Leie).entries, 8_172);
}
