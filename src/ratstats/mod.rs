//! RAT-STATS (HHS-OIG) statistical sampling and appraisal, reproducing RAT-STATS's results.
//!
//! * [`sample`]: single-stage and stratified random numbers from RAT-STATS's Wichmann-Hill
//!   generator ([`rng`]), seeded bit for bit like Visual Basic's `Rnd`/`Randomize`.
//! * [`variable`]: unrestricted variable appraisal (examined, audited, difference values).
//! * [`stratified`]: stratified variable appraisal (per-stratum t, overall Z).
//! * [`attribute`]: unrestricted attribute appraisal with exact hypergeometric limits.
//! * [`sample_size`]: variable and attribute sample sizes.
//! * [`tdist`]: exact t (and normal) quantiles.
//! * [`io`] and [`appraisal_output`]: reading values, writing text/CSV reports.
//!
//! Every fallible function returns [`Result`] with a [`RatStatsError`]; nothing panics on bad
//! input. All result structs derive `Serialize` for the HTML report. See docs/ratstats.md.
pub mod appraisal_output;
pub mod attribute;
pub mod error;
pub mod io;
pub mod rng;
pub mod sample;
pub mod sample_size;
pub mod stratified;
pub mod tdist;
pub mod variable;

pub use attribute::{appraise_attribute, AttributeAppraisal, AttributeLimits};
pub use error::{RatStatsError, Result};
pub use io::{parse_amount, parse_csv_column, parse_csv_columns, parse_numbers};
pub use rng::{VbRnd, WichmannHill};
pub use sample::{
    random_numbers, simple_random_sample, stratified_random_numbers, RandomNumberRequest, RandomNumbers, SelectedNumber, StratifiedRandomNumbers,
    StratumFrame, StratumRequest, StratumSample, MAX_RANDOM_NUMBERS, MAX_STRATA,
};
pub use sample_size::{
    attribute_sample_size, variable_sample_size, variable_sample_size_from_probe, AttributeSampleSize, VariableSampleSize, VariableSampleSizeTable,
};
pub use stratified::{appraise_stratified, OverallStats, StratifiedVariableAppraisal, StratumAppraisal, StratumValues};
pub use tdist::{t_quantile_upper, t_two_sided, t_upper_tail, z_two_sided};
pub use variable::{
    appraise_unrestricted, appraise_values, ConfidenceLimits, SampleValues, UnrestrictedVariableAppraisal, ValueKind, VariableStats, DEFAULT_LEVELS,
};
