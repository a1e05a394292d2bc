//! Seeded mutation testing on the stable toolchain: byte flips, deletions, inserted and swapped
//! delimiters and truncation of samples/claims.csv and of 837 files. Every mutant must be read
//! without a panic or a hang, end as a run would (exit 0/1: read; exit 2: an input error; never
//! an internal error), and account for every line: lines read = audited + rejected.
//!
//! `mutation_seeded` runs in `cargo test` (the ../shared 837s when ../shared exists, and says so
//! when it does not); `mutation_for_a_while` (ignored) runs for CLAIMLINT_MUTATION_SECONDS
//! (default 30) with a seed from CLAIMLINT_MUTATION_SEED (default: the clock), printing both.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use claimlint::load::csv::read_csv;
use claimlint::load::{load_claims_with, LoadOptions};
use claimlint::schema::AliasMap;
use claimlint::vocab::InputError;
use claimlint::x12::parse_837;

use crate::common::repo_root;

/// Longest a single mutant may take before it counts as a hang (debug build, busy machine).
const HANG: Duration = Duration::from_secs(60);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const CSV_DELIMITERS: &[u8] = b",\"\t\n\r ";
const X12_DELIMITERS: &[u8] = b"*:~^>|\n\r ";

/// Applies 1-3 random damages; returns the mutant and what was done.
fn mutate(input: &[u8], delimiters: &[u8], rng: &mut Rng) -> (Vec<u8>, String) {
    let mut m = input.to_vec();
    let mut done = Vec::new();
    for _ in 0..1 + rng.below(3) {
        if m.is_empty() {
            break;
        }
        let at = rng.below(m.len());
        match rng.below(6) {
            0 => {
                let b = rng.below(256) as u8;
                m[at] = b;
                done.push(format!("byte {at} = {b:#04x}"));
            }
            1 => {
                let n = (1 + rng.below(3)).min(m.len() - at);
                m.drain(at..at + n);
                done.push(format!("delete {n} at {at}"));
            }
            2 => {
                let d = delimiters[rng.below(delimiters.len())];
                m.insert(at, d);
                done.push(format!("insert {:?} at {at}", d as char));
            }
            3 => {
                m.truncate(at);
                done.push(format!("truncate at {at}"));
            }
            4 => {
                // One delimiter written as another.
                let (a, b) = (delimiters[rng.below(delimiters.len())], delimiters[rng.below(delimiters.len())]);
                if let Some(i) = m.iter().skip(at).position(|&x| x == a) {
                    m[at + i] = b;
                    done.push(format!("delimiter {:?} at {} -> {:?}", a as char, at + i, b as char));
                }
            }
            _ => {
                if at + 1 < m.len() {
                    m.swap(at, at + 1);
                    done.push(format!("swap {at},{}", at + 1));
                }
            }
        }
    }
    (m, done.join("; "))
}

/// Runs `check` on a worker thread so that a hang fails the test instead of stalling it.
struct Worker {
    jobs: mpsc::Sender<Box<dyn FnOnce() -> Result<(), String> + Send>>,
    results: mpsc::Receiver<std::thread::Result<Result<(), String>>>,
}

impl Worker {
    fn new() -> Self {
        let (jobs, inbox) = mpsc::channel::<Box<dyn FnOnce() -> Result<(), String> + Send>>();
        let (outbox, results) = mpsc::channel();
        std::thread::spawn(move || {
            for job in inbox {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                if outbox.send(r).is_err() {
                    return;
                }
            }
        });
        Worker { jobs, results }
    }

    fn run(&self, what: &str, job: impl FnOnce() -> Result<(), String> + Send + 'static) {
        self.jobs.send(Box::new(job)).expect("worker alive");
        match self.results.recv_timeout(HANG) {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("{what}: {e}"),
            Ok(Err(_)) => panic!("{what}: panicked"),
            Err(_) => panic!("{what}: no result after {HANG:?} (a hang)"),
        }
    }
}

/// Records the CSV reader must find when the mutant holds no quote: one per line piece between
/// line breaks (CR or LF) that holds anything but separators and blanks, less the header.
fn csv_records_without_quotes(m: &[u8]) -> Option<u64> {
    if m.contains(&b'"') || std::str::from_utf8(m).is_err() || m.contains(&0) {
        return None;
    }
    let pieces = m.split(|&b| b == b'\n' || b == b'\r').filter(|p| !p.is_empty());
    let mut n = 0u64;
    let mut header = true;
    for p in pieces {
        if header {
            header = false;
            continue;
        }
        if !p.iter().all(|&b| b == b',' || b == b' ' || b == b'\t' || b == 0x0C) {
            n += 1;
        }
    }
    Some(n)
}

/// One CSV mutant through the reader (and, with `full`, the whole load: typing, accounting).
fn check_csv(path: &Path, mutant: &[u8], full: bool) -> Result<(), String> {
    std::fs::write(path, mutant).map_err(|e| e.to_string())?;
    match read_csv(path, "mutant.csv", b',', None) {
        Ok(read) => {
            let a = &read.accounting;
            if a.lines_audited() as usize != read.frame.height() || read.rows.len() != read.frame.height() {
                return Err(format!("{} rows for {a:?}", read.frame.height()));
            }
            let rejections = read.issues.iter().filter(|i| matches!(i.rule_id, "DQ-CSV-FIELD-COUNT" | "DQ-CSV-UNCLOSED-QUOTE")).count();
            if rejections as u64 != a.lines_rejected {
                return Err(format!("{rejections} rejection findings for {} rejected lines", a.lines_rejected));
            }
            if let Some(expected) = csv_records_without_quotes(mutant) {
                if a.lines_read != expected {
                    return Err(format!("{} lines read, {expected} in the file", a.lines_read));
                }
            }
        }
        Err(e) if e.downcast_ref::<InputError>().is_some() => return Ok(()),
        Err(e) => return Err(format!("internal error: {e:#}")),
    }
    if full {
        match load_claims_with(&[path.to_path_buf()], &AliasMap::builtin(), &LoadOptions::default()) {
            Ok(loaded) => {
                let audited: u64 = loaded.accounting.iter().map(|a| a.lines_audited()).sum();
                if audited as usize != loaded.batch.len {
                    return Err(format!("{audited} lines audited, {} in the frame", loaded.batch.len));
                }
            }
            Err(e) if e.downcast_ref::<InputError>().is_some() => {}
            Err(e) => return Err(format!("internal error: {e:#}")),
        }
    }
    Ok(())
}

fn check_x12(mutant: &[u8]) -> Result<(), String> {
    let Ok(b) = parse_837(mutant, "mutant") else { return Ok(()) };
    if b.lines_read != b.lines.len() + b.lines_rejected || b.claims_read != b.claims.len() + b.claims_rejected {
        return Err(format!(
            "lines {} = {} + {}? claims {} = {} + {}?",
            b.lines_read,
            b.lines.len(),
            b.lines_rejected,
            b.claims_read,
            b.claims.len(),
            b.claims_rejected
        ));
    }
    if b.claims.iter().map(|c| c.line_count).sum::<usize>() != b.lines.len() || b.line_segments.len() != b.lines.len() {
        return Err("lines do not add up to the claims' line counts".into());
    }
    if b.claims_rejected > 0 && b.errors().next().is_none() {
        return Err("a rejected claim without an error naming it".into());
    }
    Ok(())
}

/// The 837 inputs: the repo sample always; from ../shared, every 5010 837 and the first 20
/// claims of the 820-claim file (the whole file takes too long per mutant in a debug build).
fn x12_inputs(with_shared: bool) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("samples/claims_837p.txt".to_string(), std::fs::read(repo_root().join("samples/claims_837p.txt")).unwrap())];
    if !with_shared {
        return out;
    }
    let root = crate::common::shared_data("x12");
    let mut files = Vec::new();
    for dir in ["imsweb", "linuxforhealth", "linuxforhealth/837_005010X222A2", "linuxforhealth/837_005010X223A3"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let p = e.path();
            if p.is_file() && p.file_name().is_some_and(|n| n != "LICENSE" && n != "x12_many_claims.txt") {
                files.push(p);
            }
        }
    }
    files.sort();
    for p in files {
        out.push((p.strip_prefix(&root).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
    }
    let many = std::fs::read_to_string(root.join("imsweb/x12_many_claims.txt")).unwrap();
    let cut = many.match_indices("HL*1**20*1~").nth(10).unwrap().0;
    out.push(("imsweb/x12_many_claims.txt (20 claims)".into(), format!("{}SE*1*987654~\nGE*1*1~\nIEA*1*000000905~\n", &many[..cut]).into_bytes()));
    out
}

fn shared_available() -> bool {
    let dir = std::env::var_os("CLAIMLINT_SHARED").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    dir.join("data/x12").is_dir()
}

/// Mutates until `budget` says stop; returns (CSV mutants, 837 mutants).
fn campaign(seed: u64, with_shared: bool, mut budget: impl FnMut(usize) -> bool) -> (usize, usize) {
    let mut rng = Rng(seed | 1);
    let csv = std::fs::read(repo_root().join("samples/claims.csv")).unwrap();
    let x12 = x12_inputs(with_shared);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mutant.csv");
    let worker = Worker::new();
    let (mut n_csv, mut n_x12) = (0, 0);
    let mut i = 0;
    while budget(i) {
        if i % 3 == 0 {
            let (m, how) = mutate(&csv, CSV_DELIMITERS, &mut rng);
            let (p, full) = (path.clone(), n_csv % 20 == 0);
            worker.run(&format!("seed {seed}, mutant {i} of samples/claims.csv ({how})"), move || check_csv(&p, &m, full));
            n_csv += 1;
        } else {
            let (name, input) = &x12[rng.below(x12.len())];
            let (m, how) = mutate(input, X12_DELIMITERS, &mut rng);
            worker.run(&format!("seed {seed}, mutant {i} of {name} ({how})"), move || check_x12(&m));
            n_x12 += 1;
        }
        i += 1;
    }
    (n_csv, n_x12)
}

#[test]
fn mutation_seeded() {
    let with_shared = shared_available();
    if !with_shared {
        eprintln!("SKIPPED: ../shared/data/x12 not found, so only samples/ were mutated (not the ../shared 837 files)");
    }
    let (csv, x12) = campaign(0x5EED_0014, with_shared, |i| i < 3000);
    assert_eq!((csv, x12), (1000, 2000));
}

#[test]
fn a_few_mutants_through_the_binary_exit_0_1_or_2() {
    let mut rng = Rng(0xB1_4A27);
    let dir = tempfile::tempdir().unwrap();
    let csv = std::fs::read(repo_root().join("samples/claims.csv")).unwrap();
    let x12 = std::fs::read(repo_root().join("samples/claims_837p.txt")).unwrap();
    for i in 0..8 {
        let (name, m) =
            if i % 2 == 0 { ("m.csv", mutate(&csv, CSV_DELIMITERS, &mut rng).0) } else { ("m.837", mutate(&x12, X12_DELIMITERS, &mut rng).0) };
        let path = dir.path().join(name);
        std::fs::write(&path, &m).unwrap();
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_claimlint"))
            .args(["audit", "--rules", "rules/core", "--show", "0"])
            .arg(&path)
            .current_dir(repo_root())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(matches!(run.status.code(), Some(0..=2)), "mutant {i}: exit {:?}\n{stderr}", run.status.code());
        assert!(!stderr.contains("panicked"), "mutant {i}: {stderr}");
        if run.status.code() != Some(2) {
            assert!(String::from_utf8_lossy(&run.stdout).contains("input: "), "mutant {i}: no accounting");
        }
    }
}

#[test]
#[ignore = "runs for CLAIMLINT_MUTATION_SECONDS (default 30) and needs ../shared (run: cargo test -- --ignored)"]
fn mutation_for_a_while() {
    crate::common::shared_dir();
    let seconds: u64 = std::env::var("CLAIMLINT_MUTATION_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let seed: u64 = std::env::var("CLAIMLINT_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64));
    eprintln!("mutation: seed {seed} for {seconds} s (CLAIMLINT_MUTATION_SEED={seed} repeats it)");
    let end = Instant::now() + Duration::from_secs(seconds);
    let (csv, x12) = campaign(seed, true, |_| Instant::now() < end);
    eprintln!("mutation: {csv} CSV and {x12} 837 mutants, all read and accounted for");
    assert!(csv + x12 > 0);
}
