//! The claims model: patients, providers, encounters (one patient, provider and date, billed on
//! one or more claims), the specialty templates that fill them, and the planted errors.

use std::borrow::Cow;

use chrono::{Datelike, Days, NaiveDate};

use super::oracle::{Counts, Fix, Oracle, Rule, RULES};
use super::plant;
use super::policy::Policy;
use super::pools::Pools;
use super::rng::{hash, Rng};
use super::schemes::{Scheme, Schemes};
use super::templates::{self, Visit, DX_FALLBACK, DX_PRIMARY_CARE};
use super::GenerateOptions;
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
    /// Set only for the deceased beneficiaries of the billing-after-death scheme.
    pub death: Option<NaiveDate>,
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
pub struct PlannedLine {
    pub claim: u8,
    pub code: Text,
    pub units: u32,
    pub mods: Vec<Text>,
    pub pos: Text,
    /// Charge per unit (base fee x provider markup).
    pub unit_fee: f64,
}

impl PlannedLine {
    pub fn charge(&self) -> f64 {
        (self.unit_fee * self.units as f64 * 100.0).round() / 100.0
    }
    pub fn has_any_modifier<S: AsRef<str>>(&self, set: &[S]) -> bool {
        self.mods.iter().any(|m| set.iter().any(|s| s.as_ref() == m.as_ref()))
    }
    /// FED-DUPLICATE-ACROSS-CLAIMS's key: code, modifiers, units and charge.
    pub fn same_service(&self, o: &PlannedLine) -> bool {
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
    pub lines: Vec<PlannedLine>,
    pub claims: Vec<Claim>,
}

impl Encounter {
    /// Keeps lines grouped by claim (the order they are written in), drops empty claims.
    pub fn tidy(&mut self) {
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
        let mut claims: Vec<(u8, Claim)> = old.into_iter().enumerate().filter_map(|(i, c)| map[i].map(|n| (n, c))).collect();
        claims.sort_by_key(|(n, _)| *n);
        self.claims = claims.into_iter().map(|(_, c)| c).collect();
        for l in &mut self.lines {
            l.claim = map[l.claim as usize].expect("line's claim kept");
        }
    }
}

// ----- the generator -----

pub struct Model<'a> {
    pub seed: u64,
    pub rd: &'a RefData,
    pub pools: &'a Pools,
    pub policy: &'a Policy,
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
    /// Provider-level schemes and habits (`--schemes`); None leaves the batch as it always was.
    pub schemes: Option<Schemes>,
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
    /// The provider scheme that changed it, if any.
    pub scheme: Option<Scheme>,
}

impl<'a> Model<'a> {
    pub fn new(opts: &GenerateOptions, rd: &'a RefData, pools: &'a Pools, policy: &'a Policy) -> Model<'a> {
        let (seed, lines, error_rate, start) = (opts.seed, opts.lines, opts.error_rate, opts.from);
        let days = ((opts.to - opts.from).num_days() + 1) as u32;
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
        let oracle = Oracle::new(rd, &policy.ncci_modifiers);
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
        let schemes = opts.scheme_share.map(|share| {
            let excluded: Vec<String> = pools.leie_npis.iter().filter(|n| rd.npi_excluded(n, opts.to) == Some(true)).cloned().collect();
            // Physical therapy visits a day: encounters (about two lines each) x specialist share x PT's weight.
            let pt_weight = SPECS.iter().find(|s| s.0 == Spec::PhysicalTherapy).map_or(0, |s| s.2) as f64;
            let specialist_weight: f64 = SPECS.iter().map(|s| s.2 as f64).sum();
            let pt_per_day = lines as f64 / 2.0 * 0.42 * pt_weight / specialist_weight / days as f64;
            Schemes::new(seed, &mut providers, share, &excluded, pt_per_day)
        });
        let of = |s: Spec| by_spec[SPECS.iter().position(|x| x.0 == s).expect("listed")].clone();
        let pcp_child = [of(Spec::Pediatrics), of(Spec::FamilyMedicine)].concat();
        let pcp_adult = [of(Spec::FamilyMedicine), of(Spec::InternalMedicine)].concat();
        let specialist_mix = SPECS.iter().filter(|s| s.2 > 0).map(|s| (s.0, s.2)).collect();
        Model {
            seed,
            rd,
            pools,
            policy,
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
            schemes,
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
        let birth = NaiveDate::from_ymd_opt(reference.year() - age as i32, 1, 1).expect("valid") + Days::new(r.below(365));
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
        Patient { index: p, sex, birth, payer, pcp, death: None }
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
                    r.pick_copy(&self.pools.icd_billable)
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

    /// A clean encounter as a specialty would bill it (repaired where a draw broke a rule). The
    /// steps draw from `r` in a fixed order: the same seed gives the same file.
    fn clean(&self, e: u64, r: &mut Rng, filler: bool) -> (Encounter, Patient) {
        let (p, dos) = self.patient_and_date(e);
        let patient = self.patient(p);
        let provider = self.provider_for(e, &patient, dos, filler, r);
        let prov = &self.providers[provider as usize];
        let (mut lines, dx_list) = self.bill_visit(prov, &patient, dos, filler, r);
        add_modifier_25_beside_procedures(&mut lines);
        self.clamp_units_to_mue(&mut lines);
        let dx = self.diagnoses(r, dx_list, &patient, dos);
        let claim = self.claim_header(&lines, dx, dos, r);
        let mut enc = Encounter { index: e, patient: p, provider, dos, lines, claims: vec![claim] };
        if !filler {
            split_across_two_claims(&mut enc, r);
        }
        self.repair(&mut enc, &patient);
        (enc, patient)
    }

    /// The patient's own doctor, or (42% of visits) a specialist the patient keeps seeing.
    fn provider_for(&self, e: u64, patient: &Patient, dos: NaiveDate, filler: bool, r: &mut Rng) -> u32 {
        let spec = if filler || r.chance(0.58) { None } else { Some(r.pick_weighted(&self.specialist_mix)) };
        let Some(s) = spec else { return patient.pcp };
        let list = self.providers_of(s);
        let chosen = list[(hash(self.seed, &[TAG_PATIENT, patient.index as u64, s as u64]) % list.len() as u64) as usize];
        match &self.schemes {
            Some(schemes) => schemes.redirect(self.seed, s, chosen, dos, e),
            None => chosen,
        }
    }

    /// The lines the provider's specialty bills for the visit (a plain office visit for a
    /// filler), now and then with a long-tail code from the MUE table, and the diagnosis mix.
    fn bill_visit(&self, prov: &Provider, patient: &Patient, dos: NaiveDate, filler: bool, r: &mut Rng) -> (Vec<PlannedLine>, templates::Mix) {
        let age = crate::dates::age_on(patient.birth, dos);
        let mut lines: Vec<PlannedLine> = Vec::new();
        if filler {
            push(&mut lines, templates::line(prov, "99213", 1, "11"));
            return (lines, templates::default_dx(age));
        }
        let medicare = patient.payer == "MEDICARE";
        let dx_list = templates::bill(&Visit { prov, patient, age, medicare, dos }, r, &mut lines);
        if r.chance(0.05) && !self.pools.mue_codes.is_empty() {
            let code: &'static str = r.pick_copy(&self.pools.mue_codes);
            let pos_here: &'static str = match &lines[0].pos {
                Cow::Borrowed(s) => s,
                Cow::Owned(_) => "11",
            };
            push(&mut lines, templates::line(prov, code, 1, pos_here));
        }
        (lines, dx_list)
    }

    /// Units clamped to the MUE the table gives for the code (most visits stay well within).
    fn clamp_units_to_mue(&self, lines: &mut [PlannedLine]) {
        for l in lines {
            if let Some(&limit) = self.pools.mue_limit.get(l.code.as_ref()) {
                l.units = l.units.min(limit.max(1));
            }
        }
    }

    /// Diagnoses, the date received, and a prior-authorization number when a line is on the
    /// payer's list (the ACME-COMMERCIAL pack's, read by `Policy`).
    fn claim_header(&self, lines: &[PlannedLine], dx: Vec<Text>, dos: NaiveDate, r: &mut Rng) -> Claim {
        let received = dos + Days::new(2 + r.below(12) + if r.chance(0.3) { r.below(30) } else { 0 });
        let prior_auth =
            lines.iter().any(|l| self.policy.prior_auth_codes.iter().any(|c| *c == l.code)).then(|| format!("PA{:08}", r.below(100_000_000)));
        Claim { dx, received, prior_auth }
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
                    let replacement =
                        DX_FALLBACK.iter().find(|c| !enc.claims[claim].dx.iter().any(|d| d == *c) && self.dx_ok(c, patient, enc.dos, slot));
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
                    let mut l = templates::line(prov, "99213", 1, "11");
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
        let (mut enc, mut patient) = self.clean(e, &mut r, false);
        if !self.oracle.issues(&enc, &patient).is_empty() {
            // The draw could not be repaired: bill a plain office visit instead.
            enc = self.clean(e, &mut Rng::new(hash(self.seed, &[TAG_FILLER, e])), true).0;
        }
        let scheme = self.schemes.as_ref().and_then(|s| s.apply(self, &mut enc, &mut patient, e));
        if scheme.is_some() {
            enc.tidy();
        }
        let mut planted = None;
        let p = (self.error_rate * enc.lines.len() as f64).min(1.0);
        if !self.plantable.is_empty() && r.chance(p) {
            for _ in 0..6 {
                let rule = *r.pick(&self.plantable);
                let mut trial = enc.clone();
                if !plant::plant(self, rule, &mut trial, &patient, &mut r) {
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
        Generated { enc, patient, planted, expected, scheme }
    }

    /// The tail of a file: a one-line visit, so the line count comes out exact.
    pub fn filler(&self, e: u64) -> Generated {
        let (enc, patient) = self.clean(e, &mut Rng::new(hash(self.seed, &[TAG_FILLER, e])), true);
        let expected = self.oracle.counts(&enc, &patient);
        Generated { enc, patient, planted: None, expected, scheme: None }
    }
}

/// E/M billed with a procedure on the same day gets modifier 25, as practices do.
fn add_modifier_25_beside_procedures(lines: &mut [PlannedLine]) {
    let has_procedure = lines.iter().any(|l| !is_em(&l.code) && !l.code.starts_with("J") && !l.code.starts_with('8') && l.code != "36415");
    if !has_procedure {
        return;
    }
    for l in lines {
        if is_em(&l.code) && !l.mods.iter().any(|m| m == "25") {
            l.mods.push(Cow::Borrowed("25"));
        }
    }
}

/// Some patient-days are billed on two claims (labs or a procedure sent separately).
fn split_across_two_claims(enc: &mut Encounter, r: &mut Rng) {
    if enc.lines.len() >= 2 && r.chance(0.12) {
        let k = 1 + r.below(enc.lines.len() as u64 - 1) as usize;
        let mut second = enc.claims[0].clone();
        second.received = second.received + Days::new(r.below(15));
        enc.claims.push(second);
        for l in &mut enc.lines[k..] {
            l.claim = 1;
        }
    }
}

/// Adds a line unless the encounter already bills the code.
pub fn push(lines: &mut Vec<PlannedLine>, l: PlannedLine) {
    if !lines.iter().any(|x| x.code == l.code) {
        lines.push(l);
    }
}

pub fn is_em(code: &str) -> bool {
    code.len() == 5 && (code.starts_with("992") || code.starts_with("993") || code.starts_with("994"))
}
