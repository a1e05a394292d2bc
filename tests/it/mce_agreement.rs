//! The MCE rules against CMS's own published Medicare Code Editor edit lists.
//!
//! The rules read flags from the date-effective MCE v43.1 master. CMS's "Definitions of Medicare
//! Code Edits" v41.1 (FY2024) lists, independently, every diagnosis under each sex, age and
//! manifestation edit. For a date of service in FY2024 the two must agree: every listed code
//! fires its edit on a claim built to conflict with it, and codes not on the list do not fire on
//! the same conflicting claim.
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use claimlint::audit::{run_audit, AuditOptions};
use claimlint::rules::Sandbox;

use crate::common::{repo_root, shared_data};

/// Mid FY2024, after the April 2024 code update that v41.1 includes.
const DOS: &str = "2024-06-15";

/// The list's edit, the rule that implements it, the message word, and a conflicting patient.
struct Edit {
    rule: &'static str,
    word: &'static str,
    sex: &'static str,
    birth: &'static str,
}

fn edit_for(group: &str, rule: &str) -> Option<Edit> {
    let (rule_id, word, sex, birth) = match (group, rule) {
        ("Sex", "Female Only") => ("FED-MCE-SEX", "female-only", "M", "1980-01-01"),
        ("Sex", "Male Only") => ("FED-MCE-SEX", "male-only", "F", "1980-01-01"),
        ("Age", r) if r.starts_with("Perinatal/Newborn") => ("FED-MCE-AGE", "newborn", "F", "1980-01-01"),
        ("Age", r) if r.starts_with("Pediatric") => ("FED-MCE-AGE", "pediatric", "F", "1980-01-01"),
        ("Age", r) if r.starts_with("Maternity") => ("FED-MCE-AGE", "maternity", "F", "1950-01-01"),
        ("Age", r) if r.starts_with("Adult") => ("FED-MCE-AGE", "adult", "F", "2019-01-01"),
        ("Other", r) if r.starts_with("Manifestation") => ("FED-MCE-MANIFESTATION", "manifestation", "F", "1980-01-01"),
        _ => return None,
    };
    Some(Edit { rule: rule_id, word, sex, birth })
}

fn read_csv_gz_codes_valid_on(date: &str) -> Vec<String> {
    // The master's own code list, to pick codes that are valid on the date but not on a list.
    let path = shared_data("codes/mce_v43.1_icd10_dx_master.csv.gz");
    let out = std::process::Command::new("gzip").arg("-dc").arg(&path).output().expect("gzip runs");
    let text = String::from_utf8(out.stdout).unwrap();
    let day = date.replace('-', "");
    let mut codes = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (code, start, end) = (f[0], f[1], f[2]);
        if start <= day.as_str() && (end.is_empty() || day.as_str() <= end) {
            codes.push(code.to_string());
        }
    }
    codes
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn mce_rules_agree_with_the_cms_edit_lists() {
    let lists = std::fs::read_to_string(shared_data("codes/mce_v41.1_dx_edits.csv")).unwrap();
    // (edit key) -> listed codes without the dot
    let mut listed: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for line in lists.lines().skip(1) {
        let f: Vec<String> = line.split("\",\"").map(|s| s.trim_matches('"').to_string()).collect();
        let (code, group, rule) = (&f[0], &f[f.len() - 2], &f[f.len() - 1]);
        listed.entry((group.clone(), rule.clone())).or_default().push(code.replace('.', ""));
    }
    assert_eq!(listed.values().map(Vec::len).sum::<usize>(), 7946, "rows of the v41.1 lists");

    let valid = read_csv_gz_codes_valid_on(DOS);
    let mut csv = String::from("claim_id,patient_id,patient_sex,patient_birth_date,dx_1,service_date_from,procedure_code,units,charge_amount\n");
    // claim id -> (edit key, code, expected to fire)
    let mut cases: BTreeMap<String, ((String, String), String, bool)> = BTreeMap::new();
    for (k, (key, codes)) in listed.iter().enumerate() {
        let edit = edit_for(&key.0, &key.1).unwrap_or_else(|| panic!("unmapped MCE edit {key:?}"));
        let on_list: HashSet<&str> = codes.iter().map(String::as_str).collect();
        // Every listed code, and every 15th valid code that is not on this list as a control.
        let controls = valid.iter().enumerate().filter(|(i, c)| i % 15 == k % 15 && !on_list.contains(c.as_str())).map(|(_, c)| c);
        for (code, expected) in codes.iter().map(|c| (c, true)).chain(controls.map(|c| (c, false))) {
            let id = format!("E{k}-{code}");
            writeln!(csv, "{id},P{k},{},{},{code},{DOS},99213,1,100", edit.sex, edit.birth).unwrap();
            cases.insert(id, (key.clone(), code.clone(), expected));
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let claims = dir.path().join("claims.csv");
    std::fs::write(&claims, csv).unwrap();
    // Only the MCE tables and rules: no copies of the shared files, links to them.
    let refdata = dir.path().join("refdata");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&refdata).unwrap();
    std::fs::create_dir_all(&rules).unwrap();
    for name in ["mce_v43.1_icd10_dx_master.csv.gz", "mce_v43.1_age_ranges.csv"] {
        std::os::unix::fs::symlink(shared_data(&format!("codes/{name}")), refdata.join(name)).unwrap();
    }
    for name in ["mce_sex.rhai", "mce_age.rhai", "mce_manifestation.rhai"] {
        std::fs::copy(repo_root().join("rules/federal").join(name), rules.join(name)).unwrap();
    }
    let r = run_audit(&AuditOptions {
        inputs: vec![claims],
        rules_dir: rules,
        refdata: Some(refdata),
        cache_dir: None,
        aliases: None,
        sandbox: Sandbox::default(),
        strict: true,
        peer_table: None,
        ..Default::default()
    })
    .unwrap();

    let mut agree: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut disagree = Vec::new();
    for (id, (key, code, expected)) in &cases {
        let edit = edit_for(&key.0, &key.1).unwrap();
        let fired = r.findings.iter().any(|f| &f.claim_id == id && f.rule_id == edit.rule && f.message.contains(edit.word));
        let e = agree.entry(key.clone()).or_default();
        if fired == *expected {
            if *expected {
                e.0 += 1
            } else {
                e.1 += 1
            }
        } else {
            disagree.push(format!("{key:?} {code}: listed={expected} fired={fired}"));
        }
    }
    for (key, (listed_fired, controls_clean)) in &agree {
        println!("{key:?}: {listed_fired} listed codes fire, {controls_clean} unlisted controls do not");
    }
    assert!(disagree.is_empty(), "{} disagreements with the CMS lists:\n{}", disagree.len(), disagree.join("\n"));
    assert!(agree.values().all(|&(l, c)| l > 0 && c > 0), "every edit has listed codes and controls");
}
