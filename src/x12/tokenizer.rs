//! Splits bytes into segments and elements, reading the delimiters from each ISA.

use super::X12Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delimiters {
    pub element: u8,
    pub component: u8,
    /// ISA11 in 00402 and later; `None` when absent or unusable.
    pub repetition: Option<u8>,
    pub segment: u8,
}

/// Where a segment sits in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At {
    pub number: usize,
    pub offset: usize,
    pub line: usize,
    pub id: String,
}

#[derive(Debug)]
pub(crate) struct Segment<'a> {
    pub at: At,
    /// `elements[0]` is the identifier, `elements[n]` is data element n.
    pub elements: Vec<&'a [u8]>,
}

impl<'a> Segment<'a> {
    pub fn id(&self) -> &str {
        &self.at.id
    }

    /// Raw bytes of element `i` (empty when absent).
    pub fn raw(&self, i: usize) -> &'a [u8] {
        self.elements.get(i).copied().unwrap_or(&[])
    }

    /// Element `i` as trimmed text (empty when absent).
    pub fn text(&self, i: usize) -> String {
        clean(self.raw(i))
    }
}

/// Bytes as trimmed text; invalid UTF-8 is replaced rather than refused, so odd names never stop a file.
pub(crate) fn clean(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim().to_string()
}

/// Components of a composite element, trimmed.
pub(crate) fn components(b: &[u8], sep: u8) -> Vec<String> {
    if b.is_empty() {
        return Vec::new();
    }
    b.split(|c| *c == sep).map(clean).collect()
}

/// Fixed widths of ISA01..ISA15 (ISA16 is the one-byte component separator).
const ISA_WIDTHS: [usize; 15] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1];
const ISA_NAMES: [&str; 15] = [
    "authorization information qualifier",
    "authorization information",
    "security information qualifier",
    "security information",
    "interchange sender id qualifier",
    "interchange sender id",
    "interchange receiver id qualifier",
    "interchange receiver id",
    "interchange date",
    "interchange time",
    "repetition separator",
    "interchange control version number",
    "interchange control number",
    "acknowledgment requested",
    "usage indicator",
];

/// The ISA is never longer than this even with stray blanks; bounds the search for its 16 elements.
const ISA_SCAN_LIMIT: usize = 256;

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0B | 0x0C)
}

fn shown(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02X}")
    }
}

pub(crate) struct Tokenizer<'a> {
    input: &'a [u8],
    source: &'a str,
    pos: usize,
    /// `None` before an ISA has been read and after each IEA.
    delims: Option<Delimiters>,
    seg_no: usize,
    line: usize,
    line_pos: usize,
    /// Non-fatal remarks about delimiters, drained by the mapper.
    pub warnings: Vec<(At, String)>,
}

impl<'a> Tokenizer<'a> {
    pub fn new(input: &'a [u8], source: &'a str) -> Self {
        Tokenizer { input, source, pos: 0, delims: None, seg_no: 0, line: 1, line_pos: 0, warnings: Vec::new() }
    }

    pub fn delimiters(&self) -> Option<Delimiters> {
        self.delims
    }

    /// Where the next segment would start (for errors at the end of the file).
    pub fn end_position(&mut self) -> At {
        let offset = self.input.len();
        At { number: self.seg_no + 1, offset, line: self.line_at(offset), id: String::new() }
    }

    /// Counts newlines incrementally; offsets only grow, so the whole file is scanned once.
    fn line_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.input.len());
        if offset > self.line_pos {
            let newlines =
                self.input.get(self.line_pos..offset).map_or(0, |s| s.iter().filter(|&&b| b == b'\n').count());
            self.line += newlines;
            self.line_pos = offset;
        }
        self.line
    }

    fn error(&mut self, number: usize, offset: usize, id: &str, expected: &str, message: String) -> X12Error {
        let line = self.line_at(offset);
        X12Error {
            source: self.source.to_string(),
            segment_number: number,
            byte_offset: offset,
            line,
            segment_id: id.to_string(),
            expected: expected.to_string(),
            message,
        }
    }

    pub fn next_segment(&mut self) -> Result<Option<Segment<'a>>, X12Error> {
        loop {
            let Some(d) = self.delims else {
                return self.read_isa();
            };
            let Some(rest) = self.input.get(self.pos..).filter(|r| !r.is_empty()) else {
                return Ok(None);
            };
            let (raw_end, next) = match rest.iter().position(|&b| b == d.segment) {
                Some(i) => (self.pos + i, self.pos + i + 1),
                None => (self.input.len(), self.input.len()),
            };
            let mut start = self.pos;
            let mut end = raw_end;
            while start < end && self.input.get(start).is_some_and(|&b| is_blank(b)) {
                start += 1;
            }
            while end > start && self.input.get(end - 1).is_some_and(|&b| b == b'\r' || b == b'\n') {
                end -= 1;
            }
            self.pos = next;
            let Some(raw) = self.input.get(start..end).filter(|r| !r.is_empty()) else {
                continue;
            };
            let elements: Vec<&'a [u8]> = raw.split(|&b| b == d.element).collect();
            let id_bytes = elements.first().copied().unwrap_or(&[]);
            let number = self.seg_no + 1;
            if !valid_id(id_bytes) {
                let id = String::from_utf8_lossy(id_bytes).into_owned();
                let message = if id_bytes.is_empty() {
                    format!("the segment has no identifier: it starts with the element separator {}", shown(d.element))
                } else {
                    format!("'{}' is not a segment identifier", id.escape_debug())
                };
                return Err(self.error(
                    number,
                    start,
                    &id,
                    "a segment identifier of 2-3 upper-case letters or digits, such as NM1",
                    message,
                ));
            }
            self.seg_no = number;
            let line = self.line_at(start);
            let id = String::from_utf8_lossy(id_bytes).into_owned();
            if id == "IEA" {
                // The next interchange declares its own delimiters.
                self.delims = None;
            }
            if id == "ISA" {
                return Err(self.error(
                    number,
                    start,
                    "ISA",
                    "IEA closing the previous interchange",
                    "a new ISA starts before the previous interchange was closed by IEA".into(),
                ));
            }
            return Ok(Some(Segment { at: At { number, offset: start, line, id }, elements }));
        }
    }

    fn read_isa(&mut self) -> Result<Option<Segment<'a>>, X12Error> {
        if self.pos == 0 && self.input.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.pos = 3;
        }
        while self.input.get(self.pos).is_some_and(|&b| is_blank(b)) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(rest) = self.input.get(start..).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        let number = self.seg_no + 1;
        if !rest.starts_with(b"ISA") {
            let found: Vec<u8> = rest.iter().take(3).take_while(|b| b.is_ascii_alphanumeric()).copied().collect();
            let found = String::from_utf8_lossy(&found).into_owned();
            let message = if number == 1 {
                format!("the file does not start with an ISA interchange header (found '{found}')")
            } else {
                format!("only an ISA may follow IEA (found '{found}')")
            };
            return Err(self.error(number, start, &found, "ISA (interchange control header)", message));
        }
        let Some(&el) = rest.get(3) else {
            return Err(self.error(
                number,
                start,
                "ISA",
                "an ISA of 106 characters",
                "the file ends inside the ISA".into(),
            ));
        };
        if el.is_ascii_alphanumeric() || is_blank(el) {
            return Err(self.error(
                number,
                start,
                "ISA",
                "a special character as element separator after 'ISA'",
                format!("{} cannot be the element separator", shown(el)),
            ));
        }
        // Positions of the 16 element separators; the component separator and terminator follow the last.
        let mut seps = Vec::with_capacity(16);
        for (i, &b) in rest.iter().enumerate().take(ISA_SCAN_LIMIT).skip(3) {
            if b == el {
                seps.push(i);
                if seps.len() == 16 {
                    break;
                }
            }
        }
        let (Some(&last), true) = (seps.last(), seps.len() == 16) else {
            return Err(self.error(
                number,
                start,
                "ISA",
                "16 ISA elements",
                format!("the ISA has only {} elements separated by {}", seps.len(), shown(el)),
            ));
        };
        let (Some(&comp), Some(&term)) = (rest.get(last + 1), rest.get(last + 2)) else {
            return Err(self.error(
                number,
                start,
                "ISA",
                "ISA16 (component separator) and a segment terminator",
                "the file ends inside the ISA".into(),
            ));
        };
        let mut elements: Vec<&'a [u8]> = Vec::with_capacity(17);
        elements.push(rest.get(..3).unwrap_or(b"ISA"));
        for w in seps.windows(2) {
            if let [a, b] = *w {
                elements.push(rest.get(a + 1..b).unwrap_or(&[]));
            }
        }
        elements.push(rest.get(last + 1..last + 2).unwrap_or(&[]));
        for (i, (&width, name)) in ISA_WIDTHS.iter().zip(ISA_NAMES).enumerate() {
            let got = elements.get(i + 1).map_or(0, |e| e.len());
            if got != width {
                return Err(self.error(
                    number,
                    start,
                    "ISA",
                    &format!(
                        "ISA{:02} of exactly {width} characters (ISA elements are fixed width, padded with spaces)",
                        i + 1
                    ),
                    format!("ISA{:02} ({name}) is {got} characters long", i + 1),
                ));
            }
        }
        for (what, b) in [("ISA16 component separator", comp), ("segment terminator", term)] {
            if b.is_ascii_alphanumeric() || b == b' ' || (what.starts_with("ISA16") && is_blank(b)) {
                return Err(self.error(
                    number,
                    start,
                    "ISA",
                    "special characters as delimiters",
                    format!("{} cannot be the {what}", shown(b)),
                ));
            }
        }
        if el == comp || el == term || comp == term {
            return Err(self.error(
                number,
                start,
                "ISA",
                "distinct element, component and segment delimiters",
                format!(
                    "the ISA declares element {}, component {} and segment terminator {}",
                    shown(el),
                    shown(comp),
                    shown(term)
                ),
            ));
        }
        let at = At { number, offset: start, line: self.line_at(start), id: "ISA".into() };
        let version = elements.get(12).copied().unwrap_or(&[]);
        let rep_byte = elements.get(11).and_then(|e| e.first()).copied().unwrap_or(b' ');
        // ISA11 became the repetition separator in version 00402.
        let repetition = if version >= &b"00402"[..] {
            if rep_byte.is_ascii_alphanumeric() || is_blank(rep_byte) || [el, comp, term].contains(&rep_byte) {
                self.warnings.push((
                    at.clone(),
                    format!(
                        "ISA11 {} is not a usable repetition separator for version {} (it must be a special character distinct from the other delimiters); repetitions are not split",
                        shown(rep_byte),
                        String::from_utf8_lossy(version)
                    ),
                ));
                None
            } else {
                Some(rep_byte)
            }
        } else {
            None
        };
        self.delims = Some(Delimiters { element: el, component: comp, repetition, segment: term });
        self.seg_no = number;
        self.pos = start + last + 3;
        Ok(Some(Segment { at, elements }))
    }
}

fn valid_id(id: &[u8]) -> bool {
    (2..=3).contains(&id.len())
        && id.first().is_some_and(|b| b.is_ascii_uppercase())
        && id.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}
