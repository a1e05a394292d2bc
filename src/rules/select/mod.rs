//! Selectors: what a record must have for a rule to possibly fire, declared in the rule's
//! metadata and evaluated natively over whole columns before any script runs. The engine then
//! runs the script only on the records selected; the script still decides the policy and words
//! the finding. A selector may select more than the script flags, never less: `rules test` and
//! `audit --verify-selectors` check that.
//!
//! ```yaml
//! select:                      # a list means all of them
//!   - present: [received_date] # every listed column has a value
//!   - codes: { column: procedure_code, param: prior_auth_codes }
//!   - any:
//!       - blank: [prior_auth_number]
//!       - kernel: ptp
//! ```

mod eval;
pub mod kernels;

use serde_yaml::Value;

pub use eval::{select_records, SelectCtx};

use crate::refdata::IcdStatus;
use crate::schema::{col, Kind, COLUMNS};

/// A numeric threshold: a number, or a rule parameter resolved for each line's payer and date.
#[derive(Debug, Clone, PartialEq)]
pub enum Threshold {
    Value(f64),
    Param(String),
}

/// Codes a column must hold.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeSet {
    List(Vec<String>),
    /// Inclusive, for codes of the same length (as `in_range`).
    Range(String, String),
    /// A parameter: a list of codes, a map keyed by code, or a list of maps whose `key` field is
    /// the code. Every payer pack's value counts.
    Param {
        name: String,
        key: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// Key parts for the duplicates kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DupKey {
    Column(usize),
    /// The non-blank modifiers in slot order.
    Modifiers,
}

/// The table-driven candidate kernels the engine provides.
#[derive(Debug, Clone, PartialEq)]
pub enum Kernel {
    /// Column 2 lines of an NCCI PTP pair (modifier indicator 0 or 1) in force on the date,
    /// within the patient-day (same patient, provider and date); with `bypass`, indicator 1
    /// pairs where either line carries a modifier that parameter lists are left out.
    Ptp { bypass: Option<String> },
    /// Lines whose units exceed the MUE per line (MAI 1) or whose code's units over the
    /// patient-day exceed it (MAI 2 and 3).
    Mue,
    /// Claims with a diagnosis (in `slots`) whose ICD-10-CM status on a line date is one of
    /// `statuses`.
    Icd10 { statuses: Vec<IcdStatus>, slots: Vec<usize> },
    /// Claims with a diagnosis (in `slots`) carrying one of the MCE `flags` on the claim's first
    /// date of service.
    Mce { flags: Vec<String>, slots: Vec<usize> },
    /// Claims with a diagnosis whose MCE age group excludes the patient's age on the claim's
    /// first date of service.
    MceAge { slots: Vec<usize> },
    /// Lines with an add-on code of one of `types` in force on the date; with
    /// `without_primary`, only when none of its listed primaries is billed in the patient-day.
    AddOn { types: Vec<u8>, without_primary: bool },
    /// Lines whose key repeats an earlier line's in the same record (`within` the claim or the
    /// patient-day); with `across_claims`, only when the earlier line is on another claim.
    Duplicates { keys: Vec<DupKey>, across_claims: bool, skip_blank: Vec<usize> },
    /// Lines whose patient billed the code more often within its window than the limit the
    /// parameter sets for the line's payer (a list of `{code, max, per_days}`).
    Frequency { param: String },
    /// Lines whose NPI in any of `columns` fails the check digit.
    NpiInvalid { columns: Vec<usize> },
    /// Lines whose procedure code is not in the loaded HCPCS (Level II shapes) or CPT table.
    ProcedureCodeUnknown,
    /// Lines with a value in `columns` that the loaded `table` does not list.
    NotInTable { columns: Vec<usize>, table: String },
    /// Lines with an NPI in `columns` on the exclusion list.
    Excluded { columns: Vec<usize> },
    /// Lines whose diagnosis pointers are missing (professional claims), out of range, or name
    /// an empty slot.
    DxPointers,
}

/// A rule's selector.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    All(Vec<Selector>),
    Any(Vec<Selector>),
    Codes {
        columns: Vec<usize>,
        set: CodeSet,
    },
    /// Every listed column has a value.
    Present(Vec<usize>),
    /// At least one listed column is blank.
    Blank(Vec<usize>),
    Payers(Vec<String>),
    ClaimType(String),
    Compare {
        column: usize,
        cmp: Cmp,
        value: Threshold,
    },
    /// `to` − `from` in days is more than the threshold (both dates present).
    DaysBetween {
        from: usize,
        to: usize,
        more_than: Threshold,
    },
    /// The parameter resolves to a value for the line's payer and date.
    HasParam(String),
    Kernel(Kernel),
}

/// The words a selector may use, for messages and docs.
pub const VOCABULARY: &[(&str, &str)] = &[
    ("all: [...]", "every listed selector matches (a plain list means the same)"),
    ("any: [...]", "at least one listed selector matches"),
    ("codes: {column, in | range | param [, key]}", "the column holds a listed code, a code in an inclusive range, or a code a parameter names (list, map keys, or the `key` field of a list of maps; every payer pack's value counts); `column` may be `modifiers` or `dx` for all slots"),
    ("present: [columns]", "every listed column has a value"),
    ("blank: [columns]", "at least one listed column is blank"),
    ("payers: [ids]", "the line's payer is listed"),
    ("claim_type: professional | institutional", "the claim type"),
    ("compare: {column, lt | le | gt | ge: number or {param}}", "a numeric column against a threshold"),
    ("days_between: {from, to, more_than: number or {param}}", "both dates present and `to` is more than N days after `from`"),
    ("has_param: name", "the parameter has a value for the line's payer and date"),
    ("kernel: ptp | {ptp: {bypass_modifiers: {param}}}", "the column 2 line of an NCCI PTP pair (indicator 0/1) in force on the date within the patient-day; indicator 1 pairs whose lines carry a listed modifier are left out"),
    ("kernel: mue", "units over the MUE per line (MAI 1) or per patient-day (MAI 2, 3)"),
    ("kernel: {icd10: [unknown, invalid_on_date, not_billable], slots}", "a diagnosis with that ICD-10-CM status on a line date"),
    ("kernel: {mce: [flags], slots}", "a diagnosis with one of the MCE flags on the first date of service"),
    ("kernel: {mce_age: true, slots}", "a diagnosis whose MCE age group excludes the patient's age"),
    ("kernel: {addon: [types], without_primary}", "an add-on code of those types; optionally only without a listed primary in the patient-day"),
    ("kernel: {duplicates: [keys], across_claims, skip_blank}", "a line repeating an earlier line's key in the record; keys are columns or `modifiers`"),
    ("kernel: {frequency: {param}}", "a line over its payer's frequency limit: the patient's lines of the code within `per_days` days exceed `max`"),
    ("kernel: {npi_invalid: [columns]}", "an NPI failing the check digit"),
    ("kernel: procedure_code_unknown", "a procedure code the loaded HCPCS or CPT table does not list"),
    ("kernel: {not_in_table: table, columns}", "a value the loaded table (pos, modifiers, revenue, hcpcs, cpt) does not list"),
    ("kernel: {excluded: [columns]}", "an NPI on the loaded exclusion list"),
    ("kernel: dx_pointers", "diagnosis pointers missing, out of range or naming an empty slot"),
];

type Err = String;

fn column_list(v: &Value, what: &str) -> Result<Vec<usize>, Err> {
    let names: Vec<&str> = match v {
        Value::String(s) => vec![s.as_str()],
        Value::Sequence(items) => {
            items.iter().map(|i| i.as_str().ok_or_else(|| format!("{what}: expected column names"))).collect::<Result<_, _>>()?
        }
        _ => return Err(format!("{what}: expected a column name or a list of them")),
    };
    let mut out = Vec::new();
    for n in names {
        match n {
            "modifiers" => out.extend(col::MODIFIERS),
            "dx" => out.extend(col::DX),
            other => out.push(
                crate::schema::column(other)
                    .map(|_| crate::batch::col_index(other))
                    .ok_or_else(|| format!("{what}: `{other}` is not a canonical column (see `claimlint schema`)"))?,
            ),
        }
    }
    Ok(out)
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, Err> {
    match v {
        Value::Sequence(items) => items.iter().map(|i| scalar(i).ok_or_else(|| format!("{what}: expected a list of values"))).collect(),
        other => scalar(other).map(|s| vec![s]).ok_or_else(|| format!("{what}: expected a list of values")),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn threshold(v: &Value, what: &str) -> Result<Threshold, Err> {
    match v {
        Value::Number(n) => n.as_f64().map(Threshold::Value).ok_or_else(|| format!("{what}: not a number")),
        Value::Mapping(m) => match m.get("param").and_then(Value::as_str) {
            Some(p) => Ok(Threshold::Param(p.to_string())),
            None => Err(format!("{what}: expected a number or {{param: NAME}}")),
        },
        _ => Err(format!("{what}: expected a number or {{param: NAME}}")),
    }
}

fn map<'a>(v: &'a Value, what: &str) -> Result<&'a serde_yaml::Mapping, Err> {
    v.as_mapping().ok_or_else(|| format!("{what}: expected a mapping"))
}

fn only_keys(m: &serde_yaml::Mapping, what: &str, allowed: &[&str]) -> Result<(), Err> {
    for k in m.keys() {
        let k = k.as_str().unwrap_or("");
        if !allowed.contains(&k) {
            return Err(format!("{what}: unknown key `{k}` (expected {})", allowed.join(", ")));
        }
    }
    Ok(())
}

fn slots(m: &serde_yaml::Mapping, what: &str) -> Result<Vec<usize>, Err> {
    match m.get("slots") {
        None => Ok(col::DX.to_vec()),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| match i.as_u64() {
                Some(n @ 1..=12) => Ok(col::DX[n as usize - 1]),
                _ => Err(format!("{what}: slots are numbers 1 to 12")),
            })
            .collect(),
        Some(_) => Err(format!("{what}: slots are a list of numbers 1 to 12")),
    }
}

fn bool_key(m: &serde_yaml::Mapping, key: &str, what: &str) -> Result<bool, Err> {
    match m.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("{what}: `{key}` is true or false")),
    }
}

fn parse_kernel(v: &Value) -> Result<Kernel, Err> {
    if let Some(name) = v.as_str() {
        return match name {
            "ptp" => Ok(Kernel::Ptp { bypass: None }),
            "mue" => Ok(Kernel::Mue),
            "procedure_code_unknown" => Ok(Kernel::ProcedureCodeUnknown),
            "dx_pointers" => Ok(Kernel::DxPointers),
            other => Err(format!("kernel: unknown kernel `{other}` (see docs/rules.md, \"Selectors\")")),
        };
    }
    let m = map(v, "kernel")?;
    let Some((name, arg)) = m.iter().next() else { return Err("kernel: empty".into()) };
    let name = name.as_str().unwrap_or("");
    let what = format!("kernel {name}");
    match name {
        "ptp" => {
            only_keys(m, &what, &["ptp"])?;
            let arg = map(arg, &what)?;
            only_keys(arg, &what, &["bypass_modifiers"])?;
            let bypass = match arg.get("bypass_modifiers") {
                Some(v) => match v.as_mapping().and_then(|p| p.get("param")).and_then(Value::as_str) {
                    Some(p) => Some(p.to_string()),
                    None => return Err(format!("{what}: bypass_modifiers is {{param: NAME}}")),
                },
                None => None,
            };
            Ok(Kernel::Ptp { bypass })
        }
        "icd10" => {
            only_keys(m, &what, &["icd10", "slots"])?;
            let statuses = strings(arg, &what)?
                .iter()
                .map(|s| match s.as_str() {
                    "unknown" => Ok(IcdStatus::Unknown),
                    "invalid_on_date" => Ok(IcdStatus::InvalidOnDate),
                    "not_billable" => Ok(IcdStatus::NotBillable),
                    other => Err(format!("{what}: `{other}` is not a status (unknown, invalid_on_date, not_billable)")),
                })
                .collect::<Result<_, _>>()?;
            Ok(Kernel::Icd10 { statuses, slots: slots(m, &what)? })
        }
        "mce" => {
            only_keys(m, &what, &["mce", "slots"])?;
            Ok(Kernel::Mce { flags: strings(arg, &what)?, slots: slots(m, &what)? })
        }
        "mce_age" => {
            only_keys(m, &what, &["mce_age", "slots"])?;
            Ok(Kernel::MceAge { slots: slots(m, &what)? })
        }
        "addon" => {
            only_keys(m, &what, &["addon", "without_primary"])?;
            let types = strings(arg, &what)?
                .iter()
                .map(|t| t.parse::<u8>().ok().filter(|t| (1..=3).contains(t)).ok_or_else(|| format!("{what}: edit types are 1, 2 or 3")))
                .collect::<Result<_, _>>()?;
            Ok(Kernel::AddOn { types, without_primary: bool_key(m, "without_primary", &what)? })
        }
        "duplicates" => {
            only_keys(m, &what, &["duplicates", "across_claims", "skip_blank"])?;
            let mut keys = Vec::new();
            for k in strings(arg, &what)? {
                if k == "modifiers" {
                    keys.push(DupKey::Modifiers);
                } else {
                    keys.extend(column_list(&Value::String(k), &what)?.into_iter().map(DupKey::Column));
                }
            }
            let skip_blank = match m.get("skip_blank") {
                Some(v) => column_list(v, &what)?,
                None => Vec::new(),
            };
            Ok(Kernel::Duplicates { keys, across_claims: bool_key(m, "across_claims", &what)?, skip_blank })
        }
        "frequency" => {
            only_keys(m, &what, &["frequency"])?;
            match arg.as_mapping().and_then(|p| p.get("param")).and_then(Value::as_str) {
                Some(p) => Ok(Kernel::Frequency { param: p.to_string() }),
                None => Err(format!("{what}: frequency is {{param: NAME}}")),
            }
        }
        "npi_invalid" => {
            only_keys(m, &what, &["npi_invalid"])?;
            Ok(Kernel::NpiInvalid { columns: column_list(arg, &what)? })
        }
        "excluded" => {
            only_keys(m, &what, &["excluded"])?;
            Ok(Kernel::Excluded { columns: column_list(arg, &what)? })
        }
        "not_in_table" => {
            only_keys(m, &what, &["not_in_table", "columns"])?;
            let table = arg.as_str().ok_or_else(|| format!("{what}: name the table"))?.to_string();
            if !["pos", "modifiers", "revenue", "hcpcs", "cpt"].contains(&table.as_str()) {
                return Err(format!("{what}: `{table}` is not a code table (pos, modifiers, revenue, hcpcs, cpt)"));
            }
            let columns = match m.get("columns") {
                Some(v) => column_list(v, &what)?,
                None => return Err(format!("{what}: give the `columns` to check")),
            };
            Ok(Kernel::NotInTable { columns, table })
        }
        other => Err(format!("kernel: unknown kernel `{other}` (see docs/rules.md, \"Selectors\")")),
    }
}

/// Parses a `select:` block.
pub fn parse(v: &Value) -> Result<Selector, Err> {
    match v {
        Value::Sequence(items) => Ok(Selector::All(items.iter().map(parse).collect::<Result<_, _>>()?)),
        Value::Mapping(m) => {
            if m.len() != 1 {
                let keys: Vec<String> = m.keys().filter_map(|k| k.as_str().map(str::to_string)).collect();
                return Err(format!("one selector per list item (this item has {}); write them as a list", keys.join(", ")));
            }
            let (k, arg) = m.iter().next().expect("one entry");
            let key = k.as_str().unwrap_or("");
            match key {
                "all" => Ok(Selector::All(arg.as_sequence().ok_or("all: expected a list")?.iter().map(parse).collect::<Result<_, _>>()?)),
                "any" => Ok(Selector::Any(arg.as_sequence().ok_or("any: expected a list")?.iter().map(parse).collect::<Result<_, _>>()?)),
                "present" => Ok(Selector::Present(column_list(arg, "present")?)),
                "blank" => Ok(Selector::Blank(column_list(arg, "blank")?)),
                "payers" => Ok(Selector::Payers(strings(arg, "payers")?)),
                "claim_type" => match arg.as_str() {
                    Some(t @ ("professional" | "institutional")) => Ok(Selector::ClaimType(t.to_string())),
                    _ => Err("claim_type: professional or institutional".into()),
                },
                "has_param" => Ok(Selector::HasParam(arg.as_str().ok_or("has_param: name the parameter")?.to_string())),
                "codes" => {
                    let m = map(arg, "codes")?;
                    only_keys(m, "codes", &["column", "in", "range", "param", "key"])?;
                    let columns = column_list(m.get("column").ok_or("codes: give the `column`")?, "codes")?;
                    let set = match (m.get("in"), m.get("range"), m.get("param")) {
                        (Some(v), None, None) => CodeSet::List(strings(v, "codes")?.into_iter().map(|s| s.trim().to_uppercase()).collect()),
                        (None, Some(v), None) => match strings(v, "codes range")?.as_slice() {
                            [lo, hi] => CodeSet::Range(lo.to_uppercase(), hi.to_uppercase()),
                            _ => return Err("codes: range is [low, high]".into()),
                        },
                        (None, None, Some(p)) => CodeSet::Param {
                            name: p.as_str().ok_or("codes: param is a parameter name")?.to_string(),
                            key: m.get("key").and_then(Value::as_str).map(str::to_string),
                        },
                        _ => return Err("codes: give exactly one of `in`, `range` or `param`".into()),
                    };
                    Ok(Selector::Codes { columns, set })
                }
                "compare" => {
                    let m = map(arg, "compare")?;
                    only_keys(m, "compare", &["column", "lt", "le", "gt", "ge"])?;
                    let column = *column_list(m.get("column").ok_or("compare: give the `column`")?, "compare")?.first().ok_or("compare: one column")?;
                    if !matches!(COLUMNS[column].kind, Kind::Number | Kind::Integer) {
                        return Err(format!("compare: `{}` is not a number column", COLUMNS[column].name));
                    }
                    let ops = [("lt", Cmp::Lt), ("le", Cmp::Le), ("gt", Cmp::Gt), ("ge", Cmp::Ge)];
                    let found: Vec<_> = ops.iter().filter_map(|(k, c)| m.get(*k).map(|v| (*c, v))).collect();
                    match found.as_slice() {
                        [(cmp, v)] => Ok(Selector::Compare { column, cmp: *cmp, value: threshold(v, "compare")? }),
                        _ => Err("compare: give exactly one of lt, le, gt, ge".into()),
                    }
                }
                "days_between" => {
                    let m = map(arg, "days_between")?;
                    only_keys(m, "days_between", &["from", "to", "more_than"])?;
                    let date = |k: &str| -> Result<usize, Err> {
                        let c = *column_list(m.get(k).ok_or(format!("days_between: give `{k}`"))?, "days_between")?.first().ok_or("days_between: one column")?;
                        if COLUMNS[c].kind != Kind::Date {
                            return Err(format!("days_between: `{}` is not a date column", COLUMNS[c].name));
                        }
                        Ok(c)
                    };
                    Ok(Selector::DaysBetween {
                        from: date("from")?,
                        to: date("to")?,
                        more_than: threshold(m.get("more_than").ok_or("days_between: give `more_than`")?, "days_between")?,
                    })
                }
                "kernel" => Ok(Selector::Kernel(parse_kernel(arg)?)),
                other => Err(format!(
                    "unknown selector `{other}` (expected one of all, any, codes, present, blank, payers, claim_type, compare, days_between, has_param, kernel)"
                )),
            }
        }
        _ => Err("select: expected a list of selectors".into()),
    }
}

impl Selector {
    /// Parameters the selector reads (each must be declared by the rule).
    pub fn params(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit(&mut |s| match s {
            Selector::Kernel(Kernel::Ptp { bypass: Some(p) }) | Selector::Kernel(Kernel::Frequency { param: p }) => out.push(p.as_str()),
            Selector::Codes { set: CodeSet::Param { name, .. }, .. } | Selector::HasParam(name) => out.push(name.as_str()),
            Selector::Compare { value: Threshold::Param(p), .. } | Selector::DaysBetween { more_than: Threshold::Param(p), .. } => {
                out.push(p.as_str())
            }
            _ => {}
        });
        out
    }

    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a Selector)) {
        f(self);
        if let Selector::All(v) | Selector::Any(v) = self {
            for s in v {
                s.visit(f);
            }
        }
    }
}

/// Markdown table of the selector vocabulary, for docs/rules.md.
pub fn markdown() -> String {
    let mut out = String::from("| selector | selects |\n|---|---|\n");
    for (k, v) in VOCABULARY {
        out.push_str(&format!("| `{}` | {} |\n", k.replace('|', "\\|"), v.replace('|', "\\|")));
    }
    out
}
