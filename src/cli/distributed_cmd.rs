//! `claimlint map` and `claimlint reduce`: the out-of-core audit's two phases as commands, for a
//! cluster that partitions the claims itself (integrations/spark). See docs/partitioning.md.

use std::path::PathBuf;

use anyhow::Result;
use polars::prelude::DataType;

use super::{parse_severity, print_summary, write_reports};
use crate::audit::distributed::{map_partition, reduce_map_outputs, write_map_output, ROW_COLUMN, SOURCE_COLUMN};
use crate::audit::AuditOptions;
use crate::findings::{self, OutputFormat};
use crate::rules::{Sandbox, Scope};
use crate::schema::AliasMap;
use crate::vocab::{input_error, Severity};

#[derive(clap::Args)]
pub struct MapArgs {
    /// Parquet files with one partition's claim lines. Optional columns `_source` and `_row` give
    /// each line's file name and 1-based row there, for the findings' locations.
    #[arg(required_unless_present_any = ["findings_schema", "columns_read"])]
    inputs: Vec<PathBuf>,
    /// Folder of rule files (searched recursively).
    #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES")]
    rules: PathBuf,
    /// Reference tables; default: RULES/data.
    #[arg(long, env = "CLAIMLINT_REFDATA")]
    refdata: Option<PathBuf>,
    /// YAML file mapping your column names onto the canonical schema.
    #[arg(long)]
    aliases: Option<PathBuf>,
    /// Folder for the partition's findings.parquet and partition.json (the rest of what the
    /// reduce needs).
    #[arg(long, required_unless_present_any = ["findings_schema", "columns_read"])]
    out: Option<PathBuf>,
    /// Fail (exit 2) when any rule has an error.
    #[arg(long)]
    strict: bool,
    /// Rhai operations one rule may spend on one record before it is stopped.
    #[arg(long, default_value_t = Sandbox::default().max_operations)]
    max_operations: u64,
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
    /// partition.json files written by `claimlint map`, or folders of them.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The maps' findings.parquet files, or folders of Parquet files (a Spark dataset): each
    /// map's findings once. Checked against the counts in the map outputs.
    #[arg(long, num_args = 1..)]
    findings: Vec<PathBuf>,
    /// Folder of rule files: the same rules the maps ran.
    #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES")]
    rules: PathBuf,
    /// Reference tables; default: RULES/data.
    #[arg(long, env = "CLAIMLINT_REFDATA")]
    refdata: Option<PathBuf>,
    /// Folder for the findings file, report.html, fraud.html and providers.csv.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Findings file format.
    #[arg(long, value_enum, default_value = "csv")]
    format: OutputFormat,
    /// Also write the findings of the provider-scope rules alone to this Parquet file (for a
    /// driver that already stored the map findings).
    #[arg(long)]
    provider_findings: Option<PathBuf>,
    /// Exit 1 when any finding is at or above this severity.
    #[arg(long, default_value = "error", value_parser = parse_severity)]
    fail_on: Severity,
    /// Folder with templates that replace the built-in ones (same file names as reports/).
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Fail (exit 2) when any rule has an error, here or in a map output.
    #[arg(long)]
    strict: bool,
    /// Rhai operations one rule may spend on one record before it is stopped.
    #[arg(long, default_value_t = Sandbox::default().max_operations)]
    max_operations: u64,
    /// External peer aggregates (CMS Physician & Other Practitioners layout), as for `audit`.
    #[arg(long)]
    peers: Option<PathBuf>,
    /// Findings printed on stdout.
    #[arg(long, default_value_t = 20)]
    show: usize,
}

pub fn map(args: MapArgs) -> Result<u8> {
    if args.findings_schema {
        println!("{}", findings_ddl()?);
        return Ok(0);
    }
    let mut aliases = AliasMap::builtin();
    if let Some(path) = &args.aliases {
        aliases = aliases.with_file(path).map_err(|e| input_error(format!("{e:#}")))?;
    }
    if !args.columns_read.is_empty() {
        for name in args.columns_read.iter().filter(|n| [SOURCE_COLUMN, ROW_COLUMN].contains(&n.as_str()) || aliases.canonical(n).is_some()) {
            println!("{name}");
        }
        return Ok(0);
    }
    let out = args.out.expect("clap requires --out");
    let opts = AuditOptions {
        inputs: args.inputs,
        rules_dir: args.rules,
        refdata: args.refdata,
        sandbox: Sandbox { max_operations: args.max_operations },
        strict: args.strict,
        ..Default::default()
    };
    let output = map_partition(&opts, &aliases)?;
    for f in &output.audit.failures {
        eprintln!("{f}");
    }
    std::fs::create_dir_all(&out).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    findings::write(&output.audit.findings, &out.join("findings.parquet"), OutputFormat::Parquet)?;
    write_map_output(&output, &out.join("partition.json"))?;
    println!(
        "claimlint map: {} lines in {} claims, {} findings, {} rule error(s); wrote {}",
        output.audit.counts.lines,
        output.audit.counts.claims,
        output.audit.findings.len(),
        output.audit.failures.len(),
        out.display()
    );
    Ok(0)
}

pub fn reduce(args: ReduceArgs) -> Result<u8> {
    let opts = AuditOptions {
        inputs: args.inputs,
        rules_dir: args.rules,
        refdata: args.refdata,
        sandbox: Sandbox { max_operations: args.max_operations },
        strict: args.strict,
        peer_table: args.peers,
        ..Default::default()
    };
    let result = reduce_map_outputs(&opts, &args.findings)?;
    if opts.strict && !result.failures.is_empty() {
        anyhow::bail!(crate::audit::StrictFailure(result.failures.iter().map(|f| f.to_string()).collect()));
    }
    print_summary(&result, args.show, false, args.out.is_some());
    if let Some(out) = &args.out {
        write_reports(&result, out, args.format, args.templates.as_deref(), None)?;
    }
    if let Some(path) = &args.provider_findings {
        let provider_rules: Vec<&str> = result.rules.iter().filter(|r| r.scope == Scope::Provider).map(|r| r.id.as_str()).collect();
        let own: Vec<_> = result.findings.iter().filter(|f| provider_rules.contains(&f.rule_id.as_str())).cloned().collect();
        findings::write(&own, path, OutputFormat::Parquet)?;
    }
    Ok(u8::from(result.findings.iter().any(|f| f.severity >= args.fail_on)))
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
