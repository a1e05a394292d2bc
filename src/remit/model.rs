//! What an 835 says, as plain data: transaction sets (one payment each), claims (CLP loops),
//! service lines (SVC loops), adjustments (CAS), remarks (MIA, MOA, LQ) and provider
//! adjustments (PLB), each with the position of its segment in the file.

use serde::Serialize;

use crate::vocab::Severity;

/// Where a segment sits in the file: 1-based segment number (the first ISA is 1), byte offset of
/// its first character and 1-based text line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Position {
    pub segment: usize,
    pub byte: usize,
    pub line: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "segment {} at byte {}, line {}", self.segment, self.byte, self.line)
    }
}

/// One claim adjustment: CAS group code, CARC and amount (one of up to six in a CAS segment).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adjustment {
    pub group: String,
    pub carc: String,
    pub amount: f64,
    pub quantity: Option<f64>,
    pub at: Position,
}

impl Adjustment {
    /// "CO-97".
    pub fn code(&self) -> String {
        format!("{}-{}", self.group, self.carc)
    }
}

/// A remark code with the segment it came from: "MIA", "MOA" or "LQ" (LQ01 = HE for RARCs;
/// an LQ with qualifier RX carries an NCPDP reject code instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remark {
    pub code: String,
    pub segment: String,
    /// False when the code is not shaped like a RARC (M.., MA.., N..); kept and reported.
    pub valid: bool,
}

/// One SVC loop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceLine {
    /// SVC01-1: HC (HCPCS/CPT), NU (revenue code), ZZ (mutually defined), ...
    pub qualifier: String,
    /// The code as billed: SVC06 (the submitted code) when the payer adjudicated a different
    /// one, else SVC01-2.
    pub procedure_code: String,
    pub modifiers: Vec<String>,
    /// SVC01-2 when SVC06 shows the payer changed the billed code.
    pub adjudicated_code: Option<String>,
    /// SVC02; `None` when the element is empty (the line cannot be balanced).
    pub billed: Option<f64>,
    /// SVC03; `None` when empty.
    pub paid: Option<f64>,
    pub revenue_code: String,
    /// SVC05 (1 when absent, as the guide defines).
    pub units: f64,
    /// DTM*472, else DTM*150, as YYYY-MM-DD; empty when the line has no date.
    pub service_date: String,
    pub service_date_to: String,
    /// REF*6R: the line item control number the provider sent.
    pub control_number: String,
    /// AMT*B6.
    pub allowed: Option<f64>,
    pub adjustments: Vec<Adjustment>,
    pub remarks: Vec<Remark>,
    pub at: Position,
}

impl ServiceLine {
    /// The adjustments that are denials (see [`super::codes::is_denial`]).
    pub fn denials(&self) -> impl Iterator<Item = &Adjustment> {
        self.adjustments.iter().filter(|a| super::codes::is_denial(&a.carc, a.amount))
    }
}

/// One CLP loop that was read without errors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemitClaim {
    /// CLP01, the patient control number: the CLM01 the provider sent.
    pub claim_id: String,
    /// CLP02.
    pub status: String,
    /// CLP03.
    pub billed: f64,
    /// CLP04.
    pub paid: f64,
    /// CLP05.
    pub patient_responsibility: Option<f64>,
    /// CLP06 claim filing indicator (MB, MC, 12, ...).
    pub filing_indicator: String,
    /// CLP07 payer claim control number.
    pub payer_claim_number: String,
    /// DTM*232 / DTM*233 (claim statement period), YYYY-MM-DD.
    pub service_date_from: String,
    pub service_date_to: String,
    /// DTM*050: when the payer received the claim, YYYY-MM-DD.
    pub received_date: String,
    /// AMT*I: prompt-pay interest included in CLP04.
    pub interest: Option<f64>,
    /// Claim-level CAS.
    pub adjustments: Vec<Adjustment>,
    /// MIA and MOA remark codes.
    pub remarks: Vec<Remark>,
    pub lines: Vec<ServiceLine>,
    pub at: Position,
}

impl RemitClaim {
    /// Every adjustment: claim level, then line level.
    pub fn all_adjustments(&self) -> impl Iterator<Item = &Adjustment> {
        self.adjustments.iter().chain(self.lines.iter().flat_map(|l| l.adjustments.iter()))
    }

    /// Patient responsibility: CLP05 when given, else the PR adjustments.
    pub fn patient_share(&self) -> f64 {
        self.patient_responsibility.unwrap_or_else(|| self.all_adjustments().filter(|a| a.group == "PR").map(|a| a.amount).sum())
    }
}

/// One provider-level adjustment of a PLB segment (up to six per segment). Positive amounts
/// reduce the payment (a recoupment); negative ones add to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderAdjustment {
    pub provider_id: String,
    /// PLB02 fiscal period date, YYYY-MM-DD.
    pub fiscal_period: String,
    /// PLB03-1 reason (WO overpayment recovery, CV capital pass-through, L6 interest, ...).
    pub reason: String,
    /// PLB03-2 reference.
    pub reference: String,
    pub amount: f64,
    pub at: Position,
}

/// One ST/SE transaction set: one payment or advice.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Transaction {
    /// ST02.
    pub control_number: String,
    /// The implementation guide: ST03, else GS08, else the ISA12 version ("004010X091A1",
    /// "005010X221A1", or what the file says).
    pub version: String,
    /// BPR01: C payment with remittance, I information only, H notification only, ...
    pub handling: String,
    /// BPR02 signed by BPR03 (a debit is negative); `None` without a readable BPR.
    pub payment_amount: Option<f64>,
    /// BPR04: ACH, CHK, NON, ...
    pub payment_method: String,
    /// BPR16 (check issue or EFT effective date), else DTM*405, YYYY-MM-DD.
    pub payment_date: String,
    /// Where the BPR is (the ST when there is none).
    pub payment_at: Position,
    /// TRN02: check or EFT trace number.
    pub trace_number: String,
    /// N1*PR name and N1*PE name.
    pub payer: String,
    pub payee: String,
    pub claims: Vec<RemitClaim>,
    pub provider_adjustments: Vec<ProviderAdjustment>,
    /// CLP segments whose loop could not be read (each is a data-quality finding).
    pub claims_rejected: usize,
    /// Sum of CLP04 over every CLP whose CLP04 could be read, rejected claims included: what
    /// BPR02 is balanced against.
    pub clp_paid_total: f64,
    /// CLP04 and PLB amounts that could not be read, so the BPR02 check leaves them out.
    pub unreadable_payments: usize,
    pub at: Position,
}

/// A problem found while reading, with the rule id of the data-quality finding it becomes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemitProblem {
    pub rule_id: &'static str,
    pub severity: Severity,
    /// CLP01 of the claim concerned, when there is one.
    pub claim_id: Option<String>,
    pub at: Position,
    pub segment_id: String,
    pub message: String,
}

impl std::fmt::Display for RemitProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.severity.as_str(), self.at, self.segment_id)?;
        if let Some(id) = &self.claim_id {
            write!(f, ", claim {id}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Rule ids of the data-quality findings a remittance can give.
pub mod rule {
    /// A CLP loop that could not be read: its claim is left out.
    pub const CLAIM_REJECTED: &str = "DQ-REMIT-CLAIM-REJECTED";
    /// A transaction set that is not an 835, or could not be read: its claims are left out.
    pub const SET_REJECTED: &str = "DQ-REMIT-SET-REJECTED";
    /// A PLB adjustment that could not be read: left out.
    pub const ADJUSTMENT_REJECTED: &str = "DQ-REMIT-PLB-REJECTED";
    /// Envelope counts and control numbers, repaired delimiters, skipped segments, versions.
    pub const STRUCTURE: &str = "DQ-REMIT-STRUCTURE";
    /// A claim, line or payment whose amounts do not add up.
    pub const UNBALANCED: &str = "DQ-REMIT-UNBALANCED";
}

/// Everything read from one 835 file.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Remittance {
    pub source: String,
    pub transactions: Vec<Transaction>,
    /// In file order.
    pub problems: Vec<RemitProblem>,
    /// Distinct implementation guides, joined with ",".
    pub version: String,
    /// CLP segments seen, read or not.
    pub clp_segments: usize,
}

impl Remittance {
    pub fn claims(&self) -> impl Iterator<Item = &RemitClaim> {
        self.transactions.iter().flat_map(|t| t.claims.iter())
    }

    pub fn claims_rejected(&self) -> usize {
        self.transactions.iter().map(|t| t.claims_rejected).sum()
    }

    pub fn problems_of<'a>(&'a self, rule_id: &'a str) -> impl Iterator<Item = &'a RemitProblem> + 'a {
        self.problems.iter().filter(move |p| p.rule_id == rule_id)
    }

    /// True when no claim, line or payment failed to balance.
    pub fn balances(&self) -> bool {
        self.problems_of(rule::UNBALANCED).next().is_none()
    }
}
