//! Phase 1: read claim files into one batch of typed columns ([`crate::batch`]).
//!
//! Each reader yields frames with the input's own header names; [`readers::canonical_frame`]
//! renames them through the alias map and checks the required columns; the batch builder then
//! types every value in one place, so CSV, Parquet, NDJSON and X12 inputs give identical
//! batches, and every value that cannot be read is reported with its file and row instead of
//! being dropped. Typed Parquet columns stay typed and Parquet is read a slice at a time, so the
//! input never sits in memory next to the batch.

pub mod accounting;
pub mod csv;
pub mod dq;
mod readers;
mod x12_frame;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use polars::prelude::DataFrame;

use crate::batch::build::{require_lines, BatchBuilder};
use crate::batch::Batch;
use crate::schema::AliasMap;
use crate::vocab::{input_error, DataIssue, FileAccounting};

pub use readers::canonical_frame;

/// Formats claimlint reads, decided by extension and, for X12, by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    Parquet,
    NdJson,
    X12,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Parquet => "parquet",
            Format::NdJson => "ndjson",
            Format::X12 => "x12",
        }
    }
}

/// Claims as loaded: the typed batch plus what could not be read.
pub struct LoadedClaims {
    pub batch: Batch,
    /// Source file names, indexed by `batch.source`.
    pub sources: Vec<String>,
    pub issues: Vec<DataIssue>,
    /// Lines and claims read and rejected, per file.
    pub accounting: Vec<FileAccounting>,
}

/// How to read the inputs.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Text encoding of CSV/TSV files (a label such as "windows-1252"); `None` detects it.
    pub encoding: Option<String>,
}

/// Where the readers put canonical frames: one in-memory batch, or partitions spilled to disk.
pub trait ChunkSink {
    /// Registers an input file and returns its index.
    fn add_source(&mut self, name: &str) -> u32;
    /// Rows of one file, with canonical column names (absent columns are blank).
    fn append(&mut self, frame: &DataFrame, source: u32) -> Result<()>;
}

impl ChunkSink for BatchBuilder {
    fn add_source(&mut self, name: &str) -> u32 {
        BatchBuilder::add_source(self, name)
    }
    fn append(&mut self, frame: &DataFrame, source: u32) -> Result<()> {
        self.append_canonical(frame, source)
    }
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

/// Claim lines a file probably holds, for planning partitions: exact for Parquet, from the size
/// for text formats.
pub fn estimate_lines(path: &Path) -> u64 {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    match detect_format(path) {
        Ok(Format::Parquet) => std::fs::File::open(path)
            .ok()
            .and_then(|f| {
                use polars::prelude::SerReader;
                polars::prelude::ParquetReader::new(f).num_rows().ok()
            })
            .map_or(size / 20, |n| n as u64),
        Ok(Format::X12) => size / 250,
        _ => size / 120,
    }
}

/// Reads every input file into `sink`, in order. Returns the readers' data-quality issues and
/// the per-file accounting (claims read are filled in from the batch, see
/// [`count_claims`], except for X12 which counts its CLM segments).
///
/// A line's `_row` is where it sits in its file: the physical line for CSV/TSV (the header is
/// line 1), the segment number of the line's LX for X12 (ISA = 1), and the row number for
/// Parquet and NDJSON.
pub fn read_inputs(
    paths: &[PathBuf],
    aliases: &AliasMap,
    options: &LoadOptions,
    sink: &mut dyn ChunkSink,
) -> Result<(Vec<DataIssue>, Vec<FileAccounting>)> {
    let files = discover_inputs(paths)?;
    let mut issues = Vec::new();
    let mut accounting = Vec::with_capacity(files.len());
    for path in &files {
        let name = path.display().to_string();
        let source = sink.add_source(&name);
        accounting.push(readers::read_file(path, &name, aliases, options, source, sink, &mut issues)?);
    }
    Ok((issues, accounting))
}

/// Distinct claims per source file among a batch's lines (claims are whole within a batch, so
/// partitions' counts add up).
pub fn claims_per_source(batch: &Batch) -> Vec<u64> {
    let mut out = vec![0u64; batch.sources.len()];
    if out.len() == 1 {
        out[0] = batch.claims.len() as u64;
        return out;
    }
    for rows in batch.claims.iter() {
        let mut seen: Vec<u32> = rows.iter().map(|&r| batch.source[r as usize]).collect();
        seen.sort_unstable();
        seen.dedup();
        for s in seen {
            out[s as usize] += 1;
        }
    }
    out
}

/// Fills the claims read of every non-X12 file from per-source claim counts.
pub fn count_claims(accounting: &mut [FileAccounting], claims: &[u64]) {
    for (a, &n) in accounting.iter_mut().zip(claims) {
        if a.format != "x12" {
            a.claims_read = n;
        }
    }
}

/// Reads every input into one batch.
pub fn load_claims(paths: &[PathBuf], aliases: &AliasMap) -> Result<LoadedClaims> {
    load_claims_with(paths, aliases, &LoadOptions::default())
}

/// [`load_claims`] with options.
pub fn load_claims_with(paths: &[PathBuf], aliases: &AliasMap, options: &LoadOptions) -> Result<LoadedClaims> {
    let started = std::time::Instant::now();
    let mut builder = BatchBuilder::new();
    let (mut issues, mut accounting) = read_inputs(paths, aliases, options, &mut builder)?;
    require_lines(&builder)?;
    let read = started.elapsed();
    let (batch, unreadable) = builder.finish()?;
    tracing::info!(lines = batch.len, read_s = read.as_secs_f64(), finish_s = (started.elapsed() - read).as_secs_f64(), "claims loaded");
    issues.extend(unreadable);
    count_claims(&mut accounting, &claims_per_source(&batch));
    let sources = batch.sources.clone();
    Ok(LoadedClaims { batch, sources, issues, accounting })
}
