//! The rule engine: scopes, sandbox, and rules that fail.
use crate::common::repo_root;
use crate::support::{audit, audit_with, fixture};

#[test]
fn each_scope_sees_its_records() {
    let r = audit(&[fixture("claims/small.csv")], &fixture("rules/scopes"));
    let msgs = |rule: &str| -> Vec<String> { r.findings.iter().filter(|f| f.rule_id == rule).map(|f| f.message.clone()).collect() };
    // line: exactly the one 99215 line, with its own amount
    assert_eq!(msgs("T-LINE"), vec!["line 1 of A1 bills 99215"]);
    let line = r.findings.iter().find(|f| f.rule_id == "T-LINE").unwrap();
    assert_eq!((line.claim_id.as_str(), line.line_number, line.amount_at_risk), ("A1", Some(1), 1.5));
    // claim: A1 has three lines; claim-level finding has no line number and defaults to the claim total
    assert_eq!(msgs("T-CLAIM"), vec!["claim A1 has 3 lines totalling 319.0"]);
    let claim = r.findings.iter().find(|f| f.rule_id == "T-CLAIM").unwrap();
    assert_eq!((claim.line_number, claim.amount_at_risk), (None, 319.0));
    // patient_day: P1 saw 1003000126 on 2024-07-10 on claims A1 and A2
    assert_eq!(msgs("T-PATIENT-DAY"), vec!["patient P1 seen by 1003000126 on 2024-07-10 on 2 claims"]);
    let pd = r.findings.iter().find(|f| f.rule_id == "T-PATIENT-DAY").unwrap();
    assert_eq!((pd.claim_id.as_str(), pd.line_number), ("A2", Some(1)));
    // provider: Polars aggregates per rendering NPI
    let mut prov = msgs("T-PROVIDER");
    prov.sort();
    assert_eq!(
        prov,
        vec!["provider 1003000126: 4 lines, 2 claims, 1 of 1 E/M at level 4-5", "provider 1376609297: 2 lines, 1 claims, 1 of 1 E/M at level 4-5",]
    );
}

#[test]
fn a_rule_that_loops_forever_is_stopped_and_reported_and_others_run() {
    let r = audit(&[fixture("claims/small.csv")], &fixture("rules/infinite_loop"));
    assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
    let f = &r.failures[0];
    assert_eq!(f.rule_id, "T-LOOP");
    assert!(f.path.ends_with("infinite_loop/loop.rhai"), "{}", f.path);
    assert!(f.message.to_lowercase().contains("too many operations"), "{}", f.message);
    assert!(f.line >= 10 && f.line <= 12, "line {}", f.line);
    // the good rule still found the zero-unit line
    assert_eq!(r.findings.iter().filter(|f| f.rule_id == "T-GOOD").count(), 1);
    assert!(r.findings.iter().all(|f| f.rule_id != "T-LOOP"));
}

#[test]
fn a_rule_with_a_syntax_error_is_reported_with_file_line_column() {
    let r = audit(&[fixture("claims/small.csv")], &fixture("rules/broken_syntax"));
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
    let d = &r.diagnostics[0];
    assert!(d.path.ends_with("broken_syntax/bad.rhai"));
    assert_eq!(d.line, 11, "{d}");
    assert_eq!(d.column, 10, "{d}");
    assert!(d.message.to_lowercase().contains("string"), "{d}");
    assert_eq!(r.findings.iter().filter(|f| f.rule_id == "T-GOOD").count(), 1);
}

#[test]
fn strict_mode_turns_rule_errors_into_a_failed_run() {
    let err = audit_with(&[fixture("claims/small.csv")], &fixture("rules/broken_syntax"), None, true).err().expect("fails");
    assert!(err.to_string().contains("bad.rhai:11:10"), "{err}");
    let err = audit_with(&[fixture("claims/small.csv")], &fixture("rules/infinite_loop"), None, true).err().expect("fails");
    assert!(err.to_string().contains("T-LOOP"), "{err}");
}

#[test]
fn a_rule_that_tries_to_read_a_file_is_refused() {
    let r = audit(&[fixture("claims/small.csv")], &fixture("rules/reads_file"));
    assert!(r.findings.is_empty());
    assert_eq!(r.failures.len(), 1);
    let f = &r.failures[0];
    assert!(f.message.contains("rules cannot import"), "{}", f.message);
    assert_eq!(f.line, 9);
}

#[test]
fn shipped_rule_examples_all_pass() {
    let rules = repo_root().join("rules");
    let refdata = claimlint::rules::load_refdata(&rules, None).unwrap();
    let engine = claimlint::rules::new_engine(Default::default(), &refdata);
    let set = claimlint::rules::load_rules(&engine, &rules).unwrap();
    assert!(set.diagnostics.iter().all(|d| d.is_warning), "{:?}", set.diagnostics);
    let outcomes = claimlint::rules::testing::run_all(&engine, &refdata, &claimlint::audit::example_providers, &set.rules);
    assert!(outcomes.len() >= 12, "only {} examples", outcomes.len());
    let failed: Vec<_> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn a_wrong_expectation_fails_with_a_readable_diff() {
    use claimlint::rules::{compile, source::parse_rule_text};
    let engine = claimlint::rules::new_engine(Default::default(), &Default::default());
    let text = std::fs::read_to_string(repo_root().join("rules/core/units_positive.rhai")).unwrap();
    // Expect the clean example to flag: the runner must say what it expected and what it got.
    let text = text.replacen("line_number: 1, message_contains: \"units\"", "line_number: 2, message_contains: \"units\"", 1);
    let rule = compile(&engine, parse_rule_text(std::path::Path::new("units.rhai"), text).unwrap()).unwrap();
    let failing: Vec<_> = rule
        .meta()
        .examples
        .iter()
        .filter_map(|e| claimlint::rules::testing::run_example(&engine, &Default::default(), &claimlint::audit::example_providers, &rule, e))
        .collect();
    assert_eq!(failing.len(), 1);
    assert!(failing[0].contains("- expected: line 2, message containing \"units\""), "{}", failing[0]);
    assert!(failing[0].contains("+ actual:   claim T1, line 1"), "{}", failing[0]);
}

#[test]
fn pointers_past_slot_12_are_skipped_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, "claim_id,patient_id,service_date_from,procedure_code,units,charge_amount,dx_1,dx_2,dx_pointers\nP1,PT,2024-07-01,99213,1,100,I10,E11.9,\"2,13\"\n").unwrap();
    let r = audit(&[csv], &fixture("rules/pointed_dx"));
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let msgs: Vec<&str> = r.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(msgs, vec!["points at [\"E11.9\"]"]);
}

#[test]
fn script_dates_parse_iso_and_compact_forms_only() {
    use chrono::NaiveDate;
    use claimlint::dates::parse;
    assert_eq!(parse("2024-02-29"), NaiveDate::from_ymd_opt(2024, 2, 29));
    assert_eq!(parse(" 20240229 "), NaiveDate::from_ymd_opt(2024, 2, 29));
    for bad in ["2023-02-29", "2024-2-29", "2024/02/29", "2024-13-01", "", "20241", "2024-02-2x", "+024-02-29"] {
        assert_eq!(parse(bad), None, "{bad:?}");
    }
}

#[test]
fn docs_rules_md_tables_are_generated_from_the_code() {
    let path = crate::common::repo_root().join("docs/rules.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let filled = claimlint::docs::fill(&text, &claimlint::docs::rules_md_blocks()).unwrap();
    if std::env::var_os("CLAIMLINT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &filled).unwrap();
    }
    assert!(filled == text, "docs/rules.md is stale: run `CLAIMLINT_UPDATE_DOCS=1 cargo test docs_` to regenerate it");
}

#[test]
fn day_numbers_count_from_1970() {
    use chrono::NaiveDate;
    use claimlint::dates::{epoch, from_days, to_days};
    assert_eq!(from_days(0), epoch());
    assert_eq!(from_days(19_723), NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
    assert_eq!(from_days(-1), NaiveDate::from_ymd_opt(1969, 12, 31).unwrap());
    for d in [-700_000, -1, 0, 1, 19_723, 60_000] {
        assert_eq!(to_days(from_days(d)), d);
    }
}

#[test]
fn an_example_runs_against_the_reference_rows_it_declares_and_no_others() {
    use claimlint::rules::{compile, source::parse_rule_text};
    let engine = claimlint::rules::new_engine(Default::default(), &Default::default());
    let text = std::fs::read_to_string(repo_root().join("rules/federal/mue.rhai")).unwrap();
    let run = |text: String| -> Vec<String> {
        let rule = compile(&engine, parse_rule_text(std::path::Path::new("mue.rhai"), text).unwrap()).unwrap();
        // No tables loaded at all: whatever the examples see comes from their own rows.
        let empty = claimlint::refdata::RefData::empty();
        rule.meta()
            .examples
            .iter()
            .filter_map(|e| claimlint::rules::testing::run_example(&engine, &empty, &claimlint::audit::example_providers, &rule, e))
            .collect()
    };
    assert_eq!(run(text.clone()), Vec::<String>::new());
    // A declared limit of 3 makes three units clean: the example's rows decide, not rules/data.
    let raised =
        text.replacen(r#"mue: [{ hcpcs_code: "99213", mue_units: 2, mue_mai: 3"#, r#"mue: [{ hcpcs_code: "99213", mue_units: 3, mue_mai: 3"#, 1);
    assert_ne!(raised, text);
    let failing = run(raised);
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert!(failing[0].contains("- expected: line 1"), "{}", failing[0]);
    // Rows that are not the table's normalised columns, or a table that does not exist, are errors.
    let wrong =
        text.replacen(r#"{ hcpcs_code: "99213", mue_units: 2, mue_mai: 3, mue_rationale: "Clinical: Data" }]"#, r#"{ code: "99213", limit: 2 }]"#, 1);
    assert!(run(wrong).iter().any(|f| f.contains("were not recognised as that table")));
    let unknown = text.replacen("      mue: [{ hcpcs_code: \"99213\", mue_units: 2", "      muee: [{ hcpcs_code: \"99213\", mue_units: 2", 1);
    assert!(run(unknown).iter().any(|f| f.contains("`muee` is not a reference table name")));
}
