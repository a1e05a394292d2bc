//! The table-driven candidate kernels: native scans that find the lines a federal edit could
//! fire on, in parallel over rows or record groups. Each returns a mask over lines; lookups are
//! memoised per distinct (value, date) within a worker.

use hashbrown::HashMap;
use rayon::prelude::*;

use super::eval::{rows_where_value, SelectCtx};
use super::{DupKey, Kernel};
use crate::batch::{Batch, Groups};
use crate::dates::from_days;
use crate::refdata::IcdStatus;
use crate::rules::api::{dx_slots, npi_valid};
use crate::rules::Scope;
use crate::schema::col;

pub fn rows(k: &Kernel, cx: &SelectCtx) -> Vec<bool> {
    let batch = cx.batch;
    let rd = cx.refdata;
    match k {
        Kernel::Ptp => per_group(cx, &batch.patient_days, |rows, out| {
            if rows.len() < 2 || !rd.has_table("ptp") {
                return;
            }
            let Some(day) = batch.date_days(col::SERVICE_DATE_FROM, rows[0] as usize) else { return };
            let codes: Vec<&str> = rows.iter().map(|&r| batch.text(col::PROCEDURE_CODE, r as usize)).collect();
            for hit in rd.ptp_hits(&codes, from_days(day)) {
                out.push(rows[hit.column2]);
                out.push(rows[hit.column1]);
            }
        }),
        Kernel::Mue => per_group(cx, &batch.patient_days, |rows, out| {
            if !rd.has_table("mue") {
                return;
            }
            let Some(day) = batch.date_days(col::SERVICE_DATE_FROM, rows[0] as usize) else { return };
            let dos = from_days(day);
            // code -> (units so far, limit); the lines of date-of-service limits.
            let mut per_day: Vec<(u32, f64, f64)> = Vec::new();
            for &r in rows {
                let r = r as usize;
                let code = batch.text(col::PROCEDURE_CODE, r);
                if code.is_empty() {
                    continue;
                }
                let Some(e) = rd.mue(code, dos) else { continue };
                let units = batch.number(col::UNITS, r).unwrap_or(0.0);
                if e.mai == 1 {
                    if units > f64::from(e.units) {
                        out.push(r as u32);
                    }
                } else {
                    let id = batch.text_id(col::PROCEDURE_CODE, r);
                    match per_day.iter_mut().find(|(c, ..)| *c == id) {
                        Some(entry) => entry.1 += units,
                        None => per_day.push((id, units, f64::from(e.units))),
                    }
                }
            }
            for (id, total, limit) in per_day {
                if total > limit {
                    out.extend(rows.iter().copied().filter(|&r| batch.text_id(col::PROCEDURE_CODE, r as usize) == id));
                }
            }
        }),
        Kernel::Icd10 { statuses, slots } => {
            let loaded = rd.has_table("icd10") || rd.has_table("mce");
            per_group_memo(cx, &batch.claims, |rows, out, memo: &mut HashMap<(usize, u32, i32), IcdStatus>| {
                if !loaded {
                    return;
                }
                let anchor = rows[0] as usize;
                let mut days: Vec<i32> = rows.iter().filter_map(|&r| batch.date_days(col::SERVICE_DATE_FROM, r as usize)).collect();
                days.sort_unstable();
                days.dedup();
                for &slot in slots {
                    let id = batch.text_id(slot, anchor);
                    if id == 0 {
                        continue;
                    }
                    let hit = days.iter().any(|&d| {
                        let s = *memo.entry((slot, id, d)).or_insert_with(|| rd.icd10_status(batch.text(slot, anchor), from_days(d)));
                        statuses.contains(&s)
                    });
                    if hit {
                        out.push(anchor as u32);
                        return;
                    }
                }
            })
        }
        Kernel::Mce { flags, slots } => {
            let loaded = rd.has_table("mce");
            per_group_memo(cx, &batch.claims, |rows, out, memo: &mut HashMap<(usize, u32, i32), bool>| {
                if !loaded {
                    return;
                }
                let anchor = rows[0] as usize;
                let Some(day) = earliest(batch, rows) else { return };
                let hit = slots.iter().any(|&slot| {
                    let id = batch.text_id(slot, anchor);
                    id != 0
                        && *memo.entry((slot, id, day)).or_insert_with(|| {
                            rd.mce_flags(batch.text(slot, anchor), from_days(day)).iter().any(|f| flags.iter().any(|x| x == f))
                        })
                });
                if hit {
                    out.push(anchor as u32);
                }
            })
        }
        Kernel::MceAge { slots } => {
            let loaded = rd.has_table("mce") && rd.has_table("mce_ages");
            per_group(cx, &batch.claims, |rows, out| {
                if !loaded {
                    return;
                }
                let anchor = rows[0] as usize;
                let (Some(day), Some(birth)) = (earliest(batch, rows), batch.date_days(col::PATIENT_BIRTH_DATE, anchor)) else { return };
                let on = from_days(day);
                let age = crate::dates::age_on(from_days(birth), on);
                let hit = slots.iter().any(|&slot| {
                    let code = batch.text(slot, anchor);
                    !code.is_empty()
                        && rd.mce_flags(code, on).iter().any(|group| {
                            rd.mce_age_range(group, on).is_some_and(|r| age < i64::from(r.min) || age > i64::from(r.max))
                        })
                });
                if hit {
                    out.push(anchor as u32);
                }
            })
        }
        Kernel::AddOn { types, without_primary } => per_group(cx, &batch.patient_days, |rows, out| {
            if !rd.has_table("aoc") {
                return;
            }
            let Some(day) = batch.date_days(col::SERVICE_DATE_FROM, rows[0] as usize) else { return };
            let dos = from_days(day);
            for &r in rows {
                let code = batch.text(col::PROCEDURE_CODE, r as usize);
                let Some(e) = rd.addon(code, dos) else { continue };
                if !types.contains(&e.edit_type) {
                    continue;
                }
                let billed = |p: &String| rows.iter().any(|&o| batch.text(col::PROCEDURE_CODE, o as usize) == p);
                if !without_primary || (!e.primaries.is_empty() && !e.primaries.iter().any(billed)) {
                    out.push(r);
                }
            }
        }),
        Kernel::Duplicates { keys, across_claims, skip_blank } => {
            let groups = match cx.rule.meta().scope {
                Scope::Claim => &batch.claims,
                _ => &batch.patient_days,
            };
            let modifiers = unified_modifiers(batch);
            per_group(cx, groups, |rows, out| {
                if rows.len() < 2 {
                    return;
                }
                let mut first: HashMap<Vec<u64>, u32> = HashMap::new();
                for &r in rows {
                    let row = r as usize;
                    if skip_blank.iter().any(|&c| batch.text_id(c, row) == 0) {
                        continue;
                    }
                    let key = duplicate_key(batch, keys, &modifiers, row);
                    match first.get(&key) {
                        Some(&f) => {
                            if !across_claims || batch.text_id(col::CLAIM_ID, f as usize) != batch.text_id(col::CLAIM_ID, row) {
                                out.push(r);
                            }
                        }
                        None => {
                            first.insert(key, r);
                        }
                    }
                }
            })
        }
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
                batch.dict(col::DX_POINTERS).map(|d| d.iter().map(|p| dx_slots(p)).collect()).unwrap_or_else(|| vec![Vec::new()]);
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

/// The earliest date of service over a record's lines.
fn earliest(batch: &Batch, rows: &[u32]) -> Option<i32> {
    rows.iter().filter_map(|&r| batch.date_days(col::SERVICE_DATE_FROM, r as usize)).min()
}

/// Runs `f` on the applicable lines of every group, in parallel, and marks the lines it names.
fn per_group(cx: &SelectCtx, groups: &Groups, f: impl Fn(&[u32], &mut Vec<u32>) + Sync) -> Vec<bool> {
    per_group_memo(cx, groups, |rows, out, _: &mut ()| f(rows, out))
}

/// As [`per_group`], with a memo per worker.
fn per_group_memo<M: Default + Send>(cx: &SelectCtx, groups: &Groups, f: impl Fn(&[u32], &mut Vec<u32>, &mut M) + Sync) -> Vec<bool> {
    let hits: Vec<u32> = (0..groups.len())
        .into_par_iter()
        .fold(
            || (Vec::new(), Vec::new(), M::default()),
            |(mut out, mut rows, mut memo), g| {
                rows.clear();
                rows.extend(groups.get(g).iter().copied().filter(|&r| cx.applies(r as usize)));
                if !rows.is_empty() {
                    f(&rows, &mut out, &mut memo);
                }
                (out, rows, memo)
            },
        )
        .map(|(out, _, _)| out)
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
                            *ids.entry(v.as_str()).or_insert(next)
                        })
                        .collect()
                })
                .unwrap_or_else(|| vec![0])
        })
        .collect()
}

fn duplicate_key(batch: &Batch, keys: &[DupKey], modifiers: &[Vec<u32>], row: usize) -> Vec<u64> {
    use crate::batch::ColumnData::*;
    let mut key = Vec::with_capacity(keys.len() + 4);
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
    key
}
