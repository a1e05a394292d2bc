//! X12 837 files mapped onto the canonical schema by [`crate::x12`]. A claim that cannot be read
//! becomes a data-quality finding; the other claims in the file are audited.

use std::path::Path;

use anyhow::Result;
use polars::prelude::*;

use super::dq::{self, DqCheck};
use crate::vocab::{input_error, DataIssue, FileAccounting};
use crate::x12::{self, ClaimLine, ProblemKind};

/// An 837 file as read: its service lines as text columns, where each sits, and what was read.
pub struct X12Read {
    pub frame: DataFrame,
    /// Segment number of each line's LX (ISA = 1), the location its findings give.
    pub rows: Vec<u32>,
    /// Service lines (LX) and claims (CLM) read and rejected.
    pub accounting: FileAccounting,
}

fn check(kind: ProblemKind) -> &'static DqCheck {
    match kind {
        ProblemKind::Claim => &dq::X12_CLAIM_REJECTED,
        ProblemKind::Transaction => &dq::X12_TRANSACTION_REJECTED,
        ProblemKind::Envelope => &dq::X12_ENVELOPE,
        ProblemKind::Structure => &dq::X12_STRUCTURE,
    }
}

pub fn read_x12(path: &Path, name: &str, issues: &mut Vec<DataIssue>) -> Result<X12Read> {
    let bytes = std::fs::read(path).map_err(|e| input_error(format!("{name}: cannot read: {e}")))?;
    let batch = x12::parse_837(&bytes, name).map_err(|e| input_error(e.to_string()))?;
    let segment_row = |n: usize| Some(u32::try_from(n).unwrap_or(u32::MAX));
    for p in &batch.problems {
        let check = check(p.kind);
        issues.push(DataIssue {
            source: name.to_string(),
            row: segment_row(p.segment_number),
            claim_id: p.claim_id.clone(),
            line_number: None,
            rule_id: check.id,
            severity: check.severity,
            message: format!("segment {} ({}) at byte {}, line {}: {}", p.segment_number, p.segment_id, p.byte_offset, p.line, p.message),
            amount_at_risk: 0.0,
        });
    }
    let mut columns: Vec<Vec<String>> = vec![Vec::with_capacity(batch.lines.len()); ClaimLine::COLUMNS.len()];
    let claim_col = ClaimLine::COLUMNS.iter().position(|c| *c == "claim_id").expect("claim_id column");
    // Each CLM is its own claim, but lines are grouped by claim id downstream: a CLM01 that
    // repeats in one file gets a suffix (and a finding), so two claims never merge silently.
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut previous: Option<(&str, u32)> = None;
    let mut current_id = String::new();
    for (line, &segment) in batch.lines.iter().zip(&batch.line_segments) {
        let starts_claim = previous.is_none_or(|(id, n)| id != line.claim_id || line.line_number <= n);
        if starts_claim {
            let count = seen.entry(line.claim_id.clone()).or_insert(0);
            *count += 1;
            current_id = if *count == 1 { line.claim_id.clone() } else { format!("{}#{}", line.claim_id, count) };
            if *count > 1 {
                issues.push(DataIssue {
                    source: name.to_string(),
                    row: segment_row(segment),
                    claim_id: Some(current_id.clone()),
                    line_number: None,
                    rule_id: dq::X12_DUPLICATE_CLAIM_ID.id,
                    severity: dq::X12_DUPLICATE_CLAIM_ID.severity,
                    message: format!(
                        "claim id (CLM01) {} is used by an earlier claim in this file; audited separately as {current_id}",
                        line.claim_id
                    ),
                    amount_at_risk: 0.0,
                });
            }
        }
        previous = Some((line.claim_id.as_str(), line.line_number));
        for (i, v) in line.values().into_iter().enumerate() {
            columns[i].push(if i == claim_col { current_id.clone() } else { v });
        }
    }
    let height = batch.lines.len();
    let cols = ClaimLine::COLUMNS
        .iter()
        .zip(columns)
        .map(|(name, values)| {
            let values: Vec<Option<String>> = values.into_iter().map(|v| (!v.is_empty()).then_some(v)).collect();
            Column::new((*name).into(), values)
        })
        .collect();
    if height == 0 {
        let first = batch.errors().next().or(batch.problems.first());
        anyhow::bail!(input_error(format!(
            "{name}: no claim could be read from this 837 ({} claim(s) rejected, {} problem(s); first: {})",
            batch.claims_rejected,
            batch.problems.len(),
            first.map(|p| p.to_string()).unwrap_or_else(|| "the file holds no claim".into())
        )));
    }
    let rows = batch.line_segments.iter().map(|&s| u32::try_from(s).unwrap_or(u32::MAX)).collect();
    let accounting = FileAccounting {
        source: name.to_string(),
        format: "x12".into(),
        encoding: Some(if std::str::from_utf8(&bytes).is_ok() { "UTF-8" } else { "UTF-8 (invalid bytes replaced)" }.into()),
        lines_read: batch.lines_read as u64,
        lines_rejected: batch.lines_rejected as u64,
        claims_read: batch.claims_read as u64,
        claims_rejected: batch.claims_rejected as u64,
    };
    Ok(X12Read { frame: DataFrame::new(height, cols)?, rows, accounting })
}
