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

/// The columns after `location`: the denial a payer would send and the proposed fix. Codes are
/// joined with `|` (RARCs, and a fix's choices).
pub const DENIAL_AND_FIX_COLUMNS: [&str; 8] = ["denial", "rarc", "denial_label", "fix_kind", "fix_field", "fix_current", "fix_proposed", "fix_note"];

pub fn to_frame(findings: &[Finding]) -> Result<DataFrame> {
    let text = |f: fn(&Finding) -> &str| findings.iter().map(f).collect::<Vec<&str>>();
    let owned = |f: &dyn Fn(&Finding) -> Option<String>| findings.iter().map(f).collect::<Vec<Option<String>>>();
    let fix_text = |f: fn(&crate::vocab::Fix) -> &str| findings.iter().map(|x| x.fix.as_ref().map(f)).collect::<Vec<Option<&str>>>();
    let n = findings.len();
    let [denial, rarc, label, kind, field, current, proposed, note] = DENIAL_AND_FIX_COLUMNS.map(PlSmallStr::from_static);
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
            Column::new("expected_allowed".into(), findings.iter().map(|f| f.expected_allowed).collect::<Vec<_>>()),
            Column::new("price_source".into(), findings.iter().map(|f| f.price_source.map(|p| p.as_str())).collect::<Vec<_>>()),
            Column::new("citation".into(), text(|f| &f.citation)),
            Column::new("payer_id".into(), text(|f| &f.payer_id)),
            Column::new("provider_npi".into(), text(|f| &f.provider_npi)),
            Column::new("patient_id".into(), text(|f| &f.patient_id)),
            Column::new("service_date".into(), text(|f| &f.service_date)),
            Column::new("location".into(), text(|f| &f.location)),
            Column::new(denial, owned(&|f| f.denial.as_ref().map(|d| d.code()))),
            Column::new(rarc, owned(&|f| f.denial.as_ref().map(|d| d.rarc.join("|")))),
            Column::new(label, owned(&|f| f.denial.as_ref().map(|d| d.label.clone()))),
            Column::new(kind, owned(&|f| f.fix.as_ref().map(|x| x.kind.as_str().to_string()))),
            Column::new(field, fix_text(|x| &x.field)),
            Column::new(current, fix_text(|x| &x.current)),
            Column::new(proposed, owned(&|f| f.fix.as_ref().map(|x| x.proposed.join("|")))),
            Column::new(note, fix_text(|x| &x.note)),
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
