//! The compliance report: one self-contained file whose drill-down rows are embedded as
//! compact JSON (every finding, every claim), a "what would come back" table by denial code,
//! and per-rule coverage with bypasses and rules not run.
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use claimlint::audit::{run_audit, AuditOptions, AuditResult};
use claimlint::report::{coverage, denial_table, environment, render_compliance};

use crate::common::repo_root;

fn audit_sample(refdata: Option<PathBuf>) -> AuditResult {
    audit_file(repo_root().join("samples/claims.csv"), refdata)
}

fn audit_file(input: PathBuf, refdata: Option<PathBuf>) -> AuditResult {
    run_audit(&AuditOptions { inputs: vec![input], rules_dir: repo_root().join("rules"), refdata, ..Default::default() }).unwrap()
}

fn embedded(html: &str) -> serde_json::Value {
    let tag = r#"<script type="application/json" id="report-data">"#;
    let start = html.find(tag).expect("embedded data") + tag.len();
    let end = start + html[start..].find("</script>").expect("closed");
    serde_json::from_str(&html[start..end]).expect("valid JSON")
}

#[test]
fn every_finding_and_claim_is_embedded_and_the_page_is_self_contained() {
    let r = audit_sample(None);
    assert!(r.findings.len() > 20, "the sample has findings");
    let html = render_compliance(&r, None, &environment(None).unwrap()).unwrap();
    assert!(!html.contains("<script src") && !html.contains("http://") && !html.contains("https://"));
    let d = embedded(&html);
    let findings = d["findings"].as_array().unwrap();
    assert_eq!(findings.len(), r.findings.len());
    let rules = d["rules"].as_array().unwrap();
    for (row, f) in findings.iter().zip(&r.findings) {
        assert_eq!(row[0].as_str().unwrap(), f.claim_id);
        assert_eq!(row[1].as_i64(), f.line_number);
        assert_eq!(rules[row[2].as_u64().unwrap() as usize][0].as_str().unwrap(), f.rule_id);
        assert_eq!(row[5].as_str().unwrap(), f.message);
        assert!((row[6].as_f64().unwrap() - f.amount_at_risk).abs() < 0.005);
        let denial = row[11].as_i64().unwrap();
        match &f.denial {
            Some(x) => assert!(d["denials"][denial as usize][0].as_str().unwrap().starts_with(&x.code())),
            None => assert_eq!(denial, -1),
        }
        assert_eq!(row[12].as_i64().unwrap() >= 0, f.fix.is_some(), "{}: fix embedded", f.rule_id);
    }
    let claim_ids: HashSet<&str> = r.findings.iter().filter(|f| !f.is_provider_level()).map(|f| f.claim_id.as_str()).collect();
    let claims = d["claims"].as_array().unwrap();
    assert_eq!(claims.len(), claim_ids.len());
    // Largest dollars at risk first, and each claim lists exactly its own findings.
    let amounts: Vec<f64> = claims.iter().map(|c| c[4].as_f64().unwrap()).collect();
    assert!(amounts.windows(2).all(|w| w[0] >= w[1]));
    let listed: usize = claims.iter().map(|c| c[6].as_array().unwrap().len()).sum::<usize>() + d["provider_findings"].as_array().unwrap().len();
    assert_eq!(listed, r.findings.len());
    for c in claims {
        for i in c[6].as_array().unwrap() {
            assert_eq!(findings[i.as_u64().unwrap() as usize][0], c[0]);
        }
    }
    // A message cannot close the data element early.
    assert_eq!(html.matches("</script>").count(), html.matches("<script").count());
}

#[test]
fn what_would_come_back_sums_up_the_findings_by_denial_code() {
    let r = audit_sample(None);
    let rows = denial_table(&r);
    let claim_findings: Vec<_> = r.findings.iter().filter(|f| !f.is_provider_level()).collect();
    assert!(claim_findings.len() < r.findings.len(), "the sample has a provider-level finding, which no remittance carries");
    assert_eq!(rows.iter().map(|d| d.findings).sum::<usize>(), claim_findings.len());
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    for f in claim_findings {
        *by_code.entry(f.denial.as_ref().map(|d| d.code()).unwrap_or_default()).or_default() += 1;
    }
    for d in &rows {
        assert_eq!(by_code[&d.code], d.findings, "{}", d.code);
    }
    let ptp = r.findings.iter().find(|f| f.rule_id == "FED-NCCI-PTP").expect("the sample has a PTP finding");
    let code = ptp.denial.as_ref().expect("PTP carries a denial").code();
    let row = rows.iter().find(|d| d.code == code).unwrap();
    assert!(row.rules.contains(&"FED-NCCI-PTP".to_string()) && row.amount > 0.0);
    let html = render_compliance(&r, None, &environment(None).unwrap()).unwrap();
    assert!(html.contains("What would come back") && html.contains(&format!("<strong>{code}</strong>")));
}

#[test]
fn coverage_lists_each_rule_with_its_bypasses_and_the_rules_not_run() {
    // CLM00124 bills 80053 with 80048-59 (indicator 0: a finding); make its second line 82565-59,
    // an indicator-1 pair that modifier 59 lets through.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_root().join("samples/claims.csv")).unwrap();
    let edited = text.replace(",11,80048,59,,1,30.00,", ",11,82565,59,,1,30.00,");
    assert_ne!(edited, text);
    let input = dir.path().join("claims.csv");
    std::fs::write(&input, edited).unwrap();
    let r = audit_file(input, None);
    let rows = coverage(&r);
    let ptp = rows.iter().find(|c| c.rule_id == "FED-NCCI-PTP").unwrap();
    let profile = r.profile.iter().find(|p| p.rule_id == "FED-NCCI-PTP").unwrap();
    assert_eq!((ptp.records, ptp.not_run.as_deref()), (Some(profile.records), None));
    assert_eq!(ptp.findings, 0, "the one PTP finding of the sample is now bypassed");
    assert_eq!((ptp.bypasses, ptp.bypasses_by_reason.as_str()), (1, "59 × 1"));
    assert_eq!(r.bypasses.provider_count("1003000126", "FED-NCCI-PTP", &["59", "XU"]), 1);
    for c in &rows {
        assert_eq!(c.findings, r.findings.iter().filter(|f| f.rule_id == c.rule_id).count(), "{}", c.rule_id);
    }

    // With only the place-of-service table the other table-driven rules check nothing, and say
    // so (a named folder with no table at all is refused).
    let empty = tempfile::tempdir().unwrap();
    std::fs::copy(repo_root().join("rules/data/codes/place_of_service.csv"), empty.path().join("place_of_service.csv")).unwrap();
    let r = audit_sample(Some(empty.path().to_path_buf()));
    let rows = coverage(&r);
    let ptp = rows.iter().find(|c| c.rule_id == "FED-NCCI-PTP").unwrap();
    assert_eq!((ptp.records, ptp.findings, ptp.not_run.as_deref()), (None, 0, Some("ptp")));
    assert_eq!(rows.iter().filter(|c| c.not_run.is_some()).count(), r.not_run.len());
    let html = render_compliance(&r, None, &environment(None).unwrap()).unwrap();
    assert!(html.contains("not run: needs ptp"));
}

#[test]
fn every_shipped_rule_names_a_denial() {
    let rules = repo_root().join("rules");
    let engine = claimlint::rules::new_engine(Default::default(), &claimlint::rules::load_refdata(&rules, None).unwrap());
    let set = claimlint::rules::load_rules(&engine, &rules).unwrap();
    assert!(set.rules.len() >= 30);
    for r in &set.rules {
        let m = r.meta();
        let d = m.denial.as_ref().unwrap_or_else(|| panic!("{}: no denial block", m.id));
        assert!(
            ["CO", "PR", "OA", "PI"].contains(&d.group.as_str()) && !d.carc.is_empty() && !d.label.is_empty() && !d.source.is_empty(),
            "{}: {d:?}",
            m.id
        );
    }
}

#[test]
#[ignore = "needs ../shared/data (codes/rarc_codes.csv)"]
fn every_remark_code_of_the_shipped_rules_is_on_the_published_list() {
    let list = std::fs::read_to_string(crate::common::shared_data("codes/rarc_codes.csv")).unwrap();
    let known: HashSet<&str> = list.lines().skip(1).map(str::trim).collect();
    let rules = repo_root().join("rules");
    let engine = claimlint::rules::new_engine(Default::default(), &claimlint::rules::load_refdata(&rules, None).unwrap());
    let set = claimlint::rules::load_rules(&engine, &rules).unwrap();
    let mut checked = 0;
    for r in &set.rules {
        for code in r.meta().denial.iter().flat_map(|d| d.rarc.iter()) {
            assert!(known.contains(code.as_str()), "{}: {code} is not on rarc_codes.csv", r.meta().id);
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} remark codes");
}
