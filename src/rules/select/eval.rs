//! Evaluating a selector: leaves give a mask over lines, lifted to the rule's records (a record
//! is selected when any of its lines is); `all` and `any` combine records. Work runs in
//! parallel over rows or groups with rayon; Polars is not involved.

use std::collections::HashSet;

use rayon::prelude::*;
use rhai::Dynamic;

use super::{kernels, Cmp, CodeSet, Selector, Threshold};
use crate::batch::Batch;
use crate::refdata::RefData;
use crate::rules::{CompiledRule, Scope};
use crate::schema::col;

/// What a selector is evaluated against.
pub struct SelectCtx<'a> {
    pub batch: &'a Batch,
    pub refdata: &'a RefData,
    pub rule: &'a CompiledRule,
    /// Lines the rule applies to (its payers, dates and payer packs); None when it applies to all.
    pub applicable: Option<&'a [bool]>,
    /// Lookups shared by every rule of the run.
    pub cache: &'a kernels::KernelCache,
    /// Where kernels record the edits a modifier bypassed (see `bypass` in the rule API).
    pub bypasses: &'a std::sync::Mutex<Vec<crate::rules::context::RawBypass>>,
}

impl SelectCtx<'_> {
    pub fn applies(&self, row: usize) -> bool {
        self.applicable.is_none_or(|a| a[row])
    }

    /// The parameter in force for a line: its payer pack's value, else the rule's default.
    pub fn param(&self, row: usize, name: &str) -> Option<Dynamic> {
        let params = match crate::rules::run::payer_override(self.rule, self.batch, row as u32) {
            Some(o) => &o.params,
            None => &self.rule.params,
        };
        params.get(name).filter(|v| !v.is_unit()).cloned()
    }

    /// Which parameter set is in force for a line: 0 for the rule's defaults, i + 1 for its i-th
    /// payer pack. Values derived once per set are then indexed by it instead of recomputed.
    pub fn params_index(&self, row: usize) -> usize {
        match crate::rules::run::payer_override(self.rule, self.batch, row as u32) {
            Some(o) => 1 + self.rule.overrides.iter().position(|p| std::ptr::eq(p.as_ref(), o)).expect("an override of this rule"),
            None => 0,
        }
    }

    /// The value in force for a line, from values made by [`SelectCtx::per_params`] (or a
    /// single value that holds for every line).
    pub fn in_force<'v, T>(&self, values: &'v [T], row: usize) -> &'v T {
        &values[if values.len() == 1 { 0 } else { self.params_index(row) }]
    }

    /// Each parameter set (see [`SelectCtx::params_index`]) mapped through `f`.
    pub fn per_params<T>(&self, f: impl Fn(&rhai::Map) -> T) -> Vec<T> {
        std::iter::once(f(&self.rule.params)).chain(self.rule.overrides.iter().map(|o| f(&o.params))).collect()
    }

    /// Every value a parameter takes: the rule's default and each payer pack's.
    fn param_values(&self, name: &str) -> Vec<Dynamic> {
        std::iter::once(&self.rule.params)
            .chain(self.rule.overrides.iter().map(|o| &o.params))
            .filter_map(|p| p.get(name).filter(|v| !v.is_unit()).cloned())
            .collect()
    }

    /// A threshold's value under each parameter set.
    fn thresholds(&self, t: &Threshold) -> Vec<Option<f64>> {
        match t {
            Threshold::Value(v) => vec![Some(*v)],
            Threshold::Param(p) => self.per_params(|m| m.get(p.as_str()).filter(|v| !v.is_unit()).cloned().and_then(as_f64)),
        }
    }
}

fn as_f64(d: Dynamic) -> Option<f64> {
    d.as_float().ok().or_else(|| d.as_int().ok().map(|i| i as f64))
}

fn dynamic_text(d: &Dynamic) -> Option<String> {
    d.clone().into_immutable_string().ok().map(|s| s.trim().to_uppercase())
}

/// The codes a parameter names, across every payer pack.
pub(super) fn param_codes(cx: &SelectCtx, name: &str, key: Option<&str>) -> HashSet<String> {
    let mut out = HashSet::new();
    for v in cx.param_values(name) {
        if let Some(map) = v.clone().try_cast::<rhai::Map>() {
            out.extend(map.keys().map(|k| k.trim().to_uppercase()));
        } else if let Some(list) = v.clone().try_cast::<rhai::Array>() {
            for item in list {
                match (key, item.clone().try_cast::<rhai::Map>()) {
                    (Some(k), Some(m)) => out.extend(m.get(k).and_then(dynamic_text)),
                    _ => out.extend(dynamic_text(&item)),
                }
            }
        } else {
            out.extend(dynamic_text(&v));
        }
    }
    out
}

/// Per dictionary entry of a text column: whether the value is in the set.
fn dict_flags(batch: &Batch, column: usize, test: impl Fn(&str) -> bool) -> Option<Vec<bool>> {
    batch.dict(column).map(|d| d.iter().map(|v| !v.is_empty() && test(v)).collect())
}

/// Rows where any of `columns` passes `test` (decided once per distinct value).
pub(crate) fn rows_where_value(batch: &Batch, columns: &[usize], test: impl Fn(&str) -> bool + Sync) -> Vec<bool> {
    let flags: Vec<(usize, Vec<bool>)> = columns.iter().filter_map(|&c| dict_flags(batch, c, &test).map(|f| (c, f))).collect();
    (0..batch.len).into_par_iter().map(|r| flags.iter().any(|(c, f)| f[batch.text_id(*c, r) as usize])).collect()
}

fn present(batch: &Batch, c: usize, row: usize) -> bool {
    use crate::batch::ColumnData::*;
    match &batch.columns[c] {
        Null => false,
        Text(t) => t.id(row) != 0,
        Date(d) => d.day(row).is_some(),
        Number(v) => !v[row].is_nan(),
        Integer(v) => v[row] != crate::batch::NO_INTEGER,
    }
}

/// A leaf's lines.
fn leaf_rows(sel: &Selector, cx: &SelectCtx) -> Vec<bool> {
    let batch = cx.batch;
    let n = batch.len;
    match sel {
        Selector::All(_) | Selector::Any(_) => unreachable!("combinators are evaluated on records"),
        Selector::Codes { columns, set } => match set {
            CodeSet::List(list) => rows_where_value(batch, columns, |v| list.iter().any(|c| c == v)),
            CodeSet::Range(lo, hi) => rows_where_value(batch, columns, |v| crate::rules::api::in_range(v, lo, hi)),
            CodeSet::Param { name, key } => {
                let codes = param_codes(cx, name, key.as_deref());
                rows_where_value(batch, columns, |v| codes.contains(v))
            }
        },
        Selector::Present(columns) => (0..n).into_par_iter().map(|r| columns.iter().all(|&c| present(batch, c, r))).collect(),
        Selector::Blank(columns) => (0..n).into_par_iter().map(|r| columns.iter().any(|&c| !present(batch, c, r))).collect(),
        Selector::Payers(payers) => rows_where_value(batch, &[col::PAYER_ID], |v| payers.iter().any(|p| p.eq_ignore_ascii_case(v))),
        Selector::ClaimType(t) => rows_where_value(batch, &[col::CLAIM_TYPE], |v| v == t),
        Selector::Compare { column, cmp, value } => {
            let values = cx.thresholds(value);
            (0..n)
                .into_par_iter()
                .map(|r| {
                    let (Some(x), Some(t)) = (batch.number(*column, r), *cx.in_force(&values, r)) else { return false };
                    match cmp {
                        Cmp::Lt => x < t,
                        Cmp::Le => x <= t,
                        Cmp::Gt => x > t,
                        Cmp::Ge => x >= t,
                    }
                })
                .collect()
        }
        Selector::DaysBetween { from, to, more_than } => {
            // No gap at or under the smallest limit any payer sets can exceed its own limit.
            let floor = match more_than {
                Threshold::Value(v) => *v,
                Threshold::Param(p) => cx.param_values(p).into_iter().filter_map(as_f64).fold(f64::INFINITY, f64::min),
            };
            let values = cx.thresholds(more_than);
            (0..n)
                .into_par_iter()
                .map(|r| {
                    let (Some(a), Some(b)) = (batch.date_days(*from, r), batch.date_days(*to, r)) else { return false };
                    let gap = f64::from(b - a);
                    gap > floor && cx.in_force(&values, r).is_some_and(|t| gap > t)
                })
                .collect()
        }
        Selector::HasParam(name) => (0..n).into_par_iter().map(|r| cx.param(r, name).is_some()).collect(),
        Selector::Kernel(k) => kernels::rows(k, cx),
    }
}

/// The records of the rule's scope that the selector selects, as a mask over records.
fn records(sel: &Selector, cx: &SelectCtx, scope: Scope) -> Vec<bool> {
    match sel {
        Selector::All(items) => {
            items.iter().map(|s| records(s, cx, scope)).reduce(|a, b| and(a, &b)).unwrap_or_else(|| vec![true; count(cx.batch, scope)])
        }
        Selector::Any(items) => {
            items.iter().map(|s| records(s, cx, scope)).reduce(|a, b| or(a, &b)).unwrap_or_else(|| vec![false; count(cx.batch, scope)])
        }
        leaf => lift(&leaf_rows(leaf, cx), cx, scope),
    }
}

fn and(mut a: Vec<bool>, b: &[bool]) -> Vec<bool> {
    a.iter_mut().zip(b).for_each(|(x, &y)| *x &= y);
    a
}

fn or(mut a: Vec<bool>, b: &[bool]) -> Vec<bool> {
    a.iter_mut().zip(b).for_each(|(x, &y)| *x |= y);
    a
}

fn count(batch: &Batch, scope: Scope) -> usize {
    match scope {
        Scope::Line => batch.len,
        Scope::Claim => batch.claims.len(),
        Scope::PatientDay => batch.patient_days.len(),
        Scope::Provider => 0,
    }
}

/// A record is selected when any of its lines the rule applies to is.
fn lift(rows: &[bool], cx: &SelectCtx, scope: Scope) -> Vec<bool> {
    let groups = match scope {
        Scope::Line => return rows.iter().enumerate().map(|(r, &x)| x && cx.applies(r)).collect(),
        Scope::Claim => &cx.batch.claims,
        Scope::PatientDay => &cx.batch.patient_days,
        Scope::Provider => unreachable!("provider rules take no selector"),
    };
    // Selected lines are few: mark their records directly instead of scanning every record.
    let mut out = vec![false; groups.len()];
    for (r, _) in rows.iter().enumerate().filter(|(_, &x)| x) {
        if cx.applies(r) {
            out[groups.of_row(r)] = true;
        }
    }
    out
}

/// The indexes of the records the selector selects, in record order.
pub fn select_records(sel: &Selector, cx: &SelectCtx, scope: Scope) -> Vec<u32> {
    records(sel, cx, scope).iter().enumerate().filter(|(_, &x)| x).map(|(i, _)| i as u32).collect()
}
