//! `claimlint generate` (synthetic claims) and the hidden `claimlint load` used by the benchmarks.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use chrono::NaiveDate;

use crate::generate::{generate, GenerateOptions};

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Claim lines to write (exactly).
    #[arg(long)]
    lines: u64,
    /// Seed: the same arguments give the same file, byte for byte.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file: .parquet (any size, written in row groups) or .csv (small batches).
    #[arg(long)]
    out: PathBuf,
    /// Reference tables to draw codes from and plant errors against (normalised layouts); use the
    /// same folder you audit with. Default: rules/data (the small bundled subset).
    #[arg(long, env = "CLAIMLINT_REFDATA", default_value = "rules/data")]
    refdata: PathBuf,
    /// Rules folder the batch will be audited with: the NCCI-associated modifiers and the
    /// ACME-COMMERCIAL prior-authorization list are read from it (default: the shipped rules).
    #[arg(long, env = "CLAIMLINT_RULES")]
    rules: Option<PathBuf>,
    /// Planted errors per claim line, split evenly across the federal rules the tables allow.
    #[arg(long, default_value_t = 0.02)]
    error_rate: f64,
    /// Also write what was planted (rule_id, planted, expected_findings) to this CSV file; with
    /// --schemes, the planted providers go to FILE-schemes.csv beside it.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Plant provider-level fraud schemes (upcoding, modifier 25/59 overuse, impossible days,
    /// billing after death, an excluded NPI, add-on inflation, weekend surges, charge inflation,
    /// duplicate billing) for --scheme-share of the providers, and give every provider habits of
    /// its own. Without it the batch has neither.
    #[arg(long)]
    schemes: bool,
    /// Share of providers billing a scheme, with --schemes (0 keeps only the habits).
    #[arg(long, default_value_t = 0.02, requires = "schemes")]
    scheme_share: f64,
    /// Rows per Parquet row group (and per generated chunk held in memory).
    #[arg(long, default_value_t = 500_000)]
    row_group: usize,
    /// First date of service.
    #[arg(long, default_value = "2024-01-01")]
    from: NaiveDate,
    /// Last date of service.
    #[arg(long, default_value = "2024-12-31")]
    to: NaiveDate,
}

pub fn run_generate(args: GenerateArgs) -> Result<u8> {
    let started = Instant::now();
    let mut opts = GenerateOptions::new(args.lines, args.seed, args.out.clone());
    opts.refdata = args.refdata;
    opts.rules = args.rules;
    opts.error_rate = args.error_rate;
    opts.chunk_rows = args.row_group;
    opts.from = args.from;
    opts.to = args.to;
    opts.scheme_share = args.schemes.then_some(args.scheme_share);
    let manifest = generate(&opts)?;
    out!("{}", manifest.summary())?;
    if let Some(path) = &args.manifest {
        std::fs::write(path, manifest.to_csv()).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        outln!("manifest: {}", path.display())?;
        if args.schemes {
            let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            let schemes = path.with_file_name(format!("{stem}-schemes.csv"));
            std::fs::write(&schemes, manifest.schemes_csv()).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", schemes.display()))?;
            outln!("planted schemes: {}", schemes.display())?;
        }
    }
    outln!("wrote {} in {:.2} s", args.out.display(), started.elapsed().as_secs_f64())?;
    Ok(0)
}

#[derive(clap::Args)]
pub struct LoadArgs {
    /// Claim files or folders.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Only read the Parquet files with Polars (no renaming, typing or checks): the baseline.
    #[arg(long)]
    raw: bool,
    /// YAML file mapping your column names onto the canonical schema.
    #[arg(long)]
    aliases: Option<PathBuf>,
    /// Also time the provider partials (map) and records (reduce) this many times; reports the
    /// median wall and CPU time of each step.
    #[arg(long)]
    providers: Option<usize>,
    /// Rules folder whose bundled tables (data/) give the provider step its minutes per unit.
    #[arg(long, default_value = "rules")]
    rules: PathBuf,
}

/// CPU time used by this process so far (user + system), from /proc/self/stat; None elsewhere.
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) : utime is the 14th field overall.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times the map and reduce steps of the provider indicators `runs` times.
fn time_providers(batch: &crate::batch::Batch, rules: &std::path::Path, runs: usize) -> Result<()> {
    use crate::fraud::{provider_records, ProviderPartials};
    let refdata = crate::rules::load_refdata(rules, None)?;
    let (mut map, mut reduce, mut map_cpu, mut reduce_cpu) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut providers = 0;
    for _ in 0..runs.max(1) {
        let (t, c) = (Instant::now(), process_cpu_secs());
        let partials = ProviderPartials::from_batch(batch, &refdata);
        map.push(t.elapsed().as_secs_f64());
        let (t2, c2) = (Instant::now(), process_cpu_secs());
        providers = provider_records(&partials, &refdata, None).len();
        reduce.push(t2.elapsed().as_secs_f64());
        let c3 = process_cpu_secs();
        if let (Some(c), Some(c2), Some(c3)) = (c, c2, c3) {
            map_cpu.push(c2 - c);
            reduce_cpu.push(c3 - c2);
        }
    }
    let cpu = |v: Vec<f64>| if v.is_empty() { "n/a".to_string() } else { format!("{:.3} s", median(v)) };
    outln!(
        "provider indicators for {providers} providers over {} runs: map (partials) {:.3} s wall, {} CPU; reduce (records) {:.3} s wall, {} CPU",
        runs.max(1),
        median(map),
        cpu(map_cpu),
        median(reduce),
        cpu(reduce_cpu)
    )?;
    Ok(())
}

/// Loads claims as `audit` does (canonical frame, then the rule engine's batch) and reports the
/// line count, data-quality issues, in-memory size and phase times. For benchmarks.
pub fn run_load(args: LoadArgs) -> Result<u8> {
    use polars::prelude::*;
    let t0 = Instant::now();
    if args.raw {
        let mut lines = 0usize;
        let mut bytes = 0usize;
        for path in crate::load::discover_inputs(&args.inputs)? {
            if crate::load::detect_format(&path)? != crate::load::Format::Parquet {
                anyhow::bail!(crate::vocab::input_error(format!("{}: --raw reads Parquet files only", path.display())));
            }
            let df = ParquetReader::new(std::fs::File::open(&path)?).finish()?;
            lines += df.height();
            bytes += df.estimated_size();
        }
        outln!("raw parquet read: {lines} lines, {} MB in memory, {:.3} s", bytes / 1_000_000, t0.elapsed().as_secs_f64())?;
        return Ok(0);
    }
    let mut aliases = crate::schema::AliasMap::builtin();
    if let Some(path) = &args.aliases {
        aliases = aliases.with_file(path)?;
    }
    let loaded = crate::load::load_claims(&args.inputs, &aliases)?;
    let batch = &loaded.batch;
    outln!(
        "loaded {} lines ({} claims), {} data-quality issues, batch {} MB; load and batch {:.3} s",
        batch.len,
        batch.claims.len(),
        loaded.issues.len(),
        batch.heap_bytes() / 1_000_000,
        t0.elapsed().as_secs_f64()
    )?;
    if let Some(runs) = args.providers {
        time_providers(batch, &args.rules, runs)?;
    }
    Ok(u8::from(!loaded.issues.is_empty()))
}
