//! Types the text frame: dates, amounts, units and line numbers, with every unreadable value
//! reported as a data-quality issue carrying its file and row.

use anyhow::Result;
use polars::prelude::*;

use crate::vocab::DataIssue;
use crate::schema::{Kind, COLUMNS};

/// Date layouts accepted in claim files, tried in order.
const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y%m%d", "%m/%d/%Y"];

/// Columns whose values are codes: trimmed and upper-cased so "99213 " and "99213" agree.
const CODE_COLUMNS: &[&str] = &[
    "procedure_code", "modifier_1", "modifier_2", "modifier_3", "modifier_4", "patient_sex", "dx_pointers",
    "dx_1", "dx_2", "dx_3", "dx_4", "dx_5", "dx_6", "dx_7", "dx_8", "dx_9", "dx_10", "dx_11", "dx_12",
    "revenue_code", "principal_procedure_code", "other_procedure_codes",
];

pub fn normalise(raw: DataFrame, sources: &[String], issues: &mut Vec<DataIssue>) -> Result<DataFrame> {
    // Blank text is missing text: trim first so typing sees clean values.
    let mut trim = Vec::new();
    for c in COLUMNS {
        let mut e = col(c.name).str().strip_chars(lit(NULL));
        if CODE_COLUMNS.contains(&c.name) {
            e = e.str().to_uppercase();
        }
        trim.push(when(e.clone().eq(lit(""))).then(lit(NULL).cast(DataType::String)).otherwise(e).alias(c.name));
    }
    let text = raw.lazy().with_columns(trim).collect()?;

    let mut typed = Vec::new();
    for c in COLUMNS {
        let e = match c.kind {
            Kind::Text => continue,
            Kind::Date => {
                let tries: Vec<Expr> = DATE_FORMATS
                    .iter()
                    .map(|f| {
                        col(c.name).str().to_date(StrptimeOptions {
                            format: Some((*f).into()),
                            strict: false,
                            exact: true,
                            cache: true,
                        })
                    })
                    .collect();
                coalesce(&tries)
            }
            Kind::Number | Kind::Integer => {
                // `$1,200.00` is a readable amount; strip what people type around numbers.
                let cleaned = col(c.name).str().replace_all(lit(","), lit(""), true).str().strip_chars(lit("$ "));
                let f = cleaned.cast(DataType::Float64);
                if c.kind == Kind::Integer {
                    when(f.clone().eq(f.clone().floor())).then(f.cast(DataType::Int64)).otherwise(lit(NULL).cast(DataType::Int64))
                } else {
                    f
                }
            }
        };
        typed.push(e.alias(format!("{}__typed", c.name)));
    }
    let mut frame = text.lazy().with_columns(typed).collect()?;
    collect_unreadable(&frame, sources, issues)?;

    // Replace text columns by their typed versions.
    let mut select: Vec<Expr> = Vec::new();
    for c in COLUMNS {
        if c.kind == Kind::Text {
            select.push(col(c.name));
        } else {
            select.push(col(format!("{}__typed", c.name)).alias(c.name));
        }
    }
    select.push(col("_source"));
    select.push(col("_row"));
    frame = frame.lazy().select(select).collect()?;
    frame = fill_defaults(frame)?;
    Ok(frame)
}

fn collect_unreadable(frame: &DataFrame, sources: &[String], issues: &mut Vec<DataIssue>) -> Result<()> {
    let src = frame.column("_source")?.u32()?;
    let row = frame.column("_row")?.u32()?;
    let claim = frame.column("claim_id")?.str()?;
    let line = frame.column("line_number")?.str()?;
    let charge = frame.column("charge_amount__typed")?.f64()?;
    for c in COLUMNS.iter().filter(|c| c.kind != Kind::Text) {
        let raw = frame.column(c.name)?.str()?;
        let typed = frame.column(&format!("{}__typed", c.name))?;
        let typed_nulls = typed.is_null();
        let bad = raw.is_not_null() & typed_nulls;
        if !bad.any() {
            continue;
        }
        let expected = match c.kind {
            Kind::Date => "a date (YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY)",
            Kind::Number => "a number",
            Kind::Integer => "a whole number",
            Kind::Text => unreachable!(),
        };
        for (i, is_bad) in bad.iter().enumerate() {
            if is_bad != Some(true) {
                continue;
            }
            let s = src.get(i).unwrap_or(0) as usize;
            issues.push(DataIssue {
                source: sources.get(s).cloned().unwrap_or_default(),
                row: row.get(i),
                claim_id: claim.get(i).map(str::to_owned),
                line_number: line.get(i).and_then(|l| l.parse().ok()),
                rule_id: "DQ-UNREADABLE-VALUE",
                severity: crate::vocab::Severity::Error,
                message: format!(
                    "{} `{}` is not {expected}; the line is audited without it",
                    c.name,
                    raw.get(i).unwrap_or_default()
                ),
                amount_at_risk: charge.get(i).unwrap_or(0.0),
            });
        }
    }
    Ok(())
}

/// Derived defaults: service_date_to = from, line numbers by file order within a claim, and the
/// claim type from institutional columns.
fn fill_defaults(frame: DataFrame) -> Result<DataFrame> {
    let mut frame = frame
        .lazy()
        .with_columns([
            col("service_date_to").fill_null(col("service_date_from")),
            col("place_of_service").str().zfill(lit(2)),
            when(col("claim_type").is_null())
                .then(
                    when(col("type_of_bill").is_not_null().or(col("revenue_code").is_not_null()))
                        .then(lit("institutional"))
                        .otherwise(lit("professional")),
                )
                .otherwise(col("claim_type").str().to_lowercase())
                .alias("claim_type"),
        ])
        .collect()?;
    number_missing_lines(&mut frame)?;
    Ok(frame)
}

fn number_missing_lines(frame: &mut DataFrame) -> Result<()> {
    let lines = frame.column("line_number")?.i64()?;
    if lines.null_count() == 0 {
        return Ok(());
    }
    let claims = frame.column("claim_id")?.str()?;
    let mut next: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(frame.height());
    for (claim, line) in claims.iter().zip(lines.iter()) {
        let counter = next.entry(claim.unwrap_or("")).or_insert(0);
        *counter = line.unwrap_or(*counter + 1).max(*counter);
        out.push(line.unwrap_or(*counter));
    }
    frame.with_column(Column::new("line_number".into(), out))?;
    Ok(())
}
