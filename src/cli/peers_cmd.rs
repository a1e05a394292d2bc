//! `claimlint peers`: provider risk indicators on CMS Physician & Other Practitioners aggregates.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::audit::{audit_loaded, AuditOptions};
use crate::fraud::{puf, score};
use crate::report;
use crate::rules::Sandbox;

#[derive(Args)]
pub struct PeersArgs {
    /// Files in the CMS "Physician & Other Practitioners - by Provider and Service" layout
    /// (CSV or CSV.gz); each is analysed on its own, as one year of peers.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Folder of rule files; the fraud rules tagged `peers` run.
    #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES")]
    rules: PathBuf,
    /// Folder for FILE-fraud.html and FILE-providers.csv.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Ranked providers printed per file.
    #[arg(long, default_value_t = 10)]
    show: usize,
}

fn stem(path: &std::path::Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    name.trim_end_matches(".gz").trim_end_matches(".csv").to_string()
}

pub fn run(args: PeersArgs) -> Result<u8> {
    for file in &args.files {
        let loaded = puf::load_puf(file)?;
        let opts = AuditOptions {
            inputs: vec![file.clone()],
            rules_dir: args.rules.clone(),
            refdata: None,
            cache_dir: None,
            aliases: None,
            sandbox: Sandbox::default(),
            strict: false,
            peer_table: None,
            ..Default::default()
        };
        let result = audit_loaded(loaded, &opts, |m| m.tags.iter().any(|t| t == "peers"))?;
        for f in &result.failures {
            eprintln!("{f}");
        }
        let ranked = score::rank(&result.findings, &result.rules, &result.provider_indicators);
        let flagged: Vec<&score::ProviderRisk> = ranked.iter().filter(|p| !p.factors.is_empty()).collect();
        outln!(
            "{}: {} providers, {} rows; {} rules; {} providers flagged ({:.1}%)",
            file.display(),
            ranked.len(),
            result.totals.lines,
            result.totals.rules_run,
            flagged.len(),
            100.0 * flagged.len() as f64 / ranked.len().max(1) as f64
        )?;
        for p in flagged.iter().take(args.show) {
            outln!("  #{:<4} {} {:<24} score {:<6.2} {}", p.rank, p.npi, p.specialty, p.score, report::format_money(p.amount_at_risk))?;
            for f in &p.factors {
                outln!("        {} ({} x {:.2}): {}", f.rule_id, f.weight, f.strength, f.detail)?;
            }
        }
        if let Some(out) = &args.out {
            std::fs::create_dir_all(out)?;
            let env = report::environment(None)?;
            let base = stem(file);
            let html = out.join(format!("{base}-fraud.html"));
            std::fs::write(&html, report::render_fraud(&result, &format!("Peer comparison: {base}"), &env)?)?;
            let csv_path = out.join(format!("{base}-providers.csv"));
            std::fs::write(&csv_path, score::providers_csv(&ranked, &result.rules))?;
            outln!("report: {}  providers: {}", html.display(), csv_path.display())?;
        }
    }
    Ok(0)
}
