//! The `audit` job: load claims, run the rules, collect findings and the figures the reports show.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use serde::Serialize;

use crate::batch::Batch;
use crate::findings;
use crate::vocab::{amount_at_risk, Finding};
use crate::fraud::{self, indicators::ProviderIndicators};
use crate::load;
use crate::rules::run::{self, RuleFailure};
use crate::rules::vars::VarSource;
use crate::rules::{self, Diagnostic, RuleMeta, Sandbox};
use crate::vocab::{input_error, Category, DataIssue, Severity};
use crate::schema::AliasMap;

#[derive(Default)]
pub struct AuditOptions {
    pub inputs: Vec<PathBuf>,
    pub rules_dir: PathBuf,
    /// Reference tables; default: the rules folder's data/.
    pub refdata: Option<PathBuf>,
    pub aliases: Option<PathBuf>,
    pub sandbox: Sandbox,
    /// Stop on any rule error instead of reporting it and running the rest.
    pub strict: bool,
    /// External peer aggregates (CMS Physician & Other Practitioners layout) for the E/M mix.
    pub peer_table: Option<PathBuf>,
    /// Also run every rule on every record and report findings a selector would drop.
    pub verify_selectors: bool,
}

/// Rule errors that `--strict` turns into a failed run.
#[derive(Debug)]
pub struct StrictFailure(pub Vec<String>);

impl std::fmt::Display for StrictFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--strict: {} rule error(s):\n{}", self.0.len(), self.0.join("\n"))
    }
}
impl std::error::Error for StrictFailure {}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Totals {
    pub files: usize,
    pub lines: usize,
    pub claims: usize,
    pub patients: usize,
    pub providers: usize,
    pub payers: usize,
    pub total_charge: f64,
    pub rules_run: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub claims_with_findings: usize,
    pub clean_claim_rate: f64,
    /// Error and warning findings on claims, each line counted once at its largest amount.
    pub amount_at_risk: f64,
    /// Findings about a provider as a whole (fraud-risk leads), counted apart from claims.
    pub provider_findings: usize,
    pub providers_with_findings: usize,
    /// Their estimated dollars, each provider once at its largest amount.
    pub provider_amount_at_risk: f64,
    pub evaluations: u64,
}

pub struct AuditResult {
    pub findings: Vec<Finding>,
    pub failures: Vec<RuleFailure>,
    /// Rules not run because a table they require is not loaded.
    pub not_run: Vec<run::NotRun>,
    /// What each rule cost (`--profile`).
    pub profile: Vec<run::RuleProfile>,
    /// With `verify_selectors`: findings a selector would have dropped.
    pub selector_misses: Vec<Finding>,
    /// Edits bypassed by a modifier or an exception, per rule and reason and per provider.
    pub bypasses: crate::vocab::Bypasses,
    /// The reference tables loaded: name, files and releases.
    pub reference_tables: Vec<TableUse>,
    pub diagnostics: Vec<Diagnostic>,
    pub rules: Vec<RuleMeta>,
    pub totals: Totals,
    pub sources: Vec<String>,
    pub batch: Arc<Batch>,
    /// Reference tables loaded only as hand-made subsets (the default rules/data): code
    /// existence findings against them are not conclusive.
    pub subset_tables: Vec<&'static str>,
    /// Fraud-risk indicators per provider, in `batch.providers` order; empty when no rule reads
    /// them.
    pub provider_indicators: Vec<ProviderIndicators>,
}

pub fn run_audit(opts: &AuditOptions) -> Result<AuditResult> {
    let mut aliases = AliasMap::builtin();
    if let Some(path) = &opts.aliases {
        aliases = aliases.with_file(path).map_err(|e| input_error(format!("{e:#}")))?;
    }
    let loaded = {
        let _span = tracing::info_span!("load").entered();
        load::load_claims(&opts.inputs, &aliases)?
    };
    audit_loaded(loaded, opts, |_| true)
}

/// Audits claims already in the canonical frame, with the rules `keep` accepts.
pub fn audit_loaded(loaded: load::LoadedClaims, opts: &AuditOptions, keep: impl Fn(&RuleMeta) -> bool) -> Result<AuditResult> {
    tracing::info!(lines = loaded.batch.len, files = loaded.sources.len(), "claims loaded");
    if !opts.rules_dir.is_dir() {
        anyhow::bail!(input_error(format!("rules folder {} does not exist (use --rules DIR)", opts.rules_dir.display())));
    }
    let refdata = {
        let _span = tracing::info_span!("refdata").entered();
        rules::load_refdata(&opts.rules_dir, opts.refdata.as_deref())?
    };
    let engine = rules::new_engine(opts.sandbox, &refdata);
    let mut ruleset = rules::load_rules(&engine, &opts.rules_dir)?;
    ruleset.rules.retain(|r| keep(r.meta()));
    let (batch, provider_indicators, providers) = {
        let _span = tracing::info_span!("batch").entered();
        let batch = Arc::new(loaded.batch);
        // Provider indicators cost group-bys; only rules that read them need them.
        let indicators = if ruleset.rules.iter().any(|r| r.reads(VarSource::Indicators)) {
            let external = opts.peer_table.as_deref().map(fraud::puf::external_peers).transpose()?;
            let frame = batch.to_canonical_frame()?;
            fraud::indicators::compute(&frame, &batch, &refdata, external.as_ref())?
        } else {
            Vec::new()
        };
        let providers = provider_records(&batch, &indicators);
        (batch, indicators, providers)
    };
    let compile_errors: Vec<&Diagnostic> = ruleset.diagnostics.iter().filter(|d| !d.is_warning).collect();
    if opts.strict && !compile_errors.is_empty() {
        anyhow::bail!(StrictFailure(compile_errors.iter().map(|d| d.to_string()).collect()));
    }
    tracing::info!(rules = ruleset.rules.len(), "rules compiled");

    let output = {
        let _span = tracing::info_span!("evaluate").entered();
        let input = run::Input { batch: &batch, providers: &providers, refdata: &refdata };
        run::run_rules(&engine, &ruleset.rules, &input, run::RunOptions { verify_selectors: opts.verify_selectors })
    };
    if opts.strict && !output.failures.is_empty() {
        anyhow::bail!(StrictFailure(output.failures.iter().map(|f| f.to_string()).collect()));
    }

    let mut all = data_quality_findings(&loaded.issues);
    all.extend(output.findings);
    findings::sort(&mut all);

    let rules: Vec<RuleMeta> = ruleset.rules.iter().map(|r| r.meta().clone()).collect();
    let totals = totals(&batch, &all, rules.len(), output.evaluations, loaded.sources.len());
    Ok(AuditResult {
        findings: all,
        failures: output.failures,
        not_run: output.not_run,
        profile: output.profile,
        selector_misses: output.selector_misses,
        bypasses: output.bypasses,
        reference_tables: table_uses(&refdata),
        diagnostics: ruleset.diagnostics,
        rules,
        totals,
        sources: loaded.sources,
        batch,
        subset_tables: refdata.subset_tables(),
        provider_indicators,
    })
}

/// A reference table the audit loaded, for the summary and the report.
#[derive(Debug, Clone, Serialize)]
pub struct TableUse {
    pub table: &'static str,
    pub files: Vec<String>,
    /// Release dates in force (quarter or fiscal year starts); empty when undated.
    pub releases: Vec<String>,
    pub subset: bool,
}

fn table_uses(refdata: &crate::refdata::RefData) -> Vec<TableUse> {
    refdata
        .summary()
        .tables
        .into_iter()
        .filter(|t| t.loaded)
        .map(|t| TableUse {
            table: t.kind.name(),
            files: t.files.iter().map(|f| f.path.display().to_string()).collect(),
            releases: t.releases.iter().flatten().map(|d| d.to_string()).collect(),
            subset: refdata.is_subset(t.kind),
        })
        .collect()
}

/// Provider records with their fraud-risk indicators, for rule examples.
pub fn example_providers(batch: &Arc<Batch>, refdata: &crate::refdata::RefData) -> Result<Vec<run::ProviderRecord>> {
    let frame = batch.to_canonical_frame()?;
    let indicators = fraud::indicators::compute(&frame, batch, refdata, None)?;
    Ok(provider_records(batch, &indicators))
}

/// The records provider-scope rules run on: one per provider group of the batch.
fn provider_records(batch: &Batch, indicators: &[ProviderIndicators]) -> Vec<run::ProviderRecord> {
    batch
        .providers
        .iter()
        .enumerate()
        .map(|(g, rows)| {
            let first = rows[0] as usize;
            run::ProviderRecord {
                npi: batch.provider.get(first).to_string(),
                specialty: batch.text(crate::schema::col::PROVIDER_SPECIALTY, first).to_string(),
                aggregates: batch.provider_aggregates.values[g].clone(),
                indicators: indicators.get(g).map(fraud::indicators::to_dynamic).unwrap_or(rhai::Dynamic::UNIT),
            }
        })
        .collect()
}

/// Input problems as findings, so they are counted and shown like any other.
pub fn data_quality_findings(issues: &[DataIssue]) -> Vec<Finding> {
    issues
        .iter()
        .map(|i| Finding {
            claim_id: i.claim_id.clone().unwrap_or_default(),
            line_number: i.line_number,
            rule_id: i.rule_id.to_string(),
            severity: i.severity,
            category: Category::DataQuality,
            message: i.message.clone(),
            amount_at_risk: i.amount_at_risk,
            citation: "claimlint input validation".into(),
            payer_id: String::new(),
            provider_npi: String::new(),
            patient_id: String::new(),
            service_date: String::new(),
            location: match i.row {
                Some(r) => format!("{}:{r}", i.source),
                None => i.source.clone(),
            },
            // A value that cannot be read makes the claim unprocessable.
            denial: Some(crate::vocab::Denial {
                group: "CO".into(),
                carc: "16".into(),
                rarc: vec!["MA130".into()],
                label: "claim data unreadable; returned as unprocessable".into(),
                source: "X12 Claim Adjustment Reason Code and Remittance Advice Remark Code lists".into(),
            }),
            fix: None,
        })
        .collect()
}

fn totals(batch: &Batch, findings: &[Finding], rules_run: usize, evaluations: u64, files: usize) -> Totals {
    use crate::batch::col_index;
    let distinct = |name: &str| (0..batch.len).map(|r| batch.text(col_index(name), r)).filter(|s| !s.is_empty()).collect::<HashSet<_>>().len();
    let charge = col_index("charge_amount");
    let total_charge = (0..batch.len).filter_map(|r| batch.number(charge, r)).sum();
    let claims = batch.claims.len();
    let (provider_level, claim_level): (Vec<&Finding>, Vec<&Finding>) = findings.iter().partition(|f| f.is_provider_level());
    let flagged: HashSet<&str> = claim_level
        .iter()
        .filter(|f| f.severity >= Severity::Warning && !f.claim_id.is_empty())
        .map(|f| f.claim_id.as_str())
        .collect();
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    Totals {
        files,
        lines: batch.len,
        claims,
        patients: distinct("patient_id"),
        providers: batch.providers.len(),
        payers: distinct("payer_id"),
        total_charge,
        rules_run,
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        infos: count(Severity::Info),
        claims_with_findings: flagged.len(),
        clean_claim_rate: if claims == 0 { 1.0 } else { (claims - flagged.len().min(claims)) as f64 / claims as f64 },
        amount_at_risk: amount_at_risk(claim_level.iter().copied()),
        provider_findings: provider_level.len(),
        providers_with_findings: provider_level.iter().map(|f| f.provider_npi.as_str()).collect::<HashSet<_>>().len(),
        provider_amount_at_risk: amount_at_risk(provider_level.iter().copied()),
        evaluations,
    }
}

