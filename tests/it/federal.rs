//! Federal edit pack on the real CMS tables.
//!
//! The rules live in rules/federal; their `examples:` run against the small default tables in
//! rules/data. Here they run over tests/fixtures/federal/claims.csv: once on rules/data (always)
//! and once on the full CMS tables in ../shared/data (ignored by default).
use std::path::PathBuf;
use std::sync::OnceLock;

use claimlint::audit::{run_audit, AuditOptions, AuditResult};
use claimlint::rules::Sandbox;

use crate::common::{repo_root, shared_dir};
use crate::support::fixture;

fn audit_federal(refdata: Option<PathBuf>) -> AuditResult {
    crate::support::audit_federal_file(&fixture("federal/claims.csv"), refdata)
}

/// The audit on the full tables, loaded once for every test below (the PTP table is large).
fn real() -> &'static AuditResult {
    static R: OnceLock<AuditResult> = OnceLock::new();
    R.get_or_init(|| audit_federal(Some(shared_dir().join("data"))))
}

fn on<'a>(r: &'a AuditResult, claim: &str, rule: &str) -> Vec<&'a claimlint::vocab::Finding> {
    r.findings.iter().filter(|f| f.claim_id == claim && f.rule_id == rule).collect()
}

#[test]
fn federal_rules_run_on_the_default_tables() {
    let r = audit_federal(None); // rules/federal finds rules/data above it
    assert_eq!(r.totals.rules_run, 16, "the federal rule files");
    let ptp = on(&r, "PTP0", "FED-NCCI-PTP");
    assert_eq!(ptp.len(), 1, "{:#?}", r.findings);
    assert_eq!(ptp[0].line_number, Some(2));
    assert!((ptp[0].amount_at_risk - 30.0).abs() < 0.005);
    assert!(on(&r, "PTP1", "FED-NCCI-PTP").len() == 1);
    assert!(on(&r, "PTP1XS", "FED-NCCI-PTP").is_empty());
    assert!(on(&r, "PTPDEL", "FED-NCCI-PTP").is_empty());
    assert_eq!(on(&r, "MUE3", "FED-MUE").len(), 1);
    assert!(on(&r, "MUE2", "FED-MUE").is_empty());
    assert_eq!(on(&r, "AOC", "FED-ADDON-PRIMARY").len(), 1);
    assert!(on(&r, "AOCOK", "FED-ADDON-PRIMARY").is_empty());
    assert_eq!(on(&r, "DXHDR", "FED-ICD10-NOT-BILLABLE").len(), 1);
    assert!(on(&r, "DXOK", "FED-ICD10-NOT-BILLABLE").is_empty());
    assert_eq!(on(&r, "SEX2408", "FED-MCE-SEX").len(), 1);
    assert!(on(&r, "SEX2501", "FED-MCE-SEX").is_empty());
    assert_eq!(on(&r, "AGE40", "FED-MCE-AGE").len(), 1);
}

#[test]
fn federal_rules_skip_silently_without_their_tables() {
    let r = audit_federal(Some(fixture("federal/no_tables")));
    let fed: Vec<_> = r.findings.iter().filter(|f| f.rule_id.starts_with("FED-")).collect();
    assert!(fed.is_empty(), "findings without reference tables: {fed:#?}");
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_mue_99213_is_2_units_mai_3_with_appeal_wording() {
    let r = real();
    let f = on(r, "MUE3", "FED-MUE");
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert!(f[0].message.contains("MUE is 2"), "{}", f[0].message);
    assert!(f[0].message.contains("MAI 3"), "{}", f[0].message);
    assert!(f[0].message.contains("appealed with documentation"), "{}", f[0].message);
    assert!(on(r, "MUE2", "FED-MUE").is_empty());
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_ptp_80053_80048_is_indicator_0_and_not_bypassed_by_59() {
    let r = real();
    let f = on(r, "PTP0", "FED-NCCI-PTP");
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].line_number, Some(2));
    assert!(f[0].message.contains("80048") && f[0].message.contains("80053"));
    assert!(f[0].message.contains("indicator 0"), "{}", f[0].message);
    assert!((f[0].amount_at_risk - 30.0).abs() < 0.005);
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_ptp_indicator_1_pair_is_bypassed_by_xs_and_fires_without_a_modifier() {
    let r = real();
    assert!(on(r, "PTP1XS", "FED-NCCI-PTP").is_empty(), "{:#?}", on(r, "PTP1XS", "FED-NCCI-PTP"));
    let f = on(r, "PTP1", "FED-NCCI-PTP");
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].line_number, Some(2));
    assert!(f[0].message.contains("17311") && f[0].message.contains("99213"));
    assert!(f[0].message.contains("indicator 1"), "{}", f[0].message);
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_ptp_edit_deleted_before_the_date_of_service_does_not_fire() {
    // 97140/97530 was deleted 2019-12-31.
    let r = real();
    assert!(on(r, "PTPDEL", "FED-NCCI-PTP").is_empty(), "{:#?}", on(r, "PTPDEL", "FED-NCCI-PTP"));
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_addon_17312_needs_17311() {
    let r = real();
    let f = on(r, "AOC", "FED-ADDON-PRIMARY");
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert!(f[0].message.contains("17311"), "{}", f[0].message);
    assert!(on(r, "AOCOK", "FED-ADDON-PRIMARY").is_empty());
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_icd10_s72_001a_is_billable_and_s72_is_not() {
    let r = real();
    assert!(on(r, "DXOK", "FED-ICD10-NOT-BILLABLE").is_empty());
    assert!(on(r, "DXOK", "FED-ICD10-INVALID").is_empty());
    let f = on(r, "DXHDR", "FED-ICD10-NOT-BILLABLE");
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert!(f[0].message.contains("S72"));
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_mce_n80_00_on_a_male_flags_in_2024_08_and_not_in_2025_01() {
    let r = real();
    assert_eq!(on(r, "SEX2408", "FED-MCE-SEX").len(), 1, "{:#?}", r.findings);
    assert!(on(r, "SEX2501", "FED-MCE-SEX").is_empty());
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn real_mce_a33_on_a_40_year_old_flags() {
    let r = real();
    let f = on(r, "AGE40", "FED-MCE-AGE");
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert!(f[0].message.contains("newborn") && f[0].message.contains("is 40"), "{}", f[0].message);
}

#[test]
fn mue_mai_1_is_a_per_line_limit() {
    // rules/data has no MAI 1 edit: a one-row MUE table with 97110 = 2 units, MAI 1.
    let r = run_audit(&AuditOptions {
        inputs: vec![fixture("federal/mai1_claims.csv")],
        rules_dir: repo_root().join("rules/federal"),
        refdata: Some(fixture("federal/mai1")),
        cache_dir: None,
        aliases: None,
        sandbox: Sandbox { max_operations: 2_000_000 },
        strict: true,
        peer_table: None,
        ..Default::default()
    })
    .expect("audit runs");
    let f = on(&r, "LINE3", "FED-MUE");
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert!(f[0].message.contains("3 units on one line") && f[0].message.contains("MAI 1"), "{}", f[0].message);
    // 2 + 2 units on two lines of one date: each line is within the per-line limit.
    assert!(on(&r, "TWOLINES", "FED-MUE").is_empty(), "{:#?}", on(&r, "TWOLINES", "FED-MUE"));
}
