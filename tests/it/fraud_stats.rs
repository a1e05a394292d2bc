//! Fraud-risk statistics: reference values from SciPy/NumPy or worked by hand (noted per value).
//!
//! SciPy 1.17.1 / NumPy under Python 3; `chi2.sf` is Cephes `igamc`, independent of our code.
use claimlint::fraud::stats::*;

/// |actual - expected| <= rel * |expected| (plain equality when expected is 0).
#[track_caller]
fn assert_rel(actual: f64, expected: f64, rel: f64) {
    let err = (actual - expected).abs();
    assert!(err <= rel * expected.abs(), "actual {actual:e}, expected {expected:e}, relative error {:e}", err / expected.abs());
}

// ---------------------------------------------------------------- chi-square p-values

#[test]
fn chi_square_p_matches_scipy() {
    // (stat, df, scipy.stats.chi2.sf(stat, df))
    let cases: [(f64, f64, f64); 16] = [
        (7.5, 3.0, 0.0575584519726364),
        (3.841458820694124, 1.0, 0.04999999999999989), // the 5% critical value at df = 1
        (1e-10, 1.0, 0.9999920211543921),              // tiny statistic, p ~ 1
        (0.5, 0.5, 0.25632205526853896),               // non-integer df
        (12.5, 2.0, 0.0019304541362277095),
        (30.0, 10.0, 0.000856641210775301),
        (5.0, 20.0, 0.9997226479053791),
        (21.0, 20.0, 0.3971325993508109),
        (100.0, 100.0, 0.48119168452795674),
        (124.342, 100.0, 0.05000071576997178), // near the 5% critical value at df = 100
        (50.0, 100.0, 0.9999930466947524),
        (200.0, 100.0, 1.1784500720979781e-08),
        (1000.0, 1.0, 1.7958327848007363e-219), // huge statistic
        (1400.0, 1.0, 2.1010145162644003e-306), // just above the smallest normal f64
        (1e-300, 1.0, 1.0),
        (1e-5, 10.0, 1.0),
    ];
    for (stat, df, want) in cases {
        let got = chi_square_upper_p(stat, df);
        assert_rel(got, want, 1e-12);
    }
    // df = 2000: the prefactor subtracts logarithms of order 1e4, so allow 1e-11.
    // scipy.stats.chi2.sf(3000, 2000) = 2.204698611389594e-43
    assert_rel(chi_square_upper_p(3000.0, 2000.0), 2.204698611389594e-43, 1e-11);
}

#[test]
fn chi_square_p_matches_closed_forms_for_even_df() {
    // For even df the tail is a finite sum (Poisson identity), by hand:
    //   df = 2: Q = e^(-x/2)
    //   df = 4: Q = e^(-x/2) (1 + x/2)
    //   df = 6: Q = e^(-x/2) (1 + x/2 + (x/2)^2 / 2)
    // The grid straddles the series / continued-fraction switch at x/2 = df/2 + 1.
    let stats: [f64; 16] = [0.01, 0.5, 1.0, 3.9, 4.0, 4.1, 5.9, 6.0, 6.1, 7.9, 8.0, 8.1, 10.0, 50.0, 200.0, 1000.0];
    for x in stats {
        let h = x / 2.0;
        let e = (-h).exp();
        assert_rel(chi_square_upper_p(x, 2.0), e, 1e-12);
        assert_rel(chi_square_upper_p(x, 4.0), e * (1.0 + h), 1e-12);
        assert_rel(chi_square_upper_p(x, 6.0), e * (1.0 + h + h * h / 2.0), 1e-12);
    }
}

#[test]
fn chi_square_p_documented_edge_values() {
    assert_eq!(chi_square_upper_p(0.0, 4.0), 1.0);
    assert_eq!(chi_square_upper_p(-3.0, 4.0), 1.0);
    assert_eq!(chi_square_upper_p(f64::INFINITY, 4.0), 0.0);
    // scipy.stats.chi2.sf(1500, 1) = 0.0 (underflow)
    assert_eq!(chi_square_upper_p(1500.0, 1.0), 0.0);
    assert!(chi_square_upper_p(f64::NAN, 4.0).is_nan());
    for df in [0.0, -1.0, f64::INFINITY, f64::NAN] {
        assert!(chi_square_upper_p(3.0, df).is_nan(), "df = {df}");
    }
    // Huge df must terminate (and stay within [0, 1]).
    let p = chi_square_upper_p(1e9, 1e9);
    assert!((0.0..=1.0).contains(&p));
}

// ---------------------------------------------------------------- chi-square tests

/// E/M levels 99211..99215: one provider (100 visits) against pooled peers (900 visits).
const PROVIDER: [f64; 5] = [1.0, 8.0, 35.0, 38.0, 18.0];
const PEERS: [f64; 5] = [19.0, 142.0, 365.0, 292.0, 82.0];

#[test]
fn chi_square_2xk_em_levels_worked_example() {
    // By hand. Row totals R1 = 100, R2 = 900, N = 1000; column totals
    //   C = [20, 150, 400, 330, 100].
    // Expected provider row E1 = R1 C / N = C / 10 = [2, 15, 40, 33, 10];
    // peer row E2 = 0.9 C = [18, 135, 360, 297, 90].
    // Deviations d = O1 - E1 = [-1, -7, -5, 5, 8] (the peer row has -d).
    // Each column adds d^2 (1/E1 + 1/E2) = d^2 (10/C + 10/(9C)) = (100/9) d^2 / C, so
    //   X^2 = (100/9) (1/20 + 49/150 + 25/400 + 25/330 + 64/100)
    //       = (100/9) (1.15492424...) = 15245/1188 = 12.832491582491583.
    // df = (2-1)(5-1) = 4, and for df = 4, p = e^(-X/2) (1 + X/2) = 0.0121239454376...
    // Cross-check: scipy.stats.chi2_contingency([PROVIDER, PEERS], correction=False) gives
    // statistic 12.832491582491583, dof 4, pvalue 0.012123945437600328.
    let r = chi_square_2xk(&PROVIDER, &PEERS).unwrap();
    assert_rel(r.statistic, 15245.0 / 1188.0, 1e-14);
    assert_eq!(r.df, 4.0);
    let h = r.statistic / 2.0;
    assert_rel(r.p_value, (-h).exp() * (1.0 + h), 1e-12);
    assert_rel(r.p_value, 0.012123945437600328, 1e-12);
    assert_eq!(r.observed, PROVIDER.to_vec());
    for (got, want) in r.expected.iter().zip([2.0, 15.0, 40.0, 33.0, 10.0]) {
        assert_rel(*got, want, 1e-14);
    }
}

#[test]
fn chi_square_2xk_drops_empty_categories_but_keeps_alignment() {
    // A sixth category nobody billed: same statistic, df still 4, vectors stay 6 long.
    let provider = [0.0, 1.0, 8.0, 35.0, 38.0, 18.0];
    let peers = [0.0, 19.0, 142.0, 365.0, 292.0, 82.0];
    let r = chi_square_2xk(&provider, &peers).unwrap();
    assert_rel(r.statistic, 15245.0 / 1188.0, 1e-14);
    assert_eq!(r.df, 4.0);
    assert_eq!(r.observed.len(), 6);
    assert_eq!((r.observed[0], r.expected[0]), (0.0, 0.0));
    assert_rel(r.expected[5], 10.0, 1e-14);

    // Identical mixes: statistic 0, p = 1 (provider is 1/10 of peers in every column).
    let r = chi_square_2xk(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]).unwrap();
    assert!(r.statistic.abs() < 1e-12);
    assert_rel(r.p_value, 1.0, 1e-12);
}

#[test]
fn chi_square_2xk_degenerate_inputs_are_none() {
    assert_eq!(chi_square_2xk(&[], &[]), None);
    assert_eq!(chi_square_2xk(&[0.0; 5], &[0.0; 5]), None); // all zero
    assert_eq!(chi_square_2xk(&[5.0], &[50.0]), None); // single category
    assert_eq!(chi_square_2xk(&[5.0, 0.0], &[50.0, 0.0]), None); // one category left
    assert_eq!(chi_square_2xk(&[0.0, 0.0], &[3.0, 4.0]), None); // provider total 0
    assert_eq!(chi_square_2xk(&[3.0, 4.0], &[0.0, 0.0]), None); // peer total 0
    assert_eq!(chi_square_2xk(&[1.0, 2.0], &[1.0, 2.0, 3.0]), None); // lengths differ
    assert_eq!(chi_square_2xk(&[1.0, -2.0], &[1.0, 2.0]), None); // negative count
    assert_eq!(chi_square_2xk(&[1.0, f64::NAN], &[1.0, 2.0]), None);
    assert_eq!(chi_square_2xk(&[1.0, 2.0], &[1.0, f64::INFINITY]), None);
}

#[test]
fn goodness_of_fit_worked_example() {
    // The provider above against published peer shares (in percent, to exercise the
    // normalisation): n = 100, E = [2, 15, 40, 33, 10].
    //   X^2 = 1/2 + 49/15 + 25/40 + 25/33 + 64/10 = 3049/264 = 11.549242424242424, df = 4,
    //   p = e^(-X/2) (1 + X/2).
    // scipy.stats.chisquare([1,8,35,38,18], [2,15,40,33,10]) = (11.549242424242426, 0.021037730633204715)
    let r = chi_square_goodness_of_fit(&PROVIDER, &[2.0, 15.0, 40.0, 33.0, 10.0]).unwrap();
    assert_rel(r.statistic, 3049.0 / 264.0, 1e-14);
    assert_eq!(r.df, 4.0);
    assert_rel(r.p_value, 0.021037730633204715, 1e-12);
    let h = r.statistic / 2.0;
    assert_rel(r.p_value, (-h).exp() * (1.0 + h), 1e-12);
    for (got, want) in r.expected.iter().zip([2.0, 15.0, 40.0, 33.0, 10.0]) {
        assert_rel(*got, want, 1e-14);
    }
    // Same test with shares as fractions.
    let r2 = chi_square_goodness_of_fit(&PROVIDER, &[0.02, 0.15, 0.40, 0.33, 0.10]).unwrap();
    assert_rel(r2.statistic, r.statistic, 1e-13);
}

#[test]
fn goodness_of_fit_zero_share_categories() {
    // Share 0 and nothing observed: dropped (df = 1). By hand: E = [5, 5], X^2 = 1/5 + 1/5 = 0.4.
    let r = chi_square_goodness_of_fit(&[4.0, 6.0, 0.0], &[0.5, 0.5, 0.0]).unwrap();
    assert_eq!(r.df, 1.0);
    assert_rel(r.statistic, 0.4, 1e-14);
    // scipy.stats.chi2.sf(0.4, 1) = 0.5270892568655381
    assert_rel(r.p_value, 0.5270892568655381, 1e-12);
    // Share 0 but observed: impossible under the reference distribution.
    let r = chi_square_goodness_of_fit(&[4.0, 6.0, 1.0], &[0.5, 0.5, 0.0]).unwrap();
    assert_eq!(r.statistic, f64::INFINITY);
    assert_eq!(r.p_value, 0.0);
    assert_eq!(r.df, 2.0);
}

#[test]
fn goodness_of_fit_degenerate_inputs_are_none() {
    assert_eq!(chi_square_goodness_of_fit(&[], &[]), None);
    assert_eq!(chi_square_goodness_of_fit(&[0.0, 0.0], &[0.5, 0.5]), None); // n = 0
    assert_eq!(chi_square_goodness_of_fit(&[1.0, 2.0], &[0.0, 0.0]), None); // shares all 0
    assert_eq!(chi_square_goodness_of_fit(&[7.0], &[1.0]), None); // single category
    assert_eq!(chi_square_goodness_of_fit(&[7.0, 0.0], &[1.0, 0.0]), None); // one kept
    assert_eq!(chi_square_goodness_of_fit(&[1.0, 2.0], &[0.5]), None); // lengths differ
    assert_eq!(chi_square_goodness_of_fit(&[1.0, 2.0], &[0.5, -0.5]), None);
    assert_eq!(chi_square_goodness_of_fit(&[1.0, f64::NAN], &[0.5, 0.5]), None);
}

// ---------------------------------------------------------------- Benford

#[test]
fn benford_constants_are_log10_of_1_plus_1_over_d() {
    for (i, &p) in BENFORD_FIRST_DIGIT.iter().enumerate() {
        let d = (i + 1) as f64;
        assert_rel(p, ((d + 1.0) / d).log10(), 1e-15);
    }
    // The probabilities telescope to log10(10) = 1.
    assert_rel(BENFORD_FIRST_DIGIT.iter().sum(), 1.0, 1e-15);
}

#[test]
fn first_digit_follows_nigrini_convention() {
    assert_eq!(first_digit(10.0), Some(1));
    assert_eq!(first_digit(19.99), Some(1));
    assert_eq!(first_digit(99.99), Some(9));
    assert_eq!(first_digit(100.0), Some(1));
    assert_eq!(first_digit(999.9999999999999), Some(9)); // just below a power of ten
    assert_eq!(first_digit(1000.0), Some(1));
    assert_eq!(first_digit(0.1 * 3.0 * 1000.0), Some(3)); // 300.00000000000006
    assert_eq!(first_digit(4.5e17), Some(4));
    assert_eq!(first_digit(9.99e21), Some(9));
    // From 1e22 powers of ten are inexact; the digit is the one written (shortest decimal):
    // the f64 nearest 7e25 is 69999999999999999899336704 and nearest 1e23 is 99999999999999991611392.
    assert_eq!(first_digit(7e25), Some(7));
    assert_eq!(first_digit(1e23), Some(1));
    assert_eq!(first_digit(f64::MAX), Some(1)); // 1.797e308
                                                // Not used for first-digit tests: below 10, negative, zero, NaN, infinite.
    for x in [9.99, 5.0, 0.5, 0.0, -0.0, -120.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(first_digit(x), None, "x = {x}");
    }
}

/// 20 qualifying amounts with first digits 1 x6, 2 x4, 3 x3, 4 x2, 5..9 x1, plus 7 that do not
/// qualify.
fn twenty_amounts() -> Vec<f64> {
    vec![
        10.00,
        125.50,
        1_000.00,
        19.99,
        150.00,
        1_840.25, // 1
        20.00,
        245.10,
        2_999.99,
        27.35, // 2
        310.00,
        35.00,
        3_333.33, // 3
        40.00,
        499.99, // 4
        55.55,
        600.00,
        72.10,
        8_000.00,
        99.99, // 5, 6, 7, 8, 9
        9.99,
        5.00,
        0.0,
        -120.00,
        f64::NAN,
        f64::INFINITY,
        0.5, // skipped
    ]
}

#[test]
fn benford_twenty_amounts_hand_computed() {
    let counts = benford_counts(twenty_amounts());
    assert_eq!(counts, [6, 4, 3, 2, 1, 1, 1, 1, 1]);

    // Observed shares [.30, .20, .15, .10, .05, .05, .05, .05, .05] against Benford
    // [.30103, .17609, .12494, .09691, .07918, .06695, .05799, .05115, .04576]:
    //   |diff| = [.00103, .02391, .02506, .00309, .02918, .01695, .00799, .00115, .00424],
    //   sum = .112605, MAD = .0125117 -> marginal (0.012 < MAD <= 0.015).
    // Exactly: signed differences sum to 0, so sum |diff| = 2 x (positive part); the positive
    // digits are 2, 3, 4, 9 with observed 0.50 and Benford log10(3/2 * 4/3 * 5/4 * 10/9)
    // = log10(25/9), hence MAD = 2 (0.5 - log10(25/9)) / 9 = (1 - 2 log10(25/9)) / 9
    // = 0.0125116668371749477... (Python decimal, 40 digits).
    let r = benford(twenty_amounts()).unwrap();
    assert_eq!(r.n, 20);
    assert_eq!(r.counts, counts);
    assert_eq!(r.observed_share, [0.30, 0.20, 0.15, 0.10, 0.05, 0.05, 0.05, 0.05, 0.05]);
    assert_rel(r.mad, (1.0 - 2.0 * (25.0f64 / 9.0).log10()) / 9.0, 1e-13);
    assert_rel(r.mad, 0.012511666837174948, 1e-13);
    assert_eq!(r.conformity, Conformity::Marginal);
    assert_eq!(r.conformity.as_str(), "marginal conformity");
}

#[test]
fn benford_counts_close_to_benford_conform_closely() {
    // 1000 amounts with counts round(1000 x Benford) = [301, 176, 125, 97, 79, 67, 58, 51, 46].
    // MAD = 0.000101116269926345... (Python decimal, 40 digits) -> close conformity.
    let counts = [301u64, 176, 125, 97, 79, 67, 58, 51, 46];
    let amounts = counts.iter().enumerate().flat_map(|(i, &c)| {
        (0..c).map(move |j| (i as f64 + 1.0) * 100.0 + (j % 100) as f64) // d00 .. d99
    });
    let r = benford(amounts).unwrap();
    assert_eq!(r.n, 1000);
    assert_eq!(r.counts, counts);
    assert_rel(r.mad, 0.0001011162699263453, 1e-10);
    assert_eq!(r.conformity, Conformity::Close);
}

#[test]
fn conformity_thresholds_are_inclusive_upper_bounds() {
    let up = |x: f64| f64::from_bits(x.to_bits() + 1); // next f64 above x
    assert_eq!(Conformity::from_mad(0.0), Conformity::Close);
    assert_eq!(Conformity::from_mad(0.006), Conformity::Close);
    assert_eq!(Conformity::from_mad(up(0.006)), Conformity::Acceptable);
    assert_eq!(Conformity::from_mad(0.012), Conformity::Acceptable);
    assert_eq!(Conformity::from_mad(up(0.012)), Conformity::Marginal);
    assert_eq!(Conformity::from_mad(0.015), Conformity::Marginal);
    assert_eq!(Conformity::from_mad(up(0.015)), Conformity::Nonconforming);
    assert_eq!(Conformity::from_mad(0.5), Conformity::Nonconforming);
    assert_eq!(Conformity::from_mad(f64::NAN), Conformity::Nonconforming);
    assert_eq!(Conformity::Close.as_str(), "close conformity");
    assert_eq!(Conformity::Acceptable.as_str(), "acceptable conformity");
    assert_eq!(Conformity::Marginal.as_str(), "marginal conformity");
    assert_eq!(Conformity::Nonconforming.as_str(), "nonconformity");
}

#[test]
fn benford_none_when_no_amount_qualifies() {
    assert_eq!(benford(Vec::<f64>::new()), None);
    assert_eq!(benford([1.0, 9.99, -50.0, f64::NAN]), None);
    assert_eq!(benford_counts(std::iter::empty()), [0; 9]);
    // A single amount is a valid (if uninformative) test: shares [1, 0, ..., 0]; only digit 1
    // deviates upwards, by 1 - log10 2, so MAD = 2 (1 - log10 2) / 9 (positive-part argument).
    let r = benford([12.0]).unwrap();
    assert_rel(r.mad, 2.0 * (1.0 - 2f64.log10()) / 9.0, 1e-14);
    assert_eq!(r.conformity, Conformity::Nonconforming);
}

// ---------------------------------------------------------------- robust statistics

#[test]
fn median_odd_even_and_nan() {
    assert_eq!(median(&mut [5.0, 1.0, 3.0]), Some(3.0));
    assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    assert_eq!(median(&mut [7.0]), Some(7.0));
    assert_eq!(median(&mut [f64::NAN, 3.0, 1.0, f64::NAN, 2.0]), Some(2.0)); // NaNs ignored
    assert_eq!(median(&mut [f64::NAN, 4.0, f64::NAN, 1.0]), Some(2.5));
    assert_eq!(median(&mut [f64::MAX, f64::MAX]), Some(f64::MAX)); // no overflow
    assert_eq!(median(&mut [f64::INFINITY, f64::INFINITY, 1.0]), Some(f64::INFINITY));
    assert_eq!(median(&mut []), None);
    assert_eq!(median(&mut [f64::NAN, f64::NAN]), None);
}

#[test]
fn mad_and_robust_z_worked_example() {
    // Values [2, 4, 4, 5, 7, 9, 30]: median 5; |x - 5| = [3, 1, 1, 0, 2, 4, 25], sorted
    // [0, 1, 1, 2, 3, 4, 25], MAD = 2, scaled 2 x 1.4826 = 2.9652.
    // The outlier 30: z = (30 - 5) / 2.9652 = 8.43113449345744 (numpy); 7: z = 2/2.9652.
    // scipy.stats.median_abs_deviation(x, scale=1/1.4826) = 2.9652
    let values = [30.0, 2.0, 4.0, 9.0, 4.0, 5.0, 7.0];
    let (med, smad) = mad_scaled(&values).unwrap();
    assert_eq!(med, 5.0);
    assert_rel(smad, 2.9652, 1e-15);
    assert_rel(robust_z(30.0, med, smad).unwrap(), 8.43113449345744, 1e-14);
    assert_rel(robust_z(7.0, med, smad).unwrap(), 2.0 / 2.9652, 1e-15);
    assert_eq!(robust_z(5.0, med, smad), Some(0.0));
    assert_eq!(values[0], 30.0); // input untouched

    // Even count [1, 2, 3, 4]: median 2.5, |x - 2.5| = [1.5, .5, .5, 1.5], MAD = 1,
    // scaled 1.4826 (scipy median_abs_deviation(scale=1/1.4826) = 1.4826). NaN ignored.
    assert_eq!(mad_scaled(&[4.0, f64::NAN, 1.0, 3.0, 2.0]), Some((2.5, 1.4826)));
}

#[test]
fn robust_z_and_mad_degenerate_inputs() {
    assert_eq!(mad_scaled(&[]), None);
    assert_eq!(mad_scaled(&[f64::NAN]), None);
    // More than half equal: MAD 0, so no z-score.
    let (med, smad) = mad_scaled(&[3.0, 3.0, 3.0, 10.0]).unwrap();
    assert_eq!((med, smad), (3.0, 0.0));
    assert_eq!(robust_z(10.0, med, smad), None);
    assert_eq!(robust_z(1.0, 0.0, -1.0), None);
    assert_eq!(robust_z(1.0, 0.0, f64::NAN), None);
    assert_eq!(robust_z(f64::NAN, 0.0, 1.0), None);
    assert_eq!(robust_z(1.0, f64::INFINITY, 1.0), None);
}

#[test]
fn percentile_rank_is_share_at_or_below() {
    // Hand count over [1, 2, 2, 3, 5] (NaN ignored).
    let v = [2.0, 5.0, f64::NAN, 1.0, 3.0, 2.0];
    assert_eq!(percentile_rank(&v, 0.0), 0.0);
    assert_eq!(percentile_rank(&v, 1.0), 0.2);
    assert_eq!(percentile_rank(&v, 2.0), 0.6);
    assert_eq!(percentile_rank(&v, 2.5), 0.6);
    assert_eq!(percentile_rank(&v, 5.0), 1.0);
    assert_eq!(percentile_rank(&v, 1e9), 1.0);
    assert!(percentile_rank(&[], 1.0).is_nan());
    assert!(percentile_rank(&[f64::NAN], 1.0).is_nan());
    assert!(percentile_rank(&v, f64::NAN).is_nan());
}

#[test]
fn quantile_type7_matches_numpy() {
    // numpy.quantile([3, 1, 4, 1, 5, 9, 2, 6], q) (default method "linear" = type 7).
    // Sorted [1, 1, 2, 3, 4, 5, 6, 9], h = 7q: q = .25 -> 1 + .75 (2 - 1) = 1.75;
    // q = .9 -> h = 6.3 -> 6 + .3 (9 - 6) = 6.9.
    let v = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
    let cases = [(0.0, 1.0), (0.1, 1.0), (0.25, 1.75), (0.5, 3.5), (0.9, 6.8999999999999995), (1.0, 9.0)];
    for (q, want) in cases {
        assert_rel(quantile(&v, q).unwrap(), want, 1e-15);
    }
    // numpy.quantile([12.5, 40, 7.25, 100, 33], q): 0.05 -> 8.3, 0.333 -> 19.306, 0.95 -> 88
    let v = [12.5, 40.0, 7.25, 100.0, 33.0];
    for (q, want) in [(0.05, 8.3), (0.333, 19.306), (0.95, 87.99999999999999)] {
        assert_rel(quantile(&v, q).unwrap(), want, 1e-14);
    }
    // quantile_sorted agrees on sorted input; NaNs are ignored by quantile.
    assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0], 0.5), Some(2.0));
    assert_eq!(quantile(&[f64::NAN, 3.0, 1.0], 0.5), Some(2.0));
    assert_eq!(quantile(&[42.0], 0.3), Some(42.0));
}

#[test]
fn quantile_degenerate_inputs_are_none() {
    assert_eq!(quantile(&[], 0.5), None);
    assert_eq!(quantile(&[f64::NAN], 0.5), None);
    assert_eq!(quantile(&[1.0, 2.0], -0.1), None);
    assert_eq!(quantile(&[1.0, 2.0], 1.1), None);
    assert_eq!(quantile(&[1.0, 2.0], f64::NAN), None);
    assert_eq!(quantile_sorted(&[], 0.0), None);
}

#[test]
fn share_of_total() {
    assert_eq!(share(25.0, 100.0), Some(0.25));
    assert_eq!(share(0.0, 4.0), Some(0.0));
    assert_eq!(share(1.0, 0.0), None);
    assert_eq!(share(f64::NAN, 1.0), None);
    assert_eq!(share(1.0, f64::INFINITY), None);
}

// ---------------------------------------------------------------- one-sided tests and BH

/// Reference tails from mpmath 1.3.0 at 40 digits (binomial by direct summation of the terms,
/// Poisson by `gammainc(k, 0, mean, regularized=True)`, normal by `erfc(z / sqrt 2) / 2`).
#[test]
fn binomial_upper_tail_matches_mpmath() {
    // (k, n, p, P(X >= k))
    let cases: [(f64, f64, f64, f64); 10] = [
        (6.0, 6.0, 5.0 / 24.0, 8.176_220_133_798_439e-5),
        (4.0, 5.0, 0.1, 0.00046),
        (30.0, 1000.0, 0.02, 0.020696518673239505),
        (520.0, 1000.0, 0.45, 5.289_379_329_683_24e-6),
        (1.0, 500.0, 0.001, 0.393_621_055_138_815),
        (3.0, 20.0, 0.5, 0.999_798_774_719_238_3),
        (150.0, 200.0, 0.43, 3.9311029081470526e-20),
        (9000.0, 20000.0, 0.43, 6.123_429_484_600_353e-9),
        (9100.0, 20000.0, 0.43, 5.428_104_810_381_364e-13),
        (250.0, 20000.0, 0.01, 0.00033887644795977535),
    ];
    for (k, n, p, want) in cases {
        let got = binomial_upper_tail(k, n, p);
        assert!((got - want).abs() <= 1e-10 * want, "P(X >= {k} | {n}, {p}) = {got:e}, want {want:e}");
    }
}

#[test]
fn binomial_upper_tail_edges() {
    assert_eq!(binomial_upper_tail(0.0, 10.0, 0.3), 1.0, "k = 0 always happens");
    assert_eq!(binomial_upper_tail(11.0, 10.0, 0.3), 0.0, "more events than trials");
    assert_eq!(binomial_upper_tail(1.0, 10.0, 0.0), 0.0, "a rate of 0 never gives an event");
    assert_eq!(binomial_upper_tail(10.0, 10.0, 1.0), 1.0);
    assert!((binomial_upper_tail(10.0, 10.0, 0.5) - 0.5f64.powi(10)).abs() < 1e-15);
    assert!(binomial_upper_tail(1.0, 10.0, 1.5).is_nan());
    assert!(binomial_upper_tail(1.0, -1.0, 0.5).is_nan());
    assert!(binomial_upper_tail(f64::NAN, 10.0, 0.5).is_nan());
}

#[test]
fn poisson_upper_tail_matches_mpmath() {
    let cases: [(f64, f64, f64); 7] = [
        (30.0, 5.0, 2.8175176155779226e-14),
        (6.0, 1.0, 0.000594184817581693),
        (100.0, 80.0, 0.017108313035133114),
        (1.0, 0.5, 0.393_469_340_287_366_6),
        (7.0, 7.5, 0.621_845_305_676_530_7),
        (400.0, 300.0, 2.2066520142884454e-8),
        (2.0, 0.001, 4.996_667_916_333_403e-7),
    ];
    for (k, mean, want) in cases {
        let got = poisson_upper_tail(k, mean);
        assert!((got - want).abs() <= 1e-10 * want, "P(X >= {k} | {mean}) = {got:e}, want {want:e}");
    }
    assert_eq!(poisson_upper_tail(0.0, 3.0), 1.0);
    assert_eq!(poisson_upper_tail(2.0, 0.0), 0.0);
    assert!(poisson_upper_tail(2.0, -1.0).is_nan());
}

#[test]
fn normal_upper_tail_matches_mpmath() {
    let cases: [(f64, f64); 6] = [
        (1.959963984540054, 0.025000000000000014),
        (3.5, 0.00023262907903552504),
        (-1.0, 0.841_344_746_068_542_9),
        (8.0, 6.220_960_574_271_784e-16),
        (30.0, 4.906_713_927_148_187e-198),
        (0.0, 0.5),
    ];
    for (z, want) in cases {
        assert_rel(normal_upper_tail(z), want, 1e-12);
    }
    assert!(normal_upper_tail(f64::NAN).is_nan());
}

#[test]
fn benjamini_hochberg_by_hand() {
    // m = 5 (the NaN is not a test). Sorted: 0.005, 0.01, 0.03, 0.04, 0.5; times m / rank:
    // 0.025, 0.025, 0.05, 0.05, 0.5; running minimum from the largest: the same here.
    let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005, f64::NAN, 0.5]);
    let want = [0.025, 0.05, 0.05, 0.025, f64::NAN, 0.5];
    for (got, want) in q.iter().zip(want) {
        assert!((got.is_nan() && want.is_nan()) || (got - want).abs() < 1e-15, "{q:?}");
    }
    // Step-up: 0.04 at rank 3 gives 0.04 * 4 / 3 = 0.0533, which brings down the q of 0.03
    // (rank 1: 0.12) and of 0.035 (rank 2: 0.07).
    let q = benjamini_hochberg(&[0.03, 0.04, 0.035, 0.9]);
    for (got, want) in q.iter().zip([0.04 * 4.0 / 3.0, 0.04 * 4.0 / 3.0, 0.04 * 4.0 / 3.0, 0.9]) {
        assert!((got - want).abs() < 1e-15, "{q:?}");
    }
    // Never above 1, and one test is its own q.
    assert_eq!(benjamini_hochberg(&[0.9, 0.95]), vec![0.95, 0.95]);
    assert_eq!(benjamini_hochberg(&[0.2]), vec![0.2]);
    assert!(benjamini_hochberg(&[]).is_empty());
}

#[test]
fn mean_absolute_deviation_is_the_scale_when_the_mad_is_zero() {
    // Four of six values equal the median 0.25: MAD 0. Mean |x - 0.25| = (0.05 + 0.75) / 6.
    let v = [0.25, 0.25, 0.2, 0.25, 0.25, 1.0];
    assert_eq!(mad_scaled(&v), Some((0.25, 0.0)));
    let s = mean_ad_scaled(&v, 0.25).unwrap();
    assert!((s - 1.2533141373155003 * 0.8 / 6.0).abs() < 1e-15, "{s}");
    assert_eq!(mean_ad_scaled(&[], 0.0), None);
    assert_eq!(mean_ad_scaled(&[1.0, f64::NAN], 1.0), Some(0.0));
}

#[test]
fn student_t_upper_tail_matches_mpmath() {
    // (t, df, P(T >= t)) from mpmath: betainc(df/2, 1/2, 0, df/(df+t^2), regularized) / 2.
    let cases: [(f64, f64, f64); 7] = [
        (2.0, 10.0, 0.036_694_017_385_370_18),
        (3.5, 4.0, 0.012448081730111376),
        (-1.0, 7.0, 0.824_691_668_589_896_3),
        (10.0, 100.0, 4.9508444922970696e-17),
        (25.0, 3.0, 7.016_569_497_877_43e-5),
        (1.96, 1e6, 0.024998033792634895),
        (0.5, 2.5, 0.32884895993485734),
    ];
    // ln Gamma of arguments near df / 2 cancels in the prefactor: the error grows with df
    // (4e-10 at a million degrees of freedom).
    for (t, df, want) in cases {
        assert_rel(student_t_upper_tail(t, df), want, if df > 1e3 { 1e-9 } else { 1e-12 });
    }
    assert_eq!(student_t_upper_tail(0.0, 5.0), 0.5);
    assert!(student_t_upper_tail(1.0, 0.0).is_nan());
}
