//! The 835's own arithmetic: every claim, every service line and every payment must add up.
//! - claim: CLP03 − CLP04 = the sum of its CAS amounts, claim level and line level;
//! - service line: SVC02 − SVC03 = the sum of its CAS amounts;
//! - payment: BPR02 (negative for a debit) = the sum of CLP04 − the sum of PLB amounts, over
//!   every CLP of the set (rejected claims too, as their CLP04 is part of the payment; amounts
//!   that cannot be read are left out and the message says so).
//!
//! What does not balance is a data-quality warning at the segment that states the total.

use crate::vocab::Severity;

use super::model::{rule, RemitProblem, Remittance};

/// Amounts are cents; anything under half a cent is rounding.
const TOLERANCE: f64 = 0.005;

fn money(v: f64) -> String {
    format!("{v:.2}")
}

/// Appends an [`rule::UNBALANCED`] problem for each claim, line and payment that does not add up.
pub fn check(r: &mut Remittance) {
    let mut found = Vec::new();
    for tx in &r.transactions {
        for c in &tx.claims {
            let cas: f64 = c.all_adjustments().map(|a| a.amount).sum();
            let diff = c.billed - c.paid - cas;
            if diff.abs() >= TOLERANCE {
                found.push(RemitProblem {
                    rule_id: rule::UNBALANCED,
                    severity: Severity::Warning,
                    claim_id: Some(c.claim_id.clone()),
                    at: c.at,
                    segment_id: "CLP".into(),
                    message: format!(
                        "the claim does not balance: CLP03 {} − CLP04 {} = {}, but its adjustments (claim and line CAS) sum to {} (off by {})",
                        money(c.billed),
                        money(c.paid),
                        money(c.billed - c.paid),
                        money(cas),
                        money(diff)
                    ),
                });
            }
            for (i, l) in c.lines.iter().enumerate() {
                let cas: f64 = l.adjustments.iter().map(|a| a.amount).sum();
                let message = match (l.billed, l.paid) {
                    (Some(billed), Some(paid)) => {
                        let diff = billed - paid - cas;
                        (diff.abs() >= TOLERANCE).then(|| {
                            format!(
                                "service line {} does not balance: SVC02 {} − SVC03 {} = {}, but its CAS sum to {} (off by {})",
                                i + 1,
                                money(billed),
                                money(paid),
                                money(billed - paid),
                                money(cas),
                                money(diff)
                            )
                        })
                    }
                    (billed, _) => Some(format!(
                        "service line {} cannot be balanced: {} is empty",
                        i + 1,
                        if billed.is_none() { "SVC02 (charge)" } else { "SVC03 (payment)" }
                    )),
                };
                if let Some(message) = message {
                    found.push(RemitProblem {
                        rule_id: rule::UNBALANCED,
                        severity: Severity::Warning,
                        claim_id: Some(c.claim_id.clone()),
                        at: l.at,
                        segment_id: "SVC".into(),
                        message,
                    });
                }
            }
        }
        let Some(payment) = tx.payment_amount else { continue };
        let plb: f64 = tx.provider_adjustments.iter().map(|p| p.amount).sum();
        let expected = tx.clp_paid_total - plb;
        let diff = payment - expected;
        if diff.abs() >= TOLERANCE {
            found.push(RemitProblem {
                rule_id: rule::UNBALANCED,
                severity: Severity::Warning,
                claim_id: None,
                at: tx.payment_at,
                segment_id: "BPR".into(),
                message: format!(
                    "the payment does not balance: BPR02 {} but the claim payments (sum of CLP04 {}) less the provider adjustments (sum of PLB {}) give {} (off by {}){}",
                    money(payment),
                    money(tx.clp_paid_total),
                    money(plb),
                    money(expected),
                    money(diff),
                    match tx.unreadable_payments {
                        0 => String::new(),
                        n => format!("; {n} CLP04 or PLB amount(s) could not be read and are left out"),
                    }
                ),
            });
        }
    }
    r.problems.extend(found);
}
