//! The state of one ST..SE transaction set while it is read: the open loops, the billing
//! provider, subscriber and patient in force, and the claim being built. Placement, the segment
//! mappers and emitting claim lines extend [`Txn`] in their own modules.

use std::collections::HashMap;

use super::loops::{self, Frame, Role};
use super::tokenizer::{At, Delimiters, Segment};
use super::envelope::check_control;
use super::{Severity, X12Batch, X12Problem};

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
    pub(super) fn warn(&mut self, at: &At, message: String) {
        self.batch.problems.push(problem(Severity::Warning, None, at, message));
    }
}

pub(super) fn problem(severity: Severity, claim_id: Option<String>, at: &At, message: String) -> X12Problem {
    X12Problem {
        severity,
        claim_id,
        segment_number: at.number,
        byte_offset: at.offset,
        line: at.line,
        segment_id: at.id.clone(),
        message,
    }
}

/// Data of one HL loop (billing provider, subscriber or patient), copied into each claim under it.
#[derive(Debug, Clone)]
pub(super) struct Party {
    /// The HL that opened it.
    pub(super) at: At,
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
pub(super) struct Line {
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
    pub(super) lines: Vec<Line>,
    pub(super) problems: Vec<X12Problem>,
}

impl Claim {
    pub(super) fn note(&mut self, severity: Severity, at: &At, message: String) {
        let id = (!self.id.is_empty()).then(|| self.id.clone());
        self.problems.push(problem(severity, id, at, message));
    }
    pub(super) fn error(&mut self, at: &At, message: String) {
        self.note(Severity::Error, at, message);
    }
    pub(super) fn warn(&mut self, at: &At, message: String) {
        self.note(Severity::Warning, at, message);
    }
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
        }
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
        if seg.id() == "HL" {
            self.hl(seg, out);
        } else {
            self.place(seg, out);
        }
        // Checked after placing, so the finding lands on the claim the NM1 now belongs to.
        if seg.id() == "NM1" && seg.text(2).is_empty() {
            self.note(
                Severity::Warning,
                &seg.at,
                format!("NM102 (entity type qualifier) is missing in NM1*{}", seg.text(1)),
                out,
            );
        }
    }

    pub(super) fn finish(mut self, se: &Segment, out: &mut Out) {
        self.segments += 1;
        self.truncate(0, out);
        self.retire_patient(out);
        self.retire_subscriber(out);
        self.retire_billing(out);
        let declared = se.text(1);
        if declared.parse::<usize>().ok() != Some(self.segments) {
            out.warn(
                &se.at,
                format!("SE01 says {declared} segments but the transaction set has {} (ST to SE)", self.segments),
            );
        }
        let control = self.control.clone();
        let st = self.st.clone();
        check_control(out, se, 2, &control, &st, "ST02");
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
