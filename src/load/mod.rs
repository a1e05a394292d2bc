//! Phase 1: read claim files into one canonical Polars frame.
//!
//! Every format is first read as text columns, renamed through the alias map, then typed in one
//! place ([`normalise`]), so CSV, Parquet, NDJSON and X12 inputs give identical frames, and every
//! value that cannot be read is reported with its file and row instead of being dropped.

pub mod accounting;
pub mod csv;
pub mod dq;
mod normalise;
mod readers;
mod x12_frame;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::schema::{AliasMap, COLUMNS};
use crate::vocab::{input_error, DataIssue, FileAccounting};

pub use normalise::normalise;

/// Formats claimlint reads, decided by extension and, for X12, by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    Parquet,
    NdJson,
    X12,
}

/// Claims as loaded: the canonical typed frame plus what could not be read.
pub struct LoadedClaims {
    pub frame: DataFrame,
    /// Source file names, indexed by the frame's `_source` column.
    pub sources: Vec<String>,
    pub issues: Vec<DataIssue>,
    /// One entry per file: lines and claims read and rejected, and the encoding used.
    pub accounting: Vec<FileAccounting>,
}

/// How to read the inputs.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Text encoding of CSV/TSV files (a label such as "windows-1252"); `None` detects it.
    pub encoding: Option<String>,
}

const EXTENSIONS: &[(&str, Format)] = &[
    ("csv", Format::Csv),
    ("tsv", Format::Tsv),
    ("parquet", Format::Parquet),
    ("ndjson", Format::NdJson),
    ("jsonl", Format::NdJson),
    ("json", Format::NdJson),
    ("837", Format::X12),
    ("x12", Format::X12),
    ("edi", Format::X12),
];

/// Picks the reader for a file: by extension, else by content (an X12 interchange starts with ISA).
pub fn detect_format(path: &Path) -> Result<Format> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if let Some((_, f)) = EXTENSIONS.iter().find(|(e, _)| *e == ext) {
        if *f != Format::Csv || !sniff_x12(path) {
            return Ok(*f);
        }
    }
    if sniff_x12(path) {
        return Ok(Format::X12);
    }
    bail!(input_error(format!(
        "{}: unknown input format (expected .csv, .tsv, .parquet, .ndjson/.jsonl, or an X12 837 file starting with ISA)",
        path.display()
    )))
}

fn sniff_x12(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 128];
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    let n = f.read(&mut head).unwrap_or(0);
    crate::x12::looks_like_x12(&head[..n])
}

/// Expands folders (recursively) into the claim files they hold, in a stable order.
pub fn discover_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            found.sort();
            if found.is_empty() {
                bail!(input_error(format!("{}: folder holds no claim files (.csv, .parquet, .ndjson, .837)", p.display())));
            }
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!(input_error(format!("{}: no such file or folder", p.display())));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if detect_format(&path).is_ok() {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads every input into one canonical frame.
pub fn load_claims(paths: &[PathBuf], aliases: &AliasMap) -> Result<LoadedClaims> {
    load_claims_with(paths, aliases, &LoadOptions::default())
}

/// [`load_claims`] with options. `_row` is where the line sits in its file: the physical line for
/// CSV/TSV (the header is line 1), the segment number of the line's LX for X12 (ISA = 1), and
/// the row number for Parquet and NDJSON.
pub fn load_claims_with(paths: &[PathBuf], aliases: &AliasMap, options: &LoadOptions) -> Result<LoadedClaims> {
    let files = discover_inputs(paths)?;
    let mut frames = Vec::with_capacity(files.len());
    let mut sources = Vec::with_capacity(files.len());
    let mut issues = Vec::new();
    let mut accounting = Vec::with_capacity(files.len());
    for (idx, path) in files.iter().enumerate() {
        let name = path.display().to_string();
        let file = readers::read_raw(path, &name, aliases, options, &mut issues)?;
        let mut raw = readers::canonical_text_frame(file.frame, &name, aliases)?;
        let rows = raw.height() as u32;
        let mut counted = file.accounting;
        if counted.format != "x12" {
            counted.claims_read = raw.column("claim_id")?.drop_nulls().n_unique()? as u64;
        }
        accounting.push(counted);
        raw.with_column(Column::new("_source".into(), vec![idx as u32; rows as usize]))?;
        let row_numbers = file.rows.unwrap_or_else(|| (1..=rows).collect());
        raw.with_column(Column::new("_row".into(), row_numbers))?;
        frames.push(raw);
        sources.push(name);
    }
    let mut frames = frames.into_iter();
    let mut all = frames.next().expect("discover_inputs returns at least one file");
    for f in frames {
        all.vstack_mut(&f)?;
    }
    if all.height() == 0 {
        bail!(input_error(format!("{}: no claim lines to audit (the input is empty)", sources.join(", "))));
    }
    let frame = normalise(all, &sources, &mut issues)?;
    Ok(LoadedClaims { frame, sources, issues, accounting })
}

/// Canonical column names in schema order, then the bookkeeping columns.
pub fn canonical_names() -> impl Iterator<Item = &'static str> {
    COLUMNS.iter().map(|c| c.name)
}
