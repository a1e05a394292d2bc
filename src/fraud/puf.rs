//! `claimlint peers`: the provider indicators on aggregated data, without claim lines, from the
//! CMS "Medicare Physician & Other Practitioners — by Provider and Service" layout.
//!
//! Each PUF row (rendering NPI × HCPCS × place of service) becomes one canonical line: units =
//! Tot_Srvcs, charge = Avg_Sbmtd_Chrg × Tot_Srvcs, specialty = Rndrng_Prvdr_Type. The normal
//! engine then runs the fraud rules tagged `peers` (those that need only per-provider code
//! totals: add-on ratios, charge outliers, E/M mix, modifier rates). The descriptor column
//! (HCPCS_Desc, AMA text for CPT codes) is never read.

use std::path::Path;

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::batch::build::BatchBuilder;
use crate::load::LoadedClaims;
use crate::vocab::input_error;
use crate::vocab::FileAccounting;

/// Columns of the PUF layout that are read.
pub const PUF_COLUMNS: [&str; 6] = ["Rndrng_NPI", "Rndrng_Prvdr_Type", "HCPCS_Cd", "Place_Of_Srvc", "Tot_Srvcs", "Avg_Sbmtd_Chrg"];

/// The data year from a file name such as `..._2021.csv.gz`, for the lines' date of service.
fn year_in_name(path: &Path) -> Option<i32> {
    let name = path.file_name()?.to_string_lossy().to_string();
    let digits: Vec<char> = name.chars().collect();
    (0..digits.len().saturating_sub(3)).rev().find_map(|i| {
        let s: String = digits[i..i + 4].iter().collect();
        s.parse::<i32>().ok().filter(|y| (2000..=2100).contains(y) && (i == 0 || !digits[i - 1].is_ascii_digit()))
    })
}

/// Only `columns` of a PUF file (CSV, optionally gzip-compressed), all as text.
fn read_columns(path: &Path, columns: &[&str]) -> Result<DataFrame> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_columns(Some(columns.iter().map(|c| PlSmallStr::from(*c)).collect::<Vec<_>>().into()))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| {
            input_error(format!(
                "{}: not a CMS Physician & Other Practitioners by Provider and Service file (needs the columns {}): {e}",
                path.display(),
                columns.join(", ")
            ))
        })
}

/// Reads one PUF file as canonical claim lines.
pub fn load_puf(path: &Path) -> Result<LoadedClaims> {
    let name = path.display().to_string();
    let df = read_columns(path, &PUF_COLUMNS)?;
    if df.height() == 0 {
        bail!(input_error(format!("{name}: no rows")));
    }
    let year = year_in_name(path).unwrap_or(2000);
    let num = |c: &str| col(c).str().replace_all(lit(","), lit(""), true).cast(DataType::Float64);
    let mapped = df
        .lazy()
        .with_row_index("_row_index", Some(2))
        .select([
            concat_str([col("Rndrng_NPI"), col("HCPCS_Cd"), col("Place_Of_Srvc")], "-", true).alias("claim_id"),
            col("Rndrng_NPI").alias("rendering_npi"),
            col("Rndrng_NPI").alias("billing_npi"),
            col("Rndrng_Prvdr_Type").alias("provider_specialty"),
            col("HCPCS_Cd").alias("procedure_code"),
            col("Tot_Srvcs").alias("units"),
            (num("Avg_Sbmtd_Chrg") * num("Tot_Srvcs")).cast(DataType::String).alias("charge_amount"),
            lit(format!("{year}-01-01")).alias("service_date_from"),
            lit("").alias("patient_id"),
            col("_row_index").cast(DataType::UInt32).alias("_row"),
        ])
        .collect()
        .map_err(|e| input_error(format!("{name}: mapping the PUF columns: {e}")))?;
    let mut builder = BatchBuilder::new();
    let source = builder.add_source(&name);
    builder.append_canonical(&mapped, source)?;
    let (batch, issues) = builder.finish()?;
    let sources = batch.sources.clone();
    let accounting = vec![FileAccounting { source: name, format: "puf".into(), lines_read: batch.len as u64, ..Default::default() }];
    Ok(LoadedClaims { batch, sources, issues, accounting })
}

/// Services per HCPCS code for each provider type (lower-cased), summed over an external PUF
/// file: the peer distribution a batch's providers are compared with (`audit --peers`).
pub type ExternalPeers = std::collections::HashMap<String, std::collections::HashMap<String, f64>>;

pub fn external_peers(path: &Path) -> Result<ExternalPeers> {
    let name = path.display().to_string();
    let df = read_columns(path, &["Rndrng_Prvdr_Type", "HCPCS_Cd", "Tot_Srvcs"])?;
    let totals = df
        .lazy()
        .group_by([col("Rndrng_Prvdr_Type").str().to_lowercase().alias("kind"), col("HCPCS_Cd").alias("code")])
        .agg([col("Tot_Srvcs").str().replace_all(lit(","), lit(""), true).cast(DataType::Float64).sum().alias("services")])
        .collect()
        .map_err(|e| input_error(format!("{name}: {e}")))?;
    let (kind, code, services) = (totals.column("kind")?.str()?, totals.column("code")?.str()?, totals.column("services")?.f64()?);
    let mut out = ExternalPeers::new();
    for i in 0..totals.height() {
        if let (Some(k), Some(c), Some(s)) = (kind.get(i), code.get(i), services.get(i)) {
            out.entry(k.trim().to_string()).or_default().insert(c.trim().to_uppercase(), s);
        }
    }
    Ok(out)
}
