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

/// The findings of a findings table written by [`to_frame`] (or by Spark with the same columns),
/// for a reduce that reads the maps' findings files. The table does not hold a denial's
/// `source`: it comes back empty, for the caller to restore from the rule that raised it.
pub fn from_frame(frame: &DataFrame, name: &str) -> Result<Vec<Finding>> {
    use crate::vocab::{Category, Denial, Fix, FixKind, PriceSource, Severity};
    let text = |column: &str| -> Result<StringChunked> {
        let c = frame.column(column).map_err(|_| anyhow::anyhow!("{name}: findings table has no column `{column}`"))?;
        Ok(c.cast(&DataType::String)?.str()?.clone())
    };
    let [claim_id, rule_id, severity, category, message, citation, payer_id, provider_npi, patient_id, service_date, location] =
        ["claim_id", "rule_id", "severity", "category", "message", "citation", "payer_id", "provider_npi", "patient_id", "service_date", "location"]
            .map(text);
    let [denial, rarc, label, kind, field, current, proposed, note] = DENIAL_AND_FIX_COLUMNS.map(text);
    let line_number =
        frame.column("line_number").map_err(|_| anyhow::anyhow!("{name}: findings table has no column `line_number`"))?.cast(&DataType::Int64)?;
    let line_number = line_number.i64()?;
    let amount = frame
        .column("amount_at_risk")
        .map_err(|_| anyhow::anyhow!("{name}: findings table has no column `amount_at_risk`"))?
        .cast(&DataType::Float64)?;
    let amount = amount.f64()?;
    let allowed = frame
        .column("expected_allowed")
        .map_err(|_| anyhow::anyhow!("{name}: findings table has no column `expected_allowed`"))?
        .cast(&DataType::Float64)?;
    let allowed = allowed.f64()?;
    let price_source = text("price_source")?;
    let (claim_id, rule_id, severity, category, message, citation) = (claim_id?, rule_id?, severity?, category?, message?, citation?);
    let (payer_id, provider_npi, patient_id, service_date, location) = (payer_id?, provider_npi?, patient_id?, service_date?, location?);
    let (denial, rarc, label, kind, field, current, proposed, note) = (denial?, rarc?, label?, kind?, field?, current?, proposed?, note?);
    let codes = |joined: Option<&str>| -> Vec<String> {
        joined.filter(|s| !s.is_empty()).map_or_else(Vec::new, |s| s.split('|').map(str::to_string).collect())
    };
    let owned = |c: &StringChunked, i: usize| c.get(i).unwrap_or_default().to_string();
    // A rule's findings share one copy of its citation.
    let citations: std::cell::RefCell<std::collections::HashMap<String, std::sync::Arc<str>>> = Default::default();
    let shared = |text: &str| -> std::sync::Arc<str> {
        let mut known = citations.borrow_mut();
        match known.get(text) {
            Some(c) => c.clone(),
            None => known.entry(text.to_string()).or_insert_with(|| text.into()).clone(),
        }
    };
    (0..frame.height())
        .map(|i| {
            let row = i + 1;
            let severity: Severity = severity.get(i).unwrap_or_default().parse().map_err(|e| anyhow::anyhow!("{name}: row {row}: {e}"))?;
            let category = match category.get(i).unwrap_or_default() {
                "compliance" => Category::Compliance,
                "fraud-risk" => Category::FraudRisk,
                "data-quality" => Category::DataQuality,
                other => anyhow::bail!("{name}: row {row}: unknown category `{other}`"),
            };
            let denial = match denial.get(i) {
                Some(code) => {
                    let (group, carc) =
                        code.split_once('-').ok_or_else(|| anyhow::anyhow!("{name}: row {row}: denial `{code}` is not GROUP-CARC"))?;
                    Some(std::sync::Arc::new(Denial {
                        group: group.into(),
                        carc: carc.into(),
                        rarc: codes(rarc.get(i)),
                        label: owned(&label, i),
                        source: String::new(),
                    }))
                }
                None => None,
            };
            let fix = match kind.get(i) {
                Some(k) => Some(Fix {
                    kind: match k {
                        "safe" => FixKind::Safe,
                        "suggested" => FixKind::Suggested,
                        other => anyhow::bail!("{name}: row {row}: unknown fix kind `{other}`"),
                    },
                    field: owned(&field, i),
                    current: owned(&current, i),
                    proposed: codes(proposed.get(i)),
                    note: owned(&note, i),
                }),
                None => None,
            };
            let price_source = match price_source.get(i) {
                None | Some("") => None,
                Some("paid") => Some(PriceSource::Paid),
                Some("fee-schedule") => Some(PriceSource::FeeSchedule),
                Some("billed") => Some(PriceSource::Billed),
                Some(other) => anyhow::bail!("{name}: row {row}: unknown price source `{other}`"),
            };
            Ok(Finding {
                claim_id: owned(&claim_id, i),
                line_number: line_number.get(i),
                rule_id: owned(&rule_id, i),
                severity,
                category,
                message: owned(&message, i),
                amount_at_risk: amount.get(i).unwrap_or_default(),
                expected_allowed: allowed.get(i).unwrap_or_default(),
                price_source,
                citation: shared(citation.get(i).unwrap_or_default()),
                payer_id: owned(&payer_id, i),
                provider_npi: owned(&provider_npi, i),
                patient_id: owned(&patient_id, i),
                service_date: owned(&service_date, i),
                location: owned(&location, i),
                denial,
                fix,
            })
        })
        .collect()
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
