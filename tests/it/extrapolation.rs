//! An audited sample projected to its universe: per-claim overpayments and RAT-STATS limits.
use std::path::PathBuf;

use claimlint::extrapolation::{extrapolate, parse_confidence, SampleDesign};
use claimlint::ratstats::t_two_sided;

use crate::common::repo_root;
use crate::support::audit;

const HEADER: &str = "claim_id,patient_id,service_date_from,procedure_code,units,charge_amount,paid_amount,billing_npi,patient_birth_date,patient_sex,dx_1,place_of_service,dx_pointers\n";
/// Everything else the core rules require, so that only the planted units errors fire.
const COMPLETE: &str = ",1245319599,1970-01-01,F,M54.50,11,A";

/// Six claims. CORE-UNITS-POSITIVE (an error at the line's charge) fires on C1 line 2 and C3.
fn batch(dir: &tempfile::TempDir) -> PathBuf {
    let rows = [
        "C1,P1,2024-03-01,99213,1,100,80",
        "C1,P1,2024-03-01,36415,0,50,40", // overpaid 40: the charge, capped at what was paid
        "C2,P2,2024-03-02,99213,1,200,200",
        "C3,P3,2024-03-03,99214,-1,300,", // unpaid: examined at the charge, 300
        "C4,P4,2024-03-04,99212,1,70,70",
        "C5,P5,2024-03-05,99212,1,90,90",
        "C6,P6,2024-03-06,99213,1,110,110",
    ];
    let path = dir.path().join("claims.csv");
    let rows: Vec<String> = rows.iter().map(|r| format!("{r}{COMPLETE}")).collect();
    std::fs::write(&path, format!("{HEADER}{}\n", rows.join("\n"))).unwrap();
    path
}

fn core_rules() -> PathBuf {
    repo_root().join("rules/core")
}

#[test]
fn whole_batch_sample_projects_the_mean_overpayment_with_t_limits() {
    let dir = tempfile::tempdir().unwrap();
    let result = audit(&[batch(&dir)], &core_rules());
    let x = extrapolate(&result, SampleDesign::WholeBatch { universe: 60 }, 0.90).unwrap();

    let per_claim: Vec<(&str, f64, f64, f64)> = x.claims.iter().map(|c| (c.claim_id.as_str(), c.examined, c.audited, c.overpayment)).collect();
    assert_eq!(
        per_claim,
        vec![
            ("C1", 120.0, 80.0, 40.0),
            ("C2", 200.0, 200.0, 0.0),
            ("C3", 300.0, 0.0, 300.0),
            ("C4", 70.0, 70.0, 0.0),
            ("C5", 90.0, 90.0, 0.0),
            ("C6", 110.0, 110.0, 0.0),
        ]
    );
    assert_eq!(x.claims[0].rules, vec!["CORE-UNITS-POSITIVE".to_string()]);
    assert_eq!((x.sample_size, x.universe_size, x.claims_in_error), (6, 60, 2));

    // Independently: mean 340/6, s^2 = sum((y - mean)^2) / 5, SE(total) = N * sqrt((1 - n/N) s^2 / n).
    let y = [40.0, 0.0, 300.0, 0.0, 0.0, 0.0];
    let mean = 340.0 / 6.0;
    let s2 = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 5.0;
    let se_total = 60.0 * ((1.0 - 6.0 / 60.0) * s2 / 6.0).sqrt();
    assert!((x.point_estimate - 3400.0).abs() < 1e-9, "{}", x.point_estimate);
    for (confidence, limits) in [(0.80, &x.limits[0]), (0.90, &x.chosen), (0.95, &x.limits[2])] {
        let t = t_two_sided(5, confidence).unwrap();
        assert!((limits.lower - (3400.0 - t * se_total)).abs() < 1e-6, "{confidence}: {}", limits.lower);
        assert!((limits.upper - (3400.0 + t * se_total)).abs() < 1e-6, "{confidence}: {}", limits.upper);
        assert!((limits.factor - t).abs() < 1e-12);
    }
    // The one-sided 90% lower bound is the two-sided 80% lower limit.
    assert_eq!(x.one_sided_90_lower, x.limits[0].lower);
    assert!(x.one_sided_90_lower > x.chosen.lower);
    assert!(x.ratstats_text.contains("UNIVERSE SIZE: 60"));
    assert!(x.claims_csv().contains("1,,C3,300.00,0.00,300.00,CORE-UNITS-POSITIVE\n"));
}

#[test]
fn a_chosen_confidence_adds_its_limits() {
    let dir = tempfile::tempdir().unwrap();
    let result = audit(&[batch(&dir)], &core_rules());
    let c = parse_confidence("99").unwrap();
    let x = extrapolate(&result, SampleDesign::WholeBatch { universe: 60 }, c).unwrap();
    let levels: Vec<f64> = x.limits.iter().map(|l| l.confidence).collect();
    assert_eq!(levels, vec![0.80, 0.90, 0.95, 0.99]);
    assert_eq!(x.chosen.confidence, 0.99);
    assert!(x.chosen.lower < x.limits[2].lower, "99% limits are wider than 95%");
    assert_eq!(parse_confidence("0.95"), Ok(0.95));
    assert!(parse_confidence("100").is_err());
    assert!(parse_confidence("abc").is_err());
}

#[test]
fn sample_file_strata_use_their_frame_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let result = audit(&[batch(&dir)], &core_rules());
    let sample = dir.path().join("sample.csv");
    std::fs::write(
        &sample,
        "stratum,name,kind,selection_order,value,item,frame_size\n\
         1,low,sample,1,4,C4,40\n1,low,sample,2,9,C1,40\n1,low,spare,3,2,C2,40\n\
         2,high,sample,1,7,C3,10\n2,high,sample,2,3,C6,10\n",
    )
    .unwrap();
    let x = extrapolate(&result, SampleDesign::SampleFile(&sample), 0.90).unwrap();
    assert_eq!(x.design, "stratified");
    assert_eq!((x.universe_size, x.sample_size), (50, 4), "spares are not in the sample");
    // Stratified point estimate: 40 * mean(0, 40) + 10 * mean(300, 0) = 800 + 1500.
    assert!((x.point_estimate - 2300.0).abs() < 1e-9, "{}", x.point_estimate);
    let strata: Vec<(u64, u64, f64)> = x.strata.iter().map(|s| (s.universe_size, s.sample_size, s.overpayment)).collect();
    assert_eq!(strata, vec![(40, 2, 40.0), (10, 2, 300.0)]);
    assert_eq!(x.claims[1].selection_order, Some(2));
}

#[test]
fn sampled_claims_missing_from_the_audit_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let result = audit(&[batch(&dir)], &core_rules());
    let sample = dir.path().join("sample.csv");
    std::fs::write(&sample, "stratum,name,kind,selection_order,value,item,frame_size\n1,all,sample,1,1,C1,100\n1,all,sample,2,2,C99,100\n").unwrap();
    let err = extrapolate(&result, SampleDesign::SampleFile(&sample), 0.90).unwrap_err().to_string();
    assert!(err.contains("1 sampled claim(s) are not in the audited files") && err.contains("C99"), "{err}");

    std::fs::write(&sample, "stratum,item\n1,C1\n").unwrap();
    let err = extrapolate(&result, SampleDesign::SampleFile(&sample), 0.90).unwrap_err().to_string();
    assert!(err.contains("frame_size"), "{err}");

    // A universe smaller than the sample is RAT-STATS's error, not a panic.
    let err = extrapolate(&result, SampleDesign::WholeBatch { universe: 3 }, 0.90).unwrap_err().to_string();
    assert!(err.contains("extrapolation:"), "{err}");
}

#[test]
fn dollars_at_risk_count_a_claim_once_when_claim_and_line_findings_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.csv");
    // No NPI, birth date, sex or dx: CORE-REQUIRED-FIELDS flags the claim (150) and each line.
    std::fs::write(
        &path,
        "claim_id,patient_id,service_date_from,procedure_code,units,charge_amount\nC1,P1,2024-03-01,99213,1,100\nC1,P1,2024-03-01,36415,0,50\n",
    )
    .unwrap();
    let result = audit(&[path], &core_rules());
    assert!(result.findings.iter().any(|f| f.line_number.is_none()) && result.findings.iter().any(|f| f.line_number == Some(2)));
    assert_eq!(result.totals.amount_at_risk, 150.0);
    assert_eq!(result.totals.total_charge, 150.0);
}

fn claimlint(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_claimlint")).args(args).current_dir(repo_root()).output().unwrap()
}

#[test]
fn the_compliance_report_shows_the_sample_and_the_extrapolation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let run = claimlint(&["audit", "samples/claims.csv", "--sample", "samples/sample.csv", "--confidence", "95", "--out", out]);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("Sample audit and extrapolated overpayment"));
    assert!(html.contains("95.0% two-sided limits"));
    assert!(html.contains("one-sided 90% lower bound"));
    let claims = std::fs::read_to_string(dir.path().join("sample_claims.csv")).unwrap();
    assert_eq!(claims.lines().count(), 31, "header and the 30 sampled claims");
    for line in claims.lines().skip(1) {
        let id = line.split(',').nth(2).unwrap();
        assert!(html.contains(&format!("<td>{id}</td>")), "{id} in the sampled-claims table");
    }
    let text = std::fs::read_to_string(dir.path().join("extrapolation.txt")).unwrap();
    assert!(text.contains("SAMPLE SIZE: 30") && text.contains("UNIVERSE SIZE: 151"));
}

#[test]
fn sample_and_appraise_write_self_contained_html() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let run = claimlint(&["sample", "--seed", "48863.78", "--size", "10", "--spares", "4", "--claims", "samples/claims.csv", "--out", out]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let html = std::fs::read_to_string(dir.path().join("sample.html")).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("sample.csv")).unwrap();
    for line in csv.lines().skip(1) {
        let item = line.split(',').nth(5).unwrap();
        assert!(html.contains(&format!("<td>{item}</td>")), "{item}");
    }
    let page = dir.path().join("attribute.html");
    let run = claimlint(&["appraise", "attribute", "--universe", "100", "--sample", "10", "--errors", "4", "--html", page.to_str().unwrap()]);
    assert!(run.status.success());
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("table class=\"sortable\"") && html.contains("RAT-STATS printout"));
    for h in [&html, &std::fs::read_to_string(dir.path().join("sample.html")).unwrap()] {
        assert!(!h.contains("src=\"http") && !h.contains("href=\"http"), "no network resources");
    }
}
