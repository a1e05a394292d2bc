//! X12 5010 837P (005010X222A1/A2) and 837I (005010X223A1/A2/A3) reader, mapped onto claimlint's
//! canonical claim-line schema (one [`ClaimLine`] per service line, claim values repeated).
//!
//! # Why our own parser
//! The crates on crates.io were read before writing this. None of them fits:
//! - `x12-types` 0.12 has typed 837 structs, but its nom parsers hard-code `~` and `*` (no other ISA
//!   delimiters), read a single functional group per interchange, and fail with bare nom errors
//!   that carry no segment number or byte position.
//! - `edi` 0.4 reads the delimiters from fixed byte offsets 103..106 of a `&str` (it can misread
//!   an ISA that is not exactly fixed width, and can panic on multi-byte text), ignores the 5010
//!   repetition separator, has no 837 loop model, and its errors carry no position.
//! - `x12-stream-parser` 0.1 is only a tokenizer. It does not read delimiters from the ISA, gives
//!   errors with no offsets, and recurses once for each empty segment.
//!
//! The format itself is small, and read in one linear pass over `&[u8]`:
//! - `tokenizer.rs` splits bytes into segments with the delimiters of each ISA;
//! - `envelope.rs` follows ISA/GS/ST ... SE/GE/IEA and hands each transaction set to
//! - `transaction.rs`, the state of one ST..SE set, which `placement.rs` (which loop a segment
//!   belongs to, per the loop tables in `loops.rs`), `segments.rs` (what each segment means)
//!   and `emit.rs` (whole-claim checks, one [`ClaimLine`] per service line) extend.
//!
//! # Input handling
//! - Delimiters come from each ISA: element = byte 3, repetition = ISA11 (5010), component = ISA16,
//!   segment terminator = the byte after ISA16. Every interchange in a file may use its own.
//! - CR, LF and blanks around segment terminators are ignored, so a file may have no newlines or
//!   one segment per line. A UTF-8 BOM is skipped.
//! - Damage costs the claim it sits in, never the file:
//!   - A segment that cannot be read (an identifier that is not 2-3 upper-case letters or digits,
//!     more elements than the segment has, an identifier no 837 uses) rejects its claim (loop
//!     2300), or every claim under its billing provider, subscriber or patient loop when it sits
//!     there before the claim. In the transaction set header, which holds no claim data, it is a
//!     warning. When it may have been an HL, the claims after it up to the next readable HL are
//!     rejected too: they might belong to another subscriber.
//!   - Envelope faults are warnings, and the claims inside are read: a missing or unreadable
//!     IEA, GE or SE (the next envelope segment closes what is open), an ST or GS that is missing
//!     (BHT opens the transaction set with the group's version), ST01 or ST03 damaged while the
//!     other names the 837 version, counts and control numbers, a damaged ISA whose delimiters
//!     still stand at the standard fixed-width positions, bytes that are not X12 between
//!     interchanges. A file that ends inside a transaction set rejects only the claim it cuts.
//!   - A transaction set of another kind (999, 835, 4010 837, 837D, an unknown version) is skipped
//!     and its claims and lines are counted as rejected; the file is refused with an
//!     [`X12Error`] only when it holds no 837P/I transaction set at all, when no interchange can
//!     be found, or when it is empty.
//! - **4010 is refused**: 004010X098A1 / 004010X096A1 stopped being valid HIPAA transactions in
//!   2012. Their ICD-9 diagnoses and legacy provider ids would make today's edits (ICD-10 MCE, NCCI,
//!   NPI checks) give wrong findings, so the user is asked to export 5010 instead.
//! - A claim that is structurally broken (a required element or loop missing, a repeated
//!   single-use loop, a segment where the guide allows none, an unreadable amount) becomes an
//!   [`X12Problem`] with [`Severity::Error`]. Its lines are left out and the other claims are still
//!   returned. Faults that leave the meaning clear (envelope counts, the order of segments in a
//!   loop, CLM02 that does not equal the sum of the lines, repaired separators) are
//!   [`Severity::Warning`], and the claim is kept.
//! - Two repairs are made, each reported as a warning:
//!   - If CLM05 is written with a component separator other than ISA16 (for example `11>B>1` when
//!     ISA16 is `:`; several guide examples do this), that separator is used for the rest of the
//!     transaction.
//!   - If HI writes a qualifier and its code as two elements (`HI*BK*8901`), they are read as
//!     `BK:8901`.
//!
//! # Mapping choices (per the 5010 guides)
//! - Patient: 2010CA when the claim sits under a 2000C loop, else the subscriber in 2010BA.
//!   `patient_id` is the patient's NM109 if present (5010 normally has none), else the subscriber's
//!   member id. The death date is PAT06 when PAT05 = D8.
//! - Rendering provider (only NM1 with NM108 = XX counts):
//!   - 837P: the line's 2420A NM1*82, else the claim's 2310B NM1*82, else the billing provider.
//!   - 837I: the line's 2420C NM1*82, else the attending 2310A NM1*71, else the rendering 2310D
//!     NM1*82, else the operating 2310B NM1*72, else the billing provider. The attending
//!     physician is responsible for the stay, so that NPI is the one that matters for exclusion
//!     and peer checks.
//!
//!   `provider_specialty` is the taxonomy (PRV03) of whichever provider was chosen.
//! - Diagnoses: HI elements qualified ABK/ABF (ICD-10) or BK/BF (ICD-9, still valid 5010
//!   qualifiers) fill dx_1..dx_12 in order, without dots. Further codes beyond 12 (possible on an
//!   837I) are dropped with a warning. Admitting, reason-for-visit and external-cause codes are not
//!   diagnoses in the schema. On an 837I, BBR/BR/CAH give `principal_procedure_code` and BBQ/BQ
//!   give `other_procedure_codes` (joined with `|`).
//! - `dx_pointers`: SV107 pointers joined with no separator ("1234"). If any pointer is 10–12,
//!   they are joined with commas ("1,10") so the value stays unambiguous.
//! - Service dates: the line's DTP*472 (D8 or RD8), else the claim's DTP*472, else DTP*434 (the
//!   837I statement period).
//! - `received_date` is filled only from a DTP*050 (received) in the claim. An 837 has no payer
//!   receipt date otherwise: BHT04 is when the file was created, not when it was received.
//! - `place_of_service`: on an 837P, SV105 or else CLM05-1. On an 837I it is empty, and
//!   `type_of_bill` is CLM05-1 followed by CLM05-3 (e.g. "111").
//! - `prior_auth_number`: the line's REF*G1, else the claim's REF*G1.

pub mod adjustment_codes;
mod emit;
mod envelope;
mod loops;
mod placement;
mod segments;
pub(crate) mod tokenizer;
mod transaction;

use serde::Serialize;
use std::fmt;

/// One service line in the canonical claim-line schema. Empty strings mean "absent".
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ClaimLine {
    pub claim_id: String,
    /// "professional" or "institutional".
    pub claim_type: String,
    pub payer_id: String,
    pub patient_id: String,
    /// YYYY-MM-DD, like every date here.
    pub patient_birth_date: String,
    pub patient_sex: String,
    pub patient_death_date: String,
    pub billing_npi: String,
    pub rendering_npi: String,
    /// Taxonomy (PRV03) of the provider chosen as rendering.
    pub provider_specialty: String,
    pub received_date: String,
    pub prior_auth_number: String,
    pub dx_1: String,
    pub dx_2: String,
    pub dx_3: String,
    pub dx_4: String,
    pub dx_5: String,
    pub dx_6: String,
    pub dx_7: String,
    pub dx_8: String,
    pub dx_9: String,
    pub dx_10: String,
    pub dx_11: String,
    pub dx_12: String,
    pub line_number: u32,
    pub service_date_from: String,
    pub service_date_to: String,
    pub place_of_service: String,
    pub procedure_code: String,
    pub modifier_1: String,
    pub modifier_2: String,
    pub modifier_3: String,
    pub modifier_4: String,
    pub units: f64,
    pub charge_amount: f64,
    /// SV107 pointers into dx_1..dx_12: "1234", or comma-separated ("1,10") if one exceeds 9.
    pub dx_pointers: String,
    /// Always empty: an 837 is a bill, it carries no payment.
    pub paid_amount: String,
    /// 837I only: CLM05-1 followed by CLM05-3, e.g. "131".
    pub type_of_bill: String,
    pub revenue_code: String,
    pub principal_procedure_code: String,
    /// 837I ICD-PCS codes other than the principal one, joined with '|'.
    pub other_procedure_codes: String,
    /// CLM02.
    pub claim_total_charge: f64,
}

impl ClaimLine {
    /// Column names, in the order of [`ClaimLine::values`].
    pub const COLUMNS: &'static [&'static str] = &[
        "claim_id",
        "claim_type",
        "payer_id",
        "patient_id",
        "patient_birth_date",
        "patient_sex",
        "patient_death_date",
        "billing_npi",
        "rendering_npi",
        "provider_specialty",
        "received_date",
        "prior_auth_number",
        "dx_1",
        "dx_2",
        "dx_3",
        "dx_4",
        "dx_5",
        "dx_6",
        "dx_7",
        "dx_8",
        "dx_9",
        "dx_10",
        "dx_11",
        "dx_12",
        "line_number",
        "service_date_from",
        "service_date_to",
        "place_of_service",
        "procedure_code",
        "modifier_1",
        "modifier_2",
        "modifier_3",
        "modifier_4",
        "units",
        "charge_amount",
        "dx_pointers",
        "paid_amount",
        "type_of_bill",
        "revenue_code",
        "principal_procedure_code",
        "other_procedure_codes",
        "claim_total_charge",
    ];

    /// The diagnoses dx_1..dx_12 in order.
    pub fn dx(&self) -> [&str; 12] {
        [
            &self.dx_1,
            &self.dx_2,
            &self.dx_3,
            &self.dx_4,
            &self.dx_5,
            &self.dx_6,
            &self.dx_7,
            &self.dx_8,
            &self.dx_9,
            &self.dx_10,
            &self.dx_11,
            &self.dx_12,
        ]
    }

    /// Every column as text, in [`ClaimLine::COLUMNS`] order (numbers without exponent), for
    /// building a text frame.
    pub fn values(&self) -> Vec<String> {
        let mut v = vec![
            self.claim_id.clone(),
            self.claim_type.clone(),
            self.payer_id.clone(),
            self.patient_id.clone(),
            self.patient_birth_date.clone(),
            self.patient_sex.clone(),
            self.patient_death_date.clone(),
            self.billing_npi.clone(),
            self.rendering_npi.clone(),
            self.provider_specialty.clone(),
            self.received_date.clone(),
            self.prior_auth_number.clone(),
        ];
        v.extend(self.dx().iter().map(|s| s.to_string()));
        v.extend([
            self.line_number.to_string(),
            self.service_date_from.clone(),
            self.service_date_to.clone(),
            self.place_of_service.clone(),
            self.procedure_code.clone(),
            self.modifier_1.clone(),
            self.modifier_2.clone(),
            self.modifier_3.clone(),
            self.modifier_4.clone(),
            self.units.to_string(),
            self.charge_amount.to_string(),
            self.dx_pointers.clone(),
            self.paid_amount.clone(),
            self.type_of_bill.clone(),
            self.revenue_code.clone(),
            self.principal_procedure_code.clone(),
            self.other_procedure_codes.clone(),
            self.claim_total_charge.to_string(),
        ]);
        v
    }
}

/// Whether a problem rejected its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Severity {
    /// The claim is structurally broken: its lines are not in [`X12Batch::lines`].
    Error,
    /// Reported, but the claim (if any) is kept.
    Warning,
}

/// What a problem concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProblemKind {
    /// The claim is not audited ([`Severity::Error`]).
    Claim,
    /// A whole transaction set is not audited ([`Severity::Error`]).
    Transaction,
    /// The ISA/GS/ST envelope around the claims is damaged; the claims are read ([`Severity::Warning`]).
    Envelope,
    /// Any other defect that leaves the meaning clear ([`Severity::Warning`]).
    Structure,
}

/// A fault inside an otherwise readable file: a broken claim or transaction set
/// ([`Severity::Error`]) or a defect worth fixing before submission ([`Severity::Warning`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct X12Problem {
    pub severity: Severity,
    pub kind: ProblemKind,
    /// CLM01 of the claim concerned; `None` for envelope and provider-level findings.
    pub claim_id: Option<String>,
    /// 1-based segment number in the file (the first ISA is 1).
    pub segment_number: usize,
    /// Byte offset of the segment's first character.
    pub byte_offset: usize,
    /// 1-based text line of the segment (1 for files without newlines).
    pub line: usize,
    pub segment_id: String,
    pub message: String,
}

impl fmt::Display for X12Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: segment {} ({}) at byte {}, line {}", self.segment_number, self.segment_id, self.byte_offset, self.line)?;
        if let Some(id) = &self.claim_id {
            write!(f, ", claim {id}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// One claim that was read without errors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimSummary {
    pub claim_id: String,
    /// CLM02.
    pub total_charge: f64,
    pub line_count: usize,
    /// Sum of SV102 / SV203 over the claim's lines.
    pub line_charge_sum: f64,
    pub claim_type: String,
    /// Segment number of the CLM.
    pub segment_number: usize,
}

/// Everything read from one file.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct X12Batch {
    pub lines: Vec<ClaimLine>,
    /// In file order (by segment number).
    pub problems: Vec<X12Problem>,
    /// Claims that were read without errors, in file order.
    pub claims: Vec<ClaimSummary>,
    /// Implementation guide version(s), e.g. "005010X222A2"; several distinct ones are joined
    /// with ",".
    pub version: String,
    /// Segment number of each line's LX, in [`X12Batch::lines`] order.
    pub line_segments: Vec<usize>,
    /// Claims (CLM segments) seen, including those in transaction sets that could not be read.
    pub claims_read: usize,
    pub claims_rejected: usize,
    /// Service lines (LX segments) seen: the lines of every claim, and any LX outside a claim.
    /// `lines_read = lines.len() + lines_rejected`.
    pub lines_read: usize,
    pub lines_rejected: usize,
}

impl X12Batch {
    /// Problems that rejected a claim.
    pub fn errors(&self) -> impl Iterator<Item = &X12Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Error)
    }

    /// Problems that did not reject anything.
    pub fn warnings(&self) -> impl Iterator<Item = &X12Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Warning)
    }
}

/// A fault that makes the whole file unreadable, or a file that is not a 5010 837P/I.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X12Error {
    /// The file name given to [`parse_837`].
    pub source: String,
    /// 1-based segment number (the first ISA is 1); for an early end of file, the number the
    /// missing segment would have had.
    pub segment_number: usize,
    pub byte_offset: usize,
    /// 1-based text line.
    pub line: usize,
    /// Identifier of the offending segment as found (may be empty or invalid).
    pub segment_id: String,
    /// What the reader expected at that point.
    pub expected: String,
    pub message: String,
}

impl fmt::Display for X12Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: segment {}", self.source, self.segment_number)?;
        if !self.segment_id.is_empty() {
            write!(f, " ({})", self.segment_id)?;
        }
        write!(f, " at byte {}, line {}: {}; expected {}", self.byte_offset, self.line, self.message, self.expected)
    }
}

impl std::error::Error for X12Error {}

/// True when the content looks like an X12 interchange: optional BOM and white space, then `ISA`
/// followed by a non-alphanumeric element separator.
pub fn looks_like_x12(head: &[u8]) -> bool {
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    match head.get(start..) {
        Some(rest) if rest.starts_with(b"ISA") => rest.get(3).is_some_and(|b| !b.is_ascii_alphanumeric() && !b.is_ascii_whitespace()),
        _ => false,
    }
}

/// Reads a 5010 837P/837I file. `source` names the file in errors.
pub fn parse_837(input: &[u8], source: &str) -> Result<X12Batch, X12Error> {
    envelope::parse(input, source)
}
