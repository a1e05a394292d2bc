//! `claimlint fix`: the fixes findings propose, applied to a corrected copy of the input.
//!
//! Safe fixes are applied always, suggested ones with one proposed value only when asked
//! (`--suggested`); fixes with several values or none are left for a person and listed. CSV and
//! TSV copies change only the fixed cells, byte for byte; Parquet copies keep the columns, their
//! order and types; other formats (X12, NDJSON) get the change log only.

mod csv;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::*;
use serde::Serialize;

use crate::audit::AuditResult;
use crate::batch::Batch;
use crate::load::{detect_format, Format};
use crate::schema::{AliasMap, Kind, Level, COLUMNS};
use crate::vocab::{input_error, Finding, FixKind};

/// One cell changed (or, for X12 and NDJSON, to change by hand).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub file: String,
    /// 1-based data row of the file (X12: the service line, as findings locate it).
    pub row: u32,
    /// The canonical column.
    pub field: String,
    pub old: String,
    pub new: String,
    pub rule_id: String,
    pub kind: FixKind,
}

/// A fix not applied, and why: it needs a person, or it conflicts with another.
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub location: String,
    pub claim_id: String,
    pub line_number: Option<i64>,
    pub rule_id: String,
    pub field: String,
    pub current: String,
    pub proposed: String,
    pub kind: FixKind,
    pub note: String,
}

pub struct FixOutcome {
    pub changes: Vec<Change>,
    pub pending: Vec<Pending>,
    /// Corrected copies written, and the inputs that got the change log only.
    pub written: Vec<PathBuf>,
    pub log_only: Vec<String>,
    pub change_log: PathBuf,
    pub pending_log: PathBuf,
}

/// A fix resolved to the rows it changes.
struct Planned<'a> {
    finding: &'a Finding,
    source: u32,
    rows: Vec<u32>,
    column: usize,
    value: String,
}

/// A cell of an input: (source, row, column).
type Cell = (u32, u32, usize);
/// The value a cell gets and the fixes that set it.
type CellFix<'p, 'a> = (String, Vec<&'p Planned<'a>>);

/// Applies the findings' fixes to corrected copies of the inputs in `out`.
pub fn apply(result: &AuditResult, inputs: &[PathBuf], aliases: &AliasMap, out: &Path, suggested: bool) -> Result<FixOutcome> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let (planned, mut pending) = plan(result, suggested);

    // One value per cell: two fixes that disagree are both left for a person.
    let mut cells: BTreeMap<Cell, CellFix> = BTreeMap::new();
    let mut conflicts: HashSet<Cell> = HashSet::new();
    for p in &planned {
        for &row in &p.rows {
            let key = (p.source, row, p.column);
            match cells.get_mut(&key) {
                Some((v, _)) if *v != p.value => {
                    conflicts.insert(key);
                }
                Some((_, by)) => by.push(p),
                None => {
                    cells.insert(key, (p.value.clone(), vec![p]));
                }
            }
        }
    }
    let mut conflicted: HashSet<*const Finding> = HashSet::new();
    for key in &conflicts {
        if let Some((_, by)) = cells.remove(key) {
            conflicted.extend(by.iter().map(|p| p.finding as *const Finding));
        }
    }
    for p in planned.iter().filter(|p| conflicted.contains(&(p.finding as *const Finding))) {
        pending.push(pending_of(p.finding, "another fix proposes a different value for the same cell"));
    }

    let batch = result.batch.as_deref().context("fixes need the audited batch (an audit in memory)")?;
    let mut changes = Vec::new();
    let mut written = Vec::new();
    let mut log_only = Vec::new();
    let mut used_names: HashSet<String> = HashSet::new();
    for (source, path) in inputs.iter().enumerate() {
        let source = source as u32;
        let name = batch.sources.get(source as usize).cloned().unwrap_or_else(|| path.display().to_string());
        let mine: Vec<(&Cell, &CellFix)> = cells.iter().filter(|(k, _)| k.0 == source).collect();
        let format = detect_format(path)?;
        let target = out.join(unique_name(path, &mut used_names));
        let rule_of = |by: &Vec<&Planned>| by.iter().map(|p| p.finding.rule_id.as_str()).collect::<Vec<_>>().join("|");
        let kind_of = |by: &Vec<&Planned>| {
            if by.iter().all(|p| p.finding.fix.as_ref().is_some_and(|f| f.kind == FixKind::Safe)) {
                FixKind::Safe
            } else {
                FixKind::Suggested
            }
        };
        match format {
            Format::Csv | Format::Tsv => {
                let delimiter = if format == Format::Tsv { b'\t' } else { b',' };
                let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
                let header = csv::header(&data, delimiter).map_err(|e| input_error(format!("{name}: {e}")))?;
                let column_of = |c: usize| header.iter().position(|h| aliases.canonical(h) == Some(COLUMNS[c].name));
                let mut edits: HashMap<csv::Cell, String> = HashMap::new();
                let mut logged = Vec::new();
                for ((_, row, c), (value, by)) in &mine {
                    let Some(column) = column_of(*c) else {
                        for p in by {
                            pending.push(pending_of(p.finding, &format!("the file has no `{}` column to write", COLUMNS[*c].name)));
                        }
                        continue;
                    };
                    let cell = csv::Cell { row: *row, column };
                    edits.insert(cell.clone(), value.clone());
                    logged.push((cell, *c, value.clone(), rule_of(by), kind_of(by)));
                }
                let cells_list: Vec<csv::Cell> = edits.keys().cloned().collect();
                let old = csv::values(&data, delimiter, &cells_list).map_err(|e| input_error(format!("{name}: {e}")))?;
                let corrected = csv::rewrite(&data, delimiter, &edits).map_err(|e| input_error(format!("{name}: {e}")))?;
                std::fs::write(&target, corrected).with_context(|| format!("cannot write {}", target.display()))?;
                written.push(target.clone());
                for (cell, c, new, rule_id, kind) in logged {
                    let old = old.get(&cell).cloned().unwrap_or_default();
                    changes.push(Change { file: name.clone(), row: cell.row, field: COLUMNS[c].name.into(), old, new, rule_id, kind });
                }
            }
            Format::Parquet => {
                let mut frame = ParquetReader::new(std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?)
                    .finish()
                    .map_err(|e| input_error(format!("{name}: not a readable Parquet file: {e}")))?;
                let names: Vec<String> = frame.get_column_names().iter().map(|n| n.to_string()).collect();
                let mut by_column: BTreeMap<usize, Vec<(u32, String, String, FixKind)>> = BTreeMap::new();
                for ((_, row, c), (value, by)) in &mine {
                    match names.iter().position(|h| aliases.canonical(h) == Some(COLUMNS[*c].name)) {
                        Some(i) => by_column.entry(i).or_default().push((*row, value.clone(), rule_of(by), kind_of(by))),
                        None => {
                            for p in by {
                                pending.push(pending_of(p.finding, &format!("the file has no `{}` column to write", COLUMNS[*c].name)));
                            }
                        }
                    }
                }
                for (i, edits) in by_column {
                    let column = frame.columns()[i].clone();
                    let dtype = column.dtype().clone();
                    let text = column.cast(&DataType::String).map_err(|e| input_error(format!("{name}: column {}: {e}", names[i])))?;
                    let mut values: Vec<Option<String>> = text.str()?.iter().map(|v| v.map(str::to_owned)).collect();
                    for (row, new, rule_id, kind) in edits {
                        let Some(slot) = values.get_mut(row as usize - 1) else { continue };
                        let old = slot.clone().unwrap_or_default();
                        *slot = Some(new.clone());
                        let field = aliases.canonical(&names[i]).unwrap_or_default().to_string();
                        changes.push(Change { file: name.clone(), row, field, old, new, rule_id, kind });
                    }
                    let replaced = Column::new(names[i].as_str().into(), values)
                        .strict_cast(&dtype)
                        .map_err(|e| input_error(format!("{name}: a fixed value does not fit column {} ({dtype}): {e}", names[i])))?;
                    frame.replace_column(i, replaced)?;
                }
                let file = std::fs::File::create(&target).with_context(|| format!("cannot write {}", target.display()))?;
                ParquetWriter::new(file).finish(&mut frame)?;
                written.push(target.clone());
            }
            Format::X12 | Format::NdJson => {
                log_only.push(name.clone());
                for ((_, row, c), (value, by)) in &mine {
                    let old = by.first().and_then(|p| p.finding.fix.as_ref()).map(|f| f.current.clone()).unwrap_or_default();
                    changes.push(Change {
                        file: name.clone(),
                        row: *row,
                        field: COLUMNS[*c].name.into(),
                        old,
                        new: value.clone(),
                        rule_id: rule_of(by),
                        kind: kind_of(by),
                    });
                }
            }
        }
    }
    changes.sort_by(|a, b| (a.file.as_str(), a.row, a.field.as_str()).cmp(&(b.file.as_str(), b.row, b.field.as_str())));
    let change_log = out.join("changes.csv");
    write_csv(&change_log, &changes_frame(&changes)?)?;
    let pending_log = out.join("pending_fixes.csv");
    write_csv(&pending_log, &pending_frame(&pending)?)?;
    Ok(FixOutcome { changes, pending, written, log_only, change_log, pending_log })
}

/// Resolves each applicable fix to the rows it changes: the finding's line, or for a
/// claim-level column every line of the claim in the same file that holds the same value.
fn plan(result: &AuditResult, suggested: bool) -> (Vec<Planned<'_>>, Vec<Pending>) {
    static EMPTY: std::sync::LazyLock<Batch> = std::sync::LazyLock::new(|| Batch::empty(Vec::new()));
    // An audit in partitions keeps no batch: then no row can be located and every fix is pending.
    let batch: &Batch = result.batch.as_deref().unwrap_or(&EMPTY);
    let mut planned = Vec::new();
    let mut pending = Vec::new();
    let wanted: Vec<&Finding> = result.findings.iter().filter(|f| f.fix.is_some()).collect();
    // (source, source row) -> batch row, for the lines the fixes name.
    let needed: HashSet<(u32, u32)> = wanted.iter().filter_map(|f| locate(batch, f)).collect();
    let mut row_of: HashMap<(u32, u32), u32> = HashMap::new();
    for r in 0..batch.len {
        let key = (batch.source[r], batch.source_row[r]);
        if needed.contains(&key) {
            row_of.insert(key, r as u32);
        }
    }
    let claim_of_row: Vec<u32> = if wanted.is_empty() { Vec::new() } else { claim_index(batch) };
    for f in wanted {
        let fix = f.fix.as_ref().expect("filtered");
        if !fix.applies(suggested) {
            let why = if fix.field.is_empty() || fix.proposed.is_empty() {
                "a person decides: no value is proposed"
            } else if fix.proposed.len() > 1 {
                "a person chooses among the proposed values"
            } else {
                "suggested: apply with --suggested after review"
            };
            pending.push(pending_of(f, why));
            continue;
        }
        let Some(c) = COLUMNS.iter().position(|c| c.name == fix.field) else {
            pending.push(pending_of(f, "the field is not a canonical column"));
            continue;
        };
        let Some(&row) = locate(batch, f).and_then(|k| row_of.get(&k)) else {
            pending.push(pending_of(f, "the finding names no line of the input"));
            continue;
        };
        let rows: Vec<u32> = if COLUMNS[c].level == Level::Claim {
            let same = |r: u32| batch.source[r as usize] == batch.source[row as usize] && same_value(batch, c, r, row);
            batch.claims.get(claim_of_row[row as usize] as usize).iter().copied().filter(|&r| same(r)).collect()
        } else {
            vec![row]
        };
        planned.push(Planned {
            finding: f,
            source: batch.source[row as usize],
            rows: rows.iter().map(|&r| batch.source_row[r as usize]).collect(),
            column: c,
            value: fix.proposed[0].clone(),
        });
    }
    (planned, pending)
}

/// The finding's (source index, source row), from its `file:row` location.
fn locate(batch: &crate::batch::Batch, f: &Finding) -> Option<(u32, u32)> {
    let (file, row) = f.location.rsplit_once(':')?;
    let source = batch.sources.iter().position(|s| s == file)? as u32;
    Some((source, row.parse().ok()?))
}

fn same_value(batch: &crate::batch::Batch, c: usize, a: u32, b: u32) -> bool {
    match COLUMNS[c].kind {
        Kind::Text => batch.text(c, a as usize) == batch.text(c, b as usize),
        _ => batch.value(c, a as usize).to_string() == batch.value(c, b as usize).to_string(),
    }
}

/// Claim group of every line.
fn claim_index(batch: &crate::batch::Batch) -> Vec<u32> {
    let mut out = vec![0u32; batch.len];
    for g in 0..batch.claims.len() {
        for &r in batch.claims.get(g) {
            out[r as usize] = g as u32;
        }
    }
    out
}

fn pending_of(f: &Finding, why: &str) -> Pending {
    let fix = f.fix.as_ref().expect("pending fixes come from findings with a fix");
    let note = if fix.note.is_empty() { why.to_string() } else { format!("{} ({why})", fix.note) };
    Pending {
        location: f.location.clone(),
        claim_id: f.claim_id.clone(),
        line_number: f.line_number,
        rule_id: f.rule_id.clone(),
        field: fix.field.clone(),
        current: fix.current.clone(),
        proposed: fix.proposed.join("|"),
        kind: fix.kind,
        note,
    }
}

/// The input's file name in the output folder, numbered when two inputs share one.
fn unique_name(path: &Path, used: &mut HashSet<String>) -> String {
    let base = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "claims".into());
    let mut name = base.clone();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{n}-{base}");
        n += 1;
    }
    name
}

fn changes_frame(changes: &[Change]) -> Result<DataFrame> {
    let text = |f: fn(&Change) -> &str| changes.iter().map(f).collect::<Vec<&str>>();
    Ok(DataFrame::new(
        changes.len(),
        vec![
            Column::new("file".into(), text(|c| &c.file)),
            Column::new("row".into(), changes.iter().map(|c| c.row).collect::<Vec<_>>()),
            Column::new("field".into(), text(|c| &c.field)),
            Column::new("old".into(), text(|c| &c.old)),
            Column::new("new".into(), text(|c| &c.new)),
            Column::new("rule".into(), text(|c| &c.rule_id)),
            Column::new("kind".into(), changes.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>()),
        ],
    )?)
}

fn pending_frame(pending: &[Pending]) -> Result<DataFrame> {
    let text = |f: fn(&Pending) -> &str| pending.iter().map(f).collect::<Vec<&str>>();
    Ok(DataFrame::new(
        pending.len(),
        vec![
            Column::new("location".into(), text(|p| &p.location)),
            Column::new("claim_id".into(), text(|p| &p.claim_id)),
            Column::new("line_number".into(), pending.iter().map(|p| p.line_number).collect::<Vec<_>>()),
            Column::new("rule".into(), text(|p| &p.rule_id)),
            Column::new("field".into(), text(|p| &p.field)),
            Column::new("current".into(), text(|p| &p.current)),
            Column::new("proposed".into(), text(|p| &p.proposed)),
            Column::new("kind".into(), pending.iter().map(|p| p.kind.as_str()).collect::<Vec<_>>()),
            Column::new("note".into(), text(|p| &p.note)),
        ],
    )?)
}

fn write_csv(path: &Path, frame: &DataFrame) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    CsvWriter::new(file).include_header(true).finish(&mut frame.clone())?;
    Ok(())
}
