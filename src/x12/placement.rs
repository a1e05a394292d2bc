//! Loop placement: which open loop a segment belongs to, opening and closing loops as the 837
//! guides' loop tables say, and HL levels.

use super::loops::{self, Frame, Item, Role};
use super::tokenizer::{At, Segment};
use super::transaction::{ClaimType, Out, Party, Txn, MAX_LOOP_FAULTS};
use super::Severity;

impl Txn {
    pub(super) fn hl(&mut self, seg: &Segment, out: &mut Out) {
        self.truncate(1, out);
        let at = &seg.at;
        let (id, parent, level) = (seg.text(1), seg.text(2), seg.text(3));
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
                Some(l) if l != want => out.warn(at, format!("HL02 parent id {parent} is a level {l} HL; a level {level} HL needs a level {want} parent")),
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
                self.billing = Some(Party::new(at));
                self.stack.push(Frame::new("2000A", Role::BillingHl, loops::L2000A));
            }
            "22" => {
                self.retire_subscriber(out);
                let mut p = Party::new(at);
                if self.billing.is_none() {
                    p.broken.push((
                        at.clone(),
                        "the subscriber HL (level 22) has no billing provider HL (level 20) before it".into(),
                    ));
                }
                self.subscriber = Some(p);
                self.stack.push(Frame::new("2000B", Role::SubscriberHl, tables.l2000b));
            }
            "23" => {
                self.retire_patient(out);
                let mut p = Party::new(at);
                if self.subscriber.is_none() {
                    p.broken.push((
                        at.clone(),
                        "the patient HL (level 23) has no subscriber HL (level 22) before it".into(),
                    ));
                }
                self.patient = Some(p);
                self.stack.push(Frame::new("2000C", Role::PatientHl, tables.l2000c));
            }
            _ => {
                out.warn(
                    at,
                    format!(
                        "HL03 level code '{level}' is not used in an 837 (expected 20, 22 or 23); its loop is skipped"
                    ),
                );
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

    /// A segment no open loop may hold.
    pub(super) fn unplaced(&mut self, seg: &Segment, nm101: &str, out: &mut Out) {
        let id = seg.id();
        if id == "NM1" {
            // A new NM1 ends a name loop; then skip this one with its N3/N4/REF/PER.
            while self.stack.len() > 1
                && self.stack.last().is_some_and(|f| matches!(f.schema.first(), Some(Item::Seg("NM1"))))
            {
                self.truncate(self.stack.len() - 1, out);
            }
            let top = self.stack.last().map_or("ST", |f| f.name);
            self.note(
                Severity::Warning,
                &seg.at,
                format!("NM1 entity code '{nm101}' is not expected in loop {top}; the loop is skipped"),
                out,
            );
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
