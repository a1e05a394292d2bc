//! Format readers. Each returns a frame of text columns with the input's own header names.

use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::*;

use super::{Format, LoadOptions};
use crate::vocab::{input_error, DataIssue, FileAccounting};
use crate::schema::{AliasMap, COLUMNS};

/// One input file as text columns under its own header names.
pub struct RawFile {
    pub frame: DataFrame,
    /// Where each row sits in the file (see [`DataIssue::row`]); `None`: rows are numbered 1, 2, ...
    pub rows: Option<Vec<u32>>,
    pub accounting: FileAccounting,
}

pub fn read_raw(
    path: &Path,
    name: &str,
    _aliases: &AliasMap,
    options: &LoadOptions,
    issues: &mut Vec<DataIssue>,
) -> Result<RawFile> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {name}"))?;
    if meta.len() == 0 {
        anyhow::bail!(input_error(format!("{name}: the file is empty (0 bytes); expected claim lines")));
    }
    let format = super::detect_format(path)?;
    let whole = |frame: DataFrame, format: &str, encoding: Option<&str>| {
        let accounting = FileAccounting {
            source: name.to_string(),
            format: format.to_string(),
            encoding: encoding.map(str::to_string),
            lines_read: frame.height() as u64,
            ..FileAccounting::default()
        };
        RawFile { frame, rows: None, accounting }
    };
    let raw = match format {
        Format::Csv | Format::Tsv => {
            let separator = if format == Format::Tsv { b'\t' } else { b',' };
            let read = super::csv::read_csv(path, name, separator, options.encoding.as_deref())?;
            issues.extend(read.issues);
            RawFile { frame: read.frame, rows: Some(read.rows), accounting: read.accounting }
        }
        Format::Parquet => whole(
            ParquetReader::new(std::fs::File::open(path)?)
                .finish()
                .map_err(|e| input_error(format!("{name}: not a readable Parquet file: {e}")))?,
            "parquet",
            None,
        ),
        Format::NdJson => whole(
            JsonReader::new(std::fs::File::open(path)?)
                .with_json_format(JsonFormat::JsonLines)
                .infer_schema_len(None)
                .finish()
                .map_err(|e| input_error(format!("{name}: not readable as newline-delimited JSON: {e}")))?,
            "ndjson",
            Some("UTF-8"),
        ),
        Format::X12 => {
            let read = super::x12_frame::read_x12(path, name, issues)?;
            RawFile { frame: read.frame, rows: Some(read.rows), accounting: read.accounting }
        }
    };
    if raw.frame.height() == 0 {
        anyhow::bail!(input_error(format!("{name}: the file has a header but no claim lines")));
    }
    Ok(raw)
}

/// Renames input headers to canonical names, checks required columns, casts everything to text
/// and adds absent optional columns as nulls, in schema order.
pub fn canonical_text_frame(raw: DataFrame, name: &str, aliases: &AliasMap) -> Result<DataFrame> {
    let mut by_canonical: Vec<Option<Column>> = vec![None; COLUMNS.len()];
    for column in raw.columns() {
        let header = column.name().as_str();
        let Some(canonical) = aliases.canonical(header) else {
            tracing::debug!(file = name, column = header, "ignoring non-canonical column");
            continue;
        };
        let idx = COLUMNS.iter().position(|c| c.name == canonical).expect("canonical name");
        if by_canonical[idx].is_some() {
            anyhow::bail!(input_error(format!(
                "{name}: two columns map to `{canonical}` (the second is `{header}`); rename or drop one"
            )));
        }
        by_canonical[idx] = Some(column.clone());
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .zip(&by_canonical)
        .filter(|(c, found)| c.required && found.is_none())
        .map(|(c, _)| c.name)
        .collect();
    if !missing.is_empty() {
        let cols = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
        anyhow::bail!(input_error(format!(
            "{name}: missing required column{} {cols} (map your own header names with --aliases FILE.yaml)",
            if missing.len() > 1 { "s" } else { "" }
        )));
    }
    let height = raw.height();
    let mut out = Vec::with_capacity(COLUMNS.len());
    for (spec, found) in COLUMNS.iter().zip(by_canonical) {
        let col = match found {
            Some(c) => to_text(c)?.with_name(spec.name.into()),
            None => Column::full_null(spec.name.into(), height, &DataType::String),
        };
        out.push(col);
    }
    Ok(DataFrame::new(height, out)?)
}

fn to_text(c: Column) -> Result<Column> {
    Ok(match c.dtype() {
        DataType::String => c,
        // Whole floats such as 2.0 units print as "2.0", which parses back identically.
        _ => c.cast(&DataType::String)?,
    })
}
