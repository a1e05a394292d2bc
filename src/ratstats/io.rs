//! Reading sample values: a CSV column chosen by header name, or whitespace-separated numbers.
use super::error::{RatStatsError, Result};

/// Parses one amount. Accepts `1234.5`, `-12`, `$1,234.56`, `(15.00)` (accounting negative) and
/// `-$3.10`; thousands separators only make sense inside a quoted CSV field.
pub fn parse_amount(raw: &str) -> Option<f64> {
    let mut s = raw.trim();
    let mut negative = false;
    if s.starts_with('(') && s.ends_with(')') && s.len() >= 2 {
        negative = true;
        s = s[1..s.len() - 1].trim();
    }
    if let Some(rest) = s.strip_prefix('-') {
        negative = !negative;
        s = rest.trim_start();
    }
    let cleaned: String = s.chars().filter(|c| *c != '$' && *c != ',').collect();
    if cleaned.is_empty() {
        return None;
    }
    let v: f64 = cleaned.parse().ok()?;
    if !v.is_finite() {
        return None;
    }
    Some(if negative { -v } else { v })
}

/// Whitespace-separated numbers (any layout: one per line, several per line).
pub fn parse_numbers(text: &str) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for tok in line.split_whitespace() {
            out.push(parse_amount(tok).ok_or_else(|| RatStatsError::InvalidNumber { line: i + 1, value: tok.to_string() })?);
        }
    }
    if out.is_empty() {
        return Err(RatStatsError::EmptyInput);
    }
    Ok(out)
}

/// Splits CSV text into records (RFC 4180 quoting: `""` inside quotes is a quote; quoted fields
/// may hold commas and line breaks). Returns each record with its 1-based starting line.
pub fn parse_csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>> {
    let mut records = Vec::new();
    let mut field = String::new();
    let mut record: Vec<String> = Vec::new();
    let mut in_quotes = false;
    let mut line = 1usize;
    let mut start_line = 1usize;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push((start_line, std::mem::take(&mut record)));
                line += 1;
                start_line = line;
                any = false;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(RatStatsError::MalformedCsv { line: start_line, message: "unterminated quoted field".into() });
    }
    if any {
        record.push(field);
        records.push((start_line, record));
    }
    // Blank lines carry no record.
    records.retain(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()));
    Ok(records)
}

fn find_column(header: &[String], name: &str) -> Result<usize> {
    let want = name.trim().to_ascii_lowercase();
    header
        .iter()
        .position(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase() == want)
        .ok_or_else(|| RatStatsError::ColumnNotFound { column: name.to_string(), available: header.iter().map(|h| h.trim().to_string()).collect() })
}

/// The values of several named columns (case-insensitive header match), one `Vec` per name.
/// Every row must hold a number in every requested column.
pub fn parse_csv_columns(text: &str, names: &[&str]) -> Result<Vec<Vec<f64>>> {
    let records = parse_csv_records(text)?;
    let Some(((_, header), rows)) = records.split_first() else {
        return Err(RatStatsError::EmptyInput);
    };
    let idx = names.iter().map(|n| find_column(header, n)).collect::<Result<Vec<_>>>()?;
    let mut out = vec![Vec::with_capacity(rows.len()); names.len()];
    for (line, row) in rows {
        for (col, &i) in idx.iter().enumerate() {
            let raw = row.get(i).map(String::as_str).unwrap_or("");
            let v = parse_amount(raw).ok_or_else(|| RatStatsError::InvalidNumber { line: *line, value: raw.to_string() })?;
            out[col].push(v);
        }
    }
    if rows.is_empty() {
        return Err(RatStatsError::EmptyInput);
    }
    Ok(out)
}

/// The values of one named CSV column.
pub fn parse_csv_column(text: &str, name: &str) -> Result<Vec<f64>> {
    Ok(parse_csv_columns(text, &[name])?.remove(0))
}
