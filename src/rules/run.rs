//! Phase 2: evaluate compiled rules over a batch, in parallel with rayon.
//!
//! Work is split into (rule, chunk of records) tasks. Each task reuses one Rhai scope and pushes
//! only the variables its script mentions. Polars is never called from here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use rhai::{Array, Dynamic, Engine, ImmutableString, Scope as RhaiScope};

use super::api::{self, Line, RawFinding};
use super::{CompiledRule, Scope};
use crate::batch::{col_index, Batch};
use crate::vocab::Finding;

/// A rule that failed at run time; its remaining records were skipped.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleFailure {
    pub rule_id: String,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The claim line being evaluated when it failed.
    pub record: String,
}

impl std::fmt::Display for RuleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: rule {} failed on {}: {}; its remaining records were skipped",
            self.path, self.line, self.column, self.rule_id, self.record, self.message
        )
    }
}

#[derive(Default)]
pub struct RunOutput {
    pub findings: Vec<Finding>,
    pub failures: Vec<RuleFailure>,
    /// Script evaluations performed (records x rules that applied).
    pub evaluations: u64,
}

const CHUNK: usize = 512;

/// One record of a scope: the rows it covers. Line scope uses `first` alone.
struct Record<'a> {
    rows: &'a [u32],
}

/// Runs every rule on every record of its scope.
pub fn run_rules(engine: &Engine, rules: &[CompiledRule], batch: &Arc<Batch>) -> RunOutput {
    let all_rows: Vec<u32> = (0..batch.len as u32).collect();
    let tasks: Vec<(usize, usize, usize)> = rules
        .iter()
        .enumerate()
        .flat_map(|(r, rule)| {
            let n = record_count(rule.meta().scope, batch);
            (0..n).step_by(CHUNK).map(move |start| (r, start, (start + CHUNK).min(n)))
        })
        .collect();
    let aborted: Vec<AtomicBool> = rules.iter().map(|_| AtomicBool::new(false)).collect();
    let failures = Mutex::new(Vec::new());
    let evaluations = std::sync::atomic::AtomicU64::new(0);

    let findings: Vec<Finding> = tasks
        .par_iter()
        .flat_map_iter(|&(r, start, end)| {
            let rule = &rules[r];
            let mut out = Vec::new();
            if aborted[r].load(Ordering::Relaxed) {
                return out;
            }
            let mut scope = RhaiScope::new();
            let mut evaluated = 0u64;
            for i in start..end {
                let record = record_at(rule.meta().scope, batch, &all_rows, i);
                let Some(lines) = applicable_lines(rule, batch, record.rows) else { continue };
                let over = payer_override(rule, batch, lines[0]);
                scope.rewind(0);
                let (anchor, line_level, default_amount) = push_variables(&mut scope, rule, batch, &lines, i);
                let params = over.map(|o| o.params.clone()).unwrap_or_else(|| rule.params.clone());
                api::begin_record(anchor, line_level, default_amount, Some(params));
                evaluated += 1;
                if let Err(err) = engine.run_ast_with_scope(&mut scope, &rule.ast) {
                    api::take_findings();
                    if !aborted[r].swap(true, Ordering::Relaxed) {
                        let (line, column) = api::position_of(err.position()).unwrap_or((1, 1));
                        failures.lock().expect("failure list").push(RuleFailure {
                            rule_id: rule.meta().id.clone(),
                            path: rule.source.path.display().to_string(),
                            line,
                            column,
                            message: err.to_string(),
                            record: describe_row(batch, anchor),
                        });
                    }
                    break;
                }
                let severity = over.and_then(|o| o.severity).unwrap_or(rule.meta().severity);
                out.extend(api::take_findings().into_iter().map(|f| to_finding(rule, batch, f, severity)));
            }
            evaluations.fetch_add(evaluated, Ordering::Relaxed);
            out
        })
        .collect();

    let mut failures = failures.into_inner().expect("failure list");
    failures.sort_by(|a, b| a.rule_id.cmp(&b.rule_id));
    // A failed rule's findings are partial; drop them rather than report half a rule.
    let failed: Vec<&str> = failures.iter().map(|f| f.rule_id.as_str()).collect();
    let findings = findings.into_iter().filter(|f| !failed.contains(&f.rule_id.as_str())).collect();
    RunOutput { findings, failures, evaluations: evaluations.into_inner() }
}

fn record_count(scope: Scope, batch: &Batch) -> usize {
    match scope {
        Scope::Line => batch.len,
        Scope::Claim => batch.claims.len(),
        Scope::PatientDay => batch.patient_days.len(),
        Scope::Provider => batch.providers.len(),
    }
}

fn record_at<'a>(scope: Scope, batch: &'a Batch, all_rows: &'a [u32], i: usize) -> Record<'a> {
    let rows = match scope {
        Scope::Line => &all_rows[i..=i],
        Scope::Claim => batch.claims.get(i),
        Scope::PatientDay => batch.patient_days.get(i),
        Scope::Provider => batch.providers.get(i),
    };
    Record { rows }
}

/// The pack override in force for a line's payer and date of service, if any.
fn payer_override<'a>(rule: &'a CompiledRule, batch: &Batch, row: u32) -> Option<&'a super::pack::PayerOverride> {
    if rule.overrides.is_empty() {
        return None;
    }
    let payer = batch.text(col_index("payer_id"), row as usize);
    let day = batch.date_days(col_index("service_date_from"), row as usize);
    rule.overrides.iter().map(|o| o.as_ref()).find(|o| o.matches(payer, day))
}

/// The lines of a record this rule applies to, by payer and date of service, less those whose
/// payer pack disables the rule; None when none.
fn applicable_lines(rule: &CompiledRule, batch: &Batch, rows: &[u32]) -> Option<Vec<u32>> {
    let any_disabled = rule.overrides.iter().any(|o| o.disabled);
    if any_disabled {
        let kept: Vec<u32> =
            rows.iter().copied().filter(|&r| !payer_override(rule, batch, r).is_some_and(|o| o.disabled)).collect();
        if kept.is_empty() {
            return None;
        }
        return applicable_unpacked(rule, batch, &kept);
    }
    applicable_unpacked(rule, batch, rows)
}

fn applicable_unpacked(rule: &CompiledRule, batch: &Batch, rows: &[u32]) -> Option<Vec<u32>> {
    let meta = rule.meta();
    let unrestricted = meta.payers.is_empty() && meta.effective_from.is_none() && meta.effective_to.is_none();
    if unrestricted || meta.scope == Scope::Provider {
        return (!rows.is_empty()).then(|| rows.to_vec());
    }
    let payer = col_index("payer_id");
    let dos = col_index("service_date_from");
    let kept: Vec<u32> = rows
        .iter()
        .copied()
        .filter(|&r| {
            meta.applies_to_payer(batch.text(payer, r as usize)) && meta.in_effect_on(batch.date_days(dos, r as usize))
        })
        .collect();
    (!kept.is_empty()).then_some(kept)
}

fn line_array(batch: &Arc<Batch>, rows: &[u32]) -> Array {
    rows.iter().map(|&row| Dynamic::from(Line { batch: batch.clone(), row })).collect()
}

/// Pushes the record's variables; returns the anchor row, whether findings default to that line,
/// and the default amount at risk.
fn push_variables(
    scope: &mut RhaiScope<'static>,
    rule: &CompiledRule,
    batch: &Arc<Batch>,
    rows: &[u32],
    record_index: usize,
) -> (u32, bool, f64) {
    let anchor = rows[0];
    let a = anchor as usize;
    let charge = col_index("charge_amount");
    let total: f64 = rows.iter().filter_map(|&r| batch.number(charge, r as usize)).sum();
    match rule.meta().scope {
        Scope::Line => {
            for name in &rule.uses {
                let value = match *name {
                    "line" => Dynamic::from(Line { batch: batch.clone(), row: anchor }),
                    "modifiers" => Dynamic::from(Line { batch: batch.clone(), row: anchor }.modifiers()),
                    "provider_npi" => Dynamic::from(batch.provider.get(a).clone()),
                    "location" => Dynamic::from(batch.location(a)),
                    col => batch.value(col_index(col), a),
                };
                scope.push_constant_dynamic(*name, value);
            }
            (anchor, true, batch.number(charge, a).unwrap_or(0.0))
        }
        Scope::Claim => {
            let dos = col_index("service_date_from");
            let dos_to = col_index("service_date_to");
            for name in &rule.uses {
                let value = match *name {
                    "lines" => Dynamic::from(line_array(batch, rows)),
                    "total_charge" => Dynamic::from_float(total),
                    "provider_npi" => Dynamic::from(batch.provider.get(a).clone()),
                    "service_date_from" => extreme_date(batch, dos, rows, false),
                    "service_date_to" => extreme_date(batch, dos_to, rows, true),
                    col => batch.value(col_index(col), a),
                };
                scope.push_constant_dynamic(*name, value);
            }
            (anchor, false, total)
        }
        Scope::PatientDay => {
            for name in &rule.uses {
                let value = match *name {
                    "lines" => Dynamic::from(line_array(batch, rows)),
                    "patient_id" => batch.value(col_index("patient_id"), a),
                    "provider_npi" => Dynamic::from(batch.provider.get(a).clone()),
                    "service_date" => batch.value(col_index("service_date_from"), a),
                    _ => Dynamic::UNIT,
                };
                scope.push_constant_dynamic(*name, value);
            }
            (anchor, false, 0.0)
        }
        Scope::Provider => {
            let aggs = &batch.provider_aggregates;
            for name in &rule.uses {
                let value = match *name {
                    "lines" => Dynamic::from(line_array(batch, rows)),
                    "provider_npi" => Dynamic::from(batch.provider.get(a).clone()),
                    "provider_specialty" => batch.value(col_index("provider_specialty"), a),
                    agg => aggs
                        .names
                        .iter()
                        .position(|n| n == agg)
                        .map(|k| aggs.values[record_index][k].clone())
                        .unwrap_or(Dynamic::UNIT),
                };
                scope.push_constant_dynamic(*name, value);
            }
            (anchor, false, 0.0)
        }
    }
}

fn extreme_date(batch: &Batch, col: usize, rows: &[u32], latest: bool) -> Dynamic {
    let best = rows
        .iter()
        .filter_map(|&r| batch.date_days(col, r as usize).map(|d| (d, r)))
        .reduce(|x, y| if (y.0 > x.0) == latest && y.0 != x.0 { y } else { x });
    match best {
        Some((_, r)) => batch.value(col, r as usize),
        None => Dynamic::from(ImmutableString::new()),
    }
}

fn describe_row(batch: &Batch, row: u32) -> String {
    let r = row as usize;
    let line = batch.integer(col_index("line_number"), r).map(|l| format!(" line {l}")).unwrap_or_default();
    format!("claim {}{line} ({})", batch.text(col_index("claim_id"), r), batch.location(r))
}

fn to_finding(rule: &CompiledRule, batch: &Batch, raw: RawFinding, severity: super::Severity) -> Finding {
    let meta = rule.meta();
    let r = raw.row as usize;
    let text = |name: &str| batch.text(col_index(name), r).to_string();
    Finding {
        claim_id: text("claim_id"),
        line_number: if raw.line_level { batch.integer(col_index("line_number"), r) } else { None },
        rule_id: meta.id.clone(),
        severity,
        category: meta.category,
        message: raw.message,
        amount_at_risk: raw.amount,
        citation: meta.citation.clone(),
        payer_id: text("payer_id"),
        provider_npi: batch.provider.get(r).to_string(),
        patient_id: text("patient_id"),
        service_date: text("service_date_from"),
        location: batch.location(r),
    }
}
