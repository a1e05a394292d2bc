//! Segments of an 835 file, split by the X12 tokenizer the 837 reader uses
//! (`src/x12/tokenizer.rs`), after the envelope repairs remittances need. Positions always refer to the original bytes.
//!
//! Repairs, each reported as a warning:
//! - No ISA (the file starts at ST): the delimiters are read off the ST segment and its first
//!   composite, and the file is read as if a standard ISA preceded it.
//! - An ISA whose fixed-width elements lost their padding: padded again (the delimiters are found
//!   by counting element separators, which the tokenizer already does).
//! - A newline after ISA16 with the real terminator written at the start of every following
//!   segment (`…|^` newline `~GS|…`): read with that terminator.
//!
//! The tokenizer stops at a segment identifier it cannot read but has already moved past it, so
//! such a segment is returned as [`Item::Skipped`] and reading goes on; an error that repeats at
//! the same place (a broken ISA) ends the file.

use crate::x12::X12Error;

pub(crate) use crate::x12::tokenizer::Segment;
use crate::x12::tokenizer::Tokenizer;

use super::model::Position;

const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
// The ISA layout and byte helpers are the 837 tokenizer's: one X12 envelope, two readers.
use crate::x12::tokenizer::{is_blank, shown, ISA_SCAN_LIMIT, ISA_WIDTHS};

/// The input after repairs, with what is needed to map positions back.
pub(crate) struct Prepared {
    pub bytes: Vec<u8>,
    /// (first prepared offset affected, bytes inserted before it), ascending.
    shifts: Vec<(usize, usize)>,
    /// 1 when a synthetic ISA was put in front, else 0.
    synthetic_segments: usize,
    /// (original byte offset, remark).
    pub repairs: Vec<(usize, String)>,
}

impl Prepared {
    pub fn synthetic_envelope(&self) -> bool {
        self.synthetic_segments > 0
    }

    fn original_offset(&self, prepared: usize) -> usize {
        let inserted: usize = self.shifts.iter().take_while(|(start, _)| *start <= prepared).map(|(_, n)| n).sum();
        prepared.saturating_sub(inserted)
    }

    fn position(&self, number: usize, offset: usize, line: usize) -> Position {
        Position { segment: number.saturating_sub(self.synthetic_segments), byte: self.original_offset(offset), line }
    }

    fn map_error(&self, mut e: X12Error) -> X12Error {
        e.segment_number = e.segment_number.saturating_sub(self.synthetic_segments);
        e.byte_offset = self.original_offset(e.byte_offset);
        e
    }
}

/// Applies the repairs described in the module documentation.
pub(crate) fn prepare(input: &[u8]) -> Prepared {
    let mut start = if input.starts_with(BOM) { BOM.len() } else { 0 };
    while input.get(start).is_some_and(|&b| is_blank(b)) {
        start += 1;
    }
    let mut out = Vec::with_capacity(input.len() + 128);
    let mut prepared = Prepared { bytes: Vec::new(), shifts: Vec::new(), synthetic_segments: 0, repairs: Vec::new() };
    let rest = input.get(start..).unwrap_or(&[]);
    if rest.starts_with(b"ST") && rest.get(2).is_some_and(|b| !b.is_ascii_alphanumeric() && !is_blank(*b)) {
        if let Some(isa) = synthetic_isa(rest) {
            out.extend_from_slice(input.get(..start).unwrap_or(&[]));
            out.extend_from_slice(&isa);
            prepared.shifts.push((start + isa.len(), isa.len()));
            prepared.synthetic_segments = 1;
            prepared.repairs.push((
                start,
                format!(
                    "the file has no ISA/GS envelope (it starts at ST); read with element separator {}, component separator {} and segment terminator {} as found in the data",
                    shown(isa[3]),
                    shown(isa[isa.len() - 2]),
                    shown(isa[isa.len() - 1])
                ),
            ));
            out.extend_from_slice(rest);
            prepared.bytes = out;
            return prepared;
        }
    }
    // Every ISA: at the start, or right after a segment terminator (and blanks).
    let mut copied = 0;
    let mut search = start;
    while let Some(at) = find_isa(input, search) {
        search = at + 3;
        let Some(fix) = isa_repair(input, at) else { continue };
        out.extend_from_slice(input.get(copied..at).unwrap_or(&[]));
        let isa_start = out.len();
        out.extend_from_slice(&fix.isa);
        copied = at + fix.original_len;
        if let Some((t, u)) = fix.swap {
            // The real terminator ends the ISA and the line break takes its place: the same
            // bytes in a different order, so offsets and line numbers stay put.
            out.push(input[u]);
            out.extend_from_slice(input.get(t + 1..u).unwrap_or(&[]));
            out.push(input[t]);
            copied = u + 1;
        } else {
            out.push(input[at + fix.original_len - 1]);
        }
        let inserted = fix.isa.len() + 1 - fix.original_len;
        if inserted > 0 {
            prepared.shifts.push((isa_start + fix.isa.len() + 1, inserted));
        }
        prepared.repairs.extend(fix.notes.into_iter().map(|n| (at, n)));
        search = copied.max(search);
    }
    out.extend_from_slice(input.get(copied..).unwrap_or(&[]));
    prepared.bytes = out;
    prepared
}

/// The next "ISA" + separator at or after `from` that starts a segment.
fn find_isa(input: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 4 <= input.len() {
        let hit = input.get(i..i + 3) == Some(b"ISA") && input.get(i + 3).is_some_and(|b| !b.is_ascii_alphanumeric() && !is_blank(*b));
        if hit {
            let before = input.get(..i).unwrap_or(&[]).iter().rev().copied().find(|b| !is_blank(*b));
            let starts_segment = match before {
                None => true,
                Some(b) => b == 0xBF || (!b.is_ascii_alphanumeric() && b != input[i + 3]),
            };
            if starts_segment {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

struct IsaFix {
    /// ISA through ISA16, without the terminator.
    isa: Vec<u8>,
    original_len: usize,
    /// Terminator byte position and the position of the real terminator to trade it with.
    swap: Option<(usize, usize)>,
    notes: Vec<String>,
}

/// The ISA at `at` as the tokenizer needs it, or `None` when it needs nothing (or cannot be
/// repaired: then the tokenizer reports why).
fn isa_repair(input: &[u8], at: usize) -> Option<IsaFix> {
    let rest = input.get(at..)?;
    let el = *rest.get(3)?;
    let seps: Vec<usize> = rest.iter().enumerate().take(ISA_SCAN_LIMIT).skip(3).filter(|(_, &b)| b == el).map(|(i, _)| i).take(16).collect();
    if seps.len() != 16 {
        return None;
    }
    let last = *seps.last()?;
    let comp = *rest.get(last + 1)?;
    let term_at = last + 2;
    let term = *rest.get(term_at)?;
    let elements: Vec<&[u8]> = seps.windows(2).map(|w| rest.get(w[0] + 1..w[1]).unwrap_or(&[])).collect();
    let mut notes = Vec::new();
    let mut isa = Vec::with_capacity(106);
    isa.extend_from_slice(b"ISA");
    let widths_ok = elements.iter().zip(ISA_WIDTHS).all(|(e, w)| e.len() == w);
    if widths_ok {
        isa.extend_from_slice(rest.get(3..=last + 1)?);
    } else {
        if elements.iter().zip(ISA_WIDTHS).any(|(e, w)| e.len() > w) {
            return None;
        }
        for (e, w) in elements.iter().zip(ISA_WIDTHS) {
            isa.push(el);
            isa.extend_from_slice(e);
            isa.extend(std::iter::repeat_n(b' ', w - e.len()));
        }
        isa.push(el);
        isa.push(comp);
        notes.push("the ISA's fixed-width elements are not padded to their widths; read by counting element separators".to_string());
    }
    let mut swap = None;
    if term == b'\r' || term == b'\n' {
        let u = (term_at..rest.len()).find(|&i| rest.get(i).is_some_and(|b| !is_blank(*b)));
        if let Some(u) = u {
            let b = rest[u];
            let next_is_segment = rest.get(u + 1..u + 3).is_some_and(|id| id.iter().all(|c| c.is_ascii_uppercase()));
            if !b.is_ascii_alphanumeric() && b != el && b != comp && next_is_segment {
                swap = Some((at + term_at, at + u));
                notes.push(format!(
                    "a line break follows ISA16 and every later segment starts with {}; read with {} as the segment terminator",
                    shown(b),
                    shown(b)
                ));
            }
        }
    }
    if widths_ok && swap.is_none() {
        return None;
    }
    Some(IsaFix { original_len: term_at + 1, isa, swap, notes })
}

/// A standard ISA with the delimiters an envelope-less ST uses.
fn synthetic_isa(st: &[u8]) -> Option<Vec<u8>> {
    let el = *st.get(2)?;
    // The terminator is the first byte after ST's elements that is neither data nor a separator.
    let term = *st.iter().skip(3).find(|&&b| !(b.is_ascii_alphanumeric() || b == el || b == b' ' || b == b'\t' || b == b'-'))?;
    let term = if term == b'\r' { b'\n' } else { term };
    let comp = component_separator(st, el, term).unwrap_or(if el != b':' && term != b':' { b':' } else { b'>' });
    if [el, term].contains(&comp) {
        return None;
    }
    let mut isa = Vec::with_capacity(106);
    let fields: [&[u8]; 15] = [
        b"00",
        b"          ",
        b"00",
        b"          ",
        b"ZZ",
        b"               ",
        b"ZZ",
        b"               ",
        b"000000",
        b"0000",
        b"U",
        b"00401",
        b"000000000",
        b"0",
        b"P",
    ];
    isa.extend_from_slice(b"ISA");
    for f in fields {
        isa.push(el);
        isa.extend_from_slice(f);
    }
    isa.push(el);
    isa.push(comp);
    isa.push(term);
    Some(isa)
}

/// The separator inside the first SVC01 or PLB03 composite (`HC:99213`, `CV:CP`).
fn component_separator(data: &[u8], el: u8, term: u8) -> Option<u8> {
    for id in [&b"SVC"[..], b"PLB"] {
        let mut pat = id.to_vec();
        pat.push(el);
        let mut i = 0;
        while let Some(found) = data.get(i..).and_then(|d| d.windows(pat.len()).position(|w| w == pat.as_slice())) {
            let value = data.get(i + found + pat.len()..).unwrap_or(&[]);
            let value = if id == b"PLB" {
                // PLB03 is the third element.
                let mut parts = value.splitn(3, |&b| b == el);
                parts.nth(2).unwrap_or(&[])
            } else {
                value
            };
            if let Some(&sep) = value.get(2) {
                if value.iter().take(2).all(u8::is_ascii_alphanumeric) && !sep.is_ascii_alphanumeric() && ![el, term, b' '].contains(&sep) {
                    return Some(sep);
                }
            }
            i += found + 1;
        }
    }
    None
}

/// What the reader gets: a segment, or a piece the tokenizer could not read as one.
pub(crate) enum Item<'a> {
    Segment(Segment<'a>, Position),
    Skipped(X12Error),
}

pub(crate) struct Segments<'a> {
    tok: Tokenizer<'a>,
    prepared: &'a Prepared,
    pending: Option<Result<Option<Segment<'a>>, X12Error>>,
}

impl<'a> Segments<'a> {
    pub fn new(prepared: &'a Prepared, source: &'a str) -> Self {
        Segments { tok: Tokenizer::new(&prepared.bytes, source), prepared, pending: None }
    }

    /// The component separator ISA16 declared for the current interchange.
    pub fn component_separator(&self) -> Option<u8> {
        self.tok.delimiters().map(|d| d.component)
    }

    /// The tokenizer's remarks about delimiters since the last call, with positions.
    pub fn take_warnings(&mut self) -> Vec<(Position, String)> {
        let prepared = self.prepared;
        self.tok.warnings.drain(..).map(|(at, m)| (prepared.position(at.number, at.offset, at.line), m)).collect()
    }

    /// The next segment; `Err` when the rest of the file cannot be read.
    pub fn next_item(&mut self) -> Result<Option<Item<'a>>, X12Error> {
        let got = match self.pending.take() {
            Some(r) => r,
            None => self.tok.next_segment(),
        };
        match got {
            Ok(Some(seg)) => {
                let at = self.prepared.position(seg.at.number, seg.at.offset, seg.at.line);
                Ok(Some(Item::Segment(seg, at)))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                // The same error again means the tokenizer cannot move on.
                let again = self.tok.next_segment();
                if let Err(e2) = &again {
                    if e2.byte_offset == e.byte_offset && e2.segment_number == e.segment_number {
                        return Err(self.prepared.map_error(e));
                    }
                }
                self.pending = Some(again);
                Ok(Some(Item::Skipped(self.prepared.map_error(e))))
            }
        }
    }
}

/// Components of a composite element, split at `sep`.
pub(crate) fn split(raw: &[u8], sep: u8) -> Vec<String> {
    crate::x12::tokenizer::components(raw, sep)
}
