//! Rewriting a CSV or TSV file cell by cell: every byte outside the changed cells is copied as
//! it was (quoting, line endings, encoding, columns the audit ignores), so a diff of the corrected
//! file shows only the fixes.

use std::collections::HashMap;

use anyhow::{bail, Result};

/// One field of the input: its raw bytes (quotes included) and its value.
struct Field {
    start: usize,
    end: usize,
    value: Vec<u8>,
}

/// Splits `data` into records of fields with their byte spans, with csv-core doing the quoting
/// rules. Blank lines are not records (as the loader reads them).
fn records(data: &[u8], delimiter: u8) -> Result<Vec<Vec<Field>>> {
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut out = Vec::new();
    let mut record: Vec<Field> = Vec::new();
    let mut pos = 0;
    let mut buf = vec![0u8; 4096];
    let mut value = Vec::new();
    let mut field_start = 0;
    loop {
        let (res, nin, nout) = reader.read_field(&data[pos..], &mut buf);
        value.extend_from_slice(&buf[..nout]);
        pos += nin;
        match res {
            csv_core::ReadFieldResult::OutputFull => continue,
            csv_core::ReadFieldResult::InputEmpty if pos < data.len() => continue,
            csv_core::ReadFieldResult::InputEmpty => {
                // The last record has no terminator: an empty read ends it.
                let (res, _, nout) = reader.read_field(&[], &mut buf);
                value.extend_from_slice(&buf[..nout]);
                if let csv_core::ReadFieldResult::Field { .. } = res {
                    record.push(span(data, field_start, pos, std::mem::take(&mut value), Ended::File, record.is_empty()));
                    out.push(std::mem::take(&mut record));
                }
                break;
            }
            csv_core::ReadFieldResult::Field { record_end } => {
                let ended = if record_end { Ended::Line } else { Ended::Delimiter };
                record.push(span(data, field_start, pos, std::mem::take(&mut value), ended, record.is_empty()));
                field_start = pos;
                if record_end {
                    let blank = record.len() == 1 && record[0].value.is_empty() && record[0].start == record[0].end;
                    let rec = std::mem::take(&mut record);
                    if !blank {
                        out.push(rec);
                    }
                }
            }
            csv_core::ReadFieldResult::End => break,
        }
    }
    if out.is_empty() {
        bail!("the file has no header");
    }
    Ok(out)
}

/// What ended a field.
#[derive(Clone, Copy)]
enum Ended {
    Delimiter,
    Line,
    File,
}

/// The raw span of a field read from `start..end`: without the delimiter or line ending that
/// ended it, nor the line ending of the record before (csv-core may read it with the next field).
fn span(data: &[u8], mut start: usize, mut end: usize, value: Vec<u8>, ended: Ended, first: bool) -> Field {
    if first {
        while start < end && (data[start] == b'\r' || data[start] == b'\n') {
            start += 1;
        }
    }
    match ended {
        Ended::Delimiter => end = end.saturating_sub(1).max(start),
        Ended::Line => {
            while end > start && (data[end - 1] == b'\n' || data[end - 1] == b'\r') {
                end -= 1;
            }
        }
        Ended::File => {}
    }
    Field { start, end, value }
}

/// A cell to change: the physical line where its record starts (the header is line 1), as the
/// loader locates rows and findings name them; 0-based column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    pub row: u32,
    pub column: usize,
}

/// Record index by the physical line each record starts on (line ends counted as `\n`).
fn by_line(data: &[u8], recs: &[Vec<Field>]) -> HashMap<u32, usize> {
    let mut out = HashMap::with_capacity(recs.len());
    let (mut line, mut at) = (1u32, 0usize);
    for (i, r) in recs.iter().enumerate() {
        let start = r.first().map_or(at, |f| f.start);
        line += data[at..start.max(at)].iter().filter(|&&b| b == b'\n').count() as u32;
        at = start.max(at);
        out.insert(line, i);
    }
    out
}

/// The header names of a CSV file.
pub fn header(data: &[u8], delimiter: u8) -> Result<Vec<String>> {
    let recs = records(data, delimiter)?;
    Ok(recs[0].iter().map(|f| String::from_utf8_lossy(&f.value).trim().to_string()).collect())
}

/// Each cell's current value, for the change log and for checking the audit saw the same file.
pub fn values(data: &[u8], delimiter: u8, cells: &[Cell]) -> Result<HashMap<Cell, String>> {
    let recs = records(data, delimiter)?;
    let lines = by_line(data, &recs);
    let mut out = HashMap::new();
    for c in cells {
        let v = lines.get(&c.row).and_then(|&i| recs.get(i)).and_then(|r| r.get(c.column)).map(|f| String::from_utf8_lossy(&f.value).to_string());
        if let Some(v) = v {
            out.insert(c.clone(), v);
        }
    }
    Ok(out)
}

/// The file with `changes` written into their cells, quoted when the value needs it.
pub fn rewrite(data: &[u8], delimiter: u8, changes: &HashMap<Cell, String>) -> Result<Vec<u8>> {
    let recs = records(data, delimiter)?;
    let lines = by_line(data, &recs);
    let mut edits: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    for (cell, new) in changes {
        let Some(field) = lines.get(&cell.row).and_then(|&i| recs.get(i)).and_then(|r| r.get(cell.column)) else {
            bail!("row {} has no column {}", cell.row, cell.column + 1);
        };
        edits.push((field.start, field.end, quote(new, delimiter)));
    }
    edits.sort_by_key(|e| e.0);
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut at = 0;
    for (start, end, bytes) in edits {
        out.extend_from_slice(&data[at..start]);
        out.extend_from_slice(&bytes);
        at = end;
    }
    out.extend_from_slice(&data[at..]);
    Ok(out)
}

fn quote(value: &str, delimiter: u8) -> Vec<u8> {
    if value.bytes().any(|b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r') {
        format!("\"{}\"", value.replace('"', "\"\"")).into_bytes()
    } else {
        value.as_bytes().to_vec()
    }
}
