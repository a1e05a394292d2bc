//! The interchange envelope: ISA/IEA, GS/GE and ST/SE around the claims, their counts and
//! control numbers, and which transaction sets are 837P/837I claims.

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
pub(super) fn transaction_kind(st: &Segment, g: &Group) -> Result<ClaimType, (String, String)> {
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

pub(super) fn check_count(out: &mut Out, seg: &Segment, element: usize, actual: usize, what: &str) {
    let declared = seg.text(element);
    if declared.parse::<usize>().ok() != Some(actual) {
        out.warn(&seg.at, format!("{}{element:02} says {declared} {what} but the envelope holds {actual}", seg.id()));
    }
}

pub(super) fn check_control(out: &mut Out, seg: &Segment, element: usize, opening: &str, opened: &At, opening_name: &str) {
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
