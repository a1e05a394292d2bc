//! Provider risk scores: each fraud-risk rule that flagged a provider is a factor worth
//! `weight × strength`, and the score is their sum, so that no one sees a total without its
//! parts.
//!
//! - **weight**: the rule's `weight` parameter, else 3 for an error, 2 for a warning, 1 for
//!   information: how much the kind of lead matters.
//! - **strength**: how far past its threshold the lead is, from 1 (just at it) to
//!   [`MAX_STRENGTH`]. A rule names the indicator that measures it in its `strength` parameter
//!   (a path into the provider's indicators such as `modifier_25.z`; over a list, such as
//!   `charge_outliers.z`, the largest value counts) and the value that counts as 1 in
//!   `strength_unit` (usually its own threshold). A rule without one (a line or patient-day
//!   rule) is as strong as its findings are many: 1 + log10(findings).
//!
//! A rule counts once per provider however often it fired; the dollars show the size.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::indicators::ProviderIndicators;
use crate::rules::{RuleMeta, Scope};
use crate::vocab::{amount_at_risk, Category, Finding, Severity};

/// The most one factor's strength can be: one blatant indicator does not outweigh several.
pub const MAX_STRENGTH: f64 = 3.0;

/// Messages kept per factor in the report (the findings file has them all).
const MAX_MESSAGES: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub struct RiskFactor {
    pub rule_id: String,
    pub title: String,
    pub severity: &'static str,
    pub weight: f64,
    pub strength: f64,
    /// `weight × strength`: what this factor adds to the score.
    pub contribution: f64,
    /// What the strength was measured on, e.g. "modifier_25.z = 7.21 (unit 3.5)".
    pub measure: String,
    pub findings: usize,
    pub amount: f64,
    /// The first finding's message, which carries the numbers.
    pub detail: String,
    /// Every message (up to MAX_MESSAGES) of a provider-level rule.
    pub messages: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderRisk<'a> {
    pub rank: usize,
    pub npi: String,
    pub specialty: String,
    pub score: f64,
    pub amount_at_risk: f64,
    pub factors: Vec<RiskFactor>,
    /// Findings on claim lines, claims or patient-days (provider-level ones are the factors).
    pub findings: Vec<&'a Finding>,
    pub indicators: Option<&'a ProviderIndicators>,
}

pub fn rule_weight(meta: &RuleMeta) -> f64 {
    meta.params.get("weight").and_then(|v| v.as_f64()).unwrap_or(match meta.severity {
        Severity::Error => 3.0,
        Severity::Warning => 2.0,
        Severity::Info => 1.0,
    })
}

/// The indicator paths a rule's strength is measured on (`strength: a.b` or a list of them).
fn strength_paths(meta: &RuleMeta) -> Vec<String> {
    match meta.params.get("strength") {
        Some(serde_yaml::Value::String(s)) => vec![s.clone()],
        Some(serde_yaml::Value::Sequence(v)) => v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// The largest number at `path` (dot-separated keys; a list takes the largest of its items).
fn lookup(value: &serde_json::Value, path: &[&str]) -> Option<f64> {
    match value {
        serde_json::Value::Array(items) => items.iter().filter_map(|v| lookup(v, path)).reduce(f64::max),
        _ => match path.split_first() {
            None => value.as_f64(),
            Some((key, rest)) => lookup(value.get(*key)?, rest),
        },
    }
}

/// (strength, what it was measured on) of one factor.
pub fn strength(meta: &RuleMeta, findings: usize, indicators: Option<&serde_json::Value>) -> (f64, String) {
    let unit = meta.params.get("strength_unit").and_then(|v| v.as_f64()).filter(|u| *u > 0.0);
    let measured = indicators.zip(unit).and_then(|(ind, unit)| {
        strength_paths(meta)
            .into_iter()
            .filter_map(|path| lookup(ind, &path.split('.').collect::<Vec<_>>()).map(|v| (v, path)))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(v, path)| (v / unit, format!("{path} = {v:.4} (unit {unit})")))
    });
    let (raw, measure) =
        measured.unwrap_or_else(|| (1.0 + (findings.max(1) as f64).log10(), format!("{findings} finding{}", if findings == 1 { "" } else { "s" })));
    (raw.clamp(1.0, MAX_STRENGTH), measure)
}

/// Dollars at risk of a provider's findings: line and claim findings once per line (see
/// [`amount_at_risk`]), provider-level findings added, since they name no claim.
fn dollars(findings: &[&Finding], provider_level: impl Fn(&Finding) -> bool) -> f64 {
    let (provider, lines): (Vec<&Finding>, Vec<&Finding>) = findings.iter().copied().partition(|f| provider_level(f));
    // Folds from +0.0: an empty f64 sum is -0.0.
    let provider_dollars = provider.iter().filter(|f| f.severity >= Severity::Warning).fold(0.0, |a, f| a + f.amount_at_risk);
    if lines.is_empty() {
        provider_dollars
    } else {
        amount_at_risk(lines) + provider_dollars
    }
}

/// Every provider with indicators or fraud-risk findings, highest score first (then dollars at
/// risk, then NPI). `rules` gives each finding's weight, scope and strength parameters.
pub fn rank<'a>(findings: &'a [Finding], rules: &[RuleMeta], indicators: &'a [ProviderIndicators]) -> Vec<ProviderRisk<'a>> {
    let metas: HashMap<&str, &RuleMeta> = rules.iter().map(|m| (m.id.as_str(), m)).collect();
    let provider_level = |f: &Finding| metas.get(f.rule_id.as_str()).is_some_and(|m| m.scope == Scope::Provider);
    let mut by_provider: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.category == Category::FraudRisk) {
        by_provider.entry(f.provider_npi.as_str()).or_default().push(f);
    }
    let by_npi: HashMap<&str, &ProviderIndicators> = indicators.iter().map(|p| (p.npi.as_str(), p)).collect();
    let mut npis: Vec<&str> = indicators.iter().map(|p| p.npi.as_str()).collect();
    npis.extend(by_provider.keys().copied().filter(|k| !by_npi.contains_key(k)));

    let mut out: Vec<ProviderRisk> = npis
        .into_iter()
        .map(|npi| {
            let mine = by_provider.get(npi).cloned().unwrap_or_default();
            let ind = by_npi.get(npi).copied();
            let json = (!mine.is_empty()).then(|| ind.and_then(|i| serde_json::to_value(i).ok())).flatten();
            let mut per_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
            for f in &mine {
                per_rule.entry(f.rule_id.as_str()).or_default().push(f);
            }
            let mut factors: Vec<RiskFactor> = per_rule
                .into_iter()
                .map(|(rule_id, fs)| {
                    let meta = metas.get(rule_id).copied();
                    let weight = meta.map(rule_weight).unwrap_or(1.0);
                    let (strength, measure) = match meta {
                        Some(m) => strength(m, fs.len(), json.as_ref()),
                        None => (1.0, String::new()),
                    };
                    let provider_rule = meta.is_some_and(|m| m.scope == Scope::Provider);
                    RiskFactor {
                        rule_id: rule_id.to_string(),
                        title: meta.map(|m| m.title.clone()).unwrap_or_default(),
                        severity: fs[0].severity.as_str(),
                        weight,
                        strength,
                        contribution: weight * strength,
                        measure,
                        findings: fs.len(),
                        amount: dollars(&fs, provider_level),
                        detail: fs[0].message.clone(),
                        messages: if provider_rule { fs.iter().take(MAX_MESSAGES).map(|f| f.message.clone()).collect() } else { Vec::new() },
                    }
                })
                .collect();
            factors.sort_by(|a, b| b.contribution.total_cmp(&a.contribution).then(a.rule_id.cmp(&b.rule_id)));
            ProviderRisk {
                rank: 0,
                npi: npi.to_string(),
                specialty: ind.map(|i| i.specialty.clone()).unwrap_or_default(),
                score: factors.iter().fold(0.0, |a, f| a + f.contribution),
                amount_at_risk: dollars(&mine, provider_level),
                factors,
                findings: mine.into_iter().filter(|f| !provider_level(f)).collect(),
                indicators: ind,
            }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.amount_at_risk.total_cmp(&a.amount_at_risk)).then(a.npi.cmp(&b.npi)));
    for (i, p) in out.iter_mut().enumerate() {
        p.rank = i + 1;
    }
    out
}

/// The fraud-risk rules among `rules`, each once, in id order: the columns of providers.csv.
pub fn fraud_rules(rules: &[RuleMeta]) -> Vec<&RuleMeta> {
    let mut v: Vec<&RuleMeta> = rules.iter().filter(|m| m.category == Category::FraudRisk).collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v.dedup_by(|a, b| a.id == b.id);
    v
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `providers.csv`: rank, NPI, specialty, score, dollars at risk, then one column per fraud-risk
/// rule with the strength it fired with (empty when it did not), for analysts' own tools.
pub fn providers_csv(ranked: &[ProviderRisk], rules: &[RuleMeta]) -> String {
    use std::fmt::Write as _;
    let columns = fraud_rules(rules);
    let mut out = String::from("rank,npi,specialty,score,amount_at_risk");
    for m in &columns {
        let _ = write!(out, ",{}", csv_field(&m.id));
    }
    out.push('\n');
    for p in ranked {
        let _ = write!(out, "{},{},{},{:.4},{:.2}", p.rank, csv_field(&p.npi), csv_field(&p.specialty), p.score, p.amount_at_risk);
        for m in &columns {
            match p.factors.iter().find(|f| f.rule_id == m.id) {
                Some(f) => {
                    let _ = write!(out, ",{:.4}", f.strength);
                }
                None => out.push(','),
            }
        }
        out.push('\n');
    }
    out
}
