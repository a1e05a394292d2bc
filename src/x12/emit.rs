//! Finishing a claim: the checks that need the whole claim, then one [`ClaimLine`] per service
//! line with the claim's values repeated.

use super::transaction::{Claim, ClaimType, Out, Party, Provider, Txn};
use super::{ClaimLine, ClaimSummary, Severity};

/// Amounts closer than half a cent are equal.
pub(super) const HALF_CENT: f64 = 0.005;

impl Txn {
    pub(super) fn finish_claim(&mut self, out: &mut Out) {
        let Some(mut c) = self.claim.take() else { return };
        let at = c.at.clone();
        match c.billing.clone() {
            None => c.error(&at, "no billing provider: the claim is not under a billing provider HL (level 20)".into()),
            Some(b) => {
                if !b.named {
                    c.error(&b.at, format!("the billing provider name loop (2010AA NM1*85) is missing from the HL at segment {}", b.at.number));
                }
                for (a, m) in b.broken {
                    c.error(&a, m);
                }
            }
        }
        match c.subscriber.clone() {
            None => c.error(&at, "no subscriber: the claim is not under a subscriber HL (level 22)".into()),
            Some(s) => {
                if !s.named {
                    c.error(&s.at, format!("the subscriber name loop (2010BA NM1*IL) is missing from the HL at segment {}", s.at.number));
                }
                if !s.payer_named {
                    c.error(&s.at, format!("the payer name loop (2010BB NM1*PR) is missing from the HL at segment {}", s.at.number));
                }
                for (a, m) in s.broken {
                    c.error(&a, m);
                }
            }
        }
        if c.under_patient {
            match c.patient.clone() {
                None => c.error(&at, "no patient loop for the claim".into()),
                Some(p) => {
                    if !p.named {
                        c.error(&p.at, format!("the patient name loop (2010CA NM1*QC) is missing from the HL at segment {}", p.at.number));
                    }
                    for (a, m) in p.broken {
                        c.error(&a, m);
                    }
                }
            }
        }
        let who = if c.under_patient { c.patient.as_ref() } else { c.subscriber.as_ref() };
        if let Some(p) = who.filter(|p| !p.demographics) {
            let (loop_name, p_at) = (if c.under_patient { "2010CA" } else { "2010BA" }, p.at.clone());
            c.warn(&p_at, format!("the patient's demographics (DMG in {loop_name}) are missing: birth date and sex are unknown"));
        }
        if !c.hi_seen {
            c.error(&at, "the claim has no HI segment: the principal diagnosis (ABK or BK) is required".into());
        } else if c.dx.is_empty() {
            c.error(&at, "HI carries no diagnosis qualified ABK, ABF, BK or BF".into());
        }
        if let Some((a, n)) = c.dx_dropped.clone() {
            c.warn(&a, format!("{n} diagnosis code(s) beyond the 12th are not carried into dx_1..dx_12"));
        }
        if c.lines.is_empty() {
            c.error(&at, "the claim has no service line (loop 2400: LX with SV1 or SV2)".into());
        }
        let mut notes = Vec::new();
        for l in &c.lines {
            if !l.service {
                notes.push((Severity::Error, l.at.clone(), format!("service line {} has no SV1/SV2 segment", l.number)));
            }
            if l.dates.is_none() && c.d472.is_none() && c.d434.is_none() {
                notes.push((
                    Severity::Error,
                    l.at.clone(),
                    format!("service line {} has no service date: no DTP*472 on the line and no claim-level DTP*472 or DTP*434", l.number),
                ));
            }
            // With no diagnosis at all the claim is already rejected; a pointer warning would only repeat that.
            let beyond = l.pointers.iter().find(|&&p| usize::try_from(p).map_or(true, |p| p > c.dx.len()));
            if let (Some(&p), false) = (beyond, c.dx.is_empty()) {
                notes.push((
                    Severity::Warning,
                    l.at.clone(),
                    format!("SV107 on line {} points to diagnosis {p}, but the claim has {} diagnosis code(s)", l.number, c.dx.len()),
                ));
            }
        }
        for (sev, a, m) in notes {
            c.note(sev, &a, m);
        }
        let sum: f64 = c.lines.iter().map(|l| l.charge).sum();
        let has_error = c.problems.iter().any(|p| p.severity == Severity::Error);
        if !has_error && (sum - c.charge).abs() >= HALF_CENT {
            c.warn(&at, format!("CLM02 total charge {:.2} does not equal the sum of the line charges {:.2}", c.charge, sum));
        }
        out.batch.problems.append(&mut c.problems);
        out.batch.claims_read += 1;
        out.batch.lines_read += c.lines.len();
        if has_error {
            out.batch.claims_rejected += 1;
            out.batch.lines_rejected += c.lines.len();
            return;
        }
        self.emit(c, sum, out);
    }

    pub(super) fn emit(&self, c: Claim, sum: f64, out: &mut Out) {
        let billing = c.billing.clone().unwrap_or_else(|| Party::new(&c.at));
        let subscriber = c.subscriber.clone().unwrap_or_else(|| Party::new(&c.at));
        let patient = if c.under_patient { c.patient.clone() } else { None };
        let person = patient.as_ref().unwrap_or(&subscriber);
        let patient_id = match &patient {
            Some(p) if !p.id.is_empty() => p.id.clone(),
            _ => subscriber.id.clone(),
        };
        let billing_provider = Provider { npi: billing.id.clone(), taxonomy: billing.taxonomy.clone() };
        let claim_chain: Vec<&Provider> = match self.kind {
            ClaimType::Professional => vec![&c.rendering],
            ClaimType::Institutional => vec![&c.attending, &c.rendering, &c.operating],
        };
        let mut dx: [String; 12] = Default::default();
        for (slot, code) in dx.iter_mut().zip(&c.dx) {
            slot.clone_from(code);
        }
        let [dx_1, dx_2, dx_3, dx_4, dx_5, dx_6, dx_7, dx_8, dx_9, dx_10, dx_11, dx_12] = dx;
        let institutional = self.kind == ClaimType::Institutional;
        for l in &c.lines {
            let rendering = std::iter::once(&l.rendering)
                .chain(claim_chain.iter().copied())
                .chain(std::iter::once(&billing_provider))
                .find(|p| !p.npi.is_empty())
                .unwrap_or(&billing_provider);
            let (from, to) = l.dates.clone().or_else(|| c.d472.clone()).or_else(|| c.d434.clone()).unwrap_or_default();
            let [m1, m2, m3, m4] = l.modifiers.clone();
            let pos = if institutional {
                String::new()
            } else if l.pos.is_empty() {
                c.pos.clone()
            } else {
                l.pos.clone()
            };
            let sep = if l.pointers.iter().any(|&p| p > 9) { "," } else { "" };
            let dx_pointers = l.pointers.iter().map(u32::to_string).collect::<Vec<_>>().join(sep);
            out.batch.line_segments.push(l.at.number);
            out.batch.lines.push(ClaimLine {
                claim_id: c.id.clone(),
                claim_type: self.kind.name().to_string(),
                payer_id: subscriber.payer_id.clone(),
                patient_id: patient_id.clone(),
                patient_birth_date: person.birth.clone(),
                patient_sex: person.sex.clone(),
                patient_death_date: person.death.clone(),
                billing_npi: billing.id.clone(),
                rendering_npi: rendering.npi.clone(),
                provider_specialty: rendering.taxonomy.clone(),
                received_date: c.received.clone(),
                prior_auth_number: if l.prior_auth.is_empty() { c.prior_auth.clone() } else { l.prior_auth.clone() },
                dx_1: dx_1.clone(),
                dx_2: dx_2.clone(),
                dx_3: dx_3.clone(),
                dx_4: dx_4.clone(),
                dx_5: dx_5.clone(),
                dx_6: dx_6.clone(),
                dx_7: dx_7.clone(),
                dx_8: dx_8.clone(),
                dx_9: dx_9.clone(),
                dx_10: dx_10.clone(),
                dx_11: dx_11.clone(),
                dx_12: dx_12.clone(),
                line_number: l.number,
                service_date_from: from,
                service_date_to: to,
                place_of_service: pos,
                procedure_code: l.procedure.clone(),
                modifier_1: m1,
                modifier_2: m2,
                modifier_3: m3,
                modifier_4: m4,
                units: l.units,
                charge_amount: l.charge,
                dx_pointers,
                paid_amount: String::new(),
                type_of_bill: c.tob.clone(),
                revenue_code: l.revenue.clone(),
                principal_procedure_code: c.principal_procedure.clone(),
                other_procedure_codes: c.other_procedures.join("|"),
                claim_total_charge: c.charge,
            });
        }
        out.batch.claims.push(ClaimSummary {
            claim_id: c.id.clone(),
            total_charge: c.charge,
            line_count: c.lines.len(),
            line_charge_sum: sum,
            claim_type: self.kind.name().to_string(),
            segment_number: c.at.number,
        });
    }
}
