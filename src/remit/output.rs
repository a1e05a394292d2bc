//! The CSV files `claimlint remit` writes:
//! - `remit.csv`: every remittance claim and service line, with its match and outcome;
//! - `remit_carc.csv`: the loop per CARC; `remit_rules.csv`: per rule;
//! - `remit_denials.csv`: every denial; `remit_findings.csv`: every finding in the loop;
//! - `remit_unmatched.csv`: remittance claims and lines that did not pair, audited claims no
//!   remittance names, and audited lines the remittance left out;
//! - `remit_problems.csv`: the remittances' data-quality findings (the findings layout).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::*;
use serde::Serialize;

use super::codes;
use super::matching::{line_date, ClaimRef};
use super::reconcile::FindingOutcome;
use super::RemitRun;

enum Values {
    Text(Vec<String>),
    Number(Vec<Option<f64>>),
    Integer(Vec<Option<i64>>),
}

/// A table built column by column, written with Polars' CSV writer.
struct Table {
    columns: Vec<(&'static str, Values)>,
}

impl Table {
    fn new() -> Self {
        Table { columns: Vec::new() }
    }

    fn text(mut self, name: &'static str, v: impl IntoIterator<Item = String>) -> Self {
        self.columns.push((name, Values::Text(v.into_iter().collect())));
        self
    }

    fn number(mut self, name: &'static str, v: impl IntoIterator<Item = Option<f64>>) -> Self {
        self.columns.push((name, Values::Number(v.into_iter().collect())));
        self
    }

    fn integer(mut self, name: &'static str, v: impl IntoIterator<Item = Option<i64>>) -> Self {
        self.columns.push((name, Values::Integer(v.into_iter().collect())));
        self
    }

    fn write(self, path: &Path) -> Result<()> {
        let height = self.columns.first().map_or(0, |(_, v)| match v {
            Values::Text(x) => x.len(),
            Values::Number(x) => x.len(),
            Values::Integer(x) => x.len(),
        });
        let columns: Vec<Column> = self
            .columns
            .into_iter()
            .map(|(name, v)| match v {
                Values::Text(x) => Column::new(name.into(), x),
                Values::Number(x) => Column::new(name.into(), x),
                Values::Integer(x) => Column::new(name.into(), x),
            })
            .collect();
        let mut frame = DataFrame::new(height, columns)?;
        let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
        CsvWriter::new(file).include_header(true).with_float_precision(Some(2)).finish(&mut frame)?;
        Ok(())
    }
}

/// Writes every CSV into `out`; returns the paths written.
pub fn write_all(run: &RemitRun, out: &Path) -> Result<Vec<PathBuf>> {
    let files = [
        ("remit.csv", lines_table(run)),
        ("remit_carc.csv", carc_table(run)),
        ("remit_rules.csv", rules_table(run)),
        ("remit_denials.csv", denials_table(run)),
        ("remit_findings.csv", findings_table(run)),
        ("remit_unmatched.csv", unmatched_table(run)),
    ];
    let mut written = Vec::new();
    for (name, table) in files {
        let path = out.join(name);
        table.write(&path)?;
        written.push(path);
    }
    let problems = out.join("remit_problems.csv");
    crate::findings::write(&run.problems, &problems, crate::findings::OutputFormat::Csv)?;
    written.push(problems);
    Ok(written)
}

fn join(v: impl IntoIterator<Item = String>) -> String {
    v.into_iter().collect::<Vec<_>>().join("; ")
}

/// One remittance claim or service line, with its match and outcome.
#[derive(Debug, Clone, Serialize)]
pub struct LineRow {
    pub source: String,
    pub transaction: String,
    pub payment_date: String,
    pub claim_id: String,
    pub status: String,
    /// "claim" or "line".
    pub level: &'static str,
    /// Code and modifiers, "99213-25".
    pub procedure_code: String,
    pub service_date: String,
    pub billed: Option<f64>,
    pub paid: Option<f64>,
    pub patient_responsibility: Option<f64>,
    pub adjustments: String,
    pub remarks: String,
    /// "matched" / "unmatched" for claims, the match kind for lines.
    pub matched: String,
    pub audited_line_number: Option<i64>,
    pub findings: String,
    pub outcome: String,
}

/// Every remittance claim followed by its service lines, in file order.
pub fn line_rows(run: &RemitRun) -> Vec<LineRow> {
    let mut denials: HashMap<(ClaimRef, Option<usize>), Vec<&'static str>> = HashMap::new();
    // A claim row sums up its own and its lines' denials.
    let mut claim_denials: HashMap<ClaimRef, Vec<&'static str>> = HashMap::new();
    for d in &run.outcome.denials {
        denials.entry((d.remit, d.remit_line)).or_default().push(d.outcome.as_str());
        claim_denials.entry(d.remit).or_default().push(d.outcome.as_str());
    }
    let mut findings_on: HashMap<(&str, Option<i64>), Vec<&str>> = HashMap::new();
    for f in &run.outcome.findings {
        findings_on.entry((f.claim_id.as_str(), f.line_number)).or_default().push(f.rule_id.as_str());
    }
    let mut rows = Vec::new();
    for m in &run.matching.claims {
        let r = &run.remittances[m.remit.file];
        let tx = &r.transactions[m.remit.set];
        let c = m.remit.get(&run.remittances);
        let adjudicated = codes::status_is_adjudication(&c.status);
        let outcome = |key: (ClaimRef, Option<usize>), has_findings: bool| -> String {
            if !adjudicated {
                return "not adjudicated (reversal or predetermination)".into();
            }
            let found = match key.1 {
                None => claim_denials.get(&key.0),
                Some(_) => denials.get(&key),
            };
            match found {
                Some(list) => {
                    let mut l = list.clone();
                    l.sort_unstable();
                    l.dedup();
                    format!("denied: {}", l.join(", "))
                }
                None if has_findings => FindingOutcome::PaidAnyway.as_str().into(),
                None => "accepted".into(),
            }
        };
        let claim_findings = m.audited_claim.as_deref().and_then(|id| findings_on.get(&(id, None))).cloned().unwrap_or_default();
        rows.push(LineRow {
            source: r.source.clone(),
            transaction: tx.control_number.clone(),
            payment_date: tx.payment_date.clone(),
            claim_id: c.claim_id.clone(),
            status: format!("{} {}", c.status, codes::claim_status_label(&c.status).unwrap_or("")).trim().to_string(),
            level: "claim",
            procedure_code: String::new(),
            service_date: c.service_date_from.clone(),
            billed: Some(c.billed),
            paid: Some(c.paid),
            patient_responsibility: Some(c.patient_share()),
            adjustments: join(c.adjustments.iter().map(|a| format!("{} {:.2}", a.code(), a.amount))),
            remarks: join(c.remarks.iter().map(|x| x.code.clone())),
            matched: if m.audited_claim.is_some() { "matched".into() } else { "unmatched".into() },
            audited_line_number: None,
            findings: claim_findings.join("; "),
            outcome: outcome((m.remit, None), !claim_findings.is_empty()),
        });
        for lm in &m.lines {
            let l = &c.lines[lm.remit_line];
            let line_number = lm.audited.and_then(|i| run.claims.lines[i].line_number);
            let on_line = match (m.audited_claim.as_deref(), line_number) {
                (Some(id), Some(n)) => findings_on.get(&(id, Some(n))).cloned().unwrap_or_default(),
                _ => Vec::new(),
            };
            let mut code = l.procedure_code.clone();
            if !l.modifiers.is_empty() {
                code = format!("{code}-{}", l.modifiers.join("-"));
            }
            rows.push(LineRow {
                source: r.source.clone(),
                transaction: tx.control_number.clone(),
                payment_date: tx.payment_date.clone(),
                claim_id: c.claim_id.clone(),
                status: c.status.clone(),
                level: "line",
                procedure_code: code,
                service_date: line_date(c, l).to_string(),
                billed: l.billed,
                paid: l.paid,
                patient_responsibility: None,
                adjustments: join(l.adjustments.iter().map(|a| format!("{} {:.2}", a.code(), a.amount))),
                remarks: join(l.remarks.iter().map(|x| x.code.clone())),
                matched: lm.kind.as_str().into(),
                audited_line_number: line_number,
                findings: on_line.join("; "),
                outcome: outcome((m.remit, Some(lm.remit_line + 1)), !on_line.is_empty()),
            });
        }
    }
    rows
}

fn lines_table(run: &RemitRun) -> Table {
    let rows = line_rows(run);
    Table::new()
        .text("source", rows.iter().map(|r| r.source.clone()))
        .text("transaction", rows.iter().map(|r| r.transaction.clone()))
        .text("payment_date", rows.iter().map(|r| r.payment_date.clone()))
        .text("claim_id", rows.iter().map(|r| r.claim_id.clone()))
        .text("status", rows.iter().map(|r| r.status.clone()))
        .text("level", rows.iter().map(|r| r.level.to_string()))
        .text("procedure_code", rows.iter().map(|r| r.procedure_code.clone()))
        .text("service_date", rows.iter().map(|r| r.service_date.clone()))
        .number("billed", rows.iter().map(|r| r.billed))
        .number("paid", rows.iter().map(|r| r.paid))
        .number("patient_responsibility", rows.iter().map(|r| r.patient_responsibility))
        .text("adjustments", rows.iter().map(|r| r.adjustments.clone()))
        .text("remarks", rows.iter().map(|r| r.remarks.clone()))
        .text("match", rows.iter().map(|r| r.matched.clone()))
        .integer("audited_line_number", rows.iter().map(|r| r.audited_line_number))
        .text("findings", rows.iter().map(|r| r.findings.clone()))
        .text("outcome", rows.iter().map(|r| r.outcome.clone()))
}

fn carc_table(run: &RemitRun) -> Table {
    let rows = &run.outcome.by_carc;
    Table::new()
        .text("code", rows.iter().map(|r| r.code.clone()))
        .text("label", rows.iter().map(|r| r.label.clone()))
        .integer("denials", rows.iter().map(|r| Some(r.denials as i64)))
        .number("denied_amount", rows.iter().map(|r| Some(r.amount)))
        .integer("predicted", rows.iter().map(|r| Some(r.predicted as i64)))
        .number("predicted_amount", rows.iter().map(|r| Some(r.predicted_amount)))
        .integer("missed", rows.iter().map(|r| Some(r.missed as i64)))
        .number("missed_amount", rows.iter().map(|r| Some(r.missed_amount)))
        .integer("unmatched", rows.iter().map(|r| Some(r.unmatched as i64)))
        .number("unmatched_amount", rows.iter().map(|r| Some(r.unmatched_amount)))
        .text("predicted_by", rows.iter().map(|r| r.rules.join("; ")))
        .text("rules_declaring", rows.iter().map(|r| r.declared_by.join("; ")))
        .text("rarcs", rows.iter().map(|r| r.rarcs.join("; ")))
}

fn rules_table(run: &RemitRun) -> Table {
    let rows = &run.outcome.by_rule;
    Table::new()
        .text("rule_id", rows.iter().map(|r| r.rule_id.clone()))
        .text("title", rows.iter().map(|r| r.title.clone()))
        .text("denial", rows.iter().map(|r| r.declared.clone()))
        .integer("findings", rows.iter().map(|r| Some(r.findings as i64)))
        .integer("predicted", rows.iter().map(|r| Some(r.predicted as i64)))
        .number("predicted_denied_amount", rows.iter().map(|r| Some(r.predicted_amount)))
        .integer("paid_anyway", rows.iter().map(|r| Some(r.paid_anyway as i64)))
        .number("paid_anyway_amount", rows.iter().map(|r| Some(r.paid_amount)))
        .integer("denied_other_reason", rows.iter().map(|r| Some(r.other_reason as i64)))
        .integer("line_not_remitted", rows.iter().map(|r| Some(r.line_not_remitted as i64)))
        .integer("claim_not_remitted", rows.iter().map(|r| Some(r.not_remitted as i64)))
}

fn denials_table(run: &RemitRun) -> Table {
    let rows = &run.outcome.denials;
    Table::new()
        .text("source", rows.iter().map(|r| r.source.clone()))
        .integer("segment", rows.iter().map(|r| Some(r.at.segment as i64)))
        .text("claim_id", rows.iter().map(|r| r.claim_id.clone()))
        .integer("remit_line", rows.iter().map(|r| r.remit_line.map(|x| x as i64)))
        .integer("audited_line_number", rows.iter().map(|r| r.line_number))
        .text("procedure_code", rows.iter().map(|r| r.procedure_code.clone()))
        .text("code", rows.iter().map(|r| r.code.clone()))
        .number("amount", rows.iter().map(|r| Some(r.amount)))
        .text("rarcs", rows.iter().map(|r| r.rarcs.join("; ")))
        .text("outcome", rows.iter().map(|r| r.outcome.as_str().to_string()))
        .text("predicted_by", rows.iter().map(|r| r.predicted_by.join("; ")))
        .text("other_findings", rows.iter().map(|r| r.other_rules.join("; ")))
}

fn findings_table(run: &RemitRun) -> Table {
    let rows = &run.outcome.findings;
    Table::new()
        .text("rule_id", rows.iter().map(|r| r.rule_id.clone()))
        .text("claim_id", rows.iter().map(|r| r.claim_id.clone()))
        .integer("line_number", rows.iter().map(|r| r.line_number))
        .text("severity", rows.iter().map(|r| r.severity.as_str().to_string()))
        .text("denial", rows.iter().map(|r| r.declared.clone()))
        .text("outcome", rows.iter().map(|r| r.outcome.as_str().to_string()))
        .text("denied_with", rows.iter().map(|r| r.denied_with.join("; ")))
        .number("paid", rows.iter().map(|r| Some(r.paid)))
        .number("denied", rows.iter().map(|r| Some(r.denied)))
        .text("message", rows.iter().map(|r| r.message.clone()))
}

/// Everything that did not pair, in both directions.
#[derive(Debug, Clone, Serialize)]
pub struct Unmatched {
    pub kind: &'static str,
    pub source: String,
    pub claim_id: String,
    pub remit_line: Option<i64>,
    pub line_number: Option<i64>,
    pub procedure_code: String,
    pub service_date: String,
    pub billed: Option<f64>,
    /// Segment position in the remittance, or `file:row` in the claims.
    #[serde(rename = "where")]
    pub where_: String,
}

/// The unmatched items, remittance side first.
pub fn unmatched(run: &RemitRun) -> Vec<Unmatched> {
    let mut v = Vec::new();
    for m in &run.matching.claims {
        let r = &run.remittances[m.remit.file];
        let c = m.remit.get(&run.remittances);
        if m.audited_claim.is_none() {
            v.push(Unmatched {
                kind: "remittance claim not in the claims",
                source: r.source.clone(),
                claim_id: c.claim_id.clone(),
                remit_line: None,
                line_number: None,
                procedure_code: String::new(),
                service_date: c.service_date_from.clone(),
                billed: Some(c.billed),
                where_: c.at.to_string(),
            });
            continue;
        }
        for lm in m.lines.iter().filter(|l| l.audited.is_none()) {
            let l = &c.lines[lm.remit_line];
            v.push(Unmatched {
                kind: "remittance line not in the claim",
                source: r.source.clone(),
                claim_id: c.claim_id.clone(),
                remit_line: Some(lm.remit_line as i64 + 1),
                line_number: None,
                procedure_code: l.procedure_code.clone(),
                service_date: line_date(c, l).to_string(),
                billed: l.billed,
                where_: l.at.to_string(),
            });
        }
        for &i in &m.unmentioned {
            let a = &run.claims.lines[i];
            v.push(Unmatched {
                kind: "claim line not in the remittance",
                source: r.source.clone(),
                claim_id: a.claim_id.clone(),
                remit_line: None,
                line_number: a.line_number,
                procedure_code: a.procedure_code.clone(),
                service_date: a.service_date.clone(),
                billed: a.charge,
                where_: a.location.clone(),
            });
        }
    }
    for id in &run.matching.unremitted {
        let lines = run.claims.by_claim.get(id).map(Vec::as_slice).unwrap_or(&[]);
        let first = lines.first().map(|&i| &run.claims.lines[i]);
        v.push(Unmatched {
            kind: "claim not in any remittance",
            source: String::new(),
            claim_id: id.clone(),
            remit_line: None,
            line_number: None,
            procedure_code: String::new(),
            service_date: first.map(|a| a.service_date.clone()).unwrap_or_default(),
            billed: Some(lines.iter().filter_map(|&i| run.claims.lines[i].charge).sum()),
            where_: first.map(|a| a.location.clone()).unwrap_or_default(),
        });
    }
    v
}

fn unmatched_table(run: &RemitRun) -> Table {
    let rows = unmatched(run);
    Table::new()
        .text("kind", rows.iter().map(|r| r.kind.to_string()))
        .text("remittance", rows.iter().map(|r| r.source.clone()))
        .text("claim_id", rows.iter().map(|r| r.claim_id.clone()))
        .integer("remit_line", rows.iter().map(|r| r.remit_line))
        .integer("line_number", rows.iter().map(|r| r.line_number))
        .text("procedure_code", rows.iter().map(|r| r.procedure_code.clone()))
        .text("service_date", rows.iter().map(|r| r.service_date.clone()))
        .number("billed", rows.iter().map(|r| r.billed))
        .text("where", rows.iter().map(|r| r.where_.clone()))
}

/// Rows shown in each long HTML table; every row is in the CSV files.
const MAX_HTML_ROWS: usize = 5000;

/// One remittance file in the report's file list.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub source: String,
    pub version: String,
    pub transactions: usize,
    pub clp_segments: usize,
    pub claims: usize,
    pub rejected: usize,
    pub lines: usize,
    pub balances: bool,
    pub errors: usize,
    pub warnings: usize,
}

/// A PLB adjustment with its file.
#[derive(Debug, Clone, Serialize)]
pub struct PlbRow<'a> {
    pub source: &'a str,
    pub transaction: &'a str,
    #[serde(flatten)]
    pub adjustment: &'a super::model::ProviderAdjustment,
}

/// Everything the remit.html template reads.
#[derive(Serialize)]
pub struct Page<'a> {
    pub title: &'a str,
    pub generated: String,
    pub claim_sources: &'a [String],
    pub files: Vec<FileSummary>,
    pub audited_claims: usize,
    pub remit_claims: usize,
    pub matched_claims: usize,
    pub unremitted: usize,
    pub posting: &'a super::posting::Posting,
    pub totals: &'a super::reconcile::Totals,
    pub by_carc: &'a [super::reconcile::CarcRow],
    pub by_rule: &'a [super::reconcile::RuleRow],
    pub denials: &'a [super::reconcile::DenialRow],
    pub findings: &'a [super::reconcile::FindingRow],
    pub provider_adjustments: Vec<PlbRow<'a>>,
    pub lines: Vec<LineRow>,
    pub lines_truncated: usize,
    pub unmatched: Vec<Unmatched>,
    pub problems: &'a [crate::vocab::Finding],
    pub problem_count: usize,
    /// Rows left out of the denial, finding and problem tables (they are in the CSV files).
    pub rows_truncated: usize,
    /// Largest denied amount of one CARC, for the bar widths.
    pub max_carc_amount: f64,
    /// The related-CARC families, for the explanation.
    pub families: Vec<(&'static str, String)>,
}

pub fn page<'a>(run: &'a RemitRun, title: &'a str, generated: String) -> Page<'a> {
    let files = run
        .remittances
        .iter()
        .map(|r| FileSummary {
            source: r.source.clone(),
            version: r.version.clone(),
            transactions: r.transactions.len(),
            clp_segments: r.clp_segments,
            claims: r.claims().count(),
            rejected: r.claims_rejected(),
            lines: r.claims().map(|c| c.lines.len()).sum(),
            balances: r.balances(),
            errors: r.problems.iter().filter(|p| p.severity == crate::vocab::Severity::Error).count(),
            warnings: r.problems.iter().filter(|p| p.severity == crate::vocab::Severity::Warning).count(),
        })
        .collect();
    let provider_adjustments = run
        .remittances
        .iter()
        .flat_map(|r| {
            r.transactions.iter().flat_map(move |t| {
                t.provider_adjustments.iter().map(move |a| PlbRow { source: &r.source, transaction: &t.control_number, adjustment: a })
            })
        })
        .collect();
    let mut lines = line_rows(run);
    let lines_truncated = lines.len().saturating_sub(MAX_HTML_ROWS);
    lines.truncate(MAX_HTML_ROWS);
    Page {
        title,
        generated,
        claim_sources: &run.audit.sources,
        files,
        audited_claims: run.claims.claim_order.len(),
        remit_claims: run.matching.claims.len(),
        matched_claims: run.matching.matched_claims(),
        unremitted: run.matching.unremitted.len(),
        posting: &run.posting,
        totals: &run.outcome.totals,
        by_carc: &run.outcome.by_carc,
        by_rule: &run.outcome.by_rule,
        denials: first(&run.outcome.denials),
        findings: first(&run.outcome.findings),
        provider_adjustments,
        lines,
        lines_truncated,
        unmatched: unmatched(run),
        problems: first(&run.problems),
        problem_count: run.problems.len(),
        rows_truncated: [run.outcome.denials.len(), run.outcome.findings.len(), run.problems.len()]
            .iter()
            .map(|n| n.saturating_sub(MAX_HTML_ROWS))
            .sum(),
        max_carc_amount: run.outcome.by_carc.iter().map(|c| c.amount).fold(0.0, f64::max).max(0.01),
        families: codes::RELATED.iter().map(|(name, f)| (*name, f.join(", "))).collect(),
    }
}

fn first<T>(rows: &[T]) -> &[T] {
    &rows[..rows.len().min(MAX_HTML_ROWS)]
}
