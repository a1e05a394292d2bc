//! Out-of-core audits: a batch audited in patient partitions gives exactly the findings, totals
//! and provider indicators of the same batch audited in memory.
use claimlint::audit::{run_audit, AuditOptions, AuditResult};
use claimlint::generate::{generate, GenerateOptions};

use crate::common::repo_root;

fn audit(path: &std::path::Path, partitions: Option<usize>) -> AuditResult {
    run_audit(&AuditOptions { inputs: vec![path.to_path_buf()], rules_dir: repo_root().join("rules"), partitions, ..Default::default() }).unwrap()
}

#[test]
fn partitions_give_the_findings_totals_and_indicators_of_an_in_memory_audit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.parquet");
    let mut o = GenerateOptions::new(15_000, 5, &path);
    o.refdata = repo_root().join("rules/data");
    o.scheme_share = Some(0.1);
    o.chunk_rows = 4_000;
    generate(&o).unwrap();

    let whole = audit(&path, None);
    assert!(whole.batch.is_some());
    assert!(whole.findings.len() > 50, "{} findings", whole.findings.len());
    assert!(whole.findings.iter().any(|f| f.is_provider_level()));
    for parts in [3, 7] {
        let split = audit(&path, Some(parts));
        assert!(split.batch.is_none(), "a partitioned audit holds no single batch");
        assert_eq!(split.findings, whole.findings, "{parts} partitions: findings differ");
        let t = |r: &AuditResult| serde_json::to_value(&r.totals).unwrap();
        assert_eq!(t(&split), t(&whole), "{parts} partitions: totals differ");
        let ind = |r: &AuditResult| {
            let mut v: Vec<String> = r.provider_indicators.iter().map(|p| serde_json::to_string(p).unwrap()).collect();
            v.sort();
            v
        };
        assert_eq!(ind(&split), ind(&whole), "{parts} partitions: provider indicators differ");
    }
}

#[test]
fn a_patient_always_lands_in_the_same_partition() {
    use claimlint::audit::partition::partition_of;
    assert_eq!(partition_of(Some("P1"), 8), partition_of(Some("  P1 "), 8));
    // FNV-1a of "P1" is 0x09429707b5d2bc9a: fixed, so partitions never depend on the run.
    assert_eq!(partition_of(Some("P1"), 1 << 20), (0x09429707b5d2bc9au64 % (1 << 20)) as usize);
    let spread: std::collections::HashSet<usize> = (0..200).map(|i| partition_of(Some(&format!("P{i}")), 8)).collect();
    assert_eq!(spread.len(), 8);
}
