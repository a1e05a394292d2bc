//! X12 837 files mapped onto the canonical schema by [`crate::x12`]. Structurally broken claims
//! become data-quality findings; the good claims in the same file are audited.

use std::path::Path;

use anyhow::Result;
use polars::prelude::*;

use crate::vocab::{input_error, DataIssue, FileAccounting};
use crate::vocab::Severity;
use crate::x12::{self, ClaimLine};

/// An 837 file as read: its service lines as text columns, where each sits, and what was read.
pub struct X12Read {
    pub frame: DataFrame,
    /// Segment number of each line's LX (ISA = 1).
    pub rows: Vec<u32>,
    pub accounting: FileAccounting,
}

pub fn read_x12(path: &Path, name: &str, issues: &mut Vec<DataIssue>) -> Result<X12Read> {
    let bytes = std::fs::read(path).map_err(|e| input_error(format!("{name}: cannot read: {e}")))?;
    let batch = x12::parse_837(&bytes, name).map_err(|e| input_error(e.to_string()))?;
    for p in &batch.problems {
        let (rule_id, severity) = match p.severity {
            x12::Severity::Error => ("DQ-X12-CLAIM-REJECTED", Severity::Error),
            x12::Severity::Warning => ("DQ-X12-STRUCTURE", Severity::Warning),
        };
        issues.push(DataIssue {
            source: name.to_string(),
            row: None,
            claim_id: p.claim_id.clone(),
            line_number: None,
            rule_id,
            severity,
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
    for line in &batch.lines {
        let starts_claim = previous.is_none_or(|(id, n)| id != line.claim_id || line.line_number <= n);
        if starts_claim {
            let count = seen.entry(line.claim_id.clone()).or_insert(0);
            *count += 1;
            current_id = if *count == 1 { line.claim_id.clone() } else { format!("{}#{}", line.claim_id, count) };
            if *count > 1 {
                issues.push(DataIssue {
                    source: name.to_string(),
                    row: None,
                    claim_id: Some(current_id.clone()),
                    line_number: None,
                    rule_id: "DQ-X12-DUPLICATE-CLAIM-ID",
                    severity: Severity::Warning,
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
        anyhow::bail!(input_error(format!(
            "{name}: no claim could be read from this 837 ({} problem(s); first: {})",
            batch.problems.len(),
            batch.problems.first().map(|p| p.to_string()).unwrap_or_default()
        )));
    }
    let accounting = FileAccounting {
        source: name.to_string(),
        format: "x12".into(),
        encoding: Some("UTF-8".into()),
        lines_read: height as u64,
        lines_rejected: 0,
        claims_read: batch.claims.len() as u64,
        claims_rejected: 0,
    };
    Ok(X12Read { frame: DataFrame::new(height, cols)?, rows: (1..=height as u32).collect(), accounting })
}
