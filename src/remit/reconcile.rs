//! The loop: every denial the payer made, every finding claimlint made, and how they meet.
//!
//! - A **denial** is a positive claim adjustment whose CARC is not routine pricing, cost sharing
//!   or coordination of benefits ([`codes::is_denial`]), on a claim that was adjudicated
//!   (not a reversal or a predetermination).
//! - It was **predicted** when a finding on the same line (or on its whole claim) comes from a
//!   rule whose `denial:` CARC is the same or related ([`codes::related`]); **missed** when no
//!   such finding exists (grouped by CARC: the rule to write); **unmatched** when the line could
//!   not be paired with an audited line and no claim-level finding predicts it.
//! - A finding (rules only, error or warning) was **predicted** when its line or claim was denied
//!   with a related CARC; **paid anyway** when the payer took no denial on it (paid, or applied
//!   to the patient's cost sharing): the payer does not enforce the edit, or the finding is
//!   wrong; **denied for another reason** when denied only with unrelated CARCs. Findings on
//!   claims no remittance adjudicated are counted as not remitted.
//!
//! A claim with several adjudications (for example primary and secondary payer) is judged on
//! all of them together.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::rules::RuleMeta;
use crate::vocab::{Finding, Severity};

use super::codes;
use super::matching::{ClaimIndex, ClaimMatch, ClaimRef, Matching};
use super::model::{Adjustment, Position, Remittance};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenialOutcome {
    Predicted,
    Missed,
    Unmatched,
}

impl DenialOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DenialOutcome::Predicted => "predicted",
            DenialOutcome::Missed => "missed",
            DenialOutcome::Unmatched => "unmatched",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingOutcome {
    Predicted,
    PaidAnyway,
    DeniedOtherReason,
    /// The claim was adjudicated but the remittance does not mention this line.
    LineNotRemitted,
    NotRemitted,
}

impl FindingOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingOutcome::Predicted => "predicted",
            FindingOutcome::PaidAnyway => "paid anyway",
            FindingOutcome::DeniedOtherReason => "denied for another reason",
            FindingOutcome::LineNotRemitted => "line not in the remittance",
            FindingOutcome::NotRemitted => "claim not remitted",
        }
    }
}

/// One denial adjustment and what claimlint said about it.
#[derive(Debug, Clone, Serialize)]
pub struct DenialRow {
    pub remit: ClaimRef,
    pub source: String,
    pub claim_id: String,
    /// 1-based position of the SVC in the remittance claim; `None` for a claim-level CAS.
    pub remit_line: Option<usize>,
    /// The audited line it paired with.
    pub line_number: Option<i64>,
    pub procedure_code: String,
    /// "CO-97".
    pub code: String,
    pub carc: String,
    pub amount: f64,
    pub rarcs: Vec<String>,
    pub outcome: DenialOutcome,
    /// Rules whose findings predicted it.
    pub predicted_by: Vec<String>,
    /// Rules with findings on the same line or claim, unrelated to this CARC.
    pub other_rules: Vec<String>,
    pub at: Position,
}

/// One finding and what the payer did.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub rule_id: String,
    pub claim_id: String,
    pub line_number: Option<i64>,
    pub severity: Severity,
    pub message: String,
    /// The CARC the rule declares, "CO-97"; empty when the rule has no `denial:` block.
    pub declared: String,
    pub outcome: FindingOutcome,
    /// The denial codes the payer applied to the line or claim.
    pub denied_with: Vec<String>,
    /// What the payer paid on the line (claim-level findings: on the claim).
    pub paid: f64,
    /// Denied dollars on the line or claim with a related CARC.
    pub denied: f64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct CarcRow {
    /// "CO-97".
    pub code: String,
    pub group: String,
    pub carc: String,
    pub label: String,
    pub denials: usize,
    pub amount: f64,
    pub predicted: usize,
    pub predicted_amount: f64,
    pub missed: usize,
    pub missed_amount: f64,
    pub unmatched: usize,
    pub unmatched_amount: f64,
    /// Rules that predicted some of these denials.
    pub rules: Vec<String>,
    /// Rules loaded that declare this CARC or a related one.
    pub declared_by: Vec<String>,
    pub rarcs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct RuleRow {
    pub rule_id: String,
    pub title: String,
    pub declared: String,
    pub findings: usize,
    pub predicted: usize,
    pub predicted_amount: f64,
    pub paid_anyway: usize,
    pub paid_amount: f64,
    pub other_reason: usize,
    pub line_not_remitted: usize,
    pub not_remitted: usize,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Totals {
    pub denials: usize,
    pub denied_amount: f64,
    pub predicted: usize,
    pub predicted_amount: f64,
    pub missed: usize,
    pub missed_amount: f64,
    pub unmatched: usize,
    pub unmatched_amount: f64,
    pub findings: usize,
    pub findings_predicted: usize,
    pub paid_anyway: usize,
    pub paid_anyway_amount: f64,
    pub other_reason: usize,
    pub line_not_remitted: usize,
    pub not_remitted: usize,
    /// Share of denied dollars (predicted + missed) that claimlint predicted.
    pub predicted_share: f64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Outcome {
    pub denials: Vec<DenialRow>,
    pub findings: Vec<FindingRow>,
    /// Largest missed amount first.
    pub by_carc: Vec<CarcRow>,
    /// Rules with findings in the loop or a `denial:` block, most findings first.
    pub by_rule: Vec<RuleRow>,
    pub totals: Totals,
}

/// A denial with what is needed to judge it.
struct Denied<'a> {
    adjustment: &'a Adjustment,
    /// Audited line number, or `None` for claim level or an unpaired line.
    line_number: Option<i64>,
    claim_level: bool,
}

/// One audited claim as all its adjudications saw it.
#[derive(Default)]
struct Adjudicated<'a> {
    denials: Vec<Denied<'a>>,
    /// Paid per audited line number, and on the claims.
    line_paid: HashMap<i64, f64>,
    claim_paid: f64,
    remitted_lines: BTreeSet<i64>,
    has_lines: bool,
}

impl<'a> Adjudicated<'a> {
    /// Denials that bear on a line: its own, and the claim-level ones.
    fn on_line(&self, line: i64) -> impl Iterator<Item = &Denied<'a>> {
        self.denials.iter().filter(move |d| d.claim_level || d.line_number == Some(line))
    }
}

/// The `denial:` CARC of each rule that has one.
fn declared_carcs(rules: &[RuleMeta]) -> HashMap<&str, (&str, &str)> {
    rules.iter().filter_map(|r| r.denial.as_ref().map(|d| (r.id.as_str(), (d.group.as_str(), d.carc.as_str())))).collect()
}

pub fn reconcile(remittances: &[Remittance], index: &ClaimIndex, matching: &Matching, findings: &[Finding], rules: &[RuleMeta]) -> Outcome {
    let declared = declared_carcs(rules);
    let known: BTreeSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let in_loop: Vec<&Finding> = findings.iter().filter(|f| f.severity >= Severity::Warning && known.contains(f.rule_id.as_str())).collect();
    let mut by_claim: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in &in_loop {
        by_claim.entry(f.claim_id.as_str()).or_default().push(f);
    }
    let predicts = |f: &Finding, carc: &str| declared.get(f.rule_id.as_str()).is_some_and(|(_, d)| codes::related(d, carc));

    let mut out = Outcome::default();
    let mut adjudicated: HashMap<&str, Adjudicated> = HashMap::new();
    for m in &matching.claims {
        let claim = m.remit.get(remittances);
        if !codes::status_is_adjudication(&claim.status) {
            continue;
        }
        let source = &remittances[m.remit.file].source;
        let claim_findings: &[&Finding] = m.audited_claim.as_deref().and_then(|id| by_claim.get(id)).map(Vec::as_slice).unwrap_or(&[]);
        let mut judge = |a: &Adjustment, remit_line: Option<usize>, line_number: Option<i64>, paired: bool, code: &str, rarcs: Vec<String>| {
            let bearing: Vec<&&Finding> = claim_findings
                .iter()
                .filter(|f| remit_line.is_none() || f.line_number.is_none() || (paired && f.line_number == line_number))
                .collect();
            let mut predicted_by: Vec<String> = bearing.iter().filter(|f| predicts(f, &a.carc)).map(|f| f.rule_id.clone()).collect();
            predicted_by.sort();
            predicted_by.dedup();
            let mut other_rules: Vec<String> = bearing.iter().filter(|f| !predicts(f, &a.carc)).map(|f| f.rule_id.clone()).collect();
            other_rules.sort();
            other_rules.dedup();
            let outcome = if !predicted_by.is_empty() {
                DenialOutcome::Predicted
            } else if m.audited_claim.is_none() || (remit_line.is_some() && !paired) {
                DenialOutcome::Unmatched
            } else {
                DenialOutcome::Missed
            };
            out.denials.push(DenialRow {
                remit: m.remit,
                source: source.clone(),
                claim_id: claim.claim_id.clone(),
                remit_line: remit_line.map(|i| i + 1),
                line_number,
                procedure_code: code.to_string(),
                code: a.code(),
                carc: a.carc.clone(),
                amount: a.amount,
                rarcs,
                outcome,
                predicted_by,
                other_rules,
                at: a.at,
            });
        };
        let claim_rarcs: Vec<String> = claim.remarks.iter().map(|r| r.code.clone()).collect();
        for a in claim.adjustments.iter().filter(|a| codes::is_denial(&a.carc, a.amount)) {
            judge(a, None, None, true, "", claim_rarcs.clone());
        }
        for lm in &m.lines {
            let line = &claim.lines[lm.remit_line];
            let line_number = lm.audited.and_then(|i| index.lines[i].line_number);
            let mut rarcs: Vec<String> = line.remarks.iter().map(|r| r.code.clone()).collect();
            rarcs.extend(claim_rarcs.iter().cloned());
            for a in line.denials() {
                judge(a, Some(lm.remit_line), line_number, lm.audited.is_some(), &line.procedure_code, rarcs.clone());
            }
        }
        let Some(id) = m.audited_claim.as_deref() else { continue };
        let entry = adjudicated.entry(id).or_default();
        add_adjudication(entry, claim, m, index);
    }

    for f in &in_loop {
        let declared_code = declared.get(f.rule_id.as_str()).map(|(g, c)| format!("{g}-{c}")).unwrap_or_default();
        let Some(adj) = adjudicated.get(f.claim_id.as_str()) else {
            out.findings.push(finding_row(f, declared_code, FindingOutcome::NotRemitted, Vec::new(), 0.0, 0.0));
            continue;
        };
        let (bearing, paid, remitted): (Vec<&Denied>, f64, bool) = match f.line_number {
            Some(n) => {
                let remitted = adj.remitted_lines.contains(&n) || !adj.has_lines;
                let paid = if adj.has_lines { adj.line_paid.get(&n).copied().unwrap_or(0.0) } else { adj.claim_paid };
                (adj.on_line(n).collect(), paid, remitted)
            }
            None => (adj.denials.iter().collect(), adj.claim_paid, true),
        };
        let related: Vec<&&Denied> = bearing.iter().filter(|d| predicts(f, &d.adjustment.carc)).collect();
        let denied_with: Vec<String> = bearing.iter().map(|d| d.adjustment.code()).collect::<BTreeSet<_>>().into_iter().collect();
        let denied: f64 = related.iter().map(|d| d.adjustment.amount).sum();
        let outcome = if !related.is_empty() {
            FindingOutcome::Predicted
        } else if !remitted {
            FindingOutcome::LineNotRemitted
        } else if bearing.is_empty() {
            FindingOutcome::PaidAnyway
        } else {
            FindingOutcome::DeniedOtherReason
        };
        out.findings.push(finding_row(f, declared_code, outcome, denied_with, paid, denied));
    }

    out.by_carc = by_carc(&out.denials, rules);
    out.by_rule = by_rule(&out.findings, rules);
    out.totals = totals(&out);
    out
}

fn add_adjudication<'a>(entry: &mut Adjudicated<'a>, claim: &'a super::model::RemitClaim, m: &ClaimMatch, index: &ClaimIndex) {
    entry.claim_paid += claim.paid;
    entry.has_lines |= !claim.lines.is_empty();
    for a in claim.adjustments.iter().filter(|a| codes::is_denial(&a.carc, a.amount)) {
        entry.denials.push(Denied { adjustment: a, line_number: None, claim_level: true });
    }
    for lm in &m.lines {
        let line = &claim.lines[lm.remit_line];
        let number = lm.audited.and_then(|i| index.lines[i].line_number);
        if let Some(n) = number {
            entry.remitted_lines.insert(n);
            *entry.line_paid.entry(n).or_insert(0.0) += line.paid.unwrap_or(0.0);
        }
        for a in line.denials() {
            entry.denials.push(Denied { adjustment: a, line_number: number, claim_level: false });
        }
    }
}

fn finding_row(f: &Finding, declared: String, outcome: FindingOutcome, denied_with: Vec<String>, paid: f64, denied: f64) -> FindingRow {
    FindingRow {
        rule_id: f.rule_id.clone(),
        claim_id: f.claim_id.clone(),
        line_number: f.line_number,
        severity: f.severity,
        message: f.message.clone(),
        declared,
        outcome,
        denied_with,
        paid,
        denied,
    }
}

fn by_carc(denials: &[DenialRow], rules: &[RuleMeta]) -> Vec<CarcRow> {
    let mut map: BTreeMap<String, CarcRow> = BTreeMap::new();
    for d in denials {
        let row = map.entry(d.code.clone()).or_insert_with(|| {
            let (group, carc) = d.code.split_once('-').unwrap_or(("", d.code.as_str()));
            let declared_by =
                rules.iter().filter(|r| r.denial.as_ref().is_some_and(|x| codes::related(&x.carc, carc))).map(|r| r.id.clone()).collect();
            CarcRow {
                code: d.code.clone(),
                group: group.to_string(),
                carc: carc.to_string(),
                label: codes::carc_label(carc).unwrap_or("").to_string(),
                declared_by,
                ..Default::default()
            }
        });
        row.denials += 1;
        row.amount += d.amount;
        match d.outcome {
            DenialOutcome::Predicted => {
                row.predicted += 1;
                row.predicted_amount += d.amount;
            }
            DenialOutcome::Missed => {
                row.missed += 1;
                row.missed_amount += d.amount;
            }
            DenialOutcome::Unmatched => {
                row.unmatched += 1;
                row.unmatched_amount += d.amount;
            }
        }
        row.rules.extend(d.predicted_by.iter().cloned());
        row.rarcs.extend(d.rarcs.iter().cloned());
    }
    let mut rows: Vec<CarcRow> = map.into_values().collect();
    for r in &mut rows {
        r.rules.sort();
        r.rules.dedup();
        r.rarcs.sort();
        r.rarcs.dedup();
    }
    rows.sort_by(|a, b| b.missed_amount.total_cmp(&a.missed_amount).then(b.amount.total_cmp(&a.amount)).then(a.code.cmp(&b.code)));
    rows
}

fn by_rule(findings: &[FindingRow], rules: &[RuleMeta]) -> Vec<RuleRow> {
    let mut map: BTreeMap<&str, RuleRow> = BTreeMap::new();
    for r in rules {
        if map.contains_key(r.id.as_str()) {
            continue;
        }
        map.insert(
            r.id.as_str(),
            RuleRow {
                rule_id: r.id.clone(),
                title: r.title.clone(),
                declared: r.denial.as_ref().map(|d| format!("{}-{}", d.group, d.carc)).unwrap_or_default(),
                ..Default::default()
            },
        );
    }
    for f in findings {
        let Some(row) = map.get_mut(f.rule_id.as_str()) else { continue };
        row.findings += 1;
        match f.outcome {
            FindingOutcome::Predicted => {
                row.predicted += 1;
                row.predicted_amount += f.denied;
            }
            FindingOutcome::PaidAnyway => {
                row.paid_anyway += 1;
                row.paid_amount += f.paid;
            }
            FindingOutcome::DeniedOtherReason => row.other_reason += 1,
            FindingOutcome::LineNotRemitted => row.line_not_remitted += 1,
            FindingOutcome::NotRemitted => row.not_remitted += 1,
        }
    }
    let mut rows: Vec<RuleRow> = map.into_values().filter(|r| r.findings > 0 || !r.declared.is_empty()).collect();
    rows.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.rule_id.cmp(&b.rule_id)));
    rows
}

fn totals(o: &Outcome) -> Totals {
    let mut t = Totals { denials: o.denials.len(), findings: o.findings.len(), ..Default::default() };
    for d in &o.denials {
        t.denied_amount += d.amount;
        match d.outcome {
            DenialOutcome::Predicted => {
                t.predicted += 1;
                t.predicted_amount += d.amount;
            }
            DenialOutcome::Missed => {
                t.missed += 1;
                t.missed_amount += d.amount;
            }
            DenialOutcome::Unmatched => {
                t.unmatched += 1;
                t.unmatched_amount += d.amount;
            }
        }
    }
    for f in &o.findings {
        match f.outcome {
            FindingOutcome::Predicted => t.findings_predicted += 1,
            FindingOutcome::PaidAnyway => {
                t.paid_anyway += 1;
                t.paid_anyway_amount += f.paid;
            }
            FindingOutcome::DeniedOtherReason => t.other_reason += 1,
            FindingOutcome::LineNotRemitted => t.line_not_remitted += 1,
            FindingOutcome::NotRemitted => t.not_remitted += 1,
        }
    }
    let judged = t.predicted_amount + t.missed_amount;
    t.predicted_share = if judged > 0.0 { t.predicted_amount / judged } else { 0.0 };
    t
}
