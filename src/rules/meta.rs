//! A rule's YAML metadata: what it checks, why, where it comes from, and its examples.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::vocab::{Category, Severity};

/// What one evaluation of a rule sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One service line.
    Line,
    /// One claim: its header values and all its lines.
    Claim,
    /// All lines of one patient, rendering provider and date of service, across the batch.
    PatientDay,
    /// One provider's aggregates (Polars group-bys) and lines.
    Provider,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Line => "line",
            Scope::Claim => "claim",
            Scope::PatientDay => "patient_day",
            Scope::Provider => "provider",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub category: Category,
    pub scope: Scope,
    /// Why this is bad: shown next to every finding.
    pub rationale: String,
    #[serde(default)]
    pub citation: std::sync::Arc<str>,
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    /// Payer ids or names the rule applies to; empty means every payer.
    #[serde(default)]
    pub payers: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The adjustment a payer applies when this edit fails (CARC/RARC).
    #[serde(default)]
    pub denial: Option<std::sync::Arc<crate::vocab::Denial>>,
    /// Reference tables the rule needs (`ptp`, `mue`, ...); without them it is reported as not
    /// run instead of finding nothing.
    #[serde(default)]
    pub requires: Vec<String>,
    /// What a record must have for the rule to possibly fire (see `rules::select`); the script
    /// runs only on the records selected.
    #[serde(default)]
    pub select: Option<serde_yaml::Value>,
    /// Named parameters with their defaults; scripts read them with `param("name")`.
    #[serde(default)]
    pub params: BTreeMap<String, serde_yaml::Value>,
    /// Claim lines in, findings out: run by `claimlint rules test`.
    #[serde(default)]
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub name: String,
    /// Parameter overrides for this example.
    #[serde(default)]
    pub params: BTreeMap<String, serde_yaml::Value>,
    /// Claim lines: each a map of canonical columns, laid over a valid default line.
    pub lines: Vec<BTreeMap<String, serde_yaml::Value>>,
    /// Expected findings of this rule, in any order; empty means the lines are clean.
    #[serde(default)]
    pub expect: Vec<Expected>,
    /// Expected bypasses by reason (`{ "59": 1 }`); when given, the counts must match exactly.
    #[serde(default)]
    pub bypasses: Option<BTreeMap<String, u64>>,
    /// The reference rows the example depends on, by table name (`mue: [{ hcpcs_code: "99213",
    /// mue_units: 2, mue_mai: 3 }]`, in the table's normalised CSV columns, docs/refdata.md).
    /// When given, the example runs against these tables only, not against the loaded ones.
    #[serde(default)]
    pub tables: BTreeMap<String, Vec<BTreeMap<String, serde_yaml::Value>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    #[serde(default)]
    pub claim_id: Option<String>,
    #[serde(default)]
    pub line_number: Option<i64>,
    #[serde(default)]
    pub message_contains: Option<String>,
    #[serde(default)]
    pub amount_at_risk: Option<f64>,
    /// The fix's proposed values joined with `|` ("" for advice with no value).
    #[serde(default)]
    pub fix: Option<String>,
}

impl RuleMeta {
    /// Whether the rule applies to a date of service (days since 1970-01-01).
    pub fn in_effect_on(&self, day: Option<i32>) -> bool {
        let Some(day) = day else { return self.effective_from.is_none() && self.effective_to.is_none() };
        crate::dates::in_window(day, self.effective_from, self.effective_to)
    }

    pub fn applies_to_payer(&self, payer: &str) -> bool {
        self.payers.is_empty() || self.payers.iter().any(|p| p.eq_ignore_ascii_case(payer))
    }
}
