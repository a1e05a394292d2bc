//! Damaged input costs one row or one claim, never the file: the sample CSV and 837 files damaged
//! in a temporary folder (or in memory) at test time, and the real 820-claim 837 in ../shared.

use std::path::{Path, PathBuf};

use claimlint::load::{load_claims_with, LoadOptions, LoadedClaims};
use claimlint::schema::AliasMap;
use claimlint::vocab::{DataIssue, FileAccounting};
use claimlint::x12::{parse_837, X12Batch};
use polars::prelude::*;

use crate::common::repo_root;

fn sample_text() -> String {
    std::fs::read_to_string(repo_root().join("samples/claims.csv")).expect("sample")
}

fn load(path: &Path, encoding: Option<&str>) -> LoadedClaims {
    load_claims_with(&[path.to_path_buf()], &AliasMap::builtin(), &LoadOptions { encoding: encoding.map(str::to_string) })
        .unwrap_or_else(|e| panic!("{} should load: {e:#}", path.display()))
}

/// Writes `bytes` as `name` in a fresh temp folder.
fn write(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    (dir, path)
}

/// The sample with line `line` (1-based, header = 1) changed by `edit`.
fn sample_with(line: usize, edit: impl Fn(&str) -> String) -> String {
    let text = sample_text();
    text.split_inclusive('\n').enumerate().map(|(i, l)| if i + 1 == line { edit(l) } else { l.to_string() }).collect()
}

fn rows(loaded: &LoadedClaims) -> Vec<u32> {
    loaded.batch.source_row.clone()
}

fn csv_issues(loaded: &LoadedClaims) -> Vec<&DataIssue> {
    loaded.issues.iter().filter(|i| i.rule_id.starts_with("DQ-CSV")).collect()
}

fn accounting(loaded: &LoadedClaims) -> &FileAccounting {
    assert_eq!(loaded.accounting.len(), 1);
    let a = &loaded.accounting[0];
    assert_eq!(a.lines_audited() as usize, loaded.batch.len, "audited lines are the frame's rows");
    a
}

/// Asserts that exactly line `line` was rejected by `rule`, and the other 303 rows were read.
fn assert_only_line_rejected(loaded: &LoadedClaims, line: u32, rule: &str, needle: &str) {
    let issues = csv_issues(loaded);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let i = issues[0];
    assert_eq!((i.rule_id, i.row), (rule, Some(line)), "{i:#?}");
    assert!(i.message.contains(needle), "{} should mention {needle:?}", i.message);
    assert!(i.message.contains(&format!("line {line}")), "{}", i.message);
    let a = accounting(loaded);
    assert_eq!((a.lines_read, a.lines_rejected), (304, 1));
    let expected: Vec<u32> = (2..=305).filter(|&l| l != line).collect();
    assert_eq!(rows(loaded), expected);
}

fn original() -> LoadedClaims {
    load(&repo_root().join("samples/claims.csv"), None)
}

#[test]
fn sample_rows_are_located_by_their_line_in_the_file() {
    let loaded = original();
    assert_eq!(rows(&loaded), (2..=305).collect::<Vec<u32>>());
    let a = accounting(&loaded);
    assert_eq!((a.format.as_str(), a.encoding.as_deref(), a.lines_read, a.lines_rejected, a.claims_read), ("csv", Some("UTF-8"), 304, 0, 151));
    assert!(csv_issues(&loaded).is_empty());
}

#[test]
fn a_row_with_an_extra_field_costs_that_row() {
    let (_dir, path) = write("claims.csv", sample_with(101, |l| l.replacen(",", ",EXTRA,", 1)).as_bytes());
    let loaded = load(&path, None);
    assert_only_line_rejected(&loaded, 101, "DQ-CSV-FIELD-COUNT", "has 30 fields but the header has 29");
}

#[test]
fn a_row_with_too_few_fields_costs_that_row() {
    let (_dir, path) = write("claims.csv", sample_with(150, |l| l.replacen(",", "", 3)).as_bytes());
    let loaded = load(&path, None);
    assert_only_line_rejected(&loaded, 150, "DQ-CSV-FIELD-COUNT", "has 26 of the 29 fields");
}

#[test]
fn an_unclosed_quote_costs_only_the_row_where_it_opens() {
    for line in [2usize, 57, 200, 304, 305] {
        for field in [0usize, 3, 14, 28] {
            let damaged = sample_with(line, |l| {
                let mut fields: Vec<String> = l.trim_end_matches(['\r', '\n']).split(',').map(str::to_string).collect();
                fields[field].insert(0, '"');
                fields.join(",") + "\n"
            });
            let (_dir, path) = write("claims.csv", damaged.as_bytes());
            let loaded = load(&path, None);
            assert_only_line_rejected(&loaded, line as u32, "DQ-CSV-UNCLOSED-QUOTE", &format!("opens field {}", field + 1));
        }
    }
}

#[test]
fn a_quoted_value_over_two_lines_is_one_row_at_the_line_where_it_starts() {
    let damaged = sample_with(10, |l| l.replacen("Dermatology", "\"Derma\ntology\"", 1));
    assert!(damaged.contains("\"Derma\ntology\""), "line 10 is a dermatology claim");
    let (_dir, path) = write("claims.csv", damaged.as_bytes());
    let loaded = load(&path, None);
    assert!(csv_issues(&loaded).is_empty(), "{:#?}", loaded.issues);
    let expected: Vec<u32> = (2..=10).chain(12..=306).collect();
    assert_eq!(rows(&loaded), expected);
    let specialty = Some(loaded.batch.text(claimlint::schema::col::PROVIDER_SPECIALTY, 8).to_string()).filter(|s| !s.is_empty());
    assert_eq!(specialty.as_deref(), Some("Derma\ntology"));
}

#[test]
fn a_windows_1252_byte_is_detected_decoded_and_reported() {
    let mut bytes = sample_with(10, |l| l.replacen("Dermatology", "Dermatologé", 1)).into_bytes();
    let at = bytes.windows(2).position(|w| w == "é".as_bytes()).expect("é");
    bytes.splice(at..at + 2, [0xE9]);
    let (_dir, path) = write("claims.csv", &bytes);
    let loaded = load(&path, None);
    assert!(csv_issues(&loaded).is_empty(), "{:#?}", loaded.issues);
    let a = accounting(&loaded);
    assert_eq!((a.encoding.as_deref(), a.lines_read, a.lines_rejected), (Some("windows-1252"), 304, 0));
    let specialty = Some(loaded.batch.text(claimlint::schema::col::PROVIDER_SPECIALTY, 8).to_string()).filter(|s| !s.is_empty());
    assert_eq!(specialty.as_deref(), Some("Dermatologé"));

    // --encoding overrides the detection: read as UTF-8, the byte is replaced and reported.
    let loaded = load(&path, Some("utf-8"));
    let issues = csv_issues(&loaded);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!((issues[0].rule_id, issues[0].row), ("DQ-CSV-ENCODING", Some(10)));
    assert!(issues[0].message.contains("field `provider_specialty`") && issues[0].message.contains("not valid UTF-8"), "{}", issues[0].message);
    assert_eq!(loaded.batch.len, 304);

    // Latin-1 by name; and a UTF-8 é read as Latin-1 shows what the override does.
    let utf8 = sample_with(10, |l| l.replacen("Dermatology", "Dermatologé", 1));
    let (_dir2, path2) = write("claims.csv", utf8.as_bytes());
    let loaded = load(&path2, Some("latin1"));
    assert_eq!(accounting(&loaded).encoding.as_deref(), Some("windows-1252"));
    let specialty = Some(loaded.batch.text(claimlint::schema::col::PROVIDER_SPECIALTY, 8).to_string()).filter(|s| !s.is_empty());
    assert_eq!(specialty.as_deref(), Some("DermatologÃ©"));
    let err = load_claims_with(&[path2], &AliasMap::builtin(), &LoadOptions { encoding: Some("klingon".into()) }).err().expect("unknown label");
    assert!(err.to_string().contains("--encoding klingon: unknown encoding"), "{err}");
}

#[test]
fn boms_crlf_tabs_and_a_missing_last_line_break_read_the_same_rows() {
    let original = original();
    let text = sample_text();
    let utf16 = |big: bool| {
        let mut out: Vec<u8> = if big { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
        for unit in text.encode_utf16() {
            out.extend(if big { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        out
    };
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("UTF-8 BOM", "claims.csv", [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(), "UTF-8"),
        ("UTF-16LE BOM", "claims.csv", utf16(false), "UTF-16LE"),
        ("UTF-16BE BOM", "claims.csv", utf16(true), "UTF-16BE"),
        // The sample ends its lines with CRLF; LF alone and a mix read the same.
        ("LF", "claims.csv", text.replace("\r\n", "\n").into_bytes(), "UTF-8"),
        ("LF and CRLF", "claims.csv", text.replacen("\r\n", "\n", 100).into_bytes(), "UTF-8"),
        ("no final line break", "claims.csv", text.trim_end().as_bytes().to_vec(), "UTF-8"),
        ("TSV", "claims.tsv", text.replace(',', "\t").into_bytes(), "UTF-8"),
    ];
    for (what, name, bytes, encoding) in cases {
        let (_dir, path) = write(name, &bytes);
        let loaded = load(&path, None);
        assert!(loaded.issues.iter().all(|i| !i.rule_id.starts_with("DQ-CSV")), "{what}: {:#?}", loaded.issues);
        assert_eq!(accounting(&loaded).encoding.as_deref(), Some(encoding), "{what}");
        assert_eq!(rows(&loaded), rows(&original), "{what}");
        let strip = |l: &LoadedClaims| l.batch.to_canonical_frame().unwrap().drop("_source").unwrap();
        assert!(strip(&loaded).equals_missing(&strip(&original)), "{what}: frames differ");
    }
}

#[test]
fn a_truncated_last_line_costs_that_row_and_says_the_file_may_be_cut() {
    let text = sample_text();
    let cut = text.trim_end().rfind(",2024-").expect("a date on the last line");
    let (_dir, path) = write("claims.csv", &text.as_bytes()[..cut]);
    let loaded = load(&path, None);
    assert_only_line_rejected(&loaded, 305, "DQ-CSV-FIELD-COUNT", "the file may have been cut off");
}

#[test]
fn blank_rows_are_skipped_once_and_headers_are_made_distinct() {
    let text = sample_text().replacen("dx_pointers", "units", 1) + ",,,,\n\n  \n,,,\n";
    let (_dir, path) = write("claims.csv", text.as_bytes());
    let loaded = load(&path, None);
    let issues = csv_issues(&loaded);
    let blank = issues.iter().find(|i| i.rule_id == "DQ-CSV-BLANK-ROWS").expect("blank rows");
    assert_eq!((blank.row, blank.message.as_str()), (Some(306), "3 blank rows (every field empty) skipped: lines 306, 308-309"));
    let header = issues.iter().find(|i| i.rule_id == "DQ-CSV-HEADER").expect("header");
    assert!(header.message.contains("repeats the header `units`; it is read as `units_2`"), "{}", header.message);
    let a = accounting(&loaded);
    assert_eq!((a.lines_read, a.lines_rejected), (304, 0));
}

#[test]
fn damaged_rows_are_reported_without_their_patient_data() {
    // Three rows get markers for patient id and birth date, then each is damaged.
    let mark = |l: &str, n: usize| {
        let mut f: Vec<String> = l.trim_end_matches(['\r', '\n']).split(',').map(str::to_string).collect();
        f[3] = format!("ZZPATIENT{n}");
        f[4] = format!("1911-11-1{n}");
        f
    };
    let text = sample_text();
    let damaged: String = text
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| match i + 1 {
            40 => mark(l, 1).join(",") + ",EXTRA\n",
            41 => {
                let mut f = mark(l, 2);
                f[5].insert(0, '"');
                f.join(",") + "\n"
            }
            42 => mark(l, 3)[..20].join(",") + "\n",
            _ => l.to_string(),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("claims.csv"), &damaged).unwrap();
    // An 837 claim with marked member id and birth date, and an unreadable segment in it.
    let x12 = std::fs::read_to_string(repo_root().join("samples/claims_837p.txt"))
        .unwrap()
        .replace("ACM100771809", "ZZMEMBER77")
        .replace("19470905", "19111119")
        .replace("SV1*HC:17311", "S~1*HC:17311");
    std::fs::write(dir.path().join("claims.837"), &x12).unwrap();
    let out = dir.path().join("out");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_claimlint"))
        .args(["audit", "--rules", "rules/core", "--show", "500", "--out"])
        .arg(&out)
        .arg(dir.path().join("claims.csv"))
        .arg(dir.path().join("claims.837"))
        .current_dir(repo_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stdout}{stderr}");
    for rule in ["DQ-CSV-FIELD-COUNT", "DQ-CSV-UNCLOSED-QUOTE", "DQ-X12-CLAIM-REJECTED"] {
        assert!(stdout.contains(rule), "{rule} missing from\n{stdout}");
    }
    assert!(stdout.contains("input: 316 lines read, 311 audited, 5 rejected; 153 claims read, 152 audited, 1 rejected"), "{stdout}");
    let findings = std::fs::read_to_string(out.join("findings.csv")).unwrap();
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    let accounting = std::fs::read_to_string(out.join("accounting.csv")).unwrap();
    for marker in ["ZZPATIENT", "1911-11-1", "ZZMEMBER77", "19111119", "1911-11-19"] {
        for (what, text) in
            [("stdout", &*stdout), ("stderr", &*stderr), ("findings.csv", &*findings), ("report.html", &*report), ("accounting.csv", &*accounting)]
        {
            assert!(!text.contains(marker), "{marker} appears in {what}");
        }
    }
    assert!(findings.contains("claims.csv:41"), "locations name the line");
    assert!(accounting.lines().last().unwrap().starts_with("TOTAL,,,316,311,5,153,152,1"), "{accounting}");
    assert!(report.contains("Input accounting"), "the report has the accounting section");
}

#[test]
fn accounting_adds_up_for_every_input_kind() {
    let dir = tempfile::tempdir().unwrap();
    let csv = repo_root().join("samples/claims.csv");
    let mut df =
        CsvReadOptions::default().with_infer_schema_length(Some(0)).try_into_reader_with_file_path(Some(csv.clone())).unwrap().finish().unwrap();
    let parquet = dir.path().join("claims.parquet");
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap()).finish(&mut df).unwrap();
    let ndjson = dir.path().join("claims.ndjson");
    JsonWriter::new(std::fs::File::create(&ndjson).unwrap()).with_json_format(JsonFormat::JsonLines).finish(&mut df).unwrap();
    let tsv = dir.path().join("claims.tsv");
    std::fs::write(&tsv, sample_text().replace(',', "\t")).unwrap();
    let damaged_x12 = std::fs::read_to_string(repo_root().join("samples/claims_837p.txt")).unwrap().replace("SV1*HC:17311", "S~1*HC:17311");
    let x12 = dir.path().join("claims.837");
    std::fs::write(&x12, damaged_x12).unwrap();
    for (path, format, read, rejected, claims, claims_rejected) in [
        (csv, "csv", 304, 0, 151, 0),
        (tsv, "tsv", 304, 0, 151, 0),
        (parquet, "parquet", 304, 0, 151, 0),
        (ndjson, "ndjson", 304, 0, 151, 0),
        (x12, "x12", 12, 2, 4, 1),
    ] {
        let loaded = load(&path, None);
        let a = accounting(&loaded);
        assert_eq!(
            (a.format.as_str(), a.lines_read, a.lines_rejected, a.claims_read, a.claims_rejected),
            (format, read, rejected, claims, claims_rejected),
            "{}",
            path.display()
        );
        assert_eq!(a.lines_read, a.lines_audited() + a.lines_rejected);
    }
}

// ---------------------------------------------------------------- 837

/// The claims of a batch, as their lines.
fn claims_of(b: &X12Batch) -> Vec<Vec<claimlint::x12::ClaimLine>> {
    let mut at = 0;
    b.claims
        .iter()
        .map(|c| {
            let lines = b.lines[at..at + c.line_count].to_vec();
            at += c.line_count;
            lines
        })
        .collect()
}

/// Audited claims that are not, in order, unchanged claims of the original.
fn altered(original: &[Vec<claimlint::x12::ClaimLine>], damaged: &[Vec<claimlint::x12::ClaimLine>]) -> usize {
    let mut next = 0;
    let mut altered = 0;
    for claim in damaged {
        match original.get(next..).and_then(|rest| rest.iter().take(6).position(|o| o == claim)) {
            Some(skip) => next += skip + 1,
            None => altered += 1,
        }
    }
    altered
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn one_corrupted_byte_deep_inside_the_820_claim_837_costs_at_most_its_neighbourhood() {
    let bytes = std::fs::read(crate::common::shared_data("x12/imsweb/x12_many_claims.txt")).unwrap();
    let full = parse_837(&bytes, "full").unwrap();
    let original = claims_of(&full);
    assert_eq!(original.len(), 820);
    let mut lost_any = 0;
    // Positions spread over the whole file, and replacement bytes that make terminators,
    // separators, letters or controls.
    for k in 0..40usize {
        let pos = 137 + k * (bytes.len() - 300) / 40;
        for rep in [b'~', b'*', b'X', 0u8] {
            if bytes[pos] == rep {
                continue;
            }
            let mut m = bytes.clone();
            m[pos] = rep;
            let b = parse_837(&m, "damaged").unwrap_or_else(|e| panic!("byte {pos} -> {rep:?} refused the file: {e}"));
            let lost = 820 - b.claims.len();
            assert!(lost <= 3, "byte {pos} -> {rep:?} cost {lost} claims");
            lost_any += usize::from(lost > 0);
            assert_eq!(b.claims_read, 820, "byte {pos} -> {rep:?}: every claim is accounted for");
            assert_eq!(b.claims_rejected, lost);
            assert_eq!(b.lines_read, b.lines.len() + b.lines_rejected);
            if lost > 0 {
                assert!(b.errors().count() > 0, "a rejected claim is named by an error");
            }
            // A changed value changes at most the claims under one loop, never others silently.
            assert!(altered(&original, &claims_of(&b)) <= 2, "byte {pos} -> {rep:?} altered other claims");
        }
    }
    assert!(lost_any > 0, "some positions cost a claim");

    // Through the loader: the claim holding the damage is a finding, the other 819 are audited.
    let at = bytes.len() / 2 + bytes[bytes.len() / 2..].windows(4).position(|w| w == b"SV1*").unwrap();
    let mut m = bytes.clone();
    m[at + 1] = b'~';
    let (_dir, path) = write("many.837", &m);
    let loaded = load(&path, None);
    let a = accounting(&loaded);
    assert_eq!((a.claims_read, a.claims_rejected, a.lines_read, a.lines_rejected), (820, 1, 820, 1));
    let rejected: Vec<&DataIssue> = loaded.issues.iter().filter(|i| i.rule_id == "DQ-X12-CLAIM-REJECTED").collect();
    assert!(!rejected.is_empty() && rejected.iter().all(|i| i.message.contains("segment") && i.message.contains("byte")), "{rejected:#?}");
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn a_truncated_837_audits_every_claim_before_the_cut() {
    let bytes = std::fs::read(crate::common::shared_data("x12/imsweb/x12_many_claims.txt")).unwrap();
    let full = claims_of(&parse_837(&bytes, "full").unwrap());
    for cut in [bytes.len() / 3, bytes.len() / 2 + 17, bytes.len() - 40] {
        let b = parse_837(&bytes[..cut], "cut").unwrap();
        let got = claims_of(&b);
        assert_eq!(got[..], full[..got.len()], "cut at {cut}");
        assert_eq!(b.claims_read, b.claims.len() + b.claims_rejected);
        assert!(b.claims_rejected <= 1 && b.claims.len() > 200, "cut at {cut}: {} audited", b.claims.len());
    }
}

#[test]
fn every_data_quality_check_in_the_code_is_registered() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo_root().join("src"), &mut files);
    let mut used = std::collections::BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("\"DQ-") {
            let id: String = text[i + 1..].chars().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '-').collect();
            used.insert(id);
        }
    }
    assert!(used.len() >= 10, "{used:?}");
    for id in &used {
        let check = claimlint::load::dq::find(id).unwrap_or_else(|| panic!("{id} is not registered in src/load/dq.rs"));
        assert!(!check.title.is_empty() && !check.rationale.is_empty());
    }
    let ids: std::collections::BTreeSet<&str> = claimlint::load::dq::CHECKS.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), claimlint::load::dq::CHECKS.len(), "ids are unique");
}
