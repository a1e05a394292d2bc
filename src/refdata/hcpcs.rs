//! HCPCS Level II as CMS publishes it: the fixed-width `HCPC<year>_ANWEB*.txt` of the
//! Alpha-Numeric HCPCS file (inside the release zip), or a CSV with a `code` column.
//!
//! The record layout (CMS's HCPCS record layout, checked against the 2020 release): HCPCS code
//! 1-5, sequence number 6-10, record identification code 11 (3 = first line of a procedure, 4 =
//! its continuation, 7 = first line of a modifier, 8 = its continuation), long description
//! 12-91, short description 92-119, then pricing, coverage and other indicators; code added
//! date 269-276, action effective date 277-284, termination date 285-292, action code 293. A
//! disclaimer paragraph precedes the first record. Only the code and the record kind are used:
//! every procedure record (3) is a code; modifier records (7) are counted as skipped, because
//! the file lists the Level II modifiers only (CPT modifiers such as 25 and 59 are not there),
//! so it cannot serve as the modifier table.

use super::codesets::{self, CodesPart};
use super::compact;
use super::detect::{has, has_any, Detected, Plan, Probe};
use super::read;
use super::source::SourceFile;
use super::TableKind;
use anyhow::{bail, Result};

const ANWEB: &str = "official fixed-width";

/// (code, record id) of a fixed-width record.
fn record(line: &str) -> Option<(&str, u8)> {
    let b = line.as_bytes();
    if b.len() < 11 || !b[5..10].iter().all(u8::is_ascii_digit) || !matches!(b[10], b'3' | b'4' | b'7' | b'8') {
        return None;
    }
    Some((line.get(..5)?.trim(), b[10]))
}

pub(crate) fn detect(p: &Probe) -> Detected {
    let normalised = p.normalised(TableKind::Hcpcs, |name, h| {
        has(h, "code") && (has_any(h, &["seqnum", "recid"]) || name.contains("hcpcs")) && !codesets::other_tables_columns(h)
    });
    match normalised {
        Detected::No => {}
        d => return d,
    }
    if p.ext != "txt" {
        return Detected::No;
    }
    // Records after the disclaimer: the first three lines after it must be records (a damaged
    // record further on is an error when the file is read, not a reason to pass it over).
    let first: Vec<&str> = p.content_lines().skip_while(|l| record(l).is_none()).take(3).collect();
    if first.len() == 3 && first.iter().all(|l| record(l).is_some()) {
        return Detected::Table(Plan::native(TableKind::Hcpcs, ANWEB));
    }
    Detected::No
}

/// Reads the fixed-width file: (codes, procedure records, modifier records skipped).
pub(crate) fn parse_anweb(src: &SourceFile) -> Result<(CodesPart, usize, usize)> {
    let text = read::text_lines(src)?;
    let mut codes = Vec::new();
    let mut skipped = 0usize;
    let mut started = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        let Some((code, recid)) = record(line) else {
            // The disclaimer before the first record; after it, every line is a record.
            if started && !line.trim().is_empty() {
                bail!("{}: line {}: not a HCPCS record (record layout: code 1-5, sequence 6-10, record id 11)", src.shown.display(), i + 1);
            }
            continue;
        };
        started = true;
        match recid {
            b'3' => match compact::pack_hcpcs(code) {
                Some(key) => codes.push(key as u64),
                None => bail!("{}: line {}: {code:?} is not a HCPCS code", src.shown.display(), i + 1),
            },
            b'7' => skipped += 1,
            _ => {} // continuation lines of a description
        }
    }
    let n = codes.len();
    Ok((CodesPart { codes }, n, skipped))
}
