//! What the generator draws from: a hand-weighted list of common codes per specialty, and pools
//! read from the reference tables in the normalised layouts (PTP pairs, MUE codes, add-on codes,
//! billable ICD-10-CM codes and MCE-flagged codes) for the long tail and for planting errors.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::*;

/// Strings read from tables live as long as the process: the generator is run once per process
/// (CLI) or a few times (tests), and `&'static str` keeps lines free of allocations.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

#[derive(Clone, Copy, Debug)]
pub struct PtpPair {
    pub column1: &'static str,
    pub column2: &'static str,
}

#[derive(Default)]
pub struct Pools {
    /// Active PTP pairs (modifier indicator 0 or 1) with at least one common code.
    pub ptp_pairs: Vec<PtpPair>,
    /// Codes with an MUE of 1..=60 units, for the long tail and MUE plants.
    pub mue_codes: Vec<&'static str>,
    /// Type 1 add-on codes with listed primaries.
    pub addons: Vec<&'static str>,
    /// Every add-on code (any type): never drawn for the long tail.
    pub addon_set: HashSet<&'static str>,
    /// Billable ICD-10-CM codes (with the dot when the list has it).
    pub icd_billable: Vec<&'static str>,
    /// Header (non-billable) ICD-10-CM codes.
    pub icd_headers: Vec<&'static str>,
    /// MCE codes by flag: female, male, newborn, pediatric, maternity, adult, manifestation.
    pub mce_flagged: HashMap<&'static str, Vec<&'static str>>,
    /// MUE limits of the common codes (units, MAI) where the table has them: for unit draws.
    pub mue_limit: HashMap<&'static str, u32>,
    /// NPIs on the OIG exclusion list (LEIE) files, for the excluded-NPI scheme.
    pub leie_npis: Vec<String>,
    pub files: Vec<PathBuf>,
}

fn find_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?.map(|e| e.map(|e| e.path())).collect::<std::io::Result<_>>()?;
    entries.sort();
    for p in entries {
        let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            find_files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn is_csv(name: &str) -> bool {
    name.ends_with(".csv") || name.ends_with(".csv.gz") || name.ends_with(".csv.zst")
}

/// A normalised table as string columns, or None when the file lacks one of `columns` (an
/// official CMS layout, say): the generator then just has no pool from it.
fn read_table(path: &Path, columns: &[&str], filter: Option<Expr>) -> Result<Option<DataFrame>> {
    let lf = LazyCsvReader::new(PlRefPath::new(path.to_str().context("non-UTF-8 path")?))
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_missing_is_null(true)
        .with_truncate_ragged_lines(true)
        .with_glob(false)
        .finish()?;
    let mut lf = lf;
    let schema = lf.collect_schema()?;
    if columns.iter().any(|c| schema.get(c).is_none()) {
        tracing::debug!(file = %path.display(), "not in the normalised layout; no generator pool from it");
        return Ok(None);
    }
    let mut lf = lf.select(columns.iter().map(|c| col(*c)).collect::<Vec<_>>());
    if let Some(f) = filter {
        lf = lf.filter(f);
    }
    Ok(Some(lf.collect()?))
}

fn strs(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    Ok(df.column(name)?.str()?.iter().map(|s| s.map(|s| s.trim().to_string())).collect())
}

impl Pools {
    /// Reads the pools from the tables under `dir`. `common` are the hand-listed codes: PTP
    /// pairs are kept only when one side is common, so planted unbundling looks like practice.
    pub fn load(dir: &Path, common: &[&str]) -> Result<Pools> {
        let mut files = Vec::new();
        find_files(dir, &mut files)?;
        let mut pools = Pools::default();
        let common_series = Series::new("c".into(), common.to_vec());
        let common_set: HashSet<&str> = common.iter().copied().collect();
        for path in &files {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
            if !is_csv(&name) {
                continue;
            }
            let used = if name.contains("ptp") {
                let in_common = |c: &str| col(c).is_in(lit(common_series.clone()).implode(false), false);
                let f = col("deletion_date")
                    .eq(lit("9999-12-31"))
                    .and(col("modifier_indicator").neq(lit("9")))
                    .and(in_common("column_1").or(in_common("column_2")));
                match read_table(path, &["column_1", "column_2", "modifier_indicator", "deletion_date"], Some(f))? {
                    Some(df) => {
                        let (a, b, m) = (strs(&df, "column_1")?, strs(&df, "column_2")?, strs(&df, "modifier_indicator")?);
                        let mut seen = HashSet::new();
                        for ((a, b), m) in a.into_iter().zip(b).zip(m) {
                            let (Some(a), Some(b), Some(m)) = (a, b, m) else { continue };
                            let Ok(ind) = m.parse::<u8>() else { continue };
                            if a == b || !seen.insert((a.clone(), b.clone())) {
                                continue;
                            }
                            if ind <= 1 {
                                pools.ptp_pairs.push(PtpPair { column1: leak(&a), column2: leak(&b) });
                            }
                        }
                        true
                    }
                    None => false,
                }
            } else if name.contains("mue") {
                match read_table(path, &["hcpcs_code", "mue_units"], None)? {
                    Some(df) => {
                        for (c, u) in strs(&df, "hcpcs_code")?.into_iter().zip(strs(&df, "mue_units")?) {
                            let (Some(c), Some(u)) = (c, u) else { continue };
                            let Ok(u) = u.parse::<f64>() else { continue };
                            if c.len() != 5 {
                                continue;
                            }
                            if common_set.contains(c.as_str()) {
                                pools.mue_limit.insert(leak(&c), u as u32);
                            }
                            if (1.0..=60.0).contains(&u) {
                                pools.mue_codes.push(leak(&c));
                            }
                        }
                        true
                    }
                    None => false,
                }
            } else if name.contains("aoc") {
                match read_table(path, &["primary_code", "add_on_code", "aoc_edit_type"], None)? {
                    Some(df) => {
                        let mut type1 = HashSet::new();
                        for ((p, a), t) in strs(&df, "primary_code")?.into_iter().zip(strs(&df, "add_on_code")?).zip(strs(&df, "aoc_edit_type")?) {
                            let (Some(p), Some(a)) = (p, a) else { continue };
                            let a = leak(&a);
                            pools.addon_set.insert(a);
                            if t.as_deref() == Some("1") && p != "CCCCC" && type1.insert(a) {
                                pools.addons.push(a);
                            }
                        }
                        true
                    }
                    None => false,
                }
            } else if name.starts_with("icd10cm") {
                match read_table(path, &["code", "billable"], None)? {
                    Some(df) => {
                        for (c, b) in strs(&df, "code")?.into_iter().zip(strs(&df, "billable")?) {
                            let (Some(c), Some(b)) = (c, b) else { continue };
                            if b.eq_ignore_ascii_case("Y") {
                                pools.icd_billable.push(leak(&c));
                            } else {
                                pools.icd_headers.push(leak(&c));
                            }
                        }
                        true
                    }
                    None => false,
                }
            } else if name.contains("dx_master") {
                match read_table(path, &["code", "flags"], Some(col("flags").is_not_null()))? {
                    Some(df) => {
                        let mut seen: HashSet<(&str, String)> = HashSet::new();
                        for (c, f) in strs(&df, "code")?.into_iter().zip(strs(&df, "flags")?) {
                            let (Some(c), Some(f)) = (c, f) else { continue };
                            for flag in f.split('|') {
                                let flag = flag.trim();
                                let key = match flag {
                                    "female" => "female",
                                    "male" => "male",
                                    "newborn" => "newborn",
                                    "pediatric" => "pediatric",
                                    "maternity" => "maternity",
                                    "adult" => "adult",
                                    "manifestation" => "manifestation",
                                    _ => continue,
                                };
                                if seen.insert((key, c.clone())) {
                                    pools.mce_flagged.entry(key).or_default().push(leak(&c));
                                }
                            }
                        }
                        true
                    }
                    None => false,
                }
            } else if name.contains("leie") || name.contains("exclu") || path.parent().is_some_and(|d| d.ends_with("leie")) {
                match read_table(path, &["npi"], None)? {
                    Some(df) => {
                        pools.leie_npis.extend(strs(&df, "npi")?.into_iter().flatten().filter(|n| n.len() == 10 && n != "0000000000"));
                        true
                    }
                    None => false,
                }
            } else {
                false
            };
            if used {
                pools.files.push(path.clone());
            }
        }
        // Add-ons never stand alone in the long tail.
        let addon_set = pools.addon_set.clone();
        pools.mue_codes.retain(|c| !addon_set.contains(c));
        Ok(pools)
    }
}
