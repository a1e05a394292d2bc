//! The findings table and its writers (CSV, Parquet, JSON).

use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::*;

use crate::vocab::Finding;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Parquet,
    Json,
}

impl OutputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Csv => "csv",
            OutputFormat::Parquet => "parquet",
            OutputFormat::Json => "json",
        }
    }
}

/// Stable order: by claim, line, then rule, so outputs diff cleanly between runs.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.claim_id.as_str(), a.line_number, a.rule_id.as_str(), a.message.as_str(), a.location.as_str()).cmp(&(
            b.claim_id.as_str(),
            b.line_number,
            b.rule_id.as_str(),
            b.message.as_str(),
            b.location.as_str(),
        ))
    });
}

pub fn to_frame(findings: &[Finding]) -> Result<DataFrame> {
    let text = |f: fn(&Finding) -> &str| findings.iter().map(f).collect::<Vec<&str>>();
    let n = findings.len();
    Ok(DataFrame::new(
        n,
        vec![
            Column::new("claim_id".into(), text(|f| &f.claim_id)),
            Column::new("line_number".into(), findings.iter().map(|f| f.line_number).collect::<Vec<_>>()),
            Column::new("rule_id".into(), text(|f| &f.rule_id)),
            Column::new("severity".into(), findings.iter().map(|f| f.severity.as_str()).collect::<Vec<_>>()),
            Column::new("category".into(), findings.iter().map(|f| f.category.as_str()).collect::<Vec<_>>()),
            Column::new("message".into(), text(|f| &f.message)),
            Column::new("amount_at_risk".into(), findings.iter().map(|f| f.amount_at_risk).collect::<Vec<_>>()),
            Column::new("citation".into(), text(|f| &f.citation)),
            Column::new("payer_id".into(), text(|f| &f.payer_id)),
            Column::new("provider_npi".into(), text(|f| &f.provider_npi)),
            Column::new("patient_id".into(), text(|f| &f.patient_id)),
            Column::new("service_date".into(), text(|f| &f.service_date)),
            Column::new("location".into(), text(|f| &f.location)),
        ],
    )?)
}

pub fn write(findings: &[Finding], path: &Path, format: OutputFormat) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    match format {
        OutputFormat::Json => serde_json::to_writer_pretty(std::io::BufWriter::new(file), findings)?,
        OutputFormat::Csv => {
            CsvWriter::new(file).include_header(true).finish(&mut to_frame(findings)?)?;
        }
        OutputFormat::Parquet => {
            ParquetWriter::new(file).finish(&mut to_frame(findings)?)?;
        }
    }
    Ok(())
}
