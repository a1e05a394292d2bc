//! What a finding is worth at Medicare's price: its *expected allowed* amount, priced natively
//! once per finding after the rules ran (never per line of the batch, never in a script).
//!
//! For each line a finding covers:
//! 1. the line's paid amount, when it has one (above zero: exports write 0 for "not paid yet");
//! 2. else the national Physician Fee Schedule amount for the code and pricing modifier (26, TC,
//!    53) on the date of service, × units, at the conversion factor in force that day
//!    (`pfs_factors`), in the facility or non-facility setting of the place of service;
//! 3. else (no RVU row, a status Medicare does not pay on RVUs, an NA setting, no factor for the
//!    year, an institutional claim, which the PFS does not price) the billed charge, and the
//!    finding counts as a fallback.
//!
//! Each line is capped at its charge, and the finding at its own amount (`amount_at_risk`): a
//! price can lower the dollars at risk, never raise them. A claim-level finding sums its claim's
//! lines (a patient-day finding, its record's lines). Provider findings keep their amount.

use chrono::NaiveDate;

use crate::batch::Batch;
use crate::refdata::{PfsSetting, RefData, TableKind};
use crate::schema::col;
use crate::vocab::{Finding, Price, PriceSource, Severity};

/// Places of service paid at the PFS *facility* rate: CMS's Place of Service Code Set marks these
/// as facility (Medicare Claims Processing Manual, Chapter 12, §20.4.2, site-of-service payment
/// differential); every other code, and a blank one, is non-facility. POS 02 (telehealth other
/// than in the patient's home) is facility; POS 10 (in the home) is non-facility.
pub const FACILITY_POS: [&str; 18] = ["02", "06", "08", "19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"];

/// Modifiers the PFS prices on their own row (professional and technical components, reduced
/// services); other modifiers price as the global service.
const PRICING_MODIFIERS: [&str; 3] = ["26", "TC", "53"];

/// The PFS setting of a place of service.
pub fn setting(pos: &str) -> PfsSetting {
    let pos = pos.trim();
    let padded;
    let pos = if pos.len() == 1 {
        padded = format!("0{pos}");
        padded.as_str()
    } else {
        pos
    };
    if FACILITY_POS.contains(&pos) {
        PfsSetting::Facility
    } else {
        PfsSetting::NonFacility
    }
}

/// An expected allowed amount and where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priced {
    pub amount: f64,
    pub source: PriceSource,
}

/// Whether the audit can price at the fee schedule: the RVUs and the conversion factors are
/// both loaded.
pub fn fee_schedule_loaded(refdata: &RefData) -> bool {
    refdata.has(TableKind::Pfs) && refdata.has(TableKind::PfsFactors)
}

/// The national PFS amount of one line (× units), uncapped; `None` when the fee schedule does not
/// price it.
pub fn fee_schedule_amount(batch: &Batch, refdata: &RefData, row: usize) -> Option<f64> {
    if batch.text(col::CLAIM_TYPE, row).trim_start().get(..1).is_some_and(|c| c.eq_ignore_ascii_case("i")) {
        return None;
    }
    let dos: NaiveDate = crate::dates::from_days(batch.date_days(col::SERVICE_DATE_FROM, row)?);
    let cf = refdata.pfs_conversion_factor(dos)?;
    let modifier = col::MODIFIERS.iter().map(|&c| batch.text(c, row).trim()).find(|m| PRICING_MODIFIERS.iter().any(|p| p.eq_ignore_ascii_case(m)));
    let code = batch.text(col::PROCEDURE_CODE, row).trim();
    let each = refdata.pfs_amount(code, modifier.unwrap_or(""), dos, setting(batch.text(col::PLACE_OF_SERVICE, row)), cf)?;
    // A blank or non-positive unit count is read as one unit.
    let units = batch.number(col::UNITS, row).filter(|u| *u > 0.0).unwrap_or(1.0);
    Some(each * units)
}

/// One line's expected allowed amount, capped at its charge (when it has one).
pub fn line(batch: &Batch, refdata: &RefData, row: usize) -> Priced {
    let charge = batch.number(col::CHARGE_AMOUNT, row);
    let cap = |x: f64| charge.map_or(x, |c| x.min(c.max(0.0)));
    if let Some(paid) = batch.number(col::PAID_AMOUNT, row).filter(|p| *p > 0.0) {
        return Priced { amount: cap(paid), source: PriceSource::Paid };
    }
    match fee_schedule_amount(batch, refdata, row) {
        Some(a) => Priced { amount: cap(a), source: PriceSource::FeeSchedule },
        None => Priced { amount: charge.unwrap_or(0.0), source: PriceSource::Billed },
    }
}

/// A finding's expected allowed amount over the lines it covers, capped at its `billed` amount.
/// With no line priced it is the billed amount itself.
pub fn finding(batch: &Batch, refdata: &RefData, lines: &[u32], billed: f64) -> Priced {
    // Whole cents, so the sum does not depend on the order of the lines (partitions reorder them).
    let mut cents: i64 = 0;
    let (mut priced, mut fee_schedule, mut fell_back) = (false, false, false);
    for &r in lines {
        let p = line(batch, refdata, r as usize);
        cents += (p.amount * 100.0).round() as i64;
        match p.source {
            PriceSource::Paid => priced = true,
            PriceSource::FeeSchedule => (priced, fee_schedule) = (true, true),
            PriceSource::Billed => fell_back = true,
        }
    }
    if !priced {
        return Priced { amount: billed, source: PriceSource::Billed };
    }
    let source = if fell_back {
        PriceSource::Billed
    } else if fee_schedule {
        PriceSource::FeeSchedule
    } else {
        PriceSource::Paid
    };
    Priced { amount: (cents as f64 / 100.0).min(billed), source }
}

/// What the pricing of an audit's findings came to, for the summary and the report.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pricing {
    /// The price asked for (`--price`).
    pub requested: Price,
    /// The price the headline uses: billed when Medicare's was asked for but is unavailable.
    pub used: Price,
    /// Whether the fee schedule (RVUs and conversion factors) was loaded wherever findings were
    /// priced (every partition).
    pub fee_schedule: bool,
    /// Error and warning findings on claims (those in the dollars at risk), by price source.
    pub paid: usize,
    pub fee_schedule_priced: usize,
    pub fallback: usize,
    /// Why Medicare's price is unavailable, when it is.
    pub unavailable: Option<String>,
}

impl Pricing {
    /// Counts the findings in the dollars at risk by where their price came from.
    pub fn of(findings: &[Finding], requested: Price, fee_schedule: bool) -> Pricing {
        let mut p = Pricing { requested, used: requested, fee_schedule, ..Default::default() };
        for f in findings.iter().filter(|f| f.severity >= Severity::Warning && !f.is_provider_level()) {
            match f.price_source {
                Some(PriceSource::Paid) => p.paid += 1,
                Some(PriceSource::FeeSchedule) => p.fee_schedule_priced += 1,
                Some(PriceSource::Billed) => p.fallback += 1,
                None => {}
            }
        }
        if requested == Price::Medicare && !fee_schedule {
            p.used = Price::Billed;
            p.unavailable = Some(
                "Medicare prices are unavailable: the Physician Fee Schedule RVU table (pfs) or its conversion factors (pfs_factors) are not loaded (--refdata DIR with the PFS relative value file); dollars at risk are at billed charges"
                    .into(),
            );
        }
        p
    }

    /// Findings priced from a paid amount or the fee schedule.
    pub fn priced(&self) -> usize {
        self.paid + self.fee_schedule_priced
    }
}
