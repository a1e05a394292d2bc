//! Segment mappers: what each 837 segment contributes to the claim, its lines and parties.

use super::loops::Role;
use super::tokenizer::{clean, components, Segment};
use super::transaction::{Claim, ClaimType, Out, Party, Provider, ServiceLine837, Txn};

/// HI qualifiers that carry a code in their second component: diagnoses (ICD-10 then ICD-9:
/// principal, other, admitting, reason for visit, external cause) and procedures (ICD-10-PCS,
/// ICD-9, advanced billing concepts).
pub(super) const CODE_QUALIFIERS: &[&str] = &["ABK", "ABF", "ABJ", "APR", "ABN", "BK", "BF", "BJ", "PR", "BN", "BBR", "BBQ", "BR", "BQ", "CAH"];
/// Other HI qualifiers (value, occurrence, span, condition, DRG, treatment codes). A bare element
/// equal to one of these is not a diagnosis code.
pub(super) const OTHER_QUALIFIERS: &[&str] = &["BE", "BH", "BI", "BG", "DR", "TC", "BP", "BO"];

impl Txn {
    pub(super) fn map(&mut self, role: Role, seg: &Segment, out: &mut Out) {
        let at = &seg.at;
        match (role, seg.id()) {
            (Role::BillingHl, "PRV") => {
                if let Some(b) = self.billing.as_mut() {
                    if seg.text(1) == "BI" {
                        b.taxonomy = seg.text(3);
                    }
                }
            }
            (Role::Billing, "NM1") => {
                let npi = npi(seg);
                if npi.is_empty() {
                    out.warn(at, "the billing provider (2010AA NM1*85) has no NPI (NM108 = XX)".into());
                }
                if let Some(b) = self.billing.as_mut() {
                    b.named = true;
                    b.id = npi;
                }
            }
            (Role::SubscriberHl, "PAT") => Self::death(self.subscriber.as_mut(), seg, out),
            (Role::PatientHl, "PAT") => Self::death(self.patient.as_mut(), seg, out),
            (Role::Subscriber, "NM1") => {
                if let Some(s) = self.subscriber.as_mut() {
                    s.named = true;
                    s.id = seg.text(9);
                }
            }
            (Role::Subscriber, "DMG") => Self::demographics(self.subscriber.as_mut(), seg, out),
            (Role::Payer, "NM1") => {
                if let Some(s) = self.subscriber.as_mut() {
                    s.payer_named = true;
                    s.payer_id = seg.text(9);
                }
            }
            (Role::Patient, "NM1") => {
                if let Some(p) = self.patient.as_mut() {
                    p.named = true;
                    p.id = seg.text(9);
                }
            }
            (Role::Patient, "DMG") => Self::demographics(self.patient.as_mut(), seg, out),
            (Role::Claim, "CLM") => self.start_claim(seg, out),
            (Role::Claim, "DTP") => {
                if let Some(c) = self.claim.as_mut() {
                    let which = seg.text(1);
                    if matches!(which.as_str(), "472" | "434" | "050") {
                        match period(seg) {
                            Ok(p) => match which.as_str() {
                                "472" => c.d472 = Some(p),
                                "434" => c.d434 = Some(p),
                                _ => c.received = p.0,
                            },
                            Err(msg) => c.warn(at, msg),
                        }
                    }
                }
            }
            (Role::Claim, "REF") => {
                if let Some(c) = self.claim.as_mut() {
                    if seg.text(1) == "G1" {
                        c.prior_auth = seg.text(2);
                    }
                }
            }
            (Role::Claim, "HI") => self.hi(seg),
            (Role::ClaimRendering | Role::ClaimAttending | Role::ClaimOperating, "NM1" | "PRV") => {
                if let Some(c) = self.claim.as_mut() {
                    let p = match role {
                        Role::ClaimAttending => &mut c.attending,
                        Role::ClaimOperating => &mut c.operating,
                        _ => &mut c.rendering,
                    };
                    provider(p, seg);
                }
            }
            (Role::Line, "LX") => {
                if let Some(c) = self.claim.as_mut() {
                    let expected = c.lines.len() + 1;
                    let raw = seg.text(1);
                    let number = match raw.parse::<u32>() {
                        Ok(n) => {
                            if usize::try_from(n).ok() != Some(expected) {
                                c.warn(at, format!("LX01 {n} is out of sequence: expected {expected}"));
                            }
                            n
                        }
                        Err(_) => {
                            c.warn(at, format!("LX01 '{raw}' is not a line number; the line is numbered {expected}"));
                            u32::try_from(expected).unwrap_or(u32::MAX)
                        }
                    };
                    c.lines.push(ServiceLine837 {
                        at: at.clone(),
                        number,
                        service: false,
                        procedure: String::new(),
                        modifiers: Default::default(),
                        charge: 0.0,
                        units: 0.0,
                        pos: String::new(),
                        pointers: Vec::new(),
                        revenue: String::new(),
                        dates: None,
                        prior_auth: String::new(),
                        rendering: Provider::default(),
                    });
                }
            }
            (Role::Line, "SV1" | "SV2") => self.service(seg),
            (Role::Line, "DTP") => {
                if let Some(c) = self.claim.as_mut() {
                    if seg.text(1) == "472" {
                        match period(seg) {
                            Ok(p) => {
                                if let Some(l) = c.lines.last_mut() {
                                    l.dates = Some(p);
                                }
                            }
                            Err(msg) => c.warn(at, msg),
                        }
                    }
                }
            }
            (Role::Line, "REF") => {
                if let Some(l) = self.claim.as_mut().and_then(|c| c.lines.last_mut()) {
                    if seg.text(1) == "G1" {
                        l.prior_auth = seg.text(2);
                    }
                }
            }
            (Role::LineRendering, "NM1" | "PRV") => {
                if let Some(l) = self.claim.as_mut().and_then(|c| c.lines.last_mut()) {
                    provider(&mut l.rendering, seg);
                }
            }
            _ => {}
        }
    }

    pub(super) fn death(party: Option<&mut Party>, seg: &Segment, out: &mut Out) {
        let Some(p) = party else { return };
        if seg.text(5) == "D8" {
            match d8(&seg.text(6)) {
                Some(d) => p.death = d,
                None => out.warn(&seg.at, format!("PAT06 date of death '{}' is not a valid CCYYMMDD date", seg.text(6))),
            }
        }
    }

    pub(super) fn demographics(party: Option<&mut Party>, seg: &Segment, out: &mut Out) {
        let Some(p) = party else { return };
        p.demographics = true;
        let date = seg.text(2);
        if seg.text(1) == "D8" {
            match d8(&date) {
                Some(d) => p.birth = d,
                None => out.warn(&seg.at, format!("DMG02 birth date '{date}' is not a valid CCYYMMDD date")),
            }
        } else if !date.is_empty() {
            out.warn(&seg.at, format!("DMG01 date format '{}' is not D8", seg.text(1)));
        }
        let sex = seg.text(3).to_ascii_uppercase();
        match sex.as_str() {
            "M" | "F" | "U" => p.sex = sex,
            "" => {}
            _ => out.warn(&seg.at, format!("DMG03 sex code '{sex}' is not M, F or U")),
        }
    }

    pub(super) fn start_claim(&mut self, seg: &Segment, out: &mut Out) {
        // The 2300 frame is on top; the loop below it tells whether a 2000C patient applies.
        let parent = self.stack.iter().rev().nth(1).map(|f| f.role);
        let under_patient = parent == Some(Role::PatientHl);
        for p in [self.billing.as_mut(), self.subscriber.as_mut()].into_iter().flatten() {
            p.claims += 1;
        }
        if under_patient {
            if let Some(p) = self.patient.as_mut() {
                p.claims += 1;
            }
        }
        let at = &seg.at;
        let mut c = Claim {
            at: at.clone(),
            id: seg.text(1),
            charge: 0.0,
            pos: String::new(),
            tob: String::new(),
            under_patient,
            billing: self.billing.clone(),
            subscriber: self.subscriber.clone(),
            patient: if under_patient { self.patient.clone() } else { None },
            hi_seen: false,
            dx: Vec::new(),
            dx_dropped: None,
            principal_procedure: String::new(),
            other_procedures: Vec::new(),
            d472: None,
            d434: None,
            received: String::new(),
            prior_auth: String::new(),
            rendering: Provider::default(),
            attending: Provider::default(),
            operating: Provider::default(),
            lines: Vec::new(),
            problems: Vec::new(),
        };
        if c.id.is_empty() {
            c.error(at, "CLM01 (claim id) is missing".into());
        }
        if let Some(p) = &self.poison {
            c.error(
                at,
                format!(
                    "segment {} before this claim cannot be read and may have been an HL, so the claim may belong to another billing provider, subscriber or patient",
                    p.at.number
                ),
            );
        }
        match amount(seg.raw(2)) {
            Some(v) => c.charge = v,
            None => c.error(at, format!("CLM02 total charge '{}' is missing or not a number", seg.text(2))),
        }
        self.check_component(seg, &mut c);
        let clm05 = components(seg.raw(5), self.comp);
        let facility = clm05.first().cloned().unwrap_or_default();
        let frequency = clm05.get(2).cloned().unwrap_or_default();
        if facility.is_empty() {
            let what = match self.kind {
                ClaimType::Professional => "place of service",
                ClaimType::Institutional => "facility type code",
            };
            c.error(at, format!("CLM05-1 ({what}) is missing"));
        }
        if frequency.is_empty() {
            c.error(at, "CLM05-3 (claim frequency code) is missing".into());
        }
        match self.kind {
            ClaimType::Professional => c.pos = facility,
            ClaimType::Institutional => {
                if !facility.is_empty() && !frequency.is_empty() {
                    c.tob = format!("{facility}{frequency}");
                }
            }
        }
        // place() closed the previous 2300 before this one opened; this only guards that invariant.
        if self.claim.is_some() {
            self.finish_claim(out);
        }
        self.claim = Some(c);
    }

    /// Several guide examples write composites with '>' while ISA16 says ':'. CLM05 is always a
    /// composite (facility:qualifier:frequency), so a different separator there is detected
    /// reliably and then used for the rest of the transaction set.
    pub(super) fn check_component(&mut self, seg: &Segment, c: &mut Claim) {
        let raw = seg.raw(5);
        if self.comp_repaired || raw.len() < 4 || raw.contains(&self.comp) {
            return;
        }
        let (Some(head), Some(&sep), Some(tail)) = (raw.get(..2), raw.get(2), raw.get(3..)) else { return };
        let d = self.delims;
        let usable = sep.is_ascii_punctuation() && sep != d.element && sep != d.segment && Some(sep) != d.repetition;
        if head.iter().all(u8::is_ascii_alphanumeric) && usable && tail.contains(&sep) {
            c.warn(
                &seg.at,
                format!(
                    "CLM05 '{}' uses '{}' as component separator but ISA16 declares '{}'; composites in this transaction set are read with '{}'",
                    clean(raw),
                    sep as char,
                    self.comp as char,
                    sep as char
                ),
            );
            self.comp = sep;
            self.comp_repaired = true;
        }
    }

    pub(super) fn hi(&mut self, seg: &Segment) {
        let comp = self.comp;
        let el = self.delims.element as char;
        let Some(c) = self.claim.as_mut() else { return };
        c.hi_seen = true;
        let at = &seg.at;
        let n = seg.elements.len();
        let mut joined = Vec::new();
        let mut i = 1;
        while i < n {
            let raw = seg.raw(i);
            let text = clean(raw);
            let position = format!("HI{i:02}");
            if text.is_empty() {
                i += 1;
                continue;
            }
            let (qualifier, code) = if raw.contains(&comp) {
                let parts = components(raw, comp);
                (parts.first().cloned().unwrap_or_default(), parts.get(1).cloned().unwrap_or_default())
            } else if CODE_QUALIFIERS.contains(&text.as_str()) && i + 1 < n && {
                let next = seg.raw(i + 1);
                let next_text = clean(next);
                !next.contains(&comp)
                    && !next_text.is_empty()
                    && !CODE_QUALIFIERS.contains(&next_text.as_str())
                    && !OTHER_QUALIFIERS.contains(&next_text.as_str())
            } {
                // `HI*BK*8901`: the code landed in the next element. The intent is plain, so read it.
                let next = seg.text(i + 1);
                joined.push((format!("{text}{el}{next}"), format!("{text}{}{next}", comp as char)));
                i += 1;
                (text, next)
            } else {
                c.warn(at, format!("{position} '{text}' is not qualifier{}code; ignored", comp as char));
                i += 1;
                continue;
            };
            i += 1;
            let code = code.replace('.', "").to_ascii_uppercase();
            match qualifier.as_str() {
                "ABK" | "BK" | "ABF" | "BF" => {
                    if code.is_empty() {
                        c.warn(at, format!("{position} qualifier {qualifier} has no diagnosis code"));
                        continue;
                    }
                    if c.dx.is_empty() && !matches!(qualifier.as_str(), "ABK" | "BK") {
                        c.warn(at, format!("the first diagnosis ({position}) is qualified {qualifier}, not as principal diagnosis (ABK or BK)"));
                    }
                    if c.dx.len() < 12 {
                        c.dx.push(code);
                    } else {
                        let dropped = c.dx_dropped.get_or_insert((at.clone(), 0));
                        dropped.1 += 1;
                    }
                }
                "BBR" | "BR" | "CAH" if !code.is_empty() => {
                    if c.principal_procedure.is_empty() {
                        c.principal_procedure = code;
                    } else {
                        c.warn(at, format!("{position}: a second principal procedure {code}; kept as another procedure"));
                        c.other_procedures.push(code);
                    }
                }
                "BBQ" | "BQ" if !code.is_empty() => c.other_procedures.push(code),
                _ => {}
            }
        }
        if !joined.is_empty() {
            let (found, read): (Vec<String>, Vec<String>) = joined.into_iter().unzip();
            c.warn(
                at,
                format!(
                    "HI writes qualifier and code as separate elements ({}); read as {}: they must be joined by the component separator '{}'",
                    found.join(", "),
                    read.join(", "),
                    comp as char
                ),
            );
        }
    }

    /// SV1 (837P) or SV2 (837I).
    pub(super) fn service(&mut self, seg: &Segment) {
        let comp = self.comp;
        let Some(c) = self.claim.as_mut() else { return };
        let at = &seg.at;
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let Some(line) = c.lines.last_mut() else { return };
        if line.service {
            let msg = format!("service line {} has a second {}", line.number, seg.id());
            c.error(at, msg);
            return;
        }
        line.service = true;
        let professional = seg.id() == "SV1";
        let (code_el, charge_el, units_el) = if professional { (1, 2, 4) } else { (2, 3, 5) };
        let procedure = components(seg.raw(code_el), comp);
        line.procedure = procedure.get(1).cloned().unwrap_or_default();
        for (slot, m) in line.modifiers.iter_mut().zip(procedure.iter().skip(2)) {
            slot.clone_from(m);
        }
        let name = |e: usize| format!("{}{e:02}", seg.id());
        if professional {
            if line.procedure.is_empty() {
                errors.push(format!("SV101-2 (procedure code) is missing on line {}", line.number));
            }
            line.pos = seg.text(5);
            let pointers = components(seg.raw(7), comp);
            for p in pointers.iter().filter(|p| !p.is_empty()) {
                match p.parse::<u32>() {
                    Ok(n) if (1..=12).contains(&n) => line.pointers.push(n),
                    _ => match amount(p.as_bytes()) {
                        // N0 allows no decimals, but "1.00" still names pointer 1.
                        Some(v) if v.fract() == 0.0 && (1.0..=12.0).contains(&v) => {
                            line.pointers.push(v as u32);
                            warnings.push(format!("SV107 pointer '{p}' on line {} is not a whole number; read as {}", line.number, v as u32));
                        }
                        _ => warnings.push(format!("SV107 pointer '{p}' on line {} is not a diagnosis pointer 1-12; ignored", line.number)),
                    },
                }
            }
            if line.pointers.is_empty() && pointers.iter().all(|p| p.is_empty()) {
                warnings.push(format!("SV107 (diagnosis code pointer) is missing on line {}", line.number));
            }
        } else {
            line.revenue = seg.text(1);
            if line.revenue.is_empty() {
                errors.push(format!("SV201 (revenue code) is missing on line {}", line.number));
            }
        }
        match amount(seg.raw(charge_el)) {
            Some(v) => line.charge = v,
            None => errors.push(format!("{} line charge '{}' is missing or not a number", name(charge_el), seg.text(charge_el))),
        }
        match amount(seg.raw(units_el)) {
            Some(v) => line.units = v,
            None => errors.push(format!("{} units '{}' are missing or not a number", name(units_el), seg.text(units_el))),
        }
        for m in errors {
            c.error(at, m);
        }
        for m in warnings {
            c.warn(at, m);
        }
    }
}

/// NM109 when NM108 says it is an NPI.
pub(super) fn npi(seg: &Segment) -> String {
    if seg.text(8) == "XX" {
        seg.text(9)
    } else {
        String::new()
    }
}

pub(super) fn provider(p: &mut Provider, seg: &Segment) {
    match seg.id() {
        "NM1" => p.npi = npi(seg),
        "PRV" => p.taxonomy = seg.text(3),
        _ => {}
    }
}

/// X12 decimal (R): optional minus, digits with at most one point. Refuses exponents, "inf" and
/// "NaN", which `f64::from_str` would accept.
pub(super) fn amount(b: &[u8]) -> Option<f64> {
    let s = clean(b);
    let digits = s.strip_prefix('-').unwrap_or(&s);
    let mut points = 0;
    let mut any_digit = false;
    for ch in digits.chars() {
        match ch {
            '0'..='9' => any_digit = true,
            '.' => points += 1,
            _ => return None,
        }
    }
    if !any_digit || points > 1 {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// CCYYMMDD to YYYY-MM-DD, checking the calendar.
pub(super) fn d8(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1800..=2999).contains(&y) || d == 0 || d > days {
        return None;
    }
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// DTP02/DTP03 as (from, to).
pub(super) fn period(seg: &Segment) -> Result<(String, String), String> {
    let (qualifier, format, value) = (seg.text(1), seg.text(2), seg.text(3));
    let bad = |v: &str| format!("DTP*{qualifier} date '{v}' is not a valid CCYYMMDD date");
    match format.as_str() {
        "D8" => d8(&value).map(|d| (d.clone(), d)).ok_or_else(|| bad(&value)),
        "RD8" => {
            let (a, b) = value.split_once('-').ok_or_else(|| format!("DTP*{qualifier} range '{value}' is not CCYYMMDD-CCYYMMDD"))?;
            let from = d8(a).ok_or_else(|| bad(a))?;
            let to = d8(b).ok_or_else(|| bad(b))?;
            if from > to {
                return Err(format!("DTP*{qualifier} range '{value}' ends before it starts"));
            }
            Ok((from, to))
        }
        _ => Err(format!("DTP*{qualifier} date format '{format}' is not D8 or RD8")),
    }
}
