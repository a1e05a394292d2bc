//! The claims model: patients, providers, encounters (one patient, provider and date, billed on
//! one or more claims), the specialty templates that fill them, and the planted errors.

use std::borrow::Cow;

use chrono::{Datelike, Days, NaiveDate};

use super::oracle::{Counts, Fix, Oracle, Rule, RULES};
use super::pools::Pools;
use super::rng::{hash, Rng};
use crate::refdata::RefData;

pub type Text = Cow<'static, str>;

// ----- patients and providers -----

pub const PAYERS: &[&str] = &["MEDICARE", "ACME-COMMERCIAL", "NY-MEDICAID", "SUMMIT-PPO", "LAKESIDE-HMO"];

#[derive(Clone, Debug)]
pub struct Patient {
    pub index: u32,
    pub sex: &'static str,
    pub birth: NaiveDate,
    pub payer: &'static str,
    /// Index of the patient's primary care provider.
    pub pcp: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spec {
    FamilyMedicine,
    InternalMedicine,
    Pediatrics,
    Dermatology,
    PhysicalTherapy,
    Laboratory,
    Cardiology,
    Orthopedics,
    Emergency,
    Radiology,
    Chiropractic,
    Psychiatry,
    Ophthalmology,
}

/// (specialty, share of providers, share of specialist visits)
const SPECS: &[(Spec, u32, u32)] = &[
    (Spec::FamilyMedicine, 20, 0),
    (Spec::InternalMedicine, 14, 0),
    (Spec::Pediatrics, 6, 0),
    (Spec::Dermatology, 6, 8),
    (Spec::PhysicalTherapy, 8, 10),
    (Spec::Laboratory, 3, 9),
    (Spec::Cardiology, 5, 5),
    (Spec::Orthopedics, 5, 5),
    (Spec::Emergency, 6, 4),
    (Spec::Radiology, 5, 6),
    (Spec::Chiropractic, 4, 2),
    (Spec::Psychiatry, 5, 4),
    (Spec::Ophthalmology, 4, 3),
];

impl Spec {
    pub fn name(self) -> &'static str {
        match self {
            Spec::FamilyMedicine => "Family Practice",
            Spec::InternalMedicine => "Internal Medicine",
            Spec::Pediatrics => "Pediatric Medicine",
            Spec::Dermatology => "Dermatology",
            Spec::PhysicalTherapy => "Physical Therapist in Private Practice",
            Spec::Laboratory => "Clinical Laboratory",
            Spec::Cardiology => "Cardiology",
            Spec::Orthopedics => "Orthopedic Surgery",
            Spec::Emergency => "Emergency Medicine",
            Spec::Radiology => "Diagnostic Radiology",
            Spec::Chiropractic => "Chiropractic",
            Spec::Psychiatry => "Psychiatry",
            Spec::Ophthalmology => "Ophthalmology",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Provider {
    pub spec: Spec,
    pub npi: String,
    pub billing_npi: String,
    /// Charge markup over the base fee (providers bill different amounts).
    pub markup: f64,
}

/// NPI check digit: Luhn over "80840" followed by the nine-digit base.
pub fn npi_with_check_digit(base9: u64) -> String {
    let digits = format!("80840{base9:09}");
    let mut sum = 0u32;
    // From the rightmost digit of the base, every other digit (starting with it) is doubled.
    for (i, ch) in digits.bytes().rev().enumerate() {
        let mut d = (ch - b'0') as u32;
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    let check = (10 - sum % 10) % 10;
    format!("{base9:09}{check}")
}

// ----- encounters -----

#[derive(Clone, Debug)]
pub struct Line {
    pub claim: u8,
    pub code: Text,
    pub units: u32,
    pub mods: Vec<Text>,
    pub pos: Text,
    /// Charge per unit (base fee x provider markup).
    pub unit_fee: f64,
}

impl Line {
    pub fn charge(&self) -> f64 {
        (self.unit_fee * self.units as f64 * 100.0).round() / 100.0
    }
    pub fn has_any_modifier(&self, set: &[&str]) -> bool {
        self.mods.iter().any(|m| set.contains(&m.as_ref()))
    }
    /// FED-DUPLICATE-ACROSS-CLAIMS's key: code, modifiers, units and charge.
    pub fn same_service(&self, o: &Line) -> bool {
        self.code == o.code && self.mods == o.mods && self.units == o.units && self.charge() == o.charge()
    }
}

#[derive(Clone, Debug)]
pub struct Claim {
    pub dx: Vec<Text>,
    pub received: NaiveDate,
    pub prior_auth: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Encounter {
    pub index: u64,
    pub patient: u32,
    pub provider: u32,
    pub dos: NaiveDate,
    pub lines: Vec<Line>,
    pub claims: Vec<Claim>,
}

impl Encounter {
    /// Keeps lines grouped by claim (the order they are written in), drops empty claims.
    fn tidy(&mut self) {
        self.lines.sort_by_key(|l| l.claim);
        let mut map = vec![None; self.claims.len()];
        let mut next = 0u8;
        for l in &self.lines {
            if map[l.claim as usize].is_none() {
                map[l.claim as usize] = Some(next);
                next += 1;
            }
        }
        let old = std::mem::take(&mut self.claims);
        let mut claims: Vec<(u8, Claim)> =
            old.into_iter().enumerate().filter_map(|(i, c)| map[i].map(|n| (n, c))).collect();
        claims.sort_by_key(|(n, _)| *n);
        self.claims = claims.into_iter().map(|(_, c)| c).collect();
        for l in &mut self.lines {
            l.claim = map[l.claim as usize].expect("line's claim kept");
        }
    }
}

// ----- codes -----

struct Item {
    code: &'static str,
    fee: f64,
}

/// Typical billed charge per unit for the hand-listed codes. CPT codes appear as bare numbers
/// only (no descriptors).
const FEES: &[(&str, f64)] = &[
    ("99202", 110.0), ("99203", 170.0), ("99204", 260.0), ("99205", 340.0),
    ("99211", 45.0), ("99212", 90.0), ("99213", 140.0), ("99214", 210.0), ("99215", 290.0),
    ("99392", 180.0), ("99393", 185.0), ("99395", 220.0), ("99396", 240.0), ("99397", 260.0),
    ("G0438", 230.0), ("G0439", 170.0), ("G2211", 30.0),
    ("36415", 12.0), ("80053", 45.0), ("80048", 35.0), ("85025", 25.0), ("80061", 55.0), ("83036", 40.0),
    ("84443", 50.0), ("82306", 90.0), ("84153", 60.0), ("81001", 15.0), ("87086", 30.0), ("87880", 35.0),
    ("90471", 30.0), ("90686", 45.0), ("90662", 80.0), ("G0008", 35.0), ("90715", 60.0),
    ("96372", 40.0), ("J3301", 10.0), ("J1100", 5.0), ("J0696", 20.0), ("J1885", 8.0), ("J1030", 15.0), ("J1040", 25.0),
    ("93000", 60.0), ("93005", 40.0), ("93010", 25.0), ("93306", 450.0), ("93880", 300.0),
    ("17000", 120.0), ("17003", 15.0), ("11102", 180.0), ("11103", 90.0), ("17110", 150.0),
    ("17311", 900.0), ("17312", 450.0), ("17313", 800.0), ("17314", 400.0), ("17315", 120.0),
    ("11042", 250.0), ("11045", 90.0),
    ("97110", 45.0), ("97140", 45.0), ("97530", 50.0), ("97112", 48.0), ("97116", 42.0),
    ("97161", 150.0), ("97162", 160.0), ("97163", 180.0), ("G0283", 25.0), ("97035", 25.0),
    ("20610", 150.0), ("73562", 90.0), ("73721", 900.0), ("73030", 80.0),
    ("99282", 200.0), ("99283", 350.0), ("99284", 600.0), ("99285", 900.0),
    ("71046", 110.0), ("72148", 1100.0), ("70551", 1200.0), ("74177", 1500.0), ("77067", 250.0), ("76700", 350.0),
    ("98940", 55.0), ("98941", 70.0),
    ("90791", 250.0), ("90834", 150.0), ("90837", 200.0), ("90833", 90.0),
    ("92004", 250.0), ("92012", 120.0), ("92014", 170.0), ("92134", 90.0),
];

/// The hand-listed codes (PTP pairs for planting are kept only when they touch one of these).
pub fn common_codes() -> Vec<&'static str> {
    FEES.iter().map(|(c, _)| *c).collect()
}

/// Codes ACME-COMMERCIAL requires prior authorization for (rules/payers/acme-commercial).
const PRIOR_AUTH: &[&str] = &["70551", "70553", "72148", "72158", "73721"];

fn fee(code: &str) -> f64 {
    FEES.iter().find(|(c, _)| *c == code).map(|(_, f)| *f).unwrap_or_else(|| {
        // Long-tail codes: a stable fee from the code itself, 30-630.
        let h = hash(0x6665_6573, &[code.bytes().fold(0u64, |a, b| a.wrapping_mul(131).wrapping_add(b as u64))]);
        30.0 + (h % 120) as f64 * 5.0
    })
}

fn item(code: &'static str) -> Item {
    Item { code, fee: fee(code) }
}

const EM_ESTABLISHED: &[(&str, u32)] =
    &[("99213", 40), ("99214", 32), ("99212", 8), ("99215", 6), ("99211", 2), ("99203", 5), ("99204", 4), ("99202", 2), ("99205", 1)];

// Diagnoses by kind of visit (with the dot, as most claim systems print them).
const DX_PRIMARY_CARE: &[(&str, u32)] = &[
    ("I10", 20), ("E11.9", 10), ("E78.5", 10), ("Z00.00", 6), ("Z00.01", 3), ("J06.9", 8), ("E66.9", 4), ("K21.9", 4),
    ("F41.1", 4), ("F32.A", 3), ("R05.9", 4), ("E03.9", 4), ("N39.0", 3), ("M54.50", 5), ("Z23", 3), ("R53.83", 3),
    ("I48.91", 2), ("J45.909", 3), ("E11.65", 3), ("R73.03", 3), ("J02.9", 3), ("J20.9", 3), ("E11.22", 2), ("N17.9", 1),
];
const DX_PEDIATRIC: &[(&str, u32)] =
    &[("J06.9", 30), ("J02.9", 15), ("Z23", 15), ("J45.909", 10), ("R05.9", 10), ("J20.9", 6), ("R51.9", 4), ("E66.9", 3)];
const DX_DERM: &[(&str, u32)] = &[
    ("L57.0", 30), ("L82.1", 15), ("C44.311", 10), ("C44.310", 6), ("C44.320", 6), ("C44.42", 4), ("D22.9", 8), ("D48.5", 8),
    ("C43.9", 3), ("L98.9", 6),
];
const DX_MOHS: &[(&str, u32)] = &[("C44.311", 35), ("C44.310", 20), ("C44.320", 20), ("C44.42", 15), ("C43.9", 5)];
const DX_MSK: &[(&str, u32)] =
    &[("M54.50", 30), ("M25.561", 20), ("M17.11", 20), ("M79.7", 8), ("M54.59", 8), ("M54.51", 6), ("S72.001D", 4)];
const DX_CARDIO: &[(&str, u32)] = &[("I10", 25), ("I25.10", 25), ("I48.91", 20), ("I50.9", 15), ("E78.5", 15)];
const DX_ED: &[(&str, u32)] = &[
    ("R10.9", 20), ("R51.9", 10), ("J18.9", 10), ("N39.0", 10), ("S72.001A", 6), ("R05.9", 10), ("I63.9", 4), ("J20.9", 10),
    ("U07.1", 4), ("N17.9", 3),
];
const DX_PSYCH: &[(&str, u32)] = &[("F41.1", 35), ("F32.9", 25), ("F32.A", 25), ("F03.90", 5), ("G47.33", 10)];
const DX_EYE: &[(&str, u32)] = &[("E11.9", 40), ("E11.65", 20), ("I10", 20), ("R51.9", 20)];
/// Always-valid fallbacks (no MCE flags) when a drawn code does not suit the patient or date.
const DX_FALLBACK: &[&str] = &["R53.83", "J06.9", "R05.9", "R10.9", "M54.50", "R51.9", "E78.5", "I10"];

// ----- the generator -----

pub struct Model<'a> {
    pub seed: u64,
    pub rd: &'a RefData,
    pub pools: &'a Pools,
    pub oracle: Oracle<'a>,
    pub providers: Vec<Provider>,
    by_spec: Vec<Vec<u32>>,
    /// Primary care providers for children (pediatrics, family medicine) and adults.
    pcp_child: Vec<u32>,
    pcp_adult: Vec<u32>,
    /// Specialist visits by specialty.
    specialist_mix: Vec<(Spec, u32)>,
    pub patients: u32,
    patient_mult: u64,
    pub error_rate: f64,
    pub plantable: Vec<Rule>,
    pub start: NaiveDate,
    pub days: u32,
}

const TAG_PATIENT: u64 = 1;
const TAG_PROVIDER: u64 = 2;
const TAG_ENCOUNTER: u64 = 3;
const TAG_FILLER: u64 = 4;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Outcome of generating one encounter.
pub struct Generated {
    pub enc: Encounter,
    pub patient: Patient,
    pub planted: Option<Rule>,
    /// What the federal rules should find on it (the planted error; zero when clean).
    pub expected: Counts,
}

impl<'a> Model<'a> {
    pub fn new(seed: u64, lines: u64, rd: &'a RefData, pools: &'a Pools, error_rate: f64, start: NaiveDate, days: u32) -> Model<'a> {
        let n_providers = (lines / 1500).clamp(40, 50_000) as u32;
        let patients = (lines / 8).max(20) as u32;
        let weights: Vec<u32> = SPECS.iter().map(|s| s.1).collect();
        let mut providers = Vec::with_capacity(n_providers as usize);
        let mut by_spec = vec![Vec::new(); SPECS.len()];
        let salt = hash(seed, &[TAG_PROVIDER]) % 200_000_000;
        for q in 0..n_providers as u64 {
            let mut r = Rng::new(hash(seed, &[TAG_PROVIDER, q]));
            // Every specialty has at least one provider.
            let s = if (q as usize) < SPECS.len() { q as usize } else { r.weighted(&weights) };
            // NPIs start with 1 or 2. 7^10 is coprime with 2e8, so bases are distinct, and the
            // group (billing) NPIs sit 1e8 away from every individual one.
            let base = 100_000_000 + (q * 282_475_249 + salt) % 200_000_000;
            let group = q / 6;
            let gbase = 100_000_000 + (group * 282_475_249 + salt + 100_000_000) % 200_000_000;
            by_spec[s].push(q as u32);
            providers.push(Provider {
                spec: SPECS[s].0,
                npi: npi_with_check_digit(base),
                billing_npi: npi_with_check_digit(gbase),
                markup: 1.0 + r.below(31) as f64 * 0.05,
            });
        }
        let mut patient_mult = 2_654_435_761 % patients as u64;
        while gcd(patient_mult, patients as u64) != 1 {
            patient_mult += 1;
        }
        let oracle = Oracle::new(rd);
        let mut plantable = Vec::new();
        for rule in RULES {
            let ok = match rule {
                Rule::Ptp => rd.has_table("ptp") && !pools.ptp_pairs.is_empty(),
                Rule::Mue => rd.has_table("mue") && !pools.mue_codes.is_empty(),
                Rule::AddonPrimary => rd.has_table("aoc") && !pools.addons.is_empty(),
                Rule::AddonType3 | Rule::AddonContractor => false,
                Rule::IcdInvalid => rd.has_table("icd10") || rd.has_table("mce"),
                Rule::IcdNotBillable => rd.has_table("icd10") && !pools.icd_headers.is_empty(),
                Rule::MceSex => rd.has_table("mce") && (pools.mce_flagged.contains_key("female") || pools.mce_flagged.contains_key("male")),
                Rule::MceAge => rd.has_table("mce") && rd.has_table("mce_ages") && !pools.mce_flagged.is_empty(),
                Rule::MceManifestation => rd.has_table("mce") && pools.mce_flagged.contains_key("manifestation"),
                Rule::HcpcsExists => rd.has_table("hcpcs"),
                Rule::PosValid => rd.has_table("pos"),
                Rule::ModifierValid => rd.has_table("modifiers"),
                Rule::TimelyFiling | Rule::DuplicateAcrossClaims => true,
            };
            if ok {
                plantable.push(rule);
            }
        }
        let of = |s: Spec| by_spec[SPECS.iter().position(|x| x.0 == s).expect("listed")].clone();
        let pcp_child = [of(Spec::Pediatrics), of(Spec::FamilyMedicine)].concat();
        let pcp_adult = [of(Spec::FamilyMedicine), of(Spec::InternalMedicine)].concat();
        let specialist_mix = SPECS.iter().filter(|s| s.2 > 0).map(|s| (s.0, s.2)).collect();
        Model {
            seed,
            rd,
            pools,
            oracle,
            providers,
            by_spec,
            pcp_child,
            pcp_adult,
            specialist_mix,
            patients,
            patient_mult,
            error_rate,
            plantable,
            start,
            days,
        }
    }

    fn providers_of(&self, s: Spec) -> &[u32] {
        let i = SPECS.iter().position(|x| x.0 == s).expect("listed");
        &self.by_spec[i]
    }

    pub fn patient(&self, p: u32) -> Patient {
        let mut r = Rng::new(hash(self.seed, &[TAG_PATIENT, p as u64]));
        let sex = if r.chance(0.54) { "F" } else { "M" };
        let band = r.weighted(&[16, 26, 26, 32]);
        let age = match band {
            0 => r.range(0, 17),
            1 => r.range(18, 44),
            2 => r.range(45, 64),
            _ => r.range(65, 94),
        };
        let reference = self.start;
        let birth = NaiveDate::from_ymd_opt(reference.year() - age as i32, 1, 1).expect("valid")
            + Days::new(r.below(365));
        let birth = birth.min(reference);
        let payer = if age >= 65 {
            PAYERS[r.pick_weighted(&[(0usize, 80), (1, 10), (3, 10)])]
        } else if age < 18 {
            PAYERS[r.pick_weighted(&[(2usize, 45), (1, 25), (3, 15), (4, 15)])]
        } else {
            PAYERS[r.pick_weighted(&[(1usize, 35), (3, 25), (4, 20), (2, 15), (0, 5)])]
        };
        let pcps = if age < 18 { &self.pcp_child } else { &self.pcp_adult };
        let pcp = pcps[r.below(pcps.len() as u64) as usize];
        Patient { index: p, sex, birth, payer, pcp }
    }

    /// The patient and date of encounter `e`. Encounters go round the patients in rounds (a
    /// scrambled order in each); a patient's rounds fall on distinct dates, so two encounters
    /// never share a patient and date by accident: every cross-claim patient-day is deliberate.
    fn patient_and_date(&self, e: u64) -> (u32, NaiveDate) {
        let n = self.patients as u64;
        let (round, i) = (e / n, e % n);
        let p = ((i * self.patient_mult + round * 7919) % n) as u32;
        let offset = hash(self.seed, &[TAG_PATIENT, p as u64, 99]) % self.days as u64;
        // 53 is coprime with the usual windows (366, 365, 274 days): rounds give distinct dates.
        let day = (offset + (round % self.days as u64) * 53) % self.days as u64;
        (p, self.start + Days::new(day))
    }

    fn line(&self, p: &Provider, code: &'static str, units: u32, pos: &'static str) -> Line {
        let it = item(code);
        Line { claim: 0, code: Cow::Borrowed(it.code), units, mods: Vec::new(), pos: Cow::Borrowed(pos), unit_fee: it.fee * p.markup }
    }

    fn dx_ok(&self, code: &str, patient: &Patient, dos: NaiveDate, slot: usize) -> bool {
        let mut bad = false;
        self.oracle.dx_issues(code, slot, patient, dos, |_| bad = true);
        !bad
    }

    /// 1-4 diagnoses: the visit's own list first, then chronic conditions or the long tail.
    fn diagnoses(&self, r: &mut Rng, list: &[(&'static str, u32)], patient: &Patient, dos: NaiveDate) -> Vec<Text> {
        let n = 1 + r.weighted(&[45, 30, 15, 10]);
        let mut out: Vec<Text> = Vec::new();
        for slot in 0..n {
            for _ in 0..6 {
                let code: &'static str = if slot > 0 && r.chance(0.12) && !self.pools.icd_billable.is_empty() {
                    *r.pick(&self.pools.icd_billable)
                } else if slot > 0 && r.chance(0.4) {
                    r.pick_weighted(DX_PRIMARY_CARE)
                } else {
                    r.pick_weighted(list)
                };
                if out.iter().any(|d| d == code) || !self.dx_ok(code, patient, dos, slot) {
                    continue;
                }
                out.push(Cow::Borrowed(code));
                break;
            }
        }
        if out.is_empty() {
            let fb = DX_FALLBACK.iter().find(|c| self.dx_ok(c, patient, dos, 0)).copied().unwrap_or(DX_FALLBACK[0]);
            out.push(Cow::Borrowed(fb));
        }
        out
    }

    /// A clean encounter as a specialty would bill it (repaired where a draw broke a rule).
    fn clean(&self, e: u64, r: &mut Rng, filler: bool) -> (Encounter, Patient) {
        let (p, dos) = self.patient_and_date(e);
        let patient = self.patient(p);
        let age = crate::dates::age_on(patient.birth, dos);
        let medicare = patient.payer == "MEDICARE";
        let spec = if filler || r.chance(0.58) {
            None
        } else {
            Some(r.pick_weighted(&self.specialist_mix))
        };
        let provider = match spec {
            None => patient.pcp,
            Some(s) => {
                let list = self.providers_of(s);
                // Patients keep seeing the same specialist.
                list[(hash(self.seed, &[TAG_PATIENT, p as u64, s as u64]) % list.len() as u64) as usize]
            }
        };
        let prov = &self.providers[provider as usize];
        let mut lines: Vec<Line> = Vec::new();
        let mut dx_list: &[(&'static str, u32)] = if age < 18 { DX_PEDIATRIC } else { DX_PRIMARY_CARE };
        let em = |r: &mut Rng| r.pick_weighted(EM_ESTABLISHED);
        let pos = "11";
        match (filler, prov.spec) {
            (true, _) => push(&mut lines, self.line(prov, "99213", 1, pos)),
            (_, Spec::FamilyMedicine | Spec::InternalMedicine | Spec::Pediatrics) => {
                if medicare && r.chance(0.08) {
                    push(&mut lines, self.line(prov, "G0439", 1, pos));
                } else if !medicare && patient.payer != "NY-MEDICAID" && r.chance(0.07) {
                    let code = match age {
                        0..=4 => "99392",
                        5..=17 => "99393",
                        18..=39 => "99395",
                        40..=64 => "99396",
                        _ => "99397",
                    };
                    push(&mut lines, self.line(prov, code, 1, pos));
                } else {
                    push(&mut lines, self.line(prov, em(r), 1, pos));
                    if medicare && r.chance(0.2) {
                        push(&mut lines, self.line(prov, "G2211", 1, pos));
                    }
                }
                if r.chance(0.3) {
                    push(&mut lines, self.line(prov, "36415", 1, pos));
                    let labs = [("80053", 5), ("80061", 4), ("85025", 5), ("83036", 3), ("84443", 3), ("80048", 2), ("82306", 2), ("81001", 2)];
                    for _ in 0..r.range(1, 3) {
                        push(&mut lines, self.line(prov, r.pick_weighted(&labs), 1, pos));
                    }
                    if patient.sex == "M" && age >= 50 && r.chance(0.2) {
                        push(&mut lines, self.line(prov, "84153", 1, pos));
                    }
                }
                let flu = matches!(dos.month(), 9..=12 | 1) && r.chance(0.25);
                if flu || r.chance(0.04) {
                    if medicare {
                        push(&mut lines, self.line(prov, "G0008", 1, pos));
                        push(&mut lines, self.line(prov, "90662", 1, pos));
                    } else {
                        push(&mut lines, self.line(prov, "90471", 1, pos));
                        push(&mut lines, self.line(prov, if age < 18 && r.chance(0.3) { "90715" } else { "90686" }, 1, pos));
                    }
                }
                if r.chance(0.05) {
                    push(&mut lines, self.line(prov, "96372", 1, pos));
                    let drugs = [("J3301", 4u32), ("J1100", 10), ("J0696", 2), ("J1885", 2), ("J1030", 1)];
                    let (d, max) = drugs[r.below(drugs.len() as u64) as usize];
                    push(&mut lines, self.line(prov, d, r.range(1, max), pos));
                }
                if age >= 40 && r.chance(0.05) {
                    push(&mut lines, self.line(prov, "93000", 1, pos));
                }
                if age < 18 && r.chance(0.1) {
                    push(&mut lines, self.line(prov, "87880", 1, pos));
                }
            }
            (_, Spec::Dermatology) => {
                dx_list = DX_DERM;
                let mohs = r.chance(0.25);
                if mohs {
                    dx_list = DX_MOHS;
                    if r.chance(0.85) {
                        push(&mut lines, self.line(prov, "17311", r.range(1, 2), pos));
                        if r.chance(0.6) {
                            push(&mut lines, self.line(prov, "17312", r.range(1, 3), pos));
                        }
                    } else {
                        push(&mut lines, self.line(prov, "17313", 1, pos));
                        if r.chance(0.5) {
                            push(&mut lines, self.line(prov, "17314", 1, pos));
                        }
                    }
                    if r.chance(0.1) {
                        push(&mut lines, self.line(prov, "17315", 1, pos));
                    }
                }
                if !mohs || r.chance(0.15) {
                    push(&mut lines, self.line(prov, if r.chance(0.6) { "99213" } else { "99214" }, 1, pos));
                }
                if !mohs {
                    if r.chance(0.35) {
                        push(&mut lines, self.line(prov, "17000", 1, pos));
                        if r.chance(0.5) {
                            push(&mut lines, self.line(prov, "17003", r.range(1, 8), pos));
                        }
                    }
                    if r.chance(0.2) {
                        push(&mut lines, self.line(prov, "11102", 1, pos));
                        if r.chance(0.3) {
                            push(&mut lines, self.line(prov, "11103", r.range(1, 2), pos));
                        }
                    }
                    if r.chance(0.05) {
                        push(&mut lines, self.line(prov, "17110", 1, pos));
                    }
                }
            }
            (_, Spec::PhysicalTherapy) => {
                dx_list = DX_MSK;
                if r.chance(0.1) {
                    push(&mut lines, self.line(prov, ["97161", "97162", "97163"][r.below(3) as usize], 1, pos));
                }
                if r.chance(0.85) {
                    push(&mut lines, self.line(prov, "97110", r.range(1, 4), pos));
                }
                if r.chance(0.5) {
                    push(&mut lines, self.line(prov, "97140", r.range(1, 2), pos));
                }
                if r.chance(0.4) {
                    push(&mut lines, self.line(prov, "97530", r.range(1, 3), pos));
                }
                if r.chance(0.3) {
                    push(&mut lines, self.line(prov, "97112", r.range(1, 2), pos));
                }
                if r.chance(0.1) {
                    push(&mut lines, self.line(prov, "97116", 1, pos));
                }
                if r.chance(0.15) {
                    push(&mut lines, self.line(prov, "G0283", 1, pos));
                }
                if lines.is_empty() {
                    push(&mut lines, self.line(prov, "97110", 2, pos));
                }
                for l in &mut lines {
                    l.mods.push(Cow::Borrowed("GP"));
                }
            }
            (_, Spec::Laboratory) => {
                let pos = "81";
                push(&mut lines, self.line(prov, "36415", 1, pos));
                let labs = [("80053", 6), ("80061", 5), ("85025", 6), ("83036", 4), ("84443", 4), ("80048", 3), ("82306", 3), ("81001", 3), ("87086", 2)];
                for _ in 0..r.range(1, 4) {
                    push(&mut lines, self.line(prov, r.pick_weighted(&labs), 1, pos));
                }
            }
            (_, Spec::Cardiology) => {
                dx_list = DX_CARDIO;
                push(&mut lines, self.line(prov, if r.chance(0.5) { "99214" } else { "99213" }, 1, pos));
                if r.chance(0.4) {
                    push(&mut lines, self.line(prov, "93000", 1, pos));
                }
                if r.chance(0.15) {
                    push(&mut lines, self.line(prov, "93306", 1, pos));
                }
                if r.chance(0.05) {
                    push(&mut lines, self.line(prov, "93880", 1, pos));
                }
            }
            (_, Spec::Orthopedics) => {
                dx_list = DX_MSK;
                push(&mut lines, self.line(prov, if r.chance(0.55) { "99213" } else { "99214" }, 1, pos));
                if r.chance(0.25) {
                    let mut l = self.line(prov, "20610", 1, pos);
                    l.mods.push(Cow::Borrowed(if r.chance(0.5) { "RT" } else { "LT" }));
                    push(&mut lines, l);
                    push(&mut lines, self.line(prov, if r.chance(0.7) { "J3301" } else { "J1030" }, r.range(1, 4), pos));
                }
                if r.chance(0.3) {
                    push(&mut lines, self.line(prov, "73562", 1, pos));
                }
                if r.chance(0.08) {
                    push(&mut lines, self.line(prov, "73721", 1, pos));
                }
            }
            (_, Spec::Emergency) => {
                dx_list = DX_ED;
                let pos = "23";
                push(&mut lines, self.line(prov, r.pick_weighted(&[("99283", 35), ("99284", 40), ("99285", 20), ("99282", 5)]), 1, pos));
                if r.chance(0.2) {
                    push(&mut lines, self.line(prov, "93010", 1, pos));
                }
                if r.chance(0.15) {
                    let mut l = self.line(prov, "71046", 1, pos);
                    l.mods.push(Cow::Borrowed("26"));
                    push(&mut lines, l);
                }
            }
            (_, Spec::Radiology) => {
                dx_list = DX_MSK;
                let hospital = r.chance(0.4);
                let pos = if hospital { "22" } else { "11" };
                let code = if patient.sex == "F" && age >= 40 && r.chance(0.3) {
                    dx_list = &[("Z12.31", 1)];
                    "77067"
                } else {
                    r.pick_weighted(&[("71046", 25), ("73562", 15), ("73030", 10), ("72148", 10), ("70551", 8), ("74177", 8), ("76700", 8)])
                };
                if code == "71046" || code == "74177" || code == "76700" {
                    dx_list = DX_ED;
                }
                let mut l = self.line(prov, code, 1, pos);
                if hospital {
                    l.mods.push(Cow::Borrowed("26"));
                }
                push(&mut lines, l);
            }
            (_, Spec::Chiropractic) => {
                dx_list = DX_MSK;
                push(&mut lines, self.line(prov, if r.chance(0.6) { "98940" } else { "98941" }, 1, pos));
                if r.chance(0.3) {
                    push(&mut lines, self.line(prov, "97140", 1, pos));
                }
            }
            (_, Spec::Psychiatry) => {
                dx_list = DX_PSYCH;
                let tele = r.chance(0.15);
                let pos = if tele { "10" } else { "11" };
                let first = r.pick_weighted(&[("90834", 40), ("90837", 30), ("90791", 10), ("99214", 20)]);
                push(&mut lines, self.line(prov, first, 1, pos));
                if first == "99214" {
                    push(&mut lines, self.line(prov, "90833", 1, pos));
                }
                if tele {
                    for l in &mut lines {
                        l.mods.push(Cow::Borrowed("95"));
                    }
                }
            }
            (_, Spec::Ophthalmology) => {
                dx_list = DX_EYE;
                push(&mut lines, self.line(prov, r.pick_weighted(&[("92014", 45), ("92012", 35), ("92004", 20)]), 1, pos));
                if r.chance(0.2) {
                    push(&mut lines, self.line(prov, "92134", 1, pos));
                }
            }
        }
        // The long tail: now and then a code drawn from the MUE table.
        if !filler && r.chance(0.05) && !self.pools.mue_codes.is_empty() {
            let code: &'static str = *r.pick(&self.pools.mue_codes);
            let pos_here: &'static str = match &lines[0].pos {
                Cow::Borrowed(s) => s,
                Cow::Owned(_) => "11",
            };
            push(&mut lines, self.line(prov, code, 1, pos_here));
        }
        // E/M billed with a procedure on the same day: modifier 25, as practices do.
        let has_procedure = lines.iter().any(|l| !is_em(&l.code) && !l.code.starts_with("J") && !l.code.starts_with('8') && l.code != "36415");
        if has_procedure {
            for l in &mut lines {
                if is_em(&l.code) && !l.mods.iter().any(|m| m == "25") {
                    l.mods.push(Cow::Borrowed("25"));
                }
            }
        }
        // Clamp units to the MUE the table gives for the code (most visits stay well within).
        for l in &mut lines {
            if let Some(&limit) = self.pools.mue_limit.get(l.code.as_ref()) {
                l.units = l.units.min(limit.max(1));
            }
        }
        let dx = self.diagnoses(r, dx_list, &patient, dos);
        let received = dos + Days::new(2 + r.below(12) + if r.chance(0.3) { r.below(30) } else { 0 });
        let prior_auth = lines.iter().any(|l| PRIOR_AUTH.contains(&l.code.as_ref())).then(|| format!("PA{:08}", r.below(100_000_000)));
        let mut enc = Encounter {
            index: e,
            patient: p,
            provider,
            dos,
            lines,
            claims: vec![Claim { dx, received, prior_auth }],
        };
        // Some patient-days are billed on two claims (labs or a procedure sent separately).
        if enc.lines.len() >= 2 && !filler && r.chance(0.12) {
            let k = 1 + r.below(enc.lines.len() as u64 - 1) as usize;
            let mut second = enc.claims[0].clone();
            second.received = second.received + Days::new(r.below(15));
            enc.claims.push(second);
            for l in &mut enc.lines[k..] {
                l.claim = 1;
            }
        }
        self.repair(&mut enc, &patient);
        (enc, patient)
    }

    /// Fixes what the federal rules would flag, as a coder would. Returns whether it is clean.
    fn repair(&self, enc: &mut Encounter, patient: &Patient) -> bool {
        for _ in 0..8 {
            let issues = self.oracle.issues(enc, patient);
            let Some(issue) = issues.first() else { return true };
            let mut drop = None;
            match issue.fix {
                Fix::DropLine(i) => drop = Some(i),
                Fix::Bypass(i) => {
                    let l = &mut enc.lines[i];
                    let m = if is_em(&l.code) { "25" } else { "59" };
                    if l.mods.len() < 4 && self.rd.modifier_valid(m) != Some(false) {
                        l.mods.push(Cow::Borrowed(m));
                    } else {
                        drop = Some(i);
                    }
                }
                Fix::Units(i, max) => {
                    if max == 0 {
                        drop = Some(i);
                    } else {
                        enc.lines[i].units = max;
                    }
                }
                Fix::Dx { claim, slot } => {
                    let replacement = DX_FALLBACK
                        .iter()
                        .find(|c| !enc.claims[claim].dx.iter().any(|d| d == *c) && self.dx_ok(c, patient, enc.dos, slot));
                    match replacement {
                        Some(c) => enc.claims[claim].dx[slot] = Cow::Borrowed(c),
                        None if enc.claims[claim].dx.len() > 1 => {
                            enc.claims[claim].dx.remove(slot);
                        }
                        None => return false,
                    }
                }
                Fix::Pos(i) => enc.lines[i].pos = Cow::Borrowed("11"),
                Fix::Modifier { line, modifier } => {
                    enc.lines[line].mods.remove(modifier);
                }
                Fix::Received(c) => enc.claims[c].received = enc.dos + Days::new(10),
            }
            if let Some(i) = drop {
                enc.lines.remove(i);
                if enc.lines.is_empty() {
                    let prov = &self.providers[enc.provider as usize];
                    let mut l = self.line(prov, "99213", 1, "11");
                    l.claim = 0;
                    enc.lines.push(l);
                }
                enc.tidy();
            }
        }
        self.oracle.issues(enc, patient).is_empty()
    }

    /// Encounter `e`, clean or with one planted error.
    pub fn generate(&self, e: u64) -> Generated {
        let mut r = Rng::new(hash(self.seed, &[TAG_ENCOUNTER, e]));
        let (mut enc, patient) = self.clean(e, &mut r, false);
        if !self.oracle.issues(&enc, &patient).is_empty() {
            // The draw could not be repaired: bill a plain office visit instead.
            enc = self.clean(e, &mut Rng::new(hash(self.seed, &[TAG_FILLER, e])), true).0;
        }
        let mut planted = None;
        let p = (self.error_rate * enc.lines.len() as f64).min(1.0);
        if !self.plantable.is_empty() && r.chance(p) {
            for _ in 0..6 {
                let rule = *r.pick(&self.plantable);
                let mut trial = enc.clone();
                if !self.plant(rule, &mut trial, &patient, &mut r) {
                    continue;
                }
                trial.tidy();
                let counts = self.oracle.counts(&trial, &patient);
                // Exactly the planted finding (a late claim is flagged once per line).
                let only_target = counts.iter().enumerate().all(|(i, &c)| (i == rule.index()) == (c > 0));
                if only_target && (rule == Rule::TimelyFiling || counts[rule.index()] == 1) {
                    enc = trial;
                    planted = Some(rule);
                    break;
                }
            }
        }
        let expected = self.oracle.counts(&enc, &patient);
        Generated { enc, patient, planted, expected }
    }

    /// The tail of a file: a one-line visit, so the line count comes out exact.
    pub fn filler(&self, e: u64) -> Generated {
        let (enc, patient) = self.clean(e, &mut Rng::new(hash(self.seed, &[TAG_FILLER, e])), true);
        let expected = self.oracle.counts(&enc, &patient);
        Generated { enc, patient, planted: None, expected }
    }

    fn plant(&self, rule: Rule, enc: &mut Encounter, patient: &Patient, r: &mut Rng) -> bool {
        let dos = enc.dos;
        let prov = self.providers[enc.provider as usize].clone();
        let pos: &'static str = match &enc.lines[0].pos {
            Cow::Borrowed(s) => s,
            Cow::Owned(_) => "11",
        };
        match rule {
            Rule::Ptp => {
                let pair = *r.pick(&self.pools.ptp_pairs);
                // Unbundling: the component billed beside its comprehensive code, no modifiers.
                // Half the time the pair is the whole visit, else it joins what the visit billed.
                if r.chance(0.5) {
                    enc.lines.clear();
                }
                enc.lines.retain(|l| l.code != pair.column1 && l.code != pair.column2);
                let mut c1 = self.line(&prov, pair.column1, 1, pos);
                let mut c2 = self.line(&prov, pair.column2, 1, pos);
                c1.claim = 0;
                c2.claim = if enc.claims.len() > 1 || r.chance(0.3) { 1 } else { 0 };
                if c2.claim == 1 && enc.claims.len() == 1 {
                    let mut second = enc.claims[0].clone();
                    second.received = second.received + Days::new(r.below(10));
                    enc.claims.push(second);
                }
                enc.lines.push(c1);
                enc.lines.push(c2);
                true
            }
            Rule::Mue => {
                // Units above the limit on a line the encounter has, or on a long-tail code.
                let candidates: Vec<usize> =
                    (0..enc.lines.len()).filter(|&i| self.rd.mue(&enc.lines[i].code, dos).is_some_and(|m| m.units >= 1 && m.units <= 60)).collect();
                let i = if !candidates.is_empty() && r.chance(0.7) {
                    *r.pick(&candidates)
                } else {
                    let code: &'static str = *r.pick(&self.pools.mue_codes);
                    if enc.lines.iter().any(|l| l.code == code) {
                        return false;
                    }
                    enc.lines.push(self.line(&prov, code, 1, pos));
                    enc.lines.len() - 1
                };
                let Some(m) = self.rd.mue(&enc.lines[i].code, dos) else { return false };
                enc.lines[i].units = m.units + 1 + r.below(if m.units > 4 { 3 } else { 1 }) as u32;
                true
            }
            Rule::AddonPrimary => {
                // An add-on whose primary is missing: drop the primary if the visit has one, else
                // bill a type 1 add-on on its own.
                let with_primary: Vec<usize> = (0..enc.lines.len())
                    .filter(|&i| self.rd.addon(&enc.lines[i].code, dos).is_some_and(|a| a.edit_type == 1 && !a.primaries.is_empty()))
                    .collect();
                if let Some(&i) = with_primary.first() {
                    let a = self.rd.addon(&enc.lines[i].code, dos).expect("checked");
                    enc.lines.retain(|l| !a.primaries.iter().any(|p| p == l.code.as_ref()));
                    !enc.lines.is_empty()
                } else {
                    let code: &'static str = *r.pick(&self.pools.addons);
                    let Some(a) = self.rd.addon(code, dos) else { return false };
                    if enc.lines.iter().any(|l| l.code == code || a.primaries.iter().any(|p| p == l.code.as_ref())) {
                        return false;
                    }
                    enc.lines.push(self.line(&prov, code, 1, pos));
                    true
                }
            }
            Rule::IcdInvalid => {
                // A keying error: a code that does not exist (an extra character, a typo).
                let dx = &mut enc.claims[0].dx;
                let slot = r.below(dx.len() as u64) as usize;
                let base = dx[slot].to_string();
                for _ in 0..10 {
                    let bad = match r.below(3) {
                        0 => format!("{base}{}", r.below(10)),
                        1 => {
                            let letter = (b'A' + r.below(26) as u8) as char;
                            format!("{letter}{}{}.{}", r.below(10), r.below(10), r.below(100))
                        }
                        _ => format!("{}9", &base[..base.len().saturating_sub(1)]),
                    };
                    if self.rd.icd10_status(&bad, dos) == crate::refdata::IcdStatus::Unknown && self.rd.mce_flags(&bad, dos).is_empty() {
                        dx[slot] = Cow::Owned(bad);
                        return true;
                    }
                }
                false
            }
            Rule::IcdNotBillable => {
                let dx = &mut enc.claims[0].dx;
                let slot = r.below(dx.len() as u64) as usize;
                // Prefer the header above the code the claim has (I10 -> no; E11.9 -> E11).
                let current = dx[slot].to_string();
                let parent = current.rfind(|c: char| c.is_ascii_alphanumeric()).map(|_| current[..current.len() - 1].trim_end_matches('.').to_string());
                let choice = match parent {
                    Some(p) if p.len() >= 3 && self.rd.icd10_status(&p, dos) == crate::refdata::IcdStatus::NotBillable => p,
                    _ => r.pick(&self.pools.icd_headers).to_string(),
                };
                if self.rd.icd10_status(&choice, dos) != crate::refdata::IcdStatus::NotBillable {
                    return false;
                }
                dx[slot] = Cow::Owned(choice);
                true
            }
            Rule::MceSex => {
                let flag = if patient.sex == "M" { "female" } else { "male" };
                let Some(pool) = self.pools.mce_flagged.get(flag) else { return false };
                self.add_dx(enc, *r.pick(pool))
            }
            Rule::MceAge => {
                let age = crate::dates::age_on(patient.birth, dos);
                let groups: &[&str] = if age < 15 { &["adult", "maternity"] } else if age > 17 { &["newborn", "pediatric"] } else { &["newborn"] };
                let g = *r.pick(groups);
                let Some(pool) = self.pools.mce_flagged.get(g) else { return false };
                self.add_dx(enc, *r.pick(pool))
            }
            Rule::MceManifestation => {
                let Some(pool) = self.pools.mce_flagged.get("manifestation") else { return false };
                let code = *r.pick(pool);
                let dx = &mut enc.claims[0].dx;
                if dx.iter().any(|d| d == code) {
                    return false;
                }
                // Sequenced first, ahead of the underlying condition.
                dx.insert(0, Cow::Borrowed(code));
                dx.truncate(12);
                true
            }
            Rule::HcpcsExists => {
                let i = r.below(enc.lines.len() as u64) as usize;
                for _ in 0..20 {
                    let letter = ["A", "E", "G", "J", "L", "Q"][r.below(6) as usize];
                    let code = format!("{letter}{:04}", r.below(10_000));
                    if self.rd.hcpcs_exists(&code) == Some(false) {
                        enc.lines[i].code = Cow::Owned(code);
                        return true;
                    }
                }
                false
            }
            Rule::PosValid => {
                let i = r.below(enc.lines.len() as u64) as usize;
                for _ in 0..30 {
                    let pos = format!("{:02}", r.below(100));
                    if self.rd.pos_valid(&pos) == Some(false) {
                        enc.lines[i].pos = Cow::Owned(pos);
                        return true;
                    }
                }
                false
            }
            Rule::ModifierValid => {
                let i = r.below(enc.lines.len() as u64) as usize;
                if enc.lines[i].mods.len() >= 4 {
                    return false;
                }
                const CH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
                for _ in 0..30 {
                    let m: String = [CH[r.below(36) as usize] as char, CH[r.below(26) as usize] as char].iter().collect();
                    if self.rd.modifier_valid(&m) == Some(false) {
                        enc.lines[i].mods.push(Cow::Owned(m));
                        return true;
                    }
                }
                false
            }
            Rule::TimelyFiling => {
                if patient.payer != "MEDICARE" {
                    return false;
                }
                let c = r.below(enc.claims.len() as u64) as usize;
                enc.claims[c].received = dos + Days::new(366 + r.below(200));
                true
            }
            Rule::DuplicateAcrossClaims => {
                // The same line sent again on a new claim (a resubmission instead of a correction).
                let i = r.below(enc.lines.len() as u64) as usize;
                let mut copy = enc.lines[i].clone();
                let mut claim = enc.claims[copy.claim as usize].clone();
                claim.received = claim.received + Days::new(14 + r.below(30));
                copy.claim = enc.claims.len() as u8;
                enc.claims.push(claim);
                enc.lines.push(copy);
                true
            }
            Rule::AddonType3 | Rule::AddonContractor => false,
        }
    }

    fn add_dx(&self, enc: &mut Encounter, code: &'static str) -> bool {
        let dx = &mut enc.claims[0].dx;
        if dx.iter().any(|d| d == code) {
            return false;
        }
        if dx.len() < 4 {
            dx.push(Cow::Borrowed(code));
        } else {
            let last = dx.len() - 1;
            dx[last] = Cow::Borrowed(code);
        }
        true
    }
}

/// Adds a line unless the encounter already bills the code.
fn push(lines: &mut Vec<Line>, l: Line) {
    if !lines.iter().any(|x| x.code == l.code) {
        lines.push(l);
    }
}

pub fn is_em(code: &str) -> bool {
    code.len() == 5 && (code.starts_with("992") || code.starts_with("993") || code.starts_with("994"))
}
