//! The out-of-core audit's map and reduce as separate processes, for a cluster that partitions
//! claims itself (integrations/spark): the map audits one partition read from Parquet and writes a
//! [`MapOutput`]; the reduce reads every partition's output, merges them and runs the provider
//! rules once. Both call the same [`audit_partition`] and [`reduce`] as a single-machine audit.
//! The findings travel once: the map writes them to its findings file only, and the reduce reads
//! those files (or the folder a cluster wrote them to) beside the outputs.
//! See docs/partitioning.md ("The partition interface").

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{audit_partition, data_quality_denial, reduce, AuditOptions, AuditResult, PartitionAudit, Prepared};
use crate::batch::build::{require_lines, BatchBuilder};
use crate::findings;
use crate::load::{canonical_frame, LoadedClaims};
use crate::schema::AliasMap;
use crate::vocab::{input_error, Category, Denial, FileAccounting, Finding};

/// Column naming the file a line came from, as the single-process audit would name it.
pub const SOURCE_COLUMN: &str = "_source";
/// Column holding the line's 1-based data row within that file.
pub const ROW_COLUMN: &str = "_row";

/// Version of the map output layout; a reduce refuses outputs of another version.
pub const MAP_OUTPUT_FORMAT: u32 = 2;

/// Everything the reduce needs from one partition (`partition.json`).
#[derive(Serialize, Deserialize)]
pub struct MapOutput {
    pub format: u32,
    pub claimlint_version: String,
    /// Ids of the rules the map ran: a reduce with another rule set refuses the output.
    pub rules: Vec<String>,
    /// The files this partition's lines came from.
    pub sources: Vec<String>,
    /// This partition's share of each file's lines.
    pub accounting: Vec<FileAccounting>,
    /// The findings the map wrote to its findings file, per rule id: the reduce checks the
    /// findings files it is given against them, so a missing or doubled file is an error.
    pub findings_per_rule: BTreeMap<String, u64>,
    /// Everything but the findings.
    pub audit: PartitionAudit,
}

fn rule_ids(prep: &Prepared) -> Vec<String> {
    let mut ids: Vec<String> = prep.ruleset.rules.iter().map(|r| r.meta().id.clone()).collect();
    ids.sort();
    ids
}

/// The map step: audits the claim lines in `opts.inputs` (Parquet files of one partition) with the
/// line, claim and patient-day rules.
pub fn map_partition(opts: &AuditOptions, aliases: &AliasMap) -> Result<MapOutput> {
    let (prep, loaded) = Prepared::new(opts, |_| true, || load_partition(&opts.inputs, aliases))?;
    let batch = Arc::new(loaded.batch);
    let audit = audit_partition(&prep, &batch, &loaded.issues, opts)?;
    tracing::info!(lines = batch.len, findings = audit.findings.len(), "partition audited");
    let mut findings_per_rule = BTreeMap::new();
    for f in &audit.findings {
        *findings_per_rule.entry(f.rule_id.clone()).or_insert(0) += 1;
    }
    Ok(MapOutput {
        format: MAP_OUTPUT_FORMAT,
        claimlint_version: env!("CARGO_PKG_VERSION").to_string(),
        rules: rule_ids(&prep),
        sources: loaded.sources,
        accounting: loaded.accounting,
        findings_per_rule,
        audit,
    })
}

/// Reads one partition's lines into a batch. A [`SOURCE_COLUMN`] names each line's file (else
/// the partition file itself is the source) and a [`ROW_COLUMN`] its row there (else the row
/// within the partition file). Lines are put back in file and row order, the order a
/// single-process audit reads them in, so order-dependent messages agree too.
pub fn load_partition(paths: &[PathBuf], aliases: &AliasMap) -> Result<LoadedClaims> {
    let mut builder = BatchBuilder::new();
    let mut accounting: BTreeMap<String, FileAccounting> = BTreeMap::new();
    let mut ids: BTreeMap<String, u32> = BTreeMap::new();
    for path in paths {
        let name = path.display().to_string();
        let file = File::open(path).with_context(|| format!("cannot read {name}"))?;
        let frame = ParquetReader::new(file).finish().map_err(|e| input_error(format!("{name}: not a readable Parquet file: {e}")))?;
        for (source, part) in split_by_source(frame, &name)? {
            let canonical = canonical_frame(part, &source, aliases)?;
            let id = *ids.entry(source.clone()).or_insert_with(|| builder.add_source(&source));
            let entry = accounting.entry(source.clone()).or_insert_with(|| FileAccounting {
                source: source.clone(),
                format: "parquet".into(),
                ..Default::default()
            });
            entry.lines_read += canonical.height() as u64;
            builder.append_canonical(&canonical, id)?;
        }
    }
    require_lines(&builder)?;
    let (batch, issues) = builder.finish()?;
    let sources = batch.sources.clone();
    // In source-id order, like the single-process audit's.
    let accounting = sources.iter().filter_map(|s| accounting.remove(s)).collect();
    Ok(LoadedClaims { batch, sources, issues, accounting })
}

/// Splits a partition file's rows by their source file, each in row order.
fn split_by_source(frame: DataFrame, name: &str) -> Result<Vec<(String, DataFrame)>> {
    let has_row = frame.column(ROW_COLUMN).is_ok();
    if frame.column(SOURCE_COLUMN).is_err() {
        let frame = if has_row { frame.sort([ROW_COLUMN], SortMultipleOptions::default().with_maintain_order(true))? } else { frame };
        return Ok(vec![(name.to_string(), frame)]);
    }
    let mut by: Vec<&str> = vec![SOURCE_COLUMN];
    if has_row {
        by.push(ROW_COLUMN);
    }
    let mut frame = frame.sort(by, SortMultipleOptions::default().with_maintain_order(true))?;
    let source_column = frame.column(SOURCE_COLUMN)?.cast(&DataType::String)?;
    let sources = source_column.str()?;
    if sources.null_count() > 0 {
        anyhow::bail!(input_error(format!("{name}: {} line(s) have no {SOURCE_COLUMN} (the file each line came from)", sources.null_count())));
    }
    let mut runs: Vec<(String, usize, usize)> = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        let s = s.expect("nulls refused above");
        match runs.last_mut() {
            Some((last, _, len)) if last == s => *len += 1,
            _ => runs.push((s.to_string(), i, 1)),
        }
    }
    let _ = frame.drop_in_place(SOURCE_COLUMN)?;
    Ok(runs.into_iter().map(|(source, start, len)| (source, frame.slice(start as i64, len))).collect())
}

/// Writes a map output as JSON.
pub fn write_map_output(output: &MapOutput, path: &Path) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut w, output)?;
    std::io::Write::flush(&mut w)?;
    Ok(())
}

/// The files named, with each folder replaced by the files in it whose name `keep` accepts, in
/// name order. A folder with none is an error when `none_is` names what it should hold.
fn expand_folders(paths: &[PathBuf], keep: impl Fn(&str) -> bool, none_is: Option<&str>) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.file_name().is_some_and(|n| keep(&n.to_string_lossy())))
                .collect();
            found.sort();
            if let (true, Some(what)) = (found.is_empty(), none_is) {
                anyhow::bail!(input_error(format!("{}: folder holds no {what}", p.display())));
            }
            files.extend(found);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            anyhow::bail!(input_error(format!("{}: no such file or folder", p.display())));
        }
    }
    Ok(files)
}

/// Map outputs from files or folders of them (every `*.json` inside, in name order).
pub fn read_map_outputs(paths: &[PathBuf]) -> Result<Vec<MapOutput>> {
    let files = expand_folders(paths, |name| name.ends_with(".json"), Some("map outputs (*.json written by `claimlint map`)"))?;
    files
        .iter()
        .map(|f| {
            let text = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
            let not_map_output = |e: serde_json::Error| input_error(format!("{}: not a claimlint map output: {e}", f.display()));
            // The version first, so an output of another layout is named as such.
            #[derive(Deserialize)]
            struct Version {
                format: u32,
                #[serde(default)]
                claimlint_version: String,
            }
            let version: Version = serde_json::from_slice(&text).map_err(not_map_output)?;
            if version.format != MAP_OUTPUT_FORMAT {
                anyhow::bail!(input_error(format!(
                    "{}: map output format {} (claimlint {}), this reduce reads format {MAP_OUTPUT_FORMAT}",
                    f.display(),
                    version.format,
                    version.claimlint_version
                )));
            }
            serde_json::from_slice(&text).map_err(not_map_output)
        })
        .collect()
}

/// Parquet files of findings written by maps: files, or folders of them (every `*.parquet`
/// inside that is not hidden, as Spark writes a dataset), in name order.
pub fn read_map_findings(paths: &[PathBuf]) -> Result<Vec<Finding>> {
    let files = expand_folders(paths, |name| name.ends_with(".parquet") && !name.starts_with(['.', '_']), None)?;
    let mut findings = Vec::new();
    for f in &files {
        let name = f.display().to_string();
        let file = File::open(f).with_context(|| format!("cannot read {name}"))?;
        let frame = ParquetReader::new(file).finish().map_err(|e| input_error(format!("{name}: not a readable Parquet file: {e}")))?;
        findings.extend(findings::from_frame(&frame, &name).map_err(|e| input_error(format!("{e:#}")))?);
    }
    Ok(findings)
}

/// The findings table holds a denial's codes and label but not its source: put back the
/// denial of the rule that raised the finding (or of the data-quality findings) when it is
/// the one the table names.
fn restore_denials(findings: &mut [Finding], prep: &Prepared) {
    let by_rule: HashMap<&str, &Arc<Denial>> =
        prep.ruleset.rules.iter().filter_map(|r| Some((r.meta().id.as_str(), r.meta().denial.as_ref()?))).collect();
    let data_quality = Arc::new(data_quality_denial());
    for f in findings {
        let Some(read) = &f.denial else { continue };
        let declared = if f.category == Category::DataQuality { Some(&data_quality) } else { by_rule.get(f.rule_id.as_str()).copied() };
        if let Some(d) = declared.filter(|d| d.group == read.group && d.carc == read.carc && d.rarc == read.rarc && d.label == read.label) {
            // The rule's own denial, shared with its other findings, source included.
            f.denial = Some(Arc::clone(d));
        }
    }
}

/// The reduce step: merges the partitions' outputs with the maps' findings (`findings`: their
/// findings files) and runs the provider rules on the merged partials. The rules must be those
/// the maps ran.
pub fn reduce_map_outputs(opts: &AuditOptions, findings: &[PathBuf]) -> Result<AuditResult> {
    let (prep, (outputs, mut map_findings)) = Prepared::new(opts, |_| true, || Ok((read_map_outputs(&opts.inputs)?, read_map_findings(findings)?)))?;
    if outputs.is_empty() {
        anyhow::bail!(input_error("no map outputs to reduce"));
    }
    let ids = rule_ids(&prep);
    for (i, output) in outputs.iter().enumerate() {
        if output.rules != ids {
            let missing: Vec<&String> = ids.iter().filter(|r| !output.rules.contains(r)).collect();
            let extra: Vec<&String> = output.rules.iter().filter(|r| !ids.contains(r)).collect();
            anyhow::bail!(input_error(format!(
                "map output {} ran other rules than {} holds (not run there: {missing:?}; not here: {extra:?}); run map and reduce with the same --rules",
                i + 1,
                opts.rules_dir.display()
            )));
        }
    }
    check_map_findings(&outputs, &map_findings, findings)?;
    restore_denials(&mut map_findings, &prep);
    let mut sources: Vec<String> = Vec::new();
    let mut accounting: BTreeMap<String, FileAccounting> = BTreeMap::new();
    let mut parts = Vec::with_capacity(outputs.len());
    for output in outputs {
        sources.extend(output.sources);
        for a in output.accounting {
            let e = accounting.entry(a.source.clone()).or_insert_with(|| FileAccounting {
                source: a.source.clone(),
                format: a.format.clone(),
                ..Default::default()
            });
            e.lines_read += a.lines_read;
            e.lines_rejected += a.lines_rejected;
            e.claims_read += a.claims_read;
            e.claims_rejected += a.claims_rejected;
        }
        parts.push(output.audit);
    }
    if let Some(first) = parts.first_mut() {
        first.findings = map_findings;
    }
    // Files in name order, as `claimlint audit` reads a folder.
    sources.sort();
    sources.dedup();
    let accounting = sources.iter().filter_map(|s| accounting.remove(s)).collect();
    reduce(prep, parts, sources, accounting, None, opts)
}

/// The findings given to the reduce must be those the maps wrote, each once: per rule, as many
/// as the map outputs count. A rule that failed on some partition is exempt, since its findings
/// are dropped everywhere (a driver may already have left them out).
fn check_map_findings(outputs: &[MapOutput], findings: &[Finding], paths: &[PathBuf]) -> Result<()> {
    let failed: BTreeSet<&str> = outputs.iter().flat_map(|o| o.audit.failures.iter().map(|f| f.rule_id.as_str())).collect();
    let mut expected: BTreeMap<&str, u64> = BTreeMap::new();
    for o in outputs {
        for (rule, n) in &o.findings_per_rule {
            *expected.entry(rule.as_str()).or_insert(0) += n;
        }
    }
    let mut got: BTreeMap<&str, u64> = BTreeMap::new();
    for f in findings {
        *got.entry(f.rule_id.as_str()).or_insert(0) += 1;
    }
    let rules: BTreeSet<&str> = expected.keys().chain(got.keys()).copied().filter(|r| !failed.contains(r)).collect();
    let wrong: Vec<String> = rules
        .iter()
        .filter_map(|r| {
            let (e, g) = (expected.get(r).copied().unwrap_or(0), got.get(r).copied().unwrap_or(0));
            (e != g).then(|| format!("{r}: {g} given, {e} written"))
        })
        .collect();
    if wrong.is_empty() {
        return Ok(());
    }
    let given =
        if paths.is_empty() { "none given".to_string() } else { paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ") };
    anyhow::bail!(input_error(format!(
        "the map findings ({given}) are not those the map outputs count ({}{}); pass every map's findings.parquet once with --findings",
        wrong.iter().take(5).cloned().collect::<Vec<_>>().join("; "),
        if wrong.len() > 5 { format!("; and {} more rules", wrong.len() - 5) } else { String::new() }
    )))
}
