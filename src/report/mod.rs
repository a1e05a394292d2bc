//! HTML reports rendered with minijinja. Templates live in reports/, are embedded in the binary,
//! and can be replaced by files of the same name in `--templates DIR`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, Result};
use minijinja::Environment;
use serde::Serialize;

use crate::audit::{AuditResult, Totals};
use crate::extrapolation::Extrapolation;
use crate::rules::RuleMeta;
use crate::vocab::Finding;
use crate::vocab::{tally, Tally};

/// Embedded default templates: (name, source).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../reports/base.html.j2")),
    ("compliance.html", include_str!("../../reports/compliance.html.j2")),
    ("ratstats.html", include_str!("../../reports/ratstats.html.j2")),
    ("fraud.html", include_str!("../../reports/fraud.html.j2")),
    ("remit.html", include_str!("../../reports/remit.html.j2")),
];

/// Rows of the provider tally shown in the compliance report.
const MAX_TALLY_ROWS: usize = 50;

/// Providers listed in the fraud-risk report; the ranking covers all of them.
const MAX_HTML_PROVIDERS: usize = 1000;

mod data;
pub use data::{coverage, denial_table, CoverageRow, DenialRow};

pub fn environment(template_dir: Option<&Path>) -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    for (name, source) in TEMPLATES {
        let override_path = template_dir.map(|d| d.join(format!("{name}.j2")));
        let text = match override_path {
            Some(p) if p.is_file() => std::fs::read_to_string(&p).with_context(|| format!("cannot read template {}", p.display()))?,
            _ => source.to_string(),
        };
        env.add_template_owned(name.to_string(), text).with_context(|| format!("template {name}.j2"))?;
    }
    env.add_filter("money", |v: f64| format_money(v));
    env.add_filter("pct", |v: f64| format!("{:.1}%", v * 100.0));
    Ok(env)
}

pub fn format_money(v: f64) -> String {
    let cents = (v.abs() * 100.0).round() as u64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{}${grouped}.{:02}", if v < 0.0 { "-" } else { "" }, cents % 100)
}

#[derive(Serialize)]
struct RuleRow<'a> {
    meta: &'a RuleMeta,
    count: usize,
    amount: f64,
    /// The same findings' expected allowed dollars.
    allowed: f64,
}

#[derive(Serialize)]
struct ReportContext<'a> {
    title: &'a str,
    generated: String,
    sources: &'a [String],
    totals: &'a Totals,
    rules: Vec<RuleRow<'a>>,
    rule_index: BTreeMap<&'a str, &'a RuleMeta>,
    by_severity: Vec<Tally>,
    by_category: Vec<Tally>,
    by_payer: Vec<Tally>,
    /// Providers with the most findings; all of them are in the embedded data.
    by_provider: Vec<Tally>,
    providers_with_findings: usize,
    claims_with_findings: usize,
    provider_findings: usize,
    /// Rules not run because a reference table they require is not loaded.
    not_run: &'a [crate::rules::run::NotRun],
    findings_count: usize,
    /// What a payer would send back: findings and dollars per denial code.
    denials: Vec<DenialRow>,
    /// Per rule: records checked, scripts run, findings, bypasses, or not run.
    coverage: Vec<CoverageRow>,
    /// The drill-down rows (claims, findings, provider findings) as compact JSON, built into
    /// tables by the page's script a page at a time.
    data: String,
    failures: &'a [crate::rules::run::RuleFailure],
    diagnostics: Vec<String>,
    max_rule_count: usize,
    extrapolation: Option<&'a Extrapolation>,
    subset_tables: &'a [&'static str],
    reference_tables: &'a [crate::audit::TableUse],
    phases: &'a [(String, f64)],
    accounting: Vec<AccountingRow<'a>>,
    accounting_totals: crate::load::accounting::AccountingTotals,
}

/// One input file in the report's input accounting table.
#[derive(Serialize)]
struct AccountingRow<'a> {
    file: &'a crate::vocab::FileAccounting,
    lines_audited: u64,
    claims_audited: u64,
}

/// The compliance report; with `extrapolation`, it also shows the audited sample and the
/// overpayment projected to the universe.
pub fn render_compliance(result: &AuditResult, extrapolation: Option<&Extrapolation>, env: &Environment) -> Result<String> {
    let f = &result.findings;
    let mut counts: HashMap<&str, (usize, f64, f64)> = HashMap::new();
    for x in f {
        let e = counts.entry(x.rule_id.as_str()).or_insert((0, 0.0, 0.0));
        e.0 += 1;
        e.1 += x.amount_at_risk;
        e.2 += x.expected_allowed;
    }
    let mut rules: Vec<RuleRow> = result
        .rules
        .iter()
        .map(|m| {
            let (count, amount, allowed) = counts.get(m.id.as_str()).copied().unwrap_or((0, 0.0, 0.0));
            RuleRow { meta: m, count, amount, allowed }
        })
        .collect();
    rules.sort_by(|a, b| b.count.cmp(&a.count).then(a.meta.id.cmp(&b.meta.id)));
    rules.dedup_by(|a, b| a.meta.id == b.meta.id);

    let by_provider = tally(f, |x| x.provider_npi.clone(), |k| if k.is_empty() { "(none)".into() } else { k.into() });
    let data = data::drilldown(result);
    let ctx = ReportContext {
        title: "Claims compliance report",
        generated: chrono::Local::now().format("%Y-%m-%d %H:%M").to_string(),
        sources: &result.sources,
        totals: &result.totals,
        max_rule_count: rules.iter().map(|r| r.count).max().unwrap_or(0).max(1),
        rule_index: result.rules.iter().map(|m| (m.id.as_str(), m)).collect(),
        rules,
        by_severity: tally(f, |x| x.severity.as_str().to_string(), str::to_string),
        by_category: tally(f, |x| x.category.as_str().to_string(), str::to_string),
        by_payer: tally(f, |x| x.payer_id.clone(), |k| if k.is_empty() { "(none)".into() } else { k.into() }),
        providers_with_findings: by_provider.len(),
        by_provider: by_provider.into_iter().take(MAX_TALLY_ROWS).collect(),
        claims_with_findings: data.claims,
        provider_findings: data.provider_findings,
        not_run: &result.not_run,
        findings_count: f.len(),
        denials: denial_table(result),
        coverage: coverage(result),
        data: data.json,
        failures: &result.failures,
        diagnostics: result.diagnostics.iter().map(|d| d.to_string()).collect(),
        extrapolation,
        subset_tables: &result.subset_tables,
        reference_tables: &result.reference_tables,
        phases: &result.phases,
        accounting: result
            .accounting
            .iter()
            .map(|a| AccountingRow {
                file: a,
                lines_audited: a.lines_audited(),
                claims_audited: a.claims_read - a.claims_rejected.min(a.claims_read),
            })
            .collect(),
        accounting_totals: crate::load::accounting::totals(&result.accounting),
    };
    Ok(env.get_template("compliance.html")?.render(minijinja::value::Serde(&ctx))?)
}

#[derive(Serialize)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct RatStatsContext<'a> {
    title: &'a str,
    subtitle: &'a str,
    heading: &'a str,
    explain: &'a str,
    generated: String,
    text: &'a str,
    table: Table,
}

/// A RAT-STATS sample or appraisal as a self-contained page: the results as a sortable table
/// (from the command's CSV) and the RAT-STATS printout.
pub fn render_ratstats(env: &Environment, title: &str, heading: &str, explain: &str, text: &str, csv: &str) -> Result<String> {
    let mut records = crate::ratstats::io::parse_csv_records(csv).unwrap_or_default().into_iter().map(|(_, r)| r);
    let header = records.next().unwrap_or_default();
    let ctx = RatStatsContext {
        title,
        subtitle: "RAT-STATS compatible statistics by claimlint",
        heading,
        explain,
        generated: chrono::Local::now().format("%Y-%m-%d %H:%M").to_string(),
        text,
        table: Table { header, rows: records.filter(|r| r.iter().any(|c| !c.is_empty())).collect() },
    };
    Ok(env.get_template("ratstats.html")?.render(minijinja::value::Serde(&ctx))?)
}

#[derive(Serialize)]
struct FraudContext<'a> {
    title: &'a str,
    generated: String,
    sources: &'a [String],
    totals: &'a Totals,
    providers: &'a [crate::fraud::score::ProviderRisk<'a>],
    truncated: usize,
    flagged: usize,
    fraud_findings: usize,
    amount_at_risk: f64,
    benford: [f64; 9],
}

/// The fraud-risk report: providers ranked by risk score, each with the indicators behind it.
pub fn render_fraud(result: &AuditResult, title: &str, env: &Environment) -> Result<String> {
    let ranked = crate::fraud::score::rank(&result.findings, &result.rules, &result.provider_indicators);
    let fraud: Vec<&Finding> = result.findings.iter().filter(|f| f.category == crate::vocab::Category::FraudRisk).collect();
    let ctx = FraudContext {
        title,
        generated: chrono::Local::now().format("%Y-%m-%d %H:%M").to_string(),
        sources: &result.sources,
        totals: &result.totals,
        providers: &ranked[..ranked.len().min(MAX_HTML_PROVIDERS)],
        truncated: ranked.len().saturating_sub(MAX_HTML_PROVIDERS),
        flagged: ranked.iter().filter(|p| !p.factors.is_empty()).count(),
        fraud_findings: fraud.len(),
        amount_at_risk: crate::vocab::amount_at_risk(fraud.iter().copied()),
        benford: crate::fraud::stats::BENFORD_FIRST_DIGIT,
    };
    Ok(env.get_template("fraud.html")?.render(minijinja::value::Serde(&ctx))?)
}

// ---------------------------------------------------------------- remittances (claimlint remit)

/// The remittance page: the denial loop per CARC and per rule, payment posting, every
/// remittance line with its match, what did not match, and the remittances' data quality.
pub fn render_remit(run: &crate::remit::RemitRun, env: &Environment) -> Result<String> {
    let generated = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string();
    let page = crate::remit::output::page(run, "Remittances and denials", generated);
    Ok(env.get_template("remit.html")?.render(minijinja::value::Serde(&page))?)
}
