//! Phase 2 input: the canonical frame as plain columns, plus the record groups each rule scope
//! iterates. Built once from Polars; after this, rule evaluation never touches Polars.

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;
use rhai::{Dynamic, ImmutableString};

use crate::schema::{Kind, COLUMNS};

/// Text interned per column: codes, NPIs and dates repeat, so clones are refcount bumps and
/// the dictionary stays small.
#[derive(Debug, Default)]
pub struct TextColumn {
    ids: Vec<u32>,
    dict: Vec<ImmutableString>,
}

impl TextColumn {
    fn build<'a>(values: impl Iterator<Item = Option<&'a str>>, len: usize) -> Self {
        let mut index: HashMap<&'a str, u32> = HashMap::new();
        let mut dict = vec![ImmutableString::new()];
        let mut ids = Vec::with_capacity(len);
        for v in values {
            let id = match v {
                None | Some("") => 0,
                Some(s) => *index.entry(s).or_insert_with(|| {
                    dict.push(s.into());
                    (dict.len() - 1) as u32
                }),
            };
            ids.push(id);
        }
        TextColumn { ids, dict }
    }

    pub fn get(&self, row: usize) -> &ImmutableString {
        &self.dict[self.ids[row] as usize]
    }

    pub fn id(&self, row: usize) -> u32 {
        self.ids[row]
    }

    /// The distinct values, indexed by id; id 0 is the blank value.
    pub fn dict(&self) -> &[ImmutableString] {
        &self.dict
    }
}

#[derive(Debug)]
pub enum ColumnData {
    Text(TextColumn),
    /// ISO text for scripts, day numbers (since 1970-01-01) for native code.
    Date(TextColumn, Vec<Option<i32>>),
    Number(Vec<Option<f64>>),
    Integer(Vec<Option<i64>>),
}

/// Row indexes of the lines in one record of a group scope.
#[derive(Debug, Default)]
pub struct Groups {
    pub members: Vec<Vec<u32>>,
}

/// Provider aggregates computed by Polars group-bys, one row per provider group.
#[derive(Debug, Default)]
pub struct ProviderAggregates {
    pub names: Vec<String>,
    /// values[group][column]
    pub values: Vec<Vec<Dynamic>>,
}

#[derive(Debug)]
pub struct Batch {
    pub len: usize,
    pub columns: Vec<ColumnData>,
    /// Source file of each row (index into `sources`) and 1-based data row within it.
    pub source: Vec<u32>,
    pub source_row: Vec<u32>,
    pub sources: Vec<String>,
    /// rendering_npi, else billing_npi: the provider a line is attributed to.
    pub provider: TextColumn,
    pub claims: Groups,
    pub patient_days: Groups,
    pub providers: Groups,
    pub provider_aggregates: ProviderAggregates,
    /// (patient, procedure code) -> (day, row) sorted, built on first use by frequency rules.
    pub patient_code_days: std::sync::OnceLock<HashMap<(u32, u32), Vec<(i32, u32)>>>,
}

/// Schema position of a column, for fast access in hot loops.
pub fn col_index(name: &str) -> usize {
    COLUMNS.iter().position(|c| c.name == name).unwrap_or_else(|| panic!("unknown canonical column {name}"))
}

impl Batch {
    pub fn from_frame(frame: &DataFrame, sources: Vec<String>) -> Result<Batch> {
        let len = frame.height();
        let mut columns = Vec::with_capacity(COLUMNS.len());
        for c in COLUMNS {
            let series = frame.column(c.name)?;
            columns.push(match c.kind {
                Kind::Text => ColumnData::Text(TextColumn::build(series.str()?.iter(), len)),
                Kind::Date => {
                    let days: Vec<Option<i32>> = series.date()?.physical().iter().collect();
                    let text = series.cast(&DataType::String)?;
                    ColumnData::Date(TextColumn::build(text.str()?.iter(), len), days)
                }
                Kind::Number => ColumnData::Number(series.f64()?.iter().collect()),
                Kind::Integer => ColumnData::Integer(series.i64()?.iter().collect()),
            });
        }
        let source = frame.column("_source")?.u32()?.iter().map(|v| v.unwrap_or(0)).collect();
        let source_row = frame.column("_row")?.u32()?.iter().map(|v| v.unwrap_or(0)).collect();

        // Grouping is Polars' job: stable group-bys give row lists in first-seen order.
        let with_keys = frame
            .clone()
            .lazy()
            .with_row_index("_idx", None)
            .with_columns([
                provider_key().alias("_provider"),
                col("claim_id").fill_null(lit("")),
                col("patient_id").fill_null(lit("")),
            ])
            .collect()?;
        let provider = TextColumn::build(with_keys.column("_provider")?.str()?.iter(), len);
        let claims = group_rows(&with_keys, &["claim_id"])?;
        let patient_days = group_rows(&with_keys, &["patient_id", "_provider", "service_date_from"])?;
        let (providers, provider_aggregates) = provider_groups(&with_keys)?;
        Ok(Batch {
            len,
            columns,
            source,
            source_row,
            sources,
            provider,
            claims,
            patient_days,
            providers,
            provider_aggregates,
            patient_code_days: std::sync::OnceLock::new(),
        })
    }

    /// The value a script sees: text as strings ("" when blank), dates as "YYYY-MM-DD" strings,
    /// numbers as floats, line numbers as integers; a missing number is `()`.
    pub fn value(&self, col: usize, row: usize) -> Dynamic {
        match &self.columns[col] {
            ColumnData::Text(t) | ColumnData::Date(t, _) => Dynamic::from(t.get(row).clone()),
            ColumnData::Number(v) => v[row].map(Dynamic::from_float).unwrap_or(Dynamic::UNIT),
            ColumnData::Integer(v) => v[row].map(Dynamic::from_int).unwrap_or(Dynamic::UNIT),
        }
    }

    pub fn text(&self, col: usize, row: usize) -> &str {
        match &self.columns[col] {
            ColumnData::Text(t) | ColumnData::Date(t, _) => t.get(row).as_str(),
            _ => "",
        }
    }

    /// The interned id of a text or date value (0 = blank); 0 for other kinds. Equal ids mean
    /// equal values within one batch (ids are not comparable across batches).
    pub fn text_id(&self, col: usize, row: usize) -> u32 {
        match &self.columns[col] {
            ColumnData::Text(t) | ColumnData::Date(t, _) => t.id(row),
            _ => 0,
        }
    }

    /// The dictionary of a text or date column (id -> value); None for other kinds.
    pub fn dict(&self, col: usize) -> Option<&[ImmutableString]> {
        match &self.columns[col] {
            ColumnData::Text(t) | ColumnData::Date(t, _) => Some(t.dict()),
            _ => None,
        }
    }

    pub fn number(&self, col: usize, row: usize) -> Option<f64> {
        match &self.columns[col] {
            ColumnData::Number(v) => v[row],
            ColumnData::Integer(v) => v[row].map(|i| i as f64),
            _ => None,
        }
    }

    pub fn integer(&self, col: usize, row: usize) -> Option<i64> {
        match &self.columns[col] {
            ColumnData::Integer(v) => v[row],
            _ => None,
        }
    }

    pub fn date_days(&self, col: usize, row: usize) -> Option<i32> {
        match &self.columns[col] {
            ColumnData::Date(_, d) => d[row],
            _ => None,
        }
    }

    /// Lines of the same patient with the same procedure code whose date of service falls in the
    /// `days` days ending on this line's date, this line included, across the whole batch.
    pub fn count_within(&self, row: usize, days: i64) -> i64 {
        let (ColumnData::Text(patient), ColumnData::Text(code)) =
            (&self.columns[col_index("patient_id")], &self.columns[col_index("procedure_code")])
        else {
            return 0;
        };
        let dos = col_index("service_date_from");
        let Some(day) = self.date_days(dos, row) else { return 0 };
        let index = self.patient_code_days.get_or_init(|| {
            let mut m: HashMap<(u32, u32), Vec<(i32, u32)>> = HashMap::new();
            for r in 0..self.len {
                if let Some(d) = self.date_days(dos, r) {
                    m.entry((patient.id(r), code.id(r))).or_default().push((d, r as u32));
                }
            }
            m.values_mut().for_each(|v| v.sort_unstable());
            m
        });
        let Some(list) = index.get(&(patient.id(row), code.id(row))) else { return 0 };
        let first = day as i64 - days + 1;
        // Same-day lines count in file order, so the limit is exceeded on the line that exceeds it.
        list.iter().filter(|(d, r)| (*d as i64) >= first && (*d < day || (*d == day && *r <= row as u32))).count() as i64
    }

    /// `file:row` of a line, for findings a biller can trace back to the export.
    pub fn location(&self, row: usize) -> String {
        let file = self.sources.get(self.source[row] as usize).map(String::as_str).unwrap_or("");
        format!("{file}:{}", self.source_row[row])
    }
}

fn group_rows(frame: &DataFrame, keys: &[&str]) -> Result<Groups> {
    let by: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    let grouped = frame.clone().lazy().group_by_stable(by).agg([col("_idx")]).collect()?;
    Ok(Groups { members: list_of_rows(grouped.column("_idx")?)? })
}

fn list_of_rows(column: &Column) -> Result<Vec<Vec<u32>>> {
    let lists = column.list()?;
    let mut out = Vec::with_capacity(lists.len());
    for item in lists.series_iter() {
        let rows = match item {
            Some(s) => s.idx()?.iter().flatten().map(|v| v as u32).collect(),
            None => Vec::new(),
        };
        out.push(rows);
    }
    Ok(out)
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

/// `column` holds one of `values` (false when null).
pub(crate) fn is_in(column: &str, values: &[&str]) -> Expr {
    col(column).is_in(lit(Series::new("v".into(), values)).implode(false), false).fill_null(false)
}

/// Any of the four modifier slots holds one of `m`.
pub(crate) fn has_modifier(m: &[&str]) -> Expr {
    is_in("modifier_1", m).or(is_in("modifier_2", m)).or(is_in("modifier_3", m)).or(is_in("modifier_4", m))
}

fn provider_groups(frame: &DataFrame) -> Result<(Groups, ProviderAggregates)> {
    let em = is_in("procedure_code", &EM_ESTABLISHED);
    let em_high = is_in("procedure_code", &EM_ESTABLISHED[3..]);
    let grouped = frame
        .clone()
        .lazy()
        .group_by_stable([col("_provider")])
        .agg([
            col("_idx"),
            len().cast(DataType::Int64).alias("line_count"),
            col("claim_id").n_unique().cast(DataType::Int64).alias("claim_count"),
            col("patient_id").n_unique().cast(DataType::Int64).alias("patient_count"),
            col("service_date_from").n_unique().cast(DataType::Int64).alias("days_billed"),
            col("charge_amount").sum().alias("total_charge"),
            col("units").sum().alias("total_units"),
            col("charge_amount").mean().alias("mean_charge"),
            em.sum().cast(DataType::Int64).alias("em_visits"),
            em_high.sum().cast(DataType::Int64).alias("em_high_visits"),
            has_modifier(&["25"]).sum().cast(DataType::Int64).alias("modifier_25_lines"),
            has_modifier(&MOD_59_FAMILY).sum().cast(DataType::Int64).alias("modifier_59_lines"),
        ])
        .collect()?;
    let groups = Groups { members: list_of_rows(grouped.column("_idx")?)? };
    let mut aggs = ProviderAggregates { names: Vec::new(), values: vec![Vec::new(); grouped.height()] };
    for (name, _) in PROVIDER_AGGREGATES {
        let column = grouped.column(name)?;
        aggs.names.push(name.to_string());
        match column.dtype() {
            DataType::Int64 => {
                for (g, v) in column.i64()?.iter().enumerate() {
                    aggs.values[g].push(v.map(Dynamic::from_int).unwrap_or(Dynamic::UNIT));
                }
            }
            _ => {
                let f = column.cast(&DataType::Float64)?;
                for (g, v) in f.f64()?.iter().enumerate() {
                    aggs.values[g].push(v.map(Dynamic::from_float).unwrap_or(Dynamic::UNIT));
                }
            }
        }
    }
    Ok((groups, aggs))
}
