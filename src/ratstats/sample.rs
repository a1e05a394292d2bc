//! Single-stage and stratified random numbers (RAT-STATS "Random Numbers").
use std::collections::HashSet;

use serde::Serialize;

use super::error::{RatStatsError, Result};
use super::rng::WichmannHill;

/// Most random numbers (sequential plus spares) one request may ask for.
///
/// The OIG technical details point to the RAT-STATS 2010 User Guide's data limitations
/// (appendix A-1 to B-5) without quoting them; RAT-STATS caps a single-stage request at
/// 10,000 numbers, and we use that figure. For stratified requests it applies per stratum.
pub const MAX_RANDOM_NUMBERS: u64 = 10_000;

/// Most strata in a stratified request or appraisal. The spec does not state the limit; we
/// use 40, the limit of the RAT-STATS 2010 stratified modules as we understand them.
pub const MAX_STRATA: usize = 40;

/// Largest frame: beyond 2^53 the generator's `fraction * universe` can no longer name every
/// number exactly in a double.
pub const MAX_FRAME_SIZE: u64 = 1 << 53;

/// A draw budget so a request can never loop for ever (it needs about `U ln U` draws to
/// fill a frame of U completely, 92,000 for 10,000).
const MAX_DRAWS: u64 = 50_000_000;

/// A request for single-stage random numbers.
#[derive(Debug, Clone, Serialize)]
pub struct RandomNumberRequest {
    /// The seed RAT-STATS shows, e.g. 48863.78.
    pub seed: f64,
    /// "Sequential order" quantity: the sample.
    pub quantity: u64,
    /// "Spares in random order".
    pub spares: u64,
    /// Low number of the frame.
    pub low: i64,
    /// High number of the frame (inclusive).
    pub high: i64,
}

/// One sample number with its place in the selection order (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SelectedNumber {
    pub selection_order: u64,
    pub value: i64,
}

/// The numbers RAT-STATS prints for a single-stage request.
#[derive(Debug, Clone, Serialize)]
pub struct RandomNumbers {
    pub seed: f64,
    pub low: i64,
    pub high: i64,
    pub frame_size: u64,
    pub quantity: u64,
    pub spares_requested: u64,
    /// The sample in the order generated.
    pub selection_order: Vec<i64>,
    /// The sample in ascending order.
    pub sorted: Vec<i64>,
    /// The sample in ascending order with each number's selection order.
    pub sorted_detail: Vec<SelectedNumber>,
    /// Spares, in the order generated (they are used in that order).
    pub spares: Vec<i64>,
    /// Generator steps used, counting draws rejected as duplicates.
    pub draws: u64,
}

fn frame_size(low: i64, high: i64) -> Result<u64> {
    if low > high {
        return Err(RatStatsError::InvalidFrame { low, high });
    }
    let size = (high as i128 - low as i128 + 1) as u128;
    if size > MAX_FRAME_SIZE as u128 {
        return Err(RatStatsError::InvalidFrame { low, high });
    }
    Ok(size as u64)
}

fn check_counts(quantity: u64, spares: u64, frame: u64) -> Result<u64> {
    let total = quantity.saturating_add(spares);
    if total == 0 {
        return Err(RatStatsError::NothingRequested);
    }
    if total > MAX_RANDOM_NUMBERS {
        return Err(RatStatsError::TooManyRandomNumbers { requested: total, max: MAX_RANDOM_NUMBERS });
    }
    if total > frame {
        return Err(RatStatsError::SampleLargerThanFrame { requested: total, frame_size: frame });
    }
    Ok(total)
}

/// Draws `count` distinct numbers from `low..low+universe` in generation order; a repeat is
/// discarded and drawn again, as RAT-STATS does (the spec's `CheckDuplicate` loop).
fn draw_distinct(gen: &mut WichmannHill, low: i64, universe: u64, count: u64) -> Result<(Vec<i64>, u64)> {
    let mut seen = HashSet::with_capacity(count as usize);
    let mut out = Vec::with_capacity(count as usize);
    let mut draws = 0u64;
    while (out.len() as u64) < count {
        if draws >= MAX_DRAWS {
            return Err(RatStatsError::GeneratorExhausted { draws });
        }
        let v = gen.next_in_frame(low, universe);
        draws += 1;
        if seen.insert(v) {
            out.push(v);
        }
    }
    Ok((out, draws))
}

fn split_sample(mut drawn: Vec<i64>, quantity: u64) -> (Vec<i64>, Vec<i64>, Vec<SelectedNumber>, Vec<i64>) {
    let spares = drawn.split_off(quantity as usize);
    let mut detail: Vec<SelectedNumber> =
        drawn.iter().enumerate().map(|(i, &value)| SelectedNumber { selection_order: i as u64 + 1, value }).collect();
    detail.sort_by_key(|s| s.value);
    let sorted = detail.iter().map(|s| s.value).collect();
    (drawn, sorted, detail, spares)
}

/// Single-stage random numbers exactly as RAT-STATS generates them: `quantity` numbers plus
/// `spares` from `low..=high`, without replacement.
///
/// `random_numbers(&RandomNumberRequest { seed: 48863.78, quantity: 10, spares: 4, low: 1,
/// high: 1000 })` selects 718, 643, 247, 236, 821, 650, 257, 141, 301, 22 with spares 980,
/// 507, 440, 557.
pub fn random_numbers(req: &RandomNumberRequest) -> Result<RandomNumbers> {
    if !req.seed.is_finite() {
        return Err(RatStatsError::InvalidSeed(req.seed));
    }
    let frame = frame_size(req.low, req.high)?;
    let total = check_counts(req.quantity, req.spares, frame)?;
    let mut gen = WichmannHill::from_seed(req.seed);
    let (drawn, draws) = draw_distinct(&mut gen, req.low, frame, total)?;
    let (selection_order, sorted, sorted_detail, spares) = split_sample(drawn, req.quantity);
    Ok(RandomNumbers {
        seed: req.seed,
        low: req.low,
        high: req.high,
        frame_size: frame,
        quantity: req.quantity,
        spares_requested: req.spares,
        selection_order,
        sorted,
        sorted_detail,
        spares,
        draws,
    })
}

/// Convenience form of [`random_numbers`].
pub fn simple_random_sample(seed: f64, quantity: u64, spares: u64, low: i64, high: i64) -> Result<RandomNumbers> {
    random_numbers(&RandomNumberRequest { seed, quantity, spares, low, high })
}

/// What a stratum is drawn from.
#[derive(Debug, Clone, Serialize)]
pub enum StratumFrame {
    /// Numbers `low..=high`.
    Range { low: i64, high: i64 },
    /// A list of items (claim ids, ...); the generator draws positions 1..=len.
    Items(Vec<String>),
}

/// One stratum of a stratified request.
#[derive(Debug, Clone, Serialize)]
pub struct StratumRequest {
    pub name: String,
    pub frame: StratumFrame,
    pub quantity: u64,
    pub spares: u64,
}

/// One stratum's numbers. For an item frame, the numbers are 1-based positions in the list and
/// `selected_items`/`spare_items` hold the matching items.
#[derive(Debug, Clone, Serialize)]
pub struct StratumSample {
    /// 1-based stratum number.
    pub stratum: usize,
    pub name: String,
    pub low: i64,
    pub high: i64,
    pub frame_size: u64,
    pub quantity: u64,
    pub selection_order: Vec<i64>,
    pub sorted: Vec<i64>,
    pub sorted_detail: Vec<SelectedNumber>,
    pub spares: Vec<i64>,
    pub selected_items: Option<Vec<String>>,
    pub spare_items: Option<Vec<String>>,
    pub draws: u64,
}

/// A stratified sample.
#[derive(Debug, Clone, Serialize)]
pub struct StratifiedRandomNumbers {
    pub seed: f64,
    pub strata: Vec<StratumSample>,
    /// Sum of the strata's sample quantities (spares excluded).
    pub total_quantity: u64,
}

/// Stratified random numbers from one seed.
///
/// How the seed carries across strata: the OIG spec describes only the single-stage generator,
/// so we seed Wichmann-Hill once from `seed` (exactly as single-stage) and let the stream run on
/// from stratum to stratum in the order given, each stratum drawing its sample and then its
/// spares. Stratum 1 is therefore identical to a single-stage request with the same seed and
/// frame, the whole sample is reproducible from one seed, and no two strata reuse the same
/// stretch of the stream. Duplicates are checked within a stratum only (frames are disjoint).
/// Every stratum obeys the single-stage limits, and there may be at most [`MAX_STRATA`].
pub fn stratified_random_numbers(seed: f64, strata: &[StratumRequest]) -> Result<StratifiedRandomNumbers> {
    if !seed.is_finite() {
        return Err(RatStatsError::InvalidSeed(seed));
    }
    if strata.is_empty() {
        return Err(RatStatsError::NoStrata);
    }
    if strata.len() > MAX_STRATA {
        return Err(RatStatsError::TooManyStrata { count: strata.len(), max: MAX_STRATA });
    }
    // Validate everything before drawing anything, so an error never leaves half a sample.
    let mut frames = Vec::with_capacity(strata.len());
    for (i, s) in strata.iter().enumerate() {
        let (low, high) = match &s.frame {
            StratumFrame::Range { low, high } => (*low, *high),
            StratumFrame::Items(items) if items.is_empty() => return Err(RatStatsError::EmptyStratum { stratum: i + 1 }),
            StratumFrame::Items(items) => (1, items.len() as i64),
        };
        let size = frame_size(low, high)?;
        check_counts(s.quantity, s.spares, size)?;
        frames.push((low, high, size));
    }
    let mut gen = WichmannHill::from_seed(seed);
    let mut out = Vec::with_capacity(strata.len());
    for (i, (s, &(low, high, size))) in strata.iter().zip(&frames).enumerate() {
        let (drawn, draws) = draw_distinct(&mut gen, low, size, s.quantity + s.spares)?;
        let (selection_order, sorted, sorted_detail, spares) = split_sample(drawn, s.quantity);
        let pick = |nums: &[i64]| match &s.frame {
            StratumFrame::Items(items) => Some(nums.iter().map(|&k| items[(k - 1) as usize].clone()).collect()),
            StratumFrame::Range { .. } => None,
        };
        out.push(StratumSample {
            stratum: i + 1,
            name: s.name.clone(),
            low,
            high,
            frame_size: size,
            quantity: s.quantity,
            selected_items: pick(&selection_order),
            spare_items: pick(&spares),
            selection_order,
            sorted,
            sorted_detail,
            spares,
            draws,
        });
    }
    let total_quantity = strata.iter().map(|s| s.quantity).sum();
    Ok(StratifiedRandomNumbers { seed, strata: out, total_quantity })
}
