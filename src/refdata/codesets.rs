//! Plain code sets (HCPCS Level II, a user-supplied CPT list, place of service, modifiers,
//! revenue codes) and the OIG exclusion list (LEIE).

use super::compact::{self, day, Day, IntMap, IntSet, DAY_MAX, DAY_MIN};
use super::detect::{has, has_any, Detected, Plan, Probe, Reader};
use super::read;
use super::registry::{Parsed, TableLoader};
use super::source::SourceFile;
use super::{hcpcs, RefData, TableKind};
use anyhow::{anyhow, Context, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// The packing used for each code set; `None` = not a well-formed code of that kind.
pub(crate) fn pack_for(kind: TableKind, code: &str) -> Option<u64> {
    match kind {
        TableKind::Hcpcs | TableKind::Cpt => compact::pack_hcpcs(code).map(u64::from),
        TableKind::Pos => compact::pack_pos(code),
        TableKind::Modifiers => compact::pack_modifier(code),
        TableKind::Revenue => compact::pack_revenue(code),
        _ => None,
    }
}

#[derive(Default)]
pub(crate) struct CodeSet {
    pub codes: IntSet<u64>,
}

impl CodeSet {
    pub fn contains(&self, kind: TableKind, code: &str) -> bool {
        pack_for(kind, code).is_some_and(|k| self.codes.contains(&k))
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }
}

/// A plain code set's storage in [`RefData`].
pub(crate) trait CodeSetKind: Sync + 'static {
    const KIND: TableKind;
    fn set(rd: &RefData) -> &CodeSet;
    fn set_mut(rd: &mut RefData) -> &mut CodeSet;
}

/// What one code-set file yields: packed codes.
#[derive(Serialize, Deserialize)]
pub(crate) struct CodesPart {
    pub codes: Vec<u64>,
}

pub(crate) struct CodeSetTable<K>(PhantomData<K>);

impl<K: CodeSetKind> TableLoader for CodeSetTable<K> {
    type Part = CodesPart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<CodesPart>> {
        let (part, n, skipped) = match plan.reader {
            Reader::Native => hcpcs::parse_anweb(src)?,
            _ => parse_codes(K::KIND, src, plan)?,
        };
        Ok(Parsed::new(part, n, skipped, release))
    }

    fn add(rd: &mut RefData, part: CodesPart, _release: Option<NaiveDate>) {
        K::set_mut(rd).codes.extend(part.codes);
    }

    fn loaded(rd: &RefData) -> bool {
        K::set(rd).len() > 0
    }

    fn entries(rd: &RefData) -> usize {
        K::set(rd).len()
    }
}

macro_rules! code_set {
    ($marker:ident, $table:ident, $kind:ident, $field:ident) => {
        pub(crate) struct $marker;
        impl CodeSetKind for $marker {
            const KIND: TableKind = TableKind::$kind;
            fn set(rd: &RefData) -> &CodeSet {
                &rd.$field
            }
            fn set_mut(rd: &mut RefData) -> &mut CodeSet {
                &mut rd.$field
            }
        }
        pub(crate) type $table = CodeSetTable<$marker>;
    };
}

code_set!(HcpcsSet, HcpcsTable, Hcpcs, hcpcs);
code_set!(CptSet, CptTable, Cpt, cpt);
code_set!(PosSet, PosTable, Pos, pos);
code_set!(ModifierSet, ModifiersTable, Modifiers, modifiers);
code_set!(RevenueSet, RevenueTable, Revenue, revenue);

pub(crate) fn detect_pos(p: &Probe) -> Detected {
    p.normalised(TableKind::Pos, |_, h| has(h, "pos_code"))
}

pub(crate) fn detect_modifiers(p: &Probe) -> Detected {
    p.normalised(TableKind::Modifiers, |_, h| has(h, "modifier"))
}

/// Columns that belong to a more specific table: a file with them is never a plain code list.
pub(crate) fn other_tables_columns(h: &[String]) -> bool {
    has_any(h, &["minutes_per_unit", "pos_code", "modifier", "npi", "billable", "flags", "mue_units", "column_1"])
}

pub(crate) fn detect_revenue(p: &Probe) -> Detected {
    p.normalised(TableKind::Revenue, |name, h| {
        (has(h, "code") || has_any(h, &["revenue_code", "rev_code"])) && name.contains("revenue") && !other_tables_columns(h)
    })
}

pub(crate) fn detect_cpt(p: &Probe) -> Detected {
    p.normalised(TableKind::Cpt, |name, h| has(h, "code") && name.contains("cpt") && !other_tables_columns(h))
}

pub(crate) fn detect_leie(p: &Probe) -> Detected {
    let d = p.normalised(TableKind::Leie, |name, h| {
        has(h, "npi") && (has_any(h, &["excldate", "exclusion_date", "excl_date"]) || ["leie", "exclu", "oig"].iter().any(|k| name.contains(k)))
    });
    match d {
        // The OIG's own file (UPDATED.csv) has its header on the first line too.
        Detected::Table(mut plan) if has(&plan.header, "excltype") && has(&plan.header, "busname") => {
            plan.official = true;
            plan.layout = "official CSV";
            Detected::Table(plan)
        }
        d => d,
    }
}

pub(crate) fn detect_minutes(p: &Probe) -> Detected {
    p.normalised(TableKind::ServiceMinutes, |_, h| has(h, "code") && has(h, "minutes_per_unit"))
}

/// Read the code column of a code-set file. Rows that are not codes of the kind are skipped and
/// counted: the HCPCS file mixes in modifier records (recid 7) and continuation lines, the POS
/// list carries unassigned numbers.
fn parse_codes(kind: TableKind, src: &SourceFile, plan: &Plan) -> Result<(CodesPart, usize, usize)> {
    let shown = &src.shown;
    let code = match kind {
        TableKind::Pos => read::require_col(&plan.header, "pos_code", shown)?,
        TableKind::Modifiers => read::require_col(&plan.header, "modifier", shown)?,
        TableKind::Revenue => plan
            .named("code")
            .or_else(|| plan.named("revenue_code"))
            .or_else(|| plan.named("rev_code"))
            .ok_or_else(|| anyhow!("{}: no revenue code column", shown.display()))?,
        _ => read::require_col(&plan.header, "code", shown)?,
    };
    // Rows to leave out: HCPCS modifier records (recid 7) and the POS list's "Unassigned" codes.
    let (filter, reject) = match kind {
        TableKind::Hcpcs => (plan.named("recid"), "7"),
        TableKind::Pos => (plan.named("pos_type").or_else(|| plan.named("pos_name")), "unassigned"),
        _ => (None, ""),
    };
    let mut wanted = vec![code];
    wanted.extend(filter);
    let mut codes = Vec::new();
    let mut skipped = 0usize;
    read::for_each_batch(src, plan, &wanted, |cols| {
        for k in 0..cols[0].len() {
            let rejected = cols.get(1).and_then(|c| c.get(k)).is_some_and(|r| r.trim().eq_ignore_ascii_case(reject));
            match cols[0].get(k).and_then(|c| pack_for(kind, c)) {
                Some(key) if !rejected => codes.push(key),
                _ => skipped += 1,
            }
        }
        Ok(())
    })?;
    let n = codes.len();
    Ok((CodesPart { codes }, n, skipped))
}

/// The List of Excluded Individuals/Entities, by NPI.
#[derive(Default)]
pub(crate) struct Leie {
    /// NPI -> (exclusion date, reinstatement date) periods; DAY_MIN/DAY_MAX when not given.
    pub map: IntMap<u64, Vec<(Day, Day)>>,
    pub dated: bool,
}

impl Leie {
    /// Excluded on `dos`: from the exclusion date (when the file gives one) until the day before
    /// reinstatement. A list without dates counts every listed NPI as excluded on every date.
    pub fn excluded(&self, npi: &str, dos: NaiveDate) -> bool {
        let d = day(dos);
        compact::parse_npi(npi).and_then(|n| self.map.get(&n)).is_some_and(|ps| ps.iter().any(|&(from, until)| from <= d && d < until))
    }

    pub fn listed(&self, npi: &str) -> bool {
        compact::parse_npi(npi).is_some_and(|n| self.map.contains_key(&n))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
}

/// What one LEIE file yields: (NPI, excluded from, excluded until) rows.
#[derive(Serialize, Deserialize)]
pub(crate) struct LeiePart {
    rows: Vec<(u64, Day, Day)>,
    dated: bool,
}

pub(crate) struct LeieTable;

impl TableLoader for LeieTable {
    type Part = LeiePart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<LeiePart>> {
        let (part, skipped) = parse_leie(src, plan)?;
        let n = part.rows.len();
        Ok(Parsed::new(part, n, skipped, release))
    }

    fn add(rd: &mut RefData, part: LeiePart, _release: Option<NaiveDate>) {
        rd.leie.dated |= part.dated;
        for (id, from, until) in part.rows {
            let periods = rd.leie.map.entry(id).or_default();
            if !periods.contains(&(from, until)) {
                periods.push((from, until));
            }
        }
    }

    fn loaded(rd: &RefData) -> bool {
        rd.leie.len() > 0
    }

    fn entries(rd: &RefData) -> usize {
        rd.leie.len()
    }
}

fn parse_leie(src: &SourceFile, plan: &Plan) -> Result<(LeiePart, usize)> {
    let shown = &src.shown;
    let npi = read::require_col(&plan.header, "npi", shown)?;
    let excl = plan.col(|h| matches!(h, "excldate" | "exclusion_date" | "excl_date"));
    let rein = plan.col(|h| matches!(h, "reindate" | "reinstatement_date" | "rein_date"));
    let mut wanted = vec![npi];
    wanted.extend(excl);
    wanted.extend(rein);
    let mut rows = Vec::new();
    let mut skipped = 0usize;
    let mut line = 0usize;
    read::for_each_batch(src, plan, &wanted, |cols| {
        for k in 0..cols[0].len() {
            line += 1;
            // Entities without an NPI (0000000000) cannot match a claim.
            let Some(id) = cols[0].get(k).and_then(compact::parse_npi) else {
                skipped += 1;
                continue;
            };
            let date = |c: Option<usize>, open: Day| -> Result<Day> {
                let Some(c) = c else { return Ok(open) };
                let v = cols[c].get(k).unwrap_or("");
                Ok(compact::parse_date_field(v)
                    .map_err(|e| anyhow!(e))
                    .with_context(|| format!("{}: row {line}", shown.display()))?
                    .map(day)
                    .unwrap_or(open))
            };
            let from = date(excl.map(|_| 1), DAY_MIN)?;
            let until = date(rein.map(|_| 1 + excl.is_some() as usize), DAY_MAX)?;
            rows.push((id, from, until));
        }
        Ok(())
    })?;
    Ok((LeiePart { rows, dated: excl.is_some() }, skipped))
}

/// Minutes per unit of time-based codes: `code,minutes_per_unit`.
#[derive(Default)]
pub(crate) struct ServiceMinutes {
    pub map: std::collections::HashMap<String, f64>,
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

/// What one minutes file yields.
#[derive(Serialize, Deserialize)]
pub(crate) struct MinutesPart {
    rows: Vec<(String, f64)>,
}

pub(crate) struct MinutesTable;

impl TableLoader for MinutesTable {
    type Part = MinutesPart;

    fn parse(src: &SourceFile, plan: &Plan, release: Option<NaiveDate>) -> Result<Parsed<MinutesPart>> {
        let part = parse_minutes(src, plan)?;
        let n = part.rows.len();
        Ok(Parsed::new(part, n, 0, release))
    }

    fn add(rd: &mut RefData, part: MinutesPart, _release: Option<NaiveDate>) {
        rd.service_minutes.map.extend(part.rows);
    }

    fn loaded(rd: &RefData) -> bool {
        rd.service_minutes.len() > 0
    }

    fn entries(rd: &RefData) -> usize {
        rd.service_minutes.len()
    }
}

fn parse_minutes(src: &SourceFile, plan: &Plan) -> Result<MinutesPart> {
    let shown = &src.shown;
    let code = read::require_col(&plan.header, "code", shown)?;
    let minutes = read::require_col(&plan.header, "minutes_per_unit", shown)?;
    let mut rows = Vec::new();
    let mut line = 1usize;
    read::for_each_batch(src, plan, &[code, minutes], |cols| {
        for k in 0..cols[0].len() {
            line += 1;
            let c = cols[0].get(k).unwrap_or("").trim().to_ascii_uppercase();
            let m = cols[1].get(k).unwrap_or("").trim();
            let m: f64 = m
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v > 0.0)
                .ok_or_else(|| anyhow!("{}: row {line}: minutes_per_unit {m:?} is not a positive number", shown.display()))?;
            if c.is_empty() {
                continue;
            }
            rows.push((c, m));
        }
        Ok(())
    })?;
    Ok(MinutesPart { rows })
}
