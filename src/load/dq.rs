//! Every data-quality check the readers can report, in one table, so the rule index and the docs
//! can list them beside the Rhai rules. A reader names its check by one of these constants.

use crate::vocab::Severity;

/// One data-quality check: what a `DQ-` finding means and why it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DqCheck {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub rationale: &'static str,
}

const fn check(id: &'static str, severity: Severity, title: &'static str, rationale: &'static str) -> DqCheck {
    DqCheck { id, severity, title, rationale }
}

pub const UNREADABLE_VALUE: DqCheck = check(
    "DQ-UNREADABLE-VALUE",
    Severity::Error,
    "A date, amount, unit count or line number cannot be read",
    "The line is audited without the value, so edits that need it cannot fire; fix the value and re-run.",
);
pub const CSV_FIELD_COUNT: DqCheck = check(
    "DQ-CSV-FIELD-COUNT",
    Severity::Error,
    "A CSV/TSV row has more or fewer fields than the header",
    "A stray separator or a cut-off row shifts every value after it, so no value of the row can be trusted; the row is not audited.",
);
pub const CSV_UNCLOSED_QUOTE: DqCheck = check(
    "DQ-CSV-UNCLOSED-QUOTE",
    Severity::Error,
    "A quoted CSV/TSV value is never closed",
    "An open quote swallows the separators and rows after it; only the row where it opens is rejected and reading resumes on the next line.",
);
pub const CSV_ENCODING: DqCheck = check(
    "DQ-CSV-ENCODING",
    Severity::Warning,
    "A CSV/TSV row holds bytes that are not valid in the file's encoding",
    "The bytes are replaced by U+FFFD and the row is audited; a code or id with a replaced character will not match reference tables.",
);
pub const CSV_BLANK_ROWS: DqCheck = check(
    "DQ-CSV-BLANK-ROWS",
    Severity::Info,
    "Rows whose every field is empty were skipped",
    "Spreadsheet exports often end with empty rows; they hold no claim line, so they are neither audited nor rejected.",
);
pub const CSV_HEADER: DqCheck = check(
    "DQ-CSV-HEADER",
    Severity::Warning,
    "A header name is empty or repeated",
    "Columns need distinct names; an empty name becomes column_N and a repeated one gets a _2 suffix, and only the first of a repeated name is read.",
);
pub const X12_CLAIM_REJECTED: DqCheck = check(
    "DQ-X12-CLAIM-REJECTED",
    Severity::Error,
    "An 837 claim is structurally broken and is not audited",
    "A required loop or element is missing or a segment cannot be read, so the claim's lines cannot be trusted; the other claims in the file are audited.",
);
pub const X12_TRANSACTION_REJECTED: DqCheck = check(
    "DQ-X12-TRANSACTION-REJECTED",
    Severity::Error,
    "A whole 837 transaction set (ST..SE) cannot be read",
    "Its type or version is unknown or unsupported, so none of its claims can be mapped; their number is reported and the other transaction sets are audited.",
);
pub const X12_ENVELOPE: DqCheck = check(
    "DQ-X12-ENVELOPE",
    Severity::Warning,
    "The interchange envelope (ISA/IEA, GS/GE, ST/SE) is damaged",
    "A missing or unreadable envelope segment or a wrong count does not change the claims inside; they are read and audited, but a clearinghouse would reject the file.",
);
pub const X12_STRUCTURE: DqCheck = check(
    "DQ-X12-STRUCTURE",
    Severity::Warning,
    "An 837 defect that leaves the claim's meaning clear",
    "Segment order, CLM02 against the line charges, repaired separators and similar faults are reported; the claim is audited.",
);
pub const X12_DUPLICATE_CLAIM_ID: DqCheck = check(
    "DQ-X12-DUPLICATE-CLAIM-ID",
    Severity::Warning,
    "Two claims in one 837 share a CLM01",
    "Lines are grouped by claim id, so the later claim gets a #N suffix and is audited on its own instead of merging with the earlier one.",
);

/// Every check, for the rule index and the docs.
pub const REMIT_CLAIM_REJECTED: DqCheck = check(
    "DQ-REMIT-CLAIM-REJECTED",
    Severity::Error,
    "An 835 claim payment (CLP loop) cannot be read",
    "An unreadable amount or code in the claim's loop makes its payment and adjustments untrustworthy; the claim is left out of matching and the rest of the remittance is read.",
);
pub const REMIT_SET_REJECTED: DqCheck = check(
    "DQ-REMIT-SET-REJECTED",
    Severity::Error,
    "An X12 transaction set in a remittance file is not an 835",
    "Only 835 payment advices are read as remittances; the set is skipped and the others are read.",
);
pub const REMIT_PLB_REJECTED: DqCheck = check(
    "DQ-REMIT-PLB-REJECTED",
    Severity::Warning,
    "An 835 provider-level adjustment (PLB) cannot be read",
    "Only that adjustment is left out of the payment totals; claims are unaffected.",
);
pub const REMIT_STRUCTURE: DqCheck = check(
    "DQ-REMIT-STRUCTURE",
    Severity::Warning,
    "An 835 envelope count, control number or layout is wrong",
    "The payments inside can still be read; the payer's file does not follow the X12 rules and may be incomplete.",
);
pub const REMIT_UNBALANCED: DqCheck = check(
    "DQ-REMIT-UNBALANCED",
    Severity::Warning,
    "An 835 claim, service line or payment does not balance",
    "Billed minus paid must equal the adjustments (and BPR02 the claims' payments less PLB); an imbalance means money the remittance does not explain.",
);

pub const CHECKS: &[DqCheck] = &[
    UNREADABLE_VALUE,
    CSV_FIELD_COUNT,
    CSV_UNCLOSED_QUOTE,
    CSV_ENCODING,
    CSV_BLANK_ROWS,
    CSV_HEADER,
    X12_CLAIM_REJECTED,
    X12_TRANSACTION_REJECTED,
    X12_ENVELOPE,
    X12_STRUCTURE,
    X12_DUPLICATE_CLAIM_ID,
    REMIT_CLAIM_REJECTED,
    REMIT_SET_REJECTED,
    REMIT_PLB_REJECTED,
    REMIT_STRUCTURE,
    REMIT_UNBALANCED,
];

/// The registered check with this id.
pub fn find(id: &str) -> Option<&'static DqCheck> {
    CHECKS.iter().find(|c| c.id == id)
}
