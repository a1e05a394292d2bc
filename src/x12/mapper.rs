//! Envelope checks (ISA/GS/ST ... SE/GE/IEA) and the loop-aware mapping of 837 claims onto
//! [`ClaimLine`]s, in a single pass over the segments.

use std::collections::HashMap;

use super::loops::{self, Frame, Item, Role};
use super::tokenizer::{clean, components, At, Delimiters, Segment, Tokenizer};
use super::{ClaimLine, ClaimSummary, Severity, X12Batch, X12Error, X12Problem};

/// Amounts closer than half a cent are equal.
const HALF_CENT: f64 = 0.005;

/// Structural faults kept per HL loop; the first ones say all a biller needs.
const MAX_LOOP_FAULTS: usize = 8;

/// HI qualifiers that carry a code in their second component: diagnoses (ICD-10 then ICD-9:
/// principal, other, admitting, reason for visit, external cause) and procedures (ICD-10-PCS,
/// ICD-9, advanced billing concepts).
const CODE_QUALIFIERS: &[&str] =
    &["ABK", "ABF", "ABJ", "APR", "ABN", "BK", "BF", "BJ", "PR", "BN", "BBR", "BBQ", "BR", "BQ", "CAH"];
/// Other HI qualifiers (value, occurrence, span, condition, DRG, treatment codes). A bare element
/// equal to one of these is not a diagnosis code.
const OTHER_QUALIFIERS: &[&str] = &["BE", "BH", "BI", "BG", "DR", "TC", "BP", "BO"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClaimType {
    Professional,
    Institutional,
}

impl ClaimType {
    fn name(self) -> &'static str {
        match self {
            ClaimType::Professional => "professional",
            ClaimType::Institutional => "institutional",
        }
    }
}

#[derive(Default)]
struct Out {
    batch: X12Batch,
    versions: Vec<String>,
}

impl Out {
    fn warn(&mut self, at: &At, message: String) {
        self.batch.problems.push(problem(Severity::Warning, None, at, message));
    }
}

fn problem(severity: Severity, claim_id: Option<String>, at: &At, message: String) -> X12Problem {
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

struct Interchange {
    at: At,
    control: String,
    groups: usize,
}

struct Group {
    at: At,
    control: String,
    version: String,
    sets: usize,
}

pub(crate) fn parse(input: &[u8], source: &str) -> Result<X12Batch, X12Error> {
    let fatal = |at: &At, expected: &str, message: String| X12Error {
        source: source.to_string(),
        segment_number: at.number,
        byte_offset: at.offset,
        line: at.line,
        segment_id: at.id.clone(),
        expected: expected.to_string(),
        message,
    };
    let mut tok = Tokenizer::new(input, source);
    let mut out = Out::default();
    let mut isa: Option<Interchange> = None;
    let mut gs: Option<Group> = None;
    let mut txn: Option<Txn> = None;
    let mut interchanges = 0usize;

    while let Some(seg) = tok.next_segment()? {
        for (at, msg) in tok.warnings.drain(..) {
            out.warn(&at, msg);
        }
        match seg.id() {
            "ISA" => {
                // The tokenizer only yields an ISA where an interchange may start.
                interchanges += 1;
                isa = Some(Interchange { at: seg.at.clone(), control: seg.text(13), groups: 0 });
            }
            "IEA" => {
                if let Some(t) = &txn {
                    return Err(fatal(
                        &seg.at,
                        "SE",
                        format!("IEA arrives before the transaction set opened at segment {} was closed", t.st.number),
                    ));
                }
                if let Some(g) = &gs {
                    return Err(fatal(
                        &seg.at,
                        "GE",
                        format!("IEA arrives before the functional group opened at segment {} was closed", g.at.number),
                    ));
                }
                let Some(i) = isa.take() else {
                    return Err(fatal(&seg.at, "ISA", "IEA without an open interchange".into()));
                };
                check_count(&mut out, &seg, 1, i.groups, "functional groups");
                check_control(&mut out, &seg, 2, &i.control, &i.at, "ISA13");
            }
            "GS" => {
                if let Some(t) = &txn {
                    return Err(fatal(
                        &seg.at,
                        "SE",
                        format!("GS arrives before the transaction set opened at segment {} was closed", t.st.number),
                    ));
                }
                if let Some(g) = &gs {
                    return Err(fatal(
                        &seg.at,
                        "GE",
                        format!(
                            "a new GS arrives before the functional group opened at segment {} was closed",
                            g.at.number
                        ),
                    ));
                }
                gs = Some(Group { at: seg.at.clone(), control: seg.text(6), version: seg.text(8), sets: 0 });
            }
            "GE" => {
                if let Some(t) = &txn {
                    return Err(fatal(
                        &seg.at,
                        "SE",
                        format!("GE arrives before the transaction set opened at segment {} was closed", t.st.number),
                    ));
                }
                let Some(g) = gs.take() else {
                    return Err(fatal(&seg.at, "GS", "GE without an open functional group".into()));
                };
                check_count(&mut out, &seg, 1, g.sets, "transaction sets");
                check_control(&mut out, &seg, 2, &g.control, &g.at, "GS06");
                if let Some(i) = isa.as_mut() {
                    i.groups += 1;
                }
            }
            "ST" => {
                if let Some(t) = &txn {
                    return Err(fatal(
                        &seg.at,
                        "SE",
                        format!(
                            "a new ST arrives before the transaction set opened at segment {} was closed",
                            t.st.number
                        ),
                    ));
                }
                let Some(g) = &gs else {
                    return Err(fatal(&seg.at, "GS (functional group header)", "ST outside a functional group".into()));
                };
                let kind =
                    transaction_kind(&seg, g).map_err(|(expected, message)| fatal(&seg.at, &expected, message))?;
                let version = if seg.text(3).is_empty() { g.version.clone() } else { seg.text(3) };
                if !out.versions.contains(&version) {
                    out.versions.push(version.clone());
                }
                // The tokenizer has delimiters whenever it yields a segment after ISA.
                let delims = tok.delimiters().unwrap_or(Delimiters {
                    element: b'*',
                    component: b':',
                    repetition: None,
                    segment: b'~',
                });
                txn = Some(Txn::new(&seg, kind, delims));
            }
            "SE" => {
                let Some(t) = txn.take() else {
                    return Err(fatal(&seg.at, "ST", "SE without an open transaction set".into()));
                };
                t.finish(&seg, &mut out);
                if let Some(g) = gs.as_mut() {
                    g.sets += 1;
                }
            }
            other => match txn.as_mut() {
                Some(t) => t.segment(&seg, &mut out),
                None => {
                    let expected = if gs.is_some() {
                        "ST (transaction set header)"
                    } else {
                        "GS (functional group header) or IEA"
                    };
                    return Err(fatal(&seg.at, expected, format!("segment {other} is outside a transaction set")));
                }
            },
        }
    }
    let end = tok.end_position();
    if let Some(t) = &txn {
        return Err(fatal(
            &end,
            "SE",
            format!("the file ends inside the transaction set opened at segment {}", t.st.number),
        ));
    }
    if let Some(g) = &gs {
        return Err(fatal(
            &end,
            "GE",
            format!("the file ends inside the functional group opened at segment {}", g.at.number),
        ));
    }
    if let Some(i) = &isa {
        return Err(fatal(
            &end,
            "IEA",
            format!("the file ends inside the interchange opened at segment {}", i.at.number),
        ));
    }
    if interchanges == 0 {
        return Err(fatal(&end, "ISA (interchange control header)", "the file is empty".into()));
    }
    out.batch.problems.sort_by_key(|p| p.segment_number);
    out.batch.version = out.versions.join(",");
    Ok(out.batch)
}

/// Refuses anything but a 5010 837P or 837I transaction set.
fn transaction_kind(st: &Segment, g: &Group) -> Result<ClaimType, (String, String)> {
    let expected_837 = "ST01 = 837 (health care claim)".to_string();
    let code = st.text(1);
    if code != "837" {
        let name = match code.as_str() {
            "999" => " (implementation acknowledgment)",
            "997" => " (functional acknowledgment)",
            "TA1" => " (interchange acknowledgment)",
            "835" => " (claim payment / remittance advice)",
            "277" | "276" => " (claim status)",
            "270" | "271" => " (eligibility)",
            "278" => " (prior authorization request)",
            "834" => " (benefit enrollment)",
            _ => "",
        };
        return Err((
            expected_837,
            format!("transaction set {code}{name} is not a claim file; claimlint reads 837P and 837I claims"),
        ));
    }
    let version = if st.text(3).is_empty() { g.version.clone() } else { st.text(3) };
    let expected = "005010X222A1/A2 (837P) or 005010X223A1/A2/A3 (837I)".to_string();
    if version.starts_with("004010") {
        return Err((
            expected,
            format!(
                "{version} is a HIPAA 4010 837, retired in 2012: its ICD-9 codes and legacy provider ids would make current edits report wrong findings; export the claims as 5010"
            ),
        ));
    }
    if version.starts_with("005010X222") {
        return Ok(ClaimType::Professional);
    }
    if version.starts_with("005010X223") {
        return Ok(ClaimType::Institutional);
    }
    let what = if version.starts_with("005010X224") { " (an 837D dental claim)" } else { "" };
    Err((expected, format!("implementation guide version '{version}'{what} is not supported")))
}

fn check_count(out: &mut Out, seg: &Segment, element: usize, actual: usize, what: &str) {
    let declared = seg.text(element);
    if declared.parse::<usize>().ok() != Some(actual) {
        out.warn(&seg.at, format!("{}{element:02} says {declared} {what} but the envelope holds {actual}", seg.id()));
    }
}

fn check_control(out: &mut Out, seg: &Segment, element: usize, opening: &str, opened: &At, opening_name: &str) {
    let closing = seg.text(element);
    let same = match (closing.parse::<u64>(), opening.parse::<u64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => closing == opening,
    };
    if !same {
        out.warn(
            &seg.at,
            format!(
                "{}{element:02} control number '{closing}' does not match {opening_name} '{opening}' at segment {}",
                seg.id(),
                opened.number
            ),
        );
    }
}

/// Data of one HL loop (billing provider, subscriber or patient), copied into each claim under it.
#[derive(Debug, Clone)]
struct Party {
    /// The HL that opened it.
    at: At,
    /// The loop's name NM1 (NM1*85, NM1*IL or NM1*QC) was seen.
    named: bool,
    /// The subscriber's payer NM1*PR was seen.
    payer_named: bool,
    /// Billing provider: NPI. Subscriber / patient: NM109 member id.
    id: String,
    payer_id: String,
    taxonomy: String,
    birth: String,
    sex: String,
    death: String,
    demographics: bool,
    /// Structural faults of this loop; each becomes an error on every claim under it.
    broken: Vec<(At, String)>,
    claims: usize,
}

impl Party {
    fn new(at: &At) -> Self {
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
struct Provider {
    npi: String,
    taxonomy: String,
}

#[derive(Debug)]
struct Line {
    at: At,
    number: u32,
    service: bool,
    procedure: String,
    modifiers: [String; 4],
    charge: f64,
    units: f64,
    pos: String,
    pointers: Vec<u32>,
    revenue: String,
    dates: Option<(String, String)>,
    prior_auth: String,
    rendering: Provider,
}

#[derive(Debug)]
struct Claim {
    at: At,
    id: String,
    charge: f64,
    pos: String,
    tob: String,
    under_patient: bool,
    billing: Option<Party>,
    subscriber: Option<Party>,
    patient: Option<Party>,
    hi_seen: bool,
    dx: Vec<String>,
    dx_dropped: Option<(At, usize)>,
    principal_procedure: String,
    other_procedures: Vec<String>,
    d472: Option<(String, String)>,
    d434: Option<(String, String)>,
    received: String,
    prior_auth: String,
    rendering: Provider,
    attending: Provider,
    operating: Provider,
    lines: Vec<Line>,
    problems: Vec<X12Problem>,
}

impl Claim {
    fn note(&mut self, severity: Severity, at: &At, message: String) {
        let id = (!self.id.is_empty()).then(|| self.id.clone());
        self.problems.push(problem(severity, id, at, message));
    }
    fn error(&mut self, at: &At, message: String) {
        self.note(Severity::Error, at, message);
    }
    fn warn(&mut self, at: &At, message: String) {
        self.note(Severity::Warning, at, message);
    }
}

/// One ST..SE transaction set being read.
struct Txn {
    kind: ClaimType,
    st: At,
    control: String,
    delims: Delimiters,
    /// Component separator in force: ISA16, or the one CLM05 actually uses (see `check_component`).
    comp: u8,
    comp_repaired: bool,
    segments: usize,
    stack: Vec<Frame>,
    hl_levels: HashMap<String, String>,
    billing: Option<Party>,
    subscriber: Option<Party>,
    patient: Option<Party>,
    claim: Option<Claim>,
}

impl Txn {
    fn new(st: &Segment, kind: ClaimType, delims: Delimiters) -> Self {
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

    fn tables(&self) -> &'static loops::Tables {
        match self.kind {
            ClaimType::Professional => &loops::PROFESSIONAL,
            ClaimType::Institutional => &loops::INSTITUTIONAL,
        }
    }

    /// Reports against the open claim if there is one, else as a file-level warning.
    fn note(&mut self, severity: Severity, at: &At, message: String, out: &mut Out) {
        match self.claim.as_mut() {
            Some(c) => c.note(severity, at, message),
            None => out.warn(at, message),
        }
    }

    fn segment(&mut self, seg: &Segment, out: &mut Out) {
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

    fn finish(mut self, se: &Segment, out: &mut Out) {
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
    fn truncate(&mut self, len: usize, out: &mut Out) {
        while self.stack.len() > len {
            if let Some(f) = self.stack.pop() {
                if f.role == Role::Claim {
                    self.finish_claim(out);
                }
            }
        }
    }

    fn retire(party: Option<Party>, out: &mut Out) {
        // Faults of a loop with no claim under it would otherwise go unreported.
        if let Some(p) = party {
            if p.claims == 0 {
                for (at, msg) in p.broken {
                    out.warn(&at, msg);
                }
            }
        }
    }
    fn retire_patient(&mut self, out: &mut Out) {
        Self::retire(self.patient.take(), out);
    }
    fn retire_subscriber(&mut self, out: &mut Out) {
        self.retire_patient(out);
        Self::retire(self.subscriber.take(), out);
    }
    fn retire_billing(&mut self, out: &mut Out) {
        self.retire_subscriber(out);
        Self::retire(self.billing.take(), out);
    }

    fn hl(&mut self, seg: &Segment, out: &mut Out) {
        self.truncate(1, out);
        let at = &seg.at;
        let (id, parent, level) = (seg.text(1), seg.text(2), seg.text(3));
        if id.is_empty() {
            out.warn(at, "HL01 (hierarchical id) is missing".into());
        } else if self.hl_levels.contains_key(&id) {
            out.warn(at, format!("HL01 id {id} repeats an earlier HL in this transaction set"));
        }
        let parent_level = match level.as_str() {
            "22" => Some("20"),
            "23" => Some("22"),
            _ => None,
        };
        if let Some(want) = parent_level {
            match self.hl_levels.get(&parent) {
                None => out.warn(at, format!("HL02 parent id '{parent}' is not an earlier HL; a level {level} HL needs a level {want} parent")),
                Some(l) if l != want => out.warn(at, format!("HL02 parent id {parent} is a level {l} HL; a level {level} HL needs a level {want} parent")),
                Some(_) => {}
            }
        } else if level == "20" && !parent.is_empty() {
            out.warn(at, format!("HL02 is '{parent}' but a billing provider HL (level 20) has no parent"));
        }
        if !id.is_empty() {
            self.hl_levels.insert(id, level.clone());
        }
        let tables = self.tables();
        match level.as_str() {
            "20" => {
                self.retire_billing(out);
                self.billing = Some(Party::new(at));
                self.stack.push(Frame::new("2000A", Role::BillingHl, loops::L2000A));
            }
            "22" => {
                self.retire_subscriber(out);
                let mut p = Party::new(at);
                if self.billing.is_none() {
                    p.broken.push((
                        at.clone(),
                        "the subscriber HL (level 22) has no billing provider HL (level 20) before it".into(),
                    ));
                }
                self.subscriber = Some(p);
                self.stack.push(Frame::new("2000B", Role::SubscriberHl, tables.l2000b));
            }
            "23" => {
                self.retire_patient(out);
                let mut p = Party::new(at);
                if self.subscriber.is_none() {
                    p.broken.push((
                        at.clone(),
                        "the patient HL (level 23) has no subscriber HL (level 22) before it".into(),
                    ));
                }
                self.patient = Some(p);
                self.stack.push(Frame::new("2000C", Role::PatientHl, tables.l2000c));
            }
            _ => {
                out.warn(
                    at,
                    format!(
                        "HL03 level code '{level}' is not used in an 837 (expected 20, 22 or 23); its loop is skipped"
                    ),
                );
                self.stack.push(Frame::new("HL", Role::Other, loops::UNKNOWN_HL));
            }
        }
    }

    /// Finds the loop a segment belongs to (innermost first), opening or closing loops, and maps it.
    fn place(&mut self, seg: &Segment, out: &mut Out) {
        let id = seg.id();
        let nm101 = if id == "NM1" { seg.text(1) } else { String::new() };
        let mut found = None;
        let mut late = None;
        'outer: for depth in (0..self.stack.len()).rev() {
            let Some(frame) = self.stack.get(depth) else { continue };
            // Index 0 is the loop's own opening segment: a repeat of it opens a sibling via the parent.
            for (index, item) in frame.schema.iter().enumerate().skip(1) {
                if item.matches(id, &nm101) {
                    if index >= frame.last {
                        found = Some((depth, index));
                        break 'outer;
                    }
                    if late.is_none() {
                        late = Some((depth, index));
                    }
                    break;
                }
            }
        }
        let Some((depth, index)) = found.or(late) else {
            self.unplaced(seg, &nm101, out);
            return;
        };
        self.truncate(depth + 1, out);
        let Some(frame) = self.stack.get_mut(depth) else { return };
        let Some(item) = frame.schema.get(index).copied() else { return };
        let out_of_order = found.is_none().then(|| {
            let before = frame.schema.get(frame.last).map(|i| i.label()).unwrap_or_default();
            format!("{} is out of order in loop {}: it must come before {before}", item.label(), frame.name)
        });
        if out_of_order.is_none() {
            frame.last = index;
        }
        let parent_role = frame.role;
        let opened = match item {
            Item::Seg(_) => None,
            Item::Nm1 { max, name, role, .. } => Some((max, name, role, loops::NM1_LOOP)),
            Item::Loop { max, name, role, schema, .. } => Some((max, name, role, schema)),
        };
        let count = if opened.is_some() { frame.bump(index) } else { 0 };
        if let Some(msg) = out_of_order {
            self.note(Severity::Warning, &seg.at, msg, out);
        }
        match opened {
            None => self.map(parent_role, seg, out),
            Some((max, name, role, schema)) => {
                self.stack.push(Frame::new(name, role, schema));
                self.map(role, seg, out);
                if count > max {
                    self.repeated(name, max, count, &seg.at, out);
                }
            }
        }
    }

    /// A segment no open loop may hold.
    fn unplaced(&mut self, seg: &Segment, nm101: &str, out: &mut Out) {
        let id = seg.id();
        if id == "NM1" {
            // A new NM1 ends a name loop; then skip this one with its N3/N4/REF/PER.
            while self.stack.len() > 1
                && self.stack.last().is_some_and(|f| matches!(f.schema.first(), Some(Item::Seg("NM1"))))
            {
                self.truncate(self.stack.len() - 1, out);
            }
            let top = self.stack.last().map_or("ST", |f| f.name);
            self.note(
                Severity::Warning,
                &seg.at,
                format!("NM1 entity code '{nm101}' is not expected in loop {top}; the loop is skipped"),
                out,
            );
            self.stack.push(Frame::new("NM1", Role::Unknown, loops::NM1_LOOP));
            return;
        }
        let top = self.stack.last().map_or("ST", |f| f.name);
        if id == "CLM" {
            // Read the claim anyway so its own faults are reported too, then reject it.
            self.truncate(self.stack.len().min(2), out);
            let schema = loops::claim_schema(self.kind == ClaimType::Institutional);
            self.stack.push(Frame::new("2300", Role::Claim, schema));
            self.map(Role::Claim, seg, out);
            let msg = format!("CLM is not allowed in loop {top}: a claim must follow a subscriber (HL level 22) or patient (HL level 23) loop");
            self.note(Severity::Error, &seg.at, msg, out);
            return;
        }
        let hint = match (id, self.kind) {
            ("SV1", ClaimType::Institutional) => " (SV1 is a professional service line and this is an 837I)",
            ("SV2", ClaimType::Professional) => " (SV2 is an institutional service line and this is an 837P)",
            ("SV1" | "SV2", _) => " (expected LX to open the service line first)",
            _ => "",
        };
        let msg = format!("segment {id} is not allowed in loop {top}{hint}");
        // Inside a claim this is what a clearinghouse rejects the claim for; elsewhere it touches no claim data.
        self.note(Severity::Error, &seg.at, msg, out);
    }

    fn repeated(&mut self, name: &str, max: u16, count: u16, at: &At, out: &mut Out) {
        // A repeated single-use loop leaves two candidates (two billing providers, two payers):
        // claims under it cannot be trusted. Exceeding a larger limit keeps the meaning clear.
        if max > 1 {
            let msg = format!("loop {name} occurs {count} times; the guide allows {max}");
            self.note(Severity::Warning, at, msg, out);
            return;
        }
        let msg = format!("loop {name} occurs more than once; the guide allows it once");
        if let Some(c) = self.claim.as_mut() {
            c.error(at, msg);
            return;
        }
        let party = if name.starts_with("2010A") {
            self.billing.as_mut()
        } else if name.starts_with("2010B") {
            self.subscriber.as_mut()
        } else if name.starts_with("2010C") {
            self.patient.as_mut()
        } else {
            None
        };
        match party {
            // Copied into every claim under the loop: keep it short so that work stays linear.
            Some(p) if p.broken.len() < MAX_LOOP_FAULTS => p.broken.push((at.clone(), msg)),
            Some(_) => {}
            None => out.warn(at, msg),
        }
    }

    fn map(&mut self, role: Role, seg: &Segment, out: &mut Out) {
        let at = &seg.at;
        match (role, seg.id()) {
            (Role::BillingHl, "PRV") => {
                if let Some(b) = self.billing.as_mut() {
                    if seg.text(1) == "BI" {
                        b.taxonomy = seg.text(3);
                    }
                }
            }
            (Role::Billing, "NM1") => {
                let npi = npi(seg);
                if npi.is_empty() {
                    out.warn(at, "the billing provider (2010AA NM1*85) has no NPI (NM108 = XX)".into());
                }
                if let Some(b) = self.billing.as_mut() {
                    b.named = true;
                    b.id = npi;
                }
            }
            (Role::SubscriberHl, "PAT") => Self::death(self.subscriber.as_mut(), seg, out),
            (Role::PatientHl, "PAT") => Self::death(self.patient.as_mut(), seg, out),
            (Role::Subscriber, "NM1") => {
                if let Some(s) = self.subscriber.as_mut() {
                    s.named = true;
                    s.id = seg.text(9);
                }
            }
            (Role::Subscriber, "DMG") => Self::demographics(self.subscriber.as_mut(), seg, out),
            (Role::Payer, "NM1") => {
                if let Some(s) = self.subscriber.as_mut() {
                    s.payer_named = true;
                    s.payer_id = seg.text(9);
                }
            }
            (Role::Patient, "NM1") => {
                if let Some(p) = self.patient.as_mut() {
                    p.named = true;
                    p.id = seg.text(9);
                }
            }
            (Role::Patient, "DMG") => Self::demographics(self.patient.as_mut(), seg, out),
            (Role::Claim, "CLM") => self.start_claim(seg, out),
            (Role::Claim, "DTP") => {
                if let Some(c) = self.claim.as_mut() {
                    let which = seg.text(1);
                    if matches!(which.as_str(), "472" | "434" | "050") {
                        match period(seg) {
                            Ok(p) => match which.as_str() {
                                "472" => c.d472 = Some(p),
                                "434" => c.d434 = Some(p),
                                _ => c.received = p.0,
                            },
                            Err(msg) => c.warn(at, msg),
                        }
                    }
                }
            }
            (Role::Claim, "REF") => {
                if let Some(c) = self.claim.as_mut() {
                    if seg.text(1) == "G1" {
                        c.prior_auth = seg.text(2);
                    }
                }
            }
            (Role::Claim, "HI") => self.hi(seg),
            (Role::ClaimRendering | Role::ClaimAttending | Role::ClaimOperating, "NM1" | "PRV") => {
                if let Some(c) = self.claim.as_mut() {
                    let p = match role {
                        Role::ClaimAttending => &mut c.attending,
                        Role::ClaimOperating => &mut c.operating,
                        _ => &mut c.rendering,
                    };
                    provider(p, seg);
                }
            }
            (Role::Line, "LX") => {
                if let Some(c) = self.claim.as_mut() {
                    let expected = c.lines.len() + 1;
                    let raw = seg.text(1);
                    let number = match raw.parse::<u32>() {
                        Ok(n) => {
                            if usize::try_from(n).ok() != Some(expected) {
                                c.warn(at, format!("LX01 {n} is out of sequence: expected {expected}"));
                            }
                            n
                        }
                        Err(_) => {
                            c.warn(at, format!("LX01 '{raw}' is not a line number; the line is numbered {expected}"));
                            u32::try_from(expected).unwrap_or(u32::MAX)
                        }
                    };
                    c.lines.push(Line {
                        at: at.clone(),
                        number,
                        service: false,
                        procedure: String::new(),
                        modifiers: Default::default(),
                        charge: 0.0,
                        units: 0.0,
                        pos: String::new(),
                        pointers: Vec::new(),
                        revenue: String::new(),
                        dates: None,
                        prior_auth: String::new(),
                        rendering: Provider::default(),
                    });
                }
            }
            (Role::Line, "SV1" | "SV2") => self.service(seg),
            (Role::Line, "DTP") => {
                if let Some(c) = self.claim.as_mut() {
                    if seg.text(1) == "472" {
                        match period(seg) {
                            Ok(p) => {
                                if let Some(l) = c.lines.last_mut() {
                                    l.dates = Some(p);
                                }
                            }
                            Err(msg) => c.warn(at, msg),
                        }
                    }
                }
            }
            (Role::Line, "REF") => {
                if let Some(l) = self.claim.as_mut().and_then(|c| c.lines.last_mut()) {
                    if seg.text(1) == "G1" {
                        l.prior_auth = seg.text(2);
                    }
                }
            }
            (Role::LineRendering, "NM1" | "PRV") => {
                if let Some(l) = self.claim.as_mut().and_then(|c| c.lines.last_mut()) {
                    provider(&mut l.rendering, seg);
                }
            }
            _ => {}
        }
    }

    fn death(party: Option<&mut Party>, seg: &Segment, out: &mut Out) {
        let Some(p) = party else { return };
        if seg.text(5) == "D8" {
            match d8(&seg.text(6)) {
                Some(d) => p.death = d,
                None => {
                    out.warn(&seg.at, format!("PAT06 date of death '{}' is not a valid CCYYMMDD date", seg.text(6)))
                }
            }
        }
    }

    fn demographics(party: Option<&mut Party>, seg: &Segment, out: &mut Out) {
        let Some(p) = party else { return };
        p.demographics = true;
        let date = seg.text(2);
        if seg.text(1) == "D8" {
            match d8(&date) {
                Some(d) => p.birth = d,
                None => out.warn(&seg.at, format!("DMG02 birth date '{date}' is not a valid CCYYMMDD date")),
            }
        } else if !date.is_empty() {
            out.warn(&seg.at, format!("DMG01 date format '{}' is not D8", seg.text(1)));
        }
        let sex = seg.text(3).to_ascii_uppercase();
        match sex.as_str() {
            "M" | "F" | "U" => p.sex = sex,
            "" => {}
            _ => out.warn(&seg.at, format!("DMG03 sex code '{sex}' is not M, F or U")),
        }
    }

    fn start_claim(&mut self, seg: &Segment, out: &mut Out) {
        // The 2300 frame is on top; the loop below it tells whether a 2000C patient applies.
        let parent = self.stack.iter().rev().nth(1).map(|f| f.role);
        let under_patient = parent == Some(Role::PatientHl);
        for p in [self.billing.as_mut(), self.subscriber.as_mut()].into_iter().flatten() {
            p.claims += 1;
        }
        if under_patient {
            if let Some(p) = self.patient.as_mut() {
                p.claims += 1;
            }
        }
        let at = &seg.at;
        let mut c = Claim {
            at: at.clone(),
            id: seg.text(1),
            charge: 0.0,
            pos: String::new(),
            tob: String::new(),
            under_patient,
            billing: self.billing.clone(),
            subscriber: self.subscriber.clone(),
            patient: if under_patient { self.patient.clone() } else { None },
            hi_seen: false,
            dx: Vec::new(),
            dx_dropped: None,
            principal_procedure: String::new(),
            other_procedures: Vec::new(),
            d472: None,
            d434: None,
            received: String::new(),
            prior_auth: String::new(),
            rendering: Provider::default(),
            attending: Provider::default(),
            operating: Provider::default(),
            lines: Vec::new(),
            problems: Vec::new(),
        };
        if c.id.is_empty() {
            c.error(at, "CLM01 (claim id) is missing".into());
        }
        match amount(seg.raw(2)) {
            Some(v) => c.charge = v,
            None => c.error(at, format!("CLM02 total charge '{}' is missing or not a number", seg.text(2))),
        }
        self.check_component(seg, &mut c);
        let clm05 = components(seg.raw(5), self.comp);
        let facility = clm05.first().cloned().unwrap_or_default();
        let frequency = clm05.get(2).cloned().unwrap_or_default();
        if facility.is_empty() {
            let what = match self.kind {
                ClaimType::Professional => "place of service",
                ClaimType::Institutional => "facility type code",
            };
            c.error(at, format!("CLM05-1 ({what}) is missing"));
        }
        if frequency.is_empty() {
            c.error(at, "CLM05-3 (claim frequency code) is missing".into());
        }
        match self.kind {
            ClaimType::Professional => c.pos = facility,
            ClaimType::Institutional => {
                if !facility.is_empty() && !frequency.is_empty() {
                    c.tob = format!("{facility}{frequency}");
                }
            }
        }
        // place() closed the previous 2300 before this one opened; this only guards that invariant.
        if self.claim.is_some() {
            self.finish_claim(out);
        }
        self.claim = Some(c);
    }

    /// Several guide examples write composites with '>' while ISA16 says ':'. CLM05 is always a
    /// composite (facility:qualifier:frequency), so a different separator there is detected
    /// reliably and then used for the rest of the transaction set.
    fn check_component(&mut self, seg: &Segment, c: &mut Claim) {
        let raw = seg.raw(5);
        if self.comp_repaired || raw.len() < 4 || raw.contains(&self.comp) {
            return;
        }
        let (Some(head), Some(&sep), Some(tail)) = (raw.get(..2), raw.get(2), raw.get(3..)) else { return };
        let d = self.delims;
        let usable = sep.is_ascii_punctuation() && sep != d.element && sep != d.segment && Some(sep) != d.repetition;
        if head.iter().all(u8::is_ascii_alphanumeric) && usable && tail.contains(&sep) {
            c.warn(
                &seg.at,
                format!(
                    "CLM05 '{}' uses '{}' as component separator but ISA16 declares '{}'; composites in this transaction set are read with '{}'",
                    clean(raw),
                    sep as char,
                    self.comp as char,
                    sep as char
                ),
            );
            self.comp = sep;
            self.comp_repaired = true;
        }
    }

    fn hi(&mut self, seg: &Segment) {
        let comp = self.comp;
        let el = self.delims.element as char;
        let Some(c) = self.claim.as_mut() else { return };
        c.hi_seen = true;
        let at = &seg.at;
        let n = seg.elements.len();
        let mut joined = Vec::new();
        let mut i = 1;
        while i < n {
            let raw = seg.raw(i);
            let text = clean(raw);
            let position = format!("HI{i:02}");
            if text.is_empty() {
                i += 1;
                continue;
            }
            let (qualifier, code) = if raw.contains(&comp) {
                let parts = components(raw, comp);
                (parts.first().cloned().unwrap_or_default(), parts.get(1).cloned().unwrap_or_default())
            } else if CODE_QUALIFIERS.contains(&text.as_str()) && i + 1 < n && {
                let next = seg.raw(i + 1);
                let next_text = clean(next);
                !next.contains(&comp)
                    && !next_text.is_empty()
                    && !CODE_QUALIFIERS.contains(&next_text.as_str())
                    && !OTHER_QUALIFIERS.contains(&next_text.as_str())
            } {
                // `HI*BK*8901`: the code landed in the next element. The intent is plain, so read it.
                let next = seg.text(i + 1);
                joined.push((format!("{text}{el}{next}"), format!("{text}{}{next}", comp as char)));
                i += 1;
                (text, next)
            } else {
                c.warn(at, format!("{position} '{text}' is not qualifier{}code; ignored", comp as char));
                i += 1;
                continue;
            };
            i += 1;
            let code = code.replace('.', "").to_ascii_uppercase();
            match qualifier.as_str() {
                "ABK" | "BK" | "ABF" | "BF" => {
                    if code.is_empty() {
                        c.warn(at, format!("{position} qualifier {qualifier} has no diagnosis code"));
                        continue;
                    }
                    if c.dx.is_empty() && !matches!(qualifier.as_str(), "ABK" | "BK") {
                        c.warn(at, format!("the first diagnosis ({position}) is qualified {qualifier}, not as principal diagnosis (ABK or BK)"));
                    }
                    if c.dx.len() < 12 {
                        c.dx.push(code);
                    } else {
                        let dropped = c.dx_dropped.get_or_insert((at.clone(), 0));
                        dropped.1 += 1;
                    }
                }
                "BBR" | "BR" | "CAH" if !code.is_empty() => {
                    if c.principal_procedure.is_empty() {
                        c.principal_procedure = code;
                    } else {
                        c.warn(
                            at,
                            format!("{position}: a second principal procedure {code}; kept as another procedure"),
                        );
                        c.other_procedures.push(code);
                    }
                }
                "BBQ" | "BQ" if !code.is_empty() => c.other_procedures.push(code),
                _ => {}
            }
        }
        if !joined.is_empty() {
            let (found, read): (Vec<String>, Vec<String>) = joined.into_iter().unzip();
            c.warn(
                at,
                format!(
                    "HI writes qualifier and code as separate elements ({}); read as {}: they must be joined by the component separator '{}'",
                    found.join(", "),
                    read.join(", "),
                    comp as char
                ),
            );
        }
    }

    /// SV1 (837P) or SV2 (837I).
    fn service(&mut self, seg: &Segment) {
        let comp = self.comp;
        let Some(c) = self.claim.as_mut() else { return };
        let at = &seg.at;
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let Some(line) = c.lines.last_mut() else { return };
        if line.service {
            let msg = format!("service line {} has a second {}", line.number, seg.id());
            c.error(at, msg);
            return;
        }
        line.service = true;
        let professional = seg.id() == "SV1";
        let (code_el, charge_el, units_el) = if professional { (1, 2, 4) } else { (2, 3, 5) };
        let procedure = components(seg.raw(code_el), comp);
        line.procedure = procedure.get(1).cloned().unwrap_or_default();
        for (slot, m) in line.modifiers.iter_mut().zip(procedure.iter().skip(2)) {
            slot.clone_from(m);
        }
        let name = |e: usize| format!("{}{e:02}", seg.id());
        if professional {
            if line.procedure.is_empty() {
                errors.push(format!("SV101-2 (procedure code) is missing on line {}", line.number));
            }
            line.pos = seg.text(5);
            let pointers = components(seg.raw(7), comp);
            for p in pointers.iter().filter(|p| !p.is_empty()) {
                match p.parse::<u32>() {
                    Ok(n) if (1..=12).contains(&n) => line.pointers.push(n),
                    _ => match amount(p.as_bytes()) {
                        // N0 allows no decimals, but "1.00" still names pointer 1.
                        Some(v) if v.fract() == 0.0 && (1.0..=12.0).contains(&v) => {
                            line.pointers.push(v as u32);
                            warnings.push(format!(
                                "SV107 pointer '{p}' on line {} is not a whole number; read as {}",
                                line.number, v as u32
                            ));
                        }
                        _ => warnings.push(format!(
                            "SV107 pointer '{p}' on line {} is not a diagnosis pointer 1-12; ignored",
                            line.number
                        )),
                    },
                }
            }
            if line.pointers.is_empty() && pointers.iter().all(|p| p.is_empty()) {
                warnings.push(format!("SV107 (diagnosis code pointer) is missing on line {}", line.number));
            }
        } else {
            line.revenue = seg.text(1);
            if line.revenue.is_empty() {
                errors.push(format!("SV201 (revenue code) is missing on line {}", line.number));
            }
        }
        match amount(seg.raw(charge_el)) {
            Some(v) => line.charge = v,
            None => errors.push(format!(
                "{} line charge '{}' is missing or not a number",
                name(charge_el),
                seg.text(charge_el)
            )),
        }
        match amount(seg.raw(units_el)) {
            Some(v) => line.units = v,
            None => {
                errors.push(format!("{} units '{}' are missing or not a number", name(units_el), seg.text(units_el)))
            }
        }
        for m in errors {
            c.error(at, m);
        }
        for m in warnings {
            c.warn(at, m);
        }
    }

    fn finish_claim(&mut self, out: &mut Out) {
        let Some(mut c) = self.claim.take() else { return };
        let at = c.at.clone();
        match c.billing.clone() {
            None => c.error(&at, "no billing provider: the claim is not under a billing provider HL (level 20)".into()),
            Some(b) => {
                if !b.named {
                    c.error(
                        &b.at,
                        format!(
                            "the billing provider name loop (2010AA NM1*85) is missing from the HL at segment {}",
                            b.at.number
                        ),
                    );
                }
                for (a, m) in b.broken {
                    c.error(&a, m);
                }
            }
        }
        match c.subscriber.clone() {
            None => c.error(&at, "no subscriber: the claim is not under a subscriber HL (level 22)".into()),
            Some(s) => {
                if !s.named {
                    c.error(
                        &s.at,
                        format!(
                            "the subscriber name loop (2010BA NM1*IL) is missing from the HL at segment {}",
                            s.at.number
                        ),
                    );
                }
                if !s.payer_named {
                    c.error(
                        &s.at,
                        format!(
                            "the payer name loop (2010BB NM1*PR) is missing from the HL at segment {}",
                            s.at.number
                        ),
                    );
                }
                for (a, m) in s.broken {
                    c.error(&a, m);
                }
            }
        }
        if c.under_patient {
            match c.patient.clone() {
                None => c.error(&at, "no patient loop for the claim".into()),
                Some(p) => {
                    if !p.named {
                        c.error(
                            &p.at,
                            format!(
                                "the patient name loop (2010CA NM1*QC) is missing from the HL at segment {}",
                                p.at.number
                            ),
                        );
                    }
                    for (a, m) in p.broken {
                        c.error(&a, m);
                    }
                }
            }
        }
        let who = if c.under_patient { c.patient.as_ref() } else { c.subscriber.as_ref() };
        if let Some(p) = who.filter(|p| !p.demographics) {
            let (loop_name, p_at) = (if c.under_patient { "2010CA" } else { "2010BA" }, p.at.clone());
            c.warn(
                &p_at,
                format!("the patient's demographics (DMG in {loop_name}) are missing: birth date and sex are unknown"),
            );
        }
        if !c.hi_seen {
            c.error(&at, "the claim has no HI segment: the principal diagnosis (ABK or BK) is required".into());
        } else if c.dx.is_empty() {
            c.error(&at, "HI carries no diagnosis qualified ABK, ABF, BK or BF".into());
        }
        if let Some((a, n)) = c.dx_dropped.clone() {
            c.warn(&a, format!("{n} diagnosis code(s) beyond the 12th are not carried into dx_1..dx_12"));
        }
        if c.lines.is_empty() {
            c.error(&at, "the claim has no service line (loop 2400: LX with SV1 or SV2)".into());
        }
        let mut notes = Vec::new();
        for l in &c.lines {
            if !l.service {
                notes.push((
                    Severity::Error,
                    l.at.clone(),
                    format!("service line {} has no SV1/SV2 segment", l.number),
                ));
            }
            if l.dates.is_none() && c.d472.is_none() && c.d434.is_none() {
                notes.push((
                    Severity::Error,
                    l.at.clone(),
                    format!("service line {} has no service date: no DTP*472 on the line and no claim-level DTP*472 or DTP*434", l.number),
                ));
            }
            // With no diagnosis at all the claim is already rejected; a pointer warning would only repeat that.
            let beyond = l.pointers.iter().find(|&&p| usize::try_from(p).map_or(true, |p| p > c.dx.len()));
            if let (Some(&p), false) = (beyond, c.dx.is_empty()) {
                notes.push((
                    Severity::Warning,
                    l.at.clone(),
                    format!(
                        "SV107 on line {} points to diagnosis {p}, but the claim has {} diagnosis code(s)",
                        l.number,
                        c.dx.len()
                    ),
                ));
            }
        }
        for (sev, a, m) in notes {
            c.note(sev, &a, m);
        }
        let sum: f64 = c.lines.iter().map(|l| l.charge).sum();
        let has_error = c.problems.iter().any(|p| p.severity == Severity::Error);
        if !has_error && (sum - c.charge).abs() >= HALF_CENT {
            c.warn(
                &at,
                format!("CLM02 total charge {:.2} does not equal the sum of the line charges {:.2}", c.charge, sum),
            );
        }
        out.batch.problems.append(&mut c.problems);
        if has_error {
            return;
        }
        self.emit(c, sum, out);
    }

    fn emit(&self, c: Claim, sum: f64, out: &mut Out) {
        let billing = c.billing.clone().unwrap_or_else(|| Party::new(&c.at));
        let subscriber = c.subscriber.clone().unwrap_or_else(|| Party::new(&c.at));
        let patient = if c.under_patient { c.patient.clone() } else { None };
        let person = patient.as_ref().unwrap_or(&subscriber);
        let patient_id = match &patient {
            Some(p) if !p.id.is_empty() => p.id.clone(),
            _ => subscriber.id.clone(),
        };
        let billing_provider = Provider { npi: billing.id.clone(), taxonomy: billing.taxonomy.clone() };
        let claim_chain: Vec<&Provider> = match self.kind {
            ClaimType::Professional => vec![&c.rendering],
            ClaimType::Institutional => vec![&c.attending, &c.rendering, &c.operating],
        };
        let mut dx: [String; 12] = Default::default();
        for (slot, code) in dx.iter_mut().zip(&c.dx) {
            slot.clone_from(code);
        }
        let [dx_1, dx_2, dx_3, dx_4, dx_5, dx_6, dx_7, dx_8, dx_9, dx_10, dx_11, dx_12] = dx;
        let institutional = self.kind == ClaimType::Institutional;
        for l in &c.lines {
            let rendering = std::iter::once(&l.rendering)
                .chain(claim_chain.iter().copied())
                .chain(std::iter::once(&billing_provider))
                .find(|p| !p.npi.is_empty())
                .unwrap_or(&billing_provider);
            let (from, to) = l.dates.clone().or_else(|| c.d472.clone()).or_else(|| c.d434.clone()).unwrap_or_default();
            let [m1, m2, m3, m4] = l.modifiers.clone();
            let pos = if institutional {
                String::new()
            } else if l.pos.is_empty() {
                c.pos.clone()
            } else {
                l.pos.clone()
            };
            let sep = if l.pointers.iter().any(|&p| p > 9) { "," } else { "" };
            let dx_pointers = l.pointers.iter().map(u32::to_string).collect::<Vec<_>>().join(sep);
            out.batch.lines.push(ClaimLine {
                claim_id: c.id.clone(),
                claim_type: self.kind.name().to_string(),
                payer_id: subscriber.payer_id.clone(),
                patient_id: patient_id.clone(),
                patient_birth_date: person.birth.clone(),
                patient_sex: person.sex.clone(),
                patient_death_date: person.death.clone(),
                billing_npi: billing.id.clone(),
                rendering_npi: rendering.npi.clone(),
                provider_specialty: rendering.taxonomy.clone(),
                received_date: c.received.clone(),
                prior_auth_number: if l.prior_auth.is_empty() { c.prior_auth.clone() } else { l.prior_auth.clone() },
                dx_1: dx_1.clone(),
                dx_2: dx_2.clone(),
                dx_3: dx_3.clone(),
                dx_4: dx_4.clone(),
                dx_5: dx_5.clone(),
                dx_6: dx_6.clone(),
                dx_7: dx_7.clone(),
                dx_8: dx_8.clone(),
                dx_9: dx_9.clone(),
                dx_10: dx_10.clone(),
                dx_11: dx_11.clone(),
                dx_12: dx_12.clone(),
                line_number: l.number,
                service_date_from: from,
                service_date_to: to,
                place_of_service: pos,
                procedure_code: l.procedure.clone(),
                modifier_1: m1,
                modifier_2: m2,
                modifier_3: m3,
                modifier_4: m4,
                units: l.units,
                charge_amount: l.charge,
                dx_pointers,
                paid_amount: String::new(),
                type_of_bill: c.tob.clone(),
                revenue_code: l.revenue.clone(),
                principal_procedure_code: c.principal_procedure.clone(),
                other_procedure_codes: c.other_procedures.join("|"),
                claim_total_charge: c.charge,
            });
        }
        out.batch.claims.push(ClaimSummary {
            claim_id: c.id.clone(),
            total_charge: c.charge,
            line_count: c.lines.len(),
            line_charge_sum: sum,
            claim_type: self.kind.name().to_string(),
            segment_number: c.at.number,
        });
    }
}

/// NM109 when NM108 says it is an NPI.
fn npi(seg: &Segment) -> String {
    if seg.text(8) == "XX" {
        seg.text(9)
    } else {
        String::new()
    }
}

fn provider(p: &mut Provider, seg: &Segment) {
    match seg.id() {
        "NM1" => p.npi = npi(seg),
        "PRV" => p.taxonomy = seg.text(3),
        _ => {}
    }
}

/// X12 decimal (R): optional minus, digits with at most one point. Refuses exponents, "inf" and
/// "NaN", which `f64::from_str` would accept.
fn amount(b: &[u8]) -> Option<f64> {
    let s = clean(b);
    let digits = s.strip_prefix('-').unwrap_or(&s);
    let mut points = 0;
    let mut any_digit = false;
    for ch in digits.chars() {
        match ch {
            '0'..='9' => any_digit = true,
            '.' => points += 1,
            _ => return None,
        }
    }
    if !any_digit || points > 1 {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// CCYYMMDD to YYYY-MM-DD, checking the calendar.
fn d8(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1800..=2999).contains(&y) || d == 0 || d > days {
        return None;
    }
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// DTP02/DTP03 as (from, to).
fn period(seg: &Segment) -> Result<(String, String), String> {
    let (qualifier, format, value) = (seg.text(1), seg.text(2), seg.text(3));
    let bad = |v: &str| format!("DTP*{qualifier} date '{v}' is not a valid CCYYMMDD date");
    match format.as_str() {
        "D8" => d8(&value).map(|d| (d.clone(), d)).ok_or_else(|| bad(&value)),
        "RD8" => {
            let (a, b) = value
                .split_once('-')
                .ok_or_else(|| format!("DTP*{qualifier} range '{value}' is not CCYYMMDD-CCYYMMDD"))?;
            let from = d8(a).ok_or_else(|| bad(a))?;
            let to = d8(b).ok_or_else(|| bad(b))?;
            if from > to {
                return Err(format!("DTP*{qualifier} range '{value}' ends before it starts"));
            }
            Ok((from, to))
        }
        _ => Err(format!("DTP*{qualifier} date format '{format}' is not D8 or RD8")),
    }
}
