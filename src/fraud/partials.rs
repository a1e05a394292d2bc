//! Provider partials: the mergeable state behind every provider aggregate and indicator.
//!
//! The provider indicators run in three steps so that a batch can be audited in partitions (or
//! on Spark) and still give exactly the numbers of a single pass:
//!
//! 1. **map**: [`ProviderPartials::from_batch`] reads one partition's lines in plain loops over
//!    the batch columns, keyed by interned ids, and hands the result over keyed by NPI and code
//!    *strings* (ids are not comparable across partitions);
//! 2. **merge**: [`ProviderPartials::merge`] adds counts and sums and merges keyed totals.
//!    Money is summed in cents and units and minutes in thousandths, as integers, so the merge
//!    is associative and commutative bit for bit: any split of a batch by patient, merged in
//!    any order, gives the partials of the whole batch;
//! 3. **reduce**: [`super::indicators::provider_records`] compares providers with their peers
//!    (medians, MADs, percentiles, p-values, Benjamini-Hochberg) from the merged values only.
//!
//! Claims and patients are counted, not kept: partitions split the batch by patient, and a
//! claim belongs to one patient, so a claim's or a patient's lines never span partitions and
//! per-partition distinct counts add up to the batch's (a claim id reused for two patients is
//! counted once per partition it lands in). Keeping the ids instead would cost memory in
//! proportion to the claims, too much at payer scale. Dates of service do span partitions (one
//! provider sees many patients on a day), so they stay keyed. docs/partitioning.md has the
//! details.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rhai::ImmutableString;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::batch::{Batch, Dict, MOD_59_FAMILY};
use crate::refdata::RefData;
use crate::schema::col;

/// Distinct charges per unit kept per provider and code (the smallest ones). A code billed at
/// more prices than this has no set price: its charges are the amounts Benford's law can judge.
pub const PRICE_SAMPLE: usize = 10;

/// Thousandths: units and minutes are summed as integers of this scale.
pub const MILLI: f64 = 1000.0;

/// One provider's lines of one procedure code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeTotals {
    pub lines: u64,
    pub units_milli: i64,
    pub charge_cents: i64,
    /// Lines with modifier 25 in any slot.
    pub modifier_25: u64,
    /// Lines with 59, XE, XS, XP or XU in any slot.
    pub modifier_59: u64,
    /// First digits 1..9 of line charges of $10 or more (Nigrini's convention).
    pub first_digits: [u64; 9],
    /// The smallest distinct charges per unit in cents, ascending, at most `PRICE_SAMPLE + 1`
    /// of them: keeping the k smallest is exact under any merge order.
    pub unit_prices: Vec<i64>,
    /// Sums over charged lines of units (thousandths) × price per unit (cents), and × its
    /// square: the mean and spread of what one unit was charged, for the charge test.
    pub priced_units_milli: i64,
    pub unit_price_sum: i128,
    pub unit_price_square_sum: i128,
}

/// One provider's lines on one date of service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    pub lines: u64,
    /// Units × minutes per unit of the timed codes (rules/data/claimlint/service_minutes.csv).
    pub minutes_milli: i64,
    /// Charges of those timed lines.
    pub timed_charge_cents: i64,
}

/// Everything the provider records need about one provider, in mergeable form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderPartial {
    /// Lines per specialty as written; the record takes the most frequent.
    pub specialties: BTreeMap<String, u64>,
    pub lines: u64,
    /// Lines with a charge (for the mean charge).
    pub charged_lines: u64,
    pub charge_cents: i64,
    pub units_milli: i64,
    /// Distinct claim ids and patient ids. Summed on merge, which is exact when the parts split
    /// the batch by patient (the audit's partitioning); see the module comment.
    pub claims: u64,
    pub patients: u64,
    pub codes: BTreeMap<String, CodeTotals>,
    /// By date of service, as days since 1970-01-01; lines without a date are not here.
    pub days: BTreeMap<i32, DayTotals>,
}

/// Provider partials of a batch or a partition, by provider key (rendering NPI, else billing
/// NPI; "" when a line has neither).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderPartials {
    pub providers: BTreeMap<String, ProviderPartial>,
}

/// Money in cents, as summed.
pub fn cents(amount: f64) -> i64 {
    (amount * 100.0).round() as i64
}

fn milli(x: f64) -> i64 {
    (x * MILLI).round() as i64
}

/// First digit of a positive whole number.
fn leading_digit(mut n: i64) -> usize {
    while n >= 10 {
        n /= 10;
    }
    n as usize
}

/// Adds `price` to the ascending list of the `PRICE_SAMPLE + 1` smallest distinct prices.
fn keep_price(prices: &mut Vec<i64>, price: i64) {
    if let Err(at) = prices.binary_search(&price) {
        if at <= PRICE_SAMPLE {
            prices.insert(at, price);
            prices.truncate(PRICE_SAMPLE + 1);
        }
    }
}

impl CodeTotals {
    fn merge(&mut self, o: CodeTotals) {
        self.lines += o.lines;
        self.units_milli += o.units_milli;
        self.charge_cents += o.charge_cents;
        self.modifier_25 += o.modifier_25;
        self.modifier_59 += o.modifier_59;
        for (a, b) in self.first_digits.iter_mut().zip(o.first_digits) {
            *a += b;
        }
        for p in o.unit_prices {
            keep_price(&mut self.unit_prices, p);
        }
        self.priced_units_milli += o.priced_units_milli;
        self.unit_price_sum += o.unit_price_sum;
        self.unit_price_square_sum += o.unit_price_square_sum;
    }

    /// (mean, standard deviation, units) of the charge per unit over charged units, in dollars.
    pub fn unit_price_spread(&self) -> Option<(f64, f64, f64)> {
        if self.priced_units_milli <= 0 {
            return None;
        }
        let w = self.priced_units_milli as f64;
        let mean = self.unit_price_sum as f64 / w;
        let var = (self.unit_price_square_sum as f64 / w - mean * mean).max(0.0);
        Some((mean / 100.0, var.sqrt() / 100.0, w / MILLI))
    }

    /// Billed at more distinct unit prices than a price list would give.
    pub fn varying_prices(&self) -> bool {
        self.unit_prices.len() > PRICE_SAMPLE
    }
}

impl DayTotals {
    fn merge(&mut self, o: DayTotals) {
        self.lines += o.lines;
        self.minutes_milli += o.minutes_milli;
        self.timed_charge_cents += o.timed_charge_cents;
    }
}

impl ProviderPartial {
    fn merge(&mut self, o: ProviderPartial) {
        for (s, n) in o.specialties {
            *self.specialties.entry(s).or_default() += n;
        }
        self.lines += o.lines;
        self.charged_lines += o.charged_lines;
        self.charge_cents += o.charge_cents;
        self.units_milli += o.units_milli;
        self.claims += o.claims;
        self.patients += o.patients;
        for (code, t) in o.codes {
            self.codes.entry(code).or_default().merge(t);
        }
        for (day, t) in o.days {
            self.days.entry(day).or_default().merge(t);
        }
    }

    /// The specialty with the most lines (ties: the first in sort order), trimmed.
    pub fn specialty(&self) -> String {
        let mut best: Option<(&String, u64)> = None;
        for (s, &n) in &self.specialties {
            if best.is_none_or(|(_, m)| n > m) {
                best = Some((s, n));
            }
        }
        best.map(|(s, _)| s.trim().to_string()).unwrap_or_default()
    }
}

/// One provider's running totals while its lines are read, keyed by batch ids.
#[derive(Default)]
struct Acc {
    specialties: FxHashMap<u32, u64>,
    lines: u64,
    charged_lines: u64,
    charge_cents: i64,
    units_milli: i64,
    claims: Vec<u32>,
    patients: Vec<u32>,
    codes: FxHashMap<u32, CodeTotals>,
    days: FxHashMap<i32, DayTotals>,
}

/// Bit flags of a modifier value: 1 for 25, 2 for the 59 family.
fn modifier_flags(value: &str) -> u8 {
    let v = value.trim();
    u8::from(v.eq_ignore_ascii_case("25")) | (u8::from(MOD_59_FAMILY.iter().any(|m| v.eq_ignore_ascii_case(m))) << 1)
}

fn text_dict(batch: &Batch, column: usize) -> &Dict {
    static BLANK: std::sync::LazyLock<Dict> = std::sync::LazyLock::new(Dict::blank);
    batch.dict(column).unwrap_or(&BLANK)
}

/// What the row loop looks up by id, resolved once per batch.
struct Lookups {
    /// Minutes per unit by procedure-code id (timed codes only).
    minutes: Vec<Option<f64>>,
    /// Modifier flags by value id, per modifier column.
    modifier_bits: Vec<Vec<u8>>,
}

/// What the provider step needs of one line, read from the columns in one sequential pass so
/// that summing a provider's lines later touches one small record per line, not twelve columns.
#[derive(Clone, Copy)]
struct Rec {
    /// Cents; `i64::MIN` when the line has no charge.
    charge: i64,
    units_milli: i64,
    claim: u32,
    patient: u32,
    code: u32,
    specialty: u32,
    /// Days since 1970-01-01; `i32::MIN` when the line has no date.
    day: i32,
    /// 1: modifier 25; 2: a 59-family modifier.
    flags: u8,
}

const NO_CHARGE: i64 = i64::MIN;
const NO_DAY: i32 = i32::MIN;

fn record(batch: &Batch, look: &Lookups, row: usize) -> Rec {
    let flags =
        col::MODIFIERS.iter().zip(&look.modifier_bits).fold(0u8, |f, (&m, bits)| f | bits.get(batch.text_id(m, row) as usize).copied().unwrap_or(0));
    Rec {
        charge: batch.number(col::CHARGE_AMOUNT, row).map_or(NO_CHARGE, cents),
        units_milli: milli(batch.number(col::UNITS, row).unwrap_or(0.0)),
        claim: batch.text_id(col::CLAIM_ID, row),
        patient: batch.text_id(col::PATIENT_ID, row),
        code: batch.text_id(col::PROCEDURE_CODE, row),
        specialty: batch.text_id(col::PROVIDER_SPECIALTY, row),
        day: batch.date_days(col::SERVICE_DATE_FROM, row).unwrap_or(NO_DAY),
        flags,
    }
}

/// One provider's totals over its lines.
fn accumulate(recs: &[Rec], look: &Lookups) -> Acc {
    let mut a = Acc { claims: Vec::with_capacity(recs.len()), patients: Vec::with_capacity(recs.len()), ..Acc::default() };
    for &r in recs {
        a.lines += 1;
        *a.specialties.entry(r.specialty).or_default() += 1;
        a.claims.push(r.claim);
        a.patients.push(r.patient);
        let charge = (r.charge != NO_CHARGE).then_some(r.charge);
        if let Some(c) = charge {
            a.charged_lines += 1;
            a.charge_cents += c;
        }
        a.units_milli += r.units_milli;

        let t = a.codes.entry(r.code).or_default();
        t.lines += 1;
        t.units_milli += r.units_milli;
        t.modifier_25 += u64::from(r.flags & 1);
        t.modifier_59 += u64::from(r.flags >> 1);
        if let Some(c) = charge {
            t.charge_cents += c;
            if c >= 1000 {
                t.first_digits[leading_digit(c) - 1] += 1;
            }
            let per_unit = if r.units_milli > 0 { (c as i128 * 1000 / r.units_milli as i128) as i64 } else { c };
            keep_price(&mut t.unit_prices, per_unit);
            if r.units_milli > 0 {
                let (w, p) = (r.units_milli as i128, per_unit as i128);
                t.priced_units_milli += r.units_milli;
                t.unit_price_sum += w * p;
                t.unit_price_square_sum += w * p * p;
            }
        }

        if r.day != NO_DAY {
            let d = a.days.entry(r.day).or_default();
            d.lines += 1;
            if let Some(m) = look.minutes.get(r.code as usize).copied().flatten() {
                d.minutes_milli += milli(r.units_milli as f64 / MILLI * m);
                d.timed_charge_cents += charge.unwrap_or(0);
            }
        }
    }
    a
}

/// Every line's record, grouped by provider id (a counting sort: columns are read in order,
/// records written to their provider's range): `recs[start[p]..start[p + 1]]` are provider
/// `p`'s lines, in file order.
fn records_by_provider(batch: &Batch, look: &Lookups) -> (Vec<Rec>, Vec<usize>) {
    let n = batch.provider.dict().len();
    let mut start = vec![0usize; n + 1];
    for row in 0..batch.len {
        start[batch.provider.id(row) as usize + 1] += 1;
    }
    for p in 0..n {
        start[p + 1] += start[p];
    }
    let mut next = start.clone();
    let empty = Rec { charge: NO_CHARGE, units_milli: 0, claim: 0, patient: 0, code: 0, specialty: 0, day: NO_DAY, flags: 0 };
    let mut recs = vec![empty; batch.len];
    for row in 0..batch.len {
        let p = batch.provider.id(row) as usize;
        recs[next[p]] = record(batch, look, row);
        next[p] += 1;
    }
    (recs, start)
}

impl ProviderPartials {
    /// Map: one batch's (or partition's) contribution. Lines are read once, in order, into
    /// small records grouped by provider, so that each provider's totals stay in cache while
    /// its lines are summed; providers are summed in parallel (rayon; no Polars here), and the
    /// result is keyed by strings.
    pub fn from_batch(batch: &Batch, refdata: &RefData) -> ProviderPartials {
        let started = std::time::Instant::now();
        let codes = text_dict(batch, col::PROCEDURE_CODE);
        let look = Lookups {
            minutes: codes.iter().map(|c| refdata.minutes_per_unit(c)).collect(),
            modifier_bits: col::MODIFIERS.iter().map(|&m| text_dict(batch, m).iter().map(modifier_flags).collect()).collect(),
        };
        let (recs, start) = records_by_provider(batch, &look);
        let providers = batch.provider.dict();
        let specialty_names = text_dict(batch, col::PROVIDER_SPECIALTY);
        let name = |dict: &Dict, id: u32| ImmutableString::from(dict.get(id as usize));
        let distinct = |mut ids: Vec<u32>| -> u64 {
            ids.sort_unstable();
            ids.dedup();
            ids.len() as u64
        };
        let parts: Vec<(String, ProviderPartial)> = (0..providers.len())
            .into_par_iter()
            .filter(|&p| start[p + 1] > start[p])
            .map(|p| {
                let a = accumulate(&recs[start[p]..start[p + 1]], &look);
                let part = ProviderPartial {
                    specialties: a.specialties.into_iter().map(|(s, n)| (name(specialty_names, s).to_string(), n)).collect(),
                    lines: a.lines,
                    charged_lines: a.charged_lines,
                    charge_cents: a.charge_cents,
                    units_milli: a.units_milli,
                    claims: distinct(a.claims),
                    patients: distinct(a.patients),
                    codes: a.codes.into_iter().map(|(c, t)| (name(codes, c).to_string(), t)).collect(),
                    days: a.days.into_iter().collect(),
                };
                (providers[p].to_string(), part)
            })
            .collect();
        let out = ProviderPartials { providers: parts.into_iter().collect() };
        tracing::debug!(secs = started.elapsed().as_secs_f64(), providers = out.providers.len(), "provider partials");
        out
    }

    /// Merge: adds `other` into `self`. Associative and commutative, and exact.
    pub fn merge(&mut self, other: ProviderPartials) {
        for (npi, part) in other.providers {
            match self.providers.get_mut(&npi) {
                Some(mine) => mine.merge(part),
                None => {
                    self.providers.insert(npi, part);
                }
            }
        }
    }
}
