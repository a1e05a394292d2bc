//! `claimlint remit`: read 835 remittances, audit the claims they answer, and show which denials
//! claimlint predicted, which it missed and which findings were paid anyway.

use std::path::PathBuf;

use crate::audit::AuditOptions;
use crate::remit::{self, RemitOptions};
use crate::report::{self, format_money};
use crate::rules::Sandbox;
use crate::vocab::Severity;

#[derive(clap::Args)]
pub struct RemitArgs {
    /// 835 remittance files, or folders of them.
    #[arg(required = true)]
    remittances: Vec<PathBuf>,
    /// The claims the remittances answer (CSV, TSV, Parquet, NDJSON, 837), files or folders.
    #[arg(long, required = true, num_args = 1.., action = clap::ArgAction::Append)]
    claims: Vec<PathBuf>,
    /// Folder of rule files (searched recursively); their `denial:` blocks name the CARCs.
    #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES")]
    rules: PathBuf,
    /// Reference tables (CMS NCCI, ICD-10-CM, MCE, HCPCS, POS, ...); default: RULES/data.
    #[arg(long, env = "CLAIMLINT_REFDATA")]
    refdata: Option<PathBuf>,
    /// YAML file mapping your column names onto the canonical schema.
    #[arg(long)]
    aliases: Option<PathBuf>,
    /// Folder for remit.html and the CSV files; without it only the summary prints.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Exit 1 when any audit or remittance finding is at or above this severity.
    #[arg(long, default_value = "error", value_parser = |s: &str| s.parse::<Severity>())]
    fail_on: Severity,
    /// Folder with templates that replace the built-in ones (same file names as reports/).
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Lines printed for each list in the summary.
    #[arg(long, default_value_t = 10)]
    show: usize,
}

pub fn run(args: RemitArgs) -> anyhow::Result<u8> {
    let opts = RemitOptions {
        remittances: args.remittances,
        audit: AuditOptions {
            inputs: args.claims,
            rules_dir: args.rules,
            refdata: args.refdata,
            aliases: args.aliases,
            sandbox: Sandbox::default(),
            strict: false,
            peer_table: None,
            ..Default::default()
        },
    };
    let spinner = super::progress::Spinner::start("reading remittances and auditing claims");
    let run = remit::run(&opts);
    spinner.finish();
    let run = run?;

    for d in &run.audit.diagnostics {
        eprintln!("{d}");
    }
    for f in &run.audit.failures {
        eprintln!("{f}");
    }
    if !run.audit.subset_tables.is_empty() {
        eprintln!(
            "note: the {} tables loaded are small subsets (the default rules/data); codes outside them are reported as unknown. Pass --refdata DIR with the full CMS tables for a real audit.",
            run.audit.subset_tables.join(", ")
        );
    }

    let p = &run.posting;
    let rejected: usize = run.remittances.iter().map(|r| r.claims_rejected()).sum();
    outln!(
        "claimlint remit: {} remittance file(s), {} transaction set(s), {} claims read ({} rejected), {} service lines",
        run.remittances.len(),
        p.transactions,
        p.claims,
        rejected,
        p.lines
    )?;
    outln!(
        "matching: {} of {} remittance claims name an audited claim ({} service lines unmatched); {} of {} audited claims are in no remittance",
        run.matching.matched_claims(),
        run.matching.claims.len(),
        run.matching.unmatched_lines(),
        run.matching.unremitted.len(),
        run.claims.claim_order.len()
    )?;
    let days = match (p.days.median, p.days.max) {
        (Some(median), Some(max)) => format!("median {median:.0} days, longest {max} ({} claims)", p.days.rows.len()),
        _ => "no claim has both a received and a payment date".to_string(),
    };
    outln!(
        "posting: billed {}, paid {}, adjusted {}, patient responsibility {}, provider adjustments {}; receipt to payment: {days}",
        format_money(p.billed),
        format_money(p.paid),
        format_money(p.adjusted),
        format_money(p.patient_responsibility),
        format_money(p.provider_adjustments)
    )?;
    let t = &run.outcome.totals;
    outln!(
        "denials: {} ({}): {} predicted ({}), {} missed ({}), {} on claims or lines that did not match ({})",
        t.denials,
        format_money(t.denied_amount),
        t.predicted,
        format_money(t.predicted_amount),
        t.missed,
        format_money(t.missed_amount),
        t.unmatched,
        format_money(t.unmatched_amount)
    )?;
    outln!(
        "findings: {} predicted a denial, {} paid anyway ({}), {} denied for another reason, {} on lines not in the remittance, {} on claims not remitted",
        t.findings_predicted,
        t.paid_anyway,
        format_money(t.paid_anyway_amount),
        t.other_reason,
        t.line_not_remitted,
        t.not_remitted
    )?;
    let missed: Vec<_> = run.outcome.by_carc.iter().filter(|c| c.missed > 0).collect();
    if !missed.is_empty() {
        outln!("missed denials by CARC (no rule predicted them):")?;
        for c in missed.iter().take(args.show) {
            outln!("  {:<8} {:>4} {:>12}  {}", c.code, c.missed, format_money(c.missed_amount), c.label)?;
        }
    }
    let unenforced: Vec<_> = run.outcome.by_rule.iter().filter(|r| r.paid_anyway > 0).collect();
    if !unenforced.is_empty() {
        outln!("findings paid anyway, by rule:")?;
        for r in unenforced.iter().take(args.show) {
            outln!("  {:<28} {:>4} {:>12}", r.rule_id, r.paid_anyway, format_money(r.paid_amount))?;
        }
    }
    let count = |s: Severity| run.problems.iter().filter(|f| f.severity == s).count();
    outln!("remittance data quality: {} error, {} warning, {} info", count(Severity::Error), count(Severity::Warning), count(Severity::Info))?;
    let mut worst: Vec<_> = run.problems.iter().filter(|f| f.severity >= Severity::Warning).collect();
    worst.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in worst.into_iter().take(args.show) {
        outln!("  {:<7} {:<24} {}: {}", f.severity.as_str(), f.rule_id, f.location, f.message)?;
    }

    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
        let written = remit::output::write_all(&run, out)?;
        let env = report::environment(args.templates.as_deref())?;
        let html = out.join("remit.html");
        std::fs::write(&html, report::render_remit(&run, &env)?)?;
        let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        outln!("report: {}  tables: {}", html.display(), names.join(", "))?;
    }

    let failing = run.all_findings().any(|f| f.severity >= args.fail_on);
    Ok(u8::from(failing))
}
