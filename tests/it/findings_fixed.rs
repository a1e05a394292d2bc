//! Findings must not change when the engine does: the findings of generated batches audited with
//! every shipped rule and the full CMS tables, recorded with the engine that ran every script on
//! every record, are reproduced exactly; and no selector drops a finding (`verify_selectors`).
//! A deliberate change of rule policy re-records the fixtures and says so in its commit: the
//! fraud-risk indicators were reworked to leave honest providers alone, so these batches, which
//! carry no planted schemes, now have no fraud-risk findings; every other finding is unchanged.
use std::collections::BTreeMap;
use std::path::Path;

use claimlint::audit::{run_audit, AuditOptions};
use claimlint::generate::{generate, GenerateOptions};
use claimlint::vocab::Finding;

use crate::common::{repo_root, shared_dir};

/// One line per finding, as benches/findings_key.py writes them; provider-level findings are
/// keyed by provider, and locations by file name.
fn key(f: &Finding) -> String {
    let amount = format!("{:.2}", f.amount_at_risk);
    if f.is_provider_level() {
        return ["P", &f.rule_id, &f.provider_npi, &f.message, &amount].join("\t");
    }
    let location = f.location.rsplit('/').next().unwrap_or(&f.location);
    let line = f.line_number.map(|l| l.to_string()).unwrap_or_default();
    ["C", &f.rule_id, &f.claim_id, &line, &f.message, &amount, location].join("\t")
}

fn audit_generated(dir: &Path, lines: u64) -> claimlint::audit::AuditResult {
    let data = shared_dir().join("data");
    let path = dir.join("claims.parquet");
    let mut o = GenerateOptions::new(lines, 1, &path);
    o.refdata = data.clone();
    generate(&o).unwrap();
    run_audit(&AuditOptions {
        inputs: vec![path],
        rules_dir: repo_root().join("rules"),
        refdata: Some(data),
        verify_selectors: true,
        ..Default::default()
    })
    .unwrap()
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn a_generated_20k_batch_keeps_its_recorded_findings_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let r = audit_generated(dir.path(), 20_000);
    assert!(r.selector_misses.is_empty(), "selectors dropped findings: {:#?}", r.selector_misses);
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let mut actual: Vec<String> = r.findings.iter().map(key).collect();
    actual.sort();
    let expected = std::fs::read_to_string(repo_root().join("tests/fixtures/engine/findings-20k-seed1.tsv")).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    let missing: Vec<&&str> = expected.iter().filter(|e| !actual.iter().any(|a| a == **e)).take(5).collect();
    let extra: Vec<&String> = actual.iter().filter(|a| !expected.contains(&a.as_str())).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty() && actual.len() == expected.len(), "missing: {missing:#?}\nextra: {extra:#?}");
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn a_generated_200k_batch_keeps_its_recorded_findings_per_rule() {
    let dir = tempfile::tempdir().unwrap();
    let r = audit_generated(dir.path(), 200_000);
    assert!(r.selector_misses.is_empty(), "selectors dropped findings: {:#?}", r.selector_misses);
    let mut actual: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for f in &r.findings {
        let e = actual.entry(f.rule_id.clone()).or_default();
        e.0 += 1;
        e.1 += format!("{:.2}", f.amount_at_risk).parse::<f64>().unwrap();
    }
    let text = std::fs::read_to_string(repo_root().join("tests/fixtures/engine/findings-200k-seed1-by-rule.tsv")).unwrap();
    let mut expected: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = line.split('\t').collect();
        expected.insert(c[0].to_string(), (c[1].parse().unwrap(), c[2].parse().unwrap()));
    }
    assert_eq!(actual.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (rule, (n, amount)) in &expected {
        let (an, aa) = actual[rule];
        assert_eq!(an, *n, "{rule}: finding count");
        assert!((aa - amount).abs() < 0.01, "{rule}: amount {aa} against {amount}");
    }
}

/// Only the tables the rules can read are loaded, and that changes no finding: the federal rules
/// alone, on the same batch and tables, give exactly the federal findings of the whole audit.
#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn rules_that_need_fewer_tables_load_fewer_and_find_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let data = shared_dir().join("data");
    let path = dir.path().join("claims.parquet");
    let mut o = GenerateOptions::new(20_000, 1, &path);
    o.refdata = data.clone();
    generate(&o).unwrap();
    let audit = |rules: &str| {
        run_audit(&AuditOptions { inputs: vec![path.clone()], rules_dir: repo_root().join(rules), refdata: Some(data.clone()), ..Default::default() })
            .unwrap()
    };
    let federal = audit("rules/federal");
    let tables: Vec<&str> = federal.reference_tables.iter().map(|t| t.table).collect();
    assert!(!tables.contains(&"leie") && !tables.contains(&"pfs") && !tables.contains(&"service_minutes"), "{tables:?}");
    assert!(tables.contains(&"ptp") && tables.contains(&"mce_ages") && tables.contains(&"hcpcs"), "{tables:?}");
    let mut actual: Vec<String> = federal.findings.iter().map(key).collect();
    actual.sort();
    let expected = std::fs::read_to_string(repo_root().join("tests/fixtures/engine/findings-20k-seed1.tsv")).unwrap();
    let expected: Vec<&str> = expected.lines().filter(|l| l.starts_with("C\tFED-")).collect();
    assert_eq!(actual, expected);
}
