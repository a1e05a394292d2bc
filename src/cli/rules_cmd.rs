//! `claimlint rules …`: the consultant's tools for rule files.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Subcommand;

use crate::rules::{self, check, testing, CompiledRule, Sandbox};
use crate::vocab::input_error;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Table of rules: id, title, severity, scope, payers, effective dates.
    List {
        #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES")]
        rules: PathBuf,
        /// Reference tables; default: RULES/data.
        #[arg(long, env = "CLAIMLINT_REFDATA")]
        refdata: Option<PathBuf>,
        /// Only rules that apply to this payer (rules for all payers included).
        #[arg(long)]
        payer: Option<String>,
        /// Only rules with this tag.
        #[arg(long)]
        tag: Option<String>,
    },
    /// A rule's metadata, rationale, citation, parameters and examples.
    Explain {
        id: String,
        #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES")]
        rules: PathBuf,
        /// Reference tables; default: RULES/data.
        #[arg(long, env = "CLAIMLINT_REFDATA")]
        refdata: Option<PathBuf>,
    },
    /// Compile every rule without claims; report errors with file, line and column.
    Check {
        #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES")]
        rules: PathBuf,
        /// Reference tables; default: RULES/data.
        #[arg(long, env = "CLAIMLINT_REFDATA")]
        refdata: Option<PathBuf>,
    },
    /// Run every rule's examples and compare expected with actual findings.
    Test {
        /// A rule file or a folder (default: the rules folder).
        path: Option<PathBuf>,
        #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES")]
        rules: PathBuf,
        /// Reference tables; default: RULES/data.
        #[arg(long, env = "CLAIMLINT_REFDATA")]
        refdata: Option<PathBuf>,
    },
    /// Scaffold a payer rule with metadata and passing examples.
    New {
        #[arg(long)]
        payer: String,
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES")]
        rules: PathBuf,
    },
}

pub fn run(cmd: RulesCommand) -> Result<u8> {
    match cmd {
        RulesCommand::List { rules, payer, tag, refdata } => list(&rules, refdata.as_deref(), payer.as_deref(), tag.as_deref()),
        RulesCommand::Explain { id, rules, refdata } => explain(&rules, refdata.as_deref(), &id),
        RulesCommand::Check { rules, refdata } => check_cmd(&rules, refdata.as_deref()),
        RulesCommand::Test { path, rules, refdata } => test_cmd(path.as_deref().unwrap_or(&rules), refdata.as_deref()),
        RulesCommand::New { payer, id, rules } => new_rule(&rules, &payer, &id),
    }
}

fn load(dir: &Path, refdata: Option<&Path>) -> Result<(rhai::Engine, rules::RuleSet, std::sync::Arc<crate::refdata::RefData>)> {
    if !dir.exists() {
        bail!(input_error(format!("rules folder {} does not exist", dir.display())));
    }
    let refdata = rules::load_refdata(dir, refdata)?;
    let engine = rules::new_engine(Sandbox::default(), &refdata);
    let set = if dir.is_file() {
        let compiled = rules::source::read_rule_file(dir).and_then(|s| rules::compile(&engine, s));
        match compiled {
            Ok(r) => rules::RuleSet { rules: vec![r], diagnostics: vec![] },
            Err(d) => rules::RuleSet { rules: vec![], diagnostics: vec![d] },
        }
    } else {
        rules::load_rules(&engine, dir)?
    };
    Ok((engine, set, refdata))
}

fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
}

fn list(dir: &Path, refdata: Option<&Path>, payer: Option<&str>, tag: Option<&str>) -> Result<u8> {
    let (_, set, _) = load(dir, refdata)?;
    for d in &set.diagnostics {
        eprintln!("{d}");
    }
    let mut rows: Vec<&CompiledRule> = set
        .rules
        .iter()
        .filter(|r| payer.is_none_or(|p| r.meta().applies_to_payer(p)))
        .filter(|r| tag.is_none_or(|t| r.meta().tags.iter().any(|x| x == t)))
        .collect();
    rows.sort_by(|a, b| a.meta().id.cmp(&b.meta().id));
    outln!("{:<28} {:<8} {:<12} {:<16} {:<11} {:<11} TITLE", "ID", "SEVERITY", "SCOPE", "PAYERS", "FROM", "TO")?;
    for r in &rows {
        let m = r.meta();
        let payers = if m.payers.is_empty() { "all".to_string() } else { m.payers.join(",") };
        outln!(
            "{:<28} {:<8} {:<12} {:<16} {:<11} {:<11} {}",
            m.id,
            m.severity.as_str(),
            m.scope.as_str(),
            payers,
            date(m.effective_from),
            date(m.effective_to),
            m.title
        )?;
    }
    outln!("{} rule(s)", rows.len())?;
    Ok(0)
}

/// A data-quality check the readers report: built in, so it has no rule file.
fn explain_dq(c: &crate::load::dq::DqCheck) -> Result<u8> {
    outln!("{} — {}", c.id, c.title)?;
    outln!("  built in:  a data-quality check of the readers (src/load/dq.rs)")?;
    outln!("  severity:  {}   category: data-quality", c.severity.as_str())?;
    outln!("\nWhy this is a problem:\n  {}", c.rationale.trim())?;
    Ok(0)
}

fn explain(dir: &Path, refdata: Option<&Path>, id: &str) -> Result<u8> {
    let (_, set, _) = load(dir, refdata)?;
    let found: Vec<&CompiledRule> = set.rules.iter().filter(|r| r.meta().id.eq_ignore_ascii_case(id)).collect();
    if found.is_empty() {
        if let Some(c) = crate::load::dq::find(&id.to_ascii_uppercase()) {
            return explain_dq(c);
        }
        bail!(input_error(format!("no rule with id `{id}` under {} (see `claimlint rules list`)", dir.display())));
    }
    for r in found {
        let m = r.meta();
        outln!("{} — {}", m.id, m.title)?;
        outln!("  file:      {}", r.source.path.display())?;
        outln!("  severity:  {}   category: {}   scope: {}", m.severity.as_str(), m.category.as_str(), m.scope.as_str())?;
        outln!("  payers:    {}", if m.payers.is_empty() { "all".into() } else { m.payers.join(", ") })?;
        outln!("  effective: {} to {}", date(m.effective_from), date(m.effective_to))?;
        if !m.tags.is_empty() {
            outln!("  tags:      {}", m.tags.join(", "))?;
        }
        outln!("\nWhy this is a problem:\n  {}", m.rationale.trim())?;
        outln!("\nSource: {}", if m.citation.is_empty() { "—" } else { &m.citation })?;
        if !m.params.is_empty() {
            outln!("\nParameters (defaults; payer packs may override):")?;
            for (k, v) in &m.params {
                outln!("  {k}: {}", serde_yaml::to_string(v).unwrap_or_default().trim().replace('\n', " "))?;
            }
        }
        if !m.examples.is_empty() {
            outln!("\nExamples:")?;
            for e in &m.examples {
                let outcome = if e.expect.is_empty() { "clean".to_string() } else { format!("{} finding(s)", e.expect.len()) };
                outln!("  - {} ({} line(s) → {outcome})", e.name, e.lines.len())?;
            }
        }
        outln!()?;
    }
    Ok(0)
}

fn check_cmd(dir: &Path, refdata: Option<&Path>) -> Result<u8> {
    let (engine, set, _) = load(dir, refdata)?;
    let known = check::KnownFunctions::of(&engine);
    let mut diags = set.diagnostics.clone();
    for r in &set.rules {
        diags.extend(check::check_calls(&known, r));
        diags.extend(check::check_denial(r));
    }
    diags.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    for d in &diags {
        outln!("{d}")?;
    }
    let errors = diags.iter().filter(|d| !d.is_warning).count();
    let warnings = diags.len() - errors;
    let files = set.rules.len() + set.diagnostics.iter().filter(|d| !d.is_warning).count();
    outln!("{files} rule file(s) checked: {errors} error(s), {warnings} warning(s)")?;
    Ok(u8::from(errors > 0))
}

fn test_cmd(path: &Path, refdata: Option<&Path>) -> Result<u8> {
    let (engine, set, refdata) = load(path, refdata)?;
    for d in &set.diagnostics {
        outln!("{d}")?;
    }
    let outcomes = testing::run_all(&engine, &refdata, &crate::audit::example_providers, &set.rules);
    let mut failed = 0;
    for o in &outcomes {
        match &o.failure {
            None => outln!("PASS {} — {}", o.rule_id, o.example)?,
            Some(diff) => {
                failed += 1;
                outln!("FAIL {} — {} ({})\n{}", o.rule_id, o.example, o.path, diff.trim_end())?;
            }
        }
    }
    let without: Vec<&str> = set.rules.iter().filter(|r| r.meta().examples.is_empty()).map(|r| r.meta().id.as_str()).collect();
    if !without.is_empty() {
        outln!("note: {} rule(s) have no examples: {}", without.len(), without.join(", "))?;
    }
    let broken = set.diagnostics.iter().filter(|d| !d.is_warning).count();
    outln!("{} passed, {} failed", outcomes.len() - failed, failed + broken)?;
    Ok(u8::from(failed + broken > 0))
}

fn new_rule(dir: &Path, payer: &str, id: &str) -> Result<u8> {
    if id.trim().is_empty() || id.contains(char::is_whitespace) || id.contains('/') {
        bail!(input_error(format!("`{id}` is not a usable rule id: use letters, digits and dashes")));
    }
    let folder = dir.join("payers").join(payer.to_lowercase().replace(' ', "-"));
    let path = folder.join(format!("{}.rhai", id.to_lowercase()));
    if path.exists() {
        bail!(input_error(format!("{} already exists", path.display())));
    }
    std::fs::create_dir_all(&folder)?;
    std::fs::write(&path, scaffold(payer, id))?;
    outln!("created {}", path.display())?;
    outln!("next: edit it, then run `claimlint rules test {}`", path.display())?;
    Ok(0)
}

pub fn scaffold(payer: &str, id: &str) -> String {
    format!(
        r#"/*---
id: {id}
title: Describe in one line what this rule checks
severity: warning
category: compliance
scope: line
rationale: >
  Explain why the pattern is a problem for {payer}: what the payer does with such claims
  (denial, recoupment, audit) and what the biller should change.
citation: "{payer} provider manual, section to be filled in"
payers: ["{payer}"]
tags: [payer]
params:
  # Tunable without editing the script; a payer pack may override it.
  review_codes: ["99215"]
examples:
  - name: a code on the review list is flagged
    lines:
      - {{ payer_id: "{payer}", procedure_code: "99215" }}
    expect:
      - {{ line_number: 1, message_contains: "99215" }}
  - name: other codes pass
    lines:
      - {{ payer_id: "{payer}", procedure_code: "99213" }}
    expect: []
---*/

// Replace this with the payer's policy. Line fields (procedure_code, units, ...) are variables;
// `param(...)` reads the parameters above; `flag(...)` reports a finding on this line.
if param("review_codes").contains(procedure_code) {{
    flag(`${{procedure_code}} is on the {payer} review list`);
}}
"#
    )
}
