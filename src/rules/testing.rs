//! `claimlint rules test`: each rule's examples (claim lines in, expected findings out) are run
//! through the real loader and engine, and compared with a readable diff.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Result;
use polars::prelude::*;
use rhai::Engine;

use super::meta::{Example, Expected};
use super::run::{self, ProviderRecord};
use super::{yaml_params_to_map, CompiledRule};
use crate::batch::Batch;
use crate::refdata::RefData;
use crate::schema::COLUMNS;
use crate::vocab::Finding;

/// A valid professional line that examples override field by field.
pub const DEFAULT_LINE: &[(&str, &str)] = &[
    ("claim_id", "T1"),
    ("claim_type", "professional"),
    ("payer_id", "MEDICARE"),
    ("patient_id", "P1"),
    ("patient_birth_date", "1960-01-15"),
    ("patient_sex", "F"),
    ("billing_npi", "1234567893"),
    ("rendering_npi", "1234567893"),
    ("received_date", "2024-07-15"),
    ("dx_1", "I10"),
    ("service_date_from", "2024-07-01"),
    ("place_of_service", "11"),
    ("procedure_code", "99213"),
    ("units", "1"),
    ("charge_amount", "100.00"),
    ("dx_pointers", "1"),
];

#[derive(Debug)]
pub struct ExampleOutcome {
    pub rule_id: String,
    pub path: String,
    pub example: String,
    pub failure: Option<String>,
}

fn yaml_scalar(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::Null => None,
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::String(s) => Some(s.clone()),
        other => Some(serde_yaml::to_string(other).unwrap_or_default().trim().to_string()),
    }
}

/// Builds the provider records for an example's batch (the provider aggregates and fraud-risk
/// indicators live above the rule engine, so the caller supplies them).
pub type ProviderSource<'a> = &'a (dyn Fn(&Arc<Batch>, &RefData) -> Result<Vec<ProviderRecord>> + Sync);

/// Builds the batch for an example's lines through the normal loader.
/// The reference tables an example declares, loaded the way `--refdata` loads a folder: each
/// table's rows are written as `NAME.csv` in its normalised columns and recognised by them.
/// `None` when the example declares none (it then runs against the loaded tables).
fn example_tables(tables: &BTreeMap<String, Vec<BTreeMap<String, serde_yaml::Value>>>) -> Result<Option<RefData>> {
    if tables.is_empty() {
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    for (name, rows) in tables {
        if crate::refdata::registry::TABLES.iter().all(|t| t.name != name) {
            anyhow::bail!("`{name}` is not a reference table name (see `claimlint refdata`)");
        }
        let mut header: Vec<&str> = Vec::new();
        for row in rows {
            for k in row.keys() {
                if !header.contains(&k.as_str()) {
                    header.push(k);
                }
            }
        }
        let cell = |v: Option<&serde_yaml::Value>| {
            let text = v.and_then(yaml_scalar).unwrap_or_default();
            if text.contains([',', '"', '\n']) {
                format!("\"{}\"", text.replace('"', "\"\""))
            } else {
                text
            }
        };
        let mut csv = header.join(",") + "\n";
        for row in rows {
            csv += &header.iter().map(|h| cell(row.get(*h))).collect::<Vec<_>>().join(",");
            csv += "\n";
        }
        std::fs::write(dir.path().join(format!("{name}.csv")), csv)?;
    }
    // Errors name the example's table, not the temporary folder it was written to.
    let shown = |e: anyhow::Error| anyhow::anyhow!("{}", format!("{e:#}").replace(&format!("{}/", dir.path().display()), "example table "));
    let rd = RefData::load_dir(dir.path()).map_err(shown)?;
    if let Some(name) = tables.keys().find(|n| !rd.has_table(n)) {
        anyhow::bail!("the rows given for `{name}` were not recognised as that table: give its normalised columns (docs/refdata.md)");
    }
    Ok(Some(rd))
}

pub fn example_batch(lines: &[BTreeMap<String, serde_yaml::Value>]) -> Result<Batch> {
    for (i, line) in lines.iter().enumerate() {
        if let Some(bad) = line.keys().find(|k| crate::schema::column(k).is_none()) {
            anyhow::bail!("line {}: `{bad}` is not a canonical column (see `claimlint schema`)", i + 1);
        }
    }
    let mut columns = Vec::new();
    for c in COLUMNS {
        let default = DEFAULT_LINE.iter().find(|(n, _)| *n == c.name).map(|(_, v)| v.to_string());
        let values: Vec<Option<String>> = lines
            .iter()
            .map(|l| match l.get(c.name) {
                Some(v) => yaml_scalar(v),
                None => default.clone(),
            })
            .collect();
        columns.push(Column::new(c.name.into(), values));
    }
    let n = lines.len();
    columns.push(Column::new("_source".into(), vec![0u32; n]));
    columns.push(Column::new("_row".into(), (1..=n as u32).collect::<Vec<_>>()));
    let raw = DataFrame::new(n, columns)?;
    let sources = vec!["example".to_string()];
    let (batch, issues) = Batch::from_text_frame(&raw, sources)?;
    if let Some(issue) = issues.first() {
        anyhow::bail!("line {}: {}", issue.row.unwrap_or(0), issue.message);
    }
    Ok(batch)
}

fn matches(e: &Expected, f: &Finding) -> bool {
    e.claim_id.as_ref().is_none_or(|c| *c == f.claim_id)
        && e.line_number.is_none_or(|l| Some(l) == f.line_number)
        && e.message_contains.as_ref().is_none_or(|m| f.message.to_lowercase().contains(&m.to_lowercase()))
        && e.amount_at_risk.is_none_or(|a| (a - f.amount_at_risk).abs() < 0.005)
        && e.fix.as_ref().is_none_or(|want| f.fix.as_ref().is_some_and(|x| x.proposed.join("|") == *want))
}

fn describe_expected(e: &Expected) -> String {
    let mut parts = Vec::new();
    if let Some(c) = &e.claim_id {
        parts.push(format!("claim {c}"));
    }
    if let Some(l) = e.line_number {
        parts.push(format!("line {l}"));
    }
    if let Some(m) = &e.message_contains {
        parts.push(format!("message containing {m:?}"));
    }
    if let Some(a) = e.amount_at_risk {
        parts.push(format!("amount {a:.2}"));
    }
    if let Some(x) = &e.fix {
        parts.push(format!("fix {x:?}"));
    }
    if parts.is_empty() {
        "any finding".into()
    } else {
        parts.join(", ")
    }
}

fn describe_actual(f: &Finding) -> String {
    let line = f.line_number.map(|l| format!("line {l}")).unwrap_or_else(|| "claim-level".into());
    let fix = f.fix.as_ref().map(|x| format!(", fix {:?} ({})", x.proposed.join("|"), x.kind.as_str())).unwrap_or_default();
    format!("claim {}, {line}, amount {:.2}{fix}: {:?}", f.claim_id, f.amount_at_risk, f.message)
}

/// Runs one example; None when it passes, else a diff of expected against actual findings.
/// The example runs with and without the rule's selector: a finding the selector would drop is
/// a failure.
pub fn run_example(engine: &Engine, refdata: &RefData, providers: ProviderSource, rule: &CompiledRule, example: &Example) -> Option<String> {
    let batch = match example_batch(&example.lines) {
        Ok(b) => Arc::new(b),
        Err(e) => return Some(format!("example lines cannot be loaded: {e:#}")),
    };
    let own_tables = match example_tables(&example.tables) {
        Ok(t) => t,
        Err(e) => return Some(format!("example tables cannot be loaded: {e:#}")),
    };
    // The scripts' table functions read the tables their engine was built with.
    let own_engine = own_tables.map(|t| {
        let t = Arc::new(t);
        (super::new_engine(super::Sandbox { max_operations: engine.max_operations() }, &t), t)
    });
    let (engine, refdata) = match &own_engine {
        Some((e, t)) => (e, t.as_ref()),
        None => (engine, refdata),
    };
    let providers = match providers(&batch, refdata) {
        Ok(p) => p,
        Err(e) => return Some(format!("provider indicators cannot be computed: {e:#}")),
    };
    let mut rule = rule.clone();
    if !example.params.is_empty() {
        let mut params = (*rule.params).clone();
        match yaml_params_to_map(&example.params) {
            Ok(over) => params.extend(over),
            Err(e) => return Some(e),
        }
        rule.params = Arc::new(params);
    }
    let input = run::Input { batch: &batch, providers: &providers, refdata };
    let out = run::run_rules(engine, std::slice::from_ref(&rule), &input, run::RunOptions { verify_selectors: true });
    if let Some(f) = out.failures.first() {
        return Some(format!("the rule failed: {f}"));
    }
    if let Some(n) = out.not_run.first() {
        return Some(format!("the rule did not run: it requires {} (not loaded)", n.missing.join(", ")));
    }
    if !out.selector_misses.is_empty() {
        let missed: Vec<String> = out.selector_misses.iter().map(|f| format!("  ! selector drops: {}", describe_actual(f))).collect();
        return Some(format!("the rule's selector does not select records the script flags:\n{}", missed.join("\n")));
    }
    if !out.bypass_mismatches.is_empty() {
        return Some(format!("the rule's bypasses differ with and without its selector: {}", out.bypass_mismatches.join("; ")));
    }
    let mut bypass_diff = String::new();
    if let Some(want) = &example.bypasses {
        let got: BTreeMap<String, u64> = out.bypasses.by_rule.iter().map(|b| (b.reason.clone(), b.count)).collect();
        if &got != want {
            bypass_diff = format!("  - expected bypasses: {want:?}\n  + actual bypasses:   {got:?}\n");
        }
    }
    let mut unmatched: Vec<&Finding> = out.findings.iter().collect();
    let mut missing = Vec::new();
    for e in &example.expect {
        match unmatched.iter().position(|f| matches(e, f)) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(e),
        }
    }
    if missing.is_empty() && unmatched.is_empty() && bypass_diff.is_empty() {
        return None;
    }
    let mut diff = bypass_diff;
    for e in missing {
        diff.push_str(&format!("  - expected: {}\n", describe_expected(e)));
    }
    for f in unmatched {
        diff.push_str(&format!("  + actual:   {}\n", describe_actual(f)));
    }
    Some(diff)
}

pub fn run_all(engine: &Engine, refdata: &RefData, providers: ProviderSource, rules: &[CompiledRule]) -> Vec<ExampleOutcome> {
    let mut out = Vec::new();
    for rule in rules {
        for example in &rule.meta().examples {
            out.push(ExampleOutcome {
                rule_id: rule.meta().id.clone(),
                path: rule.source.path.display().to_string(),
                example: example.name.clone(),
                failure: run_example(engine, refdata, providers, rule, example),
            });
        }
    }
    out
}
