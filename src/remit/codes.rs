//! The few code facts the loop needs: claim status (CLP02), adjustment groups, which CARCs are
//! routine pricing and cost sharing rather than denials, and which CARCs count as "related".
//!
//! No CARC list is shipped: X12 maintains it. The labels below are claimlint's own short words,
//! only for the codes these tables name.

/// CLP02 claim status codes of the 835, with a short label; `None` for an unknown code.
pub fn claim_status_label(code: &str) -> Option<&'static str> {
    Some(match code {
        "1" => "processed as primary",
        "2" => "processed as secondary",
        "3" => "processed as tertiary",
        "4" => "denied",
        "19" => "processed as primary, forwarded",
        "20" => "processed as secondary, forwarded",
        "21" => "processed as tertiary, forwarded",
        "22" => "reversal of previous payment",
        "23" => "not our claim, forwarded",
        "25" => "predetermination pricing only, no payment",
        _ => return None,
    })
}

/// Reversals undo an earlier payment and predeterminations pay nothing: neither is a decision
/// on the claim as billed, so the loop leaves them out (payment posting still counts them).
pub fn status_is_adjudication(code: &str) -> bool {
    !matches!(code, "22" | "25")
}

/// CAS01 claim adjustment group codes. CR (correction and reversal) exists only in 4010.
pub fn group_label(group: &str) -> Option<&'static str> {
    Some(match group {
        "CO" => "contractual obligation",
        "PR" => "patient responsibility",
        "OA" => "other adjustment",
        "PI" => "payer initiated reduction",
        "CR" => "correction and reversal (4010)",
        _ => return None,
    })
}

/// CARCs that price the claim, share its cost with the patient or coordinate benefits: the
/// payer accepted the service. Every other positive adjustment is treated as a denial (whole or
/// partial) that a claim edit could have predicted.
const ROUTINE: &[(&str, &str)] = &[
    ("1", "deductible"),
    ("2", "coinsurance"),
    ("3", "co-payment"),
    ("23", "prior payer's adjudication"),
    ("42", "charge above the fee schedule maximum"),
    ("44", "prompt-pay discount"),
    ("45", "charge above the contracted fee"),
    ("66", "blood deductible"),
    ("94", "processed in excess of charges"),
    ("131", "negotiated discount"),
    ("253", "sequestration"),
    ("A2", "contractual adjustment"),
];

/// Families of CARCs that answer the same edit, so a rule declaring one predicts the others.
/// Kept small on purpose: each family groups codes payers use interchangeably for one kind of
/// edit. The same CARC under another group code (CO-97 / OA-97) is always related.
pub const RELATED: &[(&str, &[&str])] = &[
    ("bundling (NCCI procedure-to-procedure, add-on codes)", &["97", "234", "236", "B15"]),
    ("units or frequency above the limit (MUE, frequency limits)", &["151", "119"]),
    ("code inconsistent with the patient's age, sex or diagnosis (MCE)", &["6", "7", "9", "10", "11"]),
    ("code not valid on the date of service", &["146", "181", "182"]),
    ("duplicate", &["18", "B13"]),
    ("authorization missing or exceeded", &["15", "62", "197"]),
    ("place of service", &["5", "58"]),
];

/// Labels for the CARCs named here (own words); other codes show as the bare code.
pub fn carc_label(carc: &str) -> Option<&'static str> {
    if let Some((_, l)) = ROUTINE.iter().find(|(c, _)| *c == carc) {
        return Some(l);
    }
    Some(match carc {
        "4" => "modifier inconsistent or missing",
        "5" => "inconsistent with place of service",
        "6" => "inconsistent with the patient's age",
        "7" => "inconsistent with the patient's sex",
        "9" => "diagnosis inconsistent with age",
        "10" => "diagnosis inconsistent with sex",
        "11" => "diagnosis inconsistent with procedure",
        "15" => "authorization number missing or invalid",
        "16" => "claim lacks information or has billing errors",
        "18" => "duplicate claim or service",
        "29" => "time limit for filing expired",
        "50" => "not medically necessary",
        "58" => "invalid place of service",
        "59" => "multiple or concurrent procedure rules",
        "62" => "authorization absent or exceeded",
        "96" => "non-covered charge",
        "97" => "included in another service's payment",
        "119" => "benefit maximum reached",
        "146" => "diagnosis invalid for the date of service",
        "151" => "information does not support this many services",
        "181" => "procedure code invalid on the date of service",
        "182" => "modifier invalid on the date of service",
        "197" => "authorization absent",
        "204" => "not covered under the patient's benefit plan",
        "234" => "procedure not paid separately",
        "236" => "procedure or modifier combination not compatible (NCCI)",
        "B13" => "previously paid",
        "B15" => "qualifying service not received or not covered",
        _ => return None,
    })
}

/// True for an adjustment that takes money away for a reason other than pricing, cost sharing
/// or coordination of benefits. Negative amounts give money back and are never denials.
pub fn is_denial(carc: &str, amount: f64) -> bool {
    amount > 0.0 && !ROUTINE.iter().any(|(c, _)| *c == carc)
}

/// Whether an adjustment's CARC answers a rule that declares `declared`: the same code, or
/// codes of one [`RELATED`] family. Group codes are ignored (CO-97 relates to OA-97).
pub fn related(declared: &str, adjusted: &str) -> bool {
    declared == adjusted || RELATED.iter().any(|(_, f)| f.contains(&declared) && f.contains(&adjusted))
}

// The code formats live in x12 so that rule checks can use them without depending on remit.
pub use crate::x12::adjustment_codes::{valid_carc, valid_rarc};
