//! `claimlint sample` and `claimlint appraise`: RAT-STATS sampling and appraisal from the
//! command line. The statistics live in [`crate::ratstats`]; this is input and output.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use polars::prelude::*;

use crate::load::load_claims;
use crate::ratstats::{self, appraisal_output, SampleValues, StratumFrame, StratumRequest, StratumValues, DEFAULT_LEVELS};
use crate::schema::AliasMap;
use crate::vocab::input_error;

#[derive(Args)]
pub struct SampleArgs {
    /// RAT-STATS seed, e.g. 48863.78.
    #[arg(long)]
    seed: f64,
    /// Sample size (for a stratified sample: one size per stratum, comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    size: Vec<u64>,
    /// Spares drawn after the sample (per stratum when stratified).
    #[arg(long, default_value_t = 0)]
    spares: u64,
    /// Frame low number (number frames).
    #[arg(long, default_value_t = 1)]
    low: i64,
    /// Frame high number (number frames); omit when sampling claims.
    #[arg(long)]
    high: Option<i64>,
    /// Claim files: the frame is their claims, ordered by claim id.
    #[arg(long, num_args = 1..)]
    claims: Vec<PathBuf>,
    /// Stratum boundaries on the claim's paid amount (charge when unpaid), e.g. 100,1000 makes
    /// three strata: below 100, 100 to below 1000, 1000 and over.
    #[arg(long, value_delimiter = ',')]
    strata: Vec<f64>,
    /// Title printed on the report.
    #[arg(long, default_value = "claimlint sample")]
    title: String,
    /// Write sample.txt, sample.csv and sample.html here.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum AppraiseCommand {
    /// Unrestricted variable appraisal of examined, audited and difference values.
    Variable {
        /// Values: CSV with a header, or whitespace-separated numbers.
        file: PathBuf,
        /// Universe size (claims in the frame).
        #[arg(long)]
        universe: u64,
        /// CSV column of examined (billed/paid) values.
        #[arg(long)]
        examined: Option<String>,
        /// CSV column of audited values.
        #[arg(long)]
        audited: Option<String>,
        /// CSV column of differences, or the kind of a plain number list.
        #[arg(long)]
        difference: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Stratified variable appraisal (overall limits use Z, strata use t).
    Stratified {
        /// CSV with columns `stratum` and `value` (the difference or audited value).
        file: PathBuf,
        /// Universe size of each stratum, in stratum order (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        universe: Vec<u64>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Unrestricted attribute appraisal with exact hypergeometric limits.
    Attribute {
        #[arg(long)]
        universe: u64,
        #[arg(long)]
        sample: u64,
        /// Sample items with the attribute (errors).
        #[arg(long)]
        errors: u64,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Sample size for an attribute appraisal.
    SampleSizeAttribute {
        #[arg(long)]
        universe: u64,
        /// Anticipated error rate, e.g. 0.1.
        #[arg(long)]
        rate: f64,
        /// Desired precision, e.g. 0.05.
        #[arg(long)]
        precision: f64,
        #[arg(long, default_value_t = 0.90)]
        confidence: f64,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Sample size for a variable appraisal, from a probe sample.
    SampleSizeVariable {
        /// Probe sample values (whitespace-separated or CSV with --column).
        file: PathBuf,
        #[arg(long)]
        universe: u64,
        #[arg(long)]
        column: Option<String>,
        /// Desired precision as percents of the point estimate (comma-separated).
        #[arg(long, value_delimiter = ',', default_values_t = vec![1.0, 2.0, 5.0, 10.0])]
        precision: Vec<f64>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Args)]
pub struct OutputArgs {
    /// Title printed on the report.
    #[arg(long, default_value = "claimlint appraisal")]
    title: String,
    /// Also write the results as CSV to this file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also write the results as a self-contained HTML page to this file.
    #[arg(long)]
    html: Option<PathBuf>,
}

fn stats_error(e: ratstats::RatStatsError) -> anyhow::Error {
    input_error(e.to_string())
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| input_error(format!("{}: cannot read: {e}", path.display())))
}

fn finish(text: String, csv: String, output: &OutputArgs) -> Result<u8> {
    out!("{text}")?;
    if let Some(path) = &output.html {
        let env = crate::report::environment(None)?;
        let explain = "Point estimates, standard errors and two-sided confidence limits. For a demand amount, Medicare \
                       contractors use the one-sided 90% lower bound, which is the lower limit of the two-sided 80% interval.";
        let html = crate::report::render_ratstats(&env, &output.title, &output.title, explain, &text, &csv)?;
        std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &output.csv {
        std::fs::write(path, csv).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(0)
}

/// Claims of a batch with the amount used for stratification, ordered by claim id.
fn claim_frame(files: &[PathBuf]) -> Result<(Vec<String>, Vec<f64>)> {
    let loaded = load_claims(files, &AliasMap::builtin())?;
    let per_claim = loaded
        .batch
        .to_frame(&[crate::schema::col::CLAIM_ID, crate::schema::col::PAID_AMOUNT, crate::schema::col::CHARGE_AMOUNT])?
        .lazy()
        .group_by([col("claim_id")])
        .agg([col("paid_amount").sum().alias("paid"), col("paid_amount").count().alias("paid_n"), col("charge_amount").sum().alias("charge")])
        .with_column(when(col("paid_n").gt(lit(0))).then(col("paid")).otherwise(col("charge")).alias("amount"))
        .sort(["claim_id"], Default::default())
        .collect()?;
    let ids = per_claim.column("claim_id")?.str()?.iter().map(|s| s.unwrap_or("").to_string()).collect();
    let amounts = per_claim.column("amount")?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect();
    Ok((ids, amounts))
}

pub fn sample(args: SampleArgs) -> Result<u8> {
    let (text, csv) = if args.claims.is_empty() {
        let Some(high) = args.high else { bail!(input_error("give the frame with --high N (and --low), or sample claims with --claims FILE")) };
        if args.size.len() != 1 {
            bail!(input_error("a number frame takes one --size; stratify claims with --claims and --strata"));
        }
        let r = ratstats::simple_random_sample(args.seed, args.size[0], args.spares, args.low, high).map_err(stats_error)?;
        (appraisal_output::random_numbers_text(&r, &args.title), appraisal_output::random_numbers_csv(&r))
    } else {
        let (ids, amounts) = claim_frame(&args.claims)?;
        let bounds = &args.strata;
        if bounds.windows(2).any(|w| w[1] <= w[0]) {
            bail!(input_error("--strata boundaries must increase"));
        }
        let strata_count = bounds.len() + 1;
        if args.size.len() != strata_count {
            bail!(input_error(format!("{strata_count} strata need {strata_count} sizes in --size, got {}", args.size.len())));
        }
        let mut frames: Vec<Vec<String>> = vec![Vec::new(); strata_count];
        for (id, amount) in ids.into_iter().zip(amounts) {
            frames[bounds.iter().take_while(|b| amount >= **b).count()].push(id);
        }
        let requests: Vec<StratumRequest> = frames
            .into_iter()
            .zip(&args.size)
            .enumerate()
            .map(|(i, (items, &quantity))| StratumRequest {
                name: stratum_name(bounds, i),
                frame: StratumFrame::Items(items),
                quantity,
                spares: args.spares,
            })
            .collect();
        let r = ratstats::stratified_random_numbers(args.seed, &requests).map_err(stats_error)?;
        (appraisal_output::stratified_random_numbers_text(&r, &args.title), appraisal_output::stratified_random_numbers_csv(&r))
    };
    out!("{text}")?;
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)?;
        std::fs::write(out.join("sample.txt"), &text)?;
        std::fs::write(out.join("sample.csv"), &csv)?;
        let env = crate::report::environment(None)?;
        let explain = "The numbers drawn, in the order of selection, with the claim each one picks (for a claim frame). \
                       The same seed, frame and sizes always give the same sample, as in RAT-STATS.";
        std::fs::write(out.join("sample.html"), crate::report::render_ratstats(&env, &args.title, "Random sample", explain, &text, &csv)?)?;
        outln!("wrote {}, {} and {}", out.join("sample.txt").display(), out.join("sample.csv").display(), out.join("sample.html").display())?;
    }
    Ok(0)
}

fn stratum_name(bounds: &[f64], i: usize) -> String {
    match (i.checked_sub(1).map(|j| bounds[j]), bounds.get(i)) {
        (None, Some(hi)) => format!("paid < {hi}"),
        (Some(lo), Some(hi)) => format!("{lo} <= paid < {hi}"),
        (Some(lo), None) => format!("paid >= {lo}"),
        (None, None) => "all claims".into(),
    }
}

pub fn appraise(cmd: AppraiseCommand) -> Result<u8> {
    match cmd {
        AppraiseCommand::Variable { file, universe, examined, audited, difference, output } => {
            let text = read_text(&file)?;
            let values = match (examined, audited, difference) {
                (Some(e), Some(a), _) => {
                    let cols = ratstats::parse_csv_columns(&text, &[&e, &a]).map_err(stats_error)?;
                    SampleValues::examined_audited(cols[0].clone(), cols[1].clone())
                }
                (None, None, Some(d)) => SampleValues::difference(ratstats::parse_csv_column(&text, &d).map_err(stats_error)?),
                (Some(e), None, None) => SampleValues::examined(ratstats::parse_csv_column(&text, &e).map_err(stats_error)?),
                (None, Some(a), None) => SampleValues::audited(ratstats::parse_csv_column(&text, &a).map_err(stats_error)?),
                (None, None, None) => SampleValues::difference(ratstats::parse_numbers(&text).map_err(stats_error)?),
                _ => bail!(input_error("give --examined and --audited, or one of --examined/--audited/--difference")),
            };
            let a = ratstats::appraise_unrestricted(universe, &values, &DEFAULT_LEVELS).map_err(stats_error)?;
            finish(appraisal_output::variable_text(&a, &output.title), appraisal_output::variable_csv(&a), &output)
        }
        AppraiseCommand::Stratified { file, universe, output } => {
            let text = read_text(&file)?;
            let rows = ratstats::io::parse_csv_records(&text).map_err(stats_error)?;
            let Some((_, header)) = rows.first() else { bail!(input_error(format!("{}: empty", file.display()))) };
            let pos = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
            let (Some(si), Some(vi)) = (pos("stratum"), pos("value")) else {
                bail!(input_error(format!("{}: needs columns `stratum` and `value`", file.display())));
            };
            let mut names: Vec<String> = Vec::new();
            let mut values: Vec<Vec<f64>> = Vec::new();
            for (line, row) in rows.iter().skip(1) {
                let name = row.get(si).map(|s| s.trim().to_string()).unwrap_or_default();
                let v = row
                    .get(vi)
                    .and_then(|v| ratstats::parse_amount(v))
                    .ok_or_else(|| input_error(format!("{} line {line}: `value` is not a number", file.display())))?;
                match names.iter().position(|n| *n == name) {
                    Some(k) => values[k].push(v),
                    None => {
                        names.push(name);
                        values.push(vec![v]);
                    }
                }
            }
            if names.len() != universe.len() {
                bail!(input_error(format!("{} strata in the file but {} universe sizes in --universe", names.len(), universe.len())));
            }
            let strata: Vec<StratumValues> = names
                .into_iter()
                .zip(values)
                .zip(universe)
                .map(|((name, v), universe_size)| StratumValues { name, universe_size, values: SampleValues::difference(v) })
                .collect();
            let a = ratstats::appraise_stratified(&strata, &DEFAULT_LEVELS).map_err(stats_error)?;
            finish(appraisal_output::stratified_text(&a, &output.title), appraisal_output::stratified_csv(&a), &output)
        }
        AppraiseCommand::Attribute { universe, sample, errors, output } => {
            let a = ratstats::appraise_attribute(universe, sample, errors, &DEFAULT_LEVELS).map_err(stats_error)?;
            finish(appraisal_output::attribute_text(&a, &output.title), appraisal_output::attribute_csv(&a), &output)
        }
        AppraiseCommand::SampleSizeAttribute { universe, rate, precision, confidence, output } => {
            let s = ratstats::attribute_sample_size(universe, rate, precision, confidence).map_err(stats_error)?;
            let text = appraisal_output::attribute_sample_size_text(&s, &output.title);
            finish(text.clone(), text, &output)
        }
        AppraiseCommand::SampleSizeVariable { file, universe, column, precision, output } => {
            let text = read_text(&file)?;
            let probe = match column {
                Some(c) => ratstats::parse_csv_column(&text, &c),
                None => ratstats::parse_numbers(&text),
            }
            .map_err(stats_error)?;
            let t = ratstats::variable_sample_size_from_probe(universe, &probe, &precision, &DEFAULT_LEVELS).map_err(stats_error)?;
            finish(appraisal_output::variable_sample_size_text(&t, &output.title), appraisal_output::variable_sample_size_csv(&t), &output)
        }
    }
}
