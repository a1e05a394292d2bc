//! `claimlint map` and `claimlint reduce`: the out-of-core audit's two phases as commands, for a
//! cluster that partitions the claims itself (integrations/spark). See docs/partitioning.md.

use std::path::PathBuf;

use anyhow::Result;
use polars::prelude::DataType;

use super::shared_args::{AliasArgs, EngineArgs, ReportArgs, RuleArgs};
use super::{print_summary, write_reports};
use crate::audit::distributed::{map_partition, reduce_map_outputs, write_map_output, ROW_COLUMN, SOURCE_COLUMN};
use crate::audit::AuditOptions;
use crate::findings::{self, OutputFormat};
use crate::rules::Scope;
use crate::schema::AliasMap;
use crate::vocab::{input_error, Price};

#[derive(clap::Args)]
pub struct MapArgs {
    /// Parquet files with one partition's claim lines. Optional columns `_source` and `_row` give
    /// each line's file name and 1-based row there, for the findings' locations.
    #[arg(required_unless_present_any = ["findings_schema", "columns_read"])]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    rule_args: RuleArgs,
    #[command(flatten)]
    alias_args: AliasArgs,
    /// Folder for the partition's findings.parquet and partition.json (the rest of what the
    /// reduce needs).
    #[arg(long, required_unless_present_any = ["findings_schema", "columns_read"])]
    out: Option<PathBuf>,
    #[command(flatten)]
    engine_args: EngineArgs,
    /// `medicare` also loads the Physician Fee Schedule, so the findings are priced with it
    /// whatever the rules read; pass the reduce's `--price` here too.
    #[arg(long, default_value = "billed", value_parser = super::parse_price)]
    price: Price,
    /// Print the columns of findings.parquet as a Spark DDL schema and exit.
    #[arg(long, exclusive = true)]
    findings_schema: bool,
    /// Print which of these column names (the claims' header) the map reads, with --aliases
    /// applied, one a line, and exit: a cluster sends only those.
    #[arg(long, num_args = 1.., value_name = "NAME", conflicts_with_all = ["inputs", "out"])]
    columns_read: Vec<String>,
}

#[derive(clap::Args)]
pub struct ReduceArgs {
    /// partition.json files written by `claimlint map`, or folders of them. Give the --rules and
    /// --refdata the maps ran with; --strict also fails on a rule error in a map output.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The maps' findings.parquet files, or folders of Parquet files (a Spark dataset): each
    /// map's findings once. Checked against the counts in the map outputs.
    #[arg(long, num_args = 1..)]
    findings: Vec<PathBuf>,
    #[command(flatten)]
    rule_args: RuleArgs,
    /// Folder for the findings file, report.html, fraud.html and providers.csv.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    report_args: ReportArgs,
    /// Also write the findings of the provider-scope rules alone to this Parquet file (for a
    /// driver that already stored the map findings).
    #[arg(long)]
    provider_findings: Option<PathBuf>,
    #[command(flatten)]
    engine_args: EngineArgs,
    /// External peer aggregates (CMS Physician & Other Practitioners layout), as for `audit`.
    #[arg(long)]
    peers: Option<PathBuf>,
    /// Findings printed on stdout.
    #[arg(long, default_value_t = 20)]
    show: usize,
    /// The dollars the headline dollars at risk count, as for `audit`.
    #[arg(long, default_value = "billed", value_parser = super::parse_price)]
    price: Price,
}

/// What the map and the reduce run with: the same rules, tables, engine limits and price.
fn phase_options(inputs: Vec<PathBuf>, rules: RuleArgs, engine: &EngineArgs, price: Price) -> AuditOptions {
    AuditOptions {
        inputs,
        rules_dir: rules.rules,
        refdata: rules.refdata,
        sandbox: engine.sandbox(),
        strict: engine.strict,
        price,
        ..Default::default()
    }
}

pub fn map(args: MapArgs) -> Result<u8> {
    if args.findings_schema {
        outln!("{}", findings_ddl()?)?;
        return Ok(0);
    }
    let mut aliases = AliasMap::builtin();
    if let Some(path) = &args.alias_args.aliases {
        aliases = aliases.with_file(path).map_err(|e| input_error(format!("{e:#}")))?;
    }
    if !args.columns_read.is_empty() {
        for name in args.columns_read.iter().filter(|n| [SOURCE_COLUMN, ROW_COLUMN].contains(&n.as_str()) || aliases.canonical(n).is_some()) {
            outln!("{name}")?;
        }
        return Ok(0);
    }
    let out = args.out.expect("clap requires --out");
    let opts = phase_options(args.inputs, args.rule_args, &args.engine_args, args.price);
    let output = map_partition(&opts, &aliases)?;
    for f in &output.audit.failures {
        eprintln!("{f}");
    }
    std::fs::create_dir_all(&out).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    findings::write(&output.audit.findings, &out.join("findings.parquet"), OutputFormat::Parquet)?;
    write_map_output(&output, &out.join("partition.json"))?;
    outln!(
        "claimlint map: {} lines in {} claims, {} findings, {} rule error(s); wrote {}",
        output.audit.counts.lines,
        output.audit.counts.claims,
        output.audit.findings.len(),
        output.audit.failures.len(),
        out.display()
    )?;
    Ok(0)
}

pub fn reduce(args: ReduceArgs) -> Result<u8> {
    let opts = AuditOptions { peer_table: args.peers, ..phase_options(args.inputs, args.rule_args, &args.engine_args, args.price) };
    let result = reduce_map_outputs(&opts, &args.findings)?;
    if opts.strict && !result.failures.is_empty() {
        anyhow::bail!(crate::audit::StrictFailure(result.failures.iter().map(|f| f.to_string()).collect()));
    }
    print_summary(&result, args.show, false, args.out.is_some())?;
    if let Some(out) = &args.out {
        write_reports(&result, out, args.report_args.format, args.report_args.templates.as_deref(), None)?;
    }
    if let Some(path) = &args.provider_findings {
        let provider_rules: Vec<&str> = result.rules.iter().filter(|r| r.scope == Scope::Provider).map(|r| r.id.as_str()).collect();
        let own: Vec<_> = result.findings.iter().filter(|f| provider_rules.contains(&f.rule_id.as_str())).cloned().collect();
        findings::write(&own, path, OutputFormat::Parquet)?;
    }
    Ok(u8::from(result.findings.iter().any(|f| f.severity >= args.report_args.fail_on)))
}

/// The findings columns as Spark DDL (`name TYPE, ...`), so a driver declares the map's output
/// schema without copying the column list.
fn findings_ddl() -> Result<String> {
    let frame = findings::to_frame(&[])?;
    let columns: Vec<String> = frame
        .schema()
        .iter()
        .map(|(name, dtype)| {
            let ty = match dtype {
                DataType::String => "STRING",
                DataType::Int64 => "BIGINT",
                DataType::Int32 => "INT",
                DataType::Float64 => "DOUBLE",
                DataType::Boolean => "BOOLEAN",
                other => anyhow::bail!("findings column {name} has type {other}, which has no Spark DDL mapping here"),
            };
            Ok(format!("{name} {ty}"))
        })
        .collect::<Result<_>>()?;
    Ok(columns.join(", "))
}
