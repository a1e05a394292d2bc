//! The state of one ST..SE transaction set while it is read: the open loops, the billing
//! provider, subscriber and patient in force, and the claim being built. Placement, the segment
//! mappers and emitting claim lines extend [`Txn`] in their own modules.

use std::collections::HashMap;

use super::envelope::check_control;
use super::loops::{self, Frame, Role};
use super::tokenizer::{At, Delimiters, Segment};
use super::{ProblemKind, Severity, X12Batch, X12Problem};

/// Structural faults kept per HL loop; the first ones say all a biller needs.
pub(super) const MAX_LOOP_FAULTS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClaimType {
    Professional,
    Institutional,
}

impl ClaimType {
    pub(super) fn name(self) -> &'static str {
        match self {
            ClaimType::Professional => "professional",
            ClaimType::Institutional => "institutional",
        }
    }
}

#[derive(Default)]
pub(super) struct Out {
    pub(super) batch: X12Batch,
    pub(super) versions: Vec<String>,
}

impl Out {
    /// A defect outside any claim that rejects nothing.
    pub(super) fn warn(&mut self, at: &At, message: String) {
        self.batch.problems.push(problem(Severity::Warning, ProblemKind::Structure, None, at, message));
    }

    /// Damage to the ISA/GS/ST envelope; the claims inside are read.
    pub(super) fn envelope(&mut self, at: &At, message: String) {
        self.batch.problems.push(problem(Severity::Warning, ProblemKind::Envelope, None, at, message));
    }

    /// A transaction set none of whose claims can be read.
    pub(super) fn reject_transaction(&mut self, at: &At, message: String) {
        self.batch.problems.push(problem(Severity::Error, ProblemKind::Transaction, None, at, message));
    }
}

pub(super) fn problem(severity: Severity, kind: ProblemKind, claim_id: Option<String>, at: &At, message: String) -> X12Problem {
    X12Problem { severity, kind, claim_id, segment_number: at.number, byte_offset: at.offset, line: at.line, segment_id: at.id.clone(), message }
}

/// Data of one HL loop (billing provider, subscriber or patient), copied into each claim under it.
#[derive(Debug, Clone)]
pub(super) struct Party {
    /// The HL that opened it, and its HL01.
    pub(super) at: At,
    pub(super) hl_id: String,
    /// The loop's name NM1 (NM1*85, NM1*IL or NM1*QC) was seen.
    pub(super) named: bool,
    /// The subscriber's payer NM1*PR was seen.
    pub(super) payer_named: bool,
    /// Billing provider: NPI. Subscriber / patient: NM109 member id.
    pub(super) id: String,
    pub(super) payer_id: String,
    pub(super) taxonomy: String,
    pub(super) birth: String,
    pub(super) sex: String,
    pub(super) death: String,
    pub(super) demographics: bool,
    /// Structural faults of this loop; each becomes an error on every claim under it.
    pub(super) broken: Vec<(At, String)>,
    pub(super) claims: usize,
}

impl Party {
    pub(super) fn new(at: &At) -> Self {
        Party {
            at: at.clone(),
            hl_id: String::new(),
            named: false,
            payer_named: false,
            id: String::new(),
            payer_id: String::new(),
            taxonomy: String::new(),
            birth: String::new(),
            sex: String::new(),
            death: String::new(),
            demographics: false,
            broken: Vec::new(),
            claims: 0,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct Provider {
    pub(super) npi: String,
    pub(super) taxonomy: String,
}

#[derive(Debug)]
pub(super) struct ServiceLine837 {
    pub(super) at: At,
    pub(super) number: u32,
    pub(super) service: bool,
    pub(super) procedure: String,
    pub(super) modifiers: [String; 4],
    pub(super) charge: f64,
    pub(super) units: f64,
    pub(super) pos: String,
    pub(super) pointers: Vec<u32>,
    pub(super) revenue: String,
    pub(super) dates: Option<(String, String)>,
    pub(super) prior_auth: String,
    pub(super) rendering: Provider,
}

#[derive(Debug)]
pub(super) struct Claim {
    pub(super) at: At,
    pub(super) id: String,
    pub(super) charge: f64,
    pub(super) pos: String,
    pub(super) tob: String,
    pub(super) under_patient: bool,
    pub(super) billing: Option<Party>,
    pub(super) subscriber: Option<Party>,
    pub(super) patient: Option<Party>,
    pub(super) hi_seen: bool,
    pub(super) dx: Vec<String>,
    pub(super) dx_dropped: Option<(At, usize)>,
    pub(super) principal_procedure: String,
    pub(super) other_procedures: Vec<String>,
    pub(super) d472: Option<(String, String)>,
    pub(super) d434: Option<(String, String)>,
    pub(super) received: String,
    pub(super) prior_auth: String,
    pub(super) rendering: Provider,
    pub(super) attending: Provider,
    pub(super) operating: Provider,
    pub(super) lines: Vec<ServiceLine837>,
    pub(super) problems: Vec<X12Problem>,
}

impl Claim {
    pub(super) fn note(&mut self, severity: Severity, at: &At, message: String) {
        let id = (!self.id.is_empty()).then(|| self.id.clone());
        let kind = if severity == Severity::Error { ProblemKind::Claim } else { ProblemKind::Structure };
        self.problems.push(problem(severity, kind, id, at, message));
    }
    pub(super) fn error(&mut self, at: &At, message: String) {
        self.note(Severity::Error, at, message);
    }
    pub(super) fn warn(&mut self, at: &At, message: String) {
        self.note(Severity::Warning, at, message);
    }
}

/// An unreadable segment that may have been an HL, and its level (HL03) when that can be read.
#[derive(Debug, Clone)]
pub(super) struct Poison {
    pub(super) at: At,
    pub(super) level: Option<String>,
}

/// One ST..SE transaction set being read.
pub(super) struct Txn {
    pub(super) kind: ClaimType,
    pub(super) st: At,
    pub(super) control: String,
    pub(super) delims: Delimiters,
    /// Component separator in force: ISA16, or the one CLM05 actually uses (see `check_component`).
    pub(super) comp: u8,
    pub(super) comp_repaired: bool,
    pub(super) segments: usize,
    pub(super) stack: Vec<Frame>,
    pub(super) hl_levels: HashMap<String, String>,
    pub(super) billing: Option<Party>,
    pub(super) subscriber: Option<Party>,
    pub(super) patient: Option<Party>,
    pub(super) claim: Option<Claim>,
    /// An unreadable segment that may have been an HL: until an HL shows where the claims that
    /// follow belong, they cannot be placed under the right billing provider or subscriber.
    pub(super) poison: Option<Poison>,
    /// The last segment placed and the role of the loop it went into.
    pub(super) last: Option<(String, Role)>,
    /// Segments of a claim whose CLM was lost have been counted as one rejected claim.
    pub(super) orphan: bool,
}

impl Txn {
    pub(super) fn new(st: &Segment, kind: ClaimType, delims: Delimiters) -> Self {
        Txn {
            kind,
            st: st.at.clone(),
            control: st.text(2),
            delims,
            comp: delims.component,
            comp_repaired: false,
            segments: 1,
            stack: vec![Frame::new("ST", Role::Header, loops::HEADER)],
            hl_levels: HashMap::new(),
            billing: None,
            subscriber: None,
            patient: None,
            claim: None,
            poison: None,
            last: None,
            orphan: false,
        }
    }

    /// A transaction set whose ST is missing or unreadable, opened by the BHT at `at`.
    pub(super) fn implied(at: &At, kind: ClaimType, delims: Delimiters) -> Self {
        let mut t = Txn::new(&Segment { at: at.clone(), elements: Vec::new(), damage: None }, kind, delims);
        t.segments = 0;
        t
    }

    pub(super) fn tables(&self) -> &'static loops::Tables {
        match self.kind {
            ClaimType::Professional => &loops::PROFESSIONAL,
            ClaimType::Institutional => &loops::INSTITUTIONAL,
        }
    }

    /// Reports against the open claim if there is one, else as a file-level warning.
    pub(super) fn note(&mut self, severity: Severity, at: &At, message: String, out: &mut Out) {
        match self.claim.as_mut() {
            Some(c) => c.note(severity, at, message),
            None => out.warn(at, message),
        }
    }

    pub(super) fn segment(&mut self, seg: &Segment, out: &mut Out) {
        self.segments += 1;
        if let Some(reason) = unreadable(seg) {
            self.damaged(seg, &reason, out);
            return;
        }
        if matches!(seg.id(), "HL" | "CLM") {
            self.orphan = false;
        }
        if seg.id() == "HL" {
            self.hl(seg, out);
        } else {
            self.place(seg, out);
        }
        self.last = self.stack.last().map(|f| (seg.id().to_string(), f.role));
        // Checked after placing, so the finding lands on the claim the NM1 now belongs to.
        if seg.id() == "NM1" && seg.text(2).is_empty() {
            self.note(Severity::Warning, &seg.at, format!("NM102 (entity type qualifier) is missing in NM1*{}", seg.text(1)), out);
        }
    }

    pub(super) fn finish(mut self, se: &Segment, out: &mut Out) {
        self.segments += 1;
        self.close_loops(out);
        let declared = se.text(1);
        if declared.parse::<usize>().ok() != Some(self.segments) {
            out.envelope(&se.at, format!("SE01 says {declared} segments but the transaction set has {} (ST to SE)", self.segments));
        }
        let control = self.control.clone();
        let st = self.st.clone();
        check_control(out, se, 2, &control, &st, "ST02");
    }

    /// Ends the transaction set without its SE: at the end of the file (`cut`), the claim still
    /// open is rejected, since its last lines may be missing; before another envelope segment it
    /// is complete.
    pub(super) fn close_without_se(mut self, cut: Option<&At>, out: &mut Out) {
        if let (Some(end), Some(c)) = (cut, self.claim.as_mut()) {
            c.error(end, "the file ends inside this claim (no SE follows), so its last lines may be missing".into());
        }
        self.close_loops(out);
    }

    fn close_loops(&mut self, out: &mut Out) {
        self.truncate(0, out);
        self.retire_patient(out);
        self.retire_subscriber(out);
        self.retire_billing(out);
    }

    /// Closes loops down to `len` open frames; closing a claim loop finishes the claim.
    pub(super) fn truncate(&mut self, len: usize, out: &mut Out) {
        while self.stack.len() > len {
            if let Some(f) = self.stack.pop() {
                if f.role == Role::Claim {
                    self.finish_claim(out);
                }
            }
        }
    }

    pub(super) fn retire(party: Option<Party>, out: &mut Out) {
        // Faults of a loop with no claim under it would otherwise go unreported.
        if let Some(p) = party {
            if p.claims == 0 {
                for (at, msg) in p.broken {
                    out.warn(&at, msg);
                }
            }
        }
    }
    pub(super) fn retire_patient(&mut self, out: &mut Out) {
        Self::retire(self.patient.take(), out);
    }
    pub(super) fn retire_subscriber(&mut self, out: &mut Out) {
        self.retire_patient(out);
        Self::retire(self.subscriber.take(), out);
    }
    pub(super) fn retire_billing(&mut self, out: &mut Out) {
        self.retire_subscriber(out);
        Self::retire(self.billing.take(), out);
    }
}

/// Why a segment cannot be read, if it cannot: the tokenizer's verdict, an identifier no 837
/// uses, or more elements than the segment has (two segments run together when a terminator is
/// damaged).
pub(super) fn unreadable(seg: &Segment) -> Option<String> {
    if let Some(d) = &seg.damage {
        return Some(d.clone());
    }
    let id = seg.id();
    let Some(max) = loops::max_elements(id) else {
        return Some(format!("{id} is not a segment of an 837"));
    };
    let used = seg.elements.iter().rposition(|e| !e.is_empty()).unwrap_or(0);
    (used > max).then(|| format!("{id} has {used} elements where it has at most {max}; a segment terminator may be missing"))
}

/// Whether an unreadable segment may have been a `target` segment: the same identifier, one
/// edit away from it while naming no other segment, or (for HL) ending like an HL does
/// (`*parent*20|22|23*0|1`).
pub(super) fn could_be(seg: &Segment, target: &str) -> bool {
    let mut raw_id = seg.elements.first().copied().unwrap_or(&[]);
    if raw_id.is_empty() {
        // The identifier's first byte became the element separator: `*LM*...` for `CLM*...`.
        raw_id = seg.elements.get(1).copied().unwrap_or(&[]);
    }
    if raw_id == target.as_bytes() {
        return true;
    }
    let other = std::str::from_utf8(raw_id).ok().and_then(loops::max_elements).is_some();
    if !other && loops::one_edit_apart(raw_id, target.as_bytes()) {
        return true;
    }
    target == "HL" && hl_shaped(seg)
}

/// Ends like an HL does: `*parent*20|22|23*0|1`.
pub(super) fn hl_shaped(seg: &Segment) -> bool {
    let n = seg.elements.len();
    let el = |back: usize| seg.elements.get(n.wrapping_sub(back)).map(|e| super::tokenizer::clean(e));
    n >= 4
        && el(1).is_some_and(|c| matches!(c.as_str(), "" | "0" | "1"))
        && el(2).is_some_and(|l| matches!(l.as_str(), "20" | "22" | "23"))
        && el(3).is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}
