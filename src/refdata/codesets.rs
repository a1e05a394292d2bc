//! Plain code sets (HCPCS Level II, a user-supplied CPT list, place of service, modifiers,
//! revenue codes) and the OIG exclusion list (LEIE).

use super::detect::Plan;
use super::pack::{self, day, Day, IntMap, IntSet, DAY_MAX, DAY_MIN};
use super::read;
use super::TableKind;
use anyhow::{anyhow, Context, Result};
use chrono::NaiveDate;
use std::path::Path;

/// The packing used for each code set; `None` = not a well-formed code of that kind.
pub(crate) fn pack_for(kind: TableKind, code: &str) -> Option<u64> {
    match kind {
        TableKind::Hcpcs | TableKind::Cpt => pack::pack_hcpcs(code).map(u64::from),
        TableKind::Pos => pack::pack_pos(code),
        TableKind::Modifiers => pack::pack_modifier(code),
        TableKind::Revenue => pack::pack_revenue(code),
        _ => None,
    }
}

#[derive(Default)]
pub(crate) struct CodeSet {
    codes: IntSet<u64>,
}

impl CodeSet {
    pub fn contains(&self, kind: TableKind, code: &str) -> bool {
        pack_for(kind, code).is_some_and(|k| self.codes.contains(&k))
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }
}

/// Load the code column of a code-set file. Rows that are not codes of the kind are skipped and
/// counted: the HCPCS file mixes in modifier records (recid 7) and continuation lines, the POS
/// list carries unassigned numbers.
pub(crate) fn load_codes(
    set: &mut CodeSet,
    kind: TableKind,
    path: &Path,
    plan: &Plan,
) -> Result<(usize, usize)> {
    let code = match kind {
        TableKind::Pos => read::require_col(&plan.header, "pos_code", path)?,
        TableKind::Modifiers => read::require_col(&plan.header, "modifier", path)?,
        TableKind::Revenue => plan
            .named("code")
            .or_else(|| plan.named("revenue_code"))
            .or_else(|| plan.named("rev_code"))
            .ok_or_else(|| anyhow!("{}: no revenue code column", path.display()))?,
        _ => read::require_col(&plan.header, "code", path)?,
    };
    // Rows to leave out: HCPCS modifier records (recid 7) and the POS list's "Unassigned" codes.
    let (filter, reject) = match kind {
        TableKind::Hcpcs => (plan.named("recid"), "7"),
        TableKind::Pos => (
            plan.named("pos_type").or_else(|| plan.named("pos_name")),
            "unassigned",
        ),
        _ => (None, ""),
    };
    let mut wanted = vec![code];
    wanted.extend(filter);
    let columns: Vec<String> = wanted.iter().map(|&i| plan.columns[i].clone()).collect();
    let (mut n, mut skipped) = (0usize, 0usize);
    read::for_each_batch(path, &plan.source, &columns, |cols| {
        for k in 0..cols[0].len() {
            let rejected = cols
                .get(1)
                .and_then(|c| c.get(k))
                .is_some_and(|r| r.trim().eq_ignore_ascii_case(reject));
            match cols[0].get(k).and_then(|c| pack_for(kind, c)) {
                Some(key) if !rejected => {
                    set.codes.insert(key);
                    n += 1;
                }
                _ => skipped += 1,
            }
        }
        Ok(())
    })?;
    Ok((n, skipped))
}

/// The List of Excluded Individuals/Entities, by NPI.
#[derive(Default)]
pub(crate) struct Leie {
    /// NPI -> (exclusion date, reinstatement date) periods; DAY_MIN/DAY_MAX when not given.
    map: IntMap<u64, Vec<(Day, Day)>>,
    pub dated: bool,
}

impl Leie {
    /// Excluded on `dos`: from the exclusion date (when the file gives one) until the day before
    /// reinstatement. A list without dates counts every listed NPI as excluded on every date.
    pub fn excluded(&self, npi: &str, dos: NaiveDate) -> bool {
        let d = day(dos);
        pack::parse_npi(npi)
            .and_then(|n| self.map.get(&n))
            .is_some_and(|ps| ps.iter().any(|&(from, until)| from <= d && d < until))
    }

    pub fn listed(&self, npi: &str) -> bool {
        pack::parse_npi(npi).is_some_and(|n| self.map.contains_key(&n))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
}

pub(crate) fn load_leie(l: &mut Leie, path: &Path, plan: &Plan) -> Result<(usize, usize)> {
    let npi = read::require_col(&plan.header, "npi", path)?;
    let excl = plan.col(|h| matches!(h, "excldate" | "exclusion_date" | "excl_date"));
    let rein = plan.col(|h| matches!(h, "reindate" | "reinstatement_date" | "rein_date"));
    let mut wanted = vec![npi];
    wanted.extend(excl);
    wanted.extend(rein);
    let columns: Vec<String> = wanted.iter().map(|&i| plan.columns[i].clone()).collect();
    l.dated |= excl.is_some();
    let (mut n, mut skipped) = (0usize, 0usize);
    let mut line = 0usize;
    read::for_each_batch(path, &plan.source, &columns, |cols| {
        for k in 0..cols[0].len() {
            line += 1;
            // Entities without an NPI (0000000000) cannot match a claim.
            let Some(id) = cols[0].get(k).and_then(pack::parse_npi) else {
                skipped += 1;
                continue;
            };
            let date = |c: Option<usize>, open: Day| -> Result<Day> {
                let Some(c) = c else { return Ok(open) };
                let v = cols[c].get(k).unwrap_or("");
                Ok(pack::parse_date_field(v)
                    .map_err(|e| anyhow!(e))
                    .with_context(|| format!("{}: row {line}", path.display()))?
                    .map(day)
                    .unwrap_or(open))
            };
            let from = date(excl.map(|_| 1), DAY_MIN)?;
            let until = date(rein.map(|_| 1 + excl.is_some() as usize), DAY_MAX)?;
            let periods = l.map.entry(id).or_default();
            if !periods.contains(&(from, until)) {
                periods.push((from, until));
            }
            n += 1;
        }
        Ok(())
    })?;
    Ok((n, skipped))
}

/// Minutes per unit of time-based codes: `code,minutes_per_unit`.
#[derive(Default)]
pub(crate) struct ServiceMinutes {
    map: std::collections::HashMap<String, f64>,
}

impl ServiceMinutes {
    pub fn get(&self, code: &str) -> Option<f64> {
        self.map.get(code.trim()).copied()
    }

    pub fn entries(&self) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = self.map.iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
}

pub(crate) fn load_minutes(t: &mut ServiceMinutes, path: &Path, plan: &Plan) -> Result<(usize, usize)> {
    let code = read::require_col(&plan.header, "code", path)?;
    let minutes = read::require_col(&plan.header, "minutes_per_unit", path)?;
    let columns = vec![plan.columns[code].clone(), plan.columns[minutes].clone()];
    let mut n = 0usize;
    let mut line = 1usize;
    read::for_each_batch(path, &plan.source, &columns, |cols| {
        for k in 0..cols[0].len() {
            line += 1;
            let c = cols[0].get(k).unwrap_or("").trim().to_ascii_uppercase();
            let m = cols[1].get(k).unwrap_or("").trim();
            let m: f64 = m
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v > 0.0)
                .ok_or_else(|| anyhow!("{}: row {line}: minutes_per_unit {m:?} is not a positive number", path.display()))?;
            if c.is_empty() {
                continue;
            }
            t.map.insert(c, m);
            n += 1;
        }
        Ok(())
    })?;
    Ok((n, 0))
}
