//! What a script of each scope can read: one table that compiling, binding, `rules check` and
//! docs/rules.md all use. A rule's variables are resolved to these entries when it compiles, so
//! binding a record is a match on the source, never a name lookup, and a variable the script does
//! not mention is never bound.

use super::Scope;
use crate::batch::PROVIDER_AGGREGATES;
use crate::schema::{col, Level, COLUMNS};

/// Where a variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarSource {
    /// A canonical column, from the record's first line.
    Column(usize),
    /// The line itself (`line.procedure_code`, `line.count_within(days)`, ...).
    Line,
    /// The line's non-blank modifiers, in slot order.
    Modifiers,
    /// The provider the record is attributed to: rendering NPI, else billing NPI.
    ProviderNpi,
    /// `file:row` of the line.
    Location,
    /// Every line of the record, in input order.
    Lines,
    /// Sum of the lines' charges.
    TotalCharge,
    /// The earliest (or latest) date of a date column over the record's lines.
    EarliestDate(usize),
    LatestDate(usize),
    /// The provider's specialty (provider scope).
    ProviderSpecialty,
    /// The provider's fraud-risk indicators (provider scope).
    Indicators,
    /// One of the provider aggregates (provider scope), by its index in `PROVIDER_AGGREGATES`.
    Aggregate(usize),
}

#[derive(Debug, Clone)]
pub struct ScopeVar {
    pub name: &'static str,
    pub source: VarSource,
    pub doc: &'static str,
}

const fn var(name: &'static str, source: VarSource, doc: &'static str) -> ScopeVar {
    ScopeVar { name, source, doc }
}

/// The variables of a scope, in documentation order.
pub fn scope_vars(scope: Scope) -> Vec<ScopeVar> {
    use VarSource::*;
    let columns = |level: Option<Level>| {
        COLUMNS.iter().enumerate().filter(move |(_, c)| level.is_none_or(|l| c.level == l)).map(|(i, c)| var(c.name, Column(i), c.doc))
    };
    match scope {
        Scope::Line => {
            let mut v: Vec<ScopeVar> = columns(None).collect();
            v.extend([
                var("line", Line, "the line itself, for `line.count_within(days)`, `line.has_modifier(m)` and `flag_line`"),
                var("modifiers", Modifiers, "the line's non-blank modifiers, in slot order"),
                var("provider_npi", ProviderNpi, "rendering NPI, else billing NPI"),
                var("location", Location, "`file:row` of the line"),
            ]);
            v
        }
        Scope::Claim => {
            let mut v: Vec<ScopeVar> = columns(Some(Level::Claim)).collect();
            v.extend([
                var("lines", Lines, "the claim's lines, in input order"),
                var("total_charge", TotalCharge, "sum of the lines' charges"),
                var("service_date_from", EarliestDate(col::SERVICE_DATE_FROM), "the earliest line date of service"),
                var("service_date_to", LatestDate(col::SERVICE_DATE_TO), "the latest line date of service (to)"),
                var("provider_npi", ProviderNpi, "rendering NPI, else billing NPI, of the first line"),
            ]);
            v
        }
        Scope::PatientDay => vec![
            var("patient_id", Column(col::PATIENT_ID), "the patient"),
            var("provider_npi", ProviderNpi, "rendering NPI, else billing NPI"),
            var("service_date", Column(col::SERVICE_DATE_FROM), "the date of service"),
            var("lines", Lines, "every line of the patient, provider and date, across claims, in input order"),
        ],
        Scope::Provider => {
            let mut v = vec![
                var("provider_npi", ProviderNpi, "the provider's NPI"),
                var("provider_specialty", ProviderSpecialty, "the provider's specialty, as billed"),
                var("indicators", Indicators, "fraud-risk indicators against peers (see docs/fraud.md)"),
            ];
            v.extend(PROVIDER_AGGREGATES.iter().enumerate().map(|(i, (n, d))| var(n, Aggregate(i), d)));
            v
        }
    }
}

/// The names of a scope's variables.
pub fn names(scope: Scope) -> Vec<&'static str> {
    scope_vars(scope).into_iter().map(|v| v.name).collect()
}

/// Markdown tables of every scope's variables, for docs/rules.md.
pub fn markdown() -> String {
    let mut out = String::new();
    for scope in [Scope::Line, Scope::Claim, Scope::PatientDay, Scope::Provider] {
        out.push_str(&format!("\n#### `{}` scope\n\n| variable | meaning |\n|---|---|\n", scope.as_str()));
        for v in scope_vars(scope) {
            out.push_str(&format!("| `{}` | {} |\n", v.name, v.doc.replace('|', "\\|")));
        }
    }
    out
}
