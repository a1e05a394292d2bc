//! Remittance claims and lines paired with the audited claim lines: by patient control number
//! (CLP01 = CLM01 = claim_id), then each service line by procedure code, modifiers and date of
//! service. Nothing is dropped: what does not pair is listed as unmatched.
//!
//! Lines pair in tiers, best first, each audited line at most once per remittance claim:
//! 1. same code, same modifiers (in any order) and same date;
//! 2. same code and date, other modifiers (payers drop or add informational modifiers);
//! 3. same code and modifiers, another date.
//!
//! Within a tier an equal charge wins, then the lower line number. The code compared is the
//! one the provider billed (SVC06 when the payer changed it, else SVC01); a revenue-code line
//! (NU) also pairs on the audited revenue code. A remittance line without a date takes the
//! claim's statement date (DTM*232); with none, dates are not compared.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::batch::Batch;
use crate::schema::col;

use super::model::{RemitClaim, Remittance, ServiceLine};

/// One audited service line, as matching and the loop need it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditedLine {
    /// Row in the audited batch.
    pub row: usize,
    pub claim_id: String,
    pub line_number: Option<i64>,
    pub procedure_code: String,
    /// Non-empty modifiers, sorted.
    pub modifiers: Vec<String>,
    pub revenue_code: String,
    /// YYYY-MM-DD.
    pub service_date: String,
    pub charge: Option<f64>,
    pub received_date: String,
    pub payer_id: String,
    /// `file:row` in the claims input.
    pub location: String,
}

/// The audited claim lines, grouped by claim id in input order.
#[derive(Debug, Default)]
pub struct ClaimIndex {
    pub lines: Vec<AuditedLine>,
    /// Claim id -> indexes into `lines`, in input order.
    pub by_claim: HashMap<String, Vec<usize>>,
    /// Claim ids in first-seen order.
    pub claim_order: Vec<String>,
}

impl ClaimIndex {
    /// Reads the lines from an audited batch (the only place this module touches it).
    pub fn from_batch(batch: &Batch) -> Self {
        let mut index = ClaimIndex::default();
        for row in 0..batch.len {
            let text = |c: usize| batch.text(c, row).trim().to_string();
            let mut modifiers: Vec<String> = col::MODIFIERS.iter().map(|&c| text(c).to_ascii_uppercase()).filter(|m| !m.is_empty()).collect();
            modifiers.sort();
            let line = AuditedLine {
                row,
                claim_id: text(col::CLAIM_ID),
                line_number: batch.integer(col::LINE_NUMBER, row),
                procedure_code: text(col::PROCEDURE_CODE).to_ascii_uppercase(),
                modifiers,
                revenue_code: text(col::REVENUE_CODE),
                service_date: text(col::SERVICE_DATE_FROM),
                charge: batch.number(col::CHARGE_AMOUNT, row),
                received_date: text(col::RECEIVED_DATE),
                payer_id: text(col::PAYER_ID),
                location: batch.location(row),
            };
            index.push(line);
        }
        index
    }

    fn push(&mut self, line: AuditedLine) {
        let i = self.lines.len();
        match self.by_claim.get_mut(&line.claim_id) {
            Some(v) => v.push(i),
            None => {
                self.claim_order.push(line.claim_id.clone());
                self.by_claim.insert(line.claim_id.clone(), vec![i]);
            }
        }
        self.lines.push(line);
    }

    /// The claim's received date: the first non-empty one on its lines.
    pub fn received_date(&self, claim_id: &str) -> Option<&str> {
        self.by_claim.get(claim_id)?.iter().map(|&i| self.lines[i].received_date.as_str()).find(|d| !d.is_empty())
    }
}

/// How well a remittance line matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    Exact,
    ModifiersDiffer,
    DateDiffers,
    Unmatched,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::ModifiersDiffer => "modifiers differ",
            MatchKind::DateDiffers => "date differs",
            MatchKind::Unmatched => "unmatched",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LineMatch {
    /// Index into the remittance claim's lines.
    pub remit_line: usize,
    /// Index into [`ClaimIndex::lines`].
    pub audited: Option<usize>,
    pub kind: MatchKind,
}

/// Where a remittance claim is: file, transaction set and claim indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ClaimRef {
    pub file: usize,
    pub set: usize,
    pub claim: usize,
}

impl ClaimRef {
    pub fn get<'a>(&self, remittances: &'a [Remittance]) -> &'a RemitClaim {
        &remittances[self.file].transactions[self.set].claims[self.claim]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimMatch {
    pub remit: ClaimRef,
    /// The audited claim id, when CLP01 names one.
    pub audited_claim: Option<String>,
    pub lines: Vec<LineMatch>,
    /// Audited lines of the claim that no line of this remittance claim paired with.
    pub unmentioned: Vec<usize>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Matching {
    /// Every remittance claim that was read, in file order.
    pub claims: Vec<ClaimMatch>,
    /// Audited claims no remittance claim names, in input order.
    pub unremitted: Vec<String>,
}

impl Matching {
    pub fn matched_claims(&self) -> usize {
        self.claims.iter().filter(|c| c.audited_claim.is_some()).count()
    }

    pub fn unmatched_lines(&self) -> usize {
        self.claims.iter().filter(|c| c.audited_claim.is_some()).flat_map(|c| &c.lines).filter(|l| l.audited.is_none()).count()
    }
}

/// The date a remittance line is compared on.
pub fn line_date<'a>(claim: &'a RemitClaim, line: &'a ServiceLine) -> &'a str {
    if line.service_date.is_empty() {
        &claim.service_date_from
    } else {
        &line.service_date
    }
}

fn code_matches(remit: &ServiceLine, audited: &AuditedLine) -> bool {
    let code = remit.procedure_code.trim().to_ascii_uppercase();
    !code.is_empty() && (code == audited.procedure_code || (remit.qualifier == "NU" && code == audited.revenue_code))
}

fn sorted_modifiers(line: &ServiceLine) -> Vec<String> {
    let mut m: Vec<String> = line.modifiers.iter().map(|m| m.trim().to_ascii_uppercase()).filter(|m| !m.is_empty()).collect();
    m.sort();
    m
}

/// Pairs one remittance claim's lines with the audited lines `candidates`.
fn match_lines(claim: &RemitClaim, candidates: &[usize], index: &ClaimIndex) -> (Vec<LineMatch>, Vec<usize>) {
    let mut used: HashSet<usize> = HashSet::new();
    let mut result: Vec<LineMatch> = (0..claim.lines.len()).map(|i| LineMatch { remit_line: i, audited: None, kind: MatchKind::Unmatched }).collect();
    for kind in [MatchKind::Exact, MatchKind::ModifiersDiffer, MatchKind::DateDiffers] {
        for (i, line) in claim.lines.iter().enumerate() {
            if result[i].audited.is_some() {
                continue;
            }
            let date = line_date(claim, line);
            let mods = sorted_modifiers(line);
            let fits = |a: &AuditedLine| {
                let same_date = date.is_empty() || a.service_date == date;
                let same_mods = a.modifiers == mods;
                code_matches(line, a)
                    && match kind {
                        MatchKind::Exact => same_date && same_mods,
                        MatchKind::ModifiersDiffer => same_date,
                        MatchKind::DateDiffers => same_mods,
                        MatchKind::Unmatched => false,
                    }
            };
            let best = candidates.iter().copied().filter(|c| !used.contains(c) && fits(&index.lines[*c])).min_by_key(|&c| {
                let a = &index.lines[c];
                let same_charge = matches!((a.charge, line.billed), (Some(x), Some(y)) if (x - y).abs() < 0.005);
                (!same_charge, a.line_number.unwrap_or(i64::MAX), c)
            });
            if let Some(c) = best {
                used.insert(c);
                result[i] = LineMatch { remit_line: i, audited: Some(c), kind };
            }
        }
    }
    let unmentioned = if claim.lines.is_empty() { Vec::new() } else { candidates.iter().copied().filter(|c| !used.contains(c)).collect() };
    (result, unmentioned)
}

/// Pairs every remittance claim with the audited claims.
pub fn match_all(remittances: &[Remittance], index: &ClaimIndex) -> Matching {
    let mut claims = Vec::new();
    let mut named: HashSet<&str> = HashSet::new();
    for (f, r) in remittances.iter().enumerate() {
        for (s, tx) in r.transactions.iter().enumerate() {
            for (c, claim) in tx.claims.iter().enumerate() {
                let remit = ClaimRef { file: f, set: s, claim: c };
                let id = claim.claim_id.trim();
                match index.by_claim.get(id) {
                    Some(candidates) => {
                        named.insert(id);
                        let (lines, unmentioned) = match_lines(claim, candidates, index);
                        claims.push(ClaimMatch { remit, audited_claim: Some(id.to_string()), lines, unmentioned });
                    }
                    None => {
                        let lines = (0..claim.lines.len()).map(|i| LineMatch { remit_line: i, audited: None, kind: MatchKind::Unmatched }).collect();
                        claims.push(ClaimMatch { remit, audited_claim: None, lines, unmentioned: Vec::new() });
                    }
                }
            }
        }
    }
    let unremitted = index.claim_order.iter().filter(|id| !named.contains(id.as_str())).cloned().collect();
    Matching { claims, unremitted }
}
