//! Exact Student-t and normal quantiles, std-only.
//!
//! RAT-STATS computes the t value for n - 1 degrees of freedom exactly (the OIG spec warns that
//! Cornish-Fisher style approximations give limits that do not match). We solve
//! `P(T > t) = q` by safeguarded Newton iteration, evaluating the tail in double-double
//! arithmetic (about 32 significant digits) so that the only error left is the final rounding
//! to `f64`. The tail uses the regularized incomplete beta function through its power series
//! (Abramowitz & Stegun 26.5.4), whose terms are all positive:
//!
//! ```text
//! x = nu / (nu + t^2),  y = t^2 / (nu + t^2),  a = nu / 2
//! P(T > t) = I_x(a, 1/2) / 2
//! I_z(p, q) = z^p (1-z)^q / (p B(p,q)) * [1 + sum_{n>=0} prod_{k=0..n} (p+q+k)/(p+1+k) * z^(n+1)]
//! ```
//!
//! When `x <= 1/2` the series for `I_x(a, 1/2)` converges at least geometrically in `x`; otherwise
//! we sum `I_y(1/2, a)` (an exponential-like series, about `a*y = t^2/2` terms) and take
//! `1 - I_y`, which double-double makes free of cancellation. `1/B(a, 1/2)` is
//! `Gamma(a+1/2) / (Gamma(a) sqrt(pi))`; the gamma ratio comes from an exact product for
//! `a < 60` and from its asymptotic series in `1/a` (rational coefficients with power-of-two
//! denominators, so exact in binary) beyond. No `ln Gamma` differences are used: those lose
//! about `ln Gamma(a) * 1e-16` absolutely, i.e. 4e-12 relative at 10,000 df, the same order as
//! the drift we measured in the OIG's own tvalueTable.csv at large df.
use super::error::{RatStatsError, Result};

/// A double-double number `hi + lo` with `|lo| <= ulp(hi)/2`.
#[derive(Clone, Copy, Debug)]
struct Dd {
    hi: f64,
    lo: f64,
}

/// Veltkamp/Dekker splitter, so `two_prod` is exact without relying on a hardware FMA.
const SPLITTER: f64 = 134_217_729.0; // 2^27 + 1

fn split(a: f64) -> (f64, f64) {
    let t = SPLITTER * a;
    let hi = t - (t - a);
    (hi, a - hi)
}

fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

fn quick_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

impl Dd {
    const fn new(hi: f64, lo: f64) -> Dd {
        Dd { hi, lo }
    }
    fn from(x: f64) -> Dd {
        Dd { hi: x, lo: 0.0 }
    }
    fn prod(a: f64, b: f64) -> Dd {
        let (hi, lo) = two_prod(a, b);
        Dd { hi, lo }
    }
    fn add(self, o: Dd) -> Dd {
        let (s, e) = two_sum(self.hi, o.hi);
        let (t, f) = two_sum(self.lo, o.lo);
        let (s, e) = quick_two_sum(s, e + t);
        let (hi, lo) = quick_two_sum(s, e + f);
        Dd { hi, lo }
    }
    fn neg(self) -> Dd {
        Dd { hi: -self.hi, lo: -self.lo }
    }
    fn sub(self, o: Dd) -> Dd {
        self.add(o.neg())
    }
    fn mul(self, o: Dd) -> Dd {
        let (p, e) = two_prod(self.hi, o.hi);
        let (hi, lo) = quick_two_sum(p, e + (self.hi * o.lo + self.lo * o.hi));
        Dd { hi, lo }
    }
    fn mul_f(self, b: f64) -> Dd {
        let (p, e) = two_prod(self.hi, b);
        let (hi, lo) = quick_two_sum(p, e + self.lo * b);
        Dd { hi, lo }
    }
    fn div(self, b: Dd) -> Dd {
        let q1 = self.hi / b.hi;
        let r = self.sub(b.mul_f(q1));
        let q2 = r.hi / b.hi;
        let r = r.sub(b.mul_f(q2));
        let q3 = r.hi / b.hi;
        let (hi, lo) = quick_two_sum(q1, q2);
        Dd { hi, lo }.add(Dd::from(q3))
    }
    fn div_f(self, b: f64) -> Dd {
        self.div(Dd::from(b))
    }
    fn sqrt(self) -> Dd {
        if self.hi <= 0.0 {
            return Dd::from(0.0);
        }
        // One Newton step on the f64 root doubles its precision (Karp's trick).
        let x = 1.0 / self.hi.sqrt();
        let ax = self.hi * x;
        let diff = self.sub(Dd::prod(ax, ax));
        let (hi, lo) = two_sum(ax, diff.hi * (x * 0.5));
        Dd { hi, lo }
    }
    fn powi(self, mut n: u64) -> Dd {
        let mut base = self;
        let mut acc = Dd::from(1.0);
        while n > 0 {
            if n & 1 == 1 {
                acc = acc.mul(base);
            }
            n >>= 1;
            if n > 0 {
                base = base.mul(base);
            }
        }
        acc
    }
    fn to_f64(self) -> f64 {
        self.hi + self.lo
    }
}

/// 1/sqrt(pi) and sqrt(pi)/2 to double-double precision.
const INV_SQRT_PI: Dd = Dd::new(0.564_189_583_547_756_3, 7.667_729_806_582_94e-18);
const SQRT_PI_HALF: Dd = Dd::new(0.886_226_925_452_758, -3.833_293_249_912_899_3e-17);

/// Coefficients c_k of Gamma(a+1/2)/Gamma(a) = sqrt(a) * sum_k c_k a^-k (derived from the
/// Stirling series; all are exact binary fractions).
const GAMMA_HALF_RATIO_SERIES: [f64; 16] = [
    1.0,
    -1.0 / 8.0,
    1.0 / 128.0,
    5.0 / 1024.0,
    -21.0 / 32768.0,
    -399.0 / 262_144.0,
    869.0 / 4_194_304.0,
    39325.0 / 33_554_432.0,
    -334_477.0 / 2_147_483_648.0,
    -28_717_403.0 / 17_179_869_184.0,
    59_697_183.0 / 274_877_906_944.0,
    8_400_372_435.0 / 2_199_023_255_552.0,
    -34_429_291_905.0 / 70_368_744_177_664.0,
    -7_199_255_611_995.0 / 562_949_953_421_312.0,
    14_631_594_576_045.0 / 9_007_199_254_740_992.0,
    4_251_206_967_062_925.0 / 72_057_594_037_927_936.0,
];

/// Gamma((nu+1)/2) / Gamma(nu/2) in double-double.
fn gamma_half_ratio(nu: u64) -> Dd {
    let a = nu as f64 / 2.0;
    if a >= 60.0 {
        // Truncation error below c_16 / 60^16 ~ 3e-31.
        let h = Dd::from(1.0).div_f(a);
        let mut s = Dd::from(GAMMA_HALF_RATIO_SERIES[15]);
        for &c in GAMMA_HALF_RATIO_SERIES[..15].iter().rev() {
            s = s.mul(h).add(Dd::from(c));
        }
        return Dd::from(a).sqrt().mul(s);
    }
    // R(1/2) = 1/sqrt(pi), R(1) = sqrt(pi)/2, and R(b+1) = R(b) (b+1/2) / b.
    let (mut r, mut b) = if !nu.is_multiple_of(2) { (INV_SQRT_PI, 0.5) } else { (SQRT_PI_HALF, 1.0) };
    while b < a {
        r = r.mul_f(b + 0.5).div_f(b);
        b += 1.0;
    }
    r
}

/// Upper tail `P(T > t)` for `t >= 0` in double-double, and the density at `t` (for Newton).
fn t_upper_tail_dd(nu: u64, ratio: Dd, t: f64) -> (Dd, f64) {
    let nuf = nu as f64;
    let a = nuf / 2.0;
    let t2 = Dd::prod(t, t);
    let d = t2.add(Dd::from(nuf));
    let x = Dd::from(nuf).div(d);
    let y = t2.div(d);
    let xa = if nu.is_multiple_of(2) { x.powi(nu / 2) } else { x.powi(nu / 2).mul(x.sqrt()) };
    let sy = y.sqrt();
    let pdf = (ratio.mul(INV_SQRT_PI).to_f64() / nuf.sqrt()) * xa.mul(x.sqrt()).to_f64();
    // Which series: the one whose argument is at most 1/2 converges fastest.
    let (p, q, z) = if x.hi <= 0.5 { (a, 0.5, x) } else { (0.5, a, y) };
    let mut sum = Dd::from(1.0);
    let mut term = Dd::from(1.0);
    let mut n = 0.0f64;
    // The cap only guards absurd arguments (tails far below 1e-300); real use needs < 200 terms.
    for _ in 0..5_000_000u32 {
        term = term.mul_f(p + q + n).div_f(p + 1.0 + n).mul(z);
        sum = sum.add(term);
        n += 1.0;
        // Stop once the terms are negligible and shrinking.
        if term.hi <= sum.hi * 1e-34 && (p + q + n) * z.hi < p + 1.0 + n {
            break;
        }
    }
    let tail = if x.hi <= 0.5 {
        // I_x(a, 1/2) = x^a sqrt(y) R / (a sqrt(pi)) * sum ; tail = I/2
        xa.mul(sy).mul(ratio).mul(INV_SQRT_PI).div_f(a).mul(sum).mul_f(0.5)
    } else {
        // I_y(1/2, a) = 2 sqrt(y) x^a R / sqrt(pi) * sum ; tail = (1 - I)/2
        let i = sy.mul(xa).mul(ratio).mul(INV_SQRT_PI).mul_f(2.0).mul(sum);
        Dd::from(1.0).sub(i).mul_f(0.5)
    };
    (tail, pdf)
}

/// Upper-tail probability `P(T > t)` of Student's t with `df` degrees of freedom.
pub fn t_upper_tail(df: u64, t: f64) -> Result<f64> {
    if df == 0 {
        return Err(RatStatsError::InvalidDegreesOfFreedom(df));
    }
    if t.is_nan() {
        return Err(RatStatsError::InvalidProbability(t));
    }
    let ratio = gamma_half_ratio(df);
    if t >= 0.0 {
        Ok(t_upper_tail_dd(df, ratio, t).0.to_f64())
    } else {
        Ok(Dd::from(1.0).sub(t_upper_tail_dd(df, ratio, -t).0).to_f64())
    }
}

/// The `t` with `P(T > t) = q` (an upper-tail quantile) for `df` degrees of freedom.
///
/// Accurate to the last bit or two of an `f64`: see the module notes.
pub fn t_quantile_upper(df: u64, q: f64) -> Result<f64> {
    if df == 0 {
        return Err(RatStatsError::InvalidDegreesOfFreedom(df));
    }
    if !(q > 0.0 && q < 1.0) {
        return Err(RatStatsError::InvalidProbability(q));
    }
    if q == 0.5 {
        return Ok(0.0);
    }
    if q > 0.5 {
        // Symmetry; 1 - q is exact for q in [0.5, 1).
        return Ok(-t_quantile_upper(df, 1.0 - q)?);
    }
    let ratio = gamma_half_ratio(df);
    let nu = df as f64;
    // Starting point only (closed forms for 1 and 2 df, Cornish-Fisher from z otherwise); the
    // exact answer comes from the Newton iteration on the exact tail below.
    let mut t = match df {
        1 => 1.0 / (std::f64::consts::PI * q).tan(),
        2 => (1.0 - 2.0 * q) / (2.0 * q * (1.0 - q)).sqrt(),
        _ => {
            let z = normal_quantile_as241(1.0 - q);
            let (z2, z3) = (z * z, z * z * z);
            let g1 = (z3 + z) / 4.0;
            let g2 = (5.0 * z3 * z2 + 16.0 * z3 + 3.0 * z) / 96.0;
            let g3 = (3.0 * z3 * z2 * z2 + 19.0 * z3 * z2 + 17.0 * z3 - 15.0 * z) / 384.0;
            z + g1 / nu + g2 / (nu * nu) + g3 / (nu * nu * nu)
        }
    };
    if !(t.is_finite() && t > 0.0) {
        t = 1.0;
    }
    // Safeguarded Newton: keep a bracket [lo, hi] around the root (the tail decreases in t).
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    let target = Dd::from(q);
    for _ in 0..400 {
        let (tail, pdf) = t_upper_tail_dd(df, ratio, t);
        let diff = tail.sub(target).to_f64();
        if diff == 0.0 {
            return Ok(t);
        }
        if diff > 0.0 {
            lo = t;
        } else {
            hi = t;
        }
        let step = diff / pdf;
        if step.is_finite() && step.abs() <= f64::EPSILON * t {
            // Newton converges quadratically, so after a step this small `t + step` is the
            // root rounded to f64.
            return Ok(t + step);
        }
        let mut next = t + step;
        if !(step.is_finite() && next > lo && next < hi) {
            next = if hi.is_finite() { 0.5 * (lo + hi) } else { 2.0 * t };
        }
        if next == t {
            return Ok(t);
        }
        t = next;
    }
    Ok(t)
}

/// The exact upper-tail probability `(1 - c) / 2` of a two-sided confidence level `c`.
///
/// Levels are decimals (0.9, 0.975), which binary cannot hold; `1 - 0.975` in `f64` is off by
/// 2e-15 relative, which moves a t value by a few units in the 15th digit. So when `c` is a
/// decimal with at most 6 places we form the tail from exact integers, rounding only once.
pub fn two_sided_tail(confidence: f64) -> Result<f64> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(RatStatsError::InvalidConfidence(confidence));
    }
    let scaled = confidence * 1e6;
    let k = scaled.round();
    if (scaled - k).abs() < 1e-6 && k > 0.0 && k < 1e6 {
        Ok((1e6 - k) / 2e6)
    } else {
        Ok((1.0 - confidence) / 2.0)
    }
}

/// The t value RAT-STATS uses for a two-sided `confidence` interval with `df` degrees of
/// freedom: the `(1 + confidence) / 2` quantile. `t_two_sided(49, 0.90)` is 1.676550892617...
pub fn t_two_sided(df: u64, confidence: f64) -> Result<f64> {
    t_quantile_upper(df, two_sided_tail(confidence)?)
}

/// The normal deviate for a two-sided `confidence` interval (RAT-STATS's Z for stratified
/// overall limits): 1.2815515655446004, 1.6448536269514726, 1.9599639845400543 at 80/90/95%
/// (the correctly rounded deviates).
pub fn z_two_sided(confidence: f64) -> Result<f64> {
    Ok(normal_upper_quantile(two_sided_tail(confidence)?))
}

/// Standard normal quantile `Phi^-1(p)`.
pub fn normal_quantile(p: f64) -> Result<f64> {
    if !(p > 0.0 && p < 1.0) {
        return Err(RatStatsError::InvalidProbability(p));
    }
    if p < 0.5 {
        Ok(-normal_upper_quantile(p))
    } else {
        // For p >= 0.5, 1 - p is exact.
        Ok(normal_upper_quantile(1.0 - p))
    }
}

const LN2: Dd = Dd::new(std::f64::consts::LN_2, 2.319_046_813_846_299_6e-17);
const INV_SQRT_2PI: Dd = Dd::new(0.398_942_280_401_432_7, -2.492_327_202_277_73e-17);

/// exp in double-double for moderate arguments: exp(x) = 2^k exp(r/1024)^1024.
fn exp_dd(x: Dd) -> Dd {
    let k = (x.hi / LN2.hi).round();
    let s = x.sub(LN2.mul_f(k)).mul_f(1.0 / 1024.0);
    let (mut term, mut sum) = (Dd::from(1.0), Dd::from(1.0));
    for i in 1..30 {
        term = term.mul(s).div_f(i as f64);
        sum = sum.add(term);
        if term.hi.abs() < 1e-36 {
            break;
        }
    }
    for _ in 0..10 {
        sum = sum.mul(sum);
    }
    let scale = 2f64.powi(k as i32);
    Dd { hi: sum.hi * scale, lo: sum.lo * scale }
}

/// Upper normal tail for 0 <= z <= 8 in double-double:
/// Q(z) = 1/2 - phi(z) * sum_k z^(2k+1) / (1*3*...*(2k+1)), all terms positive.
fn normal_upper_tail_dd(z: f64) -> (Dd, f64) {
    let z2 = Dd::prod(z, z);
    let phi = exp_dd(z2.mul_f(-0.5)).mul(INV_SQRT_2PI);
    let mut term = Dd::from(z);
    let mut sum = term;
    let mut k = 1.0f64;
    while k < 1000.0 {
        term = term.mul(z2).div_f(2.0 * k + 1.0);
        sum = sum.add(term);
        k += 1.0;
        if term.hi < sum.hi * 1e-34 && z2.hi < 2.0 * k + 1.0 {
            break;
        }
    }
    (Dd::from(0.5).sub(phi.mul(sum)), phi.to_f64())
}

/// The `z` with `P(Z > z) = q`, for `0 < q <= 1/2`: AS 241, then Newton steps on the
/// double-double tail so the result is the correctly rounded deviate (AS 241 alone can be a
/// unit off in the last place).
fn normal_upper_quantile(q: f64) -> f64 {
    let mut z = -normal_quantile_as241(q);
    if !(0.0..=8.0).contains(&z) {
        return z;
    }
    for _ in 0..8 {
        let (tail, pdf) = normal_upper_tail_dd(z);
        let step = tail.sub(Dd::from(q)).to_f64() / pdf;
        if !step.is_finite() {
            break;
        }
        let next = z + step;
        if step.abs() <= f64::EPSILON * z.max(f64::MIN_POSITIVE) || next == z {
            return next;
        }
        z = next;
    }
    z
}

/// Wichura's AS 241 (PPND16), relative accuracy about 1e-16, for 0 < p < 1.
// The coefficients are quoted exactly as published, digits beyond f64 included.
#[allow(clippy::excessive_precision)]
fn normal_quantile_as241(p: f64) -> f64 {
    fn poly(c: &[f64; 8], x: f64) -> f64 {
        c.iter().rev().fold(0.0, |acc, &k| acc * x + k)
    }
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let v = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 {
        -v
    } else {
        v
    }
}
