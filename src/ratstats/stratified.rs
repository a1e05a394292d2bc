//! Stratified variable appraisal (RAT-STATS "Variable Appraisals - Stratified").
//!
//! Each stratum h (universe N_h, sample n_h) is appraised on its own exactly as an
//! unrestricted sample, with t at n_h - 1 df. The overall figures combine the strata:
//!
//! ```text
//! point estimate  Y  = sum_h N_h * ybar_h
//! SE (total)      SE = sqrt( sum_h SE_h^2 ),  SE_h = N_h * sqrt((1 - n_h/N_h) s_h^2 / n_h)
//! mean            Y / N,  SE (mean) = SE / N,  N = sum_h N_h
//! limits          Y -/+ Z * SE   (Z, not t: the overall estimate has no single df)
//! ```
use serde::Serialize;

use super::error::{RatStatsError, Result};
use super::sample::MAX_STRATA;
use super::tdist::z_two_sided;
use super::variable::{appraise_values, limits, ConfidenceLimits, SampleValues, ValueKind, VariableStats};

/// One stratum's input.
#[derive(Debug, Clone, Serialize)]
pub struct StratumValues {
    pub name: String,
    pub universe_size: u64,
    pub values: SampleValues,
}

/// One stratum's appraisal (t-based limits).
#[derive(Debug, Clone, Serialize)]
pub struct StratumAppraisal {
    /// 1-based stratum number.
    pub stratum: usize,
    pub name: String,
    pub universe_size: u64,
    pub sample_size: u64,
    pub examined: Option<VariableStats>,
    pub audited: Option<VariableStats>,
    pub difference: Option<VariableStats>,
}

/// The combined figures for one kind of value (Z-based limits).
#[derive(Debug, Clone, Serialize)]
pub struct OverallStats {
    pub kind: ValueKind,
    pub universe_size: u64,
    pub sample_size: u64,
    pub nonzero_items: u64,
    pub point_estimate: f64,
    pub mean: f64,
    pub se_total: f64,
    pub se_mean: f64,
    pub limits: Vec<ConfidenceLimits>,
}

/// A stratified variable appraisal.
#[derive(Debug, Clone, Serialize)]
pub struct StratifiedVariableAppraisal {
    pub universe_size: u64,
    pub sample_size: u64,
    pub strata: Vec<StratumAppraisal>,
    /// Present when every stratum has examined values (likewise below).
    pub examined: Option<OverallStats>,
    pub audited: Option<OverallStats>,
    pub difference: Option<OverallStats>,
}

impl StratifiedVariableAppraisal {
    /// The overall blocks present, in RAT-STATS's column order.
    pub fn overall_blocks(&self) -> Vec<&OverallStats> {
        [&self.examined, &self.audited, &self.difference].into_iter().flatten().collect()
    }
}

fn pick(s: &StratumAppraisal, kind: ValueKind) -> Option<&VariableStats> {
    match kind {
        ValueKind::Examined => s.examined.as_ref(),
        ValueKind::Audited => s.audited.as_ref(),
        ValueKind::Difference => s.difference.as_ref(),
    }
}

fn overall(strata: &[StratumAppraisal], kind: ValueKind, levels: &[f64]) -> Result<Option<OverallStats>> {
    let blocks: Option<Vec<&VariableStats>> = strata.iter().map(|s| pick(s, kind)).collect();
    let Some(blocks) = blocks else { return Ok(None) };
    let universe_size: u64 = blocks.iter().map(|b| b.universe_size).sum();
    let sample_size: u64 = blocks.iter().map(|b| b.sample_size).sum();
    let point_estimate: f64 = blocks.iter().map(|b| b.point_estimate).sum();
    let se_total = blocks.iter().map(|b| b.se_total * b.se_total).sum::<f64>().sqrt();
    let big_n = universe_size as f64;
    let limits = levels.iter().map(|&c| Ok(limits(point_estimate, se_total, c, z_two_sided(c)?))).collect::<Result<Vec<_>>>()?;
    Ok(Some(OverallStats {
        kind,
        universe_size,
        sample_size,
        nonzero_items: blocks.iter().map(|b| b.nonzero_items).sum(),
        point_estimate,
        mean: point_estimate / big_n,
        se_total,
        se_mean: se_total / big_n,
        limits,
    }))
}

/// Appraises a stratified sample. Every stratum needs at least 2 sample items and a universe no
/// smaller than its sample; there may be at most [`MAX_STRATA`] strata.
pub fn appraise_stratified(strata: &[StratumValues], levels: &[f64]) -> Result<StratifiedVariableAppraisal> {
    if strata.is_empty() {
        return Err(RatStatsError::NoStrata);
    }
    if strata.len() > MAX_STRATA {
        return Err(RatStatsError::TooManyStrata { count: strata.len(), max: MAX_STRATA });
    }
    let mut out = Vec::with_capacity(strata.len());
    for (i, s) in strata.iter().enumerate() {
        let v = s.values.completed()?;
        let one = |col: &Option<Vec<f64>>, kind| col.as_ref().map(|c| appraise_values(s.universe_size, c, kind, levels)).transpose();
        out.push(StratumAppraisal {
            stratum: i + 1,
            name: s.name.clone(),
            universe_size: s.universe_size,
            sample_size: v.len() as u64,
            examined: one(&v.examined, ValueKind::Examined)?,
            audited: one(&v.audited, ValueKind::Audited)?,
            difference: one(&v.difference, ValueKind::Difference)?,
        });
    }
    Ok(StratifiedVariableAppraisal {
        universe_size: out.iter().map(|s| s.universe_size).sum(),
        sample_size: out.iter().map(|s| s.sample_size).sum(),
        examined: overall(&out, ValueKind::Examined, levels)?,
        audited: overall(&out, ValueKind::Audited, levels)?,
        difference: overall(&out, ValueKind::Difference, levels)?,
        strata: out,
    })
}
