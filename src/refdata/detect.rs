//! Recognising a reference table from its content (and, where headers are ambiguous, its name).
//! Each table's registry entry has a detector; the first that claims a file decides. The
//! normalised layouts have their header on the first line; the official CMS downloads open with
//! a copyright preamble, so their header is searched for in the first lines, and the fixed-width
//! files are recognised by the shape of their records.

use super::read;
use super::TableKind;

/// How a recognised file's rows are read.
#[derive(Debug, Clone)]
pub(crate) enum Reader {
    /// Delimited text read by position into `ncols` string columns `c0..` through Polars,
    /// skipping `skip_rows` rows first (1 for the normalised layouts' header). Official files
    /// keep `skip_rows` at 0: their preamble and header rows are dropped by the row parsers
    /// because the first cell is not a code, which survives preambles of any length.
    Csv {
        sep: u8,
        quote: Option<u8>,
        ncols: usize,
        skip_rows: usize,
    },
    Parquet,
    /// Text the table's loader splits itself (fixed-width records, XML).
    Native,
}

/// How to read one recognised file.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub kind: TableKind,
    pub reader: Reader,
    /// Normalised (lower-case, single-spaced) header cells.
    pub header: Vec<String>,
    /// Names to select from the Polars frame, index-aligned with `header`.
    pub columns: Vec<String>,
    /// An official CMS layout (as opposed to claimlint's normalised one).
    pub official: bool,
    /// The layout in words, for the load summary ("official fixed-width", ...).
    pub layout: &'static str,
    /// Fixed-width layouts found from a header row: the byte offset where each column starts.
    pub starts: Vec<usize>,
}

impl Plan {
    pub fn col(&self, pred: impl Fn(&str) -> bool) -> Option<usize> {
        self.header.iter().position(|h| pred(h))
    }

    pub fn named(&self, name: &str) -> Option<usize> {
        self.col(|h| h == name)
    }

    pub fn native(kind: TableKind, layout: &'static str) -> Plan {
        Plan { kind, reader: Reader::Native, header: Vec::new(), columns: Vec::new(), official: true, layout, starts: Vec::new() }
    }
}

/// What a detector says about a file.
pub(crate) enum Detected {
    /// Not this table.
    No,
    Table(Plan),
    /// This table's file, but one the pack does not use (with the reason).
    Skip(String),
}

/// What detectors look at: the name and the first lines (or a Parquet file's columns).
pub(crate) struct Probe {
    /// Lower-case file name without `.gz`/`.zst`.
    pub base: String,
    pub ext: String,
    pub lines: Vec<String>,
    /// Column names of a Parquet file.
    pub parquet: Option<Vec<String>>,
    /// The first non-blank line split into normalised cells, with its separator.
    first: Option<(u8, Vec<String>)>,
    leading_blank: usize,
    split: Vec<(u8, Vec<String>)>,
}

impl Probe {
    pub fn new(base: &str, lines: Vec<String>, parquet: Option<Vec<String>>) -> Probe {
        let ext = base.rsplit('.').next().unwrap_or("").to_string();
        let split: Vec<(u8, Vec<String>)> = lines
            .iter()
            .map(|l| {
                let (sep, cells) = read::split_line(l);
                (sep, cells.iter().map(|c| read::norm_header(c)).collect())
            })
            .collect();
        let leading_blank = lines.iter().take_while(|l| l.trim().is_empty()).count();
        let first = split.get(leading_blank).cloned();
        Probe { base: base.to_string(), ext, lines, parquet, first, leading_blank, split }
    }

    pub fn is_text(&self) -> bool {
        matches!(self.ext.as_str(), "csv" | "txt" | "tsv")
    }

    /// The normalised layout: `accept(name, header)` on the first line's cells (or the Parquet
    /// columns) decides.
    pub fn normalised(&self, kind: TableKind, accept: impl Fn(&str, &[String]) -> bool) -> Detected {
        if let Some(raw) = &self.parquet {
            let header: Vec<String> = raw.iter().map(|h| read::norm_header(h)).collect();
            if !accept(&self.base, &header) {
                return Detected::No;
            }
            return Detected::Table(Plan {
                kind,
                reader: Reader::Parquet,
                header,
                columns: raw.clone(),
                official: false,
                layout: "normalised Parquet",
                starts: Vec::new(),
            });
        }
        let Some((sep, header)) = self.first.as_ref().filter(|_| self.is_text()) else {
            return Detected::No;
        };
        if !accept(&self.base, header) {
            return Detected::No;
        }
        let ncols = header.len();
        Detected::Table(Plan {
            kind,
            reader: Reader::Csv { sep: *sep, quote: Some(b'"'), ncols, skip_rows: self.leading_blank + 1 },
            header: header.clone(),
            columns: (0..ncols).map(|i| format!("c{i}")).collect(),
            official: false,
            layout: "normalised",
            starts: Vec::new(),
        })
    }

    /// An official delimited layout whose header row sits somewhere in the first lines:
    /// `classify(name, header)` gives the number of columns the layout defines, or a reason to
    /// pass the file over.
    pub fn official(&self, kind: TableKind, layout: &'static str, classify: impl Fn(&str, &[String]) -> Option<Result<usize, String>>) -> Detected {
        if !self.is_text() {
            return Detected::No;
        }
        for (sep, header) in &self.split {
            match classify(&self.base, header) {
                None => continue,
                Some(Err(why)) => return Detected::Skip(why),
                Some(Ok(min_cols)) => {
                    let ncols = header.len().max(min_cols);
                    // Tab files are unquoted; a stray quote in a rationale must not swallow lines.
                    let quote = if *sep == b'\t' { None } else { Some(b'"') };
                    return Detected::Table(Plan {
                        kind,
                        reader: Reader::Csv { sep: *sep, quote, ncols, skip_rows: 0 },
                        header: header.clone(),
                        columns: (0..ncols).map(|i| format!("c{i}")).collect(),
                        official: true,
                        layout,
                        starts: Vec::new(),
                    });
                }
            }
        }
        Detected::No
    }

    /// Lines that are not blank.
    pub fn content_lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|l| l.as_str()).filter(|l| !l.trim().is_empty())
    }
}

pub(crate) fn has(h: &[String], name: &str) -> bool {
    h.iter().any(|c| c == name)
}

pub(crate) fn has_any(h: &[String], names: &[&str]) -> bool {
    names.iter().any(|n| has(h, n))
}

pub(crate) fn add_on_code_cell(c: &str) -> bool {
    let c = c.replace(['-', '_'], " ");
    (c.starts_with("add on code") || c.starts_with("addon code")) && !c.contains("date")
}

/// A fixed-width header row: column names are separated by two or more spaces, and each column
/// starts where its name does. Returns the normalised names and their byte offsets.
pub(crate) fn fixed_width_header(line: &str) -> (Vec<String>, Vec<usize>) {
    let b = line.as_bytes();
    let (mut names, mut starts) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        // A name runs until two spaces in a row.
        while i < b.len() && !(b[i] == b' ' && b.get(i + 1).is_none_or(|&c| c == b' ')) {
            i += 1;
        }
        names.push(read::norm_header(&line[start..i]));
        starts.push(start);
    }
    (names, starts)
}

/// The cells of a fixed-width record, cut at `starts` and trimmed.
pub(crate) fn fixed_width_cells<'a>(line: &'a str, starts: &[usize]) -> Vec<&'a str> {
    (0..starts.len())
        .map(|k| {
            let from = starts[k].min(line.len());
            let to = starts.get(k + 1).copied().unwrap_or(line.len()).min(line.len());
            line.get(from..to).unwrap_or("").trim()
        })
        .collect()
}

/// Why a file no table claimed was passed over.
pub(crate) fn unrecognised(probe: &Probe) -> String {
    if probe.parquet.is_none() && !probe.is_text() {
        return match probe.ext.as_str() {
            "pdf" | "doc" | "docx" | "md" | "htm" | "html" => "documentation, not a table".into(),
            "xls" | "xlsx" => "spreadsheet: the same table is read from the release's text or CSV file".into(),
            _ => "not a table file (csv, txt, tsv, xml, parquet or zip, optionally .gz)".into(),
        };
    }
    if probe.content_lines().next().is_none() {
        return "empty file".into();
    }
    if probe.base.contains("readme") || probe.base.contains("license") {
        return "documentation, not a table".into();
    }
    "no recognised reference-table header or record layout".into()
}
