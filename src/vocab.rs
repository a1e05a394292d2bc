//! The vocabulary every layer shares: severities and categories, findings, input problems and
//! input errors, and the dollars-at-risk and tally helpers. It depends on nothing else in the
//! crate, so the layers above it (load, rules, fraud, audit, report) never need each other for it.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!("unknown severity `{other}` (expected error, warning or info)")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Compliance,
    FraudRisk,
    DataQuality,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Compliance => "compliance",
            Category::FraudRisk => "fraud-risk",
            Category::DataQuality => "data-quality",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    pub claim_id: String,
    /// None for findings about a whole claim, patient-day or provider.
    pub line_number: Option<i64>,
    pub rule_id: String,
    pub severity: Severity,
    pub category: Category,
    pub message: String,
    /// The finding's dollars as the rule puts them: usually the billed charge.
    pub amount_at_risk: f64,
    /// The same dollars at what the payer would allow: the line's paid amount, else the
    /// Medicare fee-schedule amount, never more than `amount_at_risk` (see `crate::price`).
    #[serde(default)]
    pub expected_allowed: f64,
    /// Where `expected_allowed` comes from; `None` for provider findings, which keep their amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_source: Option<PriceSource>,
    /// Shared with the rule and its other findings: a rule's citation and denial are written
    /// once per rule, not once per finding (two million findings at 100M lines).
    pub citation: std::sync::Arc<str>,
    pub payer_id: String,
    pub provider_npi: String,
    pub patient_id: String,
    pub service_date: String,
    /// `file:row` of the line in the input, so a biller can find it.
    pub location: String,
    /// What the payer would send back: the rule's denial codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denial: Option<std::sync::Arc<Denial>>,
    /// A correction the rule proposes, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

impl Finding {
    /// A finding about a provider as a whole: it names no claim.
    pub fn is_provider_level(&self) -> bool {
        self.claim_id.is_empty() && self.line_number.is_none() && !self.provider_npi.is_empty()
    }

    /// The finding's dollars at the chosen price.
    pub fn amount(&self, price: Price) -> f64 {
        match price {
            Price::Billed => self.amount_at_risk,
            Price::Medicare => self.expected_allowed,
        }
    }
}

/// Which figure the headline dollars at risk use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Price {
    /// The findings' own amounts, usually the billed charge.
    #[default]
    Billed,
    /// The expected allowed amounts: paid where known, else the Medicare fee schedule.
    Medicare,
}

impl Price {
    pub fn as_str(self) -> &'static str {
        match self {
            Price::Billed => "billed",
            Price::Medicare => "medicare",
        }
    }
}

impl std::str::FromStr for Price {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "billed" => Ok(Price::Billed),
            "medicare" => Ok(Price::Medicare),
            other => Err(format!("unknown price `{other}` (expected billed or medicare)")),
        }
    }
}

/// Where a finding's expected allowed amount comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PriceSource {
    /// The paid amount of the line (every line of a claim finding).
    Paid,
    /// The national Physician Fee Schedule amount (for at least one line; the rest paid).
    FeeSchedule,
    /// No price known for the line (or for some line of a claim finding): the billed amount.
    Billed,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::Paid => "paid",
            PriceSource::FeeSchedule => "fee-schedule",
            PriceSource::Billed => "billed",
        }
    }
}

/// What a payer sends back when an edit fails: the claim adjustment group code (CO, PR, OA,
/// PI), the Claim Adjustment Reason Code and, where one fits, Remittance Advice Remark Codes.
/// Codes only, with claimlint's own one-line label; `source` cites the code list or guidance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Denial {
    pub group: String,
    pub carc: String,
    #[serde(default)]
    pub rarc: Vec<String>,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub source: String,
}

impl Denial {
    /// `CO-236`: the group and reason code as remittances print them.
    pub fn code(&self) -> String {
        format!("{}-{}", self.group, self.carc)
    }
}

/// Whether a fix can be applied without a person (ruff's "safe" and "unsafe" fixes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixKind {
    /// Cannot change what the claim says, e.g. code formatting.
    Safe,
    /// Needs a person to confirm, or to choose among the values, or to decide with no value.
    Suggested,
}

impl FixKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FixKind::Safe => "safe",
            FixKind::Suggested => "suggested",
        }
    }
}

/// A correction a finding proposes for one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// The canonical column to change; empty for advice that names no field.
    pub field: String,
    /// The field's value as audited.
    pub current: String,
    /// One value to apply, several to choose from, or none when only a person can decide
    /// (for example a modifier that asserts a clinical fact).
    pub proposed: Vec<String>,
    pub kind: FixKind,
    /// What to change or check, in words.
    pub note: String,
}

impl Fix {
    /// Whether `claimlint fix` applies it: a field and exactly one value, safe or (with
    /// `--suggested`) suggested.
    pub fn applies(&self, suggested: bool) -> bool {
        !self.field.is_empty() && self.proposed.len() == 1 && (self.kind == FixKind::Safe || suggested)
    }
}

/// Edits a rule would have made but did not, because a modifier or an exception bypassed them,
/// counted per reason (the modifier, or the script's word for the exception). Not findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BypassCount {
    pub rule_id: String,
    pub reason: String,
    pub count: u64,
}

/// As [`BypassCount`], for one provider (rendering NPI, else billing NPI).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderBypass {
    pub provider_npi: String,
    pub rule_id: String,
    pub reason: String,
    pub count: u64,
}

/// Every bypass of a run, per rule and reason and per provider, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bypasses {
    pub by_rule: Vec<BypassCount>,
    pub by_provider: Vec<ProviderBypass>,
}

impl Bypasses {
    /// Adds another partition's counts (counts of the same rule, reason and provider are
    /// summed), keeping the stable order.
    pub fn merge(&mut self, other: Bypasses) {
        for b in other.by_rule {
            match self.by_rule.iter_mut().find(|a| a.rule_id == b.rule_id && a.reason == b.reason) {
                Some(a) => a.count += b.count,
                None => self.by_rule.push(b),
            }
        }
        let mut index: std::collections::HashMap<(String, String, String), usize> =
            self.by_provider.iter().enumerate().map(|(i, a)| ((a.provider_npi.clone(), a.rule_id.clone(), a.reason.clone()), i)).collect();
        for b in other.by_provider {
            match index.get(&(b.provider_npi.clone(), b.rule_id.clone(), b.reason.clone())) {
                Some(&i) => self.by_provider[i].count += b.count,
                None => {
                    index.insert((b.provider_npi.clone(), b.rule_id.clone(), b.reason.clone()), self.by_provider.len());
                    self.by_provider.push(b);
                }
            }
        }
        self.by_rule.sort_by(|a, b| (&a.rule_id, &a.reason).cmp(&(&b.rule_id, &b.reason)));
        self.by_provider.sort_by(|a, b| (&a.provider_npi, &a.rule_id, &a.reason).cmp(&(&b.provider_npi, &b.rule_id, &b.reason)));
    }

    pub fn total(&self, rule_id: &str) -> u64 {
        self.by_rule.iter().filter(|b| b.rule_id == rule_id).map(|b| b.count).sum()
    }

    /// A provider's bypasses of one rule whose reason is one of `reasons` (e.g. 59, XE, XS,
    /// XP, XU for the modifier-59 bypass rate).
    pub fn provider_count(&self, npi: &str, rule_id: &str, reasons: &[&str]) -> u64 {
        self.by_provider
            .iter()
            .filter(|b| b.provider_npi == npi && b.rule_id == rule_id && reasons.iter().any(|r| r.eq_ignore_ascii_case(&b.reason)))
            .map(|b| b.count)
            .sum()
    }
}

/// A value that could not be read, or a structural problem in an input file. Becomes a
/// data-quality finding; the rest of the batch is still audited.
#[derive(Debug, Clone)]
pub struct DataIssue {
    pub source: String,
    /// Where in the source: the physical line for CSV/TSV (the header is line 1; a row spanning
    /// lines is at the line where it starts), the segment number for X12 (ISA = 1), the row
    /// number for Parquet/NDJSON; None for file-level issues.
    pub row: Option<u32>,
    pub claim_id: Option<String>,
    pub line_number: Option<i64>,
    pub rule_id: &'static str,
    pub severity: Severity,
    pub message: String,
    pub amount_at_risk: f64,
}

/// What one input file gave: lines (CSV/TSV records, Parquet/NDJSON rows, X12 service lines)
/// and claims read, and how many could not be audited. Lines read = lines audited + lines
/// rejected; every rejected line is named by a data-quality finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAccounting {
    pub source: String,
    /// csv, tsv, parquet, ndjson or x12.
    pub format: String,
    /// The text encoding used to read it (CSV, TSV, X12), e.g. "UTF-8" or "windows-1252".
    pub encoding: Option<String>,
    pub lines_read: u64,
    pub lines_rejected: u64,
    /// Claims seen (X12: CLM segments; other formats: distinct claim ids, filled in after loading).
    pub claims_read: u64,
    pub claims_rejected: u64,
}

impl FileAccounting {
    pub fn lines_audited(&self) -> u64 {
        self.lines_read - self.lines_rejected.min(self.lines_read)
    }
}

/// Errors that mean "fix your input" (exit code 2), as distinct from internal failures.
#[derive(Debug)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for InputError {}

pub fn input_error(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(InputError(msg.into()))
}

/// Dollars at risk without double counting: each line once, at the largest amount any error or
/// warning finding puts on it; a claim counts the larger of its lines' sum and its largest
/// claim-level amount (a claim-level finding already covers every line of the claim); a
/// provider-level finding counts once per provider, at the largest amount.
pub fn amount_at_risk<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> f64 {
    amount_at_risk_priced(findings, Price::Billed)
}

/// [`amount_at_risk`] at the chosen price: the same counting over [`Finding::amount`].
pub fn amount_at_risk_priced<'a>(findings: impl IntoIterator<Item = &'a Finding>, price: Price) -> f64 {
    let mut per_line: HashMap<(&str, i64), f64> = HashMap::new();
    let mut per_claim: HashMap<&str, f64> = HashMap::new();
    let mut per_provider: HashMap<&str, f64> = HashMap::new();
    for f in findings.into_iter().filter(|f| f.severity >= Severity::Warning) {
        if f.is_provider_level() {
            let e = per_provider.entry(f.provider_npi.as_str()).or_insert(0.0);
            *e = e.max(f.amount(price));
            continue;
        }
        let e = match f.line_number {
            Some(line) => per_line.entry((f.claim_id.as_str(), line)).or_insert(0.0),
            None => per_claim.entry(f.claim_id.as_str()).or_insert(0.0),
        };
        *e = e.max(f.amount(price));
    }
    let mut line_sums: HashMap<&str, Money> = HashMap::new();
    for ((claim, _), amount) in per_line {
        *line_sums.entry(claim).or_default() += Money::from(amount);
    }
    let mut total = Money::default();
    for (claim, &lines) in &line_sums {
        total += lines.max(Money::from(per_claim.get(claim).copied().unwrap_or(0.0)));
    }
    for (claim, &a) in &per_claim {
        if !line_sums.contains_key(claim) {
            total += Money::from(a);
        }
    }
    for &a in per_provider.values() {
        total += Money::from(a);
    }
    total.into()
}

/// Dollars summed exactly, in millionths: the sum does not depend on the order of the terms, so
/// an audit in partitions reports the same totals as one in memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money(i128);

impl From<f64> for Money {
    fn from(x: f64) -> Money {
        Money((x * 1e6).round() as i128)
    }
}

impl From<Money> for f64 {
    fn from(m: Money) -> f64 {
        m.0 as f64 / 1e6
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}

/// Findings counted and summed by a key, largest count first.
#[derive(Debug, Clone, Serialize)]
pub struct Tally {
    pub key: String,
    pub label: String,
    pub count: usize,
    pub amount: f64,
    /// The same findings' expected allowed dollars.
    pub allowed: f64,
}

pub fn tally(findings: &[Finding], key: impl Fn(&Finding) -> String, label: impl Fn(&str) -> String) -> Vec<Tally> {
    let mut map: BTreeMap<String, (usize, f64, f64)> = BTreeMap::new();
    for f in findings {
        let e = map.entry(key(f)).or_insert((0, 0.0, 0.0));
        e.0 += 1;
        e.1 += f.amount_at_risk;
        e.2 += f.expected_allowed;
    }
    let mut v: Vec<Tally> = map.into_iter().map(|(k, (count, amount, allowed))| Tally { label: label(&k), key: k, count, amount, allowed }).collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    v
}
