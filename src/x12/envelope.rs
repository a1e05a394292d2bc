//! The interchange envelope: ISA/IEA, GS/GE and ST/SE around the claims, their counts and
//! control numbers, and which transaction sets are 837P/837I claims. Envelope damage is a
//! warning: whatever opens next closes what is still open, and the claims inside are read.

use super::tokenizer::{At, Delimiters, Segment, Tokenizer};
use super::transaction::{ClaimType, Out, Txn};
use super::{X12Batch, X12Error};

pub(super) struct Interchange {
    pub(super) at: At,
    pub(super) control: String,
    pub(super) groups: usize,
}

pub(super) struct Group {
    pub(super) at: At,
    pub(super) control: String,
    pub(super) version: String,
    pub(super) sets: usize,
    /// Opened by an ST that had no GS before it: it has no counts to check.
    pub(super) implied: bool,
}

/// A transaction set that cannot be read as an 837P/I: its claims and lines are counted.
struct Skipped {
    at: At,
    reason: String,
    /// Its ST named a transaction set claimlint does not read.
    refused: bool,
    claims: usize,
    lines: usize,
}

/// Where the reader stands in the envelope.
struct Envelope<'s> {
    source: &'s str,
    isa: Option<Interchange>,
    gs: Option<Group>,
    txn: Option<Txn>,
    skipped: Option<Skipped>,
    interchanges: usize,
    transactions_read: usize,
    /// Why the first transaction set that is not an 837P/I was skipped; the file is refused
    /// with it when nothing else could be read.
    refusal: Option<X12Error>,
}

pub(crate) fn parse(input: &[u8], source: &str) -> Result<X12Batch, X12Error> {
    let mut tok = Tokenizer::lenient(input, source);
    let mut out = Out::default();
    let mut env = Envelope { source, isa: None, gs: None, txn: None, skipped: None, interchanges: 0, transactions_read: 0, refusal: None };
    while let Some(seg) = tok.next_segment()? {
        for (at, msg) in tok.warnings.drain(..) {
            out.envelope(&at, msg);
        }
        // The tokenizer has delimiters whenever it yields a segment after ISA.
        let delims = tok.delimiters().unwrap_or(Delimiters { element: b'*', component: b':', repetition: None, segment: b'~' });
        env.segment(&seg, delims, &mut out);
    }
    for (at, msg) in tok.warnings.drain(..) {
        out.envelope(&at, msg);
    }
    let end = tok.end_position();
    env.end_of_file(&end, &mut out);
    if env.interchanges == 0 {
        return Err(fatal(source, &end, "ISA (interchange control header)", "the file is empty".into()));
    }
    if env.transactions_read == 0 {
        if let Some(refusal) = env.refusal {
            return Err(refusal);
        }
    }
    out.batch.problems.sort_by_key(|p| p.segment_number);
    out.batch.version = out.versions.join(",");
    Ok(out.batch)
}

fn fatal(source: &str, at: &At, expected: &str, message: String) -> X12Error {
    X12Error {
        source: source.to_string(),
        segment_number: at.number,
        byte_offset: at.offset,
        line: at.line,
        segment_id: at.id.clone(),
        expected: expected.to_string(),
        message,
    }
}

impl Envelope<'_> {
    fn segment(&mut self, seg: &Segment, delims: Delimiters, out: &mut Out) {
        if seg.damage.is_some() {
            self.body(seg, delims, out);
            return;
        }
        match seg.id() {
            "ISA" => {
                self.close_group(&seg.at, "a new ISA", out);
                if let Some(i) = self.isa.take() {
                    out.envelope(&seg.at, format!("the interchange opened at segment {} has no IEA; this ISA starts the next one", i.at.number));
                }
                self.interchanges += 1;
                self.isa = Some(Interchange { at: seg.at.clone(), control: seg.text(13), groups: 0 });
            }
            "IEA" => {
                self.close_group(&seg.at, "IEA", out);
                match self.isa.take() {
                    Some(i) => {
                        check_count(out, seg, 1, i.groups, "functional groups");
                        check_control(out, seg, 2, &i.control, &i.at, "ISA13");
                    }
                    None => out.envelope(&seg.at, "IEA without an open interchange (ISA)".into()),
                }
            }
            "GS" => {
                self.close_group(&seg.at, "a new GS", out);
                self.gs = Some(Group { at: seg.at.clone(), control: seg.text(6), version: seg.text(8), sets: 0, implied: false });
            }
            "GE" => {
                self.close_transaction(&seg.at, "GE", out);
                match self.gs.take() {
                    Some(g) => {
                        if !g.implied {
                            check_count(out, seg, 1, g.sets, "transaction sets");
                            check_control(out, seg, 2, &g.control, &g.at, "GS06");
                        }
                        if let Some(i) = self.isa.as_mut() {
                            i.groups += 1;
                        }
                    }
                    None => out.envelope(&seg.at, "GE without an open functional group (GS)".into()),
                }
            }
            "ST" => {
                self.close_transaction(&seg.at, "a new ST", out);
                self.open_transaction(seg, delims, out);
            }
            "SE" => {
                if let Some(t) = self.txn.take() {
                    t.finish(seg, out);
                } else if let Some(s) = self.skipped.take() {
                    finish_skipped(s, out);
                } else {
                    out.envelope(&seg.at, "SE without an open transaction set (ST)".into());
                    return;
                }
                if let Some(g) = self.gs.as_mut() {
                    g.sets += 1;
                }
            }
            _ => self.body(seg, delims, out),
        }
    }

    /// A segment inside (or where there should be) a transaction set.
    fn body(&mut self, seg: &Segment, delims: Delimiters, out: &mut Out) {
        if let Some(t) = self.txn.as_mut() {
            t.segment(seg, out);
            return;
        }
        // BHT always follows ST: the ST is missing or unreadable, and the group's version says
        // what the transaction set is.
        let after_refusal = self.skipped.as_ref().is_some_and(|s| s.refused);
        if seg.id() == "BHT" && seg.damage.is_none() && !after_refusal {
            let version = self.gs.as_ref().map(|g| g.version.clone()).unwrap_or_default();
            if let Ok((kind, _)) = transaction_kind("837", &version, "") {
                if let Some(s) = self.skipped.take() {
                    finish_skipped(s, out);
                }
                out.envelope(&seg.at, format!("BHT without an ST before it: the transaction set is read as an 837 of version {version} (GS08)"));
                self.note_version(&version, out);
                self.transactions_read += 1;
                let mut t = Txn::implied(&seg.at, kind, delims);
                t.segment(seg, out);
                self.txn = Some(t);
                return;
            }
        }
        if let Some(s) = self.skipped.as_mut() {
            count_skipped(s, seg);
            return;
        }
        let what = seg.damage.as_deref().map_or_else(|| format!("segment {}", seg.id()), |d| format!("an unreadable segment ({d})"));
        let mut s =
            Skipped { at: seg.at.clone(), reason: format!("{what} stands outside a transaction set (ST..SE)"), refused: false, claims: 0, lines: 0 };
        count_skipped(&mut s, seg);
        self.skipped = Some(s);
    }

    fn open_transaction(&mut self, st: &Segment, delims: Delimiters, out: &mut Out) {
        if self.gs.is_none() {
            out.envelope(&st.at, "ST without a functional group (GS) before it".into());
            self.gs = Some(Group { at: st.at.clone(), control: String::new(), version: String::new(), sets: 0, implied: true });
        }
        let group_version = self.gs.as_ref().map(|g| g.version.clone()).unwrap_or_default();
        match transaction_kind(&st.text(1), &st.text(3), &group_version) {
            Ok((kind, remark)) => {
                if let Some(r) = remark {
                    out.envelope(&st.at, r);
                }
                let version = if st.text(3).is_empty() || transaction_kind("837", &st.text(3), "").is_err() { group_version } else { st.text(3) };
                self.note_version(&version, out);
                self.transactions_read += 1;
                self.txn = Some(Txn::new(st, kind, delims));
            }
            Err((expected, message)) => {
                if self.refusal.is_none() {
                    self.refusal = Some(fatal(self.source, &st.at, &expected, message.clone()));
                }
                self.skipped = Some(Skipped { at: st.at.clone(), reason: message, refused: true, claims: 0, lines: 0 });
            }
        }
    }

    fn note_version(&self, version: &str, out: &mut Out) {
        if !out.versions.iter().any(|v| v == version) {
            out.versions.push(version.to_string());
        }
    }

    /// Closes an open transaction set that has no SE: `closer` (another envelope segment) ends it.
    fn close_transaction(&mut self, at: &At, closer: &str, out: &mut Out) {
        if let Some(t) = self.txn.take() {
            out.envelope(at, format!("the transaction set opened at segment {} has no SE before {closer}", t.st.number));
            t.close_without_se(None, out);
            if let Some(g) = self.gs.as_mut() {
                g.sets += 1;
            }
        }
        if let Some(s) = self.skipped.take() {
            finish_skipped(s, out);
        }
    }

    fn close_group(&mut self, at: &At, closer: &str, out: &mut Out) {
        self.close_transaction(at, closer, out);
        if let Some(g) = self.gs.take() {
            if !g.implied {
                out.envelope(at, format!("the functional group opened at segment {} has no GE before {closer}", g.at.number));
            }
            if let Some(i) = self.isa.as_mut() {
                i.groups += 1;
            }
        }
    }

    fn end_of_file(&mut self, end: &At, out: &mut Out) {
        if let Some(t) = self.txn.take() {
            out.envelope(end, format!("the file ends inside the transaction set opened at segment {}: SE, GE and IEA are missing", t.st.number));
            t.close_without_se(Some(end), out);
        }
        if let Some(s) = self.skipped.take() {
            finish_skipped(s, out);
        }
        if let Some(g) = self.gs.take() {
            if !g.implied {
                out.envelope(end, format!("the file ends inside the functional group opened at segment {}", g.at.number));
            }
        }
        if let Some(i) = self.isa.take() {
            out.envelope(end, format!("the file ends inside the interchange opened at segment {}", i.at.number));
        }
    }
}

fn count_skipped(s: &mut Skipped, seg: &Segment) {
    match seg.id() {
        "CLM" => s.claims += 1,
        "LX" => s.lines += 1,
        _ => {}
    }
}

fn finish_skipped(s: Skipped, out: &mut Out) {
    out.batch.claims_read += s.claims;
    out.batch.claims_rejected += s.claims;
    out.batch.lines_read += s.lines;
    out.batch.lines_rejected += s.lines;
    if s.claims + s.lines == 0 {
        out.envelope(&s.at, format!("{}; skipped (it holds no claim)", s.reason));
    } else {
        out.reject_transaction(&s.at, format!("{}; its {} claim(s) and {} service line(s) are not audited", s.reason, s.claims, s.lines));
    }
}

/// Names of transaction sets people send by mistake.
fn transaction_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "999" => "implementation acknowledgment",
        "997" => "functional acknowledgment",
        "TA1" => "interchange acknowledgment",
        "835" => "claim payment / remittance advice",
        "277" | "276" => "claim status",
        "270" | "271" => "eligibility",
        "278" => "prior authorization request",
        "834" => "benefit enrollment",
        "820" => "premium payment",
        _ => return None,
    })
}

fn supported(version: &str) -> Option<ClaimType> {
    if version.starts_with("005010X222") {
        Some(ClaimType::Professional)
    } else if version.starts_with("005010X223") {
        Some(ClaimType::Institutional)
    } else {
        None
    }
}

/// What a transaction set is, from ST01, ST03 and the group's GS08: a 5010 837P or 837I (with a
/// remark when a damaged ST01 or ST03 was read past), else why it is refused as (expected, message).
pub(super) fn transaction_kind(code: &str, st_version: &str, group_version: &str) -> Result<(ClaimType, Option<String>), (String, String)> {
    let expected_837 = "ST01 = 837 (health care claim)".to_string();
    if let Some(name) = transaction_name(code) {
        return Err((expected_837, format!("transaction set {code} ({name}) is not a claim file; claimlint reads 837P and 837I claims")));
    }
    let version = if st_version.is_empty() { group_version } else { st_version };
    let expected = "005010X222A1/A2 (837P) or 005010X223A1/A2/A3 (837I)".to_string();
    if version.starts_with("004010") {
        return Err((
            expected,
            format!(
                "{version} is a HIPAA 4010 837, retired in 2012: its ICD-9 codes and legacy provider ids would make current edits report wrong findings; export the claims as 5010"
            ),
        ));
    }
    let (kind, mut remark) = match (supported(version), supported(group_version)) {
        (Some(kind), _) => (kind, None),
        (None, Some(kind)) => (kind, Some(format!("ST03 version '{st_version}' is not an 837 version; the group's {group_version} (GS08) is used"))),
        (None, None) => {
            if code != "837" {
                return Err((expected_837, format!("transaction set '{code}' is not an 837 claim")));
            }
            let what = if version.starts_with("005010X224") { " (an 837D dental claim)" } else { "" };
            return Err((expected, format!("implementation guide version '{version}'{what} is not supported")));
        }
    };
    if code != "837" {
        let why = format!("ST01 '{code}' is not 837; the transaction set is read as an 837 because its version says so");
        remark = Some(match remark {
            Some(r) => format!("{why}; {r}"),
            None => why,
        });
    }
    Ok((kind, remark))
}

pub(super) fn check_count(out: &mut Out, seg: &Segment, element: usize, actual: usize, what: &str) {
    let declared = seg.text(element);
    if declared.parse::<usize>().ok() != Some(actual) {
        out.envelope(&seg.at, format!("{}{element:02} says {declared} {what} but the envelope holds {actual}", seg.id()));
    }
}

pub(super) fn check_control(out: &mut Out, seg: &Segment, element: usize, opening: &str, opened: &At, opening_name: &str) {
    let closing = seg.text(element);
    let same = match (closing.parse::<u64>(), opening.parse::<u64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => closing == opening,
    };
    if !same {
        out.envelope(
            &seg.at,
            format!("{}{element:02} control number '{closing}' does not match {opening_name} '{opening}' at segment {}", seg.id(), opened.number),
        );
    }
}
