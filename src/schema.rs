//! The canonical claim-line schema: one row per service line, claim-level values repeated on
//! every line of the claim. Every loader (CSV, Parquet, NDJSON, X12) ends in this shape.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

/// How a canonical column is typed once loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Calendar date; accepted as YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY.
    Date,
    /// Decimal amount or unit count; `$` and `,` are tolerated.
    Number,
    /// Whole number (line numbers).
    Integer,
}

/// Whether a column is claim-level (same value on every line of a claim) or line-level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Claim,
    Line,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub level: Level,
    pub required: bool,
    pub doc: &'static str,
}

const fn col(name: &'static str, kind: Kind, level: Level, required: bool, doc: &'static str) -> Column {
    Column { name, kind, level, required, doc }
}

use Kind::*;
use Level::*;

/// The schema, in output order. `required` columns must exist in every input file; values may
/// still be blank on a row (the starter rule CORE-REQUIRED-FIELDS reports blank values).
pub const COLUMNS: &[Column] = &[
    col("claim_id", Text, Claim, true, "Claim identifier (CLM01); lines with the same id form one claim"),
    col(
        "claim_type",
        Text,
        Claim,
        false,
        "professional (CMS-1500/837P) or institutional (UB-04/837I); inferred from type_of_bill/revenue_code when absent",
    ),
    col("payer_id", Text, Claim, false, "Payer identifier or name; payer packs match on it"),
    col("patient_id", Text, Claim, true, "Patient or member identifier"),
    col("patient_birth_date", Date, Claim, false, "Patient date of birth"),
    col("patient_sex", Text, Claim, false, "M, F or U"),
    col("patient_death_date", Date, Claim, false, "Date of death, when known"),
    col("billing_npi", Text, Claim, false, "Billing provider NPI (10 digits)"),
    col("rendering_npi", Text, Claim, false, "Rendering provider NPI; falls back to billing_npi for provider grouping"),
    col("provider_specialty", Text, Claim, false, "Rendering provider specialty or taxonomy, for peer comparisons"),
    col("received_date", Date, Claim, false, "Date the payer received the claim (timely filing)"),
    col("prior_auth_number", Text, Claim, false, "Prior authorization number (REF*G1)"),
    col("dx_1", Text, Claim, false, "Principal / first-listed ICD-10-CM diagnosis, with or without the dot"),
    col("dx_2", Text, Claim, false, "Diagnosis 2"),
    col("dx_3", Text, Claim, false, "Diagnosis 3"),
    col("dx_4", Text, Claim, false, "Diagnosis 4"),
    col("dx_5", Text, Claim, false, "Diagnosis 5"),
    col("dx_6", Text, Claim, false, "Diagnosis 6"),
    col("dx_7", Text, Claim, false, "Diagnosis 7"),
    col("dx_8", Text, Claim, false, "Diagnosis 8"),
    col("dx_9", Text, Claim, false, "Diagnosis 9"),
    col("dx_10", Text, Claim, false, "Diagnosis 10"),
    col("dx_11", Text, Claim, false, "Diagnosis 11"),
    col("dx_12", Text, Claim, false, "Diagnosis 12"),
    col("type_of_bill", Text, Claim, false, "Institutional type of bill, e.g. 111"),
    col("principal_procedure_code", Text, Claim, false, "Institutional principal ICD-10-PCS procedure"),
    col("other_procedure_codes", Text, Claim, false, "Institutional other ICD-10-PCS procedures, separated by |"),
    col("line_number", Integer, Line, false, "Service line number; numbered 1..n within the claim in file order when absent"),
    col("service_date_from", Date, Line, true, "Line date of service (from)"),
    col("service_date_to", Date, Line, false, "Line date of service (to); defaults to service_date_from"),
    col("place_of_service", Text, Line, false, "Two-digit CMS place of service"),
    col("procedure_code", Text, Line, true, "CPT or HCPCS code (codes only; no descriptors are shipped)"),
    col("modifier_1", Text, Line, false, "Modifier 1"),
    col("modifier_2", Text, Line, false, "Modifier 2"),
    col("modifier_3", Text, Line, false, "Modifier 3"),
    col("modifier_4", Text, Line, false, "Modifier 4"),
    col("units", Number, Line, true, "Units of service"),
    col("charge_amount", Number, Line, true, "Billed charge for the line"),
    col("dx_pointers", Text, Line, false, "Up to 4 pointers into dx_1..dx_12, as letters (A-L) or numbers, e.g. AB or 1,2"),
    col("paid_amount", Number, Line, false, "Amount paid (audits)"),
    col("revenue_code", Text, Line, false, "Institutional revenue code"),
];

/// Schema position of a canonical column, resolved at compile time (an unknown name does not
/// compile), so hot loops index columns directly instead of looking names up.
pub const fn column_index(name: &str) -> usize {
    let mut i = 0;
    while i < COLUMNS.len() {
        if const_str_eq(COLUMNS[i].name, name) {
            return i;
        }
        i += 1;
    }
    panic!("unknown canonical column")
}

const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Typed column ids: `col::PROCEDURE_CODE` is the schema position of `procedure_code`.
pub mod col {
    use super::column_index;
    pub const CLAIM_ID: usize = column_index("claim_id");
    pub const CLAIM_TYPE: usize = column_index("claim_type");
    pub const PAYER_ID: usize = column_index("payer_id");
    pub const PATIENT_ID: usize = column_index("patient_id");
    pub const PATIENT_BIRTH_DATE: usize = column_index("patient_birth_date");
    pub const PATIENT_SEX: usize = column_index("patient_sex");
    pub const PATIENT_DEATH_DATE: usize = column_index("patient_death_date");
    pub const BILLING_NPI: usize = column_index("billing_npi");
    pub const RENDERING_NPI: usize = column_index("rendering_npi");
    pub const PROVIDER_SPECIALTY: usize = column_index("provider_specialty");
    pub const RECEIVED_DATE: usize = column_index("received_date");
    pub const PRIOR_AUTH_NUMBER: usize = column_index("prior_auth_number");
    pub const DX_1: usize = column_index("dx_1");
    pub const DX_2: usize = column_index("dx_2");
    pub const DX_3: usize = column_index("dx_3");
    pub const DX_4: usize = column_index("dx_4");
    pub const DX_5: usize = column_index("dx_5");
    pub const DX_6: usize = column_index("dx_6");
    pub const DX_7: usize = column_index("dx_7");
    pub const DX_8: usize = column_index("dx_8");
    pub const DX_9: usize = column_index("dx_9");
    pub const DX_10: usize = column_index("dx_10");
    pub const DX_11: usize = column_index("dx_11");
    pub const DX_12: usize = column_index("dx_12");
    pub const TYPE_OF_BILL: usize = column_index("type_of_bill");
    pub const PRINCIPAL_PROCEDURE_CODE: usize = column_index("principal_procedure_code");
    pub const OTHER_PROCEDURE_CODES: usize = column_index("other_procedure_codes");
    pub const LINE_NUMBER: usize = column_index("line_number");
    pub const SERVICE_DATE_FROM: usize = column_index("service_date_from");
    pub const SERVICE_DATE_TO: usize = column_index("service_date_to");
    pub const PLACE_OF_SERVICE: usize = column_index("place_of_service");
    pub const PROCEDURE_CODE: usize = column_index("procedure_code");
    pub const MODIFIER_1: usize = column_index("modifier_1");
    pub const MODIFIER_2: usize = column_index("modifier_2");
    pub const MODIFIER_3: usize = column_index("modifier_3");
    pub const MODIFIER_4: usize = column_index("modifier_4");
    pub const UNITS: usize = column_index("units");
    pub const CHARGE_AMOUNT: usize = column_index("charge_amount");
    pub const DX_POINTERS: usize = column_index("dx_pointers");
    pub const PAID_AMOUNT: usize = column_index("paid_amount");
    pub const REVENUE_CODE: usize = column_index("revenue_code");
    /// The 12 diagnosis slots, dx_1 first.
    pub const DX: [usize; 12] = [DX_1, DX_2, DX_3, DX_4, DX_5, DX_6, DX_7, DX_8, DX_9, DX_10, DX_11, DX_12];
    /// The four modifier slots.
    pub const MODIFIERS: [usize; 4] = [MODIFIER_1, MODIFIER_2, MODIFIER_3, MODIFIER_4];
}

pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

/// Lower-cased, with spaces, dashes and dots folded to `_`, so "Claim ID" matches claim_id.
pub fn normalise_header(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for ch in raw.trim().trim_start_matches('\u{feff}').chars() {
        match ch {
            ' ' | '-' | '.' | '/' => out.push('_'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Header names seen in common exports, mapped to canonical names. User alias files extend this.
const BUILTIN_ALIASES: &[(&str, &str)] = &[
    ("claim_number", "claim_id"),
    ("claim_no", "claim_id"),
    ("member_id", "patient_id"),
    ("dob", "patient_birth_date"),
    ("birth_date", "patient_birth_date"),
    ("sex", "patient_sex"),
    ("gender", "patient_sex"),
    ("cpt", "procedure_code"),
    ("hcpcs", "procedure_code"),
    ("cpt_hcpcs", "procedure_code"),
    ("dos", "service_date_from"),
    ("date_of_service", "service_date_from"),
    ("pos", "place_of_service"),
    ("charge", "charge_amount"),
    ("charges", "charge_amount"),
    ("billed_amount", "charge_amount"),
    ("paid", "paid_amount"),
    ("tob", "type_of_bill"),
    ("rev_code", "revenue_code"),
];

/// Maps input header names onto canonical names.
#[derive(Debug, Clone, Default)]
pub struct AliasMap {
    map: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasFile {
    /// canonical name -> one alias or a list of aliases
    columns: HashMap<String, OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl AliasMap {
    pub fn builtin() -> Self {
        let map = BUILTIN_ALIASES.iter().map(|(a, c)| (a.to_string(), c.to_string())).collect();
        AliasMap { map }
    }

    /// Loads a YAML alias file:
    /// ```yaml
    /// columns:
    ///   claim_id: [ClaimNumber, "Claim #"]
    ///   procedure_code: CPT_Code
    /// ```
    pub fn with_file(mut self, path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read alias file {}", path.display()))?;
        let file: AliasFile = serde_yaml::from_str(&text).map_err(|e| {
            let at = e.location().map(|l| format!(" at line {}, column {}", l.line(), l.column())).unwrap_or_default();
            anyhow::anyhow!("alias file {}{at}: {e}", path.display())
        })?;
        for (canonical, aliases) in file.columns {
            if column(&canonical).is_none() {
                anyhow::bail!("alias file {}: `{canonical}` is not a canonical column (see `claimlint schema`)", path.display());
            }
            let aliases = match aliases {
                OneOrMany::One(a) => vec![a],
                OneOrMany::Many(v) => v,
            };
            for alias in aliases {
                self.map.insert(normalise_header(&alias), canonical.clone());
            }
        }
        Ok(self)
    }

    /// The canonical name for an input header, if it has one.
    pub fn canonical(&self, header: &str) -> Option<&'static str> {
        let norm = normalise_header(header);
        let target = self.map.get(&norm).map(String::as_str).unwrap_or(norm.as_str());
        column(target).map(|c| c.name)
    }
}

/// Markdown table of the schema, for `claimlint schema` and the docs.
pub fn markdown_table() -> String {
    let mut s = String::from("| column | type | level | required | meaning |\n|---|---|---|---|---|\n");
    for c in COLUMNS {
        let kind = match c.kind {
            Text => "text",
            Date => "date",
            Number => "number",
            Integer => "integer",
        };
        let level = if c.level == Claim { "claim" } else { "line" };
        s.push_str(&format!("| {} | {kind} | {level} | {} | {} |\n", c.name, if c.required { "yes" } else { "no" }, c.doc));
    }
    s
}
