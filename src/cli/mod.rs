//! Command-line interface: argument parsing and the commands' output. Exit codes: 0 clean,
//! 1 findings at or above `--fail-on`, 2 usage or input error, 3 internal error, 141 stdout
//! closed by its reader.

// Command output goes through these instead of `print!`/`println!`, which panic when stdout is
// closed: a write error comes back as an `io::Error` for `?`, and `run` ends a closed pipe
// with exit 141.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout(), $($arg)*)
    }};
}
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)
    }};
}

mod distributed_cmd;
mod fix_cmd;
mod generate_cmd;
mod peers_cmd;
mod progress;
mod refdata_cmd;
mod remit_cmd;
mod rules_cmd;
mod shared_args;
mod stats_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::audit::{run_audit, AuditOptions, AuditResult, StrictFailure};
use crate::extrapolation::{extrapolate, SampleDesign};
use crate::findings::{self, OutputFormat};
use crate::report;
use crate::vocab::InputError;
use crate::vocab::{Price, Severity};

#[derive(Parser)]
#[command(name = "claimlint", version, about = "Audit medical claims against federal and payer billing policy")]
pub struct Cli {
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Audit claim files (CSV, Parquet, NDJSON, X12 837) or folders of them.
    Audit(AuditArgs),
    /// Write a corrected copy of claim files with the findings' safe (and, asked, suggested) fixes, and a change log.
    Fix(fix_cmd::FixArgs),
    /// List, explain, check, test and scaffold rules.
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
    /// Draw a RAT-STATS random sample of numbers or of claims (simple or stratified).
    Sample(stats_cmd::SampleArgs),
    /// RAT-STATS appraisal: variable, stratified, attribute, and sample sizes.
    #[command(subcommand)]
    Appraise(stats_cmd::AppraiseCommand),
    /// Read 835 remittances, match them to the audited claims, and show which denials were predicted.
    Remit(remit_cmd::RemitArgs),
    /// Rank providers on CMS Physician & Other Practitioners aggregates (no claim lines needed).
    Peers(peers_cmd::PeersArgs),
    /// Distributed audits, map step: audit one partition of claim lines (Parquet), write its findings and partials.
    Map(distributed_cmd::MapArgs),
    /// Distributed audits, reduce step: merge the map outputs, run the provider rules, write the findings and reports.
    Reduce(distributed_cmd::ReduceArgs),
    /// Print the canonical claim-line schema.
    Schema,
    /// List the reference tables a folder holds (files, releases, rows, cache state), or clear the cache.
    Refdata(refdata_cmd::RefdataArgs),
    /// Write a synthetic batch of realistic claims with planted errors (tests, benchmarks, demos).
    Generate(generate_cmd::GenerateArgs),
    /// Load claims into the canonical frame and report size and timings (benchmarks).
    #[command(hide = true)]
    Load(generate_cmd::LoadArgs),
}

#[derive(clap::Args)]
struct AuditArgs {
    /// Claim files or folders.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    rule_args: shared_args::RuleArgs,
    /// Folder for the parsed reference-table cache; default: the user's cache folder.
    #[arg(long, env = "CLAIMLINT_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    #[command(flatten)]
    alias_args: shared_args::AliasArgs,
    /// Folder for the HTML report and the findings file; without it only the summary prints.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    report_args: shared_args::ReportArgs,
    #[command(flatten)]
    engine_args: shared_args::EngineArgs,
    /// Findings printed on stdout (the findings file has all of them).
    #[arg(long, default_value_t = 20)]
    show: usize,
    /// The audited claims are a sample drawn by `claimlint sample --claims`: its sample.csv.
    /// Adds the extrapolated overpayment (RAT-STATS) to the report.
    #[arg(long, conflicts_with = "universe")]
    sample: Option<PathBuf>,
    /// The audited claims are a simple random sample of this many claims: extrapolate to it.
    #[arg(long)]
    universe: Option<u64>,
    /// External peer aggregates in the CMS Physician & Other Practitioners layout: each
    /// provider's E/M mix is also tested against its specialty's national mix.
    #[arg(long)]
    peers: Option<PathBuf>,
    /// Also run every rule on every record, and fail (exit 2) naming any finding a rule's
    /// selector would have dropped.
    #[arg(long)]
    verify_selectors: bool,
    /// Print what each rule cost: records selected, script evaluations, findings and time.
    #[arg(long)]
    profile: bool,
    /// Memory budget, e.g. 2G or 800M: past it the audit runs patient partitions in turn
    /// (default: 40% of the memory available, at most 2.5 GiB).
    #[arg(long, value_parser = parse_bytes)]
    memory: Option<u64>,
    /// Audit in this many patient partitions whatever the size.
    #[arg(long)]
    partitions: Option<usize>,
    /// Folder for the partitions' spill files (default: the system's temporary folder).
    #[arg(long)]
    spill_dir: Option<PathBuf>,
    /// Text encoding of CSV/TSV inputs (utf-8, windows-1252, latin1, utf-16le, ...); detected from
    /// a byte-order mark or the bytes when omitted.
    #[arg(long)]
    encoding: Option<String>,
    /// Two-sided confidence level of the extrapolation, in percent (80, 90, 95, ...).
    #[arg(long, default_value = "90", value_parser = crate::extrapolation::parse_confidence)]
    confidence: f64,
    /// The dollars the headline dollars at risk (summary, totals, extrapolation) count: `billed`,
    /// the findings' own amounts, or `medicare`, each finding's expected allowed amount (the
    /// paid amount, else the Physician Fee Schedule amount, capped at the billed one). The
    /// report shows both either way.
    #[arg(long, default_value = "billed", value_parser = parse_price)]
    price: Price,
}

/// `2G`, `800M`, `512k` or a plain number of bytes.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('G') => (&t[..t.len() - 1], 1u64 << 30),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('K') => (&t[..t.len() - 1], 1 << 10),
        _ => (t, 1),
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| *n > 0.0)
        .map(|n| (n * mult as f64) as u64)
        .ok_or_else(|| format!("`{s}` is not a size such as 2G or 800M"))
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_price(s: &str) -> Result<Price, String> {
    s.parse()
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Audit(args) => audit(args),
        Command::Fix(args) => fix_cmd::run(args),
        Command::Rules(cmd) => rules_cmd::run(cmd),
        Command::Sample(args) => stats_cmd::sample(args),
        Command::Appraise(cmd) => stats_cmd::appraise(cmd),
        Command::Peers(args) => peers_cmd::run(args),
        Command::Remit(args) => remit_cmd::run(args),
        Command::Map(args) => distributed_cmd::map(args),
        Command::Reduce(args) => distributed_cmd::reduce(args),
        Command::Generate(args) => generate_cmd::run_generate(args),
        Command::Refdata(args) => refdata_cmd::run(args),
        Command::Load(args) => generate_cmd::run_load(args),
        Command::Schema => out!("{}", crate::schema::markdown_table()).map(|()| 0).map_err(Into::into),
    };
    // Text written without a newline is still buffered: its error shows here.
    let result = result.and_then(|code| std::io::Write::flush(&mut std::io::stdout()).map(|()| code).map_err(Into::into));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(141),
        Err(err) => {
            eprintln!("claimlint: error: {err:#}");
            let input = err.downcast_ref::<InputError>().is_some() || err.downcast_ref::<StrictFailure>().is_some();
            ExitCode::from(if input { 2 } else { 3 })
        }
    }
}

/// The reader of stdout went away (`claimlint audit ... | head`): stop quietly, with the status
/// a shell gives a process killed by SIGPIPE, as other Unix tools do.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}

/// `--profile`: what each rule cost, costliest first.
fn print_profile(profile: &[crate::rules::run::RuleProfile]) -> std::io::Result<()> {
    let mut rows: Vec<_> = profile.iter().collect();
    rows.sort_by(|a, b| (b.select_seconds + b.eval_seconds).total_cmp(&(a.select_seconds + a.eval_seconds)));
    outln!(
        "{:<28} {:<12} {:>9} {:>9} {:>11} {:>8} {:>9} {:>9}",
        "rule",
        "scope",
        "records",
        "selected",
        "evaluations",
        "findings",
        "select ms",
        "script ms"
    )?;
    for p in rows {
        outln!(
            "{:<28} {:<12} {:>9} {:>9} {:>11} {:>8} {:>9.1} {:>9.1}",
            p.rule_id,
            p.scope,
            p.records,
            p.selected,
            p.evaluations,
            p.findings,
            p.select_seconds * 1e3,
            p.eval_seconds * 1e3
        )?;
    }
    Ok(())
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

fn audit(args: AuditArgs) -> anyhow::Result<u8> {
    let spinner = progress::Spinner::start("auditing claims");
    let opts = AuditOptions {
        inputs: args.inputs.clone(),
        rules_dir: args.rule_args.rules.clone(),
        refdata: args.rule_args.refdata.clone(),
        cache_dir: args.cache_dir.clone(),
        aliases: args.alias_args.aliases.clone(),
        sandbox: args.engine_args.sandbox(),
        strict: args.engine_args.strict,
        peer_table: args.peers.clone(),
        verify_selectors: args.verify_selectors,
        memory: args.memory,
        // A sample audit extrapolates per claim and needs every line in one batch.
        partitions: if args.sample.is_some() || args.universe.is_some() { Some(1) } else { args.partitions },
        spill_dir: args.spill_dir.clone(),
        encoding: args.encoding.clone(),
        price: args.price,
    };
    let result = run_audit(&opts);
    spinner.finish();
    let result = result?;
    print_summary(&result, args.show, args.profile, args.out.is_some())?;
    audit_outputs(args, result)
}

/// The summary `audit` and `reduce` print: rule diagnostics and errors on stderr, totals,
/// reference tables and the first `show` findings on stdout.
pub(crate) fn print_summary(result: &AuditResult, show: usize, profile: bool, has_out: bool) -> std::io::Result<()> {
    for d in &result.diagnostics {
        eprintln!("{d}");
    }
    for f in &result.failures {
        eprintln!("{f}");
    }
    if !result.subset_tables.is_empty() {
        eprintln!(
            "note: the {} tables loaded are small subsets (the default rules/data); codes outside them are reported as unknown. Pass --refdata DIR with the full CMS tables for a real audit.",
            result.subset_tables.join(", ")
        );
    }
    let t = &result.totals;
    if let Some(why) = &t.pricing.unavailable {
        eprintln!("warning: --price medicare: {why}");
    }
    outln!("claimlint: {} lines in {} claims from {} file(s); {} rules, {} evaluations", t.lines, t.claims, t.files, t.rules_run, t.evaluations)?;
    for line in crate::load::accounting::summary_lines(&result.accounting) {
        outln!("{line}")?;
    }
    if !result.reference_tables.is_empty() {
        let tables: Vec<String> = result
            .reference_tables
            .iter()
            .map(|u| {
                let files: Vec<&str> = u.files.iter().map(|f| f.rsplit('/').next().unwrap_or(f)).collect();
                let releases = if u.releases.is_empty() { String::new() } else { format!(" {}", u.releases.join("/")) };
                format!("{} {}{releases}", u.table, files.join("+"))
            })
            .collect();
        outln!("reference tables: {}", tables.join("; "))?;
    }
    for n in &result.not_run {
        outln!("not run: {} needs the {} table(s), which are not loaded (--refdata DIR)", n.rule_id, n.missing.join(", "))?;
    }
    if profile {
        print_profile(&result.profile)?;
    }
    let phases: Vec<String> = result.phases.iter().map(|(p, s)| format!("{p} {s:.2} s")).collect();
    tracing::info!("phases: {}", phases.join(", "));
    let at_risk = match t.pricing.used {
        Price::Billed => report::format_money(t.amount_at_risk),
        Price::Medicare => {
            format!("{} at Medicare's price ({} at billed charges)", report::format_money(t.amount_at_risk), report::format_money(t.billed_at_risk))
        }
    };
    outln!(
        "findings: {} error, {} warning, {} info; clean-claim rate {:.1}%; {at_risk} at risk of {} billed",
        t.errors,
        t.warnings,
        t.infos,
        t.clean_claim_rate * 100.0,
        report::format_money(t.total_charge)
    )?;
    if t.pricing.used == Price::Medicare {
        let p = &t.pricing;
        outln!(
            "pricing: {} finding(s) priced ({} at the paid amount, {} at the fee schedule), {} at the billed amount (no price known)",
            p.priced(),
            p.paid,
            p.fee_schedule_priced,
            p.fallback
        )?;
    }
    if t.provider_findings > 0 {
        outln!(
            "provider-level: {} finding(s) about {} provider(s), {} estimated (fraud-risk leads, not counted in the claim figures)",
            t.provider_findings,
            t.providers_with_findings,
            report::format_money(t.provider_amount_at_risk)
        )?;
    }
    for f in result.findings.iter().take(show) {
        let (claim, line) = if f.is_provider_level() {
            (format!("NPI {}", f.provider_npi), "provider".to_string())
        } else {
            (f.claim_id.clone(), f.line_number.map(|l| format!("line {l}")).unwrap_or_else(|| "claim".into()))
        };
        outln!("  {:<7} {:<12} {:<8} {:<24} {}", f.severity.as_str(), claim, line, f.rule_id, f.message)?;
    }
    if result.findings.len() > show {
        outln!("  … and {} more{}", result.findings.len() - show, if !has_out { " (use --out DIR to write them all)" } else { "" })?;
    }
    Ok(())
}

/// What `audit` writes and returns after the summary: extrapolation, reports, exit code.
fn audit_outputs(args: AuditArgs, result: AuditResult) -> anyhow::Result<u8> {
    let design = match (&args.sample, args.universe) {
        (Some(path), _) => Some(SampleDesign::SampleFile(path)),
        (None, Some(universe)) => Some(SampleDesign::WholeBatch { universe }),
        (None, None) => None,
    };
    let extrapolation = design.map(|d| extrapolate(&result, d, args.confidence)).transpose()?;
    if let Some(x) = &extrapolation {
        let c = &x.chosen;
        outln!(
            "extrapolation ({}, {} of {} claims, {} in error): overpayment {} ({:.0}% limits {} to {}); one-sided 90% lower bound {}",
            x.design,
            x.sample_size,
            x.universe_size,
            x.claims_in_error,
            report::format_money(x.point_estimate),
            x.confidence * 100.0,
            report::format_money(c.lower),
            report::format_money(c.upper),
            report::format_money(x.one_sided_90_lower)
        )?;
    }

    if let Some(out) = &args.out {
        write_reports(&result, out, args.report_args.format, args.report_args.templates.as_deref(), extrapolation.as_ref())?;
        if let Some(x) = &extrapolation {
            std::fs::write(out.join("extrapolation.txt"), &x.ratstats_text)?;
            std::fs::write(out.join("sample_claims.csv"), x.claims_csv())?;
            outln!("extrapolation: {}  sampled claims: {}", out.join("extrapolation.txt").display(), out.join("sample_claims.csv").display())?;
        }
    }

    if args.verify_selectors {
        if !result.selector_misses.is_empty() {
            for f in &result.selector_misses {
                eprintln!(
                    "selector misses: {} would have flagged claim {} line {} ({}): {}",
                    f.rule_id,
                    f.claim_id,
                    f.line_number.map_or("-".into(), |l| l.to_string()),
                    f.location,
                    f.message
                );
            }
            eprintln!(
                "claimlint: --verify-selectors: {} finding(s) dropped by selectors; fix the rules' select: blocks",
                result.selector_misses.len()
            );
            return Ok(2);
        }
        let checked = result.profile.iter().filter(|p| p.selected < p.records).count();
        outln!("verify-selectors: every selector kept every finding ({} rules checked on every record)", checked)?;
    }
    let failing = result.findings.iter().any(|f| f.severity >= args.report_args.fail_on);
    // The process ends here: freeing a large batch piece by piece would only delay the exit.
    std::mem::forget(result);
    Ok(u8::from(failing))
}

/// The findings file, report.html, fraud.html and providers.csv in `out`, as `audit --out`
/// writes them.
pub(crate) fn write_reports(
    result: &AuditResult,
    out: &Path,
    format: OutputFormat,
    templates: Option<&Path>,
    extrapolation: Option<&crate::extrapolation::Extrapolation>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    let findings_path = out.join(format!("findings.{}", format.extension()));
    findings::write(&result.findings, &findings_path, format)?;
    std::fs::write(out.join("accounting.csv"), crate::load::accounting::to_csv(&result.accounting))?;
    let env = report::environment(templates)?;
    let html = report::render_compliance(result, extrapolation, &env)?;
    let report_path = out.join("report.html");
    std::fs::write(&report_path, html)?;
    let fraud_path = out.join("fraud.html");
    std::fs::write(&fraud_path, report::render_fraud(result, "Fraud-risk report", &env)?)?;
    let ranked = crate::fraud::score::rank(&result.findings, &result.rules, &result.provider_indicators);
    std::fs::write(out.join("providers.csv"), crate::fraud::score::providers_csv(&ranked, &result.rules))?;
    outln!(
        "report: {}  fraud-risk report: {} (and providers.csv)  findings: {}",
        report_path.display(),
        fraud_path.display(),
        findings_path.display()
    )?;
    Ok(())
}
