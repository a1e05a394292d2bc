//! Planting federal-rule errors: one planter per rule the generator knows (see [`Rule`]). A
//! planter changes a clean encounter so that the rule finds exactly one error on it; the caller
//! checks that with the oracle and keeps the change only then.

use std::borrow::Cow;

use chrono::{Days, NaiveDate};

use super::model::{Encounter, Model, Patient, Provider};
use super::oracle::Rule;
use super::rng::Rng;
use super::templates::line;

/// Where an error is planted: the model, and the encounter's provider, place of service and date.
pub struct Site<'a> {
    pub model: &'a Model<'a>,
    pub prov: &'a Provider,
    pub pos: &'static str,
    pub dos: NaiveDate,
}

/// Changes an encounter so that one rule finds an error on it; false when it cannot here.
pub type Planter = fn(&Site, &mut Encounter, &Patient, &mut Rng) -> bool;

/// The planter for a rule; None for the rules the generator does not plant.
pub fn planter(rule: Rule) -> Option<Planter> {
    Some(match rule {
        Rule::Ptp => ptp,
        Rule::Mue => mue,
        Rule::AddonPrimary => addon_primary,
        Rule::AddonType3 | Rule::AddonContractor => return None,
        Rule::IcdInvalid => icd_invalid,
        Rule::IcdNotBillable => icd_not_billable,
        Rule::MceSex => mce_sex,
        Rule::MceAge => mce_age,
        Rule::MceManifestation => mce_manifestation,
        Rule::HcpcsExists => hcpcs_exists,
        Rule::PosValid => pos_valid,
        Rule::ModifierValid => modifier_valid,
        Rule::TimelyFiling => timely_filing,
        Rule::DuplicateAcrossClaims => duplicate_across_claims,
    })
}

/// Plants `rule`'s error on the encounter; false when the planter cannot.
pub fn plant(model: &Model, rule: Rule, enc: &mut Encounter, patient: &Patient, r: &mut Rng) -> bool {
    let Some(planter) = planter(rule) else { return false };
    let pos: &'static str = match &enc.lines[0].pos {
        Cow::Borrowed(s) => s,
        Cow::Owned(_) => "11",
    };
    let site = Site { model, prov: &model.providers[enc.provider as usize], pos, dos: enc.dos };
    planter(&site, enc, patient, r)
}

/// FED-NCCI-PTP: unbundling, a column 2 code billed beside its column 1 code without a modifier.
fn ptp(s: &Site, enc: &mut Encounter, _patient: &Patient, r: &mut Rng) -> bool {
    let pair = *r.pick(&s.model.pools.ptp_pairs);
    // Unbundling: the component billed beside its comprehensive code, no modifiers.
    // Half the time the pair is the whole visit, else it joins what the visit billed.
    if r.chance(0.5) {
        enc.lines.clear();
    }
    enc.lines.retain(|l| l.code != pair.column1 && l.code != pair.column2);
    let mut c1 = line(s.prov, pair.column1, 1, s.pos);
    let mut c2 = line(s.prov, pair.column2, 1, s.pos);
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

/// FED-MUE: units above the medically unlikely edit.
fn mue(s: &Site, enc: &mut Encounter, _patient: &Patient, r: &mut Rng) -> bool {
    // Units above the limit on a line the encounter has, or on a long-tail code.
    let candidates: Vec<usize> =
        (0..enc.lines.len()).filter(|&i| s.model.rd.mue(&enc.lines[i].code, s.dos).is_some_and(|m| m.units >= 1 && m.units <= 60)).collect();
    let i = if !candidates.is_empty() && r.chance(0.7) {
        *r.pick(&candidates)
    } else {
        let code: &'static str = r.pick_copy(&s.model.pools.mue_codes);
        if enc.lines.iter().any(|l| l.code == code) {
            return false;
        }
        enc.lines.push(line(s.prov, code, 1, s.pos));
        enc.lines.len() - 1
    };
    let Some(m) = s.model.rd.mue(&enc.lines[i].code, s.dos) else { return false };
    enc.lines[i].units = m.units + 1 + r.below(if m.units > 4 { 3 } else { 1 }) as u32;
    true
}

/// FED-ADDON-PRIMARY: an add-on code without its primary.
fn addon_primary(s: &Site, enc: &mut Encounter, _patient: &Patient, r: &mut Rng) -> bool {
    // An add-on whose primary is missing: drop the primary if the visit has one, else
    // bill a type 1 add-on on its own.
    let with_primary: Vec<usize> = (0..enc.lines.len())
        .filter(|&i| s.model.rd.addon(&enc.lines[i].code, s.dos).is_some_and(|a| a.edit_type == 1 && !a.primaries.is_empty()))
        .collect();
    if let Some(&i) = with_primary.first() {
        let a = s.model.rd.addon(&enc.lines[i].code, s.dos).expect("checked");
        enc.lines.retain(|l| !a.primaries.iter().any(|p| p == l.code.as_ref()));
        !enc.lines.is_empty()
    } else {
        let code: &'static str = r.pick_copy(&s.model.pools.addons);
        let Some(a) = s.model.rd.addon(code, s.dos) else { return false };
        if enc.lines.iter().any(|l| l.code == code || a.primaries.iter().any(|p| p == l.code.as_ref())) {
            return false;
        }
        enc.lines.push(line(s.prov, code, 1, s.pos));
        true
    }
}

/// FED-ICD10-INVALID: a diagnosis code that does not exist (a keying error).
fn icd_invalid(s: &Site, enc: &mut Encounter, _patient: &Patient, r: &mut Rng) -> bool {
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
        if s.model.rd.icd10_status(&bad, s.dos) == crate::refdata::IcdStatus::Unknown && s.model.rd.mce_flags(&bad, s.dos).is_empty() {
            dx[slot] = Cow::Owned(bad);
            return true;
        }
    }
    false
}

/// FED-ICD10-NOT-BILLABLE: a header code instead of a billable one.
fn icd_not_billable(s: &Site, enc: &mut Encounter, _patient: &Patient, r: &mut Rng) -> bool {
    let dx = &mut enc.claims[0].dx;
    let slot = r.below(dx.len() as u64) as usize;
    // Prefer the header above the code the claim has (I10 -> no; E11.9 -> E11).
    let current = dx[slot].to_string();
    let parent = current.rfind(|c: char| c.is_ascii_alphanumeric()).map(|_| current[..current.len() - 1].trim_end_matches('.').to_string());
    let choice = match parent {
        Some(p) if p.len() >= 3 && s.model.rd.icd10_status(&p, s.dos) == crate::refdata::IcdStatus::NotBillable => p,
        _ => r.pick(&s.model.pools.icd_headers).to_string(),
    };
    if s.model.rd.icd10_status(&choice, s.dos) != crate::refdata::IcdStatus::NotBillable {
        return false;
    }
    dx[slot] = Cow::Owned(choice);
    true
}

/// FED-MCE-SEX: a diagnosis for the other sex.
fn mce_sex(s: &Site, enc: &mut Encounter, patient: &Patient, r: &mut Rng) -> bool {
    let flag = if patient.sex == "M" { "female" } else { "male" };
    let Some(pool) = s.model.pools.mce_flagged.get(flag) else { return false };
    add_dx(enc, r.pick_copy(pool))
}

/// FED-MCE-AGE: a diagnosis outside the patient's age group.
fn mce_age(s: &Site, enc: &mut Encounter, patient: &Patient, r: &mut Rng) -> bool {
    let age = crate::dates::age_on(patient.birth, s.dos);
    let groups: &[&str] = if age < 15 {
        &["adult", "maternity"]
    } else if age > 17 {
        &["newborn", "pediatric"]
    } else {
        &["newborn"]
    };
    let g = *r.pick(groups);
    let Some(pool) = s.model.pools.mce_flagged.get(g) else { return false };
    add_dx(enc, r.pick_copy(pool))
}

/// FED-MCE-MANIFESTATION: a manifestation code sequenced first.
fn mce_manifestation(s: &Site, enc: &mut Encounter, _patient: &Patient, r: &mut Rng) -> bool {
    let Some(pool) = s.model.pools.mce_flagged.get("manifestation") else { return false };
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

/// FED-HCPCS-EXISTS: a HCPCS code that does not exist.
fn hcpcs_exists(s: &Site, enc: &mut Encounter, _patient: &Patient, r: &mut Rng) -> bool {
    let i = r.below(enc.lines.len() as u64) as usize;
    for _ in 0..20 {
        let letter = ["A", "E", "G", "J", "L", "Q"][r.below(6) as usize];
        let code = format!("{letter}{:04}", r.below(10_000));
        if s.model.rd.hcpcs_exists(&code) == Some(false) {
            enc.lines[i].code = Cow::Owned(code);
            return true;
        }
    }
    false
}

/// FED-POS-VALID: a place of service that does not exist.
fn pos_valid(s: &Site, enc: &mut Encounter, _patient: &Patient, r: &mut Rng) -> bool {
    let i = r.below(enc.lines.len() as u64) as usize;
    for _ in 0..30 {
        let pos = format!("{:02}", r.below(100));
        if s.model.rd.pos_valid(&pos) == Some(false) {
            enc.lines[i].pos = Cow::Owned(pos);
            return true;
        }
    }
    false
}

/// FED-MODIFIER-VALID: a modifier that does not exist.
fn modifier_valid(s: &Site, enc: &mut Encounter, _patient: &Patient, r: &mut Rng) -> bool {
    let i = r.below(enc.lines.len() as u64) as usize;
    if enc.lines[i].mods.len() >= 4 {
        return false;
    }
    const CH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for _ in 0..30 {
        let m: String = [CH[r.below(36) as usize] as char, CH[r.below(26) as usize] as char].iter().collect();
        if s.model.rd.modifier_valid(&m) == Some(false) {
            enc.lines[i].mods.push(Cow::Owned(m));
            return true;
        }
    }
    false
}

/// FED-TIMELY-FILING: a Medicare claim received more than a year after the service.
fn timely_filing(s: &Site, enc: &mut Encounter, patient: &Patient, r: &mut Rng) -> bool {
    if patient.payer != "MEDICARE" {
        return false;
    }
    let c = r.below(enc.claims.len() as u64) as usize;
    enc.claims[c].received = s.dos + Days::new(366 + r.below(200));
    true
}

/// FED-DUPLICATE-ACROSS-CLAIMS: the same line sent again on a new claim.
fn duplicate_across_claims(_s: &Site, enc: &mut Encounter, _patient: &Patient, r: &mut Rng) -> bool {
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

/// Adds a diagnosis to the first claim (in place of the last when it has four).
fn add_dx(enc: &mut Encounter, code: &'static str) -> bool {
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
