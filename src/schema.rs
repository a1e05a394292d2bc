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
    col("claim_type", Text, Claim, false, "professional (CMS-1500/837P) or institutional (UB-04/837I); inferred from type_of_bill/revenue_code when absent"),
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
                anyhow::bail!(
                    "alias file {}: `{canonical}` is not a canonical column (see `claimlint schema`)",
                    path.display()
                );
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
        s.push_str(&format!(
            "| {} | {kind} | {level} | {} | {} |\n",
            c.name,
            if c.required { "yes" } else { "no" },
            c.doc
        ));
    }
    s
}
