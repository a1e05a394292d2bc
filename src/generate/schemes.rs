//! Provider-level fraud schemes planted for a known set of providers (`generate --schemes`), and
//! the natural variation that keeps honest providers from all billing alike.
//!
//! Every provider gets habits of its own (how often it codes a visit one level up or down, how
//! many Mohs stages it bills), so honest providers differ as real practices do. A share of the
//! providers (2% by default) each bills one scheme at a strength between 0.5 and 1; the manifest
//! lists them (provider, scheme, strength) as the oracle a fraud-risk ranking is scored against.
//! Schemes change the clean encounters their provider bills, after the specialty template drew
//! them, with a generator of their own: honest providers' encounters are drawn exactly as
//! without schemes (apart from their habits), and the impossible-day scheme only moves other
//! providers' encounters of one specialty to the planted provider on a few days.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::model::{is_em, Encounter, Model, Patient, Provider, Spec};
use super::rng::{hash, Rng};
use super::templates;

const TAG_HABITS: u64 = 20;
const TAG_PICK: u64 = 21;
const TAG_SCHEME: u64 = 22;
const TAG_MILL: u64 = 23;
const TAG_DEATH: u64 = 24;

/// Providers of a specialty, besides the planted one, that a peer comparison needs (the
/// indicators want five values before a median and a MAD mean anything).
const MIN_PEERS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    Upcoding,
    Modifier25,
    Modifier59,
    ImpossibleDays,
    BillingAfterDeath,
    ExcludedNpi,
    AddonInflation,
    WeekendSurge,
    ChargeInflation,
    DuplicateBilling,
}

/// Every scheme, in the order they are handed out.
pub const SCHEMES: [Scheme; 10] = [
    Scheme::Upcoding,
    Scheme::Modifier25,
    Scheme::ImpossibleDays,
    Scheme::BillingAfterDeath,
    Scheme::AddonInflation,
    Scheme::WeekendSurge,
    Scheme::ChargeInflation,
    Scheme::DuplicateBilling,
    Scheme::Modifier59,
    Scheme::ExcludedNpi,
];

impl Scheme {
    pub fn id(self) -> &'static str {
        match self {
            Scheme::Upcoding => "upcoding",
            Scheme::Modifier25 => "modifier-25-overuse",
            Scheme::Modifier59 => "modifier-59-overuse",
            Scheme::ImpossibleDays => "impossible-days",
            Scheme::BillingAfterDeath => "billing-after-death",
            Scheme::ExcludedNpi => "excluded-npi",
            Scheme::AddonInflation => "addon-inflation",
            Scheme::WeekendSurge => "weekend-surge",
            Scheme::ChargeInflation => "charge-inflation",
            Scheme::DuplicateBilling => "duplicate-billing",
        }
    }

    /// The fraud-risk rule meant to find it.
    pub fn rule_id(self) -> &'static str {
        match self {
            Scheme::Upcoding => "FRAUD-EM-LEVELS",
            Scheme::Modifier25 => "FRAUD-MODIFIER-25",
            Scheme::Modifier59 => "FRAUD-MODIFIER-59",
            Scheme::ImpossibleDays => "FRAUD-IMPOSSIBLE-DAY",
            Scheme::BillingAfterDeath => "FRAUD-SERVICE-AFTER-DEATH",
            Scheme::ExcludedNpi => "FRAUD-EXCLUDED-PROVIDER",
            Scheme::AddonInflation => "FRAUD-ADDON-RATIO",
            Scheme::WeekendSurge => "FRAUD-WEEKEND-HOLIDAY",
            Scheme::ChargeInflation => "FRAUD-CHARGE-OUTLIER",
            Scheme::DuplicateBilling => "FRAUD-DUPLICATE-CLAIMS",
        }
    }

    /// Whether the scheme shows only against peers (a rate, a ratio or a charge), not by itself.
    fn compares_with_peers(self) -> bool {
        !matches!(self, Scheme::ImpossibleDays | Scheme::BillingAfterDeath | Scheme::ExcludedNpi | Scheme::DuplicateBilling)
    }

    /// Specialties whose billing the scheme fits.
    fn fits(self, spec: Spec) -> bool {
        use Spec::*;
        match self {
            Scheme::Upcoding | Scheme::Modifier25 => {
                matches!(spec, FamilyMedicine | InternalMedicine | Pediatrics | Dermatology | Cardiology | Orthopedics)
            }
            Scheme::Modifier59 => matches!(spec, PhysicalTherapy | Orthopedics | Dermatology | Chiropractic),
            Scheme::ImpossibleDays => spec == PhysicalTherapy,
            Scheme::AddonInflation => spec == Dermatology,
            Scheme::WeekendSurge => spec != Emergency,
            Scheme::BillingAfterDeath | Scheme::ExcludedNpi | Scheme::ChargeInflation | Scheme::DuplicateBilling => true,
        }
    }
}

/// A provider billing a scheme.
#[derive(Clone, Debug)]
pub struct Planted {
    pub provider: u32,
    pub scheme: Scheme,
    /// 0.5 to 1: how hard the provider works it.
    pub strength: f64,
    /// Codes it overcharges (charge inflation).
    pub codes: Vec<&'static str>,
}

/// An honest provider's own ways, drawn once.
#[derive(Clone, Copy, Debug, Default)]
pub struct Habits {
    /// Chance, per E/M visit, of coding one level up (when positive) or down (negative).
    pub em_shift: f64,
    /// Chance, per Mohs case with add-on stages, of one stage more (positive) or fewer.
    pub addon_shift: f64,
}

/// The schemes of a batch and every provider's habits.
pub struct Schemes {
    pub planted: Vec<Planted>,
    by_provider: HashMap<u32, usize>,
    habits: Vec<Habits>,
    /// The impossible-day provider of a specialty and the share of that specialty's encounters
    /// it takes over on its mill days.
    mills: Vec<(Spec, u32, f64)>,
}

/// A value in [-width, width], peaked at 0 (the mean of three uniforms).
fn spread(h: u64, width: f64) -> f64 {
    let u = |k: u32| ((h >> (k * 21)) & 0x1F_FFFF) as f64 / 0x1F_FFFF as f64;
    (u(0) + u(1) + u(2) - 1.5) / 1.5 * width
}

/// Codes a specialty's charge-inflation scheme overcharges (two are chosen).
fn inflatable(spec: Spec) -> &'static [&'static str] {
    use Spec::*;
    match spec {
        FamilyMedicine | InternalMedicine | Pediatrics => &["99213", "99214", "36415", "85025", "80053"],
        Dermatology => &["17311", "17000", "99213", "11102"],
        PhysicalTherapy => &["97110", "97140", "97530"],
        Laboratory => &["80053", "85025", "36415", "80061"],
        Cardiology => &["93000", "99214", "99213", "93306"],
        Orthopedics => &["20610", "99213", "73562"],
        Emergency => &["99284", "99283", "99285"],
        Radiology => &["71046", "73562", "72148"],
        Chiropractic => &["98940", "98941"],
        Psychiatry => &["90834", "90837"],
        Ophthalmology => &["92014", "92012"],
    }
}

impl Schemes {
    /// Habits for every provider and schemes for `share` of them (at least one when `share` is
    /// positive). `excluded_npis` are NPIs on the loaded exclusion list for the excluded-NPI
    /// scheme; `pt_encounters_per_day` sizes the impossible days.
    pub fn new(seed: u64, providers: &mut [Provider], share: f64, excluded_npis: &[String], pt_encounters_per_day: f64) -> Schemes {
        let habits = (0..providers.len() as u64)
            .map(|q| {
                let h = hash(seed, &[TAG_HABITS, q]);
                Habits { em_shift: spread(h, 0.15), addon_shift: spread(hash(h, &[1]), 0.15) }
            })
            .collect();
        let wanted = if share > 0.0 { ((share * providers.len() as f64).round() as usize).max(1) } else { 0 };
        let mut planted: Vec<Planted> = Vec::new();
        let mut taken = vec![false; providers.len()];
        let mut free_npis: Vec<&String> = excluded_npis.iter().filter(|n| !providers.iter().any(|p| &p.npi == *n)).collect();
        let offset = (hash(seed, &[TAG_PICK]) % SCHEMES.len() as u64) as usize;
        let mut tries = 0;
        while planted.len() < wanted && tries < wanted * SCHEMES.len() * 2 {
            let scheme = SCHEMES[(offset + tries) % SCHEMES.len()];
            tries += 1;
            if scheme == Scheme::ExcludedNpi && free_npis.is_empty() {
                continue;
            }
            // A peer comparison needs peers: such schemes go to specialties with enough providers.
            let enough_peers = |spec: Spec| !scheme.compares_with_peers() || providers.iter().filter(|p| p.spec == spec).count() > MIN_PEERS;
            let eligible: Vec<usize> =
                (0..providers.len()).filter(|&q| !taken[q] && scheme.fits(providers[q].spec) && enough_peers(providers[q].spec)).collect();
            // One mill per specialty: two would split its days.
            if eligible.is_empty() || (scheme == Scheme::ImpossibleDays && planted.iter().any(|p| p.scheme == scheme)) {
                continue;
            }
            let h = hash(seed, &[TAG_PICK, planted.len() as u64, scheme as u64]);
            let q = eligible[(h % eligible.len() as u64) as usize];
            taken[q] = true;
            let strength = 0.5 + ((h >> 32) % 1001) as f64 / 2000.0;
            let mut codes = Vec::new();
            match scheme {
                Scheme::ExcludedNpi => {
                    let npi = free_npis.remove((h >> 16) as usize % free_npis.len());
                    providers[q].npi = npi.clone();
                }
                Scheme::ChargeInflation => {
                    let list = inflatable(providers[q].spec);
                    let first = (h >> 8) as usize % list.len();
                    codes = vec![list[first], list[(first + 1) % list.len()]];
                }
                _ => {}
            }
            planted.push(Planted { provider: q as u32, scheme, strength, codes });
        }
        planted.sort_by_key(|p| p.provider);
        let by_provider = planted.iter().enumerate().map(|(i, p)| (p.provider, i)).collect();
        // On a mill day the planted therapist bills enough of the specialty's visits (at tripled
        // timed units) for about 30 hours of therapy.
        let take = (10.0 / pt_encounters_per_day.max(0.1)).clamp(0.05, 1.0);
        let mills = planted.iter().filter(|p| p.scheme == Scheme::ImpossibleDays).map(|p| (Spec::PhysicalTherapy, p.provider, take)).collect();
        Schemes { planted, by_provider, habits, mills }
    }

    fn of(&self, provider: u32) -> Option<&Planted> {
        self.by_provider.get(&provider).map(|&i| &self.planted[i])
    }

    fn is_mill_day(seed: u64, p: &Planted, dos: NaiveDate) -> bool {
        // 2% to 4% of days, fixed per provider and date.
        hash(seed, &[TAG_MILL, p.provider as u64, dos.num_days_from_ce() as u64]) % 1000 < (20.0 + 20.0 * p.strength) as u64
    }

    /// The provider that bills a specialist visit: `chosen`, unless a mill takes it over that day.
    pub fn redirect(&self, seed: u64, spec: Spec, chosen: u32, dos: NaiveDate, e: u64) -> u32 {
        for &(s, mill, take) in &self.mills {
            if s != spec || chosen == mill {
                continue;
            }
            let p = self.of(mill).expect("a mill is planted");
            if Schemes::is_mill_day(seed, p, dos) && (hash(seed, &[TAG_MILL, e]) % 10_000) as f64 / 10_000.0 < take {
                return mill;
            }
        }
        chosen
    }

    /// Applies the provider's habits, then its scheme if it has one, to a clean encounter.
    /// Returns the scheme that changed the encounter.
    pub fn apply(&self, model: &Model, enc: &mut Encounter, patient: &mut Patient, e: u64) -> Option<Scheme> {
        let mut r = Rng::new(hash(model.seed, &[TAG_SCHEME, e]));
        let prov = &model.providers[enc.provider as usize];
        let habits = self.habits[enc.provider as usize];
        shift_em(enc, prov, habits.em_shift, &mut r);
        shift_addons(enc, prov, habits.addon_shift, model, &mut r);
        let p = self.of(enc.provider)?;
        let s = p.strength;
        let changed = match p.scheme {
            Scheme::Upcoding => upcode(enc, prov, 0.25 + 0.45 * s, &mut r),
            Scheme::Modifier25 => add_modifier(enc, &mut r, 0.3 + 0.4 * s, is_em, &["25"]),
            Scheme::Modifier59 => add_modifier(enc, &mut r, 0.2 + 0.3 * s, |code| !is_em(code) && !code.starts_with('J'), &["59", "59", "XU"]),
            Scheme::ImpossibleDays => Schemes::is_mill_day(model.seed, p, enc.dos) && triple_timed_units(enc, model),
            Scheme::BillingAfterDeath => {
                r.chance(0.04 + 0.08 * s) && {
                    // A deceased beneficiary's identity: a patient of its own, dead before the visit.
                    patient.index = model.patients + e as u32;
                    patient.death = Some(enc.dos - Days::new(1 + hash(model.seed, &[TAG_DEATH, e]) % 400));
                    true
                }
            }
            Scheme::ExcludedNpi => true,
            Scheme::AddonInflation => inflate_addons(enc, prov, 0.5 + 0.5 * s, model, &mut r),
            Scheme::WeekendSurge => r.chance(0.3 + 0.3 * s) && move_to_weekend(enc, model),
            Scheme::ChargeInflation => {
                let mut any = false;
                for l in enc.lines.iter_mut().filter(|l| p.codes.contains(&l.code.as_ref())) {
                    l.unit_fee = templates::fee(&l.code) * (5.0 + 5.0 * s);
                    any = true;
                }
                any
            }
            Scheme::DuplicateBilling => r.chance(0.08 + 0.12 * s) && duplicate_with_modifier(enc, &mut r),
        };
        changed.then_some(p.scheme)
    }
}

const EM_UP: [(&str, &str); 6] =
    [("99211", "99212"), ("99212", "99213"), ("99213", "99214"), ("99214", "99215"), ("99202", "99203"), ("99203", "99204")];

fn recode(line: &mut super::model::PlannedLine, prov: &Provider, code: &'static str) {
    line.code = Cow::Borrowed(code);
    line.unit_fee = templates::fee(code) * prov.markup;
}

/// A provider's coding habit: now and then a visit one level up or down.
fn shift_em(enc: &mut Encounter, prov: &Provider, shift: f64, r: &mut Rng) {
    for l in &mut enc.lines {
        let target = if shift > 0.0 {
            EM_UP.iter().find(|(from, _)| *from == l.code).map(|(_, to)| *to)
        } else {
            EM_UP.iter().find(|(_, to)| *to == l.code).map(|(from, _)| *from)
        };
        if let Some(code) = target {
            if r.chance(shift.abs()) {
                recode(l, prov, code);
            }
        }
    }
}

/// Upcoding: visits moved to the two highest levels.
fn upcode(enc: &mut Encounter, prov: &Provider, p: f64, r: &mut Rng) -> bool {
    let mut any = false;
    for l in &mut enc.lines {
        let up: Option<&'static str> = match l.code.as_ref() {
            "99211" | "99212" | "99213" => Some(if r.chance(0.7) { "99214" } else { "99215" }),
            "99214" => Some("99215"),
            "99202" | "99203" => Some(if r.chance(0.7) { "99204" } else { "99205" }),
            "99204" => Some("99205"),
            _ => None,
        };
        if let Some(code) = up {
            if r.chance(p) {
                recode(l, prov, code);
                any = true;
            }
        }
    }
    any
}

fn add_modifier(enc: &mut Encounter, r: &mut Rng, p: f64, applies: impl Fn(&str) -> bool, choices: &[&'static str]) -> bool {
    let mut any = false;
    for l in &mut enc.lines {
        if !applies(&l.code) || l.mods.len() >= 4 || l.mods.iter().any(|m| choices.contains(&m.as_ref())) {
            continue;
        }
        if r.chance(p) {
            l.mods.push(Cow::Borrowed(*r.pick(choices)));
            any = true;
        }
    }
    any
}

/// The MUE limit of a code where the tables give one.
fn mue_cap(model: &Model, code: &str) -> u32 {
    model.pools.mue_limit.get(code).copied().unwrap_or(u32::MAX).max(1)
}

fn triple_timed_units(enc: &mut Encounter, model: &Model) -> bool {
    let mut any = false;
    for l in enc.lines.iter_mut().filter(|l| l.code.starts_with("97") && !matches!(l.code.as_ref(), "97161" | "97162" | "97163")) {
        l.units = (l.units * 3).min(mue_cap(model, &l.code).max(l.units));
        any = true;
    }
    any
}

fn shift_addons(enc: &mut Encounter, prov: &Provider, shift: f64, model: &Model, r: &mut Rng) {
    if prov.spec != Spec::Dermatology || !r.chance(shift.abs()) {
        return;
    }
    if let Some(l) = enc.lines.iter_mut().find(|l| l.code == "17312") {
        l.units = if shift > 0.0 { (l.units + 1).min(mue_cap(model, "17312")) } else { l.units.saturating_sub(1).max(1) };
    }
}

/// Add-on inflation: an extra Mohs stage (17312, 17314) billed on most cases.
fn inflate_addons(enc: &mut Encounter, prov: &Provider, p: f64, model: &Model, r: &mut Rng) -> bool {
    let mut any = false;
    for (primary, addon) in [("17311", "17312"), ("17313", "17314")] {
        let Some(pi) = enc.lines.iter().position(|l| l.code == primary) else { continue };
        if !r.chance(p) {
            continue;
        }
        match enc.lines.iter_mut().find(|l| l.code == addon) {
            Some(l) => l.units = (l.units + 1).min(mue_cap(model, addon)),
            None => {
                let pos: &'static str = match &enc.lines[pi].pos {
                    Cow::Borrowed(s) => s,
                    Cow::Owned(_) => "11",
                };
                let mut l = templates::line(prov, addon, 1, pos);
                l.claim = enc.lines[pi].claim;
                enc.lines.push(l);
            }
        }
        any = true;
    }
    any
}

/// Weekend surge: a weekday visit dated to the Saturday or Sunday of its week (the weekend
/// before when that falls past the last date), received dates moved with it.
fn move_to_weekend(enc: &mut Encounter, model: &Model) -> bool {
    let wd = enc.dos.weekday();
    if matches!(wd, Weekday::Sat | Weekday::Sun) {
        return false;
    }
    let monday = enc.dos - Days::new(wd.num_days_from_monday() as u64);
    let day = 5 + (hash(model.seed, &[TAG_SCHEME, enc.index, 7]) % 2);
    let last = model.start + Days::new(model.days as u64 - 1);
    let mut target = monday + Days::new(day);
    if target > last {
        target = monday - Days::new(7 - day);
    }
    if target < model.start {
        return false;
    }
    let delta = target.signed_duration_since(enc.dos);
    enc.dos = target;
    for c in &mut enc.claims {
        c.received += delta;
    }
    true
}

/// Duplicate billing: one line sent again on a new claim with a repeat-service modifier, so the
/// payer's duplicate edit (which compares modifiers) lets it through.
fn duplicate_with_modifier(enc: &mut Encounter, r: &mut Rng) -> bool {
    let i = r.below(enc.lines.len() as u64) as usize;
    if enc.lines[i].mods.len() >= 4 || enc.claims.len() >= 200 {
        return false;
    }
    let mut copy = enc.lines[i].clone();
    copy.mods.push(Cow::Borrowed(if copy.code.starts_with('8') { "91" } else { "76" }));
    let mut claim = enc.claims[copy.claim as usize].clone();
    claim.received = claim.received + Days::new(14 + r.below(30));
    copy.claim = enc.claims.len() as u8;
    enc.claims.push(claim);
    enc.lines.push(copy);
    true
}
