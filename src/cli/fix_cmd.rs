//! `claimlint fix`: audit the claims, then write a corrected copy with the findings' fixes and a
//! change log beside it.

use std::path::PathBuf;

use crate::audit::{run_audit, AuditOptions};
use crate::rules::Sandbox;
use crate::schema::AliasMap;
use crate::vocab::input_error;

#[derive(clap::Args)]
pub struct FixArgs {
    /// Claim files or folders (CSV, TSV and Parquet get corrected copies; X12 and NDJSON the
    /// change log only).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Folder for the corrected copies, changes.csv and pending_fixes.csv.
    #[arg(long)]
    out: PathBuf,
    /// Also apply suggested fixes that propose exactly one value (review them first: each
    /// needs a person's judgement).
    #[arg(long)]
    suggested: bool,
    #[command(flatten)]
    rule_args: super::shared_args::RuleArgs,
    #[command(flatten)]
    alias_args: super::shared_args::AliasArgs,
}

pub fn run(args: FixArgs) -> anyhow::Result<u8> {
    let files = crate::load::discover_inputs(&args.inputs)?;
    let mut aliases = AliasMap::builtin();
    if let Some(path) = &args.alias_args.aliases {
        aliases = aliases.with_file(path).map_err(|e| input_error(format!("{e:#}")))?;
    }
    let result = run_audit(&AuditOptions {
        inputs: files.clone(),
        rules_dir: args.rule_args.rules,
        refdata: args.rule_args.refdata,
        aliases: args.alias_args.aliases,
        sandbox: Sandbox::default(),
        // Fixes are mapped back to the rows of the batch, so it is audited in memory.
        partitions: Some(1),
        ..Default::default()
    })?;
    for d in result.diagnostics.iter().filter(|d| !d.is_warning) {
        eprintln!("{d}");
    }
    let outcome = crate::fix::apply(&result, &files, &aliases, &args.out, args.suggested)?;
    let safe = outcome.changes.iter().filter(|c| c.kind == crate::vocab::FixKind::Safe).count();
    outln!(
        "claimlint fix: {} finding(s) with a fix; {} cell(s) changed ({} safe, {} suggested); {} fix(es) left for a person",
        result.findings.iter().filter(|f| f.fix.is_some()).count(),
        outcome.changes.len(),
        safe,
        outcome.changes.len() - safe,
        outcome.pending.len()
    )?;
    for c in &outcome.changes {
        outln!("  {}:{} {}: {:?} -> {:?} ({}, {})", c.file, c.row, c.field, c.old, c.new, c.rule_id, c.kind.as_str())?;
    }
    for w in &outcome.written {
        outln!("corrected copy: {}", w.display())?;
    }
    for name in &outcome.log_only {
        outln!("{name}: X12 and NDJSON inputs are not rewritten; apply the changes in the change log at the source")?;
    }
    outln!("change log: {}  fixes left for a person: {}", outcome.change_log.display(), outcome.pending_log.display())?;
    Ok(0)
}
