//! The functions and types rule scripts use: reporting findings, the read-only `Line` view,
//! and helpers for codes, modifiers, dates and NPIs. Documented for authors in docs/rules.md.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, NativeCallContext, Position};

use super::context::{attach_fix, push, push_bypass, with_state, RawFix};
use crate::batch::Batch;
use crate::dates;
use crate::schema::{col, COLUMNS};
use crate::vocab::FixKind;

/// A read-only view of one claim line. Cheap to clone: a shared batch and a row number.
#[derive(Clone)]
pub struct Line {
    pub batch: Arc<Batch>,
    pub row: u32,
}

impl Line {
    fn charge(&self) -> f64 {
        self.batch.number(col::CHARGE_AMOUNT, self.row as usize).unwrap_or(0.0)
    }

    pub fn modifiers(&self) -> Array {
        col::MODIFIERS
            .iter()
            .map(|&c| self.batch.text_value(c, self.row as usize))
            .filter(|m| !m.is_empty())
            .map(|m| Dynamic::from(m.clone()))
            .collect()
    }

    fn has_modifier(&self, m: &str) -> bool {
        col::MODIFIERS.iter().any(|&c| self.batch.text(c, self.row as usize).eq_ignore_ascii_case(m))
    }

    /// The diagnosis codes this line's pointers name.
    fn pointed_dx(&self) -> Array {
        let pointers = self.batch.text(col::DX_POINTERS, self.row as usize);
        dx_slots(pointers)
            .into_iter()
            .filter(|slot| (1..=12).contains(slot))
            .filter_map(|slot| {
                let code = self.batch.text_value(col::DX[slot as usize - 1], self.row as usize);
                (!code.is_empty()).then(|| Dynamic::from(code.clone()))
            })
            .collect()
    }
}

/// Pointer slots 1..=12 from "AB", "1,2", "1 2 3" or "12" (single digits when unseparated).
pub fn dx_slots(pointers: &str) -> Vec<i64> {
    let p = pointers.trim();
    if p.is_empty() {
        return Vec::new();
    }
    let separated = p.contains([',', ' ', ':', ';', '|']);
    let parts: Vec<&str> =
        if separated { p.split([',', ' ', ':', ';', '|']).filter(|s| !s.is_empty()).collect() } else { p.split_inclusive(|_| true).collect() };
    parts
        .into_iter()
        .filter_map(|s| {
            let s = s.trim();
            if let Ok(n) = s.parse::<i64>() {
                return Some(n);
            }
            let c = s.chars().next()?.to_ascii_uppercase();
            (s.len() == 1 && c.is_ascii_uppercase()).then(|| (c as i64) - ('A' as i64) + 1)
        })
        .collect()
}

/// NPI check digit: Luhn over the 80840 prefix and the first nine digits.
pub fn npi_valid(npi: &str) -> bool {
    let npi = npi.trim();
    if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = format!("80840{npi}").bytes().map(|b| (b - b'0') as u32).collect();
    let mut sum = 0;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut d = *d;
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// Inclusive code range for codes of the same length, compared character by character, so
/// `in_range("99213", "99202", "99215")` and `in_range("J1100", "J0000", "J9999")` work.
pub fn in_range(code: &str, lo: &str, hi: &str) -> bool {
    code.len() == lo.len() && code.len() == hi.len() && code >= lo && code <= hi
}

fn date_arg(s: &str, fn_name: &str) -> Result<chrono::NaiveDate, Box<EvalAltResult>> {
    dates::parse(s).ok_or_else(|| format!("{fn_name}: `{s}` is not a date (YYYY-MM-DD)").into())
}

fn is_blank(v: &Dynamic) -> bool {
    v.is_unit() || v.clone().into_immutable_string().map(|s| s.trim().is_empty()).unwrap_or(false)
}

/// A proposed value as text: strings as written, whole numbers without decimals ("2", not "2.0").
pub(crate) fn value_text(v: &Dynamic) -> Option<String> {
    if let Ok(x) = v.as_float() {
        return Some(if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { x.to_string() });
    }
    if let Ok(i) = v.as_int() {
        return Some(i.to_string());
    }
    v.clone().into_immutable_string().ok().map(|s| s.trim().to_string())
}

/// `fix(field, to, kind[, note])`: the field must be a canonical column; `to` a value or an
/// array of values to choose from; a safe fix has exactly one value.
fn make_fix(field: &str, to: &Dynamic, kind: &str, note: &str) -> Result<RawFix, Box<EvalAltResult>> {
    let column =
        COLUMNS.iter().position(|c| c.name == field).ok_or_else(|| format!("fix: `{field}` is not a canonical column (see `claimlint schema`)"))?;
    let kind = match kind {
        "safe" => FixKind::Safe,
        "suggested" => FixKind::Suggested,
        other => return Err(format!("fix: kind `{other}` is not \"safe\" or \"suggested\"").into()),
    };
    let proposed: Vec<String> = match to.clone().try_cast::<Array>() {
        Some(list) => list
            .iter()
            .map(|v| value_text(v).ok_or_else(|| "fix: a proposed value must be text or a number".to_string()))
            .collect::<Result<_, _>>()?,
        None if to.is_unit() => Vec::new(),
        None => vec![value_text(to).ok_or("fix: a proposed value must be text or a number")?],
    };
    if kind == FixKind::Safe && proposed.len() != 1 {
        return Err(
            format!("fix: a safe fix proposes exactly one value for `{field}` ({} given); offer choices as \"suggested\"", proposed.len()).into()
        );
    }
    Ok(RawFix { field: Some(column), proposed, kind, note: note.to_string() })
}

/// Registers the rule API on an engine.
pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<Line>("Line");
    for (i, c) in COLUMNS.iter().enumerate() {
        engine.register_get(c.name, move |l: &mut Line| l.batch.value(i, l.row as usize));
    }
    engine.register_get("modifiers", |l: &mut Line| l.modifiers());
    engine.register_get("pointed_dx", |l: &mut Line| l.pointed_dx());
    engine.register_get("provider_npi", |l: &mut Line| Dynamic::from(l.batch.provider.get(l.row as usize).clone()));
    engine.register_get("location", |l: &mut Line| l.batch.location(l.row as usize));
    engine.register_fn("count_within", |l: &mut Line, days: i64| l.batch.count_within(l.row as usize, days));
    engine.register_fn("has_modifier", |l: &mut Line, m: &str| l.has_modifier(m));
    engine.register_fn("has_any_modifier", |l: &mut Line, ms: Array| {
        ms.iter().any(|m| m.clone().into_immutable_string().is_ok_and(|m| l.has_modifier(&m)))
    });
    engine.register_fn("to_string", |l: &mut Line| format!("line {} ({})", l.row, l.batch.location(l.row as usize)));

    // Reporting. Amounts default to the line's charge (line scope) or the record's charge.
    type Res = Result<(), Box<EvalAltResult>>;
    engine.register_fn("flag", |ctx: NativeCallContext, msg: &str| -> Res { push(&ctx, None, msg, None) });
    engine.register_fn("flag", |ctx: NativeCallContext, msg: &str, amount: f64| -> Res { push(&ctx, None, msg, Some(amount)) });
    engine.register_fn("flag", |ctx: NativeCallContext, msg: &str, amount: i64| -> Res { push(&ctx, None, msg, Some(amount as f64)) });
    engine.register_fn("flag_line", |ctx: NativeCallContext, l: Line, msg: &str| -> Res { push(&ctx, Some(l.row), msg, Some(l.charge())) });
    engine.register_fn("flag_line", |ctx: NativeCallContext, l: Line, msg: &str, amount: f64| -> Res { push(&ctx, Some(l.row), msg, Some(amount)) });
    engine.register_fn("flag_line", |ctx: NativeCallContext, l: Line, msg: &str, amount: i64| -> Res {
        push(&ctx, Some(l.row), msg, Some(amount as f64))
    });

    // Fixes attach to the finding just reported; bypasses record an edit a modifier or an
    // exception let through (not a finding).
    engine.register_fn("fix", |ctx: NativeCallContext, field: &str, to: Dynamic, kind: &str| -> Res {
        attach_fix(&ctx, make_fix(field, &to, kind, "")?)
    });
    engine.register_fn("fix", |ctx: NativeCallContext, field: &str, to: Dynamic, kind: &str, note: &str| -> Res {
        attach_fix(&ctx, make_fix(field, &to, kind, note)?)
    });
    engine.register_fn("suggest", |ctx: NativeCallContext, note: &str| -> Res {
        attach_fix(&ctx, RawFix { field: None, proposed: Vec::new(), kind: FixKind::Suggested, note: note.to_string() })
    });
    engine.register_fn("suggest", |ctx: NativeCallContext, field: &str, note: &str| -> Res {
        attach_fix(&ctx, make_fix(field, &Dynamic::UNIT, "suggested", note)?)
    });
    engine.register_fn("bypass", |ctx: NativeCallContext, l: Line, reason: &str| -> Res { push_bypass(&ctx, Some(l.row), reason) });
    engine.register_fn("bypass", |ctx: NativeCallContext, reason: &str| -> Res { push_bypass(&ctx, None, reason) });

    engine.register_fn("param", |ctx: NativeCallContext, name: &str| -> Result<Dynamic, Box<EvalAltResult>> {
        with_state(&ctx, |s| s.params.get(name).cloned())?
            .ok_or_else(|| format!("param: no parameter `{name}` is declared for this rule (add it under `params:`)").into())
    });
    engine.register_fn("has_param", |ctx: NativeCallContext, name: &str| -> Result<bool, Box<EvalAltResult>> {
        with_state(&ctx, |s| s.params.get(name).is_some_and(|v| !v.is_unit()))
    });
    engine.register_fn("in_range", |code: &str, lo: &str, hi: &str| in_range(code, lo, hi));
    engine.register_fn("npi_valid", |npi: &str| npi_valid(npi));
    engine.register_fn("is_blank", |v: Dynamic| is_blank(&v));
    engine.register_fn("dx_slots", |p: &str| dx_slots(p).into_iter().map(Dynamic::from_int).collect::<Array>());
    engine.register_fn("strip_dot", |code: &str| code.replace('.', ""));

    engine.register_fn("days_between", |a: &str, b: &str| -> Result<i64, Box<EvalAltResult>> {
        Ok((date_arg(b, "days_between")? - date_arg(a, "days_between")?).num_days())
    });
    engine.register_fn("add_days", |d: &str, n: i64| -> Result<String, Box<EvalAltResult>> {
        Ok((date_arg(d, "add_days")? + chrono::Duration::days(n)).format("%Y-%m-%d").to_string())
    });
    engine.register_fn("age_on", |birth: &str, on: &str| -> Result<i64, Box<EvalAltResult>> {
        Ok(dates::age_on(date_arg(birth, "age_on")?, date_arg(on, "age_on")?))
    });
    engine.register_fn("weekday", |d: &str| -> Result<i64, Box<EvalAltResult>> {
        use chrono::Datelike;
        Ok(date_arg(d, "weekday")?.weekday().number_from_monday() as i64)
    });
    engine.register_fn("is_date", |d: &str| dates::parse(d).is_some());
    // Numbers in messages: `fixed(0.01234, 3)` is "0.012", `percent(0.256)` is "25.6%".
    engine.register_fn("fixed", |x: f64, n: i64| format!("{:.*}", n.clamp(0, 12) as usize, x));
    engine.register_fn("fixed", |x: i64, n: i64| format!("{:.*}", n.clamp(0, 12) as usize, x as f64));
    engine.register_fn("percent", |x: f64| format!("{:.1}%", x * 100.0));
}

/// Most billable codes `icd10_children` returns.
pub const MAX_ICD10_CHILDREN: usize = 50;

/// Helpers over the reference tables that fixes need.
pub fn register_reference_helpers(engine: &mut Engine, refdata: Arc<crate::refdata::RefData>) {
    engine.register_fn("icd10_children", move |code: &str, dos: &str| -> Result<Array, Box<EvalAltResult>> {
        let day = date_arg(dos, "icd10_children")?;
        Ok(refdata.icd10_billable_children(code, day, MAX_ICD10_CHILDREN).into_iter().map(Dynamic::from).collect())
    });
}

/// Rhai's error position, as (line, column), when it has one.
pub fn position_of(pos: Position) -> Option<(usize, usize)> {
    Some((pos.line()?, pos.position().unwrap_or(1)))
}
