//! Provider risk scores: the sum of the weights of the fraud-risk rules that flagged the
//! provider, each listed as a factor with its findings and dollars, so that no one sees a total
//! without its parts. A rule's weight is its `weight` parameter, else 3 for an error, 2 for a
//! warning and 1 for information. Each rule counts once per provider however often it fired: a
//! score ranks breadth of concern, while the dollars show its size.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::indicators::ProviderIndicators;
use crate::audit::AuditResult;
use crate::vocab::amount_at_risk;
use crate::vocab::Finding;
use crate::rules::RuleMeta;
use crate::vocab::{Category, Severity};

#[derive(Debug, Clone, Serialize)]
pub struct RiskFactor {
    pub rule_id: String,
    pub title: String,
    pub severity: &'static str,
    pub weight: f64,
    pub findings: usize,
    pub amount: f64,
    /// The first finding's message, which carries the numbers.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderRisk<'a> {
    pub rank: usize,
    pub npi: String,
    pub specialty: String,
    pub score: f64,
    pub amount_at_risk: f64,
    pub factors: Vec<RiskFactor>,
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

/// Every provider of the batch, highest score first (then dollars at risk, then NPI).
pub fn rank(result: &AuditResult) -> Vec<ProviderRisk<'_>> {
    let metas: HashMap<&str, &RuleMeta> = result.rules.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut by_provider: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in result.findings.iter().filter(|f| f.category == Category::FraudRisk) {
        by_provider.entry(f.provider_npi.as_str()).or_default().push(f);
    }
    let indicators: HashMap<&str, &ProviderIndicators> = result.provider_indicators.iter().map(|p| (p.npi.as_str(), p)).collect();
    let mut npis: Vec<&str> = indicators.keys().copied().collect();
    npis.extend(by_provider.keys().copied().filter(|k| !indicators.contains_key(k)));

    let mut out: Vec<ProviderRisk> = npis
        .into_iter()
        .map(|npi| {
            let findings = by_provider.get(npi).cloned().unwrap_or_default();
            let mut per_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
            for f in &findings {
                per_rule.entry(f.rule_id.as_str()).or_default().push(f);
            }
            let factors: Vec<RiskFactor> = per_rule
                .into_iter()
                .map(|(rule_id, fs)| {
                    let meta = metas.get(rule_id);
                    RiskFactor {
                        rule_id: rule_id.to_string(),
                        title: meta.map(|m| m.title.clone()).unwrap_or_default(),
                        severity: fs[0].severity.as_str(),
                        weight: meta.map(|m| rule_weight(m)).unwrap_or(1.0),
                        findings: fs.len(),
                        amount: amount_at_risk(fs.iter().copied()),
                        detail: fs[0].message.clone(),
                    }
                })
                .collect();
            let ind = indicators.get(npi).copied();
            ProviderRisk {
                rank: 0,
                npi: npi.to_string(),
                specialty: ind.map(|i| i.specialty.clone()).unwrap_or_default(),
                score: factors.iter().fold(0.0, |acc, f| acc + f.weight),
                amount_at_risk: amount_at_risk(findings.iter().copied()),
                factors,
                findings,
                indicators: ind,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then(b.amount_at_risk.total_cmp(&a.amount_at_risk)).then(a.npi.cmp(&b.npi))
    });
    for (i, p) in out.iter_mut().enumerate() {
        p.rank = i + 1;
    }
    out
}
