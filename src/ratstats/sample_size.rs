//! Sample-size estimation (RAT-STATS "Sample Size Determination").
//!
//! The OIG technical details in the spec do not cover these modules, so the formulas are
//! stated here and in docs/ratstats.md:
//!
//! * Variable (unrestricted, from a probe sample or a known standard deviation): the smallest n
//!   whose normal-theory half-width `Z * N * s * sqrt((1 - n/N)/n)` is at most the desired
//!   precision E, i.e. `n = ceil(n0 / (1 + n0/N))` with `n0 = (Z N s / E)^2`.
//! * Attribute: the smallest n for which the exact hypergeometric interval (the one
//!   [`appraise_attribute`](super::attribute::appraise_attribute) reports) around the
//!   anticipated number of errors, `round(rate * n)`, lies within `rate -/+ precision`.
use serde::Serialize;

use super::attribute::exact_limits;
use super::error::{RatStatsError, Result};
use super::tdist::{two_sided_tail, z_two_sided};

fn invalid(msg: impl Into<String>) -> RatStatsError {
    RatStatsError::InvalidSampleSizeInput(msg.into())
}

/// Sample size for estimating a total to within `precision_amount` (dollars) at two-sided
/// `confidence`, given the standard deviation `std_dev` of item values in a universe of
/// `universe_size`. At least 2 (an appraisal needs 2), at most the universe.
pub fn variable_sample_size(universe_size: u64, std_dev: f64, precision_amount: f64, confidence: f64) -> Result<u64> {
    if universe_size < 2 {
        return Err(invalid("the universe must hold at least 2 items"));
    }
    if !(std_dev.is_finite() && std_dev >= 0.0) {
        return Err(invalid("the standard deviation must be a finite, non-negative number"));
    }
    if !(precision_amount.is_finite() && precision_amount > 0.0) {
        return Err(invalid("the desired precision must be a positive amount"));
    }
    let z = z_two_sided(confidence)?;
    let big_n = universe_size as f64;
    let n0 = (z * big_n * std_dev / precision_amount).powi(2);
    let n = n0 / (1.0 + n0 / big_n);
    // A hair of slack so an exact integer that came out as 30.000000000001 stays 30.
    let n = (n - 1e-9).ceil().max(2.0);
    Ok((n as u64).min(universe_size))
}

/// One cell of a variable sample-size table.
#[derive(Debug, Clone, Serialize)]
pub struct VariableSampleSize {
    pub confidence: f64,
    /// Desired precision as a percent of the point estimate.
    pub precision_percent: f64,
    pub precision_amount: f64,
    pub sample_size: u64,
}

/// Sample sizes from a probe sample, for each confidence level and precision percent.
#[derive(Debug, Clone, Serialize)]
pub struct VariableSampleSizeTable {
    pub universe_size: u64,
    pub probe_size: u64,
    pub probe_mean: f64,
    pub probe_std_dev: f64,
    /// N * probe mean: the figure the precision percents refer to.
    pub estimated_total: f64,
    pub cells: Vec<VariableSampleSize>,
}

/// RAT-STATS "Unrestricted using a probe sample": the probe's mean and standard deviation
/// stand in for the universe's; precision is a percent of the estimated total N * mean.
pub fn variable_sample_size_from_probe(
    universe_size: u64,
    probe: &[f64],
    precision_percents: &[f64],
    levels: &[f64],
) -> Result<VariableSampleSizeTable> {
    let n = probe.len();
    if n < 2 {
        return Err(RatStatsError::SampleTooSmall { sample_size: n as u64, min: 2 });
    }
    if universe_size < n as u64 {
        return Err(RatStatsError::UniverseSmallerThanSample { universe_size, sample_size: n as u64 });
    }
    if let Some(index) = probe.iter().position(|v| !v.is_finite()) {
        return Err(RatStatsError::NonFiniteValue { index });
    }
    let mean = probe.iter().sum::<f64>() / n as f64;
    let sd = (probe.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0)).sqrt();
    let total = mean * universe_size as f64;
    if total == 0.0 {
        return Err(invalid("the probe mean is zero, so a percent precision is meaningless"));
    }
    let mut cells = Vec::new();
    for &c in levels {
        for &pct in precision_percents {
            let amount = (pct / 100.0 * total).abs();
            cells.push(VariableSampleSize {
                confidence: c,
                precision_percent: pct,
                precision_amount: amount,
                sample_size: variable_sample_size(universe_size, sd, amount, c)?,
            });
        }
    }
    Ok(VariableSampleSizeTable { universe_size, probe_size: n as u64, probe_mean: mean, probe_std_dev: sd, estimated_total: total, cells })
}

/// An attribute sample size and the interval it achieves.
#[derive(Debug, Clone, Serialize)]
pub struct AttributeSampleSize {
    pub universe_size: u64,
    pub confidence: f64,
    /// Anticipated rate of occurrence (fraction).
    pub anticipated_rate: f64,
    /// Desired precision (fraction, each side).
    pub precision: f64,
    pub sample_size: u64,
    /// round(rate * n): the errors the sample is expected to show.
    pub expected_errors: u64,
    /// The exact limits (universe items) those errors would give.
    pub lower_quantity: u64,
    pub upper_quantity: u64,
}

/// The smallest sample whose exact two-sided interval at `confidence` stays within
/// `anticipated_rate -/+ precision` (fractions of the universe).
///
/// The criterion is monotone in n apart from the rounding of the expected errors, so we binary
/// search for the first n that meets it and then step back over any smaller n that also does.
pub fn attribute_sample_size(universe_size: u64, anticipated_rate: f64, precision: f64, confidence: f64) -> Result<AttributeSampleSize> {
    if universe_size == 0 {
        return Err(invalid("the universe is empty"));
    }
    if !(anticipated_rate.is_finite() && (0.0..=1.0).contains(&anticipated_rate)) {
        return Err(invalid("the anticipated rate must lie between 0 and 1"));
    }
    if !(precision.is_finite() && precision > 0.0 && precision < 1.0) {
        return Err(invalid("the precision must lie strictly between 0 and 1"));
    }
    let alpha = two_sided_tail(confidence)?;
    let big_n = universe_size as f64;
    let check = |n: u64| -> (bool, u64, u64, u64) {
        let x = ((anticipated_rate * n as f64).round() as u64).min(n);
        let (lo, hi) = exact_limits(universe_size, n, x, alpha);
        // Small tolerance: limits are whole items, precision is a decimal fraction.
        let ok = hi as f64 / big_n - anticipated_rate <= precision + 1e-12 && anticipated_rate - lo as f64 / big_n <= precision + 1e-12;
        (ok, x, lo, hi)
    };
    // A census always qualifies (its interval is the exact count).
    let (mut lo, mut hi) = (1u64, universe_size);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if check(mid).0 {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let mut n = lo;
    while n > 1 && check(n - 1).0 {
        n -= 1;
    }
    let (_, x, l, u) = check(n);
    Ok(AttributeSampleSize {
        universe_size,
        confidence,
        anticipated_rate,
        precision,
        sample_size: n,
        expected_errors: x,
        lower_quantity: l,
        upper_quantity: u,
    })
}
