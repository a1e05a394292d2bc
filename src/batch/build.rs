//! The typed load path: input frames in, batch columns out, with no second copy of the input.
//!
//! Typed input (Parquet dates and numbers) is copied straight into the columns. Text is
//! interned as it arrives, and everything that depends only on the value — trimming, upper-casing
//! codes, parsing dates and amounts — is done once per distinct value when the batch is
//! finished, then mapped back to rows. Values that cannot be read become `DQ-UNREADABLE-VALUE`
//! issues with their file and row, and the line is audited without them.

use anyhow::{bail, Result};
use polars::prelude::*;

use super::column::{ColumnData, DateColumn, Dict, Interner, TextColumn, NO_DAY, NO_INTEGER, NO_NUMBER};
use super::{groups::Groups, Batch};
use crate::schema::{col, Kind, COLUMNS};
use crate::vocab::{DataIssue, Severity};

/// Columns whose values are codes: trimmed and upper-cased so "99213 " and "99213" agree.
pub const CODE_COLUMNS: &[usize] = &[
    col::PROCEDURE_CODE,
    col::MODIFIER_1,
    col::MODIFIER_2,
    col::MODIFIER_3,
    col::MODIFIER_4,
    col::PATIENT_SEX,
    col::DX_POINTERS,
    col::DX_1,
    col::DX_2,
    col::DX_3,
    col::DX_4,
    col::DX_5,
    col::DX_6,
    col::DX_7,
    col::DX_8,
    col::DX_9,
    col::DX_10,
    col::DX_11,
    col::DX_12,
    col::REVENUE_CODE,
    col::PRINCIPAL_PROCEDURE_CODE,
    col::OTHER_PROCEDURE_CODES,
];

/// Date layouts accepted in claim files, tried in order.
const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y%m%d", "%m/%d/%Y"];

/// Text that arrived for a typed column, kept per row as an interned id (0 = none) until the
/// batch is finished.
#[derive(Default)]
struct RawText {
    interner: Option<Interner>,
    ids: Vec<u32>,
}

impl RawText {
    fn push(&mut self, len_before: usize, value: Option<&str>) {
        let interner = self.interner.get_or_insert_with(Interner::new);
        if self.ids.len() < len_before {
            self.ids.resize(len_before, 0);
        }
        self.ids.push(value.map_or(0, |v| interner.intern(v)));
    }
}

enum ColBuilder {
    Text { interner: Interner, ids: Vec<u32> },
    Date { days: Vec<i32>, raw: RawText },
    Number { values: Vec<f64>, raw: RawText },
    Integer { values: Vec<i64>, raw: RawText },
}

impl ColBuilder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Text => ColBuilder::Text { interner: Interner::new(), ids: Vec::new() },
            Kind::Date => ColBuilder::Date { days: Vec::new(), raw: RawText::default() },
            Kind::Number => ColBuilder::Number { values: Vec::new(), raw: RawText::default() },
            Kind::Integer => ColBuilder::Integer { values: Vec::new(), raw: RawText::default() },
        }
    }

    fn push_nulls(&mut self, n: usize) {
        match self {
            ColBuilder::Text { ids, .. } => ids.resize(ids.len() + n, 0),
            ColBuilder::Date { days, .. } => days.resize(days.len() + n, NO_DAY),
            ColBuilder::Number { values, .. } => values.resize(values.len() + n, NO_NUMBER),
            ColBuilder::Integer { values, .. } => values.resize(values.len() + n, NO_INTEGER),
        }
    }

    fn push_text(&mut self, values: &StringChunked) {
        match self {
            ColBuilder::Text { interner, ids } => {
                for arr in values.downcast_iter() {
                    interner.intern_array(arr, ids);
                }
            }
            ColBuilder::Date { days, raw } => {
                for v in values.iter() {
                    raw.push(days.len(), v);
                    days.push(NO_DAY);
                }
            }
            ColBuilder::Number { values: out, raw } => {
                for v in values.iter() {
                    raw.push(out.len(), v);
                    out.push(NO_NUMBER);
                }
            }
            ColBuilder::Integer { values: out, raw } => {
                for v in values.iter() {
                    raw.push(out.len(), v);
                    out.push(NO_INTEGER);
                }
            }
        }
    }

    fn push(&mut self, column: &Prepared) {
        match (&mut *self, column) {
            (_, Prepared::Nulls(n)) => self.push_nulls(*n),
            (_, Prepared::Text(t)) => self.push_text(t),
            (ColBuilder::Date { days, .. }, Prepared::Days(d)) => days.extend(d.iter().map(|d| d.unwrap_or(NO_DAY))),
            (ColBuilder::Number { values, .. }, Prepared::Float(f)) => values.extend(f.iter().map(|v| v.unwrap_or(NO_NUMBER))),
            (ColBuilder::Integer { values, .. }, Prepared::Int(i)) => values.extend(i.iter().map(|v| v.unwrap_or(NO_INTEGER))),
            _ => unreachable!("prepare() matches the column kind"),
        }
    }
}

/// One input column in the form its builder takes: Polars' casts happen here, before the
/// columns are filled in parallel.
enum Prepared {
    Nulls(usize),
    Text(StringChunked),
    Days(Int32Chunked),
    Float(Float64Chunked),
    Int(Int64Chunked),
}

/// Typed values go straight in; anything else arrives as its text form.
fn prepare(kind: Kind, column: &Column) -> Result<Prepared> {
    let dtype = column.dtype();
    Ok(match (kind, dtype) {
        (_, DataType::String) => Prepared::Text(column.str()?.clone()),
        (_, DataType::Null) => Prepared::Nulls(column.len()),
        (Kind::Date, DataType::Date) => Prepared::Days(column.date()?.physical().clone()),
        (Kind::Number, dt) if dt.is_primitive_numeric() => Prepared::Float(column.cast(&DataType::Float64)?.f64()?.clone()),
        (Kind::Integer, dt) if dt.is_integer() => Prepared::Int(column.cast(&DataType::Int64)?.i64()?.clone()),
        // Same reading as text input: a float line number "2.5" or a timestamp is then
        // reported as unreadable, exactly as if the file had been CSV.
        _ => Prepared::Text(column.cast(&DataType::String)?.str()?.clone()),
    })
}

/// Builds a [`Batch`] from input frames, one file (or one piece of a file) at a time.
pub struct BatchBuilder {
    len: usize,
    cols: Vec<ColBuilder>,
    source: Vec<u32>,
    source_row: Vec<u32>,
    sources: Vec<String>,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchBuilder {
    pub fn new() -> Self {
        BatchBuilder {
            len: 0,
            cols: COLUMNS.iter().map(|c| ColBuilder::new(c.kind)).collect(),
            source: Vec::new(),
            source_row: Vec::new(),
            sources: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Registers an input file; returns its index for [`BatchBuilder::append_canonical`].
    pub fn add_source(&mut self, name: &str) -> u32 {
        self.sources.push(name.to_string());
        (self.sources.len() - 1) as u32
    }

    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Appends rows whose columns carry canonical names; absent columns are blank. A `_row`
    /// column (the reader's own row numbers) gives each row's location; otherwise rows are
    /// numbered from `first_row`.
    pub fn append_canonical(&mut self, frame: &DataFrame, source: u32) -> Result<()> {
        let first_row = self.source.iter().rev().take_while(|&&s| s == source).count() as u32 + 1;
        self.append_rows(frame, source, first_row)
    }

    fn append_rows(&mut self, frame: &DataFrame, source: u32, first_row: u32) -> Result<()> {
        use rayon::prelude::*;
        let n = frame.height();
        let prepared: Vec<Prepared> = COLUMNS
            .iter()
            .map(|spec| match frame.column(spec.name) {
                Ok(column) => prepare(spec.kind, column),
                Err(_) => Ok(Prepared::Nulls(n)),
            })
            .collect::<Result<_>>()?;
        // Interning is the costly part and columns are independent.
        self.cols.par_iter_mut().zip(prepared.par_iter()).for_each(|(b, p)| b.push(p));
        self.source.resize(self.source.len() + n, source);
        match frame.column("_row") {
            Ok(rows) => {
                let rows = rows.cast(&DataType::UInt32)?;
                self.source_row.extend(rows.u32()?.iter().enumerate().map(|(i, r)| r.unwrap_or(first_row + i as u32)));
            }
            Err(_) => self.source_row.extend(first_row..first_row + n as u32),
        }
        self.len += n;
        Ok(())
    }

    /// Types, normalises and groups the rows. Returns the batch and the values that could not
    /// be read.
    pub fn finish(self) -> Result<(Batch, Vec<DataIssue>)> {
        let len = self.len;
        let mut issues = Vec::new();
        let mut columns: Vec<ColumnData> = Vec::with_capacity(COLUMNS.len());
        // Text first: unreadable-value issues name the claim id and read the line number text.
        let mut pending = Vec::new();
        for (c, builder) in self.cols.into_iter().enumerate() {
            match builder {
                ColBuilder::Text { interner, ids } => columns.push(finish_text(c, interner, ids)),
                other => {
                    columns.push(ColumnData::Null);
                    pending.push((c, other));
                }
            }
        }
        let mut batch = Batch {
            len,
            columns,
            source: self.source,
            source_row: self.source_row,
            sources: self.sources,
            provider: TextColumn::default(),
            claims: Groups::default(),
            patient_days: Groups::default(),
            providers: Groups::default(),
            patient_code_days: Default::default(),
        };
        let mut raws = Vec::new();
        for (c, builder) in pending {
            let (data, raw) = finish_typed(c, builder);
            batch.columns[c] = data;
            raws.push((c, raw));
        }
        let line_raw = raws.iter().find(|(c, _)| *c == col::LINE_NUMBER).map(|(_, r)| r);
        for (c, raw) in &raws {
            report_unreadable(&batch, *c, raw, line_raw, &mut issues);
        }
        let t = std::time::Instant::now();
        fill_defaults(&mut batch);
        let t_defaults = t.elapsed();
        group(&mut batch);
        tracing::debug!(defaults_s = t_defaults.as_secs_f64(), group_s = (t.elapsed() - t_defaults).as_secs_f64(), "batch finished");
        Ok((batch, issues))
    }
}

/// Normalises each distinct value once and maps the rows onto the normalised dictionary.
fn finish_text(c: usize, interner: Interner, ids: Vec<u32>) -> ColumnData {
    if interner.is_empty() {
        return ColumnData::Null;
    }
    let upper = CODE_COLUMNS.contains(&c);
    let mut normalised = Interner::new();
    let mut remap = Vec::with_capacity(interner.len());
    let mut identity = true;
    for (i, v) in interner.iter().enumerate() {
        let t = v.trim();
        let id = if upper && t.bytes().any(|b| b.is_ascii_lowercase() || !b.is_ascii()) {
            normalised.intern(&t.to_uppercase())
        } else if c == col::CLAIM_TYPE && t.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
            normalised.intern(&t.to_lowercase())
        } else if c == col::PLACE_OF_SERVICE {
            normalised.intern(&zfill(t, 2))
        } else {
            normalised.intern(t)
        };
        identity &= id as usize == i;
        remap.push(id);
    }
    let ids = if identity { ids } else { ids.into_iter().map(|i| remap[i as usize]).collect() };
    if normalised.is_empty() {
        return ColumnData::Null;
    }
    ColumnData::Text(TextColumn::new(ids, normalised.into_dict()))
}

/// Left-pads with zeros to `width` characters, after a leading sign (Polars' `zfill`).
fn zfill(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if s.is_empty() || n >= width {
        return s.to_string();
    }
    let pad = "0".repeat(width - n);
    match s.strip_prefix(['-', '+']) {
        Some(rest) => format!("{}{pad}{rest}", &s[..1]),
        None => format!("{pad}{s}"),
    }
}

fn parse_date(s: &str) -> Option<i32> {
    DATE_FORMATS.iter().find_map(|f| chrono::NaiveDate::parse_from_str(s, f).ok()).map(crate::dates::to_days)
}

/// `$1,200.00` is a readable amount: commas go, and `$` and spaces around the number.
/// Amounts and units as billers write them (`$1,000.00`); "NaN" and "inf" are not amounts, so
/// they are unreadable values rather than silently missing ones.
fn parse_number(s: &str) -> Option<f64> {
    let cleaned: String = s.chars().filter(|&c| c != ',').collect();
    cleaned.trim_matches(['$', ' ']).parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parses each distinct text once; rows that arrived typed keep their values.
fn finish_typed(c: usize, builder: ColBuilder) -> (ColumnData, RawParsed) {
    match builder {
        ColBuilder::Date { mut days, raw } => {
            let parsed = parse_raw(&raw, parse_date);
            apply(&mut days, &raw, &parsed.values, NO_DAY);
            let any = days.iter().any(|&d| d != NO_DAY);
            (if any { ColumnData::Date(DateColumn::new(days)) } else { ColumnData::Null }, parsed.with_raw(raw))
        }
        ColBuilder::Number { mut values, raw } => {
            let parsed = parse_raw(&raw, parse_number);
            apply(&mut values, &raw, &parsed.values, NO_NUMBER);
            let any = values.iter().any(|v| !v.is_nan());
            (if any { ColumnData::Number(values) } else { ColumnData::Null }, parsed.with_raw(raw))
        }
        ColBuilder::Integer { mut values, raw } => {
            let parsed = parse_raw(&raw, |s| parse_number(s).filter(|f| *f == f.floor()).map(|f| f as i64));
            apply(&mut values, &raw, &parsed.values, NO_INTEGER);
            let any = values.iter().any(|&v| v != NO_INTEGER);
            (if any { ColumnData::Integer(values) } else { ColumnData::Null }, parsed.with_raw(raw))
        }
        ColBuilder::Text { .. } => unreachable!("text columns are finished separately (column {c})"),
    }
}

struct Parsed<T> {
    /// Per raw id: the trimmed text (None when blank) and its value (None when unreadable).
    values: Vec<Option<T>>,
    trimmed: Vec<Option<String>>,
}

impl<T> Parsed<T> {
    fn with_raw(self, raw: RawText) -> RawParsed {
        RawParsed {
            ids: raw.ids,
            unreadable: self.values.iter().zip(&self.trimmed).map(|(v, t)| v.is_none() && t.is_some()).collect(),
            trimmed: self.trimmed,
        }
    }
}

/// A typed column's text input after parsing: which raw values could not be read.
struct RawParsed {
    ids: Vec<u32>,
    trimmed: Vec<Option<String>>,
    unreadable: Vec<bool>,
}

fn parse_raw<T>(raw: &RawText, parse: impl Fn(&str) -> Option<T>) -> Parsed<T> {
    let Some(interner) = &raw.interner else { return Parsed { values: Vec::new(), trimmed: Vec::new() } };
    let mut values = Vec::with_capacity(interner.len());
    let mut trimmed = Vec::with_capacity(interner.len());
    for v in interner.iter() {
        let t = v.trim();
        if t.is_empty() {
            values.push(None);
            trimmed.push(None);
        } else {
            values.push(parse(t));
            trimmed.push(Some(t.to_string()));
        }
    }
    Parsed { values, trimmed }
}

fn apply<T: Copy>(out: &mut [T], raw: &RawText, values: &[Option<T>], missing: T) {
    for (row, &id) in raw.ids.iter().enumerate() {
        if id != 0 {
            out[row] = values[id as usize].unwrap_or(missing);
        }
    }
}

fn report_unreadable(batch: &Batch, c: usize, raw: &RawParsed, line_raw: Option<&RawParsed>, issues: &mut Vec<DataIssue>) {
    if !raw.unreadable.iter().any(|&u| u) {
        return;
    }
    let expected = match COLUMNS[c].kind {
        Kind::Date => "a date (YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY)",
        Kind::Number => "a number",
        Kind::Integer => "a whole number",
        Kind::Text => unreachable!(),
    };
    for (row, &id) in raw.ids.iter().enumerate() {
        if id == 0 || !raw.unreadable[id as usize] {
            continue;
        }
        let claim = batch.text(col::CLAIM_ID, row);
        // The line number as written: parsed from its text, or the typed value.
        let line_number = match line_raw.map(|l| l.ids.get(row).copied().unwrap_or(0)).unwrap_or(0) {
            0 => batch.integer(col::LINE_NUMBER, row),
            lid => line_raw.and_then(|l| l.trimmed[lid as usize].as_deref()).and_then(|t| t.parse().ok()),
        };
        issues.push(DataIssue {
            source: batch.sources.get(batch.source[row] as usize).cloned().unwrap_or_default(),
            row: Some(batch.source_row[row]),
            claim_id: (!claim.is_empty()).then(|| claim.to_string()),
            line_number,
            rule_id: "DQ-UNREADABLE-VALUE",
            severity: Severity::Error,
            message: format!(
                "{} `{}` is not {expected}; the line is audited without it",
                COLUMNS[c].name,
                raw.trimmed[id as usize].as_deref().unwrap_or_default()
            ),
            amount_at_risk: batch.number(col::CHARGE_AMOUNT, row).unwrap_or(0.0),
        });
    }
}

/// Derived defaults: service_date_to = from, the claim type from institutional columns, and
/// line numbers by file order within a claim.
fn fill_defaults(batch: &mut Batch) {
    let len = batch.len;
    // service_date_to defaults to service_date_from.
    if let Some(from) = batch.days(col::SERVICE_DATE_FROM).map(|d| d.to_vec()) {
        let mut to = batch.days(col::SERVICE_DATE_TO).map(|d| d.to_vec()).unwrap_or_else(|| vec![NO_DAY; len]);
        let mut changed = false;
        for (t, f) in to.iter_mut().zip(&from) {
            if *t == NO_DAY && *f != NO_DAY {
                *t = *f;
                changed = true;
            }
        }
        if changed {
            batch.columns[col::SERVICE_DATE_TO] = ColumnData::Date(DateColumn::new(to));
        }
    }

    // The claim type: given, else institutional when a type of bill or revenue code is present.
    let given = batch.text_ids(col::CLAIM_TYPE).map(|i| i.to_vec());
    if given.as_ref().is_none_or(|ids| ids.contains(&0)) {
        let mut dict: Vec<String> =
            batch.dict(col::CLAIM_TYPE).map(|d| d.iter().map(str::to_string).collect()).unwrap_or_else(|| vec![String::new()]);
        let mut id_of = |name: &str| -> u32 {
            match dict.iter().position(|d| d == name) {
                Some(i) => i as u32,
                None => {
                    dict.push(name.to_string());
                    (dict.len() - 1) as u32
                }
            }
        };
        let (prof, inst) = (id_of("professional"), id_of("institutional"));
        let mut ids = given.unwrap_or_else(|| vec![0; len]);
        for (row, id) in ids.iter_mut().enumerate() {
            if *id == 0 {
                let institutional = batch.text_id(col::TYPE_OF_BILL, row) != 0 || batch.text_id(col::REVENUE_CODE, row) != 0;
                *id = if institutional { inst } else { prof };
            }
        }
        if len > 0 {
            batch.columns[col::CLAIM_TYPE] = ColumnData::Text(TextColumn::new(ids, Dict::from_values(dict.iter().map(String::as_str))));
        }
    }

    // Missing line numbers: 1..n within a claim in file order, never below a given number.
    let lines = match &batch.columns[col::LINE_NUMBER] {
        ColumnData::Integer(v) => v.clone(),
        _ => vec![NO_INTEGER; len],
    };
    if lines.contains(&NO_INTEGER) && len > 0 {
        let claim_ids: Vec<u32> = batch.text_ids(col::CLAIM_ID).map(|i| i.to_vec()).unwrap_or_else(|| vec![0; len]);
        let claims = batch.dict(col::CLAIM_ID).map_or(1, |d| d.len());
        let mut next = vec![0i64; claims];
        let mut out = Vec::with_capacity(len);
        for (claim, line) in claim_ids.iter().zip(&lines) {
            let counter = &mut next[*claim as usize];
            let given = (*line != NO_INTEGER).then_some(*line);
            *counter = given.unwrap_or(*counter + 1).max(*counter);
            out.push(given.unwrap_or(*counter));
        }
        batch.columns[col::LINE_NUMBER] = ColumnData::Integer(out);
    }
}

/// The provider of each line, and the claim, patient-day and provider groups.
fn group(batch: &mut Batch) {
    let len = batch.len;
    // Provider: the rendering NPI, else the billing NPI, interned into one dictionary.
    let mut providers = Interner::new();
    let map_dict = |c: usize, providers: &mut Interner| -> Vec<u32> {
        batch.dict(c).map(|d| d.iter().map(|v| providers.intern(v)).collect()).unwrap_or_else(|| vec![0])
    };
    let rendering = map_dict(col::RENDERING_NPI, &mut providers);
    let billing = map_dict(col::BILLING_NPI, &mut providers);
    let ids: Vec<u32> = (0..len)
        .map(|r| {
            let rid = rendering[batch.text_id(col::RENDERING_NPI, r) as usize];
            if rid != 0 {
                rid
            } else {
                billing[batch.text_id(col::BILLING_NPI, r) as usize]
            }
        })
        .collect();
    let provider = TextColumn::new(ids, providers.into_dict());

    let claim_ids: Vec<u32> = batch.text_ids(col::CLAIM_ID).map(|i| i.to_vec()).unwrap_or_else(|| vec![0; len]);
    let claim_keys = batch.dict(col::CLAIM_ID).map_or(1, |d| d.len());
    batch.claims = Groups::by_dense_key(&claim_ids, claim_keys);
    batch.providers = Groups::by_dense_key(provider.ids(), provider.dict().len());
    let patient = batch.text_ids(col::PATIENT_ID);
    let days = batch.days(col::SERVICE_DATE_FROM);
    batch.patient_days = Groups::by_key((0..len).map(|r| (patient.map_or(0, |p| p[r]), provider.ids()[r], days.map_or(NO_DAY, |d| d[r]))), len);
    batch.provider = provider;
}

/// Rejects a batch with no lines, naming the inputs.
pub fn require_lines(builder: &BatchBuilder) -> Result<()> {
    if builder.is_empty() {
        bail!(crate::vocab::input_error(format!("{}: no claim lines to audit (the input is empty)", builder.sources().join(", "))));
    }
    Ok(())
}
