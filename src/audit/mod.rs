//! The `audit` job: load claims, run the rules, collect findings and the figures the reports show.

pub mod distributed;
pub mod partition;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use crate::batch::Batch;
use crate::findings;
use crate::fraud::{self, indicators::ProviderIndicators};
use crate::load;
use crate::price::Pricing;
use crate::refdata::RefData;
use crate::rules::run::{self, RuleFailure};
use crate::rules::{self, CompiledRule, Diagnostic, RuleMeta, Sandbox, Scope};
use crate::schema::{col, AliasMap};
use crate::vocab::{amount_at_risk, amount_at_risk_priced, Finding, Price};
use crate::vocab::{input_error, Category, DataIssue, FileAccounting, Money, Severity};

#[derive(Default, Clone)]
pub struct AuditOptions {
    pub inputs: Vec<PathBuf>,
    pub rules_dir: PathBuf,
    /// Reference tables; default: the rules folder's data/.
    pub refdata: Option<PathBuf>,
    /// Parsed reference-table cache; default: `CLAIMLINT_CACHE_DIR` or the user's cache folder.
    pub cache_dir: Option<PathBuf>,
    pub aliases: Option<PathBuf>,
    pub sandbox: Sandbox,
    /// Stop on any rule error instead of reporting it and running the rest.
    pub strict: bool,
    /// External peer aggregates (CMS Physician & Other Practitioners layout) for the E/M mix.
    pub peer_table: Option<PathBuf>,
    /// Also run every rule on every record and report findings a selector would drop.
    pub verify_selectors: bool,
    /// Memory budget in bytes; past it the audit runs patient partitions in turn.
    pub memory: Option<u64>,
    /// Partitions to use whatever the size (tests, and the distributed map step).
    pub partitions: Option<usize>,
    /// Folder for the partitions' spill files (default: the system's temporary folder).
    pub spill_dir: Option<PathBuf>,
    /// Text encoding of CSV/TSV inputs ("windows-1252", "latin1", ...); `None` detects it.
    pub encoding: Option<String>,
    /// Which dollars the headline dollars at risk count (`--price`): billed (the default) or
    /// Medicare's; `Medicare` also loads the fee schedule whatever the rules read.
    pub price: Price,
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
    /// Error and warning findings on claims, each line counted once at its largest amount, at
    /// the price the audit uses (`pricing.used`): the headline figure.
    pub amount_at_risk: f64,
    /// The same at the findings' own (billed) amounts.
    pub billed_at_risk: f64,
    /// The same at the findings' expected allowed amounts.
    pub allowed_at_risk: f64,
    /// Which price the headline uses and how the findings were priced.
    pub pricing: Pricing,
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
    /// Edits bypassed by a modifier or an exception, per rule and reason and per provider.
    pub bypasses: crate::vocab::Bypasses,
    /// With `verify_selectors`: findings a selector would have dropped.
    pub selector_misses: Vec<Finding>,
    /// The reference tables loaded: name, files and releases.
    pub reference_tables: Vec<TableUse>,
    /// Wall time of each phase, in seconds: load (claims, with the reference tables on another
    /// thread), evaluate (partitions), providers (partials merged, provider rules), in order.
    pub phases: Vec<(String, f64)>,
    pub diagnostics: Vec<Diagnostic>,
    pub rules: Vec<RuleMeta>,
    pub totals: Totals,
    pub sources: Vec<String>,
    /// Lines and claims read and rejected, per input file.
    pub accounting: Vec<FileAccounting>,
    /// The claim lines, when the audit held them in memory in one batch (None when it ran in
    /// partitions).
    pub batch: Option<Arc<Batch>>,
    /// Reference tables loaded only as hand-made subsets (the default rules/data): code
    /// existence findings against them are not conclusive.
    pub subset_tables: Vec<&'static str>,
    /// Fraud-risk indicators per provider; empty when no provider rule runs.
    pub provider_indicators: Vec<ProviderIndicators>,
}

/// What an audit prepares before it reads claims: the rules (compiled and checked) and the
/// reference tables.
pub struct Prepared {
    pub refdata: Arc<RefData>,
    pub engine: rhai::Engine,
    pub ruleset: rules::RuleSet,
    external: Option<fraud::puf::ExternalPeers>,
}

impl Prepared {
    /// Rules checked first, so a broken rule folder fails before any claim is read; the
    /// reference tables load on another thread while `load_claims` reads the claims.
    pub fn new<T: Send>(
        opts: &AuditOptions,
        keep: impl Fn(&RuleMeta) -> bool,
        load_claims: impl FnOnce() -> Result<T> + Send,
    ) -> Result<(Prepared, T)> {
        if !opts.rules_dir.is_dir() {
            anyhow::bail!(input_error(format!("rules folder {} does not exist (use --rules DIR)", opts.rules_dir.display())));
        }
        let (refdata, claims) = std::thread::scope(|s| {
            let refdata = s.spawn(|| {
                let _span = tracing::info_span!("refdata").entered();
                let cache = opts.cache_dir.clone().map_or(crate::refdata::CacheSetting::Default, crate::refdata::CacheSetting::Dir);
                let mut only = tables_needed(&opts.rules_dir);
                if let Some(only) = only.as_mut().filter(|_| opts.price == Price::Medicare) {
                    only.extend([crate::refdata::TableKind::Pfs, crate::refdata::TableKind::PfsFactors]);
                }
                crate::refdata::load_for(&opts.rules_dir, opts.refdata.as_deref(), &crate::refdata::LoadOptions { only, cache })
            });
            let claims = {
                let _span = tracing::info_span!("load").entered();
                load_claims()
            };
            (refdata.join().expect("reference data thread"), claims)
        });
        let refdata = refdata?;
        let claims = claims?;
        let engine = rules::new_engine(opts.sandbox, &refdata);
        let mut ruleset = rules::load_rules(&engine, &opts.rules_dir)?;
        ruleset.rules.retain(|r| keep(r.meta()));
        let compile_errors: Vec<&Diagnostic> = ruleset.diagnostics.iter().filter(|d| !d.is_warning).collect();
        if opts.strict && !compile_errors.is_empty() {
            anyhow::bail!(StrictFailure(compile_errors.iter().map(|d| d.to_string()).collect()));
        }
        tracing::info!(rules = ruleset.rules.len(), "rules compiled");
        let external = opts.peer_table.as_deref().map(fraud::puf::external_peers).transpose()?;
        Ok((Prepared { refdata, engine, ruleset, external }, claims))
    }

    fn has_provider_rules(&self) -> bool {
        self.ruleset.rules.iter().any(|r| r.meta().scope == Scope::Provider)
    }

    fn claim_rules(&self) -> Vec<CompiledRule> {
        self.ruleset.rules.iter().filter(|r| r.meta().scope != Scope::Provider).cloned().collect()
    }

    fn provider_rules(&self) -> Vec<CompiledRule> {
        self.ruleset.rules.iter().filter(|r| r.meta().scope == Scope::Provider).cloned().collect()
    }
}

/// What one partition's audit gives (the map output): the findings of its line, claim and
/// patient-day rules, its data-quality findings, its provider partials and its counts. Rule
/// failures travel with it, so a rule that failed on one partition is reported and its findings
/// dropped everywhere; the profile and selector misses stay with the process that ran it.
#[derive(Default, Serialize, serde::Deserialize)]
pub struct PartitionAudit {
    /// Not in a map output: the map writes them to its findings file, which the reduce reads.
    #[serde(skip)]
    pub findings: Vec<Finding>,
    pub failures: Vec<RuleFailure>,
    #[serde(skip)]
    pub profile: Vec<run::RuleProfile>,
    pub not_run: Vec<run::NotRun>,
    #[serde(skip)]
    pub selector_misses: Vec<Finding>,
    pub partials: fraud::ProviderPartials,
    pub counts: Counts,
    /// Edits bypassed by a modifier or an exception (summed across partitions).
    pub bypasses: crate::vocab::Bypasses,
    /// Whether the fee schedule was loaded when the findings were priced: `Some(true)` only when
    /// it was in every partition absorbed (`None` before any).
    #[serde(default)]
    pub fee_schedule: Option<bool>,
}

/// Counts a partition contributes to the totals. Claims and patients are whole within a
/// partition (a patient's lines share one), so they add up; payers and providers may span
/// partitions, so their sets are merged.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Counts {
    pub lines: usize,
    pub claims: usize,
    pub patients: usize,
    pub total_charge: Money,
    pub evaluations: u64,
    pub payers: BTreeSet<String>,
    pub providers: BTreeSet<String>,
    /// Distinct claims per input file.
    pub claims_per_source: Vec<u64>,
}

impl Counts {
    fn of(batch: &Batch) -> Counts {
        let distinct = |c: usize| -> BTreeSet<String> {
            let mut seen = vec![false; batch.dict(c).map_or(1, |d| d.len())];
            for r in 0..batch.len {
                seen[batch.text_id(c, r) as usize] = true;
            }
            match batch.dict(c) {
                Some(dict) => seen.iter().enumerate().skip(1).filter(|(_, &x)| x).map(|(i, _)| dict.get(i).to_string()).collect(),
                None => BTreeSet::new(),
            }
        };
        Counts {
            lines: batch.len,
            claims: batch.claims.len(),
            patients: batch.distinct_count(col::PATIENT_ID),
            total_charge: batch.numbers(col::CHARGE_AMOUNT).map_or(Money::default(), |v| {
                v.iter().filter(|x| !x.is_nan()).fold(Money::default(), |mut m, &x| {
                    m += Money::from(x);
                    m
                })
            }),
            evaluations: 0,
            payers: distinct(col::PAYER_ID),
            providers: batch.provider.dict().iter().skip(1).map(str::to_string).collect(),
            claims_per_source: load::claims_per_source(batch),
        }
    }

    fn merge(&mut self, o: Counts) {
        self.lines += o.lines;
        self.claims += o.claims;
        self.patients += o.patients;
        self.total_charge += o.total_charge;
        self.evaluations += o.evaluations;
        self.payers.extend(o.payers);
        self.providers.extend(o.providers);
        if self.claims_per_source.len() < o.claims_per_source.len() {
            self.claims_per_source.resize(o.claims_per_source.len(), 0);
        }
        for (a, b) in self.claims_per_source.iter_mut().zip(o.claims_per_source) {
            *a += b;
        }
    }
}

/// Audits one batch with the line, claim and patient-day rules (the map step).
pub fn audit_partition(prep: &Prepared, batch: &Arc<Batch>, issues: &[DataIssue], opts: &AuditOptions) -> Result<PartitionAudit> {
    let _span = tracing::info_span!("evaluate").entered();
    let rules = prep.claim_rules();
    let input = run::Input { batch, providers: &[], refdata: &prep.refdata };
    // The provider partials read only the batch: they are summed beside the rules, so either
    // fills the cores the other leaves idle; the counts likewise.
    let ((output, partials), mut counts) = rayon::join(
        || {
            rayon::join(
                || run::run_rules(&prep.engine, &rules, &input, run::RunOptions { verify_selectors: opts.verify_selectors }),
                || if prep.has_provider_rules() { fraud::ProviderPartials::from_batch(batch, &prep.refdata) } else { Default::default() },
            )
        },
        || Counts::of(batch),
    );
    if opts.strict && !output.failures.is_empty() {
        anyhow::bail!(StrictFailure(output.failures.iter().map(|f| f.to_string()).collect()));
    }
    let mut findings = data_quality_findings(issues);
    findings.extend(output.findings);
    counts.evaluations = output.evaluations;
    Ok(PartitionAudit {
        fee_schedule: Some(crate::price::fee_schedule_loaded(&prep.refdata)),
        findings,
        failures: output.failures,
        profile: output.profile,
        not_run: output.not_run,
        selector_misses: output.selector_misses,
        bypasses: output.bypasses,
        partials,
        counts,
    })
}

impl PartitionAudit {
    /// Adds another partition's audit: findings appended, partials, counts, bypasses and the
    /// rules' costs summed, failures and rules not run kept once. Merging as partitions finish
    /// keeps one set of partials in memory rather than one per partition.
    pub fn absorb(&mut self, p: PartitionAudit) {
        self.findings.extend(p.findings);
        self.selector_misses.extend(p.selector_misses);
        for f in p.failures {
            if !self.failures.iter().any(|g: &RuleFailure| g.rule_id == f.rule_id) {
                self.failures.push(f);
            }
        }
        for n in p.not_run {
            if !self.not_run.iter().any(|m: &run::NotRun| m.rule_id == n.rule_id) {
                self.not_run.push(n);
            }
        }
        for r in p.profile {
            match self.profile.iter_mut().find(|q| q.rule_id == r.rule_id) {
                Some(q) => {
                    q.records += r.records;
                    q.selected += r.selected;
                    q.evaluations += r.evaluations;
                    q.findings += r.findings;
                    q.select_seconds += r.select_seconds;
                    q.eval_seconds += r.eval_seconds;
                }
                None => self.profile.push(r),
            }
        }
        self.partials.merge(p.partials);
        self.counts.merge(p.counts);
        self.bypasses.merge(p.bypasses);
        self.fee_schedule = Some(self.fee_schedule.unwrap_or(true) && p.fee_schedule.unwrap_or(false));
    }
}

/// Merges partition audits and runs the provider rules on the merged partials (the reduce step).
pub fn reduce(
    prep: Prepared,
    parts: Vec<PartitionAudit>,
    sources: Vec<String>,
    mut accounting: Vec<FileAccounting>,
    batch: Option<Arc<Batch>>,
    opts: &AuditOptions,
) -> Result<AuditResult> {
    let mut merged = PartitionAudit::default();
    for p in parts {
        merged.absorb(p);
    }
    let mut profile = std::mem::take(&mut merged.profile);
    // A rule that failed on one partition has partial findings elsewhere: drop them all.
    let failed: HashSet<&str> = merged.failures.iter().map(|f| f.rule_id.as_str()).collect();
    merged.findings.retain(|f| !failed.contains(f.rule_id.as_str()));

    let (records, provider_indicators) = if prep.has_provider_rules() {
        let _span = tracing::info_span!("providers").entered();
        let records = fraud::provider_records(&merged.partials, &prep.refdata, prep.external.as_ref());
        let inputs: Vec<run::ProviderRecord> = records
            .iter()
            .map(|r| run::ProviderRecord {
                npi: r.npi.clone(),
                specialty: r.specialty.clone(),
                aggregates: r.aggregates.clone(),
                indicators: fraud::indicators::to_dynamic(&r.indicators),
            })
            .collect();
        let indicators = records.into_iter().map(|r| r.indicators).collect();
        (inputs, indicators)
    } else {
        (Vec::new(), Vec::new())
    };
    let empty = Arc::new(Batch::empty(sources.clone()));
    let input = run::Input { batch: &empty, providers: &records, refdata: &prep.refdata };
    let output = run::run_rules(&prep.engine, &prep.provider_rules(), &input, run::RunOptions::default());
    if opts.strict && !output.failures.is_empty() {
        anyhow::bail!(StrictFailure(output.failures.iter().map(|f| f.to_string()).collect()));
    }
    merged.findings.extend(output.findings);
    merged.failures.extend(output.failures);
    merged.failures.sort_by(|a, b| a.rule_id.cmp(&b.rule_id));
    profile.extend(output.profile);
    merged.bypasses.merge(output.bypasses);
    merged.counts.evaluations += output.evaluations;
    findings::sort(&mut merged.findings);

    load::count_claims(&mut accounting, &merged.counts.claims_per_source);
    let rules: Vec<RuleMeta> = prep.ruleset.rules.iter().map(|r| r.meta().clone()).collect();
    let pricing = Pricing::of(&merged.findings, opts.price, merged.fee_schedule.unwrap_or(false));
    let totals = totals(&merged.counts, &merged.findings, rules.len(), sources.len(), pricing);
    Ok(AuditResult {
        findings: merged.findings,
        failures: merged.failures,
        not_run: merged.not_run,
        profile,
        selector_misses: merged.selector_misses,
        bypasses: merged.bypasses,
        reference_tables: table_uses(&prep.refdata),
        phases: Vec::new(),
        diagnostics: prep.ruleset.diagnostics,
        rules,
        totals,
        sources,
        accounting,
        batch,
        subset_tables: prep.refdata.subset_tables(),
        provider_indicators,
    })
}

pub fn run_audit(opts: &AuditOptions) -> Result<AuditResult> {
    let mut aliases = AliasMap::builtin();
    if let Some(path) = &opts.aliases {
        aliases = aliases.with_file(path).map_err(|e| input_error(format!("{e:#}")))?;
    }
    let load_options = load::LoadOptions { encoding: opts.encoding.clone() };
    let partitions = match opts.partitions {
        Some(p) => p.max(1),
        None => plan_partitions(&load::discover_inputs(&opts.inputs)?, opts.memory.unwrap_or_else(default_memory)),
    };
    let started = Instant::now();
    if partitions <= 1 {
        let (prep, loaded) = Prepared::new(opts, |_| true, || load::load_claims_with(&opts.inputs, &aliases, &load_options))?;
        let loaded_at = started.elapsed().as_secs_f64();
        let mut result = audit_prepared(prep, loaded, opts)?;
        result.phases.insert(0, ("load".into(), loaded_at));
        return Ok(result);
    }
    tracing::info!(partitions, "auditing in partitions by patient");
    let (prep, (mut spill, mut issues, accounting)) = Prepared::new(
        opts,
        |_| true,
        || {
            let mut spill = partition::Partitioner::new(partitions, opts.spill_dir.as_deref())?;
            let (issues, accounting) = load::read_inputs(&opts.inputs, &aliases, &load_options, &mut spill)?;
            Ok((spill, issues, accounting))
        },
    )?;
    spill.finish()?;
    let partitioned_at = started.elapsed().as_secs_f64();
    if spill.lines.iter().sum::<u64>() == 0 {
        anyhow::bail!(input_error(format!("{}: no claim lines to audit (the input is empty)", spill.sources().join(", "))));
    }
    let sources = spill.sources().to_vec();
    let mut merged = PartitionAudit::default();
    // Reader issues (file-level and X12) are reported once, with the first partition.
    for p in 0..partitions {
        let (batch, unreadable) = spill.load(p)?.finish()?;
        issues.extend(unreadable);
        let batch = Arc::new(batch);
        merged.absorb(audit_partition(&prep, &batch, &std::mem::take(&mut issues), opts)?);
        tracing::info!(partition = p, lines = batch.len, "partition audited");
    }
    let audited_at = started.elapsed().as_secs_f64();
    let mut result = reduce(prep, vec![merged], sources, accounting, None, opts)?;
    result.phases = vec![
        ("load and partition".into(), partitioned_at),
        ("load and evaluate partitions".into(), audited_at - partitioned_at),
        ("providers".into(), started.elapsed().as_secs_f64() - audited_at),
    ];
    Ok(result)
}

/// Audits claims already loaded into one batch, with the rules `keep` accepts.
pub fn audit_loaded(loaded: load::LoadedClaims, opts: &AuditOptions, keep: impl Fn(&RuleMeta) -> bool) -> Result<AuditResult> {
    let (prep, loaded) = Prepared::new(opts, keep, || Ok(loaded))?;
    audit_prepared(prep, loaded, opts)
}

fn audit_prepared(prep: Prepared, loaded: load::LoadedClaims, opts: &AuditOptions) -> Result<AuditResult> {
    tracing::info!(lines = loaded.batch.len, files = loaded.sources.len(), "claims loaded");
    let started = Instant::now();
    let batch = Arc::new(loaded.batch);
    let part = audit_partition(&prep, &batch, &loaded.issues, opts)?;
    let evaluated = started.elapsed().as_secs_f64();
    let mut result = reduce(prep, vec![part], loaded.sources, loaded.accounting, Some(batch), opts)?;
    result.phases = vec![("evaluate".into(), evaluated), ("providers".into(), started.elapsed().as_secs_f64() - evaluated)];
    Ok(result)
}

/// Peak bytes one claim line costs while its partition is audited: the batch (about 200), its
/// share of the Parquet decoding buffers, the kernels' masks and tables and the findings, as
/// measured on generated batches (a 3.3M-line partition peaked at 3.6 GB), with headroom.
const BYTES_PER_LINE: u64 = 1200;

/// The default memory budget: 40% of the memory available now, at most 2.5 GiB.
pub fn default_memory() -> u64 {
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find(|l| l.starts_with("MemAvailable:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map(|kb| kb * 1024)
        .unwrap_or(8 << 30);
    (available * 2 / 5).min(5 << 29)
}

/// Partitions so that auditing one partition fits in the memory budget.
fn plan_partitions(files: &[PathBuf], memory: u64) -> usize {
    let lines: u64 = files.iter().map(|f| load::estimate_lines(f)).sum();
    let per_partition = (memory / BYTES_PER_LINE).max(1);
    lines.div_ceil(per_partition).max(1) as usize
}

/// The reference tables the rules under `rules_dir` may read, so only those are loaded; `None`
/// (all of them) when any rule is provider-scope (the provider partials read several tables) or
/// cannot be read. A rule needs what it `requires:` and every table whose name or Rhai
/// function it mentions anywhere (selectors name their kernels, scripts call the functions):
/// reading a table too many is cheap, a table too few would change findings.
fn tables_needed(rules_dir: &Path) -> Option<BTreeSet<crate::refdata::TableKind>> {
    use crate::refdata::{TableKind, TABLES};
    let words = |text: &str| -> HashSet<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).map(str::to_string).collect()
    };
    let mut needed = BTreeSet::new();
    for path in rules::source::find_rule_files(rules_dir).ok()? {
        let rule = rules::source::read_rule_file(&path).ok()?;
        if rule.meta.scope == Scope::Provider {
            return None;
        }
        let said = words(&rule.text);
        for t in TABLES {
            let function_named = t.functions.iter().any(|f| said.contains(f.call.split('(').next().unwrap_or("").trim()));
            if said.contains(t.name) || function_named || rule.meta.requires.iter().any(|r| r == t.name) {
                needed.insert(t.kind);
            }
        }
        // Kernels named otherwise than their tables.
        for (kernel, tables) in [
            ("mce_age", &[TableKind::Mce, TableKind::MceAges][..]),
            ("addon", &[TableKind::Aoc]),
            ("procedure_code_unknown", &[TableKind::Hcpcs, TableKind::Cpt]),
            ("excluded", &[TableKind::Leie]),
        ] {
            if said.contains(kernel) {
                needed.extend(tables.iter().copied());
            }
        }
    }
    // ICD-10-CM validity is read from the code lists and the MCE master together.
    if needed.contains(&TableKind::Icd10) || needed.contains(&TableKind::Mce) {
        needed.extend([TableKind::Icd10, TableKind::Mce]);
    }
    // Amounts need the year's conversion factor.
    if needed.contains(&TableKind::Pfs) {
        needed.insert(TableKind::PfsFactors);
    }
    Some(needed)
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
pub fn example_providers(batch: &Arc<Batch>, refdata: &RefData) -> Result<Vec<run::ProviderRecord>> {
    let partials = fraud::ProviderPartials::from_batch(batch, refdata);
    Ok(fraud::provider_records(&partials, refdata, None)
        .into_iter()
        .map(|r| run::ProviderRecord {
            npi: r.npi,
            specialty: r.specialty,
            aggregates: r.aggregates,
            indicators: fraud::indicators::to_dynamic(&r.indicators),
        })
        .collect())
}

/// Input problems as findings, so they are counted and shown like any other.
pub fn data_quality_findings(issues: &[DataIssue]) -> Vec<Finding> {
    let denial = std::sync::Arc::new(data_quality_denial());
    let citation: std::sync::Arc<str> = "claimlint input validation".into();
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
            // A line that could not be read has no price but its charge.
            expected_allowed: i.amount_at_risk,
            price_source: Some(crate::vocab::PriceSource::Billed),
            citation: citation.clone(),
            payer_id: String::new(),
            provider_npi: String::new(),
            patient_id: String::new(),
            service_date: String::new(),
            location: match i.row {
                Some(r) => format!("{}:{r}", i.source),
                None => i.source.clone(),
            },
            denial: Some(denial.clone()),
            fix: None,
        })
        .collect()
}

/// The denial of every data-quality finding: a value that cannot be read makes the claim
/// unprocessable.
pub fn data_quality_denial() -> crate::vocab::Denial {
    crate::vocab::Denial {
        group: "CO".into(),
        carc: "16".into(),
        rarc: vec!["MA130".into()],
        label: "claim data unreadable; returned as unprocessable".into(),
        source: "X12 Claim Adjustment Reason Code and Remittance Advice Remark Code lists".into(),
    }
}

fn totals(counts: &Counts, findings: &[Finding], rules_run: usize, files: usize, pricing: Pricing) -> Totals {
    let claims = counts.claims;
    let (provider_level, claim_level): (Vec<&Finding>, Vec<&Finding>) = findings.iter().partition(|f| f.is_provider_level());
    let flagged: HashSet<&str> =
        claim_level.iter().filter(|f| f.severity >= Severity::Warning && !f.claim_id.is_empty()).map(|f| f.claim_id.as_str()).collect();
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    Totals {
        files,
        lines: counts.lines,
        claims,
        patients: counts.patients,
        providers: counts.providers.len(),
        payers: counts.payers.len(),
        total_charge: counts.total_charge.into(),
        rules_run,
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        infos: count(Severity::Info),
        claims_with_findings: flagged.len(),
        clean_claim_rate: if claims == 0 { 1.0 } else { (claims - flagged.len().min(claims)) as f64 / claims as f64 },
        amount_at_risk: amount_at_risk_priced(claim_level.iter().copied(), pricing.used),
        billed_at_risk: amount_at_risk(claim_level.iter().copied()),
        allowed_at_risk: amount_at_risk_priced(claim_level.iter().copied(), Price::Medicare),
        pricing,
        evaluations: counts.evaluations,
        provider_findings: provider_level.len(),
        providers_with_findings: provider_level.iter().map(|f| f.provider_npi.as_str()).collect::<HashSet<_>>().len(),
        provider_amount_at_risk: amount_at_risk(provider_level.iter().copied()),
    }
}
