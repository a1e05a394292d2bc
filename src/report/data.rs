//! What the compliance report shows beyond the totals: the denial-code table, the per-rule
//! coverage table, and the drill-down rows as compact JSON (strings repeated across findings
//! are written once and referred to by index), so a payer-scale report stays one file that
//! opens at once: the page builds table rows from it a page at a time.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::audit::AuditResult;
use crate::vocab::{amount_at_risk, amount_at_risk_priced, Finding, Price, Severity};

/// Findings and dollars per denial code, most dollars first. Findings about a provider as a
/// whole are left out: no remittance line would carry them.
#[derive(Debug, Clone, Serialize)]
pub struct DenialRow {
    /// `CO-236`; empty for findings of rules without a denial block.
    pub code: String,
    pub rarc: String,
    pub label: String,
    pub rules: Vec<String>,
    pub findings: usize,
    pub claims: usize,
    /// Dollars at risk of the error and warning findings, each line once.
    pub amount: f64,
    /// The same at the findings' expected allowed amounts.
    pub allowed: f64,
}

pub fn denial_table(result: &AuditResult) -> Vec<DenialRow> {
    let mut groups: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in result.findings.iter().filter(|f| !f.is_provider_level()) {
        groups.entry(f.denial.as_ref().map(|d| d.code()).unwrap_or_default()).or_default().push(f);
    }
    let mut rows: Vec<DenialRow> = groups
        .into_iter()
        .map(|(code, fs)| {
            let mut rules: Vec<String> = fs.iter().map(|f| f.rule_id.clone()).collect();
            rules.sort();
            rules.dedup();
            let mut rarc: Vec<&str> = fs.iter().filter_map(|f| f.denial.as_ref()).flat_map(|d| d.rarc.iter().map(String::as_str)).collect();
            rarc.sort_unstable();
            rarc.dedup();
            let mut labels: Vec<&str> = fs.iter().filter_map(|f| f.denial.as_ref()).map(|d| d.label.as_str()).collect();
            labels.sort_unstable();
            labels.dedup();
            let claims = fs.iter().filter(|f| !f.claim_id.is_empty()).map(|f| f.claim_id.as_str()).collect::<std::collections::HashSet<_>>().len();
            DenialRow {
                label: if code.is_empty() { "no denial code declared by the rule".into() } else { labels.join("; ") },
                code,
                rarc: rarc.join(", "),
                rules,
                findings: fs.len(),
                claims,
                amount: amount_at_risk(fs.iter().copied()),
                allowed: amount_at_risk_priced(fs.iter().copied(), Price::Medicare),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.amount.total_cmp(&a.amount).then(b.findings.cmp(&a.findings)).then(a.code.cmp(&b.code)));
    rows
}

/// One rule's coverage: what it checked, what it found, what a modifier let through.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    pub rule_id: String,
    pub title: String,
    pub scope: String,
    /// Records of the rule's scope; None when the rule did not run.
    pub records: Option<usize>,
    /// Records its selector picked for the script, and script evaluations.
    pub selected: usize,
    pub evaluations: u64,
    pub findings: usize,
    pub bypasses: u64,
    /// "59 × 12, XU × 3", most first.
    pub bypasses_by_reason: String,
    /// The reference tables it needed and did not have.
    pub not_run: Option<String>,
}

pub fn coverage(result: &AuditResult) -> Vec<CoverageRow> {
    let title = |id: &str| result.rules.iter().find(|m| m.id == id).map(|m| m.title.clone()).unwrap_or_default();
    let scope = |id: &str| result.rules.iter().find(|m| m.id == id).map(|m| m.scope.as_str().to_string()).unwrap_or_default();
    let mut by_reason: HashMap<&str, Vec<(&str, u64)>> = HashMap::new();
    for b in &result.bypasses.by_rule {
        by_reason.entry(b.rule_id.as_str()).or_default().push((b.reason.as_str(), b.count));
    }
    let reasons = |id: &str| {
        let mut v = by_reason.get(id).cloned().unwrap_or_default();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.iter().map(|(r, n)| format!("{} × {n}", if r.is_empty() { "(no reason)" } else { r })).collect::<Vec<_>>().join(", ")
    };
    let mut findings_by_rule: HashMap<&str, usize> = HashMap::new();
    for f in &result.findings {
        *findings_by_rule.entry(f.rule_id.as_str()).or_default() += 1;
    }
    let mut rows: Vec<CoverageRow> = Vec::new();
    for p in &result.profile {
        if rows.iter().any(|r| r.rule_id == p.rule_id) {
            // Versions of one rule (disjoint effective windows) add up.
            let row = rows.iter_mut().find(|r| r.rule_id == p.rule_id).expect("found");
            row.selected += p.selected;
            row.evaluations += p.evaluations;
            continue;
        }
        rows.push(CoverageRow {
            rule_id: p.rule_id.clone(),
            title: title(&p.rule_id),
            scope: p.scope.to_string(),
            records: Some(p.records),
            selected: p.selected,
            evaluations: p.evaluations,
            findings: findings_by_rule.get(p.rule_id.as_str()).copied().unwrap_or(0),
            bypasses: result.bypasses.total(&p.rule_id),
            bypasses_by_reason: reasons(&p.rule_id),
            not_run: None,
        });
    }
    for n in &result.not_run {
        if rows.iter().any(|r| r.rule_id == n.rule_id) {
            continue;
        }
        rows.push(CoverageRow {
            rule_id: n.rule_id.clone(),
            title: title(&n.rule_id),
            scope: scope(&n.rule_id),
            records: None,
            selected: 0,
            evaluations: 0,
            findings: 0,
            bypasses: 0,
            bypasses_by_reason: String::new(),
            not_run: Some(n.missing.join(", ")),
        });
    }
    rows.sort_by(|a, b| a.rule_id.cmp(&b.rule_id));
    rows
}

/// Strings written once and referred to by index.
#[derive(Default)]
struct Dict {
    index: HashMap<String, usize>,
    values: Vec<String>,
}

impl Dict {
    fn id(&mut self, s: &str) -> usize {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        self.values.push(s.to_string());
        self.index.insert(s.to_string(), self.values.len() - 1);
        self.values.len() - 1
    }
}

/// The embedded rows. A finding is `[claim, line, rule, severity, category, message, amount,
/// payer, provider, date, location, denial, fix]`, with `rule`, `payer`, `provider`, `denial`
/// and `fix` as indexes into their lists (-1 for none); a claim is `[id, payer, patient,
/// provider, amount, worst severity, [finding indexes]]`.
#[derive(Serialize)]
struct Embedded<'a> {
    rules: Vec<[&'a str; 4]>,
    payers: Vec<String>,
    providers: Vec<String>,
    denials: Vec<[String; 2]>,
    fixes: Vec<[String; 5]>,
    findings: Vec<serde_json::Value>,
    claims: Vec<serde_json::Value>,
    provider_findings: Vec<usize>,
}

pub struct Drilldown {
    pub json: String,
    pub claims: usize,
    pub provider_findings: usize,
}

/// The drill-down rows as JSON that is safe inside a `<script>` element.
pub fn drilldown(result: &AuditResult) -> Drilldown {
    let f = &result.findings;
    let mut rule_ids: Vec<&str> = result.rules.iter().map(|m| m.id.as_str()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let mut rules: Vec<[&str; 4]> = rule_ids
        .iter()
        .map(|id| {
            let m = result.rules.iter().find(|m| m.id == *id).expect("listed");
            [m.id.as_str(), m.title.as_str(), m.rationale.as_str(), &*m.citation]
        })
        .collect();
    // Findings of no loaded rule (input validation) still name their id.
    for x in f {
        if !rules.iter().any(|r| r[0] == x.rule_id) {
            rules.push([x.rule_id.as_str(), "", "", &*x.citation]);
        }
    }
    let rule_index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r[0], i)).collect();
    let (mut payers, mut providers, mut denials, mut fixes) = (Dict::default(), Dict::default(), Dict::default(), Dict::default());
    let mut denial_rows: Vec<[String; 2]> = Vec::new();
    let mut fix_rows: Vec<[String; 5]> = Vec::new();
    let findings: Vec<serde_json::Value> = f
        .iter()
        .map(|x| {
            let denial = x.denial.as_ref().map_or(-1, |d| {
                let key = format!("{}|{}|{}", d.code(), d.rarc.join(" "), d.label);
                let i = denials.id(&key);
                if i == denial_rows.len() {
                    let code = if d.rarc.is_empty() { d.code() } else { format!("{} ({})", d.code(), d.rarc.join(", ")) };
                    denial_rows.push([code, d.label.clone()]);
                }
                i as i64
            });
            let fix = x.fix.as_ref().map_or(-1, |z| {
                let key = format!("{}|{}|{}|{}|{}", z.kind.as_str(), z.field, z.current, z.proposed.join(" | "), z.note);
                let i = fixes.id(&key);
                if i == fix_rows.len() {
                    fix_rows.push([z.kind.as_str().into(), z.field.clone(), z.current.clone(), z.proposed.join(" | "), z.note.clone()]);
                }
                i as i64
            });
            serde_json::json!([
                x.claim_id,
                x.line_number,
                rule_index[x.rule_id.as_str()],
                severity_rank(x.severity),
                x.category.as_str(),
                x.message,
                (x.amount_at_risk * 100.0).round() / 100.0,
                payers.id(&x.payer_id),
                providers.id(&x.provider_npi),
                x.service_date,
                x.location,
                denial,
                fix,
                (x.expected_allowed * 100.0).round() / 100.0,
            ])
        })
        .collect();

    let mut by_claim: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut provider_findings = Vec::new();
    for (i, x) in f.iter().enumerate() {
        if x.is_provider_level() {
            provider_findings.push(i);
        } else {
            by_claim.entry(x.claim_id.as_str()).or_default().push(i);
        }
    }
    let mut claims: Vec<(f64, &str, Vec<usize>)> =
        by_claim.into_iter().map(|(id, idx)| (amount_at_risk(idx.iter().map(|&i| &f[i])), id, idx)).collect();
    claims.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let claim_count = claims.len();
    let claims: Vec<serde_json::Value> = claims
        .into_iter()
        .map(|(amount, id, idx)| {
            let first = &f[idx[0]];
            let worst = idx.iter().map(|&i| f[i].severity).max().unwrap_or(Severity::Info);
            serde_json::json!([id, first.payer_id, first.patient_id, first.provider_npi, (amount * 100.0).round() / 100.0, severity_rank(worst), idx])
        })
        .collect();
    let embedded = Embedded {
        rules,
        payers: payers.values,
        providers: providers.values,
        denials: denial_rows,
        fixes: fix_rows,
        findings,
        claims,
        provider_findings: provider_findings.clone(),
    };
    let json = serde_json::to_string(&embedded).expect("report data serialises");
    Drilldown { json: script_safe(&json), claims: claim_count, provider_findings: provider_findings.len() }
}

/// 1 info, 2 warning, 3 error: the page sorts and colours by it.
fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Warning => 2,
        Severity::Error => 3,
    }
}

/// JSON inside `<script type="application/json">`: `<` only appears inside strings, where
/// `\u003c` means the same and cannot end the element.
pub fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}
