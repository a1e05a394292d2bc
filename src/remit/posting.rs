//! Payment posting figures: what was billed, paid, adjusted and left to the patient, the
//! provider-level adjustments, and the days from the claim's receipt to its payment.
//!
//! Every claim read counts, matched or not. Days to payment use the received date in the
//! audited claims, else the payer's own (DTM*050), against the payment date of the transaction
//! set (BPR16, else the production date DTM*405); reversals and predeterminations are left out.

use std::collections::BTreeMap;

use serde::Serialize;

use super::codes;
use super::matching::{ClaimIndex, Matching};
use super::model::Remittance;

#[derive(Debug, Clone, Serialize, Default)]
pub struct StatusRow {
    pub status: String,
    pub label: String,
    pub claims: usize,
    pub billed: f64,
    pub paid: f64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct GroupRow {
    pub group: String,
    pub label: String,
    pub adjustments: usize,
    pub amount: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DaysRow {
    pub source: String,
    pub claim_id: String,
    pub received: String,
    /// "claims" or "835 DTM*050".
    pub received_from: &'static str,
    pub paid_on: String,
    pub days: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub label: String,
    pub claims: usize,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Days {
    pub claims: usize,
    pub from_claims: usize,
    pub from_remittance: usize,
    /// Claims with no received date anywhere.
    pub unknown: usize,
    pub median: Option<f64>,
    pub mean: Option<f64>,
    pub p90: Option<f64>,
    pub max: Option<i64>,
    /// 0–14, 15–30, 31–45, 46–60 and over 60 days.
    pub buckets: Vec<Bucket>,
    pub rows: Vec<DaysRow>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Posting {
    pub transactions: usize,
    pub claims: usize,
    pub lines: usize,
    pub billed: f64,
    pub paid: f64,
    pub patient_responsibility: f64,
    /// CAS amounts other than patient responsibility (PR).
    pub adjusted: f64,
    pub interest: f64,
    pub provider_adjustments: f64,
    /// Sum of BPR02 (debits negative) over the sets with a readable BPR.
    pub payments: f64,
    pub by_status: Vec<StatusRow>,
    pub by_group: Vec<GroupRow>,
    pub days: Days,
}

pub fn post(remittances: &[Remittance], index: &ClaimIndex, matching: &Matching) -> Posting {
    let mut p = Posting::default();
    let mut status: BTreeMap<String, StatusRow> = BTreeMap::new();
    let mut groups: BTreeMap<String, GroupRow> = BTreeMap::new();
    for r in remittances {
        for tx in &r.transactions {
            p.transactions += 1;
            p.payments += tx.payment_amount.unwrap_or(0.0);
            p.provider_adjustments += tx.provider_adjustments.iter().map(|a| a.amount).sum::<f64>();
            for c in &tx.claims {
                p.claims += 1;
                p.lines += c.lines.len();
                p.billed += c.billed;
                p.paid += c.paid;
                p.patient_responsibility += c.patient_share();
                p.interest += c.interest.unwrap_or(0.0);
                let s = status.entry(c.status.clone()).or_insert_with(|| StatusRow {
                    status: c.status.clone(),
                    label: codes::claim_status_label(&c.status).unwrap_or("").to_string(),
                    ..Default::default()
                });
                s.claims += 1;
                s.billed += c.billed;
                s.paid += c.paid;
                for a in c.all_adjustments() {
                    if a.group != "PR" {
                        p.adjusted += a.amount;
                    }
                    let g = groups.entry(a.group.clone()).or_insert_with(|| GroupRow {
                        group: a.group.clone(),
                        label: codes::group_label(&a.group).unwrap_or("").to_string(),
                        ..Default::default()
                    });
                    g.adjustments += 1;
                    g.amount += a.amount;
                }
            }
        }
    }
    p.by_status = status.into_values().collect();
    p.by_group = groups.into_values().collect();
    p.days = days(remittances, index, matching);
    p
}

fn days(remittances: &[Remittance], index: &ClaimIndex, matching: &Matching) -> Days {
    let mut d = Days::default();
    for m in &matching.claims {
        let claim = m.remit.get(remittances);
        if !codes::status_is_adjudication(&claim.status) {
            continue;
        }
        d.claims += 1;
        let tx = &remittances[m.remit.file].transactions[m.remit.set];
        let from_claims = m.audited_claim.as_deref().and_then(|id| index.received_date(id));
        let (received, from) = match from_claims {
            Some(r) => (r.to_string(), "claims"),
            None if !claim.received_date.is_empty() => (claim.received_date.clone(), "835 DTM*050"),
            None => {
                d.unknown += 1;
                continue;
            }
        };
        let (Some(r), Some(paid)) = (crate::dates::parse(&received), crate::dates::parse(&tx.payment_date)) else {
            d.unknown += 1;
            continue;
        };
        if from == "claims" {
            d.from_claims += 1;
        } else {
            d.from_remittance += 1;
        }
        d.rows.push(DaysRow {
            source: remittances[m.remit.file].source.clone(),
            claim_id: claim.claim_id.clone(),
            received,
            received_from: from,
            paid_on: tx.payment_date.clone(),
            days: (paid - r).num_days(),
        });
    }
    let values: Vec<f64> = d.rows.iter().map(|r| r.days as f64).collect();
    d.median = crate::fraud::stats::quantile(&values, 0.5);
    d.p90 = crate::fraud::stats::quantile(&values, 0.9);
    d.mean = (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
    d.max = d.rows.iter().map(|r| r.days).max();
    let edges: [(&str, i64, i64); 5] = [("0–14", i64::MIN, 14), ("15–30", 15, 30), ("31–45", 31, 45), ("46–60", 46, 60), ("over 60", 61, i64::MAX)];
    d.buckets = edges
        .iter()
        .map(|(label, lo, hi)| Bucket { label: label.to_string(), claims: d.rows.iter().filter(|r| r.days >= *lo && r.days <= *hi).count() })
        .collect();
    d
}
