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
    // Per unit: 1000, 100, 110, 95, 105; median 105. Charges compare as ratios, on logs:
    // |ln x - ln 105| = ln(1000/105), ln(105/100), ln(110/105), ln(105/95), 0, whose median is
    // ln 1.05; scale 1.4826 ln 1.05 = 0.07234; z = ln(1000/105) / 0.07234 = 31.2.
    assert_eq!((o.code.as_str(), o.peer_median, o.peers), ("99213", 105.0, 5));
    let scale = 1.4826 * 1.05f64.ln();
    assert!((o.peer_log_scale - scale).abs() < 1e-12, "{}", o.peer_log_scale);
    assert!((o.z - (1000.0f64 / 105.0).ln() / scale).abs() < 1e-9, "{}", o.z);
    assert!((o.ratio_to_median - 1000.0 / 105.0).abs() < 1e-12);
    assert_eq!(o.percentile, 1.0);
    // A bills one price: its charge is above the median for sure (t-test p = 0).
    assert_eq!((o.unit_price_sd, o.p_value, o.q_value), (0.0, 0.0, 0.0));
    // Five providers are too few for a 98th percentile: the rule wants ten.
    assert!(r.findings.iter().all(|f| f.rule_id != "FRAUD-CHARGE-OUTLIER"));

    // With ten, A is the lead; B's varying charges average 150 (2x the median of 75) over
    // twenty units but swing too much (t-test) to be one.
    let mut rows = Vec::new();
    for (i, charge) in [1000.0, 60.0, 65.0, 70.0, 75.0, 75.0, 80.0, 85.0, 90.0].iter().enumerate() {
        rows.extend(lines(&format!("P{i}"), "FP", "99213", 20, "2024-07-01", *charge));
    }
    for j in 0..20 {
        rows.push(format!("B-{j},Q{j},B,FP,2024-07-02,99213,,1,{}", if j % 2 == 0 { 20.0 } else { 280.0 }));
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let r = run(&refs);
    let ind = by_npi(&r);
    let b = &ind["B"].charge_outliers[0];
    assert_eq!((b.charge_per_unit, b.unit_price_sd, b.peers), (150.0, 130.0, 10));
    // Median of 1000, 60, 65, 70, 75, 75, 80, 85, 90, 150: 77.5; t = (150 - 77.5) / (130 / sqrt 20).
    assert_eq!(b.peer_median, 77.5);
    let t = (150.0 - 77.5) / (130.0 / 20f64.sqrt());
    assert!((b.p_value - claimlint::fraud::stats::student_t_upper_tail(t, 19.0)).abs() < 1e-15);
    assert!(b.p_value > 0.01, "{}", b.p_value);
    let f: Vec<_> = r.findings.iter().filter(|f| f.rule_id == "FRAUD-CHARGE-OUTLIER").collect();
    assert_eq!(f.len(), 1, "only P0 is a lead: {f:?}");
    assert_eq!(f[0].provider_npi, "P0");
    assert_eq!(f[0].amount_at_risk, (1000.0 - 77.5) * 20.0);
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
    // A's four 99213 charges are one set price: Benford's law does not apply to them.
    assert!(ind["A"].benford.is_none());
}

#[test]
fn benford_tests_only_the_charges_of_codes_billed_at_varying_prices() {
    // Provider A keys 99070 (supplies) case by case: 12 distinct prices, all starting with 9;
    // and bills 99213 at one set price. B bills supplies whose first digits follow Benford.
    let mut rows = Vec::new();
    for (i, c) in [91.0, 92.5, 93.0, 94.0, 95.0, 96.0, 97.0, 98.0, 99.0, 910.0, 920.0, 930.0].iter().enumerate() {
        rows.push(format!("A{i},P{i},A,FP,2024-07-01,99070,,1,{c}"));
    }
    rows.extend(lines("A", "FP", "99213", 5, "2024-07-02", 140.0));
    // 30 amounts with first digits 1 x9, 2 x5, 3 x4, 4 x3, 5 x3, 6 x2, 7 x2, 8 x1, 9 x1.
    let digits = [(1, 9), (2, 5), (3, 4), (4, 3), (5, 3), (6, 2), (7, 2), (8, 1), (9, 1)];
    let mut k = 0;
    for (d, n) in digits {
        for j in 0..n {
            rows.push(format!("B{k},Q{k},B,FP,2024-07-01,99070,,1,{}", d as f64 * 10.0 + j as f64 + 0.5));
            k += 1;
        }
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let r = run(&refs);
    let ind = by_npi(&r);
    let a = ind["A"].benford.as_ref().unwrap();
    assert_eq!((a.n, a.counts, a.varying_price_codes, a.fixed_price_charges), (12, [0, 0, 0, 0, 0, 0, 0, 0, 12], 1, 5));
    // MAD = (sum of Benford's shares for 1..8 + (1 - share of 9)) / 9 = 2 (1 - 0.04576) / 9.
    assert!((a.mad - 2.0 * (1.0 - BENFORD_NINE) / 9.0).abs() < 1e-12, "{}", a.mad);
    let b = ind["B"].benford.as_ref().unwrap();
    assert_eq!(b.counts, [9, 5, 4, 3, 3, 2, 2, 1, 1]);
    assert!(b.mad < 0.015, "{}", b.mad);
    // With at least 10 amounts required, A is flagged and B is not.
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("benford.rhai");
    let text = std::fs::read_to_string(repo_root().join("rules/fraud/benford.rhai")).unwrap().replace("min_amounts: 300", "min_amounts: 10");
    std::fs::write(&rule, text).unwrap();
    let claims = dir.path().join("claims.csv");
    std::fs::write(&claims, format!("{HEADER}{}\n", rows.join("\n"))).unwrap();
    let r = audit(&[claims], dir.path());
    let flagged: Vec<&str> = r.findings.iter().filter(|f| f.rule_id == "FRAUD-BENFORD").map(|f| f.provider_npi.as_str()).collect();
    assert_eq!(flagged, vec!["A"]);
    let html = claimlint::report::render_fraud(&r, "Benford", &claimlint::report::environment(None).unwrap()).unwrap();
    assert!(html.contains("aria-label=\"First-digit shares against Benford"), "Benford chart");
}

const BENFORD_NINE: f64 = 0.045_757_490_560_675_12;

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
fn risk_scores_weight_each_factor_by_its_strength_and_list_every_factor() {
    let r = audit(&[repo_root().join("samples/claims.csv")], &repo_root().join("rules"));
    let ranked = score::rank(&r.findings, &r.rules, &r.provider_indicators);
    assert_eq!(ranked.len(), r.provider_indicators.len());
    // (rule, weight, strength, findings) per factor.
    type Factors<'a> = Vec<(&'a str, f64, f64, usize)>;
    let summary: Vec<(&str, f64, Factors)> = ranked
        .iter()
        .take(3)
        .map(|p| (p.npi.as_str(), p.score, p.factors.iter().map(|f| (f.rule_id.as_str(), f.weight, f.strength, f.findings)).collect()))
        .collect();
    assert_eq!(
        summary,
        vec![
            // A visit after death (weight 5) and a 99213 billed to a second payer (weight 2), one
            // finding each: strength 1 + log10(1) = 1.
            ("1003000126", 7.0, vec![("FRAUD-SERVICE-AFTER-DEATH", 5.0, 1.0, 1), ("FRAUD-DUPLICATE-CLAIMS", 2.0, 1.0, 1)]),
            ("1999999984", 5.0, vec![("FRAUD-EXCLUDED-PROVIDER", 5.0, 1.0, 1)]),
            // 27 hours of timed services in a day: strength 27 / 24 on `busiest_days.minutes`.
            ("1666666668", 4.0 * 1.125, vec![("FRAUD-IMPOSSIBLE-DAY", 4.0, 1.125, 1)]),
        ]
    );
    let day = &ranked[2].factors[0];
    assert_eq!(day.contribution, 4.5);
    assert_eq!(day.measure, "busiest_days.minutes = 1620.0000 (unit 1440)");
    assert!(day.messages[0].contains("27.0 hours"), "{:?}", day.messages);
    // The provider-level finding is the factor; the provider's claim findings are listed apart.
    assert!(ranked[2].findings.is_empty());
    assert_eq!(ranked[0].findings.len(), 2);
    assert!(ranked[3..].iter().all(|p| p.factors.is_empty() && p.score == 0.0));
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    assert_eq!(ranked.iter().map(|p| p.rank).collect::<Vec<_>>(), (1..=ranked.len()).collect::<Vec<_>>());

    // providers.csv: one row per provider, one strength column per fraud-risk rule.
    let csv = score::providers_csv(&ranked, &r.rules);
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    assert_eq!(&header[..5], &["rank", "npi", "specialty", "score", "amount_at_risk"]);
    let rules: Vec<&str> = header[5..].to_vec();
    assert_eq!(rules.len(), 11, "{rules:?}");
    let first: Vec<&str> = rows.next().unwrap().split(',').collect();
    assert_eq!(&first[..4], &["1", "1003000126", "Family Practice", "7.0000"]);
    let at = |id: &str| 5 + rules.iter().position(|r| *r == id).unwrap();
    assert_eq!(first[at("FRAUD-SERVICE-AFTER-DEATH")], "1.0000");
    assert_eq!(first[at("FRAUD-EM-LEVELS")], "");
    assert_eq!(csv.lines().count(), ranked.len() + 1);
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
    assert!(html.contains("busiest_days.minutes = 1620.0000 (unit 1440)"), "the strength and what it was measured on");
    // Every sample charge is a set price: Benford is said not to apply, and not charted.
    assert!(html.contains("not tested: every code is billed at a set price"));
    assert!(!html.contains("aria-label=\"First-digit shares against Benford"));
    assert!(html.contains("aria-label=\"E/M level shares"), "E/M chart");
    let csv = std::fs::read_to_string(dir.path().join("providers.csv")).unwrap();
    assert!(csv.starts_with("rank,npi,specialty,score,amount_at_risk,FRAUD-ADDON-RATIO,"), "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with("1,1003000126,Family Practice,7.0000,"), "{csv}");
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
        ..Default::default()
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

/// `claimlint peers` on a PUF file: the ranking and how many providers are flagged.
fn peers_ranking(year: u32) -> (Vec<(String, f64, Vec<String>)>, usize) {
    let path = shared_data(&format!("puf/physician_by_provider_service_mohs_{year}.csv.gz"));
    let loaded = puf::load_puf(&path).unwrap();
    let opts = AuditOptions {
        inputs: vec![path],
        rules_dir: repo_root().join("rules"),
        refdata: None,
        aliases: None,
        sandbox: Sandbox::default(),
        strict: true,
        peer_table: None,
        ..Default::default()
    };
    let r = audit_loaded(loaded, &opts, |m| m.tags.iter().any(|t| t == "peers")).unwrap();
    let ranked = score::rank(&r.findings, &r.rules, &r.provider_indicators);
    let flagged = ranked.iter().filter(|p| !p.factors.is_empty()).count();
    (ranked.into_iter().map(|p| (p.npi, p.score, p.factors.into_iter().map(|f| f.rule_id).collect())).collect(), flagged)
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn peers_on_the_mohs_files_flag_few_providers_and_rank_the_known_lead_near_the_top() {
    for year in [2020, 2021] {
        let (ranked, flagged) = peers_ranking(year);
        assert!(ranked.len() > 2_700, "{year}: {} providers", ranked.len());
        assert!(flagged * 10 <= ranked.len(), "{year}: {flagged} of {} flagged", ranked.len());
        let (rank, (_, score, factors)) = ranked.iter().enumerate().find(|(_, p)| p.0 == "1588607394").unwrap();
        // Add-on stages per case at the 99th percentile and every Mohs charge about 2.4 times the
        // median (98th percentile): two factors.
        assert!(rank < 15, "{year}: NPI 1588607394 ranks {} (score {score}, {factors:?})", rank + 1);
        assert_eq!(factors, &vec!["FRAUD-ADDON-RATIO".to_string(), "FRAUD-CHARGE-OUTLIER".to_string()], "{year}");
    }
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
        ..Default::default()
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

// ------------------------------------------------------------------ mergeable provider partials

mod partials {
    use claimlint::batch::{Batch, PROVIDER_AGGREGATES};
    use claimlint::fraud::{provider_records, ProviderPartials, ProviderRecord};
    use claimlint::generate::{generate, GenerateOptions};
    use claimlint::load::load_claims;
    use claimlint::refdata::RefData;
    use claimlint::schema::AliasMap;
    use polars::prelude::*;

    use crate::common::repo_root;

    /// A generated batch (with provider schemes, so every indicator has something to measure)
    /// as its canonical frame, and the reference tables it was generated against.
    fn generated() -> (DataFrame, Vec<String>, std::sync::Arc<RefData>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.parquet");
        let mut o = GenerateOptions::new(30_000, 12, &path);
        o.refdata = repo_root().join("rules/data");
        o.scheme_share = Some(0.1);
        generate(&o).unwrap();
        let loaded = load_claims(&[path], &AliasMap::builtin()).unwrap();
        let refdata = claimlint::rules::load_refdata(&repo_root().join("rules"), None).unwrap();
        (loaded.batch.to_canonical_frame().unwrap(), loaded.sources, refdata)
    }

    /// FNV-1a: a stable hash to split rows into parts, independent of claimlint's code.
    fn fnv(s: &str) -> u64 {
        s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
    }

    /// The frame cut into `k` parts by `part(row)`.
    fn split(frame: &DataFrame, k: usize, part: impl Fn(usize) -> usize) -> Vec<DataFrame> {
        (0..k)
            .map(|i| {
                let mask: BooleanChunked = (0..frame.height()).map(|r| part(r) == i).collect();
                frame.filter(&mask).unwrap()
            })
            .collect()
    }

    fn partials_of(frame: &DataFrame, sources: &[String], refdata: &RefData) -> ProviderPartials {
        let batch = Batch::from_frame(frame, sources.to_vec()).unwrap();
        ProviderPartials::from_batch(&batch, refdata)
    }

    /// Aggregates as comparable text (Dynamic has no equality).
    fn comparable(records: &[ProviderRecord]) -> Vec<(String, String, Vec<String>)> {
        records.iter().map(|r| (r.npi.clone(), r.specialty.clone(), r.aggregates.iter().map(|d| format!("{d:?}")).collect())).collect()
    }

    /// Merges `pieces` left to right and right to left (the merge is associative and
    /// commutative, so both must give the same partials).
    fn merged_both_ways(pieces: &[ProviderPartials]) -> (ProviderPartials, ProviderPartials) {
        let mut forward = ProviderPartials::default();
        for p in pieces.iter().cloned() {
            forward.merge(p);
        }
        let mut backward = pieces.last().unwrap().clone();
        for p in pieces.iter().rev().skip(1).cloned() {
            let mut acc = p;
            acc.merge(backward);
            backward = acc;
        }
        (forward, backward)
    }

    /// The partials with the distinct claim and patient counts blanked.
    fn without_distinct_counts(mut p: ProviderPartials) -> ProviderPartials {
        for part in p.providers.values_mut() {
            (part.claims, part.patients) = (0, 0);
        }
        p
    }

    #[test]
    fn partials_merged_across_any_patient_split_give_exactly_the_whole_batch_records() {
        let (frame, sources, refdata) = generated();
        let whole = partials_of(&frame, &sources, &refdata);
        let records = provider_records(&whole, &refdata, None);
        assert!(records.len() > 30, "{} providers", records.len());
        assert!(records.iter().any(|r| r.indicators.em.as_ref().is_some_and(|e| e.q_value.is_some())));
        assert!(records.iter().any(|r| !r.indicators.charge_outliers.is_empty()));
        assert!(records.iter().any(|r| !r.indicators.addon_ratios.is_empty()));

        let patients = frame.column("patient_id").unwrap().str().unwrap().clone();
        let patient = |r: usize| patients.get(r).unwrap_or("").to_string();
        let by_patient_4 = |r: usize| (fnv(&patient(r)) % 4) as usize;
        let by_patient_7 = |r: usize| (fnv(&format!("salt{}", patient(r))) % 7) as usize;
        for (name, parts) in
            [("patient hash, 4 parts", split(&frame, 4, by_patient_4)), ("salted patient hash, 7 parts", split(&frame, 7, by_patient_7))]
        {
            assert_eq!(parts.iter().map(|p| p.height()).sum::<usize>(), frame.height());
            let pieces: Vec<ProviderPartials> = parts.iter().map(|p| partials_of(p, &sources, &refdata)).collect();
            let (forward, backward) = merged_both_ways(&pieces);
            assert!(forward == whole, "{name}: merged partials differ from the whole batch's");
            assert!(backward == whole, "{name}: merged the other way, partials differ");
            let merged = provider_records(&forward, &refdata, None);
            assert_eq!(comparable(&merged), comparable(&records), "{name}: aggregates");
            for (m, w) in merged.iter().zip(&records) {
                assert!(m.indicators == w.indicators, "{name}: indicators of {} differ", w.npi);
            }
        }

        // Rows dealt round-robin, so claims, patients and dates all span parts: everything but
        // the distinct claim and patient counts (which assume a patient split) still merges
        // exactly, and those counts come out larger, not silently equal.
        let pieces: Vec<ProviderPartials> = split(&frame, 3, |r| r % 3).iter().map(|p| partials_of(p, &sources, &refdata)).collect();
        let (forward, backward) = merged_both_ways(&pieces);
        assert!(forward == backward, "row split: merge order matters");
        let over = |p: &ProviderPartials| p.providers.values().map(|x| x.claims + x.patients).sum::<u64>();
        assert!(over(&forward) > over(&whole), "row split should count spanning claims once per part");
        assert!(without_distinct_counts(forward) == without_distinct_counts(whole.clone()), "row split: sums and keyed totals differ");

        // The partials survive a serialization round trip (how partitions travel).
        let json = serde_json::to_string(&whole).unwrap();
        let back: ProviderPartials = serde_json::from_str(&json).unwrap();
        assert!(back == whole);
    }

    /// The provider aggregates as Polars group-bys over the canonical frame: an independent
    /// computation to check the partials against (distinct counts count a blank as a value).
    fn group_by_aggregates(frame: &DataFrame) -> std::collections::HashMap<String, Vec<f64>> {
        let is_in = |c: &str, v: &[&str]| col(c).is_in(lit(Series::new("v".into(), v)).implode(false), false).fill_null(false);
        let has = |m: &[&str]| is_in("modifier_1", m).or(is_in("modifier_2", m)).or(is_in("modifier_3", m)).or(is_in("modifier_4", m));
        let em = ["99211", "99212", "99213", "99214", "99215"];
        let g = frame
            .clone()
            .lazy()
            .with_columns([
                coalesce(&[col("rendering_npi"), col("billing_npi"), lit("")]).alias("_provider"),
                col("claim_id").fill_null(lit("")),
                col("patient_id").fill_null(lit("")),
            ])
            .group_by([col("_provider")])
            .agg([
                len().cast(DataType::Float64).alias("line_count"),
                col("claim_id").n_unique().cast(DataType::Float64).alias("claim_count"),
                col("patient_id").n_unique().cast(DataType::Float64).alias("patient_count"),
                col("service_date_from").n_unique().cast(DataType::Float64).alias("days_billed"),
                col("charge_amount").sum().alias("total_charge"),
                col("units").sum().alias("total_units"),
                col("charge_amount").mean().alias("mean_charge"),
                is_in("procedure_code", &em).sum().cast(DataType::Float64).alias("em_visits"),
                is_in("procedure_code", &em[3..]).sum().cast(DataType::Float64).alias("em_high_visits"),
                has(&["25"]).sum().cast(DataType::Float64).alias("modifier_25_lines"),
                has(&["59", "XE", "XS", "XP", "XU"]).sum().cast(DataType::Float64).alias("modifier_59_lines"),
            ])
            .collect()
            .unwrap();
        let npis = g.column("_provider").unwrap().str().unwrap().clone();
        (0..g.height())
            .map(|i| {
                let values = PROVIDER_AGGREGATES
                    .iter()
                    .map(|(n, _)| g.column(n).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().get(i).unwrap_or(f64::NAN))
                    .collect();
                (npis.get(i).unwrap_or("").to_string(), values)
            })
            .collect()
    }

    /// Distinct counts are the patient-partitioned batch's, not multiplicities: a provider
    /// with one patient and two claims of three lines each.
    #[test]
    fn claim_and_patient_counts_are_distinct_and_add_across_patient_partitions() {
        let rows = [
            "C1,P1,1234567893,2024-01-02,99213",
            "C1,P1,1234567893,2024-01-02,36415",
            "C2,P1,1234567893,2024-01-03,99213",
            "C3,P2,1234567893,2024-01-02,99214",
        ];
        let refdata = claimlint::rules::load_refdata(&repo_root().join("rules"), None).unwrap();
        let of = |rows: &[&str]| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("claims.csv");
            let body: Vec<String> = rows.iter().map(|r| format!("{r},1,100")).collect();
            std::fs::write(
                &path,
                format!("claim_id,patient_id,rendering_npi,service_date_from,procedure_code,units,charge_amount\n{}\n", body.join("\n")),
            )
            .unwrap();
            let loaded = load_claims(&[path], &AliasMap::builtin()).unwrap();
            ProviderPartials::from_batch(&loaded.batch, &refdata)
        };
        let whole = of(&rows);
        let p = &whole.providers["1234567893"];
        assert_eq!((p.lines, p.claims, p.patients, p.days.len()), (4, 3, 2, 2));
        let mut merged = of(&rows[..3]);
        merged.merge(of(&rows[3..]));
        assert!(merged == whole);
    }

    #[test]
    fn record_aggregates_equal_the_batch_group_bys() {
        let (frame, sources, refdata) = generated();
        let batch = Batch::from_frame(&frame, sources).unwrap();
        let records = provider_records(&ProviderPartials::from_batch(&batch, &refdata), &refdata, None);
        let expected = group_by_aggregates(&frame);
        assert_eq!(records.len(), expected.len());
        for rec in &records {
            for (k, (name, _)) in PROVIDER_AGGREGATES.iter().enumerate() {
                let mine = &rec.aggregates[k];
                let a = mine.as_int().map(|i| i as f64).or_else(|_| mine.as_float()).unwrap();
                let b = expected[&rec.npi][k];
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{name} of {}: {a} vs {b}", rec.npi);
            }
        }
    }
}

// ------------------------------------------------------------------ planted schemes found

mod ranking {
    use std::collections::HashMap;

    use claimlint::fraud::score;
    use claimlint::generate::{generate, GenerateOptions, Manifest};

    use crate::common::repo_root;
    use crate::support::audit;

    /// How a ranking does against the planted schemes.
    #[derive(Debug)]
    struct Scored {
        planted: usize,
        precision_at_k: f64,
        recall_at_2k: f64,
        honest: usize,
        honest_flagged: usize,
        flagged: usize,
        providers: usize,
    }

    /// Generates `lines` lines (seed 1, rules/data), audits them with rules/fraud and scores the
    /// ranking against the manifest's planted providers.
    fn run(lines: u64, share: Option<f64>) -> (Scored, Manifest, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.parquet");
        let mut o = GenerateOptions::new(lines, 1, &path);
        o.refdata = repo_root().join("rules/data");
        o.scheme_share = share;
        let m = generate(&o).unwrap();
        let r = audit(&[path], &repo_root().join("rules/fraud"));
        let ranked = score::rank(&r.findings, &r.rules, &r.provider_indicators);
        let planted: HashMap<&str, &str> = m.schemes.iter().map(|s| (s.npi.as_str(), s.scheme.id())).collect();
        let k = planted.len();
        let hits = |n: usize| ranked.iter().take(n).filter(|p| planted.contains_key(p.npi.as_str())).count();
        let flagged: Vec<&score::ProviderRisk> = ranked.iter().filter(|p| !p.factors.is_empty()).collect();
        let honest = ranked.iter().filter(|p| !planted.contains_key(p.npi.as_str())).count();
        let top: Vec<String> = ranked
            .iter()
            .take(2 * k.max(5))
            .map(|p| {
                format!(
                    "#{} {} {} {:.2} {:?}",
                    p.rank,
                    p.npi,
                    planted.get(p.npi.as_str()).unwrap_or(&"honest"),
                    p.score,
                    p.factors.iter().map(|f| &f.rule_id).collect::<Vec<_>>()
                )
            })
            .collect();
        let scored = Scored {
            planted: k,
            precision_at_k: if k == 0 { 1.0 } else { hits(k) as f64 / k as f64 },
            recall_at_2k: if k == 0 { 1.0 } else { hits(2 * k) as f64 / k as f64 },
            honest,
            honest_flagged: flagged.iter().filter(|p| !planted.contains_key(p.npi.as_str())).count(),
            flagged: flagged.len(),
            providers: ranked.len(),
        };
        (scored, m, top)
    }

    /// The targets at a size `cargo test` affords (benchmark at 1M: docs/fraud.md).
    #[test]
    fn planted_schemes_top_the_ranking_and_honest_providers_are_left_alone() {
        let (s, m, top) = run(200_000, Some(0.1));
        assert_eq!(s.planted, 13, "{}", m.summary());
        let schemes: std::collections::HashSet<&str> = m.schemes.iter().map(|p| p.scheme.id()).collect();
        assert_eq!(schemes.len(), 10, "{schemes:?}");
        assert!(m.schemes.iter().all(|p| (0.5..=1.0).contains(&p.strength) && p.encounters > 0), "{}", m.summary());
        assert!(s.precision_at_k >= 0.9, "{s:?}\n{}", top.join("\n"));
        assert!(s.recall_at_2k >= 0.9, "{s:?}\n{}", top.join("\n"));
        assert!(s.honest_flagged as f64 <= 0.05 * s.honest as f64, "{s:?}\n{}", top.join("\n"));
    }

    #[test]
    fn a_batch_without_schemes_flags_almost_no_one() {
        // The default batch, and one whose providers have habits of their own but no scheme.
        for share in [None, Some(0.0)] {
            let (s, m, top) = run(60_000, share);
            assert!(m.schemes.is_empty());
            assert!(s.flagged as f64 <= 0.05 * s.providers as f64, "{share:?}: {s:?}\n{}", top.join("\n"));
        }
    }
}

#[test]
fn provider_rules_read_only_aggregates_and_indicators() {
    // A provider's lines span partitions, so provider-scope rules must not read `lines`.
    let refdata = claimlint::rules::load_refdata(&repo_root().join("rules"), None).unwrap();
    let engine = claimlint::rules::new_engine(Sandbox::default(), &refdata);
    let set = claimlint::rules::load_rules(&engine, &repo_root().join("rules/fraud")).unwrap();
    let provider: Vec<_> = set.rules.iter().filter(|r| r.meta().scope == claimlint::rules::Scope::Provider).collect();
    assert_eq!(provider.len(), 8, "{:?}", provider.iter().map(|r| &r.meta().id).collect::<Vec<_>>());
    for r in provider {
        // The script after the metadata block (whose examples do list `lines`), without its
        // strings and comments (messages say "E/M lines").
        let script = r.source.text.split("---*/").nth(1).unwrap();
        let mut code = String::new();
        let mut quote: Option<char> = None;
        for line in script.lines() {
            for c in line.chars() {
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == '`' || c == '"' => quote = Some(c),
                    None => code.push(c),
                }
            }
            code.push('\n');
        }
        let code: String = code.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        let words: Vec<&str> = code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
        assert!(!words.contains(&"lines"), "{} reads `lines`", r.meta().id);
        assert!(words.contains(&"indicators"), "{} reads no indicator", r.meta().id);
    }
}
