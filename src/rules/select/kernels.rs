//! The table-driven candidate kernels: native scans that find the lines a federal edit could
//! fire on, in parallel over rows or record groups. Each returns a mask over lines.
//!
//! Reference lookups that depend on a value and a date (ICD-10 status, MCE flags, MUE, add-on
//! edits) are made once per distinct (value, day) pair present in the batch, in a table shared
//! by every rule of the run, so a kernel's per-record work is a few array reads.

use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use hashbrown::HashMap;
use rayon::prelude::*;

use super::eval::{rows_where_value, SelectCtx};
use super::{DupKey, Kernel};
use crate::batch::{Batch, Groups};
use crate::dates::from_days;
use crate::refdata::{AddOnEdit, IcdStatus, RefData};
use crate::rules::api::{dx_slots, npi_valid};
use crate::rules::Scope;
use crate::schema::col;

/// Most (value, day) cells a table may have; beyond it lookups are memoised instead.
const MAX_CELLS: usize = 48 << 20;

/// Values of `f(id, day)` for the (id, day) pairs a batch holds, computed once each, in
/// parallel. Each id keeps cells for the days from its first to its last marked one only (a
/// rare code is billed on a few days, a common one on many), so the table stays small; past
/// `MAX_CELLS` lookups are memoised instead.
pub enum DayTable<V> {
    Dense { first: Vec<i32>, offset: Vec<usize>, cells: Vec<Option<V>> },
    Memo(Mutex<HashMap<(u32, i32), V>>),
}

impl<V: Clone + Send + Sync> DayTable<V> {
    /// `pairs(mark)` calls `mark(id, day)` for every pair that may be looked up; it is called
    /// twice (day ranges, then the cells needed).
    fn build(ids: usize, pairs: impl Fn(&(dyn Fn(u32, i32) + Sync)) + Sync, f: impl Fn(u32, i32) -> V + Sync) -> Self {
        let lo: Vec<AtomicI32> = (0..ids).map(|_| AtomicI32::new(i32::MAX)).collect();
        let hi: Vec<AtomicI32> = (0..ids).map(|_| AtomicI32::new(i32::MIN)).collect();
        // Read before writing: the bounds settle fast, and a shared read does not bounce the
        // cache line between cores the way every write would.
        pairs(&|id, day| {
            if let (Some(l), Some(h)) = (lo.get(id as usize), hi.get(id as usize)) {
                if day < l.load(Ordering::Relaxed) {
                    l.fetch_min(day, Ordering::Relaxed);
                }
                if day > h.load(Ordering::Relaxed) {
                    h.fetch_max(day, Ordering::Relaxed);
                }
            }
        });
        let first: Vec<i32> = lo.into_iter().map(AtomicI32::into_inner).collect();
        let last: Vec<i32> = hi.into_iter().map(AtomicI32::into_inner).collect();
        let mut offset = Vec::with_capacity(ids + 1);
        let mut total = 0usize;
        for (l, h) in first.iter().zip(&last) {
            offset.push(total);
            if l <= h {
                total += (h - l + 1) as usize;
            }
        }
        offset.push(total);
        if total > MAX_CELLS {
            return DayTable::Memo(Mutex::new(HashMap::new()));
        }
        let needed: Vec<AtomicU8> = (0..total).map(|_| AtomicU8::new(0)).collect();
        pairs(&|id, day| {
            let id = id as usize;
            if id < ids {
                let cell = &needed[offset[id] + (day - first[id]) as usize];
                if cell.load(Ordering::Relaxed) == 0 {
                    cell.store(1, Ordering::Relaxed);
                }
            }
        });
        // Cell i belongs to the id whose offset range holds it.
        let cells: Vec<Option<V>> = (0..ids)
            .into_par_iter()
            .flat_map_iter(|id| {
                let (a, b) = (offset[id], offset[id + 1]);
                let (needed, f, first) = (&needed, &f, first[id]);
                (a..b).map(move |i| (needed[i].load(Ordering::Relaxed) == 1).then(|| f(id as u32, first + (i - a) as i32)))
            })
            .collect();
        DayTable::Dense { first, offset, cells }
    }

    fn get(&self, id: u32, day: i32, f: impl FnOnce() -> V) -> V {
        match self {
            DayTable::Dense { first, offset, cells } => {
                let id = id as usize;
                let cell = (id + 1 < offset.len() && day >= first[id])
                    .then(|| offset[id] + (day - first[id]) as usize)
                    .filter(|&i| i < offset[id + 1])
                    .and_then(|i| cells[i].as_ref());
                match cell {
                    Some(v) => v.clone(),
                    None => f(),
                }
            }
            DayTable::Memo(m) => {
                if let Some(v) = m.lock().expect("memo").get(&(id, day)) {
                    return v.clone();
                }
                let v = f();
                m.lock().expect("memo").insert((id, day), v.clone());
                v
            }
        }
    }
}

/// Diagnosis codes with one id across the twelve slots (each slot column has its own
/// dictionary), so a code's lookups are shared by every slot.
pub struct DxIds {
    /// slot (0..12) -> dictionary id -> shared id (0 = blank).
    per_slot: Vec<Vec<u32>>,
    /// shared id -> one (slot column, dictionary id) holding that code, for its text.
    text: Vec<(usize, u32)>,
}

impl DxIds {
    fn build(batch: &Batch) -> DxIds {
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut text = vec![(col::DX_1, 0)];
        let per_slot = col::DX
            .iter()
            .map(|&c| {
                batch
                    .dict(c)
                    .map(|d| {
                        d.iter()
                            .enumerate()
                            .map(|(i, v)| {
                                if v.is_empty() {
                                    return 0;
                                }
                                let next = ids.len() as u32 + 1;
                                *ids.entry(v).or_insert_with(|| {
                                    text.push((c, i as u32));
                                    next
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_else(|| vec![0])
            })
            .collect();
        DxIds { per_slot, text }
    }

    fn len(&self) -> usize {
        self.text.len()
    }

    fn id(&self, batch: &Batch, slot: usize, row: usize) -> u32 {
        self.per_slot[slot][batch.text_id(col::DX[slot], row) as usize]
    }

    fn code<'b>(&self, batch: &'b Batch, id: u32) -> &'b str {
        let (c, i) = self.text[id as usize];
        batch.dict(c).map_or("", |d| &d[i as usize])
    }
}

/// Per claim: the shared ids of its first line's twelve diagnoses and its distinct service days
/// (sorted), read once for every diagnosis kernel instead of once per kernel.
struct ClaimDx {
    ids: Vec<[u32; 12]>,
    day_start: Vec<u32>,
    days: Vec<i32>,
}

impl ClaimDx {
    fn build(batch: &Batch, dx: &DxIds) -> ClaimDx {
        let per_claim: Vec<([u32; 12], Vec<i32>)> = (0..batch.claims.len())
            .into_par_iter()
            .map(|g| {
                let rows = batch.claims.get(g);
                let anchor = rows[0] as usize;
                let ids = std::array::from_fn(|slot| dx.id(batch, slot, anchor));
                let mut days: Vec<i32> = rows.iter().filter_map(|&o| batch.date_days(col::SERVICE_DATE_FROM, o as usize)).collect();
                days.sort_unstable();
                days.dedup();
                (ids, days)
            })
            .collect();
        let mut out = ClaimDx {
            ids: Vec::with_capacity(per_claim.len()),
            day_start: Vec::with_capacity(per_claim.len() + 1),
            days: Vec::with_capacity(per_claim.len()),
        };
        for (ids, days) in per_claim {
            out.ids.push(ids);
            out.day_start.push(out.days.len() as u32);
            out.days.extend(days);
        }
        out.day_start.push(out.days.len() as u32);
        out
    }

    fn days(&self, claim: usize) -> &[i32] {
        &self.days[self.day_start[claim] as usize..self.day_start[claim + 1] as usize]
    }
}

/// A PTP group's packed codes and the pairs hit, reused across groups on one thread.
type PtpScratch = (Vec<Option<u32>>, Vec<(usize, usize, u8)>);
/// A group's first-occurrence keys end to end, and (start, end, row) of each.
type DuplicateScratch = (Vec<u64>, Vec<(usize, usize, u32)>);

/// Work shared by the kernels of one run.
#[derive(Default)]
pub struct KernelCache {
    dx: OnceLock<DxIds>,
    claim_dx: OnceLock<ClaimDx>,
    icd: OnceLock<DayTable<IcdStatus>>,
    /// MCE flags of a (code, day) as bits of `mce_names`.
    mce: OnceLock<DayTable<u64>>,
    mce_names: Mutex<Vec<String>>,
    mue: OnceLock<DayTable<Option<(u32, u8)>>>,
    addon: OnceLock<DayTable<Option<Arc<AddOnEdit>>>>,
    ptp_codes: OnceLock<(Vec<Option<u32>>, Vec<bool>)>,
    addon_codes: OnceLock<Vec<bool>>,
}

impl KernelCache {
    fn dx(&self, batch: &Batch) -> &DxIds {
        self.dx.get_or_init(|| DxIds::build(batch))
    }

    fn claim_dx(&self, batch: &Batch) -> &ClaimDx {
        self.claim_dx.get_or_init(|| ClaimDx::build(batch, self.dx(batch)))
    }

    /// Marks, for every claim, each diagnosis of its first line (the claim's, as the kernels
    /// read them) with each date of its lines. A lookup outside the marks is computed on demand.
    fn mark_claim_dx(&self, batch: &Batch, mark: &(dyn Fn(u32, i32) + Sync)) {
        let cdx = self.claim_dx(batch);
        (0..cdx.ids.len()).into_par_iter().for_each(|g| {
            let days = cdx.days(g);
            for &id in &cdx.ids[g] {
                if id != 0 {
                    days.iter().for_each(|&d| mark(id, d));
                }
            }
        });
    }

    fn icd(&self, batch: &Batch, rd: &RefData) -> &DayTable<IcdStatus> {
        self.icd.get_or_init(|| {
            let dx = self.dx(batch);
            DayTable::build(dx.len(), |mark| self.mark_claim_dx(batch, mark), |id, d| rd.icd10_status(dx.code(batch, id), from_days(d)))
        })
    }

    /// The bit of an MCE flag name (up to 64 distinct names; later ones share the last bit).
    fn mce_bit(&self, name: &str) -> u64 {
        let mut names = self.mce_names.lock().expect("mce names");
        let i = match names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                names.push(name.to_string());
                names.len() - 1
            }
        };
        1u64 << i.min(63)
    }

    fn mce(&self, batch: &Batch, rd: &RefData) -> &DayTable<u64> {
        self.mce.get_or_init(|| {
            let dx = self.dx(batch);
            DayTable::build(dx.len(), |mark| self.mark_claim_dx(batch, mark), |id, d| self.mce_of(rd, dx.code(batch, id), d))
        })
    }

    fn mce_of(&self, rd: &RefData, code: &str, day: i32) -> u64 {
        let flags = rd.mce_flags(code, from_days(day));
        if flags.is_empty() {
            return 0;
        }
        flags.iter().fold(0, |m, f| m | self.mce_bit(f))
    }

    /// Marks each line's procedure code with its date.
    fn mark_line_codes(batch: &Batch, mark: &(dyn Fn(u32, i32) + Sync)) {
        (0..batch.len).into_par_iter().for_each(|r| {
            let id = batch.text_id(col::PROCEDURE_CODE, r);
            if let (true, Some(d)) = (id != 0, batch.date_days(col::SERVICE_DATE_FROM, r)) {
                mark(id, d);
            }
        });
    }

    fn codes(batch: &Batch) -> usize {
        batch.dict(col::PROCEDURE_CODE).map_or(1, |d| d.len())
    }

    /// Per procedure-code id: the code packed as the PTP table keys it, and whether it is column
    /// 1 of some edit (a patient-day without such a code has no PTP hit).
    fn ptp_codes(&self, batch: &Batch, rd: &RefData) -> (&[Option<u32>], &[bool]) {
        let (packed, column1) = self.ptp_codes.get_or_init(|| match batch.dict(col::PROCEDURE_CODE) {
            Some(d) => (0..d.len())
                .into_par_iter()
                .map(|id| if id == 0 { (None, false) } else { (RefData::pack_procedure_code(&d[id]), rd.ptp_column1_anywhere(&d[id])) })
                .unzip(),
            None => (vec![None], vec![false]),
        });
        (packed, column1)
    }

    fn mue(&self, batch: &Batch, rd: &RefData) -> &DayTable<Option<(u32, u8)>> {
        self.mue.get_or_init(|| {
            DayTable::build(
                Self::codes(batch),
                |mark| Self::mark_line_codes(batch, mark),
                |id, d| rd.mue(procedure_code(batch, id), from_days(d)).map(|e| (e.units, e.mai)),
            )
        })
    }

    /// Per procedure-code id: an add-on code in some AOC release (most codes are not).
    fn addon_codes(&self, batch: &Batch, rd: &RefData) -> &[bool] {
        self.addon_codes.get_or_init(|| match batch.dict(col::PROCEDURE_CODE) {
            Some(d) => (0..d.len()).into_par_iter().map(|id| id != 0 && rd.addon_code_anywhere(&d[id])).collect(),
            None => vec![false],
        })
    }

    fn addon(&self, batch: &Batch, rd: &RefData) -> &DayTable<Option<Arc<AddOnEdit>>> {
        let addon_codes = self.addon_codes(batch, rd);
        self.addon.get_or_init(|| {
            let mark_addons = |mark: &(dyn Fn(u32, i32) + Sync)| {
                Self::mark_line_codes(batch, &|id, d| {
                    if addon_codes[id as usize] {
                        mark(id, d)
                    }
                })
            };
            DayTable::build(Self::codes(batch), mark_addons, |id, d| rd.addon(procedure_code(batch, id), from_days(d)).map(Arc::new))
        })
    }
}

fn procedure_code(batch: &Batch, id: u32) -> &str {
    batch.dict(col::PROCEDURE_CODE).map_or("", |d| &d[id as usize])
}

pub fn rows(k: &Kernel, cx: &SelectCtx) -> Vec<bool> {
    let batch = cx.batch;
    let rd = cx.refdata;
    let cache = cx.cache;
    let day_of = |r: u32| batch.date_days(col::SERVICE_DATE_FROM, r as usize);
    match k {
        Kernel::Ptp { bypass } => {
            if !rd.has_table("ptp") {
                return vec![false; batch.len];
            }
            let (packed, column1) = cache.ptp_codes(batch, rd);
            let bypass_lists = ParamLists::new(cx, bypass.as_deref());
            thread_local! {
                static SCRATCH: std::cell::RefCell<PtpScratch> = Default::default();
            }
            per_group(cx, &batch.patient_days, |_, rows, _, out| {
                let code = |r: u32| batch.text_id(col::PROCEDURE_CODE, r as usize) as usize;
                if rows.len() < 2 || !rows.iter().any(|&r| column1[code(r)]) {
                    return;
                }
                let anchor = rows[0] as usize;
                let Some(day) = day_of(rows[0]) else { return };
                let hits = SCRATCH.with_borrow_mut(|(codes, hits)| {
                    codes.clear();
                    codes.extend(rows.iter().map(|&r| packed[code(r)]));
                    hits.clear();
                    rd.ptp_packed_hit_indicators(codes, day, hits);
                    std::mem::take(hits)
                });
                if hits.is_empty() {
                    return;
                }
                // Modifier indicator 1 pairs are bypassed by a listed modifier on either line, with the
                // list in force for the record's first line (as the script sees it).
                let modifiers = bypass_lists.at(cx, anchor);
                let bypassed = |r: u32| {
                    col::MODIFIERS.iter().any(|&m| {
                        let v = batch.text(m, r as usize);
                        !v.is_empty() && modifiers.iter().any(|b| b.eq_ignore_ascii_case(v))
                    })
                };
                // One bypass per column 2 line, named by the first listed modifier on it, else on its
                // column 1 line (as FED-NCCI-PTP's script records them).
                let reason = |r: u32| {
                    col::MODIFIERS
                        .iter()
                        .map(|&m| batch.text(m, r as usize))
                        .find(|v| !v.is_empty() && modifiers.iter().any(|b| b.eq_ignore_ascii_case(v)))
                };
                let mut bypass_lines: Vec<(u32, &str)> = Vec::new();
                for &(i, j, indicator) in &hits {
                    let (c1, c2) = (rows[i], rows[j]);
                    if indicator == 1 && (bypassed(c1) || bypassed(c2)) {
                        if !bypass_lines.iter().any(|(r, _)| *r == c2) {
                            bypass_lines.push((c2, reason(c2).or_else(|| reason(c1)).unwrap_or("")));
                        }
                        continue;
                    }
                    out.push(c2);
                }
                if !bypass_lines.is_empty() {
                    let mut sink = cx.bypasses.lock().expect("bypass list");
                    sink.extend(bypass_lines.into_iter().map(|(row, m)| crate::rules::context::RawBypass { row, reason: m.into() }));
                }
                SCRATCH.with_borrow_mut(|(_, buffer)| *buffer = hits);
            })
        }
        Kernel::Mue => {
            if !rd.has_table("mue") {
                return vec![false; batch.len];
            }
            let table = cache.mue(batch, rd);
            per_group(cx, &batch.patient_days, |_, rows, _, out| {
                let Some(day) = day_of(rows[0]) else { return };
                // code -> (units so far, limit) for date-of-service limits.
                let mut per_day: Vec<(u32, f64, f64)> = Vec::new();
                for &r in rows {
                    let id = batch.text_id(col::PROCEDURE_CODE, r as usize);
                    if id == 0 {
                        continue;
                    }
                    let lookup = || rd.mue(procedure_code(batch, id), from_days(day)).map(|e| (e.units, e.mai));
                    let Some((limit, mai)) = table.get(id, day, lookup) else { continue };
                    let units = batch.number(col::UNITS, r as usize).unwrap_or(0.0);
                    if mai == 1 {
                        if units > f64::from(limit) {
                            out.push(r);
                        }
                    } else {
                        match per_day.iter_mut().find(|(c, ..)| *c == id) {
                            Some(entry) => entry.1 += units,
                            None => per_day.push((id, units, f64::from(limit))),
                        }
                    }
                }
                for (id, total, limit) in per_day {
                    if total > limit {
                        out.extend(rows.iter().copied().filter(|&r| batch.text_id(col::PROCEDURE_CODE, r as usize) == id));
                    }
                }
            })
        }
        Kernel::Icd10 { statuses, slots } => {
            if !(rd.has_table("icd10") || rd.has_table("mce")) {
                return vec![false; batch.len];
            }
            let dx = cache.dx(batch);
            let table = cache.icd(batch, rd);
            let cdx = cache.claim_dx(batch);
            let slot_ix: Vec<usize> = slots.iter().map(|&s| slot_index(s)).collect();
            per_group(cx, &batch.claims, |g, rows, whole, out| {
                let anchor = rows[0] as usize;
                let status_in = |id: u32, d: i32| statuses.contains(&table.get(id, d, || rd.icd10_status(dx.code(batch, id), from_days(d))));
                let hit = if whole {
                    let (ids, days) = (&cdx.ids[g], cdx.days(g));
                    slot_ix.iter().any(|&i| ids[i] != 0 && days.iter().any(|&d| status_in(ids[i], d)))
                } else {
                    let mut days: Vec<i32> = rows.iter().filter_map(|&r| day_of(r)).collect();
                    days.sort_unstable();
                    days.dedup();
                    slot_ix.iter().any(|&i| {
                        let id = dx.id(batch, i, anchor);
                        id != 0 && days.iter().any(|&d| status_in(id, d))
                    })
                };
                if hit {
                    out.push(anchor as u32);
                }
            })
        }
        Kernel::Mce { flags, slots } => {
            if !rd.has_table("mce") {
                return vec![false; batch.len];
            }
            let dx = cache.dx(batch);
            let table = cache.mce(batch, rd);
            let wanted = flags.iter().fold(0u64, |m, f| m | cache.mce_bit(f));
            let cdx = cache.claim_dx(batch);
            let slot_ix: Vec<usize> = slots.iter().map(|&s| slot_index(s)).collect();
            per_group(cx, &batch.claims, |g, rows, whole, out| {
                let anchor = rows[0] as usize;
                let day = if whole { cdx.days(g).first().copied() } else { earliest(batch, rows) };
                let Some(day) = day else { return };
                let id_at = |i: usize| if whole { cdx.ids[g][i] } else { dx.id(batch, i, anchor) };
                let hit = slot_ix.iter().any(|&i| {
                    let id = id_at(i);
                    id != 0 && table.get(id, day, || cache.mce_of(rd, dx.code(batch, id), day)) & wanted != 0
                });
                if hit {
                    out.push(anchor as u32);
                }
            })
        }
        Kernel::MceAge { slots } => {
            if !(rd.has_table("mce") && rd.has_table("mce_ages")) {
                return vec![false; batch.len];
            }
            let dx = cache.dx(batch);
            let table = cache.mce(batch, rd);
            let group_bits: Vec<(&str, u64)> = ["newborn", "pediatric", "maternity", "adult"].iter().map(|g| (*g, cache.mce_bit(g))).collect();
            let any_group = group_bits.iter().fold(0, |m, (_, b)| m | b);
            let cdx = cache.claim_dx(batch);
            let slot_ix: Vec<usize> = slots.iter().map(|&s| slot_index(s)).collect();
            per_group(cx, &batch.claims, |g, rows, whole, out| {
                let anchor = rows[0] as usize;
                let day = if whole { cdx.days(g).first().copied() } else { earliest(batch, rows) };
                let (Some(day), Some(birth)) = (day, batch.date_days(col::PATIENT_BIRTH_DATE, anchor)) else { return };
                let id_at = |i: usize| if whole { cdx.ids[g][i] } else { dx.id(batch, i, anchor) };
                // The age only matters for a diagnosis with an age-group flag, which few have.
                let age = OnceLock::new();
                let hit = slot_ix.iter().any(|&i| {
                    let id = id_at(i);
                    if id == 0 {
                        return false;
                    }
                    let flags = table.get(id, day, || cache.mce_of(rd, dx.code(batch, id), day));
                    flags & any_group != 0
                        && group_bits.iter().any(|(group, bit)| {
                            let on = from_days(day);
                            let age = *age.get_or_init(|| crate::dates::age_on(from_days(birth), on));
                            flags & bit != 0 && rd.mce_age_range(group, on).is_some_and(|r| age < i64::from(r.min) || age > i64::from(r.max))
                        })
                });
                if hit {
                    out.push(anchor as u32);
                }
            })
        }
        Kernel::AddOn { types, without_primary } => {
            if !rd.has_table("aoc") {
                return vec![false; batch.len];
            }
            let table = cache.addon(batch, rd);
            let addon_codes = cache.addon_codes(batch, rd);
            per_group(cx, &batch.patient_days, |_, rows, _, out| {
                if !rows.iter().any(|&r| addon_codes[batch.text_id(col::PROCEDURE_CODE, r as usize) as usize]) {
                    return;
                }
                let Some(day) = day_of(rows[0]) else { return };
                for &r in rows {
                    let id = batch.text_id(col::PROCEDURE_CODE, r as usize);
                    if !addon_codes[id as usize] {
                        continue;
                    }
                    let lookup = || rd.addon(procedure_code(batch, id), from_days(day)).map(Arc::new);
                    let Some(e) = table.get(id, day, lookup) else { continue };
                    if !types.contains(&e.edit_type) {
                        continue;
                    }
                    let billed = |p: &String| rows.iter().any(|&o| batch.text(col::PROCEDURE_CODE, o as usize) == p);
                    if !without_primary || (!e.primaries.is_empty() && !e.primaries.iter().any(billed)) {
                        out.push(r);
                    }
                }
            })
        }
        Kernel::Duplicates { keys, across_claims, skip_blank } => {
            let groups = match cx.rule.meta().scope {
                Scope::Claim => &batch.claims,
                _ => &batch.patient_days,
            };
            let modifiers = unified_modifiers(batch);
            thread_local! {
                static FIRST: std::cell::RefCell<DuplicateScratch> = Default::default();
            }
            per_group(cx, groups, |_, rows, _, out| {
                if rows.len() < 2 {
                    return;
                }
                // Records are small: compare with each first occurrence in turn.
                FIRST.with_borrow_mut(|(keys_seen, first)| {
                    keys_seen.clear();
                    first.clear();
                    for &r in rows {
                        let row = r as usize;
                        if skip_blank.iter().any(|&c| batch.text_id(c, row) == 0) {
                            continue;
                        }
                        let start = keys_seen.len();
                        push_duplicate_key(batch, keys, &modifiers, row, keys_seen);
                        match first.iter().find(|&&(a, b, _)| keys_seen[a..b] == keys_seen[start..]) {
                            Some(&(_, _, f)) => {
                                keys_seen.truncate(start);
                                if !across_claims || batch.text_id(col::CLAIM_ID, f as usize) != batch.text_id(col::CLAIM_ID, row) {
                                    out.push(r);
                                }
                            }
                            None => first.push((start, keys_seen.len(), r)),
                        }
                    }
                })
            })
        }
        Kernel::Frequency { param } => frequency(cx, param),
        Kernel::NpiInvalid { columns } => rows_where_value(batch, columns, |v| !npi_valid(v)),
        Kernel::ProcedureCodeUnknown => rows_where_value(batch, &[col::PROCEDURE_CODE], |code| {
            if code.chars().count() != 5 {
                return false;
            }
            let mut chars = code.chars();
            let level2 = chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_digit());
            if level2 {
                rd.hcpcs_exists(code) == Some(false)
            } else {
                rd.cpt_exists(code) == Some(false)
            }
        }),
        Kernel::NotInTable { columns, table } => rows_where_value(batch, columns, |v| {
            let known = match table.as_str() {
                "pos" => rd.pos_valid(v),
                "modifiers" => rd.modifier_valid(v),
                "revenue" => rd.revenue_code_valid(v),
                "hcpcs" => rd.hcpcs_exists(v),
                "cpt" => rd.cpt_exists(v),
                _ => None,
            };
            known == Some(false)
        }),
        Kernel::Excluded { columns } => {
            if !rd.has_table("leie") {
                return vec![false; batch.len];
            }
            // Only NPIs on the list need the date check.
            let listed = rows_where_value(batch, columns, |npi| rd.npi_listed(npi));
            (0..batch.len)
                .into_par_iter()
                .map(|r| {
                    listed[r]
                        && batch.date_days(col::SERVICE_DATE_FROM, r).is_some_and(|d| {
                            columns.iter().any(|&c| {
                                let npi = batch.text(c, r);
                                !npi.is_empty() && rd.npi_excluded(npi, from_days(d)) == Some(true)
                            })
                        })
                })
                .collect()
        }
        Kernel::DxPointers => {
            let pointer_slots: Vec<Vec<i64>> =
                batch.dict(col::DX_POINTERS).map(|d| d.iter().map(dx_slots).collect()).unwrap_or_else(|| vec![Vec::new()]);
            (0..batch.len)
                .into_par_iter()
                .map(|r| {
                    let slots = &pointer_slots[batch.text_id(col::DX_POINTERS, r) as usize];
                    if slots.is_empty() {
                        return batch.text(col::CLAIM_TYPE, r) == "professional";
                    }
                    slots.iter().any(|&s| !(1..=12).contains(&s) || batch.text_id(col::DX[s as usize - 1], r) == 0)
                })
                .collect()
        }
    }
}

/// Lines whose patient billed the code more often within its window than the limit the line's
/// payer sets (`line.count_within(days) > max`, as the frequency rule counts).
fn frequency(cx: &SelectCtx, param: &str) -> Vec<bool> {
    let batch = cx.batch;
    let mut out = vec![false; batch.len];
    let (Some(patients), Some(codes), Some(dict)) =
        (batch.text_ids(col::PATIENT_ID), batch.text_ids(col::PROCEDURE_CODE), batch.dict(col::PROCEDURE_CODE))
    else {
        return out;
    };
    // Only lines whose code some payer's list names can be over a limit.
    let named = super::eval::param_codes(cx, param, Some("code"));
    let listed: Vec<bool> = dict.iter().map(|c| named.contains(c)).collect();
    if !listed.iter().any(|&l| l) {
        return out;
    }
    // Each parameter set's limits by code: the first entry naming the code, as the rule reads it.
    let limits_by_set: Vec<HashMap<String, (f64, i64)>> = cx.per_params(|params| {
        let mut by_code = HashMap::new();
        let Some(list) = params.get(param).filter(|v| !v.is_unit()).cloned().and_then(|v| v.try_cast::<rhai::Array>()) else { return by_code };
        for m in list.into_iter().filter_map(|l| l.try_cast::<rhai::Map>()) {
            let limit = || {
                let c = m.get("code")?.clone().into_immutable_string().ok()?;
                let num = |k: &str| m.get(k).and_then(|v| v.as_int().ok().map(|i| i as f64).or_else(|| v.as_float().ok()));
                Some((c.to_string(), num("max")?, num("per_days")? as i64))
            };
            // An entry missing max or per_days does not stop the search for the code.
            if let Some((c, max, days)) = limit() {
                by_code.entry(c).or_insert((max, days));
            }
        }
        by_code
    });
    // Each line's limits: (max, days) for its code under its payer's parameter.
    let limits: Vec<Option<(f64, i64)>> = (0..batch.len)
        .into_par_iter()
        .map(|r| {
            if !listed[codes[r] as usize] {
                return None;
            }
            cx.in_force(&limits_by_set, r).get(batch.text(col::PROCEDURE_CODE, r)).copied()
        })
        .collect();
    let limited: Vec<usize> = (0..batch.len).filter(|&r| limits[r].is_some()).collect();
    if limited.is_empty() {
        return out;
    }
    // Every dated line of the (patient, code) pairs that have a limit somewhere.
    let wanted: hashbrown::HashSet<(u32, u32)> = limited.iter().map(|&r| (patients[r], codes[r])).collect();
    let mut lines: HashMap<(u32, u32), Vec<(i32, u32)>> = HashMap::new();
    for r in 0..batch.len {
        let k = (patients[r], codes[r]);
        if let (true, Some(d)) = (wanted.contains(&k), batch.date_days(col::SERVICE_DATE_FROM, r)) {
            lines.entry(k).or_default().push((d, r as u32));
        }
    }
    lines.values_mut().for_each(|v| v.sort_unstable());
    for r in limited {
        let (Some((max, days)), Some(day)) = (limits[r], batch.date_days(col::SERVICE_DATE_FROM, r)) else { continue };
        let list = &lines[&(patients[r], codes[r])];
        let first = i64::from(day) - days + 1;
        let count = list.iter().filter(|(d, o)| i64::from(*d) >= first && (*d < day || (*d == day && *o <= r as u32))).count();
        out[r] = count as f64 > max;
    }
    out
}

fn slot_index(slot_col: usize) -> usize {
    col::DX.iter().position(|&c| c == slot_col).expect("a diagnosis column")
}

/// The earliest date of service over a record's lines.
fn earliest(batch: &Batch, rows: &[u32]) -> Option<i32> {
    rows.iter().filter_map(|&r| batch.date_days(col::SERVICE_DATE_FROM, r as usize)).min()
}

/// A list parameter's values under the rule's default (index 0) and each payer pack (index i + 1),
/// converted once instead of once per record.
struct ParamLists(Vec<Vec<String>>);

impl ParamLists {
    fn new(cx: &SelectCtx, name: Option<&str>) -> ParamLists {
        ParamLists(cx.per_params(|params| name.and_then(|n| params.get(n)).filter(|v| !v.is_unit()).cloned().map(param_strings).unwrap_or_default()))
    }

    /// The list in force for a line (as `SelectCtx::param` picks it).
    fn at(&self, cx: &SelectCtx, row: usize) -> &[String] {
        cx.in_force(&self.0, row).as_slice()
    }
}

/// Text values of a parameter (a list of strings).
fn param_strings(v: rhai::Dynamic) -> Vec<String> {
    match v.try_cast::<rhai::Array>() {
        Some(list) => list.into_iter().filter_map(|m| m.into_immutable_string().ok().map(|s| s.to_string())).collect(),
        None => Vec::new(),
    }
}

/// Runs `f` on the applicable lines of every group, in parallel, and marks the lines it names.
/// `f` also gets the group's index and whether every line of the group applies (then the
/// shared per-record lookups of [`KernelCache`] describe exactly these lines).
fn per_group(cx: &SelectCtx, groups: &Groups, f: impl Fn(usize, &[u32], bool, &mut Vec<u32>) + Sync) -> Vec<bool> {
    let hits: Vec<u32> = (0..groups.len())
        .into_par_iter()
        .fold(
            || (Vec::new(), Vec::new()),
            |(mut out, mut rows), g| {
                let all = groups.get(g);
                match cx.applicable {
                    None => f(g, all, true, &mut out),
                    Some(a) => {
                        rows.clear();
                        rows.extend(all.iter().copied().filter(|&r| a[r as usize]));
                        if !rows.is_empty() {
                            f(g, &rows, rows.len() == all.len(), &mut out);
                        }
                    }
                }
                (out, rows)
            },
        )
        .map(|(out, _)| out)
        .reduce(Vec::new, |mut a, b| {
            a.extend(b);
            a
        });
    let mut mask = vec![false; cx.batch.len];
    for r in hits {
        mask[r as usize] = true;
    }
    mask
}

/// Modifier ids shared by the four slots (each slot column has its own dictionary).
fn unified_modifiers(batch: &Batch) -> Vec<Vec<u32>> {
    let mut ids: HashMap<&str, u32> = HashMap::new();
    col::MODIFIERS
        .iter()
        .map(|&c| {
            batch
                .dict(c)
                .map(|d| {
                    d.iter()
                        .map(|v| {
                            if v.is_empty() {
                                return 0;
                            }
                            let next = ids.len() as u32 + 1;
                            *ids.entry(v).or_insert(next)
                        })
                        .collect()
                })
                .unwrap_or_else(|| vec![0])
        })
        .collect()
}

fn push_duplicate_key(batch: &Batch, keys: &[DupKey], modifiers: &[Vec<u32>], row: usize, key: &mut Vec<u64>) {
    use crate::batch::ColumnData::*;
    for k in keys {
        match k {
            DupKey::Modifiers => {
                for (slot, &c) in col::MODIFIERS.iter().enumerate() {
                    let id = modifiers[slot][batch.text_id(c, row) as usize];
                    if id != 0 {
                        key.push(u64::from(id));
                    }
                }
                key.push(u64::MAX);
            }
            DupKey::Column(c) => key.push(match &batch.columns[*c] {
                Null => 0,
                Text(t) => u64::from(t.id(row)),
                Date(d) => d.days()[row] as u32 as u64,
                Number(v) => v[row].to_bits(),
                Integer(v) => v[row] as u64,
            }),
        }
    }
}
