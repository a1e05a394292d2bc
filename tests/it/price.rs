//! Dollars at Medicare's price: the conversion factors by date, each finding's expected allowed
//! amount (paid, else the fee schedule, else billed) against amounts computed by hand from the
//! RVU subset in rules/data, the `--price` headline, and partitioned audits agreeing.
//!
//! Hand computation (rules/data/codes/pfs_rvu2025_oct_subset.csv, CY2025 factor 32.3465; the
//! national amount is (work + PE + MP RVU) x factor, rounded to cents, then x units):
//! - 99213 non-facility: 1.30 + 1.35 + 0.10 = 2.75 -> 88.952875 -> 88.95
//! - 99214 facility:     1.92 + 0.83 + 0.15 = 2.90 -> 93.80485  -> 93.80 (capped at the 50.00 charge)
//! - 97110 non-facility: 0.45 + 0.43 + 0.01 = 0.89 -> 28.788385 -> 28.79, x 3 units = 86.37
//! - 71046-26 facility:  0.22 + 0.08 + 0.01 = 0.31 -> 10.027415 -> 10.03
//! - 36415 is status X (no RVU payment) and 93000 is NA in the facility setting: billed.
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use claimlint::audit::{run_audit, AuditOptions, AuditResult};
use claimlint::refdata::{PfsSetting, RefData};
use claimlint::vocab::{Finding, Price, PriceSource};

use crate::common::{repo_root, shared_data};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const RULES: &[(&str, &str)] = &[
    ("every_line.rhai", "T-EVERY-LINE|line|flag(`line ${procedure_code}`);"),
    (
        "half_line.rhai",
        "T-HALF-LINE|line|if procedure_code == \"99214\" || procedure_code == \"99213\" { flag(\"half the charge\", charge_amount / 2.0); }",
    ),
    ("whole_claim.rhai", "T-WHOLE-CLAIM|claim|flag(\"the whole claim\");"),
];

fn write_rules(dir: &Path) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for (file, spec) in RULES {
        let [id, scope, body]: [&str; 3] = spec.splitn(3, '|').collect::<Vec<_>>().try_into().unwrap();
        let text = format!(
            "/*---\nid: {id}\ntitle: test rule\nseverity: error\ncategory: compliance\nscope: {scope}\nrationale: test\ncitation: test\n---*/\n{body}\n"
        );
        std::fs::write(rules.join(file), text).unwrap();
    }
    rules
}

const CLAIMS: &str = "\
claim_id,claim_type,patient_id,billing_npi,line_number,service_date_from,place_of_service,procedure_code,modifier_1,units,charge_amount,paid_amount
C1,professional,P1,1234567893,1,2025-11-03,11,99213,,1,200.00,
C1,professional,P1,1234567893,2,2025-11-03,22,99214,,1,50.00,
C2,professional,P2,1234567893,1,2025-11-04,11,97110,,3,150.00,
C2,professional,P2,1234567893,2,2025-11-04,21,71046,26,1,40.00,
C3,professional,P3,1234567893,1,2025-11-05,11,99213,,1,200.00,70.00
C3,professional,P3,1234567893,2,2025-11-05,11,36415,,1,25.00,
C4,professional,P4,1234567893,1,2024-06-01,11,99213,,1,120.00,
C5,professional,P5,1234567893,1,2025-11-06,21,93000,,1,30.00,
C6,institutional,P6,1234567893,1,2025-11-06,,99213,,1,300.00,
";

struct Setup {
    _dir: tempfile::TempDir,
    rules: PathBuf,
    claims: PathBuf,
    cache: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(dir.path());
    let claims = dir.path().join("claims.csv");
    std::fs::write(&claims, CLAIMS).unwrap();
    let cache = dir.path().join("cache");
    Setup { _dir: dir, rules, claims, cache }
}

fn audit(s: &Setup, price: Price, refdata: &Path, partitions: Option<usize>) -> AuditResult {
    run_audit(&AuditOptions {
        inputs: vec![s.claims.clone()],
        rules_dir: s.rules.clone(),
        refdata: Some(refdata.to_path_buf()),
        cache_dir: Some(s.cache.clone()),
        strict: true,
        partitions,
        price,
        ..Default::default()
    })
    .expect("audit runs")
}

fn on<'a>(r: &'a AuditResult, rule: &str, claim: &str, line: Option<i64>) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| f.rule_id == rule && f.claim_id == claim && f.line_number == line)
        .unwrap_or_else(|| panic!("no {rule} on {claim} {line:?}"))
}

fn price_of(f: &Finding) -> (f64, Option<PriceSource>) {
    ((f.expected_allowed * 100.0).round() / 100.0, f.price_source)
}

#[test]
fn conversion_factors_come_from_the_shipped_table_by_date() {
    let rd = RefData::load_dir(&repo_root().join("rules/data")).unwrap();
    let cf = |s: &str| rd.pfs_conversion_factor(d(s));
    assert_eq!(cf("2023-07-01"), Some(33.8872));
    assert_eq!(cf("2024-01-01"), Some(32.7442));
    assert_eq!(cf("2024-03-08"), Some(32.7442));
    assert_eq!(cf("2024-03-09"), Some(33.2875));
    assert_eq!(cf("2024-12-31"), Some(33.2875));
    assert_eq!(cf("2025-11-03"), Some(32.3465));
    assert_eq!(cf("2026-02-01"), Some(33.4009));
    // Another year's factor never prices a date.
    assert_eq!(cf("2022-12-31"), None);
    assert_eq!(cf("2027-01-01"), None);
    // The 2025 factor is the one CMS printed in the RVU file itself.
    let e = rd.pfs("99213", "", d("2025-11-03")).unwrap();
    assert_eq!(e.file_conversion_factor, cf("2025-11-03").unwrap());
    assert_eq!(rd.pfs_amount("99213", "", d("2025-11-03"), PfsSetting::NonFacility, cf("2025-11-03").unwrap()), Some(88.95));
}

#[test]
fn rhai_reads_the_conversion_factor_for_a_date() {
    let rd = std::sync::Arc::new(RefData::load_dir(&repo_root().join("rules/data")).unwrap());
    let mut e = rhai::Engine::new();
    claimlint::refdata::register_functions(&mut e, rd);
    assert_eq!(e.eval::<f64>(r#"pfs_conversion_factor("2024-03-09")"#).unwrap(), 33.2875);
    assert!(e.eval::<bool>(r#"pfs_conversion_factor("2019-01-01") == ()"#).unwrap());
    let amount = r#"pfs_amount("97110", "", "2025-11-04", "non_facility", pfs_conversion_factor("2025-11-04"))"#;
    assert_eq!(e.eval::<f64>(amount).unwrap(), 28.79);
}

#[test]
fn a_bad_conversion_factor_row_is_refused_with_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pfs_conversion_factors.csv");
    std::fs::write(&f, "year,effective_from,conversion_factor,source\n2025,2025-01-01,32.3465,x\n2025,2024-12-01,32.0,y\n").unwrap();
    let err = format!("{:#}", RefData::load_dir(dir.path()).unwrap_err());
    assert!(err.contains("row 3") && err.contains("not in year 2025"), "{err}");
    std::fs::write(&f, "year,effective_from,conversion_factor,source\n2025,2025-01-01,-1,x\n").unwrap();
    let err = format!("{:#}", RefData::load_dir(dir.path()).unwrap_err());
    assert!(err.contains("row 2") && err.contains("not a positive number"), "{err}");
}

#[test]
fn facility_places_of_service_are_those_cms_lists_as_facility() {
    let text = std::fs::read_to_string(repo_root().join("rules/data/codes/place_of_service.csv")).unwrap();
    let mut listed: Vec<&str> = text.lines().skip(1).filter(|l| l.split(',').nth(1) == Some("Facility")).map(|l| &l[..2]).collect();
    listed.sort_unstable();
    assert_eq!(listed, claimlint::price::FACILITY_POS.to_vec());
    assert_eq!(claimlint::price::setting("21"), PfsSetting::Facility);
    assert_eq!(claimlint::price::setting("2"), PfsSetting::Facility);
    assert_eq!(claimlint::price::setting("11"), PfsSetting::NonFacility);
    assert_eq!(claimlint::price::setting(""), PfsSetting::NonFacility);
}

#[test]
fn each_finding_is_priced_paid_then_fee_schedule_then_billed() {
    let s = setup();
    let r = audit(&s, Price::Medicare, &repo_root().join("rules/data"), None);
    let line = |claim, l| price_of(on(&r, "T-EVERY-LINE", claim, Some(l)));
    let fee = Some(PriceSource::FeeSchedule);
    assert_eq!(line("C1", 1), (88.95, fee));
    // 93.80 at the fee schedule, capped at the 50.00 charge.
    assert_eq!(line("C1", 2), (50.0, fee));
    assert_eq!(line("C2", 1), (86.37, fee));
    assert_eq!(line("C2", 2), (10.03, fee));
    // A paid amount wins over the fee schedule.
    assert_eq!(line("C3", 1), (70.0, Some(PriceSource::Paid)));
    // Status X, a year with no RVUs loaded, a setting marked NA, an institutional claim: billed.
    assert_eq!(line("C3", 2), (25.0, Some(PriceSource::Billed)));
    assert_eq!(line("C4", 1), (120.0, Some(PriceSource::Billed)));
    assert_eq!(line("C5", 1), (30.0, Some(PriceSource::Billed)));
    assert_eq!(line("C6", 1), (300.0, Some(PriceSource::Billed)));
    // Capped at the finding's own amount: half of 99214's 50.00 charge is 25.00.
    assert_eq!(price_of(on(&r, "T-HALF-LINE", "C1", Some(2))), (25.0, fee));
    assert_eq!(price_of(on(&r, "T-HALF-LINE", "C1", Some(1))), (88.95, fee));
    assert_eq!(price_of(on(&r, "T-HALF-LINE", "C3", Some(1))), (70.0, Some(PriceSource::Paid)));
    // Claim findings sum their lines; a claim with a line at billed counts as a fallback.
    let claim = |c| price_of(on(&r, "T-WHOLE-CLAIM", c, None));
    assert_eq!(claim("C1"), (138.95, fee));
    assert_eq!(claim("C2"), (96.40, fee));
    assert_eq!(claim("C3"), (95.0, Some(PriceSource::Billed)));
    assert_eq!(claim("C4"), (120.0, Some(PriceSource::Billed)));
    // The billed amounts are untouched.
    assert_eq!(on(&r, "T-EVERY-LINE", "C1", Some(2)).amount_at_risk, 50.0);
    assert_eq!(on(&r, "T-WHOLE-CLAIM", "C1", None).amount_at_risk, 250.0);

    let t = &r.totals;
    assert_eq!(t.pricing.used, Price::Medicare);
    assert!(t.pricing.fee_schedule && t.pricing.unavailable.is_none());
    // 9 line findings, 5 half-line ones and 6 claim findings. Paid: C3/1 twice. Fallbacks: the
    // C3/2, C4, C5 and C6 lines, half of C4 and C6, and the C3, C4, C5 and C6 claims.
    assert_eq!((t.pricing.paid, t.pricing.fee_schedule_priced, t.pricing.fallback), (2, 8, 10));
    // Each line once at its largest amount: 88.95 + 50 + 86.37 + 10.03 + 70 + 25 + 120 + 30 + 300.
    assert!((t.allowed_at_risk - 780.35).abs() < 1e-9, "{}", t.allowed_at_risk);
    assert_eq!(t.amount_at_risk, t.allowed_at_risk);
    assert!((t.billed_at_risk - 1115.0).abs() < 1e-9, "{}", t.billed_at_risk);
}

#[test]
fn price_billed_keeps_the_headline_at_the_findings_amounts() {
    let s = setup();
    let data = repo_root().join("rules/data");
    let billed = audit(&s, Price::Billed, &data, None);
    let medicare = audit(&s, Price::Medicare, &data, None);
    // The charges of all nine lines.
    assert!((billed.totals.amount_at_risk - 1115.0).abs() < 1e-9);
    assert_eq!(billed.totals.amount_at_risk, claimlint::vocab::amount_at_risk(&billed.findings));
    assert_eq!(billed.totals.amount_at_risk, medicare.totals.billed_at_risk);
    assert!(medicare.totals.amount_at_risk < billed.totals.amount_at_risk);
    // These rules name no table, so a billed audit does not load the fee schedule: only the paid
    // line (C3 line 1, in two findings and its claim's) is priced.
    assert!(!billed.totals.pricing.fee_schedule);
    assert!(billed.findings.iter().all(|f| f.price_source != Some(PriceSource::FeeSchedule)));
    assert_eq!((billed.totals.pricing.paid, billed.totals.pricing.fallback), (2, 18));
    // Everything else is the same finding.
    let strip = |r: &AuditResult| {
        r.findings.iter().map(|f| (f.rule_id.clone(), f.claim_id.clone(), f.line_number, f.message.clone(), f.amount_at_risk)).collect::<Vec<_>>()
    };
    assert_eq!(strip(&billed), strip(&medicare));
}

#[test]
fn shipped_sample_keeps_todays_dollars_at_risk_at_billed_prices() {
    let r =
        run_audit(&AuditOptions { inputs: vec![repo_root().join("samples/claims.csv")], rules_dir: repo_root().join("rules"), ..Default::default() })
            .unwrap();
    // The figure audits printed before prices existed (tests/cmd/audit_extrapolate.stdout).
    assert_eq!(claimlint::report::format_money(r.totals.amount_at_risk), "$4,609.00");
    assert_eq!(r.totals.amount_at_risk, r.totals.billed_at_risk);
    assert_eq!(r.totals.pricing.used, Price::Billed);
}

#[test]
fn medicare_without_the_fee_schedule_warns_and_uses_billed() {
    let s = setup();
    // A reference folder with everything but the PFS RVU file.
    let data = s._dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(repo_root().join("rules/data/codes/place_of_service.csv"), data.join("place_of_service.csv")).unwrap();
    let r = audit(&s, Price::Medicare, &data, None);
    let p = &r.totals.pricing;
    assert_eq!((p.requested, p.used), (Price::Medicare, Price::Billed));
    assert!(!p.fee_schedule);
    assert!(p.unavailable.as_deref().is_some_and(|w| w.contains("unavailable") && w.contains("pfs")), "{p:?}");
    assert_eq!(r.totals.amount_at_risk, r.totals.billed_at_risk);
    // Paid amounts still price their lines; the rest fall back.
    assert_eq!(price_of(on(&r, "T-EVERY-LINE", "C3", Some(1))), (70.0, Some(PriceSource::Paid)));
    assert_eq!(price_of(on(&r, "T-EVERY-LINE", "C1", Some(1))), (200.0, Some(PriceSource::Billed)));
}

#[test]
fn partitioned_audit_prices_as_the_in_memory_one() {
    let s = setup();
    let data = repo_root().join("rules/data");
    let whole = audit(&s, Price::Medicare, &data, None);
    for parts in [2, 5] {
        let split = audit(&s, Price::Medicare, &data, Some(parts));
        assert!(split.batch.is_none());
        assert_eq!(split.findings, whole.findings, "{parts} partitions");
        assert_eq!(split.totals.pricing, whole.totals.pricing, "{parts} partitions");
        assert_eq!(split.totals.amount_at_risk, whole.totals.amount_at_risk, "{parts} partitions");
        assert_eq!(split.totals.billed_at_risk, whole.totals.billed_at_risk, "{parts} partitions");
    }
}

#[test]
fn findings_files_carry_the_expected_allowed_amount() {
    let s = setup();
    let r = audit(&s, Price::Medicare, &repo_root().join("rules/data"), None);
    let out = s._dir.path().join("findings.csv");
    claimlint::findings::write(&r.findings, &out, claimlint::findings::OutputFormat::Csv).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let (a, p) = (header.iter().position(|h| *h == "expected_allowed").unwrap(), header.iter().position(|h| *h == "price_source").unwrap());
    let row = text.lines().find(|l| l.starts_with("C2,2,T-EVERY-LINE")).unwrap();
    let cells: Vec<&str> = row.split(',').collect();
    assert_eq!((cells[a], cells[p]), ("10.03", "fee-schedule"));
    let json = s._dir.path().join("findings.json");
    claimlint::findings::write(&r.findings, &json, claimlint::findings::OutputFormat::Json).unwrap();
    let back: Vec<Finding> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(back, r.findings);
}

#[test]
fn the_report_shows_billed_and_expected_allowed_side_by_side() {
    let s = setup();
    let r = audit(&s, Price::Medicare, &repo_root().join("rules/data"), None);
    let html = claimlint::report::render_compliance(&r, None, &claimlint::report::environment(None).unwrap()).unwrap();
    assert!(html.contains("dollars at risk at Medicare&#x27;s price") || html.contains("dollars at risk at Medicare's price"), "headline");
    assert!(html.contains("$780.35") && html.contains("$1,115.00"), "both totals");
    assert!(html.contains("<th class=\"num\">Expected allowed</th>"));
    assert!(
        html.contains(
            "Of the 20 error and warning findings on claims, 2 are priced at the paid amount, 8 at the fee schedule and 10 at the billed amount"
        ),
        "counts"
    );
    let billed = audit(&s, Price::Billed, &repo_root().join("rules/data"), None);
    let html = claimlint::report::render_compliance(&billed, None, &claimlint::report::environment(None).unwrap()).unwrap();
    assert!(html.contains("the fee schedule is not loaded"));
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn the_real_rvu_file_prints_the_shipped_2025_factor() {
    let mut rd = RefData::empty();
    rd.add_file(&shared_data("codes/pfs_rvu2025_oct_nodesc.csv")).unwrap();
    rd.add_file(&repo_root().join("rules/data/claimlint/pfs_conversion_factors.csv")).unwrap();
    let dos = d("2025-11-03");
    let cf = rd.pfs_conversion_factor(dos).unwrap();
    for code in ["99213", "99214", "97110", "17311", "71046"] {
        assert_eq!(rd.pfs(code, "", dos).unwrap().file_conversion_factor, cf, "{code}");
    }
    // By hand from the file: 99214 work 1.92 + non-facility PE 1.80 + MP 0.15 = 3.87 RVUs.
    assert_eq!(rd.pfs_amount("99214", "", dos, PfsSetting::NonFacility, cf), Some(125.18));
}
