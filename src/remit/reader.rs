//! The 835 loops in one pass over the segments: interchange, functional group, transaction set
//! (header, claims, provider adjustments), claim (CLP loop) and service line (SVC loop).
//!
//! What cannot be read costs the smallest unit holding it: a service line's or claim's value
//! costs its claim (CLP loop), an unreadable PLB adjustment costs that adjustment, a set that is
//! not an 835 costs the set. Everything else is read, and every loss is a [`RemitProblem`].

use std::collections::BTreeSet;

use crate::vocab::Severity;
use crate::x12::X12Error;

use super::codes;
use super::model::*;
use super::segments::{self, Item, Segment, Segments};

/// Reads one 835 file. `Err` only when nothing can be read: a broken first ISA, or no 835
/// transaction set in the file.
pub fn parse_835(input: &[u8], source: &str) -> Result<Remittance, X12Error> {
    let prepared = segments::prepare(input);
    let mut segs = Segments::new(&prepared, source);
    let mut r = Reader::new(source, prepared.synthetic_envelope());
    for (offset, note) in &prepared.repairs {
        let at = Position { segment: 1, byte: *offset, line: line_of(input, *offset) };
        r.problem(rule::STRUCTURE, Severity::Warning, None, at, if prepared.synthetic_envelope() { "ST" } else { "ISA" }, note.clone());
    }
    let mut read_any = false;
    loop {
        let item = match segs.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) if !read_any => return Err(e),
            Err(e) => {
                r.unreadable_rest(&e);
                break;
            }
        };
        for (at, message) in segs.take_warnings() {
            r.problem(rule::STRUCTURE, Severity::Warning, None, at, "ISA", message);
        }
        match item {
            Item::Segment(seg, at) => {
                read_any = true;
                let comp = segs.component_separator().unwrap_or(b':');
                r.segment(&seg, at, comp);
            }
            Item::Skipped(e) => r.skipped(&e),
        }
    }
    r.finish()
}

fn line_of(input: &[u8], offset: usize) -> usize {
    1 + input.iter().take(offset).filter(|&&b| b == b'\n').count()
}

struct Interchange {
    control: String,
    /// ISA12.
    version: String,
    at: Position,
    groups: usize,
    synthetic: bool,
}

struct Group {
    control: String,
    version: String,
    at: Position,
    sets: usize,
}

struct SetState {
    tx: Transaction,
    /// Segments from ST through SE.
    segments: usize,
    /// Why the set is skipped (not an 835).
    skipped: bool,
    warned_component: bool,
    warned_cr: bool,
    production_date: String,
    saw_bpr: bool,
}

struct ClaimState {
    claim: RemitClaim,
    line: Option<ServiceLine>,
    /// The first fault that costs the claim: (position, segment id, message).
    fatal: Option<(Position, String, String)>,
    /// CLP04 when readable, for the BPR balance even if the claim is rejected.
    clp_paid: Option<f64>,
}

struct Reader<'s> {
    source: &'s str,
    out: Remittance,
    isa: Option<Interchange>,
    gs: Option<Group>,
    set: Option<SetState>,
    claim: Option<ClaimState>,
    /// Transaction set identifiers that were not 835, with where the first one was.
    other_sets: Vec<(String, Position)>,
    saw_835: bool,
    versions: BTreeSet<String>,
    /// The last segment read, for faults at the end of the file.
    last_at: Position,
    synthetic_pending: bool,
}

/// Text of element `i`.
fn el(seg: &Segment, i: usize) -> String {
    seg.text(i)
}

/// An X12 decimal: optional sign, digits, optional point. No exponents, grouping or currency.
pub fn parse_amount(s: &str) -> Option<f64> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1
        && digits.bytes().any(|b| b.is_ascii_digit());
    if ok {
        t.parse().ok()
    } else {
        None
    }
}

/// CCYYMMDD as YYYY-MM-DD.
fn parse_date(s: &str) -> Option<String> {
    let t = s.trim();
    if t.len() != 8 {
        return None;
    }
    crate::dates::parse(t).map(|d| d.format("%Y-%m-%d").to_string())
}

impl<'s> Reader<'s> {
    fn new(source: &'s str, synthetic: bool) -> Self {
        Reader {
            source,
            out: Remittance { source: source.to_string(), ..Default::default() },
            isa: None,
            gs: None,
            set: None,
            claim: None,
            other_sets: Vec::new(),
            saw_835: false,
            versions: BTreeSet::new(),
            last_at: Position::default(),
            synthetic_pending: synthetic,
        }
    }

    fn problem(&mut self, rule_id: &'static str, severity: Severity, claim_id: Option<String>, at: Position, segment_id: &str, message: String) {
        self.out.problems.push(RemitProblem { rule_id, severity, claim_id, at, segment_id: segment_id.to_string(), message });
    }

    fn warn(&mut self, at: Position, segment_id: &str, message: String) {
        let claim_id = self.claim.as_ref().map(|c| c.claim.claim_id.clone());
        self.problem(rule::STRUCTURE, Severity::Warning, claim_id, at, segment_id, message);
    }

    /// A fault that costs the open claim; outside a claim, a warning.
    fn claim_fault(&mut self, at: Position, segment_id: &str, message: String) {
        match &mut self.claim {
            Some(c) => {
                if c.fatal.is_none() {
                    c.fatal = Some((at, segment_id.to_string(), message));
                }
            }
            None => self.warn(at, segment_id, message),
        }
    }

    fn skipped(&mut self, e: &X12Error) {
        let at = Position { segment: e.segment_number, byte: e.byte_offset, line: e.line };
        let message = format!("{}; the piece is skipped", e.message);
        if self.claim.is_some() {
            self.claim_fault(at, &e.segment_id, message);
        } else {
            self.warn(at, &e.segment_id, message);
        }
    }

    fn unreadable_rest(&mut self, e: &X12Error) {
        let at = Position { segment: e.segment_number, byte: e.byte_offset, line: e.line };
        if self.claim.is_some() {
            self.claim_fault(at, &e.segment_id, format!("the file cannot be read from here on: {}", e.message));
        }
        self.close_set(at, false);
        self.problem(
            rule::SET_REJECTED,
            Severity::Error,
            None,
            at,
            &e.segment_id,
            format!("the rest of the file cannot be read ({}; expected {}); transaction sets after this point are lost", e.message, e.expected),
        );
    }

    fn segment(&mut self, seg: &Segment, at: Position, comp: u8) {
        let id = seg.id().to_string();
        self.last_at = at;
        if let Some(set) = &mut self.set {
            set.segments += 1;
        }
        match id.as_str() {
            "ISA" => self.isa_segment(seg, at),
            "GS" => self.gs_segment(seg, at),
            "ST" => self.st_segment(seg, at),
            "SE" => self.se_segment(seg, at),
            "GE" => self.ge_segment(seg, at),
            "IEA" => self.iea_segment(seg, at),
            _ => match self.set.as_ref().map(|s| s.skipped) {
                None => self.warn(at, &id, format!("{id} outside a transaction set (ST/SE); skipped")),
                Some(true) => {}
                Some(false) => self.set_segment(seg, &id, at, comp),
            },
        }
    }

    fn isa_segment(&mut self, seg: &Segment, at: Position) {
        if self.set.is_some() {
            self.warn(at, "ISA", "a new interchange starts before SE closed the transaction set".into());
            self.close_set(at, false);
        }
        let synthetic = std::mem::take(&mut self.synthetic_pending);
        self.isa = Some(Interchange { control: el(seg, 13), version: el(seg, 12), at, groups: 0, synthetic });
        self.gs = None;
    }

    fn gs_segment(&mut self, seg: &Segment, at: Position) {
        if let Some(isa) = &mut self.isa {
            isa.groups += 1;
        }
        let code = el(seg, 1);
        if code != "HP" {
            self.warn(at, "GS", format!("GS01 is '{code}'; an 835 functional group is HP (health care claim payment/advice)"));
        }
        self.gs = Some(Group { control: el(seg, 6), version: el(seg, 8), at, sets: 0 });
    }

    fn st_segment(&mut self, seg: &Segment, at: Position) {
        if self.set.is_some() {
            self.warn(at, "ST", "a new transaction set starts before SE closed the previous one".into());
            self.close_set(at, false);
        }
        if let Some(gs) = &mut self.gs {
            gs.sets += 1;
        } else if !self.isa.as_ref().is_some_and(|i| i.synthetic) {
            self.warn(at, "ST", "ST outside a functional group (no GS)".into());
        }
        let kind = el(seg, 1);
        let control = el(seg, 2);
        let has_isa = self.isa.as_ref().is_some_and(|i| !i.synthetic);
        let version = self.version_of(&el(seg, 3), at, has_isa);
        let skipped = kind != "835";
        if skipped {
            if self.other_sets.is_empty() {
                self.other_sets.push((kind.clone(), at));
            }
            self.problem(
                rule::SET_REJECTED,
                Severity::Error,
                None,
                at,
                "ST",
                format!("transaction set {control} is a {kind}, not an 835 (health care claim payment/advice); skipped"),
            );
        } else {
            self.saw_835 = true;
            self.versions.insert(version.clone());
        }
        let tx = Transaction { control_number: control, version, at, payment_at: at, ..Default::default() };
        self.set =
            Some(SetState { tx, segments: 1, skipped, warned_component: false, warned_cr: false, production_date: String::new(), saw_bpr: false });
    }

    /// The implementation guide of a set, with a remark for 4010 and for ids X12 does not define.
    fn version_of(&mut self, st03: &str, at: Position, has_isa: bool) -> String {
        let gs08 = self.gs.as_ref().map(|g| g.version.clone()).unwrap_or_default();
        let isa12 = if has_isa { self.isa_version() } else { String::new() };
        let guide = [st03, gs08.as_str()].into_iter().find(|v| v.starts_with("005010X221") || v.starts_with("004010X091"));
        if let Some(g) = guide {
            if g.starts_with("004010") {
                self.problem(
                    rule::STRUCTURE,
                    Severity::Info,
                    None,
                    at,
                    "ST",
                    format!("{g} is the 4010 835, retired in 2012; read with the claim, service line, adjustment and PLB segments it shares with 5010 (the CR group code exists only in 4010)"),
                );
            }
            return g.to_string();
        }
        let shown = |v: &str| if v.is_empty() { "(empty)".to_string() } else { format!("'{v}'") };
        let version = match isa12.as_str() {
            "00401" => "004010X091A1",
            "00501" => "005010X221A1",
            _ => "unknown",
        }
        .to_string();
        let message = if has_isa {
            format!(
                "GS08 {} is not an 835 implementation guide (004010X091A1 or 005010X221A1); ISA12 {} gives {}; read with the segments 4010 and 5010 share",
                shown(&gs08),
                shown(&isa12),
                if version == "unknown" { "no known version" } else { version.as_str() }
            )
        } else {
            "the version is not stated (no envelope and no ST03); read with the segments 4010 and 5010 share".to_string()
        };
        self.problem(rule::STRUCTURE, Severity::Warning, None, at, "ST", message);
        version
    }

    fn isa_version(&self) -> String {
        self.isa.as_ref().map(|i| i.version.clone()).unwrap_or_default()
    }

    fn se_segment(&mut self, seg: &Segment, at: Position) {
        let Some(set) = &self.set else {
            self.warn(at, "SE", "SE without an open transaction set".into());
            return;
        };
        let (count, control) = (el(seg, 1), el(seg, 2));
        let actual = set.segments;
        let st_control = set.tx.control_number.clone();
        if count.parse::<usize>().ok() != Some(actual) {
            self.warn(at, "SE", format!("SE01 says {count} segments but the transaction set has {actual} (ST through SE)"));
        }
        if control != st_control {
            self.warn(at, "SE", format!("SE02 {control} does not match ST02 {st_control}"));
        }
        self.close_set(at, true);
    }

    fn ge_segment(&mut self, seg: &Segment, at: Position) {
        if self.set.is_some() {
            self.warn(at, "GE", "GE before SE closed the transaction set".into());
            self.close_set(at, false);
        }
        let Some(gs) = self.gs.take() else {
            self.warn(at, "GE", "GE without a GS".into());
            return;
        };
        let (count, control) = (el(seg, 1), el(seg, 2));
        if count.parse::<usize>().ok() != Some(gs.sets) {
            self.warn(at, "GE", format!("GE01 says {count} transaction sets but the group (GS at {}) has {}", gs.at, gs.sets));
        }
        if control != gs.control {
            self.warn(at, "GE", format!("GE02 {control} does not match GS06 {}", gs.control));
        }
    }

    fn iea_segment(&mut self, seg: &Segment, at: Position) {
        if self.set.is_some() {
            self.warn(at, "IEA", "IEA before SE closed the transaction set".into());
            self.close_set(at, false);
        }
        let Some(isa) = self.isa.take() else { return };
        let (count, control) = (el(seg, 1), el(seg, 2));
        if count.parse::<usize>().ok() != Some(isa.groups) {
            self.warn(at, "IEA", format!("IEA01 says {count} functional groups but the interchange (ISA at {}) has {}", isa.at, isa.groups));
        }
        if control != isa.control {
            self.warn(at, "IEA", format!("IEA02 {control} does not match ISA13 {}", isa.control));
        }
    }

    fn set_segment(&mut self, seg: &Segment, id: &str, at: Position, comp: u8) {
        match id {
            "BPR" => self.bpr(seg, at),
            "TRN" => {
                if let Some(s) = &mut self.set {
                    s.tx.trace_number = el(seg, 2);
                }
            }
            "LX" | "TS3" | "TS2" => self.close_claim(),
            "CLP" => self.clp(seg, at),
            "PLB" => {
                self.close_claim();
                self.plb(seg, at, comp);
            }
            _ if self.claim.is_some() => self.claim_segment(seg, id, at, comp),
            "DTM" => {
                if el(seg, 1) == "405" {
                    if let Some(s) = &mut self.set {
                        s.production_date = parse_date(&el(seg, 2)).unwrap_or_default();
                    }
                }
            }
            "N1" => {
                let (role, name) = (el(seg, 1), el(seg, 2));
                if let Some(s) = &mut self.set {
                    match role.as_str() {
                        "PR" => s.tx.payer = name,
                        "PE" => s.tx.payee = name,
                        _ => {}
                    }
                }
            }
            "CUR" | "REF" | "N2" | "N3" | "N4" | "PER" | "RDM" | "NTE" => {}
            "CAS" | "SVC" | "LQ" | "MIA" | "MOA" | "NM1" | "AMT" | "QTY" => {
                self.warn(at, id, format!("{id} outside a claim (no CLP before it); skipped"))
            }
            _ => self.warn(at, id, format!("{id} is not a segment of the 835; skipped")),
        }
    }

    fn bpr(&mut self, seg: &Segment, at: Position) {
        let amount = el(seg, 2);
        let sign = if el(seg, 3) == "D" { -1.0 } else { 1.0 };
        let parsed = parse_amount(&amount);
        let date = el(seg, 16);
        let parsed_date = parse_date(&date);
        let Some(set) = &mut self.set else { return };
        set.saw_bpr = true;
        set.tx.handling = el(seg, 1);
        set.tx.payment_method = el(seg, 4);
        set.tx.payment_at = at;
        set.tx.payment_amount = parsed.map(|a| a * sign);
        if let Some(d) = &parsed_date {
            set.tx.payment_date = d.clone();
        }
        if parsed.is_none() {
            self.warn(at, "BPR", format!("BPR02 '{amount}' is not an amount; the payment cannot be balanced"));
        }
        if parsed_date.is_none() && !date.is_empty() {
            self.warn(at, "BPR", format!("BPR16 '{date}' is not a date (CCYYMMDD)"));
        }
    }

    fn clp(&mut self, seg: &Segment, at: Position) {
        self.close_claim();
        self.out.clp_segments += 1;
        let claim_id = el(seg, 1);
        let status = el(seg, 2);
        let mut claim = RemitClaim {
            claim_id: claim_id.clone(),
            status: status.clone(),
            billed: 0.0,
            paid: 0.0,
            patient_responsibility: None,
            filing_indicator: el(seg, 6),
            payer_claim_number: el(seg, 7),
            service_date_from: String::new(),
            service_date_to: String::new(),
            received_date: String::new(),
            interest: None,
            adjustments: Vec::new(),
            remarks: Vec::new(),
            lines: Vec::new(),
            at,
        };
        let mut fatal: Option<String> = None;
        let mut fault = |m: String| {
            if fatal.is_none() {
                fatal = Some(m);
            }
        };
        if claim_id.is_empty() {
            fault("CLP01 (patient control number) is empty".into());
        }
        if codes::claim_status_label(&status).is_none() {
            fault(if status.is_empty() { "CLP02 (claim status) is missing".into() } else { format!("CLP02 '{status}' is not a claim status code") });
        }
        let money = |i: usize, name: &str, fault: &mut dyn FnMut(String)| -> Option<f64> {
            let v = el(seg, i);
            if v.is_empty() {
                fault(format!("CLP{i:02} ({name}) is missing"));
                return None;
            }
            let a = parse_amount(&v);
            if a.is_none() {
                fault(format!("CLP{i:02} ({name}) '{v}' is not an amount"));
            }
            a
        };
        let billed = money(3, "total charge", &mut fault);
        let paid = money(4, "payment", &mut fault);
        let pr = el(seg, 5);
        if !pr.is_empty() {
            match parse_amount(&pr) {
                Some(a) => claim.patient_responsibility = Some(a),
                None => fault(format!("CLP05 (patient responsibility) '{pr}' is not an amount")),
            }
        }
        claim.billed = billed.unwrap_or(0.0);
        claim.paid = paid.unwrap_or(0.0);
        self.claim = Some(ClaimState { claim, line: None, fatal: fatal.map(|m| (at, "CLP".to_string(), m)), clp_paid: paid });
    }

    fn claim_segment(&mut self, seg: &Segment, id: &str, at: Position, comp: u8) {
        match id {
            "CAS" => self.cas(seg, at),
            "SVC" => self.svc(seg, at, comp),
            "MIA" => {
                let remarks: Vec<String> = [5, 20, 21, 22, 23].iter().map(|&i| el(seg, i)).filter(|c| !c.is_empty()).collect();
                self.remarks(remarks, "MIA", at, false);
            }
            "MOA" => {
                let remarks: Vec<String> = (3..=7).map(|i| el(seg, i)).filter(|c| !c.is_empty()).collect();
                self.remarks(remarks, "MOA", at, false);
            }
            "LQ" => {
                let (qualifier, code) = (el(seg, 1), el(seg, 2));
                if self.claim.as_ref().is_some_and(|c| c.line.is_none()) {
                    self.warn(at, "LQ", "LQ (service line remark) before any SVC; kept with the claim".into());
                }
                match qualifier.as_str() {
                    "HE" => self.remarks(vec![code], "LQ", at, true),
                    "RX" => {
                        if let Some(c) = &mut self.claim {
                            let r = Remark { code, segment: "LQ-RX".into(), valid: true };
                            match &mut c.line {
                                Some(l) => l.remarks.push(r),
                                None => c.claim.remarks.push(r),
                            }
                        }
                    }
                    _ => self.warn(at, "LQ", format!("LQ01 '{qualifier}' is neither HE (remark code) nor RX (NCPDP reject code); skipped")),
                }
            }
            "DTM" => self.dtm(seg, at),
            "AMT" => {
                let (qualifier, value) = (el(seg, 1), el(seg, 2));
                let amount = parse_amount(&value);
                if amount.is_none() {
                    self.warn(at, "AMT", format!("AMT02 '{value}' is not an amount; skipped"));
                }
                if let Some(c) = &mut self.claim {
                    match (&mut c.line, qualifier.as_str()) {
                        (Some(l), "B6") => l.allowed = amount,
                        (None, "I") => c.claim.interest = amount,
                        _ => {}
                    }
                }
            }
            "REF" => {
                if let Some(ClaimState { line: Some(l), .. }) = &mut self.claim {
                    if el(seg, 1) == "6R" {
                        l.control_number = el(seg, 2);
                    }
                }
            }
            "NM1" | "PER" | "QTY" | "N1" | "N2" | "N3" | "N4" | "CUR" | "RDM" | "NTE" => {}
            _ => self.warn(at, id, format!("{id} is not a segment of the 835 claim loop; skipped")),
        }
    }

    fn remarks(&mut self, codes_found: Vec<String>, segment: &str, at: Position, line_level: bool) {
        for code in codes_found {
            let valid = codes::valid_rarc(&code);
            if !valid {
                self.warn(at, segment, format!("'{code}' is not a remittance advice remark code (M.., MA.. or N..); kept as written"));
            }
            let Some(c) = &mut self.claim else { return };
            let r = Remark { code, segment: segment.to_string(), valid };
            match (&mut c.line, line_level) {
                (Some(l), true) => l.remarks.push(r),
                _ => c.claim.remarks.push(r),
            }
        }
    }

    fn dtm(&mut self, seg: &Segment, at: Position) {
        let (qualifier, value) = (el(seg, 1), el(seg, 2));
        let date = parse_date(&value);
        let known = matches!(qualifier.as_str(), "472" | "150" | "151" | "232" | "233" | "050");
        if known && date.is_none() {
            self.warn(at, "DTM", format!("DTM02 '{value}' is not a date (CCYYMMDD); DTM*{qualifier} skipped"));
            return;
        }
        let Some(c) = &mut self.claim else { return };
        let d = date.unwrap_or_default();
        match &mut c.line {
            Some(l) => match qualifier.as_str() {
                "472" => {
                    l.service_date = d.clone();
                    l.service_date_to = d;
                }
                "150" => l.service_date = d,
                "151" => l.service_date_to = d,
                _ => {}
            },
            None => match qualifier.as_str() {
                "232" => c.claim.service_date_from = d,
                "233" => c.claim.service_date_to = d,
                "050" => c.claim.received_date = d,
                _ => {}
            },
        }
    }

    fn cas(&mut self, seg: &Segment, at: Position) {
        let group = el(seg, 1);
        let cr_in_5010 = group == "CR" && self.set.as_ref().is_some_and(|s| s.tx.version.starts_with("005010") && !s.warned_cr);
        if cr_in_5010 {
            if let Some(s) = &mut self.set {
                s.warned_cr = true;
            }
            self.warn(at, "CAS", "group code CR (correction and reversal) exists only in 4010; read as written".into());
        }
        if codes::group_label(&group).is_none() {
            let shown = if group.is_empty() { "(empty)".to_string() } else { format!("'{group}'") };
            return self.claim_fault(at, "CAS", format!("CAS01 {shown} is not a claim adjustment group code (CO, PR, OA, PI or CR)"));
        }
        let mut found = Vec::new();
        for k in 0..6 {
            let i = 2 + 3 * k;
            let (reason, amount, quantity) = (el(seg, i), el(seg, i + 1), el(seg, i + 2));
            if reason.is_empty() && amount.is_empty() && quantity.is_empty() {
                continue;
            }
            let fault = if reason.is_empty() {
                Some(format!("CAS{i:02} (reason code) is missing for the amount in CAS{:02}", i + 1))
            } else if !codes::valid_carc(&reason) {
                Some(format!("CAS{i:02} '{reason}' is not a claim adjustment reason code"))
            } else if amount.is_empty() {
                Some(format!("CAS{:02} (amount) is missing for reason {group}-{reason}", i + 1))
            } else if parse_amount(&amount).is_none() {
                Some(format!("CAS{:02} '{amount}' is not an amount", i + 1))
            } else if !quantity.is_empty() && parse_amount(&quantity).is_none() {
                Some(format!("CAS{:02} '{quantity}' is not a quantity", i + 2))
            } else {
                None
            };
            if let Some(m) = fault {
                return self.claim_fault(at, "CAS", m);
            }
            found.push(Adjustment {
                group: group.clone(),
                carc: reason,
                amount: parse_amount(&amount).unwrap_or(0.0),
                quantity: parse_amount(&quantity),
                at,
            });
        }
        if found.is_empty() {
            return self.claim_fault(at, "CAS", "CAS has a group code but no reason code and amount".into());
        }
        if let Some(c) = &mut self.claim {
            match &mut c.line {
                Some(l) => l.adjustments.extend(found),
                None => c.claim.adjustments.extend(found),
            }
        }
    }

    /// Splits a composite, accepting another separator than ISA16 when the element is plainly
    /// written with one (`HC>99213` under ISA16 ':'); reports that once per transaction set.
    fn composite(&mut self, raw: &[u8], comp: u8, at: Position, segment_id: &str, element: &str) -> Vec<String> {
        if raw.contains(&comp) || raw.len() < 3 {
            return segments::split(raw, comp);
        }
        let sep = raw[2];
        let plain = raw.iter().take(2).all(u8::is_ascii_alphanumeric) && !sep.is_ascii_alphanumeric() && sep != b' ';
        if !plain {
            return segments::split(raw, comp);
        }
        let warned = self.set.as_ref().is_some_and(|s| s.warned_component);
        if !warned {
            if let Some(s) = &mut self.set {
                s.warned_component = true;
            }
            self.warn(
                at,
                segment_id,
                format!(
                    "{element} is written with '{}' between its components, but ISA16 declares '{}'; read with '{}' for this transaction set",
                    sep as char, comp as char, sep as char
                ),
            );
        }
        segments::split(raw, sep)
    }

    fn svc(&mut self, seg: &Segment, at: Position, comp: u8) {
        self.close_line();
        let procedure = self.composite(seg.raw(1), comp, at, "SVC", "SVC01");
        let original = self.composite(seg.raw(6), comp, at, "SVC", "SVC06");
        let qualifier = procedure.first().cloned().unwrap_or_default();
        let code = procedure.get(1).cloned().unwrap_or_default();
        let mods = |c: &[String]| c.iter().skip(2).take(4).filter(|m| !m.is_empty()).cloned().collect::<Vec<_>>();
        let (procedure_code, modifiers, adjudicated_code) = match original.get(1).filter(|c| !c.is_empty()) {
            Some(submitted) => (submitted.clone(), mods(&original), Some(code.clone())),
            None => (code.clone(), mods(&procedure), None),
        };
        if code.is_empty() {
            let raw = el(seg, 1);
            self.warn(
                at,
                "SVC",
                format!("SVC01 '{raw}' has no procedure code (a qualifier and a code are expected, e.g. HC:99213); the line cannot be matched"),
            );
        }
        let mut faults = Vec::new();
        let mut amount = |i: usize, name: &str| -> Option<f64> {
            let v = el(seg, i);
            if v.is_empty() {
                return None;
            }
            let a = parse_amount(&v);
            if a.is_none() {
                faults.push(format!("SVC{i:02} ({name}) '{v}' is not an amount"));
            }
            a
        };
        let billed = amount(2, "charge");
        let paid = amount(3, "payment");
        let units_text = el(seg, 5);
        let units = if units_text.is_empty() {
            Some(1.0)
        } else {
            let u = parse_amount(&units_text);
            if u.is_none() {
                faults.push(format!("SVC05 (units) '{units_text}' is not a quantity"));
            }
            u
        };
        if let Some(m) = faults.into_iter().next() {
            self.claim_fault(at, "SVC", m);
        }
        let line = ServiceLine {
            qualifier,
            procedure_code,
            modifiers,
            adjudicated_code,
            billed,
            paid,
            revenue_code: el(seg, 4),
            units: units.unwrap_or(1.0),
            service_date: String::new(),
            service_date_to: String::new(),
            control_number: String::new(),
            allowed: None,
            adjustments: Vec::new(),
            remarks: Vec::new(),
            at,
        };
        if let Some(c) = &mut self.claim {
            c.line = Some(line);
        }
    }

    fn plb(&mut self, seg: &Segment, at: Position, comp: u8) {
        let provider_id = el(seg, 1);
        let period = el(seg, 2);
        let fiscal_period = parse_date(&period).unwrap_or_default();
        if fiscal_period.is_empty() {
            self.warn(at, "PLB", format!("PLB02 '{period}' is not a date (CCYYMMDD)"));
        }
        let mut adjustments = Vec::new();
        for k in 0..6 {
            let i = 3 + 2 * k;
            let (raw, amount) = (seg.raw(i), el(seg, i + 1));
            if raw.is_empty() && amount.is_empty() {
                continue;
            }
            let parts = self.composite(raw, comp, at, "PLB", &format!("PLB{i:02}"));
            let reason = parts.first().cloned().unwrap_or_default();
            let reference = parts.get(1).cloned().unwrap_or_default();
            let parsed = parse_amount(&amount);
            let fault = if reason.is_empty() {
                Some(format!("PLB{i:02} (adjustment reason) is missing for the amount in PLB{:02}", i + 1))
            } else if amount.is_empty() {
                Some(format!("PLB{:02} (amount) is missing for adjustment {reason}", i + 1))
            } else if parsed.is_none() {
                Some(format!("PLB{:02} '{amount}' is not an amount", i + 1))
            } else {
                None
            };
            if let Some(m) = fault {
                if let Some(s) = &mut self.set {
                    s.tx.unreadable_payments += 1;
                }
                self.problem(rule::ADJUSTMENT_REJECTED, Severity::Error, None, at, "PLB", format!("{m}; the provider adjustment is left out"));
                continue;
            }
            if !(reason.len() == 2 && reason.bytes().all(|b| b.is_ascii_alphanumeric())) {
                self.warn(
                    at,
                    "PLB",
                    format!("PLB{i:02} reason '{reason}' is not a provider adjustment reason code (two characters, e.g. WO, L6, CV); kept"),
                );
            }
            adjustments.push(ProviderAdjustment {
                provider_id: provider_id.clone(),
                fiscal_period: fiscal_period.clone(),
                reason,
                reference,
                amount: parsed.unwrap_or(0.0),
                at,
            });
        }
        if let Some(s) = &mut self.set {
            s.tx.provider_adjustments.extend(adjustments);
        }
    }

    fn close_line(&mut self) {
        if let Some(c) = &mut self.claim {
            if let Some(l) = c.line.take() {
                c.claim.lines.push(l);
            }
        }
    }

    fn close_claim(&mut self) {
        self.close_line();
        let Some(c) = self.claim.take() else { return };
        let Some(set) = &mut self.set else { return };
        match c.clp_paid {
            Some(p) => set.tx.clp_paid_total += p,
            None => set.tx.unreadable_payments += 1,
        }
        match c.fatal {
            None => set.tx.claims.push(c.claim),
            Some((at, segment_id, message)) => {
                set.tx.claims_rejected += 1;
                let claim_id = (!c.claim.claim_id.is_empty()).then(|| c.claim.claim_id.clone());
                self.problem(
                    rule::CLAIM_REJECTED,
                    Severity::Error,
                    claim_id,
                    at,
                    &segment_id,
                    format!("{message}; the claim (CLP at {}) is left out", c.claim.at),
                );
            }
        }
    }

    fn close_set(&mut self, at: Position, closed_by_se: bool) {
        self.close_claim();
        let Some(mut set) = self.set.take() else { return };
        if !closed_by_se && !set.skipped {
            self.warn(at, "SE", format!("transaction set {} (ST at {}) has no SE", set.tx.control_number, set.tx.at));
        }
        if set.skipped {
            return;
        }
        if !set.saw_bpr {
            self.warn(
                set.tx.at,
                "ST",
                format!("transaction set {} has no BPR (financial information): no payment amount or date", set.tx.control_number),
            );
        }
        if set.tx.payment_date.is_empty() {
            set.tx.payment_date = std::mem::take(&mut set.production_date);
        }
        self.out.transactions.push(set.tx);
    }

    fn finish(mut self) -> Result<Remittance, X12Error> {
        let end = self.last_at;
        if self.set.is_some() {
            self.warn(end, "SE", "the file ends inside a transaction set (no SE)".into());
            self.close_set(end, true);
        }
        if !self.saw_835 {
            let (message, at) = match self.other_sets.first() {
                Some((kind, at)) => (format!("this is not an 835 remittance: its transaction set is {kind}"), *at),
                None => ("the file holds no transaction set (ST)".to_string(), end),
            };
            return Err(X12Error {
                source: self.source.to_string(),
                segment_number: at.segment,
                byte_offset: at.byte,
                line: at.line,
                segment_id: "ST".into(),
                expected: "ST*835 (health care claim payment/advice)".into(),
                message,
            });
        }
        self.out.version = self.versions.iter().cloned().collect::<Vec<_>>().join(",");
        self.out.problems.sort_by_key(|p| (p.at.segment, p.at.byte));
        Ok(self.out)
    }
}
