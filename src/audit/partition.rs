//! Out-of-core audits: claim lines streamed from the inputs are split into partitions by a hash
//! of the patient id and spilled to disk, so a patient's claims, patient-days and frequency
//! look-backs are whole within one partition; each partition is then loaded and audited in turn.
//! See docs/partitioning.md.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::*;

use crate::batch::build::BatchBuilder;
use crate::load::ChunkSink;

/// Stable across runs and machines (FNV-1a over the trimmed patient id), so a partition's
/// contents never depend on the run.
pub fn partition_of(patient_id: Option<&str>, partitions: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in patient_id.unwrap_or("").trim().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % partitions as u64) as usize
}

/// A `ChunkSink` that spills each partition's rows to Parquet files, one per (partition, input
/// file), keeping each input file's own column types.
pub struct Partitioner {
    dir: tempfile::TempDir,
    partitions: usize,
    sources: Vec<String>,
    /// Rows already seen per source, for the row numbers of the next chunk.
    seen: Vec<u32>,
    writers: Vec<Option<(PathBuf, polars::io::parquet::write::BatchedWriter<File>)>>,
    current: Option<u32>,
    /// Per partition: (source, spill file) in input order.
    files: Vec<Vec<(u32, PathBuf)>>,
    pub lines: Vec<u64>,
}

impl Partitioner {
    pub fn new(partitions: usize, spill_dir: Option<&Path>) -> Result<Partitioner> {
        let dir = match spill_dir {
            Some(d) => {
                std::fs::create_dir_all(d).with_context(|| format!("cannot create the spill folder {}", d.display()))?;
                tempfile::Builder::new().prefix("claimlint-spill-").tempdir_in(d)?
            }
            None => tempfile::Builder::new().prefix("claimlint-spill-").tempdir()?,
        };
        Ok(Partitioner {
            dir,
            partitions,
            sources: Vec::new(),
            seen: Vec::new(),
            writers: (0..partitions).map(|_| None).collect(),
            current: None,
            files: vec![Vec::new(); partitions],
            lines: vec![0; partitions],
        })
    }

    pub fn partitions(&self) -> usize {
        self.partitions
    }

    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    fn close_writers(&mut self) -> Result<()> {
        for w in self.writers.iter_mut() {
            if let Some((_, writer)) = w.take() {
                writer.finish()?;
            }
        }
        Ok(())
    }

    /// Closes the spill files; after this, partitions can be read.
    pub fn finish(&mut self) -> Result<()> {
        self.close_writers()
    }

    /// Loads partition `p` into a builder that knows every input file.
    pub fn load(&self, p: usize) -> Result<BatchBuilder> {
        let mut builder = BatchBuilder::new();
        for s in &self.sources {
            builder.add_source(s);
        }
        for (source, path) in &self.files[p] {
            let frame = ParquetReader::new(File::open(path)?).finish().map_err(|e| anyhow::anyhow!("reading spill file {}: {e}", path.display()))?;
            builder.append_canonical(&frame, *source)?;
        }
        Ok(builder)
    }
}

impl ChunkSink for Partitioner {
    fn add_source(&mut self, name: &str) -> u32 {
        self.sources.push(name.to_string());
        self.seen.push(0);
        (self.sources.len() - 1) as u32
    }

    fn append(&mut self, frame: &DataFrame, source: u32) -> Result<()> {
        if self.current != Some(source) {
            // Inputs are read one at a time: a new file starts new spill files.
            self.close_writers()?;
            self.current = Some(source);
        }
        let n = frame.height();
        let mut frame = frame.clone();
        if frame.column("_row").is_err() {
            let first = self.seen[source as usize] + 1;
            frame.with_column(Column::new("_row".into(), (first..first + n as u32).collect::<Vec<u32>>()))?;
        }
        self.seen[source as usize] += n as u32;
        let patients = match frame.column("patient_id") {
            Ok(c) => c.cast(&DataType::String)?,
            Err(_) => Column::full_null("patient_id".into(), n, &DataType::String),
        };
        let patients = patients.str()?;
        let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); self.partitions];
        for (i, p) in patients.iter().enumerate() {
            rows[partition_of(p, self.partitions)].push(i as IdxSize);
        }
        for (p, idx) in rows.into_iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            self.lines[p] += idx.len() as u64;
            let mut part = frame.take(&IdxCa::from_vec("idx".into(), idx))?;
            if self.writers[p].is_none() {
                let path = self.dir.path().join(format!("p{p:04}-s{source:05}.parquet"));
                let writer = ParquetWriter::new(File::create(&path)?).with_compression(ParquetCompression::Lz4Raw).batched(part.schema())?;
                self.files[p].push((source, path.clone()));
                self.writers[p] = Some((path, writer));
            }
            let (_, writer) = self.writers[p].as_mut().expect("writer just opened");
            part.rechunk_mut();
            writer.write_batch(&part)?;
        }
        Ok(())
    }
}
