//! What the federal rules (rules/federal/*.rhai) will say about one encounter, computed directly
//! from the reference tables. The generator uses it to keep clean claims clean (repairing what a
//! random draw got wrong, as a coder would) and to count exactly what each planted error should
//! produce. It mirrors the rule files' logic; the integration tests audit generated files with
//! the real rules and compare, so a drift between the two shows up there.

use chrono::NaiveDate;

use super::model::{Encounter, Patient};
use crate::refdata::{IcdStatus, RefData};

/// The federal rules the generator knows about, in manifest order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    Ptp,
    Mue,
    AddonPrimary,
    AddonType3,
    AddonContractor,
    IcdInvalid,
    IcdNotBillable,
    MceSex,
    MceAge,
    MceManifestation,
    HcpcsExists,
    PosValid,
    ModifierValid,
    TimelyFiling,
    DuplicateAcrossClaims,
}

pub const RULES: [Rule; 15] = [
    Rule::Ptp,
    Rule::Mue,
    Rule::AddonPrimary,
    Rule::AddonType3,
    Rule::AddonContractor,
    Rule::IcdInvalid,
    Rule::IcdNotBillable,
    Rule::MceSex,
    Rule::MceAge,
    Rule::MceManifestation,
    Rule::HcpcsExists,
    Rule::PosValid,
    Rule::ModifierValid,
    Rule::TimelyFiling,
    Rule::DuplicateAcrossClaims,
];

pub type Counts = [u64; RULES.len()];

impl Rule {
    pub fn id(self) -> &'static str {
        match self {
            Rule::Ptp => "FED-NCCI-PTP",
            Rule::Mue => "FED-MUE",
            Rule::AddonPrimary => "FED-ADDON-PRIMARY",
            Rule::AddonType3 => "FED-ADDON-TYPE3",
            Rule::AddonContractor => "FED-ADDON-CONTRACTOR",
            Rule::IcdInvalid => "FED-ICD10-INVALID",
            Rule::IcdNotBillable => "FED-ICD10-NOT-BILLABLE",
            Rule::MceSex => "FED-MCE-SEX",
            Rule::MceAge => "FED-MCE-AGE",
            Rule::MceManifestation => "FED-MCE-MANIFESTATION",
            Rule::HcpcsExists => "FED-HCPCS-EXISTS",
            Rule::PosValid => "FED-POS-VALID",
            Rule::ModifierValid => "FED-MODIFIER-VALID",
            Rule::TimelyFiling => "FED-TIMELY-FILING",
            Rule::DuplicateAcrossClaims => "FED-DUPLICATE-ACROSS-CLAIMS",
        }
    }

    pub fn index(self) -> usize {
        RULES.iter().position(|r| *r == self).expect("listed")
    }
}

/// How a coder would fix a finding on a claim that should be clean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fix {
    DropLine(usize),
    /// Indicator-1 PTP pair: the services were distinct; add 25 (E/M) or 59 to the column 2 line.
    Bypass(usize),
    /// Lower the line's units to at most this (0 = drop the line).
    Units(usize, u32),
    Dx {
        claim: usize,
        slot: usize,
    },
    Pos(usize),
    Modifier {
        line: usize,
        modifier: usize,
    },
    Received(usize),
}

#[derive(Clone, Copy, Debug)]
pub struct Issue {
    pub rule: Rule,
    pub fix: Fix,
}

const AGE_GROUPS: [&str; 4] = ["newborn", "pediatric", "maternity", "adult"];

fn is_level2(code: &str) -> Option<bool> {
    let b = code.as_bytes();
    if b.len() != 5 {
        return None;
    }
    Some(b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit))
}

pub struct Oracle<'a> {
    pub rd: &'a RefData,
    /// Modifiers that bypass an indicator-1 PTP edit, as FED-NCCI-PTP lists them.
    ncci_modifiers: &'a [String],
    has_icd_any: bool,
    has_icd_list: bool,
    has_mce: bool,
    has_ages: bool,
}

impl<'a> Oracle<'a> {
    pub fn new(rd: &'a RefData, ncci_modifiers: &'a [String]) -> Oracle<'a> {
        Oracle {
            rd,
            ncci_modifiers,
            has_icd_any: rd.has_table("icd10") || rd.has_table("mce"),
            has_icd_list: rd.has_table("icd10"),
            has_mce: rd.has_table("mce"),
            has_ages: rd.has_table("mce") && rd.has_table("mce_ages"),
        }
    }

    /// Findings on one diagnosis slot of a claim (claim-scope rules), for a patient on a date.
    pub fn dx_issues(&self, code: &str, slot: usize, patient: &Patient, dos: NaiveDate, mut out: impl FnMut(Rule)) {
        if self.has_icd_any {
            match self.rd.icd10_status(code, dos) {
                IcdStatus::Unknown | IcdStatus::InvalidOnDate => out(Rule::IcdInvalid),
                IcdStatus::NotBillable if self.has_icd_list => out(Rule::IcdNotBillable),
                _ => {}
            }
        }
        if !self.has_mce {
            return;
        }
        let flags = self.rd.mce_flags(code, dos);
        if flags.is_empty() {
            return;
        }
        let has = |f: &str| flags.contains(&f);
        if (patient.sex == "M" && has("female")) || (patient.sex == "F" && has("male")) {
            out(Rule::MceSex);
        }
        if self.has_ages {
            let age = crate::dates::age_on(patient.birth, dos);
            for g in AGE_GROUPS {
                if !has(g) {
                    continue;
                }
                if let Some(r) = self.rd.mce_age_range(g, dos) {
                    if age < r.min as i64 || age > r.max as i64 {
                        out(Rule::MceAge);
                    }
                }
            }
        }
        if slot == 0 && has("manifestation") {
            out(Rule::MceManifestation);
        }
    }

    /// Every finding the federal rules give on the encounter (one patient, provider and date).
    pub fn issues(&self, enc: &Encounter, patient: &Patient) -> Vec<Issue> {
        let mut out = Vec::new();
        let rd = self.rd;
        let dos = enc.dos;
        let lines = &enc.lines;

        // FED-NCCI-PTP
        let codes: Vec<&str> = lines.iter().map(|l| l.code.as_ref()).collect();
        let mut done: Vec<(usize, &str)> = Vec::new();
        for hit in rd.ptp_hits(&codes, dos) {
            let (c1, c2) = (&lines[hit.column1], &lines[hit.column2]);
            if hit.modifier_indicator == 1 && (c1.has_any_modifier(self.ncci_modifiers) || c2.has_any_modifier(self.ncci_modifiers)) {
                continue;
            }
            let key = (hit.column2, c1.code.as_ref());
            if done.contains(&key) {
                continue;
            }
            done.push(key);
            let fix = if hit.modifier_indicator == 1 { Fix::Bypass(hit.column2) } else { Fix::DropLine(hit.column2) };
            out.push(Issue { rule: Rule::Ptp, fix });
        }

        // FED-MUE: MAI 1 per line, MAI 2/3 summed per code over the day (flagged on the last line).
        let mut per_day: Vec<(&str, u32, usize, u32)> = Vec::new(); // code, total, last line, limit
        for (i, l) in lines.iter().enumerate() {
            let Some(e) = rd.mue(&l.code, dos) else { continue };
            if e.mai == 1 {
                if l.units > e.units {
                    out.push(Issue { rule: Rule::Mue, fix: Fix::Units(i, e.units) });
                }
            } else if let Some(d) = per_day.iter_mut().find(|d| d.0 == l.code.as_ref()) {
                d.1 += l.units;
                d.2 = i;
            } else {
                per_day.push((l.code.as_ref(), l.units, i, e.units));
            }
        }
        for (_, total, last, limit) in per_day {
            if total > limit {
                let keep = limit.saturating_sub(total - lines[last].units);
                out.push(Issue { rule: Rule::Mue, fix: Fix::Units(last, keep) });
            }
        }

        // FED-ADDON-PRIMARY / TYPE3 / CONTRACTOR
        for (i, l) in lines.iter().enumerate() {
            let Some(e) = rd.addon(&l.code, dos) else { continue };
            let rule = match e.edit_type {
                1 => Rule::AddonPrimary,
                2 => {
                    out.push(Issue { rule: Rule::AddonContractor, fix: Fix::DropLine(i) });
                    continue;
                }
                3 => Rule::AddonType3,
                _ => continue,
            };
            if e.primaries.is_empty() {
                continue;
            }
            if !e.primaries.iter().any(|p| codes.contains(&p.as_str())) {
                out.push(Issue { rule, fix: Fix::DropLine(i) });
            }
        }

        // Claim scope: ICD-10-CM and MCE.
        for (c, claim) in enc.claims.iter().enumerate() {
            for (slot, code) in claim.dx.iter().enumerate() {
                self.dx_issues(code, slot, patient, dos, |rule| out.push(Issue { rule, fix: Fix::Dx { claim: c, slot } }));
            }
        }

        // Line scope: HCPCS, POS, modifiers, timely filing.
        for (i, l) in lines.iter().enumerate() {
            let exists = match is_level2(&l.code) {
                Some(true) => rd.hcpcs_exists(&l.code),
                Some(false) => rd.cpt_exists(&l.code),
                None => None,
            };
            if exists == Some(false) {
                out.push(Issue { rule: Rule::HcpcsExists, fix: Fix::DropLine(i) });
            }
            if !l.pos.is_empty() && rd.pos_valid(&l.pos) == Some(false) {
                out.push(Issue { rule: Rule::PosValid, fix: Fix::Pos(i) });
            }
            for (m, modifier) in l.mods.iter().enumerate() {
                if rd.modifier_valid(modifier) == Some(false) {
                    out.push(Issue { rule: Rule::ModifierValid, fix: Fix::Modifier { line: i, modifier: m } });
                }
            }
            if patient.payer.eq_ignore_ascii_case("MEDICARE") {
                let received = enc.claims[l.claim as usize].received;
                if (received - dos).num_days() > 365 {
                    out.push(Issue { rule: Rule::TimelyFiling, fix: Fix::Received(l.claim as usize) });
                }
            }
        }

        // FED-DUPLICATE-ACROSS-CLAIMS: same code, modifiers, units and charge on another claim.
        let mut seen: Vec<(usize, u8)> = Vec::new(); // first line with the key, its claim
        for (i, l) in lines.iter().enumerate() {
            match seen.iter().find(|(j, _)| lines[*j].same_service(l)) {
                Some(&(_, claim)) => {
                    if claim != l.claim {
                        out.push(Issue { rule: Rule::DuplicateAcrossClaims, fix: Fix::DropLine(i) });
                    }
                }
                None => seen.push((i, l.claim)),
            }
        }
        out
    }

    pub fn counts(&self, enc: &Encounter, patient: &Patient) -> Counts {
        let mut c = [0; RULES.len()];
        for i in self.issues(enc, patient) {
            c[i.rule.index()] += 1;
        }
        c
    }
}
