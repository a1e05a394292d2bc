//! Phase 2 input: the claim lines as typed columns, plus the record groups each rule scope
//! iterates. Built by the loader ([`build::BatchBuilder`]) straight from the input files; rule
//! evaluation never touches Polars.

pub mod build;
pub mod column;
pub mod groups;

use std::collections::HashMap;
use std::sync::OnceLock;

use anyhow::Result;
use polars::prelude::*;
use rhai::{Dynamic, ImmutableString};

pub use column::{ColumnData, DateColumn, Dict, TextColumn, NO_DAY, NO_INTEGER, NO_NUMBER};
pub use groups::Groups;

use crate::schema::{col, COLUMNS};

#[derive(Debug)]
pub struct Batch {
    pub len: usize,
    pub columns: Vec<ColumnData>,
    /// Source file of each row (index into `sources`) and its row number within that file.
    pub source: Vec<u32>,
    pub source_row: Vec<u32>,
    pub sources: Vec<String>,
    /// rendering_npi, else billing_npi: the provider a line is attributed to.
    pub provider: TextColumn,
    pub claims: Groups,
    pub patient_days: Groups,
    pub providers: Groups,
    /// Built on first use by frequency rules.
    pub patient_code_days: OnceLock<PatientCodeDays>,
}

/// (patient, procedure code) -> (day, row), sorted.
pub type PatientCodeDays = HashMap<(u32, u32), Vec<(i32, u32)>>;

/// Schema position of a column by name (for names known only at run time; hot code uses
/// `schema::col::*`).
pub fn col_index(name: &str) -> usize {
    COLUMNS.iter().position(|c| c.name == name).unwrap_or_else(|| panic!("unknown canonical column {name}"))
}

static BLANK: std::sync::LazyLock<ImmutableString> = std::sync::LazyLock::new(ImmutableString::new);
static BLANK_DICT: std::sync::LazyLock<Dict> = std::sync::LazyLock::new(Dict::blank);

impl Batch {
    /// A batch with no lines (provider rules run on provider records alone).
    pub fn empty(sources: Vec<String>) -> Batch {
        Batch {
            len: 0,
            columns: COLUMNS.iter().map(|_| ColumnData::Null).collect(),
            source: Vec::new(),
            source_row: Vec::new(),
            sources,
            provider: TextColumn::new(Vec::new(), Dict::blank()),
            claims: Groups::default(),
            patient_days: Groups::default(),
            providers: Groups::default(),
            patient_code_days: OnceLock::new(),
        }
    }

    /// A batch from a typed canonical frame (as `to_canonical_frame` writes it), one input file
    /// per distinct `_source`, runs of rows kept in order.
    pub fn from_frame(frame: &DataFrame, sources: Vec<String>) -> Result<Batch> {
        let mut builder = build::BatchBuilder::new();
        for s in &sources {
            builder.add_source(s);
        }
        let src: Vec<u32> = match frame.column("_source") {
            Ok(c) => c.cast(&DataType::UInt32)?.u32()?.iter().map(|v| v.unwrap_or(0)).collect(),
            Err(_) => vec![0; frame.height()],
        };
        let mut start = 0;
        while start < src.len() {
            let end = start + src[start..].iter().take_while(|&&s| s == src[start]).count();
            builder.append_canonical(&frame.slice(start as i64, end - start), src[start])?;
            start = end;
        }
        Ok(builder.finish()?.0)
    }

    /// A batch from a canonical frame whose columns are all text (as the examples in rule files
    /// and tests write them), typed by the same loader claim files go through.
    pub fn from_text_frame(frame: &DataFrame, sources: Vec<String>) -> Result<(Batch, Vec<crate::vocab::DataIssue>)> {
        let mut builder = build::BatchBuilder::new();
        for s in &sources {
            builder.add_source(s);
        }
        builder.append_canonical(frame, 0)?;
        builder.finish()
    }

    /// The value a script sees: text as strings ("" when blank), dates as "YYYY-MM-DD" strings,
    /// numbers as floats, line numbers as integers; a missing number is `()`.
    pub fn value(&self, col: usize, row: usize) -> Dynamic {
        match &self.columns[col] {
            ColumnData::Null => match COLUMNS[col].kind {
                crate::schema::Kind::Text | crate::schema::Kind::Date => Dynamic::from(ImmutableString::new()),
                _ => Dynamic::UNIT,
            },
            ColumnData::Text(t) => Dynamic::from(t.get(row).clone()),
            ColumnData::Date(d) => Dynamic::from(d.text(row).clone()),
            ColumnData::Number(v) => {
                let x = v[row];
                if x.is_nan() {
                    Dynamic::UNIT
                } else {
                    Dynamic::from_float(x)
                }
            }
            ColumnData::Integer(v) => {
                let x = v[row];
                if x == NO_INTEGER {
                    Dynamic::UNIT
                } else {
                    Dynamic::from_int(x)
                }
            }
        }
    }

    pub fn text(&self, col: usize, row: usize) -> &str {
        match &self.columns[col] {
            ColumnData::Text(t) => t.text(row),
            ColumnData::Date(d) => d.text(row).as_str(),
            _ => "",
        }
    }

    /// Text and dates as the shared string a script sees ("" when blank).
    pub fn text_value(&self, col: usize, row: usize) -> &ImmutableString {
        match &self.columns[col] {
            ColumnData::Text(t) => t.get(row),
            ColumnData::Date(d) => d.text(row),
            _ => &BLANK,
        }
    }

    /// The interned id of a text value (0 = blank); 0 for other kinds. Equal ids mean equal
    /// values within one batch (ids are not comparable across batches).
    pub fn text_id(&self, col: usize, row: usize) -> u32 {
        match &self.columns[col] {
            ColumnData::Text(t) => t.id(row),
            _ => 0,
        }
    }

    /// The dictionary of a text column (id -> value; id 0 is blank); a one-entry dictionary for
    /// a column no input filled; None for other kinds.
    pub fn dict(&self, col: usize) -> Option<&Dict> {
        match &self.columns[col] {
            ColumnData::Text(t) => Some(t.dict()),
            ColumnData::Null if COLUMNS[col].kind == crate::schema::Kind::Text => Some(&BLANK_DICT),
            _ => None,
        }
    }

    /// The text column's ids, or None for a column no input filled (every id is 0).
    pub fn text_ids(&self, col: usize) -> Option<&[u32]> {
        match &self.columns[col] {
            ColumnData::Text(t) => Some(t.ids()),
            _ => None,
        }
    }

    /// The date column's day numbers (`NO_DAY` when missing), or None when no input filled it.
    pub fn days(&self, col: usize) -> Option<&[i32]> {
        match &self.columns[col] {
            ColumnData::Date(d) => Some(d.days()),
            _ => None,
        }
    }

    /// The number column's values (`NO_NUMBER` when missing), or None when no input filled it.
    pub fn numbers(&self, col: usize) -> Option<&[f64]> {
        match &self.columns[col] {
            ColumnData::Number(v) => Some(v),
            _ => None,
        }
    }

    pub fn number(&self, col: usize, row: usize) -> Option<f64> {
        match &self.columns[col] {
            ColumnData::Number(v) => Some(v[row]).filter(|x| !x.is_nan()),
            ColumnData::Integer(v) => Some(v[row]).filter(|&x| x != NO_INTEGER).map(|i| i as f64),
            _ => None,
        }
    }

    pub fn integer(&self, col: usize, row: usize) -> Option<i64> {
        match &self.columns[col] {
            ColumnData::Integer(v) => Some(v[row]).filter(|&x| x != NO_INTEGER),
            _ => None,
        }
    }

    pub fn date_days(&self, col: usize, row: usize) -> Option<i32> {
        match &self.columns[col] {
            ColumnData::Date(d) => d.day(row),
            _ => None,
        }
    }

    /// Lines of the same patient with the same procedure code whose date of service falls in the
    /// `days` days ending on this line's date, this line included, across the whole batch.
    pub fn count_within(&self, row: usize, days: i64) -> i64 {
        let (Some(patient), Some(code)) = (self.text_ids(col::PATIENT_ID), self.text_ids(col::PROCEDURE_CODE)) else {
            return 0;
        };
        let dos = col::SERVICE_DATE_FROM;
        let Some(day) = self.date_days(dos, row) else { return 0 };
        let index = self.patient_code_days.get_or_init(|| {
            let mut m: HashMap<(u32, u32), Vec<(i32, u32)>> = HashMap::new();
            for r in 0..self.len {
                if let Some(d) = self.date_days(dos, r) {
                    m.entry((patient[r], code[r])).or_default().push((d, r as u32));
                }
            }
            m.values_mut().for_each(|v| v.sort_unstable());
            m
        });
        let Some(list) = index.get(&(patient[row], code[row])) else { return 0 };
        let first = day as i64 - days + 1;
        // Same-day lines count in file order, so the limit is exceeded on the line that exceeds it.
        list.iter().filter(|(d, r)| (*d as i64) >= first && (*d < day || (*d == day && *r <= row as u32))).count() as i64
    }

    /// `file:row` of a line, for findings a biller can trace back to the export.
    pub fn location(&self, row: usize) -> String {
        let file = self.sources.get(self.source[row] as usize).map(String::as_str).unwrap_or("");
        format!("{file}:{}", self.source_row[row])
    }

    /// Selected columns as a Polars frame in their canonical types (text as String, dates as
    /// Date, amounts as Float64, line numbers as Int64), plus `_source` and `_row`: for the few
    /// aggregations that are Polars' job.
    pub fn to_frame(&self, cols: &[usize]) -> Result<DataFrame> {
        use crate::schema::Kind;
        let mut out = Vec::with_capacity(cols.len() + 2);
        for &c in cols {
            let name: PlSmallStr = COLUMNS[c].name.into();
            let column = match (&self.columns[c], COLUMNS[c].kind) {
                (ColumnData::Text(t), _) => Column::new(name, t.ids.iter().map(|&i| (i != 0).then(|| t.dict.get(i as usize))).collect::<Vec<_>>()),
                (ColumnData::Date(d), _) => {
                    let days: Vec<Option<i32>> = d.days.iter().map(|&x| (x != NO_DAY).then_some(x)).collect();
                    Column::new(name, days).cast(&DataType::Date)?
                }
                (ColumnData::Number(v), _) => Column::new(name, v.iter().map(|&x| (!x.is_nan()).then_some(x)).collect::<Vec<_>>()),
                (ColumnData::Integer(v), _) => Column::new(name, v.iter().map(|&x| (x != NO_INTEGER).then_some(x)).collect::<Vec<_>>()),
                (ColumnData::Null, Kind::Text) => Column::full_null(name, self.len, &DataType::String),
                (ColumnData::Null, Kind::Date) => Column::full_null(name, self.len, &DataType::Date),
                (ColumnData::Null, Kind::Number) => Column::full_null(name, self.len, &DataType::Float64),
                (ColumnData::Null, Kind::Integer) => Column::full_null(name, self.len, &DataType::Int64),
            };
            out.push(column);
        }
        out.push(Column::new("_source".into(), self.source.clone()));
        out.push(Column::new("_row".into(), self.source_row.clone()));
        Ok(DataFrame::new(self.len, out)?)
    }

    /// Every canonical column as a Polars frame (see [`Batch::to_frame`]).
    pub fn to_canonical_frame(&self) -> Result<DataFrame> {
        self.to_frame(&(0..COLUMNS.len()).collect::<Vec<_>>())
    }

    /// Approximate heap size of the columns and groups.
    pub fn heap_bytes(&self) -> usize {
        let column = |c: &ColumnData| match c {
            ColumnData::Null => 0,
            ColumnData::Text(t) => t.ids.len() * 4 + t.dict.heap_bytes(),
            ColumnData::Date(d) => d.days.len() * 4,
            ColumnData::Number(v) => v.len() * 8,
            ColumnData::Integer(v) => v.len() * 8,
        };
        let groups = |g: &Groups| g.heap_bytes();
        self.columns.iter().map(column).sum::<usize>()
            + self.provider.ids.len() * 4
            + self.source.len() * 8
            + groups(&self.claims)
            + groups(&self.patient_days)
            + groups(&self.providers)
    }

    /// Distinct non-blank values of a text column.
    pub fn distinct_count(&self, col: usize) -> usize {
        match &self.columns[col] {
            ColumnData::Text(t) => {
                let mut seen = vec![false; t.dict.len()];
                let mut n = 0;
                for &i in &t.ids {
                    if i != 0 && !seen[i as usize] {
                        seen[i as usize] = true;
                        n += 1;
                    }
                }
                n
            }
            _ => 0,
        }
    }
}

/// Names of the provider aggregates a provider-scope rule can read, with their meaning.
pub const PROVIDER_AGGREGATES: &[(&str, &str)] = &[
    ("line_count", "service lines attributed to the provider"),
    ("claim_count", "distinct claims"),
    ("patient_count", "distinct patients"),
    ("days_billed", "distinct dates of service"),
    ("total_charge", "sum of line charges"),
    ("total_units", "sum of units"),
    ("mean_charge", "mean line charge"),
    ("em_visits", "established-patient E/M lines (99211-99215)"),
    ("em_high_visits", "established-patient E/M lines at level 4 or 5 (99214, 99215)"),
    ("modifier_25_lines", "lines carrying modifier 25"),
    ("modifier_59_lines", "lines carrying 59, XE, XS, XP or XU"),
];

/// The provider a line is attributed to: the rendering NPI, else the billing NPI.
pub fn provider_key() -> Expr {
    coalesce(&[col("rendering_npi"), col("billing_npi"), lit("")])
}

/// Established-patient E/M levels, lowest first.
pub const EM_ESTABLISHED: [&str; 5] = ["99211", "99212", "99213", "99214", "99215"];
/// New-patient E/M levels, lowest first.
pub const EM_NEW: [&str; 4] = ["99202", "99203", "99204", "99205"];
/// Modifier 59 and its X{EPSU} subsets.
pub const MOD_59_FAMILY: [&str; 5] = ["59", "XE", "XS", "XP", "XU"];
