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
    /// Why the segment cannot be read (only from [`Tokenizer::lenient`]); its `id` is then what
    /// was found, possibly empty.
    pub damage: Option<String>,
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
pub(crate) const ISA_WIDTHS: [usize; 15] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1];
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
pub(crate) const ISA_SCAN_LIMIT: usize = 256;

pub(crate) fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0B | 0x0C)
}

/// A byte as messages name it: the character when printable, else its hex value.
pub(crate) fn shown(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02X}")
    }
}

pub(crate) struct Tokenizer<'a> {
    input: &'a [u8],
    source: &'a str,
    /// Read on past damage instead of failing: see [`Tokenizer::lenient`].
    lenient: bool,
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
    /// A tokenizer that fails on the first fault.
    pub fn new(input: &'a [u8], source: &'a str) -> Self {
        Tokenizer { input, source, lenient: false, pos: 0, delims: None, seg_no: 0, line: 1, line_pos: 0, warnings: Vec::new() }
    }

    /// A tokenizer that reads on past damage: a segment with an unreadable identifier is
    /// returned with [`Segment::damage`] set; a new ISA before IEA starts the next interchange; a
    /// damaged ISA is read from the standard fixed-width positions when that is unambiguous;
    /// and bytes that are not X12 where an ISA should start are skipped up to the next ISA. Each
    /// repair leaves a remark in [`Tokenizer::warnings`]. It fails only when no interchange can be
    /// found at all.
    pub fn lenient(input: &'a [u8], source: &'a str) -> Self {
        Tokenizer { lenient: true, ..Tokenizer::new(input, source) }
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
            let newlines = self.input.get(self.line_pos..offset).map_or(0, |s| s.iter().filter(|&&b| b == b'\n').count());
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
                let message = if id_bytes.is_empty() {
                    format!("the segment has no identifier: it starts with the element separator {}", shown(d.element))
                } else if id_bytes.len() <= 3 && id_bytes.iter().all(u8::is_ascii_graphic) {
                    format!("'{}' is not a segment identifier", String::from_utf8_lossy(id_bytes))
                } else {
                    // Longer garbage may be a piece of a name or id: describe it, never echo it.
                    format!("an identifier of {} bytes is not a segment identifier", id_bytes.len())
                };
                let id = if id_bytes.len() <= 3 { String::from_utf8_lossy(id_bytes).into_owned() } else { String::new() };
                if !self.lenient {
                    return Err(self.error(number, start, &id, "a segment identifier of 2-3 upper-case letters or digits, such as NM1", message));
                }
                self.seg_no = number;
                let line = self.line_at(start);
                return Ok(Some(Segment { at: At { number, offset: start, line, id }, elements, damage: Some(message) }));
            }
            let id = String::from_utf8_lossy(id_bytes).into_owned();
            if id == "ISA" {
                if !self.lenient {
                    return Err(self.error(
                        number,
                        start,
                        "ISA",
                        "IEA closing the previous interchange",
                        "a new ISA starts before the previous interchange was closed by IEA".into(),
                    ));
                }
                // Read it as the next interchange, with its own delimiters.
                self.pos = start;
                self.delims = None;
                return self.read_isa();
            }
            self.seg_no = number;
            let line = self.line_at(start);
            if id == "IEA" {
                // The next interchange declares its own delimiters.
                self.delims = None;
            }
            return Ok(Some(Segment { at: At { number, offset: start, line, id }, elements, damage: None }));
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
        if self.input.get(start..).is_none_or(<[u8]>::is_empty) {
            return Ok(None);
        }
        let number = self.seg_no + 1;
        let fault = match self.parse_isa(start) {
            Ok(isa) => return Ok(Some(self.commit_isa(start, isa))),
            Err(fault) => fault,
        };
        if !self.lenient {
            return Err(self.error(number, start, &fault.id, &fault.expected, fault.message));
        }
        let at = At { number, offset: start, line: self.line_at(start), id: fault.id.clone() };
        if let Some(mut isa) = self.fixed_width_isa(start) {
            isa.remarks.insert(
                0,
                format!(
                    "the ISA is damaged ({}); its delimiters are read from the standard fixed-width positions: element {}, component {}, segment terminator {}",
                    fault.message,
                    shown(isa.delims.element),
                    shown(isa.delims.component),
                    shown(isa.delims.segment)
                ),
            );
            return Ok(Some(self.commit_isa(start, isa)));
        }
        // Skip what is not X12 up to the next ISA that can be read.
        let mut from = start + 1;
        while let Some(i) = find(self.input, b"ISA", from) {
            if let Some(isa) = self.parse_isa(i).ok().or_else(|| self.fixed_width_isa(i)) {
                self.warnings.push((at, format!("{}; the {} bytes up to the next ISA at byte {i} are skipped", fault.message, i - start)));
                return Ok(Some(self.commit_isa(i, isa)));
            }
            from = i + 1;
        }
        if self.seg_no == 0 {
            return Err(self.error(number, start, &fault.id, &fault.expected, fault.message));
        }
        let skipped = self.input.len() - start;
        self.warnings.push((at, format!("{}; the last {skipped} bytes of the file are skipped", fault.message)));
        self.pos = self.input.len();
        Ok(None)
    }

    /// Takes the delimiters of an ISA that was read, and yields it.
    fn commit_isa(&mut self, start: usize, isa: IsaParts<'a>) -> Segment<'a> {
        let number = self.seg_no + 1;
        let at = At { number, offset: start, line: self.line_at(start), id: "ISA".into() };
        for remark in isa.remarks {
            self.warnings.push((at.clone(), remark));
        }
        self.delims = Some(isa.delims);
        self.seg_no = number;
        self.pos = isa.end;
        Segment { at, elements: isa.elements, damage: None }
    }

    /// An ISA read by counting its 16 element separators, as the standard defines it.
    fn parse_isa(&self, start: usize) -> Result<IsaParts<'a>, IsaFault> {
        let fault = |expected: &str, message: String| IsaFault { id: "ISA".into(), expected: expected.into(), message };
        let rest = self.input.get(start..).unwrap_or(&[]);
        if !rest.starts_with(b"ISA") {
            let found: Vec<u8> = rest.iter().take(3).take_while(|b| b.is_ascii_alphanumeric()).copied().collect();
            let found = String::from_utf8_lossy(&found).into_owned();
            let message = if self.seg_no == 0 {
                format!("the file does not start with an ISA interchange header (found '{found}')")
            } else {
                format!("only an ISA may follow IEA (found '{found}')")
            };
            return Err(IsaFault { id: found, expected: "ISA (interchange control header)".into(), message });
        }
        let Some(&el) = rest.get(3) else {
            return Err(fault("an ISA of 106 characters", "the file ends inside the ISA".into()));
        };
        if el.is_ascii_alphanumeric() || is_blank(el) {
            return Err(fault("a special character as element separator after 'ISA'", format!("{} cannot be the element separator", shown(el))));
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
            return Err(fault("16 ISA elements", format!("the ISA has only {} elements separated by {}", seps.len(), shown(el))));
        };
        let (Some(&comp), Some(&term)) = (rest.get(last + 1), rest.get(last + 2)) else {
            return Err(fault("ISA16 (component separator) and a segment terminator", "the file ends inside the ISA".into()));
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
                return Err(fault(
                    &format!("ISA{:02} of exactly {width} characters (ISA elements are fixed width, padded with spaces)", i + 1),
                    format!("ISA{:02} ({name}) is {got} characters long", i + 1),
                ));
            }
        }
        for (what, b) in [("ISA16 component separator", comp), ("segment terminator", term)] {
            if b.is_ascii_alphanumeric() || b == b' ' || (what.starts_with("ISA16") && is_blank(b)) {
                return Err(fault("special characters as delimiters", format!("{} cannot be the {what}", shown(b))));
            }
        }
        if el == comp || el == term || comp == term {
            return Err(fault(
                "distinct element, component and segment delimiters",
                format!("the ISA declares element {}, component {} and segment terminator {}", shown(el), shown(comp), shown(term)),
            ));
        }
        Ok(isa_parts(elements, el, comp, term, start + last + 3))
    }

    /// An ISA read from the fixed positions the standard gives its elements (106 bytes), when a
    /// damaged byte keeps [`Tokenizer::parse_isa`] from reading it: at least two of "ISA" and 15
    /// of the 16 separator positions must agree. An unusable ISA16 is taken to be ':', an
    /// unusable terminator is the one that ends the GS after it.
    fn fixed_width_isa(&self, start: usize) -> Option<IsaParts<'a>> {
        let rest = self.input.get(start..start + ISA_LENGTH)?;
        let id_matches = rest.iter().zip(b"ISA").filter(|(a, b)| a == b).count();
        if id_matches < 2 {
            return None;
        }
        let at = |i: usize| rest.get(i).copied().unwrap_or(0);
        let mut counts: Vec<(u8, usize)> = Vec::new();
        for &p in &ISA_SEPARATORS {
            match counts.iter_mut().find(|c| c.0 == at(p)) {
                Some(c) => c.1 += 1,
                None => counts.push((at(p), 1)),
            }
        }
        let &(el, n) = counts.iter().max_by_key(|c| c.1)?;
        if n < ISA_SEPARATORS.len() - 1 || el.is_ascii_alphanumeric() || is_blank(el) {
            return None;
        }
        let special = |b: u8| !b.is_ascii_alphanumeric() && b != b' ' && b != el;
        let mut remarks = Vec::new();
        let mut term = at(ISA_LENGTH - 1);
        if !special(term) || term == at(ISA_LENGTH - 2) {
            term = self.terminator_after_gs(start + ISA_LENGTH, el)?;
            remarks.push(format!("the ISA's segment terminator is unusable; {} ends the GS after it and is used", shown(term)));
        }
        let mut comp = at(ISA_LENGTH - 2);
        if !special(comp) || is_blank(comp) || comp == term {
            comp = b':';
            if !special(comp) || comp == term {
                return None;
            }
            remarks.push("ISA16 is not a usable component separator; ':' is used".into());
        }
        let mut elements: Vec<&'a [u8]> = Vec::with_capacity(17);
        elements.push(rest.get(..3)?);
        for w in ISA_SEPARATORS.windows(2) {
            if let [a, b] = *w {
                elements.push(rest.get(a + 1..b)?);
            }
        }
        elements.push(rest.get(ISA_LENGTH - 2..ISA_LENGTH - 1)?);
        let mut parts = isa_parts(elements, el, comp, term, start + ISA_LENGTH);
        parts.remarks.splice(0..0, remarks);
        Some(parts)
    }

    /// The byte that ends the GS following a damaged ISA: the first one after GS08.
    fn terminator_after_gs(&self, from: usize, el: u8) -> Option<u8> {
        let window = self.input.get(from..(from + ISA_SCAN_LIMIT).min(self.input.len()))?;
        let gs = window.windows(3).position(|w| w[0] == b'G' && w[1] == b'S' && w[2] == el)?;
        let mut seps = 0;
        for (i, &b) in window.iter().enumerate().skip(gs + 2) {
            if b == el {
                seps += 1;
            } else if seps == 8 && !b.is_ascii_alphanumeric() {
                return (i > 0 && !is_blank(b)).then_some(b);
            }
        }
        None
    }
}

/// An ISA that was read, before its delimiters are taken.
struct IsaParts<'a> {
    elements: Vec<&'a [u8]>,
    delims: Delimiters,
    /// Position after its terminator.
    end: usize,
    remarks: Vec<String>,
}

/// Why an ISA cannot be read.
struct IsaFault {
    id: String,
    expected: String,
    message: String,
}

/// Standard ISA length and separator positions (ISA01..ISA16 are fixed width).
const ISA_LENGTH: usize = 106;
const ISA_SEPARATORS: [usize; 16] = [3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103];

fn isa_parts<'a>(elements: Vec<&'a [u8]>, el: u8, comp: u8, term: u8, end: usize) -> IsaParts<'a> {
    let version = elements.get(12).copied().unwrap_or(&[]);
    let rep_byte = elements.get(11).and_then(|e| e.first()).copied().unwrap_or(b' ');
    let mut remarks = Vec::new();
    // ISA11 became the repetition separator in version 00402.
    let repetition = if version >= &b"00402"[..] {
        if rep_byte.is_ascii_alphanumeric() || is_blank(rep_byte) || [el, comp, term].contains(&rep_byte) {
            remarks.push(format!(
                "ISA11 {} is not a usable repetition separator for version {} (it must be a special character distinct from the other delimiters); repetitions are not split",
                shown(rep_byte),
                String::from_utf8_lossy(version)
            ));
            None
        } else {
            Some(rep_byte)
        }
    } else {
        None
    };
    IsaParts { elements, delims: Delimiters { element: el, component: comp, repetition, segment: term }, end, remarks }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

fn valid_id(id: &[u8]) -> bool {
    (2..=3).contains(&id.len())
        && id.first().is_some_and(|b| b.is_ascii_uppercase())
        && id.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}
