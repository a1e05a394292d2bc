//! Format readers. Each yields frames with the input's own header names, which
//! [`canonical_frame`] maps onto the schema before they go into the sink.

use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::*;

use super::{ChunkSink, Format, LoadOptions};
use crate::schema::{AliasMap, COLUMNS};
use crate::vocab::{input_error, DataIssue, FileAccounting};

/// Most rows per Parquet read: a decoded slice stays a fraction of the batch it feeds.
const PARQUET_SLICE_MAX: usize = 1 << 20;

/// Reads one file into the sink and accounts for its lines.
pub fn read_file(
    path: &Path,
    name: &str,
    aliases: &AliasMap,
    options: &LoadOptions,
    source: u32,
    sink: &mut dyn ChunkSink,
    issues: &mut Vec<DataIssue>,
) -> Result<FileAccounting> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {name}"))?;
    if meta.len() == 0 {
        anyhow::bail!(input_error(format!("{name}: the file is empty (0 bytes); expected claim lines")));
    }
    let format = super::detect_format(path)?;
    let mut accounting = FileAccounting { source: name.to_string(), format: format.name().to_string(), ..Default::default() };
    if format == Format::Parquet {
        accounting.lines_read = read_parquet(path, name, aliases, source, sink)? as u64;
        return Ok(accounting);
    }
    let (df, rows, accounting) = match format {
        Format::Csv | Format::Tsv => {
            let separator = if format == Format::Tsv { b'\t' } else { b',' };
            let read = super::csv::read_csv(path, name, separator, options.encoding.as_deref())?;
            issues.extend(read.issues);
            (read.frame, Some(read.rows), read.accounting)
        }
        Format::NdJson => {
            let frame = JsonReader::new(std::fs::File::open(path)?)
                .with_json_format(JsonFormat::JsonLines)
                .infer_schema_len(None)
                .finish()
                .map_err(|e| input_error(format!("{name}: not readable as newline-delimited JSON: {e}")))?;
            accounting.encoding = Some("UTF-8".into());
            accounting.lines_read = frame.height() as u64;
            (frame, None, accounting)
        }
        Format::X12 => {
            let read = super::x12_frame::read_x12(path, name, issues)?;
            (read.frame, Some(read.rows), read.accounting)
        }
        Format::Parquet => unreachable!(),
    };
    if df.height() == 0 {
        anyhow::bail!(input_error(format!("{name}: the file has a header but no claim lines")));
    }
    let mut frame = canonical_frame(df, name, aliases)?;
    if let Some(rows) = rows {
        // The reader's own positions: rejected rows leave gaps.
        frame.with_column(Column::new("_row".into(), rows))?;
    }
    sink.append(&frame, source)?;
    Ok(accounting)
}

/// Parquet a slice at a time, reading only the columns that map onto the schema.
fn read_parquet(path: &Path, name: &str, aliases: &AliasMap, source: u32, sink: &mut dyn ChunkSink) -> Result<usize> {
    let unreadable = |e: PolarsError| input_error(format!("{name}: not a readable Parquet file: {e}"));
    let open = || std::fs::File::open(path).with_context(|| format!("cannot read {name}"));
    let mut reader = ParquetReader::new(open()?);
    let schema = reader.schema().map_err(unreadable)?;
    let rows = reader.num_rows().map_err(unreadable)?;
    let wanted: Vec<String> = schema.iter_names().filter(|n| aliases.canonical(n.as_str()).is_some()).map(|n| n.to_string()).collect();
    if rows == 0 {
        anyhow::bail!(input_error(format!("{name}: the file has a header but no claim lines")));
    }
    // The required-column check needs only the header.
    let header = DataFrame::new(0, schema.iter_names().map(|n| Column::full_null(n.clone(), 0, &DataType::Null)).collect())?;
    canonical_frame(header, name, aliases)?;
    // Slices on row-group boundaries, so no row group is decoded twice; very large row groups
    // are split.
    let groups: Vec<usize> = reader.get_metadata().map_err(unreadable)?.row_groups.iter().map(|g| g.num_rows()).collect();
    let mut offset = 0;
    for group in groups {
        let mut left = group;
        while left > 0 {
            let len = left.min(PARQUET_SLICE_MAX);
            let slice =
                ParquetReader::new(open()?).with_columns(Some(wanted.clone())).with_slice(Some((offset, len))).finish().map_err(unreadable)?;
            sink.append(&canonical_frame(slice, name, aliases)?, source)?;
            offset += len;
            left -= len;
        }
    }
    Ok(rows)
}

/// Renames input headers to canonical names and checks the required columns. Columns that map
/// nowhere are dropped; absent optional columns stay absent (the batch builder leaves them
/// blank). A `_row` column (a reader's own row numbers) is kept.
pub fn canonical_frame(raw: DataFrame, name: &str, aliases: &AliasMap) -> Result<DataFrame> {
    let mut by_canonical: Vec<Option<Column>> = vec![None; COLUMNS.len()];
    let mut row_numbers = None;
    for column in raw.columns() {
        let header = column.name().as_str();
        if header == "_row" {
            row_numbers = Some(column.clone());
            continue;
        }
        let Some(canonical) = aliases.canonical(header) else {
            tracing::debug!(file = name, column = header, "ignoring non-canonical column");
            continue;
        };
        let idx = COLUMNS.iter().position(|c| c.name == canonical).expect("canonical name");
        if by_canonical[idx].is_some() {
            anyhow::bail!(input_error(format!("{name}: two columns map to `{canonical}` (the second is `{header}`); rename or drop one")));
        }
        by_canonical[idx] = Some(column.clone());
    }
    let missing: Vec<&str> = COLUMNS.iter().zip(&by_canonical).filter(|(c, found)| c.required && found.is_none()).map(|(c, _)| c.name).collect();
    if !missing.is_empty() {
        let cols = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
        anyhow::bail!(input_error(format!(
            "{name}: missing required column{} {cols} (map your own header names with --aliases FILE.yaml)",
            if missing.len() > 1 { "s" } else { "" }
        )));
    }
    let height = raw.height();
    let mut out: Vec<Column> = COLUMNS.iter().zip(by_canonical).filter_map(|(spec, found)| found.map(|c| c.with_name(spec.name.into()))).collect();
    out.extend(row_numbers);
    Ok(DataFrame::new(height, out)?)
}
