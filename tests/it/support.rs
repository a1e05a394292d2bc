//! Running audits from tests.
use std::path::{Path, PathBuf};

use claimlint::audit::{run_audit, AuditOptions, AuditResult};
use claimlint::rules::Sandbox;

use crate::common::repo_root;

pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(rel)
}

pub fn audit_with(inputs: &[PathBuf], rules: &Path, aliases: Option<PathBuf>, strict: bool) -> anyhow::Result<AuditResult> {
    run_audit(&AuditOptions {
        inputs: inputs.to_vec(),
        rules_dir: rules.to_path_buf(),
        refdata: None,
        cache_dir: None,
        aliases,
        sandbox: Sandbox { max_operations: 200_000 },
        strict,
        peer_table: None,
        ..Default::default()
    })
}

/// A strict audit of one file with the federal rules, on `refdata` (default: rules/data).
pub fn audit_federal_file(input: &Path, refdata: Option<PathBuf>) -> AuditResult {
    run_audit(&AuditOptions {
        inputs: vec![input.to_path_buf()],
        rules_dir: repo_root().join("rules/federal"),
        refdata,
        cache_dir: None,
        aliases: None,
        sandbox: Sandbox { max_operations: 2_000_000 },
        strict: true,
        peer_table: None,
        ..Default::default()
    })
    .expect("audit runs")
}

pub fn audit(inputs: &[PathBuf], rules: &Path) -> AuditResult {
    audit_with(inputs, rules, None, false).expect("audit runs")
}

/// (claim, line, rule) triples, sorted, for comparing runs.
pub fn keys(result: &AuditResult) -> Vec<(String, Option<i64>, String)> {
    let mut v: Vec<_> = result.findings.iter().map(|f| (f.claim_id.clone(), f.line_number, f.rule_id.clone())).collect();
    v.sort();
    v
}
