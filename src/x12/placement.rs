//! Loop placement: which open loop a segment belongs to, opening and closing loops as the 837
//! guides' loop tables say, and HL levels.

use super::loops::{self, Frame, Item, Role};
use super::tokenizer::{At, Segment};
use super::transaction::{could_be, ClaimType, Out, Party, Txn, MAX_LOOP_FAULTS};
use super::Severity;

/// Segments of the billing provider, subscriber and patient loops that carry nothing claimlint maps.
const UNREAD_IN_PARTY_LOOPS: &[&str] = &["N2", "N3", "N4", "REF", "PER", "SBR", "CUR"];

/// Segments found only inside a claim (loops 2300 and 2400).
const CLAIM_ONLY: &[&str] = &["HI", "LX", "SV1", "SV2", "SV5", "CL1", "CN1", "K3", "CR1", "CR2", "CR3", "CRC", "HCP"];

/// Whether segment `id`, placed in a loop of `role`, carries nothing claimlint maps.
fn unread(id: &str, role: Role) -> bool {
    matches!(role, Role::Other | Role::Unknown | Role::Header) || UNREAD_IN_PARTY_LOOPS.contains(&id)
}

/// What an unreadable segment in a billing provider, subscriber or patient loop can only have
/// been, when none of it is read there: a short identifier one edit from segments the open loops
/// hold that claimlint does not read (for NM1, the entity code tells the loop); a longer one
/// starting with such an identifier; or, when it starts with no identifier at all, the rest of
/// the segment before it (a terminator inside it), if that one is not read.
fn harmless(seg: &Segment, stack: &[Frame], last: Option<&(String, Role)>) -> Option<String> {
    let raw_id = seg.elements.first().copied().unwrap_or(&[]);
    if std::str::from_utf8(raw_id).ok().and_then(loops::max_elements).is_some() {
        // A known segment with too many elements swallowed the one after it, unseen.
        return None;
    }
    let allowed: Vec<&Item> = stack.iter().flat_map(|f| f.schema.iter()).collect();
    let unread_here = |id: &str| {
        if id == "NM1" {
            let entity = seg.text(1);
            return allowed.iter().any(|item| matches!(item, Item::Nm1 { codes, role: Role::Other, .. } if codes.contains(&entity.as_str())));
        }
        UNREAD_IN_PARTY_LOOPS.contains(&id)
    };
    let in_loops = |id: &str| allowed.iter().any(|item| item.opened_by(id));
    // The identifier (or, for a long one, its first three bytes) one edit from segments these
    // loops hold; with none, the bytes are the rest of the segment before them.
    let upper = raw_id.to_ascii_uppercase();
    let head = upper.get(..upper.len().min(3)).unwrap_or(&[]);
    let candidates: Vec<String> = if !head.is_empty() && head.iter().all(u8::is_ascii_alphanumeric) {
        loops::lookalikes(head).into_iter().filter(|id| in_loops(id)).map(str::to_string).collect()
    } else {
        Vec::new()
    };
    if candidates.is_empty() {
        let (id, role) = last?;
        return unread(id, *role).then(|| format!("the rest of the {id} before it"));
    }
    let all_unread = !candidates.is_empty() && candidates.iter().all(|c| unread_here(c));
    all_unread.then(|| format!("a damaged {}", candidates.join(" or ")))
}

/// CLM segments run into an unreadable one: an element that reads `CLM` once trimmed, or holds
/// a line break followed by `CLM`.
fn hl_shaped(seg: &Segment) -> bool {
    super::transaction::hl_shaped(seg)
}

fn embedded_claims(seg: &Segment) -> usize {
    seg.elements
        .iter()
        .skip(1)
        .filter(|e| {
            let t = super::tokenizer::clean(e);
            t == "CLM" || e.windows(4).any(|w| (w[0] == b'\n' || w[0] == b'\r') && &w[1..] == b"CLM")
        })
        .count()
}

impl Txn {
    pub(super) fn hl(&mut self, seg: &Segment, out: &mut Out) {
        self.truncate(1, out);
        let at = &seg.at;
        let (id, parent, level) = (seg.text(1), seg.text(2), seg.text(3));
        if let Some(poison) = &self.poison {
            // A new billing provider always ends the doubt; a subscriber or patient HL only
            // when its parent is the one in force and the lost HL was not above it.
            let lost = poison.level.as_deref();
            let parent_is = |p: Option<&Party>| p.is_some_and(|p| !p.hl_id.is_empty() && p.hl_id == parent);
            let clears = match level.as_str() {
                "20" => true,
                "22" => lost == Some("23") || (lost != Some("20") && parent_is(self.billing.as_ref())),
                "23" => lost == Some("23") && parent_is(self.subscriber.as_ref()),
                _ => false,
            };
            if clears {
                self.poison = None;
            }
        }
        if id.is_empty() {
            out.warn(at, "HL01 (hierarchical id) is missing".into());
        } else if self.hl_levels.contains_key(&id) {
            out.warn(at, format!("HL01 id {id} repeats an earlier HL in this transaction set"));
        }
        let parent_level = match level.as_str() {
            "22" => Some("20"),
            "23" => Some("22"),
            _ => None,
        };
        if let Some(want) = parent_level {
            match self.hl_levels.get(&parent) {
                None => out.warn(at, format!("HL02 parent id '{parent}' is not an earlier HL; a level {level} HL needs a level {want} parent")),
                Some(l) if l != want => {
                    out.warn(at, format!("HL02 parent id {parent} is a level {l} HL; a level {level} HL needs a level {want} parent"))
                }
                Some(_) => {}
            }
        } else if level == "20" && !parent.is_empty() {
            out.warn(at, format!("HL02 is '{parent}' but a billing provider HL (level 20) has no parent"));
        }
        if !id.is_empty() {
            self.hl_levels.insert(id, level.clone());
        }
        let tables = self.tables();
        match level.as_str() {
            "20" => {
                self.retire_billing(out);
                let mut p = Party::new(at);
                p.hl_id = seg.text(1);
                self.billing = Some(p);
                self.stack.push(Frame::new("2000A", Role::BillingHl, loops::L2000A));
            }
            "22" => {
                self.retire_subscriber(out);
                let mut p = Party::new(at);
                p.hl_id = seg.text(1);
                if self.billing.is_none() {
                    p.broken.push((at.clone(), "the subscriber HL (level 22) has no billing provider HL (level 20) before it".into()));
                }
                self.subscriber = Some(p);
                self.stack.push(Frame::new("2000B", Role::SubscriberHl, tables.l2000b));
            }
            "23" => {
                self.retire_patient(out);
                let mut p = Party::new(at);
                p.hl_id = seg.text(1);
                if self.subscriber.is_none() {
                    p.broken.push((at.clone(), "the patient HL (level 23) has no subscriber HL (level 22) before it".into()));
                }
                self.patient = Some(p);
                self.stack.push(Frame::new("2000C", Role::PatientHl, tables.l2000c));
            }
            _ => {
                out.warn(at, format!("HL03 level code '{level}' is not used in an 837 (expected 20, 22 or 23); its loop is skipped"));
                self.stack.push(Frame::new("HL", Role::Other, loops::UNKNOWN_HL));
            }
        }
    }

    /// Finds the loop a segment belongs to (innermost first), opening or closing loops, and maps it.
    pub(super) fn place(&mut self, seg: &Segment, out: &mut Out) {
        let id = seg.id();
        let nm101 = if id == "NM1" { seg.text(1) } else { String::new() };
        let mut found = None;
        let mut late = None;
        'outer: for depth in (0..self.stack.len()).rev() {
            let Some(frame) = self.stack.get(depth) else { continue };
            // Index 0 is the loop's own opening segment: a repeat of it opens a sibling via the parent.
            for (index, item) in frame.schema.iter().enumerate().skip(1) {
                if item.matches(id, &nm101) {
                    if index >= frame.last {
                        found = Some((depth, index));
                        break 'outer;
                    }
                    if late.is_none() {
                        late = Some((depth, index));
                    }
                    break;
                }
            }
        }
        let Some((depth, index)) = found.or(late) else {
            self.unplaced(seg, &nm101, out);
            return;
        };
        self.truncate(depth + 1, out);
        let Some(frame) = self.stack.get_mut(depth) else { return };
        let Some(item) = frame.schema.get(index).copied() else { return };
        let out_of_order = found.is_none().then(|| {
            let before = frame.schema.get(frame.last).map(|i| i.label()).unwrap_or_default();
            format!("{} is out of order in loop {}: it must come before {before}", item.label(), frame.name)
        });
        if out_of_order.is_none() {
            frame.last = index;
        }
        let parent_role = frame.role;
        let opened = match item {
            Item::Seg(_) => None,
            Item::Nm1 { max, name, role, .. } => Some((max, name, role, loops::NM1_LOOP)),
            Item::Loop { max, name, role, schema, .. } => Some((max, name, role, schema)),
        };
        let count = if opened.is_some() { frame.bump(index) } else { 0 };
        if let Some(msg) = out_of_order {
            self.note(Severity::Warning, &seg.at, msg, out);
        }
        match opened {
            None => self.map(parent_role, seg, out),
            Some((max, name, role, schema)) => {
                self.stack.push(Frame::new(name, role, schema));
                self.map(role, seg, out);
                if count > max {
                    self.repeated(name, max, count, &seg.at, out);
                }
            }
        }
    }

    /// A segment that cannot be read: it costs the claim it sits in, or every claim under the HL
    /// loop it sits in, unless it can only have been a segment claimlint does not read there. In
    /// the transaction set header it touches no claim data. If it may have been an HL, the claims
    /// up to the next HL are rejected too; if it may hold a CLM, that claim is counted as rejected.
    pub(super) fn damaged(&mut self, seg: &Segment, reason: &str, out: &mut Out) {
        let at = &seg.at;
        let raw_id = seg.elements.first().copied().unwrap_or(&[]);
        let known = std::str::from_utf8(raw_id).ok().and_then(loops::max_elements).is_some();
        let hl = could_be(seg, "HL");
        if hl {
            let level = hl_shaped(seg).then(|| {
                let n = seg.elements.len();
                super::tokenizer::clean(seg.elements.get(n - 2).copied().unwrap_or(&[]))
            });
            self.poison = Some(super::transaction::Poison { at: at.clone(), level });
            let only_hl = raw_id == b"HL" || hl_shaped(seg) || (!known && loops::lookalikes(raw_id) == ["HL"]);
            if only_hl {
                // An HL would have ended the open loops: the claim before it is complete, and
                // the claims after it are rejected until the next HL.
                self.truncate(1, out);
                out.warn(
                    at,
                    format!("the segment cannot be read ({reason}); it looks like an HL, so the claims after it up to the next readable HL are not audited"),
                );
                return;
            }
        }
        let swallowed = embedded_claims(seg).max(usize::from(could_be(seg, "CLM")));
        if swallowed > 0 {
            out.batch.claims_read += swallowed;
            out.batch.claims_rejected += swallowed;
            // Its lines, if they follow outside a claim, belong to the claim counted here.
            self.orphan = true;
            out.batch.problems.push(super::transaction::problem(
                Severity::Error,
                super::ProblemKind::Claim,
                None,
                at,
                format!("the segment cannot be read ({reason}) and may hold the CLM of a claim, which is not audited"),
            ));
        }
        if let Some(c) = self.claim.as_mut() {
            c.error(at, format!("the segment cannot be read ({reason}), so the claim cannot be trusted"));
            return;
        }
        let loop_role = self.stack.iter().rev().map(|f| f.role).find(|r| {
            matches!(r, Role::BillingHl | Role::Billing | Role::SubscriberHl | Role::Subscriber | Role::Payer | Role::PatientHl | Role::Patient)
        });
        let (party, name) = match loop_role {
            Some(Role::BillingHl | Role::Billing) => (self.billing.as_mut(), "billing provider"),
            Some(Role::SubscriberHl | Role::Subscriber | Role::Payer) => (self.subscriber.as_mut(), "subscriber"),
            Some(_) => (self.patient.as_mut(), "patient"),
            None => (None, ""),
        };
        let Some(p) = party else {
            out.warn(at, format!("the segment cannot be read ({reason}); it sits in the transaction set header, which holds no claim data"));
            return;
        };
        if !hl && swallowed == 0 {
            if let Some(what) = harmless(seg, &self.stack, self.last.as_ref()) {
                out.warn(
                    at,
                    format!("the segment cannot be read ({reason}); it can only be {what}, which claimlint does not read in the {name} loop, so the claims are audited"),
                );
                return;
            }
        }
        // Past the segments claimlint reads in this loop, nothing of it is lost; an HL or CLM
        // it may hold is dealt with above.
        let complete = match loop_role {
            Some(Role::BillingHl | Role::Billing) => p.named,
            Some(Role::SubscriberHl | Role::Subscriber | Role::Payer) => p.named && p.payer_named,
            _ => p.named && p.demographics,
        };
        if complete {
            out.warn(
                at,
                format!("the segment cannot be read ({reason}); it comes after everything claimlint reads in the {name} loop, so the claims under it are audited"),
            );
            return;
        }
        if p.broken.len() < MAX_LOOP_FAULTS {
            p.broken.push((at.clone(), format!("the segment cannot be read ({reason}); no claim under this {name} loop can be trusted")));
        }
    }

    /// A segment no open loop may hold.
    pub(super) fn unplaced(&mut self, seg: &Segment, nm101: &str, out: &mut Out) {
        let id = seg.id();
        if id == "LX" {
            // A service line outside any claim: counted, and rejected with the message below.
            out.batch.lines_read += 1;
            out.batch.lines_rejected += 1;
        }
        if self.claim.is_none() && CLAIM_ONLY.contains(&id) && !self.orphan {
            // The CLM of these segments was lost to damage: count that claim as rejected.
            self.orphan = true;
            out.batch.claims_read += 1;
            out.batch.claims_rejected += 1;
            out.batch.problems.push(super::transaction::problem(
                Severity::Error,
                super::ProblemKind::Claim,
                None,
                &seg.at,
                format!("{id} belongs in a claim, but no CLM opens one here: that claim's CLM cannot be read, and the claim is not audited"),
            ));
        }
        if id == "NM1" {
            // A new NM1 ends a name loop; then skip this one with its N3/N4/REF/PER.
            while self.stack.len() > 1 && self.stack.last().is_some_and(|f| matches!(f.schema.first(), Some(Item::Seg("NM1")))) {
                self.truncate(self.stack.len() - 1, out);
            }
            let top = self.stack.last().map_or("ST", |f| f.name);
            self.note(Severity::Warning, &seg.at, format!("NM1 entity code '{nm101}' is not expected in loop {top}; the loop is skipped"), out);
            self.stack.push(Frame::new("NM1", Role::Unknown, loops::NM1_LOOP));
            return;
        }
        let top = self.stack.last().map_or("ST", |f| f.name);
        if id == "CLM" {
            // Read the claim anyway so its own faults are reported too, then reject it.
            self.truncate(self.stack.len().min(2), out);
            let schema = loops::claim_schema(self.kind == ClaimType::Institutional);
            self.stack.push(Frame::new("2300", Role::Claim, schema));
            self.map(Role::Claim, seg, out);
            let msg = format!("CLM is not allowed in loop {top}: a claim must follow a subscriber (HL level 22) or patient (HL level 23) loop");
            self.note(Severity::Error, &seg.at, msg, out);
            return;
        }
        let hint = match (id, self.kind) {
            ("SV1", ClaimType::Institutional) => " (SV1 is a professional service line and this is an 837I)",
            ("SV2", ClaimType::Professional) => " (SV2 is an institutional service line and this is an 837P)",
            ("SV1" | "SV2", _) => " (expected LX to open the service line first)",
            _ => "",
        };
        let msg = format!("segment {id} is not allowed in loop {top}{hint}");
        // Inside a claim this is what a clearinghouse rejects the claim for; elsewhere it touches no claim data.
        self.note(Severity::Error, &seg.at, msg, out);
    }

    pub(super) fn repeated(&mut self, name: &str, max: u16, count: u16, at: &At, out: &mut Out) {
        // A repeated single-use loop leaves two candidates (two billing providers, two payers):
        // claims under it cannot be trusted. Exceeding a larger limit keeps the meaning clear.
        if max > 1 {
            let msg = format!("loop {name} occurs {count} times; the guide allows {max}");
            self.note(Severity::Warning, at, msg, out);
            return;
        }
        let msg = format!("loop {name} occurs more than once; the guide allows it once");
        if let Some(c) = self.claim.as_mut() {
            c.error(at, msg);
            return;
        }
        let party = if name.starts_with("2010A") {
            self.billing.as_mut()
        } else if name.starts_with("2010B") {
            self.subscriber.as_mut()
        } else if name.starts_with("2010C") {
            self.patient.as_mut()
        } else {
            None
        };
        match party {
            // Copied into every claim under the loop: keep it short so that work stays linear.
            Some(p) if p.broken.len() < MAX_LOOP_FAULTS => p.broken.push((at.clone(), msg)),
            Some(_) => {}
            None => out.warn(at, msg),
        }
    }
}
