//! Loading claims: formats, aliases and bad input.
use claimlint::vocab::InputError;

use crate::common::repo_root;
use crate::support::{audit, audit_with, fixture, keys};

fn input_error(path: &str) -> String {
    let err = audit_with(&[fixture(path)], &repo_root().join("rules"), None, false).err().expect("input error");
    assert!(err.downcast_ref::<InputError>().is_some(), "not an input error: {err:#}");
    err.to_string()
}

#[test]
fn a_missing_required_column_names_the_column_and_the_file() {
    let msg = input_error("claims/missing_column.csv");
    assert!(msg.contains("missing_column.csv"), "{msg}");
    assert!(msg.contains("missing required column `procedure_code`"), "{msg}");
}

#[test]
fn empty_and_header_only_files_get_clear_messages() {
    let msg = input_error("claims/empty.csv");
    assert!(msg.contains("empty.csv: the file is empty"), "{msg}");
    let msg = input_error("claims/header_only.csv");
    assert!(msg.contains("header_only.csv: the file has a header but no claim lines"), "{msg}");
}

#[test]
fn unreadable_values_become_findings_with_rows_and_the_rest_is_audited() {
    let r = audit(&[fixture("claims/unreadable.csv")], &repo_root().join("rules"));
    let mut dq: Vec<(String, String)> = r
        .findings
        .iter()
        .filter(|f| f.rule_id == "DQ-UNREADABLE-VALUE")
        .map(|f| (f.location.rsplit('/').next().unwrap().to_string(), f.message.clone()))
        .collect();
    dq.sort();
    assert_eq!(
        dq,
        vec![
            (
                "unreadable.csv:3".to_string(),
                "service_date_from `2024-02-30` is not a date (YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY); the line is audited without it".to_string()
            ),
            ("unreadable.csv:4".to_string(), "units `two` is not a number; the line is audited without it".to_string()),
            ("unreadable.csv:5".to_string(), "charge_amount `abc` is not a number; the line is audited without it".to_string()),
        ]
    );
    // every line is still in the batch: 4 lines, 3 claims; $1,195.00 and 07/11/2024 were readable
    assert_eq!((r.totals.lines, r.totals.claims), (4, 3));
    assert_eq!(r.totals.total_charge, 135.0 + 12.0 + 1195.0);
}

#[test]
fn aliases_map_a_users_own_headers() {
    let without = audit_with(&[fixture("claims/custom_headers.csv")], &repo_root().join("rules"), None, false);
    let msg = without.err().expect("needs aliases").to_string();
    assert!(msg.contains("`procedure_code`") && msg.contains("`units`"), "{msg}");

    let r =
        audit_with(&[fixture("claims/custom_headers.csv")], &repo_root().join("rules"), Some(fixture("claims/custom_headers.aliases.yaml")), false)
            .expect("loads with aliases");
    assert_eq!(r.totals.lines, 1);
    // Qty 0 arrived in `units` through the alias, so the units rule sees it.
    assert!(r.findings.iter().any(|f| f.rule_id == "CORE-UNITS-POSITIVE" && f.claim_id == "X1"));
}

#[test]
fn a_bad_alias_file_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aliases.yaml");
    std::fs::write(&path, "columns:\n  procedure_kode: CPT\n").unwrap();
    let err = audit_with(&[fixture("claims/custom_headers.csv")], &repo_root().join("rules"), Some(path), false).err().unwrap();
    assert!(err.to_string().contains("`procedure_kode` is not a canonical column"), "{err}");
}

#[test]
fn csv_parquet_and_ndjson_give_identical_findings() {
    use polars::prelude::*;
    let csv = repo_root().join("samples/claims.csv");
    let dir = tempfile::tempdir().unwrap();
    // Typed copies, as another system would export them: dates as dates, amounts as numbers.
    let mut df = CsvReadOptions::default()
        .with_infer_schema_length(Some(1000))
        .with_parse_options(CsvParseOptions::default().with_try_parse_dates(true))
        .try_into_reader_with_file_path(Some(csv.clone()))
        .unwrap()
        .finish()
        .unwrap();
    assert!(matches!(df.column("service_date_from").unwrap().dtype(), DataType::Date));
    let parquet = dir.path().join("claims.parquet");
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap()).finish(&mut df).unwrap();
    let ndjson = dir.path().join("claims.ndjson");
    JsonWriter::new(std::fs::File::create(&ndjson).unwrap()).with_json_format(JsonFormat::JsonLines).finish(&mut df).unwrap();

    let rules = repo_root().join("rules");
    let from_csv = audit(&[csv], &rules);
    let from_parquet = audit(&[parquet], &rules);
    let from_ndjson = audit(&[ndjson], &rules);
    assert!(!from_csv.findings.is_empty());
    // the typed copies cannot carry the unreadable `1O.00` charge: compare the rest
    let strip = |r: &claimlint::audit::AuditResult| {
        let mut v: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.claim_id != "CLM00123")
            .map(|f| (f.claim_id.clone(), f.line_number, f.rule_id.clone(), f.message.clone(), f.amount_at_risk.to_string()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(strip(&from_csv), strip(&from_parquet));
    assert_eq!(strip(&from_csv), strip(&from_ndjson));
    assert_eq!(from_csv.totals.lines, from_parquet.totals.lines);
    assert_eq!(keys(&from_parquet), keys(&from_ndjson));
}

#[test]
fn several_files_and_folders_load_in_one_run() {
    let r = audit(&[fixture("claims/small.csv"), repo_root().join("samples/claims.csv")], &repo_root().join("rules"));
    assert_eq!(r.totals.files, 2);
    assert_eq!(r.totals.lines, 6 + 304);
}

#[test]
fn the_schema_doc_matches_the_code() {
    let doc = std::fs::read_to_string(repo_root().join("docs/schema.md")).unwrap();
    assert!(doc.ends_with(&claimlint::schema::markdown_table()), "docs/schema.md is stale: regenerate with `claimlint schema`");
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn the_820_claim_837_file_is_audited_end_to_end() {
    let file = crate::common::shared_data("x12/imsweb/x12_many_claims.txt");
    let r = audit(&[file], &repo_root().join("rules/core"));
    assert_eq!(r.totals.claims, 820);
    assert!(r.totals.lines >= 820, "{} lines", r.totals.lines);
    // Every claim bills CLM02 = 500 against 12.25 of lines: the parser's warning becomes a finding.
    assert!(r.findings.iter().any(|f| f.rule_id == "DQ-X12-STRUCTURE" && f.message.contains("CLM02")));
    // The file reuses CLM01 values: each CLM stays its own claim, and the reuse is reported.
    let reused = r.findings.iter().filter(|f| f.rule_id == "DQ-X12-DUPLICATE-CLAIM-ID").count();
    let distinct_ids: std::collections::HashSet<&str> =
        r.findings.iter().filter(|f| f.rule_id == "DQ-X12-DUPLICATE-CLAIM-ID").map(|f| f.claim_id.split('#').next().unwrap()).collect();
    assert_eq!(reused + distinct_ids.len(), 820, "{reused} reused ids over {} distinct", distinct_ids.len());
}

#[test]
fn an_837p_file_loads_like_a_csv() {
    let r = audit(&[repo_root().join("samples/claims_837p.txt")], &repo_root().join("rules/core"));
    assert_eq!((r.totals.claims, r.totals.lines), (4, 12));
    assert!(r.findings.iter().all(|f| f.category != claimlint::vocab::Category::DataQuality), "{:#?}", r.findings);
}

#[test]
fn report_templates_can_be_overridden() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compliance.html.j2"), "custom {{ totals.claims }} claims").unwrap();
    let r = audit(&[fixture("claims/clean.csv")], &repo_root().join("rules/core"));
    let custom = claimlint::report::render_compliance(&r, None, &claimlint::report::environment(Some(dir.path())).unwrap()).unwrap();
    assert_eq!(custom, "custom 1 claims");
    let default = claimlint::report::render_compliance(&r, None, &claimlint::report::environment(None).unwrap()).unwrap();
    assert!(default.contains("clean-claim rate") && !default.contains("<script src") && !default.contains("http"));
}
