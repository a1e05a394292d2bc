//! The CSV/TSV reader. A damaged row costs that row, never the file:
//! - The encoding comes from a byte-order mark (UTF-8, UTF-16LE/BE), else from the bytes: UTF-16
//!   without a BOM is recognised by its NUL bytes, and a file that is not valid UTF-8 and has no
//!   valid multi-byte UTF-8 sequence outweighing its invalid ones is Windows-1252 (which agrees with
//!   Latin-1 on every printable character). `--encoding` overrides the guess; a BOM is never a
//!   guess and wins. Bytes that are invalid in the chosen encoding become U+FFFD and a warning.
//! - Rows are parsed by `csv-core` (RFC 4180 quoting, CRLF, LF or CR line ends, a last line
//!   without a line break), one record at a time from a buffered stream.
//! - A row with more or fewer fields than the header is rejected with its line. A quote that is
//!   not closed on its line swallows the rows after it: such a record that does not have the
//!   header's field count rejects only the line where it starts, and reading resumes on the next
//!   line. A quoted value that legitimately spans lines is kept when the field count agrees.
//! - Rows whose every field is empty are skipped and reported once.
//!
//! Row locations are physical line numbers (the header is line 1; a row spanning lines is at the
//! line where it starts), the number an editor shows. Messages name the line, the field and its
//! header, never another value of the row.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::Result;
use encoding_rs::Encoding;
use polars::prelude::*;

use super::dq::{self, DqCheck};
use crate::vocab::{input_error, DataIssue, FileAccounting};

/// A CSV or TSV file as read: its rows as text columns under the file's own header names.
pub struct CsvRead {
    /// One String column per header field, in file order; empty values are null.
    pub frame: DataFrame,
    /// The line where each frame row starts (the header is line 1).
    pub rows: Vec<u32>,
    /// Rows that could not be read, and file-level remarks.
    pub issues: Vec<DataIssue>,
    pub accounting: FileAccounting,
}

/// A record longer than this is taken to be an unclosed quote, whatever follows.
const MAX_RECORD_BYTES: usize = 4 << 20;
/// Blank-row ranges listed in the one finding about them.
const MAX_LISTED_RANGES: usize = 5;

/// Reads a CSV (`separator` b',') or TSV (b'\t') file. `encoding` is a label such as
/// "windows-1252", "latin1", "utf-8" or "utf-16le" that replaces the detection.
pub fn read_csv(path: &Path, name: &str, separator: u8, encoding: Option<&str>) -> Result<CsvRead> {
    let forced =
        match encoding {
            Some(label) => Some(encoding_for_label(label).ok_or_else(|| {
                input_error(format!("--encoding {label}: unknown encoding (use utf-8, windows-1252, latin1, utf-16le or utf-16be)"))
            })?),
            None => None,
        };
    let cannot_read = |e: std::io::Error| input_error(format!("{name}: cannot read: {e}"));
    let mut issues = Vec::new();
    let (encoding, bom_len) = choose_encoding(path, forced, name, &mut issues).map_err(cannot_read)?;

    let mut file = File::open(path).map_err(cannot_read)?;
    let mut bom = [0u8; 4];
    file.read_exact(&mut bom[..bom_len]).map_err(cannot_read)?;
    let source: Box<dyn BufRead> = if encoding == encoding_rs::UTF_8 {
        Box::new(BufReader::with_capacity(1 << 20, file))
    } else {
        let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new().encoding(Some(encoding)).build(file);
        Box::new(BufReader::with_capacity(1 << 20, decoded))
    };
    let mut reader = Rows::new(source, separator, name, encoding.name(), issues);
    reader.read().map_err(cannot_read)?;
    reader.finish(if separator == b'\t' { "tsv" } else { "csv" })
}

/// The encoding a `--encoding` label names; "latin-1" and "utf-16" are accepted too.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().to_ascii_lowercase();
    let label = match label.as_str() {
        "latin-1" | "latin_1" | "iso-latin-1" => "latin1",
        "utf-16" => "utf-16le",
        other => other,
    };
    Encoding::for_label(label.as_bytes()).filter(|e| *e != encoding_rs::REPLACEMENT)
}

/// The encoding to decode with and the length of the byte-order mark to skip.
fn choose_encoding(
    path: &Path,
    forced: Option<&'static Encoding>,
    name: &str,
    issues: &mut Vec<DataIssue>,
) -> std::io::Result<(&'static Encoding, usize)> {
    let mut file = File::open(path)?;
    let mut head = vec![0u8; 4096];
    let mut n = 0;
    while n < head.len() {
        let got = file.read(&mut head[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    head.truncate(n);
    if let Some((bom_encoding, len)) = Encoding::for_bom(&head) {
        if let Some(f) = forced.filter(|f| *f != bom_encoding) {
            issues.push(file_issue(
                name,
                &dq::CSV_ENCODING,
                format!(
                    "the file starts with a {} byte-order mark, so it is read as {} and --encoding {} is not used",
                    bom_encoding.name(),
                    bom_encoding.name(),
                    f.name()
                ),
            ));
        }
        return Ok((bom_encoding, len));
    }
    if let Some(f) = forced {
        return Ok((f, 0));
    }
    if let Some(utf16) = utf16_without_bom(&head) {
        return Ok((utf16, 0));
    }
    // Decide between UTF-8 and Windows-1252 on the whole file: the first accented name may sit
    // on the last row.
    let mut file = File::open(path)?;
    let mut scan = Utf8Scan::default();
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let got = file.read(&mut chunk)?;
        if got == 0 {
            break;
        }
        scan.feed(&chunk[..got]);
    }
    scan.finish();
    let latin = scan.invalid > 0 && scan.invalid >= scan.multibyte;
    Ok((if latin { encoding_rs::WINDOWS_1252 } else { encoding_rs::UTF_8 }, 0))
}

/// Text never holds NUL bytes, UTF-16 of ASCII text has one in every other byte.
fn utf16_without_bom(head: &[u8]) -> Option<&'static Encoding> {
    let pairs: Vec<&[u8]> = head.chunks_exact(2).collect();
    if pairs.len() < 4 {
        return None;
    }
    let little = pairs.iter().filter(|p| p[1] == 0 && p[0] != 0).count();
    let big = pairs.iter().filter(|p| p[0] == 0 && p[1] != 0).count();
    let most = pairs.len() * 9 / 10;
    if little >= most {
        Some(encoding_rs::UTF_16LE)
    } else if big >= most {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Counts invalid UTF-8 sequences and valid multi-byte ones across chunk boundaries.
#[derive(Default)]
struct Utf8Scan {
    carry: Vec<u8>,
    invalid: u64,
    multibyte: u64,
}

impl Utf8Scan {
    fn feed(&mut self, chunk: &[u8]) {
        let joined;
        let mut rest: &[u8] = if self.carry.is_empty() {
            chunk
        } else {
            joined = [std::mem::take(&mut self.carry).as_slice(), chunk].concat();
            &joined
        };
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    self.multibyte += count_leads(valid.as_bytes());
                    return;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    self.multibyte += count_leads(valid);
                    match e.error_len() {
                        Some(len) => {
                            self.invalid += 1;
                            rest = after.get(len..).unwrap_or(&[]);
                        }
                        None => {
                            self.carry = after.to_vec();
                            return;
                        }
                    }
                }
            }
        }
    }

    fn finish(&mut self) {
        if !self.carry.is_empty() {
            self.invalid += 1;
            self.carry.clear();
        }
    }
}

fn count_leads(valid: &[u8]) -> u64 {
    if valid.is_ascii() {
        return 0;
    }
    valid.iter().filter(|&&b| b >= 0xC0).count() as u64
}

fn file_issue(name: &str, check: &DqCheck, message: String) -> DataIssue {
    DataIssue {
        source: name.to_string(),
        row: None,
        claim_id: None,
        line_number: None,
        rule_id: check.id,
        severity: check.severity,
        message,
        amount_at_risk: 0.0,
    }
}

/// One record as `csv-core` parsed it, with where it sits in the file.
#[derive(Default)]
struct Record {
    /// The bytes it was parsed from, from its first byte (blank lines before it dropped).
    raw: Vec<u8>,
    fields: Vec<u8>,
    /// Field end offsets in `fields`; the first `count` are this record's.
    ends: Vec<usize>,
    count: usize,
    /// Line where it starts.
    line: u64,
    /// Physical lines it spans.
    lines: u64,
    /// Ended by the end of the file rather than a line break.
    at_eof: bool,
    /// Cut off at [`MAX_RECORD_BYTES`].
    overlong: bool,
}

impl Record {
    fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends.get(i - 1).copied().unwrap_or(0) };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.fields.get(start..end).unwrap_or(&[])
    }

    fn is_blank(&self) -> bool {
        let used = if self.count == 0 { 0 } else { self.ends.get(self.count - 1).copied().unwrap_or(0) };
        self.fields.get(..used).unwrap_or(&[]).iter().all(u8::is_ascii_whitespace)
    }

    /// Bytes of its first physical line, with the line break.
    fn first_line(&self) -> &[u8] {
        let end = self.raw.iter().position(|&b| b == b'\n').map_or(self.raw.len(), |i| i + 1);
        &self.raw[..end]
    }

    /// Bytes of its second physical line, if it has one.
    fn second_line(&self) -> Option<&[u8]> {
        let rest = self.raw.get(self.first_line().len()..).filter(|r| !r.is_empty())?;
        let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1);
        Some(&rest[..end])
    }
}

/// Streams records out of the decoded bytes; bytes handed back by
/// [`Records::resume_after_first_line`] are read again before the rest of the stream.
struct Records {
    source: Box<dyn BufRead>,
    separator: u8,
    core: csv_core::Reader,
    pushback: Vec<u8>,
    pushback_pos: usize,
    /// Line of the next byte to be consumed.
    line: u64,
}

impl Records {
    fn new(source: Box<dyn BufRead>, separator: u8) -> Self {
        Records { source, separator, core: new_core(separator), pushback: Vec::new(), pushback_pos: 0, line: 1 }
    }

    /// The next record into `rec`; false at the end of the input.
    fn next(&mut self, rec: &mut Record) -> std::io::Result<bool> {
        rec.raw.clear();
        rec.count = 0;
        rec.at_eof = false;
        rec.overlong = false;
        if rec.fields.len() < 4096 {
            rec.fields.resize(4096, 0);
        }
        if rec.ends.len() < 64 {
            rec.ends.resize(64, 0);
        }
        let (mut outlen, mut endlen) = (0usize, 0usize);
        let mut started = false;
        rec.line = self.line;
        loop {
            let from_pushback = self.pushback_pos < self.pushback.len();
            let input: &[u8] = if from_pushback { &self.pushback[self.pushback_pos..] } else { self.source.fill_buf()? };
            let at_end = input.is_empty();
            let (res, nin, nout, nend) = self.core.read_record(input, &mut rec.fields[outlen..], &mut rec.ends[endlen..]);
            let mut consumed = &input[..nin];
            if !started {
                // csv-core skips empty lines before a record; they belong to no record.
                let skip = consumed.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
                self.line += consumed[..skip].iter().filter(|&&b| b == b'\n').count() as u64;
                consumed = &consumed[skip..];
                if !consumed.is_empty() {
                    started = true;
                    rec.line = self.line;
                }
            }
            self.line += consumed.iter().filter(|&&b| b == b'\n').count() as u64;
            rec.raw.extend_from_slice(consumed);
            if from_pushback {
                self.pushback_pos += nin;
            } else {
                self.source.consume(nin);
            }
            outlen += nout;
            endlen += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    let len = rec.fields.len() * 2;
                    rec.fields.resize(len, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let len = rec.ends.len() * 2;
                    rec.ends.resize(len, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    rec.at_eof = at_end;
                    break;
                }
                csv_core::ReadRecordResult::End => return Ok(false),
            }
            if rec.raw.len() > MAX_RECORD_BYTES {
                rec.overlong = true;
                break;
            }
        }
        rec.count = endlen;
        let body = match rec.raw.last() {
            Some(b'\n') => &rec.raw[..rec.raw.len() - 1],
            _ => &rec.raw[..],
        };
        rec.lines = 1 + body.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(true)
    }

    /// Reads on from the line after the one where `rec` starts: its other lines are handed back,
    /// or, for a line longer than [`MAX_RECORD_BYTES`], the rest of that line is skipped.
    fn resume_after_first_line(&mut self, rec: &Record) -> std::io::Result<()> {
        self.core = new_core(self.separator);
        self.line = rec.line + 1;
        if rec.first_line().ends_with(b"\n") {
            let mut back = rec.raw[rec.first_line().len()..].to_vec();
            back.extend_from_slice(&self.pushback[self.pushback_pos..]);
            self.pushback = back;
            self.pushback_pos = 0;
            return Ok(());
        }
        loop {
            let from_pushback = self.pushback_pos < self.pushback.len();
            let input: &[u8] = if from_pushback { &self.pushback[self.pushback_pos..] } else { self.source.fill_buf()? };
            if input.is_empty() {
                return Ok(());
            }
            let (n, done) = match input.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (input.len(), false),
            };
            if from_pushback {
                self.pushback_pos += n;
            } else {
                self.source.consume(n);
            }
            if done {
                return Ok(());
            }
        }
    }
}

fn new_core(separator: u8) -> csv_core::Reader {
    csv_core::ReaderBuilder::new().delimiter(separator).build()
}

/// Index of the field whose quote is still open at the end of `line` (a record's first line).
fn open_quote_field(line: &[u8], separator: u8) -> usize {
    let mut core = new_core(separator);
    let mut out = vec![0u8; line.len() + 1];
    let mut ends = vec![0usize; line.len() + 1];
    let (_, _, _, nend) = core.read_record(line, &mut out, &mut ends);
    nend
}

/// Fields of `line` parsed on its own, as if the file ended after it.
fn fields_alone(line: &[u8], separator: u8) -> usize {
    let mut core = new_core(separator);
    let mut out = vec![0u8; line.len() + 1];
    let mut ends = vec![0usize; line.len() + 2];
    let (res, nin, nout, nend) = core.read_record(line, &mut out, &mut ends);
    if res == csv_core::ReadRecordResult::Record {
        return nend;
    }
    let rest = line.get(nin..).unwrap_or(&[]);
    let (_, _, _, more) = core.read_record(rest, &mut out[nout..], &mut ends[nend..]);
    let (_, _, _, last) = core.read_record(&[], &mut out[nout..], &mut ends[nend + more..]);
    nend + more + last
}

/// Whether a record that ran to the end of the file leaves a quote open.
fn ends_inside_quote(raw: &[u8], separator: u8) -> bool {
    let mut in_quote = false;
    let mut field_start = true;
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if in_quote {
            if b == b'"' {
                if raw.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quote = false;
                }
            }
            field_start = false;
        } else {
            if b == b'"' && field_start {
                in_quote = true;
            }
            field_start = b == separator || b == b'\n' || b == b'\r';
        }
        i += 1;
    }
    in_quote
}

/// Reads the header, then every row into column builders.
struct Rows<'a> {
    records: Records,
    separator: u8,
    name: &'a str,
    encoding: &'static str,
    issues: Vec<DataIssue>,
    header_problem: Option<String>,
    names: Vec<String>,
    columns: Vec<StringChunkedBuilder>,
    rows: Vec<u32>,
    read: u64,
    rejected: u64,
    blank: Vec<(u64, u64)>,
    blank_count: u64,
}

impl<'a> Rows<'a> {
    fn new(source: Box<dyn BufRead>, separator: u8, name: &'a str, encoding: &'static str, issues: Vec<DataIssue>) -> Self {
        Rows {
            records: Records::new(source, separator),
            separator,
            name,
            encoding,
            issues,
            header_problem: None,
            names: Vec::new(),
            columns: Vec::new(),
            rows: Vec::new(),
            read: 0,
            rejected: 0,
            blank: Vec::new(),
            blank_count: 0,
        }
    }

    fn read(&mut self) -> std::io::Result<()> {
        let mut rec = Record::default();
        if !self.records.next(&mut rec)? {
            return Ok(());
        }
        if rec.lines > 1 || rec.overlong || (rec.at_eof && ends_inside_quote(&rec.raw, self.separator)) {
            let field = open_quote_field(rec.first_line(), self.separator);
            self.header_problem = Some(format!(
                "the header on line {}: the quote that opens its field {} is not closed on that line, so no column can be named",
                rec.line,
                field + 1
            ));
            return Ok(());
        }
        self.header(&rec);
        while self.records.next(&mut rec)? {
            self.row(&rec)?;
        }
        Ok(())
    }

    fn header(&mut self, rec: &Record) {
        let mut seen = std::collections::HashSet::new();
        for i in 0..rec.count {
            let (text, _) = decode(rec.field(i));
            let mut name = text.trim_matches('\u{feff}').to_string();
            if name.trim().is_empty() {
                name = format!("column_{}", i + 1);
                let message = format!("column {} has no header name; it is read as `{name}`", i + 1);
                self.issues.push(self.at(rec.line, &dq::CSV_HEADER, message));
            }
            if !seen.insert(name.clone()) {
                let mut n = 2;
                while seen.contains(&format!("{name}_{n}")) {
                    n += 1;
                }
                let renamed = format!("{name}_{n}");
                let message =
                    format!("column {} repeats the header `{name}`; it is read as `{renamed}` and the first `{name}` column is used", i + 1);
                self.issues.push(self.at(rec.line, &dq::CSV_HEADER, message));
                seen.insert(renamed.clone());
                name = renamed;
            }
            self.columns.push(StringChunkedBuilder::new(name.as_str().into(), 1024));
            self.names.push(name);
        }
    }

    fn row(&mut self, rec: &Record) -> std::io::Result<()> {
        if rec.is_blank() && !rec.overlong {
            let last_line = rec.line + rec.lines - 1;
            match self.blank.last_mut() {
                Some(run) if run.1 + 1 >= rec.line => run.1 = last_line,
                _ => self.blank.push((rec.line, last_line)),
            }
            self.blank_count += 1;
            return Ok(());
        }
        self.read += 1;
        let want = self.names.len();
        let got = rec.count;
        let open_at_eof = rec.at_eof && ends_inside_quote(&rec.raw, self.separator);
        if rec.lines > 1 || rec.overlong {
            // A value spanning lines is kept only when the record has the header's shape and its
            // second line is not a row on its own; otherwise a quote opened on the first line
            // swallowed the rows after it.
            let swallowed = rec.second_line().is_some_and(|l| fields_alone(l, self.separator) == want);
            if rec.overlong || got != want || open_at_eof || swallowed {
                self.reject_open_quote(rec);
                return self.records.resume_after_first_line(rec);
            }
        } else if open_at_eof {
            self.reject_open_quote(rec);
            return Ok(());
        }
        if got != want {
            let message = if got > want {
                format!(
                    "line {} has {got} fields but the header has {want}; the row is not audited (a separator inside a value must be quoted)",
                    rec.line
                )
            } else if rec.at_eof {
                format!(
                    "line {} has {got} of the {want} fields the header names and ends the file without a line break: the file may have been cut off; the row is not audited",
                    rec.line
                )
            } else {
                format!("line {} has {got} of the {want} fields the header names; the row is not audited", rec.line)
            };
            self.reject(rec.line, &dq::CSV_FIELD_COUNT, message);
            return Ok(());
        }
        let mut replaced: Option<usize> = None;
        for (i, column) in self.columns.iter_mut().enumerate() {
            let bytes = rec.field(i);
            if bytes.is_empty() {
                column.append_null();
                continue;
            }
            let (text, lossy) = decode(bytes);
            if lossy && replaced.is_none() {
                replaced = Some(i);
            }
            column.append_value(text.as_ref());
        }
        if let Some(i) = replaced {
            let header = self.names.get(i).cloned().unwrap_or_default();
            let message = format!(
                "line {}: field `{header}` holds bytes that are not valid {}; they are replaced by U+FFFD and the row is audited",
                rec.line, self.encoding
            );
            self.issues.push(self.at(rec.line, &dq::CSV_ENCODING, message));
        }
        self.rows.push(u32::try_from(rec.line).unwrap_or(u32::MAX));
        Ok(())
    }

    fn reject_open_quote(&mut self, rec: &Record) {
        let first = rec.first_line();
        let message = if !first.ends_with(b"\n") && rec.overlong {
            format!("line {} is longer than {} MiB; the row is not audited", rec.line, MAX_RECORD_BYTES >> 20)
        } else {
            let field = open_quote_field(first, self.separator);
            let header = self.names.get(field).map(|h| format!(" (`{h}`)")).unwrap_or_default();
            if rec.lines == 1 {
                format!(
                    "line {}: the quote that opens field {}{header} is not closed before the end of the file; the row is not audited",
                    rec.line,
                    field + 1
                )
            } else {
                format!(
                    "line {}: the quote that opens field {}{header} is not closed on that line; the row is not audited and reading resumes on line {}",
                    rec.line,
                    field + 1,
                    rec.line + 1
                )
            }
        };
        self.reject(rec.line, &dq::CSV_UNCLOSED_QUOTE, message);
    }

    fn reject(&mut self, line: u64, check: &DqCheck, message: String) {
        self.rejected += 1;
        self.issues.push(self.at(line, check, message));
    }

    fn at(&self, line: u64, check: &DqCheck, message: String) -> DataIssue {
        DataIssue {
            source: self.name.to_string(),
            row: Some(u32::try_from(line).unwrap_or(u32::MAX)),
            claim_id: None,
            line_number: None,
            rule_id: check.id,
            severity: check.severity,
            message,
            amount_at_risk: 0.0,
        }
    }

    fn finish(mut self, format: &str) -> Result<CsvRead> {
        let name = self.name;
        if let Some(problem) = self.header_problem.take() {
            anyhow::bail!(input_error(format!("{name}: {problem}")));
        }
        if self.names.is_empty() {
            anyhow::bail!(input_error(format!("{name}: the file has no header row")));
        }
        if let Some(&(first, _)) = self.blank.first() {
            let mut ranges: Vec<String> =
                self.blank.iter().take(MAX_LISTED_RANGES).map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }).collect();
            if self.blank.len() > MAX_LISTED_RANGES {
                ranges.push("…".into());
            }
            let n = self.blank_count;
            let (s, lines) = if n == 1 { ("", "line") } else { ("s", "lines") };
            let message = format!("{n} blank row{s} (every field empty) skipped: {lines} {}", ranges.join(", "));
            self.issues.push(self.at(first, &dq::CSV_BLANK_ROWS, message));
        }
        if self.read > 0 && self.rows.is_empty() {
            let first = self.issues.iter().find(|i| i.severity == crate::vocab::Severity::Error);
            anyhow::bail!(input_error(format!(
                "{name}: none of the {} rows could be read, so nothing is audited; first problem: {}",
                self.read,
                first.map(|i| i.message.as_str()).unwrap_or("unknown")
            )));
        }
        let height = self.rows.len();
        let columns: Vec<Column> = self.columns.into_iter().map(|b| b.finish().into_series().into_column()).collect();
        let frame = DataFrame::new(height, columns)?;
        let accounting = FileAccounting {
            source: name.to_string(),
            format: format.to_string(),
            encoding: Some(self.encoding.to_string()),
            lines_read: self.read,
            lines_rejected: self.rejected,
            claims_read: 0,
            claims_rejected: 0,
        };
        Ok(CsvRead { frame, rows: self.rows, issues: self.issues, accounting })
    }
}

/// Field bytes as text; invalid UTF-8 (or U+FFFD left by the decoder) is reported by `true`.
fn decode(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            let lossy = !bytes.is_ascii() && s.contains('\u{FFFD}');
            (std::borrow::Cow::Borrowed(s), lossy)
        }
        Err(_) => (String::from_utf8_lossy(bytes), true),
    }
}
