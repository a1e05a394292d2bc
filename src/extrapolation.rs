//! From an audited sample to an extrapolated overpayment, the way OIG and Medicare contractors
//! do it: each sampled claim's examined amount (paid, else billed), its audited amount after the
//! error findings, and a RAT-STATS variable appraisal projected to the universe.
//!
//! The sample is either the whole audited batch (`--universe N`: the batch is a sample of N
//! claims) or the `sample.csv` that `claimlint sample --claims` wrote (`--sample FILE`): its
//! sampled claims are looked up in the audited batch, and its strata and frame sizes give the
//! universe. Spares are ignored.
//!
//! Overpayment per claim: each line with an error finding is overpaid by the largest amount an
//! error puts on it, capped at what was paid for the line; a claim-level error puts its amount on
//! the claim; the claim's total is capped at its examined amount. Warnings and information are
//! leads, not determinations, so they do not count.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{bail, Result};
use serde::Serialize;

use crate::audit::AuditResult;
use crate::batch::col_index;
use crate::ratstats::{self, appraisal_output, ConfidenceLimits, SampleValues, StratumValues, DEFAULT_LEVELS};
use crate::vocab::input_error;
use crate::vocab::Severity;

/// How the audited batch relates to the universe.
pub enum SampleDesign<'a> {
    /// Every claim of the batch is in the sample, drawn from a universe of this many claims.
    WholeBatch { universe: u64 },
    /// The sample file written by `claimlint sample --claims`.
    SampleFile(&'a Path),
}

#[derive(Debug, Clone, Serialize)]
pub struct SampledClaim {
    pub stratum: usize,
    /// Position in the order of selection, when the sample file gives it.
    pub selection_order: Option<u64>,
    pub claim_id: String,
    pub examined: f64,
    pub audited: f64,
    /// Examined minus audited: the overpayment found on this claim.
    pub overpayment: f64,
    /// Error findings behind the overpayment, as rule ids.
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StratumSummary {
    pub stratum: usize,
    pub name: String,
    pub universe_size: u64,
    pub sample_size: u64,
    pub examined: f64,
    pub overpayment: f64,
    pub claims_in_error: usize,
}

/// Limits on the overpayment (a positive amount) at one two-sided confidence level.
#[derive(Debug, Clone, Serialize)]
pub struct OverpaymentLimits {
    pub confidence: f64,
    pub lower: f64,
    pub upper: f64,
    pub precision_amount: f64,
    pub precision_percent: f64,
    /// The t value (unrestricted) or Z value (stratified) used.
    pub factor: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Extrapolation {
    /// "unrestricted" or "stratified".
    pub design: &'static str,
    /// The two-sided confidence level the user chose, as a fraction.
    pub confidence: f64,
    pub universe_size: u64,
    pub sample_size: u64,
    pub strata: Vec<StratumSummary>,
    pub claims: Vec<SampledClaim>,
    pub sample_examined: f64,
    pub sample_overpayment: f64,
    pub claims_in_error: usize,
    pub point_estimate: f64,
    /// Limits at the chosen level.
    pub chosen: OverpaymentLimits,
    /// Limits at every level reported (80, 90, 95% and the chosen one).
    pub limits: Vec<OverpaymentLimits>,
    /// The one-sided 90% lower bound contractors demand: the lower limit of the two-sided 80%
    /// interval.
    pub one_sided_90_lower: f64,
    /// The RAT-STATS printout of the appraisal (examined, audited and difference).
    pub ratstats_text: String,
}

impl Extrapolation {
    /// `stratum,selection_order,claim_id,examined,audited,overpayment,rules`.
    pub fn claims_csv(&self) -> String {
        let mut out = String::from("stratum,selection_order,claim_id,examined,audited,overpayment,rules\n");
        for c in &self.claims {
            out.push_str(&format!(
                "{},{},{},{:.2},{:.2},{:.2},{}\n",
                c.stratum,
                c.selection_order.map(|o| o.to_string()).unwrap_or_default(),
                appraisal_output::csv_field(&c.claim_id),
                c.examined,
                c.audited,
                c.overpayment,
                appraisal_output::csv_field(&c.rules.join(" "))
            ));
        }
        out
    }
}

/// Parses a confidence given as a percent (90) or a fraction (0.9).
pub fn parse_confidence(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().trim_end_matches('%').parse().map_err(|_| format!("`{s}` is not a confidence level"))?;
    let c = if v >= 1.0 { v / 100.0 } else { v };
    if c > 0.0 && c < 1.0 {
        Ok(c)
    } else {
        Err(format!("confidence {s} must be between 0 and 100 percent"))
    }
}

/// Per claim of the batch: (examined amount, overpayment, error rule ids).
fn claim_amounts(result: &AuditResult) -> HashMap<&str, (f64, f64, Vec<String>)> {
    // Sample audits are small and always held in one batch (the CLI asks for one partition).
    let Some(batch) = result.batch.as_deref() else { return HashMap::new() };
    let (claim_col, line_col) = (col_index("claim_id"), col_index("line_number"));
    let (paid_col, charge_col) = (col_index("paid_amount"), col_index("charge_amount"));

    // (claim, line) -> (largest amount at risk, rule ids).
    type LineErrors<'a> = HashMap<(&'a str, Option<i64>), (f64, Vec<&'a str>)>;
    let mut errors: LineErrors = HashMap::new();
    for f in result.findings.iter().filter(|f| f.severity >= Severity::Error) {
        let e = errors.entry((f.claim_id.as_str(), f.line_number)).or_insert((0.0, Vec::new()));
        e.0 = e.0.max(f.amount(result.totals.pricing.used));
        e.1.push(&f.rule_id);
    }

    let mut out = HashMap::with_capacity(batch.claims.len());
    for rows in batch.claims.iter() {
        let Some(&first) = rows.first() else { continue };
        let claim_id = batch.text(claim_col, first as usize);
        let (mut examined, mut over) = (0.0, 0.0);
        let mut rules: Vec<String> = Vec::new();
        for &r in rows {
            let r = r as usize;
            let basis = batch.number(paid_col, r).or_else(|| batch.number(charge_col, r)).unwrap_or(0.0);
            examined += basis;
            if let Some((amount, ids)) = errors.get(&(claim_id, batch.integer(line_col, r))) {
                over += amount.min(basis).max(0.0);
                rules.extend(ids.iter().map(|s| s.to_string()));
            }
        }
        if let Some((amount, ids)) = errors.get(&(claim_id, None)) {
            over = over.max(*amount);
            rules.extend(ids.iter().map(|s| s.to_string()));
        }
        rules.sort();
        rules.dedup();
        let over = over.min(examined.max(0.0));
        out.insert(claim_id, (examined, over, rules));
    }
    out
}

struct SampleRow {
    stratum: usize,
    name: String,
    selection_order: Option<u64>,
    claim_id: String,
    frame_size: u64,
}

fn read_sample_file(path: &Path) -> Result<Vec<SampleRow>> {
    let text = std::fs::read_to_string(path).map_err(|e| input_error(format!("{}: cannot read: {e}", path.display())))?;
    let rows = ratstats::io::parse_csv_records(&text).map_err(|e| input_error(format!("{}: {e}", path.display())))?;
    let Some((_, header)) = rows.first() else { bail!(input_error(format!("{}: empty sample file", path.display()))) };
    let pos = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (Some(si), Some(ii), Some(fi)) = (pos("stratum"), pos("item"), pos("frame_size")) else {
        bail!(input_error(format!(
            "{}: needs the columns stratum, item and frame_size (the sample.csv of `claimlint sample --claims`)",
            path.display()
        )));
    };
    let (ni, ki, oi) = (pos("name"), pos("kind"), pos("selection_order"));
    let mut out = Vec::new();
    for (line, row) in rows.iter().skip(1) {
        let cell = |i: usize| row.get(i).map(|s| s.trim()).unwrap_or("");
        if ki.is_some_and(|k| !cell(k).eq_ignore_ascii_case("sample")) {
            continue;
        }
        let bad = |what: &str| input_error(format!("{} line {line}: {what}", path.display()));
        let stratum = cell(si).parse::<usize>().ok().filter(|&s| s >= 1).ok_or_else(|| bad("`stratum` is not a stratum number"))?;
        let frame_size = cell(fi).parse::<u64>().map_err(|_| bad("`frame_size` is not a count"))?;
        let claim_id = cell(ii).to_string();
        if claim_id.is_empty() {
            bail!(bad("`item` (the claim id) is blank"));
        }
        out.push(SampleRow {
            stratum,
            name: ni.map(|i| cell(i).to_string()).unwrap_or_default(),
            selection_order: oi.and_then(|i| cell(i).parse().ok()),
            claim_id,
            frame_size,
        });
    }
    if out.is_empty() {
        bail!(input_error(format!("{}: no sampled claims (rows of kind `sample`)", path.display())));
    }
    Ok(out)
}

fn stats_error(e: ratstats::RatStatsError) -> anyhow::Error {
    input_error(format!("extrapolation: {e}"))
}

/// Overpayment limits from RAT-STATS difference limits (audited − examined, negative when
/// overpaid): the signs flip, so the overpayment's lower limit is the difference's upper one.
fn overpayment_limits(point_estimate: f64, l: &ConfidenceLimits) -> OverpaymentLimits {
    OverpaymentLimits {
        confidence: l.confidence,
        lower: -l.upper_limit,
        upper: -l.lower_limit,
        precision_amount: l.precision_amount,
        precision_percent: if point_estimate > 0.0 { 100.0 * l.precision_amount / point_estimate } else { 0.0 },
        factor: l.factor,
    }
}

/// Appraises the audited sample and projects the overpayment to the universe.
pub fn extrapolate(result: &AuditResult, design: SampleDesign, confidence: f64) -> Result<Extrapolation> {
    let amounts = claim_amounts(result);
    let sample: Vec<SampleRow> = match design {
        SampleDesign::WholeBatch { universe } => {
            let mut ids: Vec<&str> = amounts.keys().copied().collect();
            ids.sort_unstable();
            ids.into_iter()
                .map(|id| SampleRow { stratum: 1, name: "all claims".into(), selection_order: None, claim_id: id.into(), frame_size: universe })
                .collect()
        }
        SampleDesign::SampleFile(path) => {
            let rows = read_sample_file(path)?;
            let missing: Vec<&str> = rows.iter().filter(|r| !amounts.contains_key(r.claim_id.as_str())).map(|r| r.claim_id.as_str()).collect();
            if !missing.is_empty() {
                bail!(input_error(format!(
                    "{}: {} sampled claim(s) are not in the audited files, so the sample cannot be appraised: {}{}",
                    path.display(),
                    missing.len(),
                    missing.iter().take(5).copied().collect::<Vec<_>>().join(", "),
                    if missing.len() > 5 { ", …" } else { "" }
                )));
            }
            rows
        }
    };

    let mut levels: Vec<f64> = DEFAULT_LEVELS.to_vec();
    if !levels.iter().any(|l| (l - confidence).abs() < 1e-12) {
        levels.push(confidence);
        levels.sort_by(f64::total_cmp);
    }

    let mut by_stratum: BTreeMap<usize, (String, u64, Vec<SampledClaim>)> = BTreeMap::new();
    for row in sample {
        let (examined, over, rules) = amounts.get(row.claim_id.as_str()).cloned().unwrap_or_default();
        let e = by_stratum.entry(row.stratum).or_insert_with(|| (row.name.clone(), row.frame_size, Vec::new()));
        if e.1 != row.frame_size {
            bail!(input_error(format!("stratum {} has two frame sizes ({} and {})", row.stratum, e.1, row.frame_size)));
        }
        e.2.push(SampledClaim {
            stratum: row.stratum,
            selection_order: row.selection_order,
            claim_id: row.claim_id,
            examined,
            audited: examined - over,
            overpayment: over,
            rules,
        });
    }

    let values = |claims: &[SampledClaim]| {
        SampleValues::examined_audited(claims.iter().map(|c| c.examined).collect(), claims.iter().map(|c| c.audited).collect())
    };
    let title = "claimlint audit: extrapolated overpayment";
    let (design, universe_size, point_estimate, limits, ratstats_text) = if by_stratum.len() == 1 {
        let (_, universe, claims) = by_stratum.values().next().expect("one stratum");
        let a = ratstats::appraise_unrestricted(*universe, &values(claims), &levels).map_err(stats_error)?;
        let d = a.difference.as_ref().expect("difference is derived from examined and audited");
        let point = -d.point_estimate;
        (
            "unrestricted",
            *universe,
            point,
            d.limits.iter().map(|l| overpayment_limits(point, l)).collect::<Vec<_>>(),
            appraisal_output::variable_text(&a, title),
        )
    } else {
        let strata: Vec<StratumValues> = by_stratum
            .values()
            .map(|(name, universe, claims)| StratumValues { name: name.clone(), universe_size: *universe, values: values(claims) })
            .collect();
        let a = ratstats::appraise_stratified(&strata, &levels).map_err(stats_error)?;
        let d = a.difference.as_ref().expect("difference is derived from examined and audited");
        let point = -d.point_estimate;
        (
            "stratified",
            a.universe_size,
            point,
            d.limits.iter().map(|l| overpayment_limits(point, l)).collect(),
            appraisal_output::stratified_text(&a, title),
        )
    };

    let pick = |c: f64| limits.iter().find(|l| (l.confidence - c).abs() < 1e-12).cloned().expect("level was requested");
    let strata = by_stratum
        .iter()
        .map(|(&stratum, (name, universe, claims))| StratumSummary {
            stratum,
            name: name.clone(),
            universe_size: *universe,
            sample_size: claims.len() as u64,
            examined: claims.iter().map(|c| c.examined).sum(),
            overpayment: claims.iter().map(|c| c.overpayment).sum(),
            claims_in_error: claims.iter().filter(|c| c.overpayment > 0.0).count(),
        })
        .collect();
    let claims: Vec<SampledClaim> = by_stratum.into_values().flat_map(|(_, _, c)| c).collect();
    Ok(Extrapolation {
        design,
        confidence,
        universe_size,
        sample_size: claims.len() as u64,
        sample_examined: claims.iter().map(|c| c.examined).sum(),
        sample_overpayment: claims.iter().map(|c| c.overpayment).sum(),
        claims_in_error: claims.iter().filter(|c| c.overpayment > 0.0).count(),
        point_estimate,
        chosen: pick(confidence),
        one_sided_90_lower: pick(0.80).lower,
        limits,
        strata,
        claims,
        ratstats_text,
    })
}
