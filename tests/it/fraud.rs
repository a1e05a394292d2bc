//! Fraud-risk indicators on small hand-checked batches, the risk score, the reports, and the
//! peer comparison on the real CMS Physician & Other Practitioners files.
use std::collections::HashMap;
use std::path::PathBuf;

use claimlint::audit::{audit_loaded, AuditOptions, AuditResult};
use claimlint::fraud::indicators::ProviderIndicators;
use claimlint::fraud::{puf, score};
use claimlint::rules::Sandbox;

use crate::common::{repo_root, shared_data};
use crate::support::audit;

const HEADER: &str = "claim_id,patient_id,rendering_npi,provider_specialty,service_date_from,procedure_code,modifier_1,units,charge_amount\n";

fn run(rows: &[&str]) -> AuditResult {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.csv");
    std::fs::write(&path, format!("{HEADER}{}\n", rows.join("\n"))).unwrap();
    audit(&[path], &repo_root().join("rules/fraud"))
}

fn by_npi(r: &AuditResult) -> HashMap<&str, &ProviderIndicators> {
    r.provider_indicators.iter().map(|p| (p.npi.as_str(), p)).collect()
}

/// `n` lines of one code for one provider, one claim each.
fn lines(npi: &str, specialty: &str, code: &str, n: usize, date: &str, charge: f64) -> Vec<String> {
    (0..n).map(|i| format!("{npi}-{code}-{i}-{date},P{i},{npi},{specialty},{date},{code},,1,{charge}")).collect()
}

#[test]
fn em_mix_chi_square_matches_the_hand_computation() {
    // Provider A: 99213 x2, 99214 x4, 99215 x4. Peers B and C pooled: 99213 x12, 99214 x6, 99215 x2.
    let mut rows = Vec::new();
    rows.extend(lines("A", "FP", "99213", 2, "2024-07-01", 100.0));
    rows.extend(lines("A", "FP", "99214", 4, "2024-07-01", 150.0));
    rows.extend(lines("A", "FP", "99215", 4, "2024-07-01", 200.0));
    rows.extend(lines("B", "FP", "99213", 6, "2024-07-02", 100.0));
    rows.extend(lines("B", "FP", "99214", 3, "2024-07-02", 150.0));
    rows.extend(lines("B", "FP", "99215", 1, "2024-07-02", 200.0));
    rows.extend(lines("C", "FP", "99213", 6, "2024-07-03", 100.0));
    rows.extend(lines("C", "FP", "99214", 3, "2024-07-03", 150.0));
    rows.extend(lines("C", "FP", "99215", 1, "2024-07-03", 200.0));
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let r = run(&refs);
    let a = by_npi(&r)["A"];
    let em = a.em.as_ref().unwrap();
    assert_eq!(em.counts, vec![0.0, 0.0, 2.0, 4.0, 4.0]);
    assert_eq!(em.peer_counts, vec![0.0, 0.0, 12.0, 6.0, 2.0]);
    // 2 x 3 table (99211/99212 empty and dropped), n = 30; column totals 14, 10, 6; row totals 10, 20.
    // Expected A: 14/3, 10/3, 2; peers: 28/3, 20/3, 4.
    // X2 = (2-14/3)^2/(14/3) + (4-10/3)^2/(10/3) + (4-2)^2/2 + (12-28/3)^2/(28/3) + (6-20/3)^2/(20/3) + (2-4)^2/4
    //    = 1.523810 + 0.133333 + 2 + 0.761905 + 0.066667 + 1 = 5.485714, df 2, p = exp(-X2/2) = 0.064388.
    let c = em.chi_square.as_ref().unwrap();
    assert!((c.statistic - 5.485714285714).abs() < 1e-9, "{}", c.statistic);
    assert_eq!(c.df, 2.0);
    assert!((c.p_value - (-5.485714285714f64 / 2.0).exp()).abs() < 1e-12);
    assert!((em.expected_high() - (10.0 / 3.0 + 2.0)).abs() < 1e-9);
    assert!((em.high_share - 0.8).abs() < 1e-12);
    assert!((em.peer_high_share.unwrap() - 0.4).abs() < 1e-12);
    // p = 0.064 > 0.05: not a finding at the rule's default alpha, and too few visits anyway.
    assert!(r.findings.iter().all(|f| f.rule_id != "FRAUD-EM-LEVELS"));
}

trait ExpectedHigh {
    fn expected_high(&self) -> f64;
}
impl ExpectedHigh for claimlint::fraud::indicators::EmIndicator {
    fn expected_high(&self) -> f64 {
        let c = self.chi_square.as_ref().unwrap();
        c.expected[3] + c.expected[4]
    }
}

#[test]
fn impossible_day_minutes_sum_units_times_minutes_per_provider_day() {
    let r = run(&[
        // 2024-07-01: 97110 x 60 units (15 min) + 97140 x 40 (15) + 99213 (20) = 1520 minutes.
        "T1,P1,A,PT,2024-07-01,97110,,60,3000",
        "T2,P2,A,PT,2024-07-01,97140,,40,2000",
        "T3,P3,A,PT,2024-07-01,99213,,1,100",
        "T4,P3,A,PT,2024-07-01,36415,,1,10", // untimed: not counted
        // 2024-07-02: 90837 (53 min) x 2 = 106 minutes.
        "T5,P4,A,PT,2024-07-02,90837,,2,300",
    ]);
    let a = by_npi(&r)["A"];
    let days: Vec<(&str, f64, f64)> = a.busiest_days.iter().map(|d| (d.date.as_str(), d.minutes, d.charge)).collect();
    assert_eq!(days, vec![("2024-07-01", 1520.0, 5100.0), ("2024-07-02", 106.0, 300.0)]);
    let f: Vec<_> = r.findings.iter().filter(|f| f.rule_id == "FRAUD-IMPOSSIBLE-DAY").collect();
    assert_eq!(f.len(), 1);
    assert!(f[0].message.contains("25.3 hours"), "{}", f[0].message);
    assert_eq!(f[0].amount_at_risk, 5100.0);
}

#[test]
fn charge_outliers_use_the_peers_median_and_scaled_mad() {
    let mut rows = Vec::new();
    for (npi, charge) in [("A", 1000.0), ("B", 100.0), ("C", 110.0), ("D", 95.0), ("E", 105.0)] {
        rows.extend(lines(npi, "FP", "99213", 2, "2024-07-01", charge));
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let r = run(&refs);
    let a = by_npi(&r)["A"];
    let o = &a.charge_outliers[0];
    // Per unit: 1000, 100, 110, 95, 105; median 105; |x - 105| = 895, 5, 5, 10, 0, median 5;
    // scaled MAD 5 x 1.4826 = 7.413; z = (1000 - 105) / 7.413 = 120.7339.
    assert_eq!((o.code.as_str(), o.peer_median, o.peers), ("99213", 105.0, 5));
    assert!((o.peer_scaled_mad - 7.413).abs() < 1e-12);
    assert!((o.z - 895.0 / 7.413).abs() < 1e-9, "{}", o.z);
    assert_eq!(o.percentile, 1.0);
    let f: Vec<_> = r.findings.iter().filter(|f| f.rule_id == "FRAUD-CHARGE-OUTLIER").collect();
    assert_eq!(f.len(), 1, "only A is an outlier: {f:?}");
    assert_eq!(f[0].provider_npi, "A");
    assert_eq!(f[0].amount_at_risk, (1000.0 - 105.0) * 2.0);
}

#[test]
fn weekend_and_holiday_shares_count_observed_federal_holidays() {
    let r = run(&[
        "W1,P1,A,FP,2024-07-04,99213,,1,100", // Independence Day (Thursday)
        "W2,P1,A,FP,2024-07-06,99213,,1,100", // Saturday
        "W3,P1,A,FP,2024-07-08,99213,,1,100", // Monday
        "W4,P1,A,FP,2021-12-31,99213,,1,100", // Friday: New Year's Day 2022 observed
        "W5,P2,B,FP,2024-07-09,99213,,1,100", // Tuesday
        "W6,P2,B,FP,2024-11-28,99213,,1,100", // Thanksgiving
    ]);
    let ind = by_npi(&r);
    let a = ind["A"].weekend_holiday.as_ref().unwrap();
    assert_eq!((a.count, a.base, a.peer_count, a.peer_base), (3.0, 4.0, 1.0, 2.0));
    assert_eq!(a.peer_rate, Some(0.5));
    // Benford on A's four 100.00 charges: every first digit is 1.
    let b = ind["A"].benford.as_ref().unwrap();
    assert_eq!(b.counts, [4, 0, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn modifier_rates_and_addon_ratios_compare_with_peers() {
    let mut rows: Vec<String> = vec![
        "M1,P1,A,FP,2024-07-01,99213,25,1,100".into(),
        "M2,P2,A,FP,2024-07-01,99213,25,1,100".into(),
        "M3,P3,A,FP,2024-07-01,99213,,1,100".into(),
        "M4,P4,B,FP,2024-07-01,99213,,1,100".into(),
        "M5,P5,B,FP,2024-07-01,99213,25,1,100".into(),
    ];
    // Mohs: ratios 17312/17311 of 3.0 (A), 0.5, 0.5, 0.4, 0.6 (B..E).
    for (npi, primary, addon) in [("A", 10, 30), ("B", 2, 1), ("C", 4, 2), ("D", 10, 4), ("E", 10, 6)] {
        rows.push(format!("S-{npi}-1,P9,{npi},FP,2024-07-02,17311,,{primary},800"));
        rows.push(format!("S-{npi}-2,P9,{npi},FP,2024-07-02,17312,,{addon},400"));
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let r = run(&refs);
    let a = by_npi(&r)["A"];
    let m = a.modifier_25.as_ref().unwrap();
    assert_eq!((m.count, m.base, m.peer_count, m.peer_base), (2.0, 3.0, 1.0, 2.0));
    let ratio = a.addon_ratios.iter().find(|x| x.addon == "17312").unwrap();
    // Ratios 3, 0.5, 0.5, 0.4, 0.6: median 0.5; |x - 0.5| = 2.5, 0, 0, 0.1, 0.1, median 0.1;
    // scaled MAD 0.14826; z = 2.5 / 0.14826 = 16.862.
    assert_eq!((ratio.ratio, ratio.peer_median, ratio.peers), (Some(3.0), Some(0.5), 5));
    assert!((ratio.z.unwrap() - 2.5 / 0.14826).abs() < 1e-9);
    // 30 add-on units where the peers' median predicts 5: 25 excess units at 400/30 each.
    let f = r.findings.iter().find(|f| f.rule_id == "FRAUD-ADDON-RATIO").expect("A is flagged");
    assert!((f.amount_at_risk - 25.0 * 400.0 / 30.0).abs() < 1e-9);
    assert!(f.message.contains("17312 per 17311: 3.00"), "{}", f.message);
}

#[test]
fn risk_scores_add_rule_weights_and_list_every_factor() {
    let r = audit(&[repo_root().join("samples/claims.csv")], &repo_root().join("rules"));
    let ranked = score::rank(&r);
    assert_eq!(ranked.len(), r.provider_indicators.len());
    let top = &ranked[0];
    // The family practitioner with a duplicate claim (weight 2) and a visit after death (weight 5).
    assert_eq!(top.npi, "1003000126");
    let factors: Vec<(&str, f64, usize)> = top.factors.iter().map(|f| (f.rule_id.as_str(), f.weight, f.findings)).collect();
    assert_eq!(factors, vec![("FRAUD-DUPLICATE-CLAIMS", 2.0, 3), ("FRAUD-SERVICE-AFTER-DEATH", 5.0, 1)]);
    assert_eq!(top.score, 7.0);
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    assert_eq!(ranked.iter().map(|p| p.rank).collect::<Vec<_>>(), (1..=ranked.len()).collect::<Vec<_>>());
}

#[test]
fn the_fraud_report_renders_for_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_claimlint"))
        .args(["audit", "samples/claims.csv", "--out", out, "--show", "0"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let html = std::fs::read_to_string(dir.path().join("fraud.html")).unwrap();
    assert!(html.contains("leads for review, not proof of fraud"));
    assert!(html.contains("id=\"provider-table\"") && html.contains("class=\"sortable\""));
    for npi in ["1003000126", "1999999984", "1666666668"] {
        assert!(html.contains(&format!("id=\"p-{npi}\"")), "drill-down for {npi}");
    }
    assert!(html.contains("FRAUD-IMPOSSIBLE-DAY") && html.contains("27.0 hours"));
    assert!(html.contains("aria-label=\"First-digit shares against Benford"), "Benford chart");
    assert!(html.contains("aria-label=\"E/M level shares"), "E/M chart");
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
}

// ------------------------------------------------------------------ real CMS PUF (Mohs surgery)

/// Independently of claimlint's loader: per Dermatology NPI, 17312 and 17311 services.
fn mohs_units(path: PathBuf) -> HashMap<String, (f64, f64)> {
    let gz = std::process::Command::new("gzip").arg("-dc").arg(path).output().unwrap();
    let text = String::from_utf8(gz.stdout).unwrap();
    let rows = claimlint::ratstats::io::parse_csv_records(&text).unwrap();
    let header = &rows[0].1;
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (npi, kind, code, services) = (at("Rndrng_NPI"), at("Rndrng_Prvdr_Type"), at("HCPCS_Cd"), at("Tot_Srvcs"));
    let mut out: HashMap<String, (f64, f64)> = HashMap::new();
    for (_, r) in rows.iter().skip(1) {
        if r.len() <= services || r[kind] != "Dermatology" {
            continue;
        }
        let n: f64 = r[services].parse().unwrap();
        let e = out.entry(r[npi].clone()).or_default();
        match r[code].as_str() {
            "17311" => e.0 += n,
            "17312" => e.1 += n,
            _ => {}
        }
    }
    out
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn peer_statistics_on_the_2021_mohs_file_match_an_independent_computation() {
    let path = shared_data("puf/physician_by_provider_service_mohs_2021.csv.gz");
    let units = mohs_units(path.clone());
    let mut ratios: Vec<f64> = units.values().filter(|(p, _)| *p > 0.0).map(|(p, a)| a / p).collect();
    ratios.sort_by(f64::total_cmp);
    let median = |v: &[f64]| if v.len() % 2 == 1 { v[v.len() / 2] } else { (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0 };
    let med = median(&ratios);
    let mut dev: Vec<f64> = ratios.iter().map(|r| (r - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median(&dev) * 1.4826;

    let loaded = puf::load_puf(&path).unwrap();
    let opts = AuditOptions {
        inputs: vec![path],
        rules_dir: repo_root().join("rules"),
        refdata: None,
        cache_dir: None,
        aliases: None,
        sandbox: Sandbox::default(),
        strict: true,
        peer_table: None,
    };
    let r = audit_loaded(loaded, &opts, |m| m.tags.iter().any(|t| t == "peers")).unwrap();
    assert_eq!(r.totals.lines, 8938);
    let ind = by_npi(&r);
    let p = ind["1710099585"];
    assert_eq!(p.peer_group, "Dermatology");
    let x = p.addon_ratios.iter().find(|x| x.addon == "17312").unwrap();
    assert_eq!(x.peers, ratios.len());
    assert!((x.peer_median.unwrap() - med).abs() < 1e-12, "{:?} vs {med}", x.peer_median);
    assert!((x.peer_scaled_mad.unwrap() - mad).abs() < 1e-12);
    let (pu, au) = units["1710099585"];
    assert_eq!((x.primary_units, x.addon_units), (pu, au));
    assert!((x.z.unwrap() - (au / pu - med) / mad).abs() < 1e-9);
    assert!(r.findings.iter().any(|f| f.rule_id == "FRAUD-ADDON-RATIO" && f.provider_npi == "1710099585"));

    let html = claimlint::report::render_fraud(&r, "PUF 2021", &claimlint::report::environment(None).unwrap()).unwrap();
    assert!(html.contains("id=\"p-1710099585\""));
}

#[test]
fn an_external_peer_table_gives_the_specialty_mix_for_a_goodness_of_fit_test() {
    let dir = tempfile::tempdir().unwrap();
    // National Family Practice mix in the PUF layout: 99213 60%, 99214 30%, 99215 10% (two rows
    // for 99213, offices and facilities, are summed); another specialty is ignored.
    let peers = dir.path().join("peers.csv");
    std::fs::write(
        &peers,
        "Rndrng_NPI,Rndrng_Prvdr_Type,HCPCS_Cd,Place_Of_Srvc,Tot_Srvcs,Avg_Sbmtd_Chrg\n\
         1,Family Practice,99213,O,500,100\n2,Family Practice,99213,F,100,100\n\
         1,Family Practice,99214,O,300,150\n3,Family Practice,99215,O,\"100\",200\n\
         4,Cardiology,99215,O,9000,300\n",
    )
    .unwrap();
    let claims = dir.path().join("claims.csv");
    let mut rows = Vec::new();
    rows.extend(lines("A", "family practice", "99213", 10, "2024-07-01", 100.0));
    rows.extend(lines("A", "family practice", "99214", 6, "2024-07-01", 150.0));
    rows.extend(lines("A", "family practice", "99215", 4, "2024-07-01", 200.0));
    std::fs::write(&claims, format!("{HEADER}{}\n", rows.join("\n"))).unwrap();
    let r = claimlint::audit::run_audit(&AuditOptions {
        inputs: vec![claims],
        rules_dir: repo_root().join("rules/fraud"),
        refdata: None,
        cache_dir: None,
        aliases: None,
        sandbox: Sandbox::default(),
        strict: true,
        peer_table: Some(peers),
    })
    .unwrap();
    let em = r.provider_indicators[0].em.as_ref().unwrap();
    assert_eq!(em.external_shares.as_deref(), Some(&[0.0, 0.0, 0.6, 0.3, 0.1][..]));
    // Observed 10, 6, 4 against expected 12, 6, 2: X2 = 4/12 + 0 + 4/2 = 2.3333, df 2.
    let c = em.external_chi_square.as_ref().unwrap();
    assert!((c.statistic - 7.0 / 3.0).abs() < 1e-12, "{}", c.statistic);
    assert_eq!(c.df, 2.0);
    assert!((c.p_value - (-7.0f64 / 6.0).exp()).abs() < 1e-12);
    assert!((em.external_high_share.unwrap() - 0.4).abs() < 1e-12);
    // p = 0.31: no finding (and 20 visits is the minimum, so the test ran).
    assert!(r.findings.iter().all(|f| f.rule_id != "FRAUD-EM-LEVELS"));
}
