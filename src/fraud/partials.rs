//! Provider partials: the mergeable state behind every provider aggregate and indicator.
//!
//! The provider indicators run in three steps so that a batch can be audited in partitions (or
//! on Spark) and still give exactly the numbers of a single pass:
//!
//! 1. **map**: [`ProviderPartials::from_batch`] reads one partition's lines in plain loops over
//!    the batch columns, keyed by interned ids, and hands the result over keyed by NPI and code
//!    *strings* (ids are not comparable across partitions);
//! 2. **merge**: [`ProviderPartials::merge`] adds counts and sums and unions sets. Money is
//!    summed in cents and units and minutes in thousandths, as integers, so the merge is
//!    associative and commutative bit for bit: any split of a batch, merged in any order, gives
//!    the partials of the whole batch;
//! 3. **reduce**: [`super::indicators::provider_records`] compares providers with their peers
//!    (medians, MADs, percentiles, p-values, Benjamini-Hochberg) from the merged values only.
//!
//! Claims, patients and dates of service are kept as sets, so distinct counts stay exact even
//! when a claim or a patient's lines fall in several partitions. docs/partitioning.md has the
//! details.

use std::collections::{BTreeMap, HashSet};

use rhai::ImmutableString;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::batch::{Batch, MOD_59_FAMILY};
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
    pub claims: HashSet<ImmutableString>,
    pub patients: HashSet<ImmutableString>,
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
        self.claims.extend(o.claims);
        self.patients.extend(o.patients);
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

/// One provider's running totals while a batch is read, keyed by batch ids.
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

fn text_dict(batch: &Batch, column: usize) -> &[ImmutableString] {
    batch.dict(column).unwrap_or(&[])
}

impl ProviderPartials {
    /// Map: one batch's (or partition's) contribution. Plain loops over the columns; no Polars.
    pub fn from_batch(batch: &Batch, refdata: &RefData) -> ProviderPartials {
        let codes = text_dict(batch, col::PROCEDURE_CODE);
        let minutes: Vec<Option<f64>> = codes.iter().map(|c| refdata.minutes_per_unit(c)).collect();
        let modifier_bits: Vec<Vec<u8>> =
            col::MODIFIERS.iter().map(|&m| text_dict(batch, m).iter().map(|v| modifier_flags(v)).collect()).collect();
        let mut accs: Vec<Acc> = Vec::new();
        accs.resize_with(batch.provider.dict().len(), Acc::default);

        for row in 0..batch.len {
            let a = &mut accs[batch.provider.id(row) as usize];
            a.lines += 1;
            *a.specialties.entry(batch.text_id(col::PROVIDER_SPECIALTY, row)).or_default() += 1;
            a.claims.push(batch.text_id(col::CLAIM_ID, row));
            a.patients.push(batch.text_id(col::PATIENT_ID, row));
            let charge = batch.number(col::CHARGE_AMOUNT, row).map(cents);
            let units = batch.number(col::UNITS, row).unwrap_or(0.0);
            let units_milli = milli(units);
            if let Some(c) = charge {
                a.charged_lines += 1;
                a.charge_cents += c;
            }
            a.units_milli += units_milli;

            let code = batch.text_id(col::PROCEDURE_CODE, row);
            let flags = col::MODIFIERS
                .iter()
                .zip(&modifier_bits)
                .fold(0u8, |f, (&m, bits)| f | bits.get(batch.text_id(m, row) as usize).copied().unwrap_or(0));
            let t = a.codes.entry(code).or_default();
            t.lines += 1;
            t.units_milli += units_milli;
            t.modifier_25 += u64::from(flags & 1);
            t.modifier_59 += u64::from(flags >> 1);
            if let Some(c) = charge {
                t.charge_cents += c;
                if c >= 1000 {
                    t.first_digits[leading_digit(c) - 1] += 1;
                }
                let per_unit = if units_milli > 0 { (c as i128 * 1000 / units_milli as i128) as i64 } else { c };
                keep_price(&mut t.unit_prices, per_unit);
                if units_milli > 0 {
                    let (w, p) = (units_milli as i128, per_unit as i128);
                    t.priced_units_milli += units_milli;
                    t.unit_price_sum += w * p;
                    t.unit_price_square_sum += w * p * p;
                }
            }

            if let Some(day) = batch.date_days(col::SERVICE_DATE_FROM, row) {
                let d = a.days.entry(day).or_default();
                d.lines += 1;
                if let Some(m) = minutes.get(code as usize).copied().flatten() {
                    d.minutes_milli += milli(units * m);
                    d.timed_charge_cents += charge.unwrap_or(0);
                }
            }
        }

        let providers = batch.provider.dict();
        let specialty_names = text_dict(batch, col::PROVIDER_SPECIALTY);
        let claim_ids = text_dict(batch, col::CLAIM_ID);
        let patient_ids = text_dict(batch, col::PATIENT_ID);
        let name = |dict: &[ImmutableString], id: u32| dict.get(id as usize).cloned().unwrap_or_default();
        let distinct = |mut ids: Vec<u32>, dict: &[ImmutableString]| -> HashSet<ImmutableString> {
            ids.sort_unstable();
            ids.dedup();
            ids.into_iter().map(|id| name(dict, id)).collect()
        };
        let mut out = ProviderPartials::default();
        for (id, a) in accs.into_iter().enumerate() {
            if a.lines == 0 {
                continue;
            }
            let part = ProviderPartial {
                specialties: a.specialties.into_iter().map(|(s, n)| (name(specialty_names, s).to_string(), n)).collect(),
                lines: a.lines,
                charged_lines: a.charged_lines,
                charge_cents: a.charge_cents,
                units_milli: a.units_milli,
                claims: distinct(a.claims, claim_ids),
                patients: distinct(a.patients, patient_ids),
                codes: a.codes.into_iter().map(|(c, t)| (name(codes, c).to_string(), t)).collect(),
                days: a.days.into_iter().collect(),
            };
            out.providers.insert(providers[id].to_string(), part);
        }
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
