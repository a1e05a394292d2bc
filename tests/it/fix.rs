//! `claimlint fix`: corrected copies round-trip through the audit (the fixed rules come back
//! clean and nothing else changes), CSV copies change only the fixed cells, Parquet copies keep
//! their schema, and X12 inputs get the change log only.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use claimlint::audit::{run_audit, AuditOptions, AuditResult};
use claimlint::fix::apply;
use claimlint::schema::AliasMap;
use claimlint::vocab::{Finding, FixKind};

use crate::common::repo_root;

fn audit(inputs: &[PathBuf]) -> AuditResult {
    run_audit(&AuditOptions { inputs: inputs.to_vec(), rules_dir: repo_root().join("rules"), ..Default::default() }).unwrap()
}

/// Findings by (row, claim, line, rule, message): the file name is left out, so a corrected
/// copy's findings compare with the original's.
fn keyed(r: &AuditResult) -> BTreeMap<(String, String, Option<i64>, String, String), usize> {
    let mut out = BTreeMap::new();
    for f in &r.findings {
        let row = f.location.rsplit_once(':').map(|(_, row)| row.to_string()).unwrap_or_default();
        *out.entry((row, f.claim_id.clone(), f.line_number, f.rule_id.clone(), f.message.clone())).or_insert(0) += 1;
    }
    out
}

fn is_fixed(f: &Finding, suggested: bool) -> bool {
    f.fix.as_ref().is_some_and(|x| x.applies(suggested))
}

fn copy_with(dir: &Path, name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join("samples/claims.csv")).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, edit(&text)).unwrap();
    path
}

#[test]
fn fixing_the_sample_clears_the_fixed_findings_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo_root().join("samples/claims.csv");
    let before = audit(std::slice::from_ref(&input));
    let out = dir.path().join("fixed");
    let outcome = apply(&before, std::slice::from_ref(&input), &AliasMap::builtin(), &out, true).unwrap();
    // The sample's one-value suggestions: the dangling pointer of CLM00121 and I10.0 of CLM00129.
    let changed: Vec<(&str, &str, &str)> = outcome.changes.iter().map(|c| (c.field.as_str(), c.old.as_str(), c.new.as_str())).collect();
    assert_eq!(changed, vec![("dx_pointers", "AC", "A"), ("dx_1", "I10.0", "I10")]);
    assert!(outcome.changes.iter().all(|c| c.kind == FixKind::Suggested));
    // Fixes with several values or none wait for a person, e.g. M54.5's three children.
    assert!(outcome.pending.iter().any(|p| p.rule_id == "FED-ICD10-NOT-BILLABLE" && p.proposed == "M54.50|M54.51|M54.59"));
    assert!(outcome.pending.iter().any(|p| p.rule_id == "FED-NCCI-PTP" && p.proposed.is_empty()));

    let after = audit(&[out.join("claims.csv")]);
    let mut expected = keyed(&before);
    for f in before.findings.iter().filter(|f| is_fixed(f, true)) {
        let row = f.location.rsplit_once(':').unwrap().1.to_string();
        expected.remove(&(row, f.claim_id.clone(), f.line_number, f.rule_id.clone(), f.message.clone()));
    }
    assert_eq!(keyed(&after), expected, "re-auditing the corrected copy: only the fixed findings are gone");

    // The copy differs from the input in the changed cells only.
    let original = std::fs::read_to_string(&input).unwrap();
    let fixed = std::fs::read_to_string(out.join("claims.csv")).unwrap();
    let differing: Vec<(&str, &str)> = original.lines().zip(fixed.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(differing.len(), 2);
    assert_eq!(original.lines().count(), fixed.lines().count());
    for (a, b) in differing {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
        assert_eq!(a.iter().zip(&b).filter(|(x, y)| x != y).count(), 1, "one cell per line changed");
    }

    let log = std::fs::read_to_string(out.join("changes.csv")).unwrap();
    assert_eq!(log.lines().next().unwrap(), "file,row,field,old,new,rule,kind");
    // Rows are named as findings name them: the line of the file (the header is line 1).
    assert!(log.contains(",253,dx_pointers,AC,A,CORE-DX-POINTER-EMPTY,suggested"), "{log}");
}

#[test]
fn without_suggested_only_safe_fixes_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo_root().join("samples/claims.csv");
    let before = audit(std::slice::from_ref(&input));
    let outcome = apply(&before, std::slice::from_ref(&input), &AliasMap::builtin(), &dir.path().join("out"), false).unwrap();
    assert!(outcome.changes.is_empty(), "the sample has no formatting problems: {:?}", outcome.changes);
    assert_eq!(std::fs::read(dir.path().join("out/claims.csv")).unwrap(), std::fs::read(&input).unwrap());
}

/// Formatting damage (an NPI with dashes, a modifier typed "-25", a place of service "11.0", a
/// diagnosis with a dash) is what safe fixes undo: the corrected copy audits exactly as the
/// undamaged sample does.
#[test]
fn safe_fixes_undo_formatting_damage_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = copy_with(dir.path(), "claims.csv", |text| {
        text.split_inclusive('\n')
            .map(|l| {
                if l.starts_with("CLM00001,") {
                    l.replacen(",1245319599,1245319599,", ",1245-319-599,1245319599,", 1)
                } else if l.starts_with("CLM00003,") && l.contains(",99215,") {
                    l.replacen(",11,99215,,", ",11.0,99215,,", 1)
                } else if l.starts_with("CLM00002,") {
                    l.replacen(",M54.50,", ",M54-50,", 1)
                } else {
                    l.to_string()
                }
            })
            .collect::<String>()
    });
    let original = audit(&[repo_root().join("samples/claims.csv")]);
    let before = audit(std::slice::from_ref(&damaged));
    let rules_hit: Vec<&str> = before.findings.iter().filter(|f| is_fixed(f, false)).map(|f| f.rule_id.as_str()).collect();
    assert_eq!(rules_hit, vec!["CORE-NPI-CHECK-DIGIT", "FED-ICD10-INVALID", "FED-POS-VALID"], "each damage is found with a safe fix");
    let out = dir.path().join("out");
    let outcome = apply(&before, std::slice::from_ref(&damaged), &AliasMap::builtin(), &out, false).unwrap();
    // dx_1 is a claim-level column: both lines of CLM00002 are corrected.
    assert_eq!(outcome.changes.iter().filter(|c| c.field == "dx_1").count(), 2);
    assert!(outcome.changes.iter().all(|c| c.kind == FixKind::Safe));
    let after = audit(&[out.join("claims.csv")]);
    assert_eq!(keyed(&after), keyed(&original));
    assert_eq!(
        std::fs::read_to_string(out.join("claims.csv")).unwrap(),
        std::fs::read_to_string(repo_root().join("samples/claims.csv")).unwrap(),
        "the corrected copy is the undamaged sample, byte for byte"
    );
}

#[test]
fn parquet_copies_keep_their_columns_order_and_types() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let csv = copy_with(dir.path(), "damaged.csv", |t| t.replacen(",1245319599,1245319599,", ",1245-319-599,1245319599,", 1));
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(csv))
        .unwrap()
        .finish()
        .unwrap();
    // Typed columns, as exports have them: units and charges as numbers.
    assert!(frame.column("units").unwrap().dtype().is_primitive_numeric());
    let parquet = dir.path().join("claims.parquet");
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap()).finish(&mut frame).unwrap();

    let before = audit(std::slice::from_ref(&parquet));
    let out = dir.path().join("out");
    let outcome = apply(&before, std::slice::from_ref(&parquet), &AliasMap::builtin(), &out, false).unwrap();
    assert_eq!(outcome.changes.len(), 1);
    assert_eq!((outcome.changes[0].old.as_str(), outcome.changes[0].new.as_str()), ("1245-319-599", "1245319599"));
    let fixed = ParquetReader::new(std::fs::File::open(out.join("claims.parquet")).unwrap()).finish().unwrap();
    assert_eq!(fixed.schema(), frame.schema());
    assert_eq!(fixed.column("billing_npi").unwrap().str().unwrap().get(0), Some("1245319599"));
    assert_eq!(fixed.drop("billing_npi").unwrap(), frame.drop("billing_npi").unwrap());
    let after = audit(&[out.join("claims.parquet")]);
    assert!(!after.findings.iter().any(|f| f.rule_id == "CORE-NPI-CHECK-DIGIT" && f.claim_id == "CLM00001"));
}

#[test]
fn x12_input_gets_the_change_log_only() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_root().join("samples/claims_837p.txt")).unwrap();
    // A modifier typed "-25" in SV101 is formatting a safe fix undoes.
    assert!(text.contains("SV1*HC:99214*"));
    let damaged = dir.path().join("claims.837");
    std::fs::write(&damaged, text.replacen("SV1*HC:99214*", "SV1*HC:99214:-25*", 1)).unwrap();
    let before = audit(std::slice::from_ref(&damaged));
    let out = dir.path().join("out");
    let outcome = apply(&before, std::slice::from_ref(&damaged), &AliasMap::builtin(), &out, false).unwrap();
    assert!(outcome.written.is_empty());
    assert_eq!(outcome.log_only.len(), 1);
    assert_eq!(outcome.changes.len(), 1, "{:?}", outcome.changes);
    assert_eq!((outcome.changes[0].field.as_str(), outcome.changes[0].new.as_str()), ("modifier_1", "25"));
    assert!(!out.join("claims.837").exists());
    assert!(std::fs::read_to_string(out.join("changes.csv")).unwrap().contains("modifier_1,-25,25,FED-MODIFIER-VALID,safe"));
}
