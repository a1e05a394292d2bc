//! Phase 2: evaluate compiled rules over a batch, in parallel with rayon.
//!
//! First each rule's selector picks its candidate records, natively over whole columns; then
//! the work is split into (rule, chunk of candidates) tasks. Each task reuses one Rhai scope,
//! pushes only the variables its script mentions, and carries its evaluation state in the run's
//! tag. Polars is never called from here.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;
use rhai::{Array, Dynamic, Engine, ImmutableString, Scope as RhaiScope};
use serde::Serialize;

use super::api::Line;
use super::context::{self, EvalContext, RawBypass, RawFinding};
use super::select::{select_records, SelectCtx};
use super::vars::VarSource;
use super::{CompiledRule, Scope};
use crate::batch::Batch;
use crate::refdata::RefData;
use crate::schema::col;
use crate::vocab::{BypassCount, Bypasses, Finding, Fix, ProviderBypass, Severity};

/// A rule that failed at run time; its remaining records were skipped.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RuleFailure {
    pub rule_id: String,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The claim line (or provider) being evaluated when it failed.
    pub record: String,
}

impl std::fmt::Display for RuleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: rule {} failed on {}: {}; its remaining records were skipped",
            self.path, self.line, self.column, self.rule_id, self.record, self.message
        )
    }
}

/// One provider as provider-scope rules see it: aggregates and indicators, no lines (a
/// provider's lines may span partitions).
#[derive(Debug, Clone)]
pub struct ProviderRecord {
    pub npi: String,
    pub specialty: String,
    /// Values of `batch::PROVIDER_AGGREGATES`, in that order.
    pub aggregates: Vec<Dynamic>,
    /// The `indicators` map; `()` when not computed.
    pub indicators: Dynamic,
}

/// A rule that did not run because a reference table it requires is not loaded.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct NotRun {
    pub rule_id: String,
    pub missing: Vec<String>,
}

/// What one rule cost: `audit --profile`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RuleProfile {
    pub rule_id: String,
    pub scope: &'static str,
    /// Records of the rule's scope.
    pub records: usize,
    /// Records its selector selected (all of them without a selector).
    pub selected: usize,
    pub evaluations: u64,
    pub findings: usize,
    pub select_seconds: f64,
    pub eval_seconds: f64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Also run every rule on every record, and report the findings its selector dropped.
    pub verify_selectors: bool,
}

#[derive(Default)]
pub struct RunOutput {
    pub findings: Vec<Finding>,
    pub failures: Vec<RuleFailure>,
    /// Script evaluations performed.
    pub evaluations: u64,
    pub profile: Vec<RuleProfile>,
    pub not_run: Vec<NotRun>,
    /// With `verify_selectors`: findings a rule makes on every record that its selector's
    /// candidates miss. Empty means every selector is safe on this batch.
    pub selector_misses: Vec<Finding>,
    /// Edits bypassed by a modifier or an exception, per rule and reason and per provider:
    /// recorded by scripts (`bypass`) on the records they run on, and by the kernels natively
    /// on the records their selector leaves out.
    pub bypasses: Bypasses,
    /// With `verify_selectors`: rules whose bypass counts differ when run on every record, as
    /// "rule reason: selected N, every record M".
    pub bypass_mismatches: Vec<String>,
}

const CHUNK: usize = 256;

/// What the rules run over.
pub struct Input<'a> {
    pub batch: &'a Arc<Batch>,
    pub providers: &'a [ProviderRecord],
    pub refdata: &'a RefData,
}

/// A rule prepared for this batch: what it applies to and which records to evaluate.
struct Planned<'r> {
    rule: &'r CompiledRule,
    candidates: Vec<u32>,
    /// Every record, for `verify_selectors` (None when the rule has no selector).
    all: Option<Vec<u32>>,
    records: usize,
    select_seconds: f64,
    /// Bypasses a kernel found while selecting (on any record; those of records the script
    /// runs on are left to the script).
    kernel_bypasses: Vec<RawBypass>,
}

/// Runs the rules: each on the records its selector selects (all records without one).
pub fn run_rules(engine: &Engine, rules: &[CompiledRule], input: &Input, opts: RunOptions) -> RunOutput {
    let mut out = RunOutput::default();
    let (runnable, not_run): (Vec<&CompiledRule>, Vec<&CompiledRule>) =
        rules.iter().partition(|r| r.meta().requires.iter().all(|t| input.refdata.has_table(t)));
    out.not_run = not_run
        .iter()
        .map(|r| NotRun {
            rule_id: r.meta().id.clone(),
            missing: r.meta().requires.iter().filter(|t| !input.refdata.has_table(t)).cloned().collect(),
        })
        .collect();

    let cache = super::select::kernels::KernelCache::default();
    let planned: Vec<Planned> = runnable.par_iter().map(|rule| plan(rule, input, opts, &cache)).collect();

    let (findings, failures, stats, script_bypasses) = evaluate(engine, &planned, input, |p| &p.candidates);
    out.bypasses = tally_bypasses(&planned, input, script_bypasses, &failures, true);
    out.findings = findings;
    out.failures = failures;
    out.evaluations = stats.iter().map(|s| s.0).sum();
    out.profile = planned
        .iter()
        .zip(&stats)
        .map(|(p, s)| RuleProfile {
            rule_id: p.rule.meta().id.clone(),
            scope: p.rule.meta().scope.as_str(),
            records: p.records,
            selected: p.candidates.len(),
            evaluations: s.0,
            findings: out.findings.iter().filter(|f| f.rule_id == p.rule.meta().id).count(),
            select_seconds: p.select_seconds,
            eval_seconds: s.1,
        })
        .collect();

    if opts.verify_selectors {
        let with_selector: Vec<&Planned> = planned.iter().filter(|p| p.all.is_some()).collect();
        let owned: Vec<Planned> = with_selector
            .iter()
            .map(|p| Planned {
                rule: p.rule,
                candidates: Vec::new(),
                all: p.all.clone(),
                records: p.records,
                select_seconds: 0.0,
                kernel_bypasses: Vec::new(),
            })
            .collect();
        let (everything, _, _, every_bypass) = evaluate(engine, &owned, input, |p| p.all.as_ref().expect("verified rules have all records"));
        let every = tally_bypasses(&owned, input, every_bypass, &[], false);
        for p in &owned {
            let id = &p.rule.meta().id;
            let count = |b: &Bypasses, reason: &str| b.by_rule.iter().find(|x| &x.rule_id == id && x.reason == reason).map_or(0, |x| x.count);
            let mut reasons: Vec<&str> =
                out.bypasses.by_rule.iter().chain(&every.by_rule).filter(|x| &x.rule_id == id).map(|x| x.reason.as_str()).collect();
            reasons.sort_unstable();
            reasons.dedup();
            for reason in reasons {
                let (selected, all) = (count(&out.bypasses, reason), count(&every, reason));
                if selected != all {
                    out.bypass_mismatches.push(format!("{id} {reason}: selected {selected}, every record {all}"));
                }
            }
        }
        let key = |f: &Finding| (f.rule_id.clone(), f.claim_id.clone(), f.line_number, f.message.clone(), f.location.clone(), f.provider_npi.clone());
        let kept: std::collections::HashSet<_> = out.findings.iter().map(key).collect();
        out.selector_misses = everything.into_iter().filter(|f| !kept.contains(&key(f))).collect();
    }
    out
}

fn plan<'r>(rule: &'r CompiledRule, input: &Input, opts: RunOptions, cache: &super::select::kernels::KernelCache) -> Planned<'r> {
    let started = Instant::now();
    let records = record_count(rule.meta().scope, input);
    let all = || (0..records as u32).collect::<Vec<u32>>();
    let Some(selector) = &rule.selector else {
        return Planned { rule, candidates: all(), all: None, records, select_seconds: 0.0, kernel_bypasses: Vec::new() };
    };
    let applicable = applicable_rows(rule, input.batch);
    let bypasses = Mutex::new(Vec::new());
    let cx = SelectCtx { batch: input.batch, refdata: input.refdata, rule, applicable: applicable.as_deref(), cache, bypasses: &bypasses };
    let candidates = select_records(selector, &cx, rule.meta().scope);
    Planned {
        rule,
        candidates,
        all: opts.verify_selectors.then(all),
        records,
        select_seconds: started.elapsed().as_secs_f64(),
        kernel_bypasses: bypasses.into_inner().expect("bypass list"),
    }
}

/// Counts bypasses per rule and reason and per provider: the scripts' on the records they ran
/// on, plus (with `with_kernels`) the kernels' on lines of records no script ran on. Rules that
/// failed count none.
fn tally_bypasses(planned: &[Planned], input: &Input, script: Vec<(usize, RawBypass)>, failures: &[RuleFailure], with_kernels: bool) -> Bypasses {
    let batch = input.batch;
    let mut per_rule: std::collections::BTreeMap<(usize, ImmutableString), u64> = Default::default();
    let mut per_provider: std::collections::BTreeMap<(u32, usize, ImmutableString), u64> = Default::default();
    let mut count = |r: usize, b: &RawBypass| {
        *per_rule.entry((r, b.reason.clone())).or_default() += 1;
        *per_provider.entry((batch.provider.ids[b.row as usize], r, b.reason.clone())).or_default() += 1;
    };
    for (r, b) in &script {
        count(*r, b);
    }
    if with_kernels {
        for (r, p) in planned.iter().enumerate().filter(|(_, p)| !p.kernel_bypasses.is_empty()) {
            let mut evaluated = vec![false; batch.len];
            let mut one = [0u32; 1];
            for &record in &p.candidates {
                for &row in record_rows(p.rule.meta().scope, batch, record as usize, &mut one) {
                    evaluated[row as usize] = true;
                }
            }
            for b in p.kernel_bypasses.iter().filter(|b| !evaluated[b.row as usize]) {
                count(r, b);
            }
        }
    }
    let failed = |r: usize| failures.iter().any(|f| f.rule_id == planned[r].rule.meta().id);
    let id = |r: usize| planned[r].rule.meta().id.clone();
    let mut by_rule: Vec<BypassCount> = per_rule
        .into_iter()
        .filter(|((r, _), _)| !failed(*r))
        .map(|((r, reason), count)| BypassCount { rule_id: id(r), reason: reason.to_string(), count })
        .collect();
    by_rule.sort_by(|a, b| a.rule_id.cmp(&b.rule_id).then(b.count.cmp(&a.count)).then(a.reason.cmp(&b.reason)));
    let mut by_provider: Vec<ProviderBypass> = per_provider
        .into_iter()
        .filter(|((_, r, _), _)| !failed(*r))
        .map(|((npi, r, reason), count)| ProviderBypass {
            provider_npi: batch.provider.dict[npi as usize].to_string(),
            rule_id: id(r),
            reason: reason.to_string(),
            count,
        })
        .collect();
    by_provider.sort_by(|a, b| a.provider_npi.cmp(&b.provider_npi).then(a.rule_id.cmp(&b.rule_id)).then(a.reason.cmp(&b.reason)));
    Bypasses { by_rule, by_provider }
}

type Evaluated = (Vec<Finding>, Vec<RuleFailure>, Vec<(u64, f64)>, Vec<(usize, RawBypass)>);

/// Evaluates each planned rule on the records `which` gives. Returns the findings (less those of
/// rules that failed), the failures, per rule (evaluations, seconds), and the scripts' bypasses
/// with their rule's index.
fn evaluate<'p>(engine: &Engine, planned: &'p [Planned], input: &Input, which: impl Fn(&'p Planned) -> &'p Vec<u32> + Sync) -> Evaluated {
    let tasks: Vec<(usize, usize, usize)> = planned
        .iter()
        .enumerate()
        .flat_map(|(r, p)| {
            let n = which(p).len();
            (0..n).step_by(CHUNK).map(move |start| (r, start, (start + CHUNK).min(n)))
        })
        .collect();
    let aborted: Vec<AtomicBool> = planned.iter().map(|_| AtomicBool::new(false)).collect();
    let evaluations: Vec<AtomicU64> = planned.iter().map(|_| AtomicU64::new(0)).collect();
    let nanos: Vec<AtomicU64> = planned.iter().map(|_| AtomicU64::new(0)).collect();
    let failures = Mutex::new(Vec::new());
    let bypasses = Mutex::new(Vec::new());

    let findings: Vec<Finding> = tasks
        .par_iter()
        .flat_map_iter(|&(r, start, end)| {
            let started = Instant::now();
            let rule = planned[r].rule;
            let mut out = Vec::new();
            if aborted[r].load(Ordering::Relaxed) {
                return out;
            }
            let ctx = EvalContext::new();
            let mut caches = rhai::Caches::new();
            let mut scope = RhaiScope::new();
            let mut evaluated = 0u64;
            let mut bypassed = Vec::new();
            for &record in &which(&planned[r])[start..end] {
                let Some(bound) = bind(&mut scope, rule, input, record as usize) else { continue };
                let params = bound.params.unwrap_or_else(|| rule.params.clone());
                ctx.begin(bound.anchor, bound.line_level, bound.default_amount, params);
                evaluated += 1;
                if let Err(err) = context::run(engine, &mut scope, &rule.ast, &ctx, &mut caches) {
                    if !aborted[r].swap(true, Ordering::Relaxed) {
                        let (line, column) = super::api::position_of(err.position()).unwrap_or((1, 1));
                        failures.lock().expect("failure list").push(RuleFailure {
                            rule_id: rule.meta().id.clone(),
                            path: rule.source.path.display().to_string(),
                            line,
                            column,
                            message: err.to_string(),
                            record: describe(input, rule.meta().scope, record as usize, bound.anchor),
                        });
                    }
                    break;
                }
                let severity = bound.severity.unwrap_or(rule.meta().severity);
                out.extend(ctx.take_findings().into_iter().map(|f| to_finding(rule, input, record as usize, f, severity)));
                ctx.drain_bypasses(&mut bypassed);
            }
            if !bypassed.is_empty() {
                bypasses.lock().expect("bypass list").extend(bypassed.into_iter().map(|b| (r, b)));
            }
            evaluations[r].fetch_add(evaluated, Ordering::Relaxed);
            nanos[r].fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            out
        })
        .collect();

    let mut failures = failures.into_inner().expect("failure list");
    failures.sort_by(|a, b| a.rule_id.cmp(&b.rule_id));
    // A failed rule's findings are partial; drop them rather than report half a rule.
    let failed: Vec<&str> = failures.iter().map(|f| f.rule_id.as_str()).collect();
    let findings = findings.into_iter().filter(|f| !failed.contains(&f.rule_id.as_str())).collect();
    let stats = evaluations.iter().zip(&nanos).map(|(e, n)| (e.load(Ordering::Relaxed), n.load(Ordering::Relaxed) as f64 / 1e9)).collect();
    (findings, failures, stats, bypasses.into_inner().expect("bypass list"))
}

fn record_count(scope: Scope, input: &Input) -> usize {
    let batch = input.batch;
    match scope {
        Scope::Line => batch.len,
        Scope::Claim => batch.claims.len(),
        Scope::PatientDay => batch.patient_days.len(),
        Scope::Provider => input.providers.len(),
    }
}

fn record_rows<'a>(scope: Scope, batch: &'a Batch, i: usize, one: &'a mut [u32; 1]) -> &'a [u32] {
    match scope {
        Scope::Line => {
            one[0] = i as u32;
            &one[..]
        }
        Scope::Claim => batch.claims.get(i),
        Scope::PatientDay => batch.patient_days.get(i),
        Scope::Provider => &[],
    }
}

/// The pack override in force for a line's payer and date of service, if any.
pub(crate) fn payer_override<'a>(rule: &'a CompiledRule, batch: &Batch, row: u32) -> Option<&'a super::pack::PayerOverride> {
    if rule.overrides.is_empty() {
        return None;
    }
    let payer = batch.text(col::PAYER_ID, row as usize);
    let day = batch.date_days(col::SERVICE_DATE_FROM, row as usize);
    rule.overrides.iter().map(|o| o.as_ref()).find(|o| o.matches(payer, day))
}

/// Whether a rule's lines can be filtered at all: payers, dates or packs that disable it.
fn restricted(rule: &CompiledRule) -> bool {
    let meta = rule.meta();
    meta.scope != Scope::Provider
        && (!meta.payers.is_empty() || meta.effective_from.is_some() || meta.effective_to.is_some() || rule.overrides.iter().any(|o| o.disabled))
}

fn applies(rule: &CompiledRule, batch: &Batch, row: u32) -> bool {
    let meta = rule.meta();
    !payer_override(rule, batch, row).is_some_and(|o| o.disabled)
        && meta.applies_to_payer(batch.text(col::PAYER_ID, row as usize))
        && meta.in_effect_on(batch.date_days(col::SERVICE_DATE_FROM, row as usize))
}

/// The lines a rule applies to, by payer, date of service and payer pack; None when all.
fn applicable_rows(rule: &CompiledRule, batch: &Batch) -> Option<Vec<bool>> {
    restricted(rule).then(|| (0..batch.len as u32).into_par_iter().map(|r| applies(rule, batch, r)).collect())
}

/// The lines of a record this rule applies to; None when none.
fn applicable_lines(rule: &CompiledRule, batch: &Batch, rows: &[u32]) -> Option<Vec<u32>> {
    let kept: Vec<u32> = if restricted(rule) { rows.iter().copied().filter(|&r| applies(rule, batch, r)).collect() } else { rows.to_vec() };
    (!kept.is_empty()).then_some(kept)
}

fn line_array(batch: &Arc<Batch>, rows: &[u32]) -> Array {
    rows.iter().map(|&row| Dynamic::from(Line { batch: batch.clone(), row })).collect()
}

/// A record bound into the scope.
struct Bound {
    /// The record's first applicable line; None for providers.
    anchor: Option<u32>,
    line_level: bool,
    default_amount: f64,
    params: Option<Arc<rhai::Map>>,
    severity: Option<Severity>,
}

/// Pushes the record's variables; None when the rule applies to none of its lines.
fn bind(scope: &mut RhaiScope<'static>, rule: &CompiledRule, input: &Input, record: usize) -> Option<Bound> {
    let batch = input.batch;
    let kind = rule.meta().scope;
    scope.rewind(0);
    if kind == Scope::Provider {
        let p = &input.providers[record];
        for v in &rule.vars {
            let value = match v.source {
                VarSource::ProviderNpi => Dynamic::from(ImmutableString::from(p.npi.as_str())),
                VarSource::ProviderSpecialty => Dynamic::from(ImmutableString::from(p.specialty.as_str())),
                VarSource::Indicators => p.indicators.clone(),
                VarSource::Aggregate(k) => p.aggregates.get(k).cloned().unwrap_or(Dynamic::UNIT),
                _ => Dynamic::UNIT,
            };
            scope.push_constant_dynamic(v.name, value);
        }
        return Some(Bound { anchor: None, line_level: false, default_amount: 0.0, params: None, severity: None });
    }
    let mut one = [0u32; 1];
    let rows = applicable_lines(rule, batch, record_rows(kind, batch, record, &mut one))?;
    let anchor = rows[0];
    let a = anchor as usize;
    let over = payer_override(rule, batch, anchor);
    let total = || rows.iter().filter_map(|&r| batch.number(col::CHARGE_AMOUNT, r as usize)).sum::<f64>();
    for v in &rule.vars {
        let value = match v.source {
            VarSource::Column(c) => batch.value(c, a),
            VarSource::Line => Dynamic::from(Line { batch: batch.clone(), row: anchor }),
            VarSource::Modifiers => Dynamic::from(Line { batch: batch.clone(), row: anchor }.modifiers()),
            VarSource::ProviderNpi => Dynamic::from(batch.provider.get(a).clone()),
            VarSource::Location => Dynamic::from(batch.location(a)),
            VarSource::Lines => Dynamic::from(line_array(batch, &rows)),
            VarSource::TotalCharge => Dynamic::from_float(total()),
            VarSource::EarliestDate(c) => extreme_date(batch, c, &rows, false),
            VarSource::LatestDate(c) => extreme_date(batch, c, &rows, true),
            VarSource::ProviderSpecialty | VarSource::Indicators | VarSource::Aggregate(_) => Dynamic::UNIT,
        };
        scope.push_constant_dynamic(v.name, value);
    }
    let (line_level, default_amount) = match kind {
        Scope::Line => (true, batch.number(col::CHARGE_AMOUNT, a).unwrap_or(0.0)),
        Scope::Claim => (false, total()),
        _ => (false, 0.0),
    };
    Some(Bound { anchor: Some(anchor), line_level, default_amount, params: over.map(|o| o.params.clone()), severity: over.and_then(|o| o.severity) })
}

fn extreme_date(batch: &Batch, col: usize, rows: &[u32], latest: bool) -> Dynamic {
    let best =
        rows.iter()
            .filter_map(|&r| batch.date_days(col, r as usize).map(|d| (d, r)))
            .reduce(|x, y| if (y.0 > x.0) == latest && y.0 != x.0 { y } else { x });
    match best {
        Some((_, r)) => batch.value(col, r as usize),
        None => Dynamic::from(ImmutableString::new()),
    }
}

fn describe(input: &Input, scope: Scope, record: usize, anchor: Option<u32>) -> String {
    match anchor {
        Some(row) => {
            let batch = input.batch;
            let r = row as usize;
            let line = batch.integer(col::LINE_NUMBER, r).map(|l| format!(" line {l}")).unwrap_or_default();
            format!("claim {}{line} ({})", batch.text(col::CLAIM_ID, r), batch.location(r))
        }
        None if scope == Scope::Provider => format!("provider {}", input.providers[record].npi),
        None => "a record".into(),
    }
}

/// A script's fix with the field's current value read from the finding's line.
fn to_fix(input: &Input, row: Option<u32>, raw: &context::RawFix) -> Fix {
    let current = match (raw.field, row) {
        (Some(c), Some(r)) => match input.batch.value(c, r as usize) {
            v if v.is_unit() => String::new(),
            v => super::api::value_text(&v).unwrap_or_default(),
        },
        _ => String::new(),
    };
    Fix {
        field: raw.field.map(|c| crate::schema::COLUMNS[c].name.to_string()).unwrap_or_default(),
        current,
        proposed: raw.proposed.clone(),
        kind: raw.kind,
        note: raw.note.clone(),
    }
}

fn to_finding(rule: &CompiledRule, input: &Input, record: usize, raw: RawFinding, severity: Severity) -> Finding {
    let meta = rule.meta();
    let row = raw.row.filter(|_| meta.scope != Scope::Provider);
    let fix = raw.fix.as_ref().map(|f| to_fix(input, row, f));
    let mut one = [0u32; 1];
    let priced = match row {
        Some(r) if raw.line_level => Some(crate::price::finding(input.batch, input.refdata, &[r], raw.amount)),
        Some(_) => Some(crate::price::finding(input.batch, input.refdata, record_rows(meta.scope, input.batch, record, &mut one), raw.amount)),
        None => None,
    };
    let base = |claim_id: String, line_number, payer_id, provider_npi, patient_id, service_date, location| Finding {
        claim_id,
        line_number,
        rule_id: meta.id.clone(),
        severity,
        category: meta.category,
        message: raw.message.clone(),
        amount_at_risk: raw.amount,
        expected_allowed: priced.map_or(raw.amount, |p| p.amount),
        price_source: priced.map(|p| p.source),
        citation: meta.citation.clone(),
        payer_id,
        provider_npi,
        patient_id,
        service_date,
        location,
        denial: meta.denial.clone(),
        fix: fix.clone(),
    };
    match raw.row.filter(|_| meta.scope != Scope::Provider) {
        Some(row) => {
            let batch = input.batch;
            let r = row as usize;
            let text = |c: usize| batch.text(c, r).to_string();
            base(
                text(col::CLAIM_ID),
                if raw.line_level { batch.integer(col::LINE_NUMBER, r) } else { None },
                text(col::PAYER_ID),
                batch.provider.get(r).to_string(),
                text(col::PATIENT_ID),
                text(col::SERVICE_DATE_FROM),
                batch.location(r),
            )
        }
        // A provider finding belongs to the provider, not to any claim.
        None => base(String::new(), None, String::new(), input.providers[record].npi.clone(), String::new(), String::new(), String::new()),
    }
}
