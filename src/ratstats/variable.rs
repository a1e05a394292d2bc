//! Unrestricted variable appraisal (RAT-STATS "Variable Appraisals - Unrestricted").
//!
//! For a simple random sample of n items from a universe of N, with sample values y_i:
//!
//! ```text
//! mean            ybar = sum(y) / n
//! std deviation   s    = sqrt( sum((y - ybar)^2) / (n - 1) )
//! point estimate  Y    = N * ybar
//! SE (mean)       se   = sqrt( (1 - n/N) * s^2 / n )        (finite population correction)
//! SE (total)      SE   = N * se
//! limits          Y -/+ t * SE,   t = t quantile at (1 + c)/2 with n - 1 df, c = 80/90/95%
//! precision       t * SE;  percent = 100 * t * SE / Y, reported as 0 when Y <= 0
//! ```
//!
//! Difference values are audited minus examined (OIG TechDetails - UnresVariableAppraisal), so
//! an overpayment shows as a negative difference and a negative point estimate.
use serde::Serialize;

use super::error::{RatStatsError, Result};
use super::tdist::t_two_sided;

/// RAT-STATS reports two-sided 80, 90 and 95 percent limits.
pub const DEFAULT_LEVELS: [f64; 3] = [0.80, 0.90, 0.95];

/// Which amounts a set of values holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ValueKind {
    Examined,
    Audited,
    /// Audited minus examined.
    Difference,
}

impl ValueKind {
    /// The heading RAT-STATS prints.
    pub fn label(self) -> &'static str {
        match self {
            ValueKind::Examined => "EXAMINED",
            ValueKind::Audited => "AUDITED",
            ValueKind::Difference => "DIFFERENCE",
        }
    }
}

/// Limits at one confidence level.
#[derive(Debug, Clone, Serialize)]
pub struct ConfidenceLimits {
    /// Two-sided confidence level as a fraction (0.90).
    pub confidence: f64,
    pub lower_limit: f64,
    pub upper_limit: f64,
    /// Half-width of the interval: factor * standard error of the total.
    pub precision_amount: f64,
    /// 100 * precision / point estimate; 0 when the point estimate is not positive.
    pub precision_percent: f64,
    /// The t value (or Z value, for stratified overall limits) used.
    pub factor: f64,
}

/// Builds the limits around `point_estimate` for a standard error of the total `se_total`.
pub(crate) fn limits(point_estimate: f64, se_total: f64, confidence: f64, factor: f64) -> ConfidenceLimits {
    let precision_amount = factor * se_total;
    // RAT-STATS shows no precision percent for a non-positive estimate (it would be negative or
    // undefined); it prints 0.
    let precision_percent = if point_estimate > 0.0 { 100.0 * precision_amount / point_estimate } else { 0.0 };
    ConfidenceLimits {
        confidence,
        lower_limit: point_estimate - precision_amount,
        upper_limit: point_estimate + precision_amount,
        precision_amount,
        precision_percent,
        factor,
    }
}

/// Appraisal of one kind of values.
#[derive(Debug, Clone, Serialize)]
pub struct VariableStats {
    pub kind: ValueKind,
    pub universe_size: u64,
    pub sample_size: u64,
    /// Sum of the sample values.
    pub sample_total: f64,
    /// Sample items whose value is not zero.
    pub nonzero_items: u64,
    pub mean: f64,
    pub std_dev: f64,
    /// Adjusted Fisher-Pearson skewness G1; `None` when n < 3 or all values are equal.
    pub skewness: Option<f64>,
    /// Excess kurtosis G2; `None` when n < 4 or all values are equal.
    pub kurtosis: Option<f64>,
    pub se_mean: f64,
    pub se_total: f64,
    pub point_estimate: f64,
    /// Degrees of freedom of the t values (n - 1).
    pub degrees_of_freedom: u64,
    pub limits: Vec<ConfidenceLimits>,
}

/// Neumaier-compensated sum, so long columns of cents add up to the cent.
fn sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for v in values {
        let t = s + v;
        c += if s.abs() >= v.abs() { (s - t) + v } else { (v - t) + s };
        s = t;
    }
    s + c
}

fn check_levels(levels: &[f64]) -> Result<()> {
    for &c in levels {
        if !(c > 0.0 && c < 1.0) {
            return Err(RatStatsError::InvalidConfidence(c));
        }
    }
    Ok(())
}

/// Appraises one column of sample values drawn from a universe of `universe_size` items.
///
/// Errors: fewer than 2 values, a universe smaller than the sample, a non-finite value or a
/// confidence level outside (0, 1).
pub fn appraise_values(universe_size: u64, values: &[f64], kind: ValueKind, levels: &[f64]) -> Result<VariableStats> {
    let n = values.len() as u64;
    if n < 2 {
        return Err(RatStatsError::SampleTooSmall { sample_size: n, min: 2 });
    }
    if universe_size < n {
        return Err(RatStatsError::UniverseSmallerThanSample { universe_size, sample_size: n });
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(RatStatsError::NonFiniteValue { index });
    }
    check_levels(levels)?;
    let nf = n as f64;
    let big_n = universe_size as f64;
    let sample_total = sum(values.iter().copied());
    let mean = sample_total / nf;
    // Two-pass central moments: no cancellation between sum(y^2) and n*ybar^2.
    let m2 = sum(values.iter().map(|y| (y - mean).powi(2)));
    let m3 = sum(values.iter().map(|y| (y - mean).powi(3)));
    let m4 = sum(values.iter().map(|y| (y - mean).powi(4)));
    let variance = m2 / (nf - 1.0);
    let std_dev = variance.sqrt();
    let (skewness, kurtosis) = shape(nf, m2, m3, m4);
    let se_mean = ((1.0 - nf / big_n) * variance / nf).max(0.0).sqrt();
    let se_total = big_n * se_mean;
    let point_estimate = big_n * mean;
    let df = n - 1;
    let limits = levels.iter().map(|&c| Ok(limits(point_estimate, se_total, c, t_two_sided(df, c)?))).collect::<Result<Vec<_>>>()?;
    Ok(VariableStats {
        kind,
        universe_size,
        sample_size: n,
        sample_total,
        nonzero_items: values.iter().filter(|v| **v != 0.0).count() as u64,
        mean,
        std_dev,
        skewness,
        kurtosis,
        se_mean,
        se_total,
        point_estimate,
        degrees_of_freedom: df,
        limits,
    })
}

/// Sample skewness and kurtosis in the bias-adjusted forms of SAS (VARDEF=DF) and Excel's
/// SKEW/KURT, from the sums of 2nd, 3rd and 4th powers of deviations:
///
/// ```text
/// G1 = n / ((n-1)(n-2)) * sum(d^3) / s^3
/// G2 = n(n+1) / ((n-1)(n-2)(n-3)) * sum(d^4) / s^4 - 3 (n-1)^2 / ((n-2)(n-3))
/// ```
fn shape(n: f64, m2: f64, m3: f64, m4: f64) -> (Option<f64>, Option<f64>) {
    if m2 <= 0.0 {
        return (None, None);
    }
    let s2 = m2 / (n - 1.0);
    let s = s2.sqrt();
    let skew = (n >= 3.0).then(|| n / ((n - 1.0) * (n - 2.0)) * m3 / (s2 * s));
    let kurt = (n >= 4.0)
        .then(|| n * (n + 1.0) / ((n - 1.0) * (n - 2.0) * (n - 3.0)) * m4 / (s2 * s2) - 3.0 * (n - 1.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0)));
    (skew, kurt)
}

/// The sample's value columns. Give any one, or two (the third is derived: difference =
/// audited - examined), or all three.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SampleValues {
    pub examined: Option<Vec<f64>>,
    pub audited: Option<Vec<f64>>,
    pub difference: Option<Vec<f64>>,
}

impl SampleValues {
    /// Only examined amounts.
    pub fn examined(v: Vec<f64>) -> Self {
        SampleValues { examined: Some(v), ..Default::default() }
    }
    /// Only audited amounts.
    pub fn audited(v: Vec<f64>) -> Self {
        SampleValues { audited: Some(v), ..Default::default() }
    }
    /// Only difference amounts.
    pub fn difference(v: Vec<f64>) -> Self {
        SampleValues { difference: Some(v), ..Default::default() }
    }
    /// Examined and audited amounts; differences are derived.
    pub fn examined_audited(examined: Vec<f64>, audited: Vec<f64>) -> Self {
        SampleValues { examined: Some(examined), audited: Some(audited), difference: None }
    }

    /// Fills in the third column when two are given, as RAT-STATS does.
    pub fn completed(&self) -> Result<SampleValues> {
        let lens: Vec<usize> = [&self.examined, &self.audited, &self.difference].iter().filter_map(|c| c.as_ref().map(Vec::len)).collect();
        if lens.is_empty() {
            return Err(RatStatsError::NoValues);
        }
        if let Some(&other) = lens.iter().find(|&&l| l != lens[0]) {
            return Err(RatStatsError::LengthMismatch { first: lens[0], second: other });
        }
        let zip = |a: &[f64], b: &[f64], f: fn(f64, f64) -> f64| a.iter().zip(b).map(|(x, y)| f(*x, *y)).collect();
        let mut out = self.clone();
        match (&self.examined, &self.audited, &self.difference) {
            (Some(e), Some(a), None) => out.difference = Some(zip(a, e, |a, e| a - e)),
            (Some(e), None, Some(d)) => out.audited = Some(zip(e, d, |e, d| e + d)),
            (None, Some(a), Some(d)) => out.examined = Some(zip(a, d, |a, d| a - d)),
            _ => {}
        }
        Ok(out)
    }

    /// Number of sample items.
    pub fn len(&self) -> usize {
        [&self.examined, &self.audited, &self.difference].iter().find_map(|c| c.as_ref().map(Vec::len)).unwrap_or(0)
    }

    /// True when no column holds values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A full unrestricted variable appraisal: one block per kind of value present.
#[derive(Debug, Clone, Serialize)]
pub struct UnrestrictedVariableAppraisal {
    pub universe_size: u64,
    pub sample_size: u64,
    pub examined: Option<VariableStats>,
    pub audited: Option<VariableStats>,
    pub difference: Option<VariableStats>,
}

impl UnrestrictedVariableAppraisal {
    /// The blocks present, in RAT-STATS's column order.
    pub fn blocks(&self) -> Vec<&VariableStats> {
        [&self.examined, &self.audited, &self.difference].into_iter().flatten().collect()
    }
}

/// Appraises every value column given (deriving the third from two).
pub fn appraise_unrestricted(universe_size: u64, values: &SampleValues, levels: &[f64]) -> Result<UnrestrictedVariableAppraisal> {
    let v = values.completed()?;
    let one = |col: &Option<Vec<f64>>, kind| col.as_ref().map(|c| appraise_values(universe_size, c, kind, levels)).transpose();
    Ok(UnrestrictedVariableAppraisal {
        universe_size,
        sample_size: v.len() as u64,
        examined: one(&v.examined, ValueKind::Examined)?,
        audited: one(&v.audited, ValueKind::Audited)?,
        difference: one(&v.difference, ValueKind::Difference)?,
    })
}
