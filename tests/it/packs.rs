//! Payer packs: parameters, payer scope, effective dates, disabled and re-graded rules.
use std::path::{Path, PathBuf};

use crate::common::repo_root;
use crate::support::{audit, fixture};

/// A rules folder made of copies of shipped rules plus the given pack, in a temp dir.
fn rules_with_pack(rules: &[&str], pack_yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for r in rules {
        let src = repo_root().join("rules").join(r);
        let dst = dir.path().join(r);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(src, dst).unwrap();
    }
    let pack = dir.path().join("payers/test/pack.yaml");
    std::fs::create_dir_all(pack.parent().unwrap()).unwrap();
    std::fs::write(pack, pack_yaml).unwrap();
    dir
}

fn count(rules: &Path, rule: &str) -> usize {
    audit(&[fixture("claims/small.csv")], rules).findings.iter().filter(|f| f.rule_id == rule).count()
}

#[test]
fn a_pack_parameter_change_alters_the_result_without_code_changes() {
    // small.csv: MEDICARE claims A1/A2 received 10 and 12 days after service.
    let strict = rules_with_pack(&["payers/common/timely_filing.rhai"], "name: T\npayers: [MEDICARE]\nparams: { timely_filing_days: 5 }\n");
    let lenient = rules_with_pack(&["payers/common/timely_filing.rhai"], "name: T\npayers: [MEDICARE]\nparams: { timely_filing_days: 30 }\n");
    assert_eq!(count(strict.path(), "PAYER-TIMELY-FILING"), 4);
    assert_eq!(count(lenient.path(), "PAYER-TIMELY-FILING"), 0);
}

#[test]
fn a_pack_applies_only_to_its_payers() {
    // ACME's claim B1 was received 14 days after service; MEDICARE's lines are not ACME's.
    let dir = rules_with_pack(&["payers/common/timely_filing.rhai"], "name: T\npayers: [ACME]\nparams: { timely_filing_days: 5 }\n");
    let r = audit(&[fixture("claims/small.csv")], dir.path());
    let claims: Vec<&str> = r.findings.iter().map(|f| f.claim_id.as_str()).collect();
    assert_eq!(claims, vec!["B1", "B1"]);
}

#[test]
fn a_pack_outside_its_dates_does_not_apply() {
    let dir = rules_with_pack(
        &["payers/common/timely_filing.rhai"],
        "name: T\npayers: [MEDICARE]\neffective_from: 2025-01-01\nparams: { timely_filing_days: 5 }\n",
    );
    assert_eq!(count(dir.path(), "PAYER-TIMELY-FILING"), 0);
}

#[test]
fn a_pack_disables_a_rule_for_its_payers_only() {
    let base = rules_with_pack(&["core/units_positive.rhai"], "name: T\npayers: [ACME]\n");
    assert_eq!(count(base.path(), "CORE-UNITS-POSITIVE"), 1, "A1 line 3 bills 0 units for MEDICARE");
    let other_payer = rules_with_pack(&["core/units_positive.rhai"], "name: T\npayers: [ACME]\ndisable: [CORE-UNITS-POSITIVE]\n");
    assert_eq!(count(other_payer.path(), "CORE-UNITS-POSITIVE"), 1);
    let medicare = rules_with_pack(&["core/units_positive.rhai"], "name: T\npayers: [MEDICARE]\ndisable: [CORE-UNITS-POSITIVE]\n");
    assert_eq!(count(medicare.path(), "CORE-UNITS-POSITIVE"), 0);
}

#[test]
fn a_pack_regrades_a_rule_for_its_payers() {
    let dir = rules_with_pack(&["core/units_positive.rhai"], "name: T\npayers: [MEDICARE]\nseverity: { CORE-UNITS-POSITIVE: warning }\n");
    let r = audit(&[fixture("claims/small.csv")], dir.path());
    let f = r.findings.iter().find(|f| f.rule_id == "CORE-UNITS-POSITIVE").unwrap();
    assert_eq!(f.severity, claimlint::vocab::Severity::Warning);
}

#[test]
fn two_versions_of_a_rule_are_resolved_by_date_of_service() {
    let dir = tempfile::tempdir().unwrap();
    let version = |from: &str, to: &str, word: &str| {
        format!("/*---\nid: T-VERSIONED\ntitle: v\nseverity: info\ncategory: compliance\nscope: line\nrationale: t\neffective_from: {from}\neffective_to: {to}\n---*/\nflag(\"{word}\");\n")
    };
    std::fs::write(dir.path().join("v1.rhai"), version("2024-01-01", "2024-07-10", "old policy")).unwrap();
    std::fs::write(dir.path().join("v2.rhai"), version("2024-07-11", "2024-12-31", "new policy")).unwrap();
    let r = audit(&[fixture("claims/small.csv")], dir.path());
    assert!(r.diagnostics.is_empty(), "disjoint versions are not duplicates: {:?}", r.diagnostics);
    // A1/A2 are dated 2024-07-10, B1 2024-07-11.
    let mut got: Vec<(String, String)> = r.findings.iter().map(|f| (f.claim_id.clone(), f.message.clone())).collect();
    got.sort();
    got.dedup();
    assert_eq!(got, vec![("A1".into(), "old policy".into()), ("A2".into(), "old policy".into()), ("B1".into(), "new policy".into()),]);
}

#[test]
fn rules_check_reports_pack_errors_and_unknown_rules() {
    let dir = rules_with_pack(&["core/units_positive.rhai"], "name: T\npayers: [MEDICARE]\ndisable:\n  - NO-SUCH-RULE\n");
    let engine = claimlint::rules::new_engine(Default::default(), &Default::default());
    let set = claimlint::rules::load_rules(&engine, dir.path()).unwrap();
    let d: Vec<String> = set.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].ends_with("payers/test/pack.yaml:4:1: warning: pack `T` names rule `NO-SUCH-RULE`, which does not exist"), "{}", d[0]);

    let bad = rules_with_pack(&[], "name: T\npayers: [MEDICARE]\nparms: {}\n");
    let set = claimlint::rules::load_rules(&engine, bad.path()).unwrap();
    let d = &set.diagnostics[0];
    assert_eq!((d.line, d.is_warning), (3, false), "{d}");
    assert!(d.message.contains("unknown field `parms`"), "{d}");
}

#[test]
fn shipped_packs_load_cleanly() {
    let rules: PathBuf = repo_root().join("rules");
    let engine = claimlint::rules::new_engine(Default::default(), &claimlint::rules::load_refdata(&rules, None).unwrap());
    let set = claimlint::rules::load_rules(&engine, &rules).unwrap();
    assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
    let tf = set.rules.iter().find(|r| r.meta().id == "PAYER-TIMELY-FILING").unwrap();
    let packs: Vec<&str> = tf.overrides.iter().map(|o| o.pack.as_str()).collect();
    assert_eq!(packs, vec!["ACME Commercial PPO", "New York Medicaid (fee-for-service)"]);
}

#[test]
fn a_scaffolded_rule_passes_rules_test_as_created() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_claimlint");
    let rules = dir.path().join("rules");
    let new =
        std::process::Command::new(bin).args(["rules", "new", "--payer", "ZETA", "--id", "ZETA-EM-REVIEW", "--rules"]).arg(&rules).output().unwrap();
    assert!(new.status.success(), "{}", String::from_utf8_lossy(&new.stderr));
    let file = rules.join("payers/zeta/zeta-em-review.rhai");
    assert!(file.is_file());
    let test = std::process::Command::new(bin).args(["rules", "test"]).arg(&file).output().unwrap();
    let out = String::from_utf8_lossy(&test.stdout);
    assert!(test.status.success(), "{out}");
    assert!(out.contains("2 passed, 0 failed"), "{out}");
}

/// The sample's type-2 add-on claim, billed to `payer`, audited with the shipped rules and packs.
fn addon_claim_for(payer: &str) -> claimlint::audit::AuditResult {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(repo_root().join("samples/claims.csv")).unwrap();
    let mut lines = sample.lines();
    let mut csv = format!("{}\n", lines.next().unwrap());
    for l in lines.filter(|l| l.starts_with("CLM00127,")) {
        csv.push_str(&l.replacen(",MEDICARE,", &format!(",{payer},"), 1));
        csv.push('\n');
    }
    let path = dir.path().join("claim.csv");
    std::fs::write(&path, csv).unwrap();
    audit(&[path], &repo_root().join("rules"))
}

#[test]
fn the_medicaid_pack_disables_a_federal_rule_for_medicaid_claims_only() {
    let has = |r: &claimlint::audit::AuditResult| r.findings.iter().any(|f| f.rule_id == "FED-ADDON-CONTRACTOR");
    assert!(has(&addon_claim_for("MEDICARE")));
    assert!(!has(&addon_claim_for("NY-MEDICAID")));
}

#[test]
fn the_commercial_pack_enforces_its_prior_auth_list_for_its_payer_only() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "claim_id,payer_id,patient_id,patient_birth_date,patient_sex,billing_npi,received_date,dx_1,service_date_from,place_of_service,procedure_code,units,charge_amount,dx_pointers,prior_auth_number\n\
               M1,ACME-COMMERCIAL,P1,1970-01-01,F,1003000126,2024-07-20,I10,2024-07-10,11,70551,1,900.00,A,\n\
               M2,ACME-COMMERCIAL,P2,1970-01-01,F,1003000126,2024-07-20,I10,2024-07-10,11,70551,1,900.00,A,PA778\n\
               M3,BLUE-PPO,P3,1970-01-01,F,1003000126,2024-07-20,I10,2024-07-10,11,70551,1,900.00,A,\n";
    let path = dir.path().join("mri.csv");
    std::fs::write(&path, csv).unwrap();
    let r = audit(&[path], &repo_root().join("rules"));
    let flagged: Vec<&str> = r.findings.iter().filter(|f| f.rule_id == "PAYER-PRIOR-AUTH").map(|f| f.claim_id.as_str()).collect();
    assert_eq!(flagged, vec!["M1"]);
}
