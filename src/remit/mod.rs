//! Remittances (X12 835) read, matched to the audited claims, and turned into the denial loop:
//! which denials claimlint predicted, which it missed, and which findings the payer paid anyway.
//!
//! The layers point one way:
//! 1. [`parse_835`] reads one file into a [`Remittance`] ([`reader`], on the shared X12
//!    tokenizer through [`segments`]) and checks its arithmetic ([`balance`]);
//! 2. [`matching`] pairs remittance claims and lines with the audited claim lines;
//! 3. [`reconcile`] classifies every denial and every finding, per CARC and per rule;
//!    [`posting`] sums what was paid, adjusted and left to the patient, and how long it took;
//! 4. [`output`] writes the CSV files; `report::render_remit` the HTML page.
//!
//! # Reading 835s
//! 5010 (005010X221A1) and 4010 (004010X091A1) are both read: the segments that carry money and
//! codes (BPR, CLP, CAS, SVC, MIA, MOA, LQ, PLB, DTM) mean the same in both; a 4010 set is
//! noted as such. A file is refused only when nothing in it can be read (a broken first ISA) or
//! it holds no 835 transaction set. Everything else that goes wrong is a data-quality finding
//! with its segment number, byte offset and line, and costs as little as possible: a claim
//! (CLP loop) with an unreadable value, one PLB adjustment, or a set that is not an 835.
//! Envelope faults (counts, control numbers) are warnings.

pub mod balance;
pub mod codes;
pub mod matching;
pub mod model;
pub mod output;
pub mod posting;
mod reader;
pub mod reconcile;
mod segments;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::audit::{self, AuditOptions, AuditResult};
use crate::vocab::{input_error, DataIssue, Finding};

pub use model::*;
pub use reader::parse_amount;

/// Reads one 835 file and checks that its claims, lines and payments balance. `source` names
/// the file in problems and errors.
pub fn parse_835(input: &[u8], source: &str) -> Result<Remittance, crate::x12::X12Error> {
    let mut r = reader::parse_835(input, source)?;
    balance::check(&mut r);
    r.problems.sort_by_key(|p| (p.at.segment, p.at.byte));
    Ok(r)
}

/// True when the bytes look like X12: an ISA, or (for envelope-less remittance extracts) an ST.
pub fn looks_like_835(head: &[u8]) -> bool {
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let rest = head.get(start..).unwrap_or(&[]);
    let sep_at = if rest.starts_with(b"ISA") {
        3
    } else if rest.starts_with(b"ST") {
        2
    } else {
        return false;
    };
    rest.get(sep_at).is_some_and(|b| !b.is_ascii_alphanumeric() && !b.is_ascii_whitespace())
}

/// Remittance files: files as given, folders searched recursively for files that look like X12.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<std::io::Result<_>>()?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if sniff(&p) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = out.len();
            walk(p, &mut out)?;
            if out.len() == before {
                anyhow::bail!(input_error(format!("{}: folder holds no X12 files", p.display())));
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            anyhow::bail!(input_error(format!("{}: no such file or folder", p.display())));
        }
    }
    Ok(out)
}

fn sniff(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 64];
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    let n = f.read(&mut head).unwrap_or(0);
    looks_like_835(&head[..n])
}

/// Reads 835 files; a file that cannot be read at all is an input error naming it.
pub fn read_files(paths: &[PathBuf]) -> Result<Vec<Remittance>> {
    let mut out = Vec::new();
    for path in discover(paths)? {
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| input_error(format!("{name}: cannot read: {e}")))?;
        let r = parse_835(&bytes, &name).map_err(|e| input_error(e.to_string()))?;
        out.push(r);
    }
    Ok(out)
}

/// What `claimlint remit` needs.
pub struct RemitOptions {
    pub remittances: Vec<PathBuf>,
    /// The claims the remittances answer, audited with these options.
    pub audit: AuditOptions,
}

/// Everything one run found.
pub struct RemitRun {
    pub audit: AuditResult,
    pub remittances: Vec<Remittance>,
    pub claims: matching::ClaimIndex,
    pub matching: matching::Matching,
    pub outcome: reconcile::Outcome,
    pub posting: posting::Posting,
    /// The remittances' problems as data-quality findings.
    pub problems: Vec<Finding>,
}

impl RemitRun {
    /// Audit findings and remittance data-quality findings together, for the exit code.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.audit.findings.iter().chain(self.problems.iter())
    }
}

/// Audits the claims, reads the remittances and closes the loop.
pub fn run(opts: &RemitOptions) -> Result<RemitRun> {
    let remittances = read_files(&opts.remittances)?;
    // Matching needs every claim line at hand, so the claims are audited in one batch.
    let audit_opts = audit::AuditOptions { partitions: Some(1), ..opts.audit.clone() };
    let audit = audit::run_audit(&audit_opts)?;
    let batch = audit.batch.clone().expect("a one-partition audit keeps its batch");
    let claims = matching::ClaimIndex::from_batch(&batch);
    let matching = matching::match_all(&remittances, &claims);
    let outcome = reconcile::reconcile(&remittances, &claims, &matching, &audit.findings, &audit.rules);
    let posting = posting::post(&remittances, &claims, &matching);
    let problems = problem_findings(&remittances);
    Ok(RemitRun { audit, remittances, claims, matching, outcome, posting, problems })
}

/// Remittance problems in the shape of every other data-quality finding.
pub fn problem_findings(remittances: &[Remittance]) -> Vec<Finding> {
    let issues: Vec<DataIssue> = remittances
        .iter()
        .flat_map(|r| {
            r.problems.iter().map(move |p| DataIssue {
                source: r.source.clone(),
                row: None,
                claim_id: p.claim_id.clone(),
                line_number: None,
                rule_id: p.rule_id,
                severity: p.severity,
                message: format!("segment {} ({}) at byte {}, line {}: {}", p.at.segment, p.segment_id, p.at.byte, p.at.line, p.message),
                amount_at_risk: 0.0,
            })
        })
        .collect();
    audit::data_quality_findings(&issues)
}
