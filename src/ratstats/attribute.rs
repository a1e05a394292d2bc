//! Unrestricted attribute appraisal with exact hypergeometric limits
//! (OIG TechDetails - AttributeAppraisal).
//!
//! With a universe of N items, a sample of n and x sample items having the characteristic, and
//! alpha = (1 - c) / 2 for a two-sided confidence c:
//!
//! ```text
//! lower limit L = the smallest M with P(X >= x | N, M, n) >= alpha   (L = 0 when x = 0)
//! upper limit U = the largest  M with P(X <= x | N, M, n) >= alpha   (U = N when x = n)
//! ```
//!
//! where X is hypergeometric (M items of N have the characteristic). Both tails are monotone in
//! M, so each limit is a binary search. N = 100, n = 10, x = 4 at 90% gives 16 to 68.
//!
//! Probabilities use Loader's saddle-point form of the binomial density (as R's `dhyper`), so
//! they keep ~14 significant digits even for universes of millions.
use serde::Serialize;

use super::error::{RatStatsError, Result};
use super::tdist::two_sided_tail;

/// ln(n!) - ln(sqrt(2 pi n) (n/e)^n) for n = 0..=15 (n = 0 is defined as 0).
const STIRLERR_SMALL: [f64; 16] = [
    0.0,
    0.081_061_466_795_327_26,
    0.041_340_695_955_409_3,
    0.027_677_925_684_998_34,
    0.020_790_672_103_765_093,
    0.016_644_691_189_821_193,
    0.013_876_128_823_070_748,
    0.011_896_709_945_891_77,
    0.010_411_265_261_972_096,
    0.009_255_462_182_712_733,
    0.008_330_563_433_362_87,
    0.007_573_675_487_951_841,
    0.006_942_840_107_209_53,
    0.006_408_994_188_004_207,
    0.005_951_370_112_758_847_5,
    0.005_554_733_551_962_801,
];

/// ln(2 pi).
const LN_2PI: f64 = 1.837_877_066_409_345_6;

/// Stirling's error term for integer n (series for n > 15).
fn stirlerr(n: f64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n <= 15.0 {
        return STIRLERR_SMALL[n as usize];
    }
    let nn = n * n;
    if n > 500.0 {
        (S0 - S1 / nn) / n
    } else if n > 80.0 {
        (S0 - (S1 - S2 / nn) / nn) / n
    } else if n > 35.0 {
        (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
    }
}

/// Deviance term `x ln(x/np) + np - x`, by series when x is near np (no cancellation).
fn bd0(x: f64, np: f64) -> f64 {
    if (x - np).abs() < 0.1 * (x + np) {
        let mut v = (x - np) / (x + np);
        let mut s = (x - np) * v;
        let mut ej = 2.0 * x * v;
        v *= v;
        for j in 1..1000 {
            ej *= v;
            let s1 = s + ej / (2 * j + 1) as f64;
            if s1 == s {
                return s1;
            }
            s = s1;
        }
        return s;
    }
    x * (x / np).ln() + np - x
}

/// Binomial density of x successes in n trials (p + q = 1), Loader (2000).
fn dbinom_raw(x: f64, n: f64, p: f64, q: f64) -> f64 {
    if p == 0.0 {
        return if x == 0.0 { 1.0 } else { 0.0 };
    }
    if q == 0.0 {
        return if x == n { 1.0 } else { 0.0 };
    }
    if x == 0.0 {
        if n == 0.0 {
            return 1.0;
        }
        let lc = if p < 0.1 { -bd0(n, n * q) - n * p } else { n * q.ln() };
        return lc.exp();
    }
    if x == n {
        let lc = if q < 0.1 { -bd0(n, n * p) - n * q } else { n * p.ln() };
        return lc.exp();
    }
    if x < 0.0 || x > n {
        return 0.0;
    }
    let lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
    let lf = LN_2PI + x.ln() + (-x / n).ln_1p();
    (lc - 0.5 * lf).exp()
}

/// P(X = x) for X hypergeometric: `m` marked items among `big_n`, `n` drawn.
pub fn hypergeometric_pmf(x: u64, big_n: u64, m: u64, n: u64) -> f64 {
    if m > big_n || n > big_n {
        return 0.0;
    }
    let b = big_n - m;
    if x > n || x > m || n - x > b {
        return 0.0;
    }
    if n == 0 {
        return 1.0;
    }
    let total = big_n as f64;
    let p = n as f64 / total;
    let q = (big_n - n) as f64 / total;
    let p1 = dbinom_raw(x as f64, m as f64, p, q);
    let p2 = dbinom_raw((n - x) as f64, b as f64, p, q);
    let p3 = dbinom_raw(n as f64, total, p, q);
    p1 * p2 / p3
}

/// P(X <= x).
pub fn hypergeometric_cdf(x: u64, big_n: u64, m: u64, n: u64) -> f64 {
    let lo = n.saturating_sub(big_n - m.min(big_n));
    let hi = n.min(m);
    if x >= hi {
        return 1.0;
    }
    if x < lo {
        return 0.0;
    }
    // Walk down from x with the pmf ratio; stop once terms no longer matter.
    let mut term = hypergeometric_pmf(x, big_n, m, n);
    let mut total = term;
    let (bn, mf, nf) = (big_n as f64, m as f64, n as f64);
    let mut k = x;
    while k > lo && term > 0.0 {
        let kf = k as f64;
        term *= kf * (bn - mf - nf + kf) / ((mf - kf + 1.0) * (nf - kf + 1.0));
        total += term;
        k -= 1;
        if term < total * 1e-17 && kf < (mf + 1.0) * (nf + 1.0) / (bn + 2.0) {
            break;
        }
    }
    total.min(1.0)
}

/// P(X >= x).
pub fn hypergeometric_sf_inclusive(x: u64, big_n: u64, m: u64, n: u64) -> f64 {
    let lo = n.saturating_sub(big_n - m.min(big_n));
    let hi = n.min(m);
    if x <= lo {
        return 1.0;
    }
    if x > hi {
        return 0.0;
    }
    let mut term = hypergeometric_pmf(x, big_n, m, n);
    let mut total = term;
    let (bn, mf, nf) = (big_n as f64, m as f64, n as f64);
    let mut k = x;
    while k < hi && term > 0.0 {
        let kf = k as f64;
        term *= (mf - kf) * (nf - kf) / ((kf + 1.0) * (bn - mf - nf + kf + 1.0));
        total += term;
        k += 1;
        if term < total * 1e-17 && kf + 1.0 > (mf + 1.0) * (nf + 1.0) / (bn + 2.0) {
            break;
        }
    }
    total.min(1.0)
}

/// Exact limits (numbers of universe items) for x of n at tail probability `alpha` each side.
pub(crate) fn exact_limits(big_n: u64, n: u64, x: u64, alpha: f64) -> (u64, u64) {
    // Feasible M: at least the x seen, and room for the n - x unmarked ones seen.
    let m_min = x;
    let m_max = big_n - (n - x);
    let lower = if x == 0 {
        0
    } else {
        // Smallest M with P(X >= x | M) >= alpha; the tail grows with M.
        let (mut lo, mut hi) = (m_min, m_max);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if hypergeometric_sf_inclusive(x, big_n, mid, n) >= alpha {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    };
    let upper = if x == n {
        big_n
    } else {
        // Largest M with P(X <= x | M) >= alpha; the tail shrinks as M grows.
        let (mut lo, mut hi) = (m_min, m_max);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if hypergeometric_cdf(x, big_n, mid, n) >= alpha {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    };
    (lower, upper)
}

/// Limits at one confidence level.
#[derive(Debug, Clone, Serialize)]
pub struct AttributeLimits {
    /// Two-sided confidence level as a fraction (0.90).
    pub confidence: f64,
    /// Items in the universe.
    pub lower_quantity: u64,
    pub upper_quantity: u64,
    /// As a percent of the universe.
    pub lower_percent: f64,
    pub upper_percent: f64,
}

/// An unrestricted attribute appraisal.
#[derive(Debug, Clone, Serialize)]
pub struct AttributeAppraisal {
    pub universe_size: u64,
    pub sample_size: u64,
    /// Sample items with the characteristic of interest.
    pub sample_errors: u64,
    /// x / n as a percent.
    pub sample_percent: f64,
    /// N * x / n.
    pub point_estimate_quantity: f64,
    pub limits: Vec<AttributeLimits>,
}

/// Appraises x items with the characteristic in a sample of n from N, at each two-sided level.
pub fn appraise_attribute(universe_size: u64, sample_size: u64, errors: u64, levels: &[f64]) -> Result<AttributeAppraisal> {
    if sample_size == 0 {
        return Err(RatStatsError::SampleTooSmall { sample_size, min: 1 });
    }
    if universe_size < sample_size {
        return Err(RatStatsError::UniverseSmallerThanSample { universe_size, sample_size });
    }
    if errors > sample_size {
        return Err(RatStatsError::ErrorsExceedSample { errors, sample_size });
    }
    let limits = levels
        .iter()
        .map(|&c| {
            let alpha = two_sided_tail(c)?;
            let (lo, hi) = exact_limits(universe_size, sample_size, errors, alpha);
            Ok(AttributeLimits {
                confidence: c,
                lower_quantity: lo,
                upper_quantity: hi,
                lower_percent: 100.0 * lo as f64 / universe_size as f64,
                upper_percent: 100.0 * hi as f64 / universe_size as f64,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let rate = errors as f64 / sample_size as f64;
    Ok(AttributeAppraisal {
        universe_size,
        sample_size,
        sample_errors: errors,
        sample_percent: 100.0 * rate,
        point_estimate_quantity: rate * universe_size as f64,
        limits,
    })
}
