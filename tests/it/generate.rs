//! `claimlint generate`: deterministic synthetic batches that load cleanly and carry planted
//! errors the federal rules find at the counts the generator's manifest promises.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use claimlint::audit::AuditResult;
use claimlint::generate::{generate, npi_with_check_digit, GenerateOptions, Manifest};
use claimlint::load::load_claims;
use claimlint::schema::AliasMap;
use claimlint::vocab::Severity;
use polars::prelude::*;

use crate::common::{repo_root, shared_dir};

fn options(lines: u64, seed: u64, out: &Path, refdata: PathBuf) -> GenerateOptions {
    let mut o = GenerateOptions::new(lines, seed, out);
    o.refdata = refdata;
    o.chunk_rows = 4_000; // several row groups even for small files
    o
}

fn subset() -> PathBuf {
    repo_root().join("rules/data")
}

#[test]
fn the_npi_check_digit_is_the_luhn_digit_over_80840() {
    // CMS's worked example: 123456789 -> 1234567893.
    assert_eq!(npi_with_check_digit(123_456_789), "1234567893");
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"), dir.path().join("c.parquet"));
    let ma = generate(&options(9_000, 42, &a, subset())).unwrap();
    let mb = generate(&options(9_000, 42, &b, subset())).unwrap();
    generate(&options(9_000, 43, &c, subset())).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "same seed, same file");
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap(), "another seed, another file");
    assert_eq!(ma.to_csv(), mb.to_csv());

    // Thread count does not matter: generate on a one-thread pool too.
    let d = dir.path().join("d.parquet");
    rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| generate(&options(9_000, 42, &d, subset())).unwrap());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&d).unwrap(), "one thread, same file");

    // CSV output is deterministic as well.
    let (x, y) = (dir.path().join("x.csv"), dir.path().join("y.csv"));
    generate(&options(2_000, 5, &x, subset())).unwrap();
    generate(&options(2_000, 5, &y, subset())).unwrap();
    assert_eq!(std::fs::read(&x).unwrap(), std::fs::read(&y).unwrap());
}

#[test]
fn generated_files_load_with_no_data_quality_findings_and_the_exact_line_count() {
    let dir = tempfile::tempdir().unwrap();
    for (name, lines) in [("g.parquet", 12_345u64), ("g.csv", 1_001)] {
        let path = dir.path().join(name);
        let m = generate(&options(lines, 9, &path, subset())).unwrap();
        assert_eq!(m.lines, lines);
        let loaded = load_claims(std::slice::from_ref(&path), &AliasMap::builtin()).unwrap();
        assert_eq!(loaded.batch.len as u64, lines, "{name}");
        let frame = loaded.batch.to_canonical_frame().unwrap();
        assert!(loaded.issues.is_empty(), "{name}: {:?}", loaded.issues.first().map(|i| &i.message));
        for c in [
            "claim_id",
            "patient_id",
            "patient_birth_date",
            "patient_sex",
            "billing_npi",
            "dx_1",
            "service_date_from",
            "procedure_code",
            "units",
            "charge_amount",
        ] {
            assert_eq!(frame.column(c).unwrap().null_count(), 0, "{name}: {c} has blanks");
        }
    }
}

#[test]
fn claims_have_several_lines_and_some_patient_days_span_several_claims() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.parquet");
    let m = generate(&options(20_000, 11, &path, subset())).unwrap();
    assert!(m.multi_line_claims > m.claims / 4, "{m:?}");
    assert!(m.split_patient_days > 0);
    assert!(m.patients > 1_000 && m.providers >= 13, "{m:?}");
    for payer in ["MEDICARE", "ACME-COMMERCIAL", "NY-MEDICAID"] {
        assert!(m.payers.contains(&payer), "{:?}", m.payers);
    }

    // The same facts, read back from the file.
    let frame = load_claims(&[path], &AliasMap::builtin()).unwrap().batch.to_canonical_frame().unwrap();
    let per_claim = frame.clone().lazy().group_by([col("claim_id")]).agg([len().alias("n")]).collect().unwrap();
    let multi = per_claim.column("n").unwrap().u32().unwrap().iter().filter(|n| n.unwrap_or(0) > 1).count();
    assert_eq!(multi as u64, m.multi_line_claims);
    assert_eq!(per_claim.height() as u64, m.claims);
    let days = frame
        .lazy()
        .group_by([col("patient_id"), col("rendering_npi"), col("service_date_from")])
        .agg([col("claim_id").n_unique().alias("claims")])
        .collect()
        .unwrap();
    let split = days.column("claims").unwrap().u32().unwrap().iter().filter(|n| n.unwrap_or(0) > 1).count();
    assert_eq!(split as u64, m.split_patient_days, "patient-days on several claims");
    assert_eq!(days.height() as u64, m.encounters, "no two encounters share a patient, provider and date");
}

fn audit_federal(path: &Path, refdata: Option<PathBuf>) -> AuditResult {
    crate::support::audit_federal_file(path, refdata)
}

/// Every planted rule fires, at (close to) the count the manifest expects; nothing else fires.
fn check_planted_errors_are_found(m: &Manifest, r: &AuditResult) {
    let mut found: HashMap<&str, u64> = HashMap::new();
    for f in &r.findings {
        *found.entry(f.rule_id.as_str()).or_default() += 1;
    }
    let mut planted_rules = 0;
    for (rule, planted, expected) in m.rows() {
        let got = found.remove(rule).unwrap_or(0);
        let slack = 2.max(expected / 20);
        assert!(got.abs_diff(expected) <= slack, "{rule}: planted {planted}, expected {expected} findings, the audit found {got}");
        if planted > 0 {
            planted_rules += 1;
            assert!(got > 0, "{rule}: planted {planted} but never fired");
        }
    }
    assert!(planted_rules >= 10, "planted rules: {planted_rules}\n{}", m.summary());
    assert!(found.is_empty(), "findings from rules nothing was planted for: {found:?}");
    let rate = r.totals.clean_claim_rate;
    assert!((0.90..=0.99).contains(&rate), "clean-claim rate {rate}");
    assert_eq!(r.totals.lines as u64, m.lines);
    assert!(r.failures.is_empty(), "{:?}", r.failures.first().map(|f| f.to_string()));
    assert!(r.findings.iter().all(|f| f.severity >= Severity::Warning));
}

#[test]
fn an_audit_finds_the_planted_errors_on_the_default_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.parquet");
    let m = generate(&options(20_000, 3, &path, subset())).unwrap();
    assert!((0.015..0.025).contains(&(m.planted_total() as f64 / m.lines as f64)), "{}", m.summary());
    let r = audit_federal(&path, None);
    check_planted_errors_are_found(&m, &r);
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn an_audit_finds_the_planted_errors_on_the_full_cms_tables() {
    let data = shared_dir().join("data");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.parquet");
    let m = generate(&options(30_000, 4, &path, data.clone())).unwrap();
    let r = audit_federal(&path, Some(data));
    check_planted_errors_are_found(&m, &r);
}

#[test]
fn bad_arguments_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = generate(&options(10, 1, &dir.path().join("g.txt"), subset())).unwrap_err();
    assert!(err.to_string().contains(".parquet or .csv"), "{err}");
    let err = generate(&options(0, 1, &dir.path().join("g.csv"), subset())).unwrap_err();
    assert!(err.to_string().contains("--lines"), "{err}");
}

#[test]
fn policy_lists_are_read_from_the_rules_folder() {
    use claimlint::generate::policy::Policy;
    let shipped = Policy::load(None).unwrap();
    assert!(shipped.ncci_modifiers.iter().any(|m| m == "XU") && shipped.ncci_modifiers.len() == 44, "{:?}", shipped.ncci_modifiers);
    assert_eq!(shipped.prior_auth_codes, vec!["70551", "70553", "72148", "72158", "73721"]);

    // A rules folder whose ACME pack requires prior authorization for 99213 too.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path();
    std::fs::create_dir_all(rules.join("federal")).unwrap();
    std::fs::create_dir_all(rules.join("payers/acme-commercial")).unwrap();
    std::fs::copy(repo_root().join("rules/federal/ncci_ptp.rhai"), rules.join("federal/ncci_ptp.rhai")).unwrap();
    let pack = std::fs::read_to_string(repo_root().join("rules/payers/acme-commercial/pack.yaml")).unwrap();
    std::fs::write(
        rules.join("payers/acme-commercial/pack.yaml"),
        pack.replace("prior_auth_codes: [\"70551\"", "prior_auth_codes: [\"99213\", \"70551\""),
    )
    .unwrap();
    let custom = Policy::load(Some(rules)).unwrap();
    assert_eq!(custom.prior_auth_codes[..2], ["99213", "70551"]);

    // Claims billing 99213 carry a prior-authorization number with that folder, not without it.
    let with_99213 = |rules: Option<PathBuf>| {
        let out = dir.path().join("g.parquet");
        let mut o = options(3_000, 2, &out, subset());
        o.rules = rules;
        generate(&o).unwrap();
        let frame = load_claims(&[out], &AliasMap::builtin()).unwrap().batch.to_canonical_frame().unwrap();
        let claims = frame
            .lazy()
            .group_by([col("claim_id")])
            .agg([col("procedure_code").eq(lit("99213")).any(true).alias("visit"), col("prior_auth_number").is_not_null().any(true).alias("pa")])
            .filter(col("visit"))
            .collect()
            .unwrap();
        let pa = claims.column("pa").unwrap().bool().unwrap();
        (claims.height(), pa.sum().unwrap_or(0) as usize)
    };
    // (A few 99213 lines arrive after the claim was drawn: a repair's replacement visit, a plant.)
    let (visits, authorised) = with_99213(Some(rules.to_path_buf()));
    assert!(visits > 100 && authorised * 100 >= visits * 98, "{authorised} of {visits}");
    let (visits, authorised) = with_99213(None);
    assert!(visits > 100 && authorised < visits / 10, "{authorised} of {visits}");

    // A pack without the list is an error that names the file.
    std::fs::write(rules.join("payers/acme-commercial/pack.yaml"), "name: ACME\npayers: [ACME-COMMERCIAL]\n").unwrap();
    let err = Policy::load(Some(rules)).unwrap_err().to_string();
    assert!(err.contains("pack.yaml") && err.contains("prior_auth_codes"), "{err}");
}

#[test]
fn schemes_are_planted_deterministically_and_listed_in_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"));
    let with_schemes = |out: &Path| {
        let mut o = options(40_000, 8, out, subset());
        o.scheme_share = Some(0.15);
        generate(&o).unwrap()
    };
    let (ma, mb) = (with_schemes(&a), with_schemes(&b));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(ma.schemes_csv(), mb.schemes_csv());
    assert_eq!(ma.schemes.len(), 6, "15% of 40 providers: {}", ma.summary());
    assert_eq!(ma.schemes_csv().lines().count(), ma.schemes.len() + 1);
    let npis: std::collections::HashSet<&str> = ma.schemes.iter().map(|s| s.npi.as_str()).collect();
    assert_eq!(npis.len(), ma.schemes.len(), "one scheme per provider");
    assert!(ma.schemes.iter().all(|s| (0.5..=1.0).contains(&s.strength) && s.encounters > 0));
    // Without --schemes nothing is planted and the manifest says so.
    let c = dir.path().join("c.parquet");
    assert!(generate(&options(40_000, 8, &c, subset())).unwrap().schemes.is_empty());

    // Every scheme's marks sit on its provider only: services after death, the excluded NPI.
    let frame = load_claims(&[a], &AliasMap::builtin()).unwrap().batch.to_canonical_frame().unwrap();
    let after_death = frame
        .clone()
        .lazy()
        .filter(col("patient_death_date").lt(col("service_date_from")))
        .select([col("rendering_npi").unique()])
        .collect()
        .unwrap();
    let death: Vec<&str> = ma.schemes.iter().filter(|s| s.scheme.id() == "billing-after-death").map(|s| s.npi.as_str()).collect();
    let found: Vec<&str> = after_death.column("rendering_npi").unwrap().str().unwrap().iter().flatten().collect();
    assert_eq!(found, death);
    for s in ma.schemes.iter().filter(|s| s.scheme.id() == "excluded-npi") {
        assert_eq!(s.npi, "1999999984", "the one NPI the hand-made LEIE excludes in 2024");
    }
}
