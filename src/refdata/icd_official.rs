//! The ICD-10-CM code list as CMS and NCHS publish it: the fixed-width order file
//! (`icd10cm_order_2026.txt`) and the tabular list XML (`icd10cm_tabular_2026.xml`). Both load
//! into the same list as the normalised `code,billable,description` CSV.
//!
//! Order file records: order number (5 digits), a space, the code without its dot (7, padded),
//! a space, `1` for a code valid for HIPAA transactions (billable) or `0` for a header, a space,
//! the short description (60) and a space, then the long description.
//!
//! Tabular XML: nested `<diag>` elements, each with `<name>` and `<desc>`. A `<diag>` with children
//! is a header. A `<sevenChrDef>` applies to every code below it: there, a leaf is a header too,
//! and the billable codes are the leaf padded with `X` to six characters plus each 7th
//! character, described as the leaf's description, a comma and the character's meaning. One
//! exception is written only as a note in the XML, and is applied here: in category S06, codes
//! whose 6th character is 7 or 8 (death before regaining consciousness) take only the 7th
//! character A.

use super::detect::{Detected, Plan, Probe};
use super::icd::{self, fiscal_window, IcdPart};
use super::registry::Parsed;
use super::source::SourceFile;
use super::{read, TableKind};
use anyhow::{anyhow, bail, Result};
use chrono::NaiveDate;
use quick_xml::events::Event;

const ORDER: &str = "official fixed-width order file";
const XML: &str = "official tabular XML";

/// The ICD-10-CM list in any of its layouts: normalised CSV, order file or tabular XML.
pub(crate) fn detect(p: &Probe) -> Detected {
    match icd::detect_list(p) {
        Detected::No => {}
        d => return d,
    }
    if p.ext == "xml" {
        let root = p.lines.iter().take(5).any(|l| l.contains("<ICD10CM.tabular"));
        return if root { Detected::Table(Plan::native(TableKind::Icd10, XML)) } else { Detected::No };
    }
    if p.is_text() {
        let mut records = p.content_lines().take(5).peekable();
        if records.peek().is_some() && records.all(|l| order_record(l).is_some()) {
            return Detected::Table(Plan::native(TableKind::Icd10, ORDER));
        }
    }
    Detected::No
}

/// (code, billable, short, long) of an order-file record.
fn order_record(line: &str) -> Option<(&str, bool, &str, &str)> {
    let b = line.as_bytes();
    if b.len() < 16 || !b[..5].iter().all(u8::is_ascii_digit) || b[5] != b' ' || b[13] != b' ' || b[15] != b' ' {
        return None;
    }
    let code = line.get(6..13)?.trim();
    if code.len() < 3 || !code.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let billable = match b[14] {
        b'1' => true,
        b'0' => false,
        _ => return None,
    };
    let short = line.get(16..line.len().min(76)).unwrap_or("").trim();
    let long = line.get(77..).unwrap_or("").trim();
    Some((code, billable, short, long))
}

/// The fiscal year named in a file name: the first four-digit year (`icd10cm_order_2026.txt`).
fn year_in_name(name: &str) -> Option<i32> {
    let b = name.as_bytes();
    (0..b.len().saturating_sub(3)).find_map(|i| {
        let run = &b[i..i + 4];
        let bounded = (i == 0 || !b[i - 1].is_ascii_digit()) && b.get(i + 4).is_none_or(|c| !c.is_ascii_digit());
        if !bounded || !run.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let y: i32 = name[i..i + 4].parse().ok()?;
        (2000..=2100).contains(&y).then_some(y)
    })
}

fn fiscal(part: &mut IcdPart, year: Option<i32>) -> (Option<NaiveDate>, Option<String>) {
    let Some(y) = year else { return (None, None) };
    let start = NaiveDate::from_ymd_opt(y - 1, 10, 1);
    if let Some(s) = start {
        part.window = Some(fiscal_window(s));
    }
    (start, Some(format!("FY{y}")))
}

pub(crate) fn parse(src: &SourceFile, plan: &Plan) -> Result<Parsed<IcdPart>> {
    let mut part = IcdPart::default();
    let year = if plan.layout == XML { parse_xml(src, &mut part)? } else { parse_order(src, &mut part)? };
    let n = part.len();
    let (release, version) = fiscal(&mut part, year);
    Ok(Parsed { part, rows: n, skipped: 0, release, version })
}

/// Reads the order file; the fiscal year comes from its name.
fn parse_order(src: &SourceFile, part: &mut IcdPart) -> Result<Option<i32>> {
    let text = read::text_lines(src)?;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (code, billable, short, long) =
            order_record(line).ok_or_else(|| anyhow!("{}: line {}: not an ICD-10-CM order-file record", src.shown.display(), i + 1))?;
        let desc = if long.is_empty() { short } else { long };
        if !part.push(code, billable, desc) {
            bail!("{}: line {}: {code:?} is not an ICD-10-CM code", src.shown.display(), i + 1);
        }
    }
    Ok(year_in_name(&src.name))
}

/// One `<diag>` being read.
#[derive(Default)]
struct Diag {
    name: String,
    desc: String,
    seven: Option<Vec<(char, String)>>,
    has_child: bool,
}

/// What text the reader is collecting.
enum Capture {
    None,
    Name,
    Desc,
    Version,
    Extension(char),
}

/// Reads the tabular XML; returns the fiscal year from its `<version>`.
fn parse_xml(src: &SourceFile, part: &mut IcdPart) -> Result<Option<i32>> {
    let bytes = src.bytes()?;
    let shown = src.shown.display();
    let mut reader = quick_xml::Reader::from_reader(&bytes[..]);
    let mut buf = Vec::new();
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut stack: Vec<Diag> = Vec::new();
    let mut capture = Capture::None;
    let mut text = String::new();
    let mut version: Option<String> = None;
    let err = |reader: &quick_xml::Reader<&[u8]>, e: &dyn std::fmt::Display| anyhow!("{shown}: XML error at byte {}: {e}", reader.buffer_position());
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| err(&reader, &e))?;
        match event {
            Event::Start(e) => {
                let tag = e.name().as_ref().to_vec();
                let parent = path.last().map(Vec::as_slice);
                match (tag.as_slice(), parent) {
                    (b"diag", _) => {
                        if let Some(p) = stack.last_mut() {
                            p.has_child = true;
                        }
                        stack.push(Diag::default());
                    }
                    (b"name", Some(b"diag")) => capture = Capture::Name,
                    (b"desc", Some(b"diag")) => capture = Capture::Desc,
                    (b"version", Some(b"ICD10CM.tabular")) => capture = Capture::Version,
                    (b"sevenChrDef", Some(b"diag")) => {
                        if let Some(d) = stack.last_mut() {
                            d.seven = Some(Vec::new());
                        }
                    }
                    (b"extension", Some(b"sevenChrDef")) => {
                        let ch = e
                            .try_get_attribute("char")
                            .map_err(|x| err(&reader, &x))?
                            .and_then(|a| a.unescape_value().ok().and_then(|v| v.chars().next()))
                            .ok_or_else(|| anyhow!("{shown}: a 7th-character <extension> without its char"))?;
                        capture = Capture::Extension(ch);
                    }
                    _ => {}
                }
                text.clear();
                path.push(tag);
            }
            Event::Text(t) if !matches!(capture, Capture::None) => {
                text.push_str(&t.xml_content().map_err(|e| err(&reader, &e))?);
            }
            Event::GeneralRef(r) if !matches!(capture, Capture::None) => {
                let name = r.decode().map_err(|e| err(&reader, &e))?;
                let ch = match name.as_ref() {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "apos" => Some('\''),
                    "quot" => Some('"'),
                    _ => r.resolve_char_ref().map_err(|e| err(&reader, &e))?,
                };
                text.push(ch.ok_or_else(|| anyhow!("{shown}: unknown entity &{name};"))?);
            }
            Event::End(_) => {
                let tag = path.pop().unwrap_or_default();
                let done = std::mem::replace(&mut capture, Capture::None);
                let value = text.trim().to_string();
                match done {
                    Capture::Name => stack.last_mut().map(|d| d.name = value).unwrap_or(()),
                    Capture::Desc => stack.last_mut().map(|d| d.desc = value).unwrap_or(()),
                    Capture::Version => version = Some(value),
                    Capture::Extension(ch) => {
                        if let Some(s) = stack.last_mut().and_then(|d| d.seven.as_mut()) {
                            s.push((ch, value));
                        }
                    }
                    Capture::None => {}
                }
                text.clear();
                if tag == b"diag" {
                    let d = stack.pop().ok_or_else(|| anyhow!("{shown}: unbalanced <diag>"))?;
                    emit(part, &d, &stack).map_err(|e| anyhow!("{shown}: {e}"))?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        bail!("{shown}: the file ends inside a <diag>");
    }
    let year = version.as_deref().and_then(|v| v.trim().parse::<i32>().ok());
    if year.is_none() {
        bail!("{shown}: no <version> (fiscal year) in the tabular XML");
    }
    Ok(year)
}

/// Add a finished `<diag>` and, under a 7th-character definition, its billable extensions.
fn emit(part: &mut IcdPart, d: &Diag, ancestors: &[Diag]) -> Result<()> {
    let seven = d.seven.as_ref().or_else(|| ancestors.iter().rev().find_map(|a| a.seven.as_ref()));
    let leaf = !d.has_child;
    let billable = leaf && seven.is_none();
    if !part.push(&d.name, billable, &d.desc) {
        bail!("<diag> name {:?} is not an ICD-10-CM code", d.name);
    }
    if let (true, Some(seven)) = (leaf, seven) {
        let bare: String = d.name.chars().filter(|&c| c != '.').collect();
        if bare.len() > 6 {
            bail!("{} takes a 7th character but already has 7", d.name);
        }
        let padded = format!("{bare:X<6}");
        let death_before_consciousness = padded.starts_with("S06") && matches!(padded.as_bytes()[5], b'7' | b'8');
        for (ch, meaning) in seven {
            if death_before_consciousness && *ch != 'A' {
                continue;
            }
            let code = format!("{}.{}{ch}", &padded[..3], &padded[3..]);
            if !part.push(&code, true, &format!("{}, {meaning}", d.desc)) {
                bail!("{code:?} (7th character of {}) is not an ICD-10-CM code", d.name);
            }
        }
    }
    Ok(())
}
