//! The one error type of the RAT-STATS module.
use std::fmt;

/// Everything that can go wrong in `claimlint::ratstats`. Each case mirrors an input that
/// RAT-STATS itself refuses, so the CLI can report it instead of producing a wrong figure.
#[derive(Debug, Clone, PartialEq)]
pub enum RatStatsError {
    /// The seed is NaN or infinite (Randomize needs the bits of a real number).
    InvalidSeed(f64),
    /// `low > high` in a frame.
    InvalidFrame { low: i64, high: i64 },
    /// Zero numbers (sequential plus spares) were requested.
    NothingRequested,
    /// More random numbers (sequential plus spares) than RAT-STATS generates at once.
    TooManyRandomNumbers { requested: u64, max: u64 },
    /// More numbers requested than the frame holds: sampling is without replacement.
    SampleLargerThanFrame { requested: u64, frame_size: u64 },
    /// More strata than RAT-STATS accepts.
    TooManyStrata { count: usize, max: usize },
    /// No strata at all.
    NoStrata,
    /// A stratum's frame is empty (an empty item list).
    EmptyStratum { stratum: usize },
    /// The generator drew this many numbers without filling the sample (a guard, so a
    /// pathological frame can never hang the program).
    GeneratorExhausted { draws: u64 },
    /// A variable appraisal needs at least two sample items (the standard deviation uses n - 1).
    SampleTooSmall { sample_size: u64, min: u64 },
    /// The universe is smaller than the sample.
    UniverseSmallerThanSample { universe_size: u64, sample_size: u64 },
    /// Examined, audited and difference columns must have one value per sample item.
    LengthMismatch { first: usize, second: usize },
    /// No value column was given for a variable appraisal.
    NoValues,
    /// A sample value is NaN or infinite.
    NonFiniteValue { index: usize },
    /// Attribute appraisal: more items with the characteristic than items sampled.
    ErrorsExceedSample { errors: u64, sample_size: u64 },
    /// A confidence level outside (0, 1).
    InvalidConfidence(f64),
    /// A probability outside (0, 1).
    InvalidProbability(f64),
    /// Degrees of freedom must be at least 1.
    InvalidDegreesOfFreedom(u64),
    /// Sample-size estimation: a rate, precision or spread that makes the question meaningless.
    InvalidSampleSizeInput(String),
    /// Input parsing: the named CSV column is not in the header.
    ColumnNotFound { column: String, available: Vec<String> },
    /// Input parsing: a field that is not a number.
    InvalidNumber { line: usize, value: String },
    /// Input parsing: a malformed CSV line (for example an unterminated quote).
    MalformedCsv { line: usize, message: String },
    /// Input parsing: no values at all.
    EmptyInput,
}

impl fmt::Display for RatStatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RatStatsError::*;
        match self {
            InvalidSeed(s) => write!(f, "seed {s} is not a finite number"),
            InvalidFrame { low, high } => {
                write!(f, "frame low number {low} is greater than high number {high}")
            }
            NothingRequested => write!(f, "at least one random number must be requested"),
            TooManyRandomNumbers { requested, max } => {
                write!(f, "{requested} random numbers requested (sequential plus spares); RAT-STATS generates at most {max}")
            }
            SampleLargerThanFrame { requested, frame_size } => {
                write!(f, "{requested} numbers requested but the frame holds only {frame_size} (sampling is without replacement)")
            }
            TooManyStrata { count, max } => {
                write!(f, "{count} strata given; RAT-STATS accepts at most {max}")
            }
            NoStrata => write!(f, "no strata given"),
            EmptyStratum { stratum } => write!(f, "stratum {stratum} has an empty frame"),
            GeneratorExhausted { draws } => write!(f, "the generator made {draws} draws without completing the sample; refusing to loop further"),
            SampleTooSmall { sample_size, min } => {
                write!(f, "sample size {sample_size} is too small: at least {min} items are needed")
            }
            UniverseSmallerThanSample { universe_size, sample_size } => {
                write!(f, "universe size {universe_size} is smaller than the sample size {sample_size}")
            }
            LengthMismatch { first, second } => {
                write!(f, "value columns differ in length ({first} vs {second}); each sample item needs one value in each")
            }
            NoValues => write!(f, "no examined, audited or difference values were given"),
            NonFiniteValue { index } => write!(f, "sample value #{} is not a finite number", index + 1),
            ErrorsExceedSample { errors, sample_size } => write!(f, "{errors} items with the characteristic exceed the sample size {sample_size}"),
            InvalidConfidence(c) => write!(f, "confidence level {c} must lie strictly between 0 and 1"),
            InvalidProbability(p) => write!(f, "probability {p} must lie strictly between 0 and 1"),
            InvalidDegreesOfFreedom(d) => write!(f, "degrees of freedom {d} must be at least 1"),
            InvalidSampleSizeInput(m) => write!(f, "invalid sample-size input: {m}"),
            ColumnNotFound { column, available } => write!(f, "column '{column}' not found in the CSV header (columns: {})", available.join(", ")),
            InvalidNumber { line, value } => write!(f, "line {line}: '{value}' is not a number"),
            MalformedCsv { line, message } => write!(f, "line {line}: {message}"),
            EmptyInput => write!(f, "the input holds no values"),
        }
    }
}

impl std::error::Error for RatStatsError {}

/// Shorthand used throughout the module.
pub type Result<T> = std::result::Result<T, RatStatsError>;
