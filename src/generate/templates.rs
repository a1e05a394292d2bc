//! What each specialty bills at one visit: hand-weighted lists of the codes practices bill most,
//! with typical charges and the diagnoses they go with. CPT codes appear as bare numbers only
//! (no descriptors).

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};

use super::model::{push, Patient, PlannedLine, Provider, Spec};
use super::rng::{hash, Rng};

/// Weighted (code, weight) draws.
pub type Mix = &'static [(&'static str, u32)];

struct Item {
    code: &'static str,
    fee: f64,
}

/// Typical billed charge per unit for the hand-listed codes.
const FEES: &[(&str, f64)] = &[
    ("99202", 110.0),
    ("99203", 170.0),
    ("99204", 260.0),
    ("99205", 340.0),
    ("99211", 45.0),
    ("99212", 90.0),
    ("99213", 140.0),
    ("99214", 210.0),
    ("99215", 290.0),
    ("99392", 180.0),
    ("99393", 185.0),
    ("99395", 220.0),
    ("99396", 240.0),
    ("99397", 260.0),
    ("G0438", 230.0),
    ("G0439", 170.0),
    ("G2211", 30.0),
    ("36415", 12.0),
    ("80053", 45.0),
    ("80048", 35.0),
    ("85025", 25.0),
    ("80061", 55.0),
    ("83036", 40.0),
    ("84443", 50.0),
    ("82306", 90.0),
    ("84153", 60.0),
    ("81001", 15.0),
    ("87086", 30.0),
    ("87880", 35.0),
    ("90471", 30.0),
    ("90686", 45.0),
    ("90662", 80.0),
    ("G0008", 35.0),
    ("90715", 60.0),
    ("96372", 40.0),
    ("J3301", 10.0),
    ("J1100", 5.0),
    ("J0696", 20.0),
    ("J1885", 8.0),
    ("J1030", 15.0),
    ("J1040", 25.0),
    ("93000", 60.0),
    ("93005", 40.0),
    ("93010", 25.0),
    ("93306", 450.0),
    ("93880", 300.0),
    ("17000", 120.0),
    ("17003", 15.0),
    ("11102", 180.0),
    ("11103", 90.0),
    ("17110", 150.0),
    ("17311", 900.0),
    ("17312", 450.0),
    ("17313", 800.0),
    ("17314", 400.0),
    ("17315", 120.0),
    ("11042", 250.0),
    ("11045", 90.0),
    ("97110", 45.0),
    ("97140", 45.0),
    ("97530", 50.0),
    ("97112", 48.0),
    ("97116", 42.0),
    ("97161", 150.0),
    ("97162", 160.0),
    ("97163", 180.0),
    ("G0283", 25.0),
    ("97035", 25.0),
    ("20610", 150.0),
    ("73562", 90.0),
    ("73721", 900.0),
    ("73030", 80.0),
    ("99282", 200.0),
    ("99283", 350.0),
    ("99284", 600.0),
    ("99285", 900.0),
    ("71046", 110.0),
    ("72148", 1100.0),
    ("70551", 1200.0),
    ("74177", 1500.0),
    ("77067", 250.0),
    ("76700", 350.0),
    ("98940", 55.0),
    ("98941", 70.0),
    ("90791", 250.0),
    ("90834", 150.0),
    ("90837", 200.0),
    ("90833", 90.0),
    ("92004", 250.0),
    ("92012", 120.0),
    ("92014", 170.0),
    ("92134", 90.0),
];

/// The hand-listed codes (PTP pairs for planting are kept only when they touch one of these).
pub fn common_codes() -> Vec<&'static str> {
    FEES.iter().map(|(c, _)| *c).collect()
}

pub fn fee(code: &str) -> f64 {
    FEES.iter().find(|(c, _)| *c == code).map(|(_, f)| *f).unwrap_or_else(|| {
        // Long-tail codes: a stable fee from the code itself, 30-630.
        let h = hash(0x6665_6573, &[code.bytes().fold(0u64, |a, b| a.wrapping_mul(131).wrapping_add(b as u64))]);
        30.0 + (h % 120) as f64 * 5.0
    })
}

fn item(code: &'static str) -> Item {
    Item { code, fee: fee(code) }
}

/// Office and outpatient E/M visits a primary care practice bills (established and new patients).
const EM_VISIT_MIX: Mix =
    &[("99213", 40), ("99214", 32), ("99212", 8), ("99215", 6), ("99211", 2), ("99203", 5), ("99204", 4), ("99202", 2), ("99205", 1)];

// Diagnoses by kind of visit (with the dot, as most claim systems print them).
pub const DX_PRIMARY_CARE: &[(&str, u32)] = &[
    ("I10", 20),
    ("E11.9", 10),
    ("E78.5", 10),
    ("Z00.00", 6),
    ("Z00.01", 3),
    ("J06.9", 8),
    ("E66.9", 4),
    ("K21.9", 4),
    ("F41.1", 4),
    ("F32.A", 3),
    ("R05.9", 4),
    ("E03.9", 4),
    ("N39.0", 3),
    ("M54.50", 5),
    ("Z23", 3),
    ("R53.83", 3),
    ("I48.91", 2),
    ("J45.909", 3),
    ("E11.65", 3),
    ("R73.03", 3),
    ("J02.9", 3),
    ("J20.9", 3),
    ("E11.22", 2),
    ("N17.9", 1),
];
const DX_PEDIATRIC: &[(&str, u32)] =
    &[("J06.9", 30), ("J02.9", 15), ("Z23", 15), ("J45.909", 10), ("R05.9", 10), ("J20.9", 6), ("R51.9", 4), ("E66.9", 3)];
const DX_DERM: &[(&str, u32)] = &[
    ("L57.0", 30),
    ("L82.1", 15),
    ("C44.311", 10),
    ("C44.310", 6),
    ("C44.320", 6),
    ("C44.42", 4),
    ("D22.9", 8),
    ("D48.5", 8),
    ("C43.9", 3),
    ("L98.9", 6),
];
const DX_MOHS: &[(&str, u32)] = &[("C44.311", 35), ("C44.310", 20), ("C44.320", 20), ("C44.42", 15), ("C43.9", 5)];
const DX_MSK: &[(&str, u32)] = &[("M54.50", 30), ("M25.561", 20), ("M17.11", 20), ("M79.7", 8), ("M54.59", 8), ("M54.51", 6), ("S72.001D", 4)];
const DX_CARDIO: &[(&str, u32)] = &[("I10", 25), ("I25.10", 25), ("I48.91", 20), ("I50.9", 15), ("E78.5", 15)];
const DX_ED: &[(&str, u32)] = &[
    ("R10.9", 20),
    ("R51.9", 10),
    ("J18.9", 10),
    ("N39.0", 10),
    ("S72.001A", 6),
    ("R05.9", 10),
    ("I63.9", 4),
    ("J20.9", 10),
    ("U07.1", 4),
    ("N17.9", 3),
];
const DX_PSYCH: &[(&str, u32)] = &[("F41.1", 35), ("F32.9", 25), ("F32.A", 25), ("F03.90", 5), ("G47.33", 10)];
const DX_EYE: &[(&str, u32)] = &[("E11.9", 40), ("E11.65", 20), ("I10", 20), ("R51.9", 20)];
/// Always-valid fallbacks (no MCE flags) when a drawn code does not suit the patient or date.
pub const DX_FALLBACK: &[&str] = &["R53.83", "J06.9", "R05.9", "R10.9", "M54.50", "R51.9", "E78.5", "I10"];

/// One visit being billed: who sees whom, when.
pub struct Visit<'a> {
    pub prov: &'a Provider,
    pub patient: &'a Patient,
    pub age: i64,
    pub medicare: bool,
    pub dos: NaiveDate,
}

impl Visit<'_> {
    /// A line at the provider's charge for the code.
    pub fn line(&self, code: &'static str, units: u32, pos: &'static str) -> PlannedLine {
        line(self.prov, code, units, pos)
    }
}

/// A line of `code` billed by `p`: the code's typical fee times the provider's markup.
pub fn line(p: &Provider, code: &'static str, units: u32, pos: &'static str) -> PlannedLine {
    let it = item(code);
    PlannedLine { claim: 0, code: Cow::Borrowed(it.code), units, mods: Vec::new(), pos: Cow::Borrowed(pos), unit_fee: it.fee * p.markup }
}

/// The lines the provider's specialty bills at this visit, and the diagnoses to draw for them.
pub fn bill(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    match v.prov.spec {
        Spec::FamilyMedicine | Spec::InternalMedicine | Spec::Pediatrics => primary_care(v, r, lines),
        Spec::Dermatology => dermatology(v, r, lines),
        Spec::PhysicalTherapy => physical_therapy(v, r, lines),
        Spec::Laboratory => laboratory(v, r, lines),
        Spec::Cardiology => cardiology(v, r, lines),
        Spec::Orthopedics => orthopedics(v, r, lines),
        Spec::Emergency => emergency(v, r, lines),
        Spec::Radiology => radiology(v, r, lines),
        Spec::Chiropractic => chiropractic(v, r, lines),
        Spec::Psychiatry => psychiatry(v, r, lines),
        Spec::Ophthalmology => ophthalmology(v, r, lines),
    }
}

/// The diagnoses a visit is drawn for when the specialty has no list of its own.
pub fn default_dx(age: i64) -> Mix {
    if age < 18 {
        DX_PEDIATRIC
    } else {
        DX_PRIMARY_CARE
    }
}

/// Family practice, internal medicine and pediatrics: a visit or preventive service, labs, vaccines, injections.
fn primary_care(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let (patient, age, medicare, pos) = (v.patient, v.age, v.medicare, "11");
    if medicare && r.chance(0.08) {
        push(lines, v.line("G0439", 1, pos));
    } else if !medicare && patient.payer != "NY-MEDICAID" && r.chance(0.07) {
        let code = match age {
            0..=4 => "99392",
            5..=17 => "99393",
            18..=39 => "99395",
            40..=64 => "99396",
            _ => "99397",
        };
        push(lines, v.line(code, 1, pos));
    } else {
        push(lines, v.line(r.pick_weighted(EM_VISIT_MIX), 1, pos));
        if medicare && r.chance(0.2) {
            push(lines, v.line("G2211", 1, pos));
        }
    }
    if r.chance(0.3) {
        push(lines, v.line("36415", 1, pos));
        let labs = [("80053", 5), ("80061", 4), ("85025", 5), ("83036", 3), ("84443", 3), ("80048", 2), ("82306", 2), ("81001", 2)];
        for _ in 0..r.range(1, 3) {
            push(lines, v.line(r.pick_weighted(&labs), 1, pos));
        }
        if patient.sex == "M" && age >= 50 && r.chance(0.2) {
            push(lines, v.line("84153", 1, pos));
        }
    }
    let flu = matches!(v.dos.month(), 9..=12 | 1) && r.chance(0.25);
    if flu || r.chance(0.04) {
        if medicare {
            push(lines, v.line("G0008", 1, pos));
            push(lines, v.line("90662", 1, pos));
        } else {
            push(lines, v.line("90471", 1, pos));
            push(lines, v.line(if age < 18 && r.chance(0.3) { "90715" } else { "90686" }, 1, pos));
        }
    }
    if r.chance(0.05) {
        push(lines, v.line("96372", 1, pos));
        let drugs = [("J3301", 4u32), ("J1100", 10), ("J0696", 2), ("J1885", 2), ("J1030", 1)];
        let (d, max) = drugs[r.below(drugs.len() as u64) as usize];
        push(lines, v.line(d, r.range(1, max), pos));
    }
    if age >= 40 && r.chance(0.05) {
        push(lines, v.line("93000", 1, pos));
    }
    if age < 18 && r.chance(0.1) {
        push(lines, v.line("87880", 1, pos));
    }
    default_dx(age)
}

/// Dermatology: Mohs surgery (with add-on stages), destruction of lesions, biopsies, visits.
fn dermatology(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let pos = "11";
    let mohs = r.chance(0.25);
    if mohs {
        if r.chance(0.85) {
            push(lines, v.line("17311", r.range(1, 2), pos));
            if r.chance(0.6) {
                push(lines, v.line("17312", r.range(1, 3), pos));
            }
        } else {
            push(lines, v.line("17313", 1, pos));
            if r.chance(0.5) {
                push(lines, v.line("17314", 1, pos));
            }
        }
        if r.chance(0.1) {
            push(lines, v.line("17315", 1, pos));
        }
    }
    if !mohs || r.chance(0.15) {
        push(lines, v.line(if r.chance(0.6) { "99213" } else { "99214" }, 1, pos));
    }
    if !mohs {
        if r.chance(0.35) {
            push(lines, v.line("17000", 1, pos));
            if r.chance(0.5) {
                push(lines, v.line("17003", r.range(1, 8), pos));
            }
        }
        if r.chance(0.2) {
            push(lines, v.line("11102", 1, pos));
            if r.chance(0.3) {
                push(lines, v.line("11103", r.range(1, 2), pos));
            }
        }
        if r.chance(0.05) {
            push(lines, v.line("17110", 1, pos));
        }
    }
    if mohs {
        DX_MOHS
    } else {
        DX_DERM
    }
}

/// Physical therapy: timed therapy units, with modifier GP.
fn physical_therapy(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let pos = "11";
    if r.chance(0.1) {
        push(lines, v.line(["97161", "97162", "97163"][r.below(3) as usize], 1, pos));
    }
    if r.chance(0.85) {
        push(lines, v.line("97110", r.range(1, 4), pos));
    }
    if r.chance(0.5) {
        push(lines, v.line("97140", r.range(1, 2), pos));
    }
    if r.chance(0.4) {
        push(lines, v.line("97530", r.range(1, 3), pos));
    }
    if r.chance(0.3) {
        push(lines, v.line("97112", r.range(1, 2), pos));
    }
    if r.chance(0.1) {
        push(lines, v.line("97116", 1, pos));
    }
    if r.chance(0.15) {
        push(lines, v.line("G0283", 1, pos));
    }
    if lines.is_empty() {
        push(lines, v.line("97110", 2, pos));
    }
    for l in lines.iter_mut() {
        l.mods.push(Cow::Borrowed("GP"));
    }
    DX_MSK
}

/// Clinical laboratory: venipuncture and panels.
fn laboratory(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let pos = "81";
    push(lines, v.line("36415", 1, pos));
    let labs = [("80053", 6), ("80061", 5), ("85025", 6), ("83036", 4), ("84443", 4), ("80048", 3), ("82306", 3), ("81001", 3), ("87086", 2)];
    for _ in 0..r.range(1, 4) {
        push(lines, v.line(r.pick_weighted(&labs), 1, pos));
    }
    default_dx(v.age)
}

/// Cardiology: a visit, ECG, echocardiography.
fn cardiology(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let pos = "11";
    push(lines, v.line(if r.chance(0.5) { "99214" } else { "99213" }, 1, pos));
    if r.chance(0.4) {
        push(lines, v.line("93000", 1, pos));
    }
    if r.chance(0.15) {
        push(lines, v.line("93306", 1, pos));
    }
    if r.chance(0.05) {
        push(lines, v.line("93880", 1, pos));
    }
    DX_CARDIO
}

/// Orthopedic surgery: a visit, joint injections, imaging.
fn orthopedics(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let pos = "11";
    push(lines, v.line(if r.chance(0.55) { "99213" } else { "99214" }, 1, pos));
    if r.chance(0.25) {
        let mut l = v.line("20610", 1, pos);
        l.mods.push(Cow::Borrowed(if r.chance(0.5) { "RT" } else { "LT" }));
        push(lines, l);
        push(lines, v.line(if r.chance(0.7) { "J3301" } else { "J1030" }, r.range(1, 4), pos));
    }
    if r.chance(0.3) {
        push(lines, v.line("73562", 1, pos));
    }
    if r.chance(0.08) {
        push(lines, v.line("73721", 1, pos));
    }
    DX_MSK
}

/// Emergency medicine: an ED visit level, ECG reading, chest X-ray reading.
fn emergency(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let pos = "23";
    push(lines, v.line(r.pick_weighted(&[("99283", 35), ("99284", 40), ("99285", 20), ("99282", 5)]), 1, pos));
    if r.chance(0.2) {
        push(lines, v.line("93010", 1, pos));
    }
    if r.chance(0.15) {
        let mut l = v.line("71046", 1, pos);
        l.mods.push(Cow::Borrowed("26"));
        push(lines, l);
    }
    DX_ED
}

/// Diagnostic radiology: one study, professional component in hospitals.
fn radiology(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let mut dx_list = DX_MSK;
    let hospital = r.chance(0.4);
    let pos = if hospital { "22" } else { "11" };
    let code = if v.patient.sex == "F" && v.age >= 40 && r.chance(0.3) {
        dx_list = &[("Z12.31", 1)];
        "77067"
    } else {
        r.pick_weighted(&[("71046", 25), ("73562", 15), ("73030", 10), ("72148", 10), ("70551", 8), ("74177", 8), ("76700", 8)])
    };
    if code == "71046" || code == "74177" || code == "76700" {
        dx_list = DX_ED;
    }
    let mut l = v.line(code, 1, pos);
    if hospital {
        l.mods.push(Cow::Borrowed("26"));
    }
    push(lines, l);
    dx_list
}

/// Chiropractic: spinal manipulation, manual therapy.
fn chiropractic(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let pos = "11";
    push(lines, v.line(if r.chance(0.6) { "98940" } else { "98941" }, 1, pos));
    if r.chance(0.3) {
        push(lines, v.line("97140", 1, pos));
    }
    DX_MSK
}

/// Psychiatry: psychotherapy or a visit with add-on psychotherapy, some by telehealth.
fn psychiatry(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let tele = r.chance(0.15);
    let pos = if tele { "10" } else { "11" };
    let first = r.pick_weighted(&[("90834", 40), ("90837", 30), ("90791", 10), ("99214", 20)]);
    push(lines, v.line(first, 1, pos));
    if first == "99214" {
        push(lines, v.line("90833", 1, pos));
    }
    if tele {
        for l in lines.iter_mut() {
            l.mods.push(Cow::Borrowed("95"));
        }
    }
    DX_PSYCH
}

/// Ophthalmology: eye exams and imaging.
fn ophthalmology(v: &Visit, r: &mut Rng, lines: &mut Vec<PlannedLine>) -> Mix {
    let pos = "11";
    push(lines, v.line(r.pick_weighted(&[("92014", 45), ("92012", 35), ("92004", 20)]), 1, pos));
    if r.chance(0.2) {
        push(lines, v.line("92134", 1, pos));
    }
    DX_EYE
}
