//! Recognising a reference table from its header (and, where headers are ambiguous, its name):
//! the normalised layouts have the header on the first line; the official CMS downloads open with
//! a copyright preamble, so their header is searched for in the first lines.

use super::read::{self, Source};
use super::TableKind;
use anyhow::Result;
use std::path::Path;

/// How to read one recognised file.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub kind: TableKind,
    pub source: Source,
    /// Normalised (lower-case, single-spaced) header cells.
    pub header: Vec<String>,
    /// Names to select from the Polars frame, index-aligned with `header`.
    pub columns: Vec<String>,
    /// An official CMS layout (preamble rows are skipped by content, not position).
    pub official: bool,
}

impl Plan {
    pub fn col(&self, pred: impl Fn(&str) -> bool) -> Option<usize> {
        self.header.iter().position(|h| pred(h))
    }

    pub fn named(&self, name: &str) -> Option<usize> {
        self.col(|h| h == name)
    }
}

const TEXT_EXTS: [&str; 3] = ["csv", "txt", "tsv"];

/// The kind of table in `path`, or why it is not one. Errors only when a file cannot be read.
pub(crate) fn detect(path: &Path) -> Result<std::result::Result<Plan, String>> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let base = name.trim_end_matches(".gz").trim_end_matches(".zst");
    let ext = base.rsplit('.').next().unwrap_or("");
    if read::is_parquet(Path::new(base)) {
        let raw = read::parquet_columns(path)?;
        let header: Vec<String> = raw.iter().map(|h| read::norm_header(h)).collect();
        return Ok(match classify_normalised(base, &header) {
            Ok(kind) => Ok(Plan {
                kind,
                source: Source::Parquet,
                header,
                columns: raw,
                official: false,
            }),
            Err(why) => Err(why),
        });
    }
    if !TEXT_EXTS.contains(&ext) {
        return Ok(Err(
            "not a table file (csv, txt, tsv or parquet, optionally .gz)".into(),
        ));
    }
    let lines = read::peek_lines(path, 80)?;
    let Some(first) = lines.iter().find(|l| !l.trim().is_empty()) else {
        return Ok(Err("empty file".into()));
    };
    let (sep, cells) = read::split_line(first);
    let header: Vec<String> = cells.iter().map(|c| read::norm_header(c)).collect();
    let leading_blank = lines.iter().take_while(|l| l.trim().is_empty()).count();
    match classify_normalised(base, &header) {
        Ok(kind) => {
            let ncols = header.len();
            let source = Source::Csv {
                sep,
                quote: Some(b'"'),
                ncols,
                skip_rows: leading_blank + 1,
            };
            let columns = (0..ncols).map(|i| format!("c{i}")).collect();
            return Ok(Ok(Plan {
                kind,
                source,
                header,
                columns,
                official: false,
            }));
        }
        Err(why) if why != UNRECOGNISED => return Ok(Err(why)),
        Err(_) => {}
    }
    for line in &lines {
        let (sep, cells) = read::split_line(line);
        let header: Vec<String> = cells.iter().map(|c| read::norm_header(c)).collect();
        match classify_official(base, &header) {
            Ok((kind, min_cols)) => {
                let ncols = header.len().max(min_cols);
                // Tab files are unquoted; a stray quote in a rationale must not swallow lines.
                let quote = if sep == b'\t' { None } else { Some(b'"') };
                let source = Source::Csv {
                    sep,
                    quote,
                    ncols,
                    skip_rows: 0,
                };
                let columns = (0..ncols).map(|i| format!("c{i}")).collect();
                return Ok(Ok(Plan {
                    kind,
                    source,
                    header,
                    columns,
                    official: true,
                }));
            }
            Err(why) if why != UNRECOGNISED => return Ok(Err(why)),
            Err(_) => {}
        }
    }
    Ok(Err(UNRECOGNISED.into()))
}

const UNRECOGNISED: &str = "no recognised reference-table header";

fn has(h: &[String], name: &str) -> bool {
    h.iter().any(|c| c == name)
}

fn has_any(h: &[String], names: &[&str]) -> bool {
    names.iter().any(|n| has(h, n))
}

fn classify_normalised(name: &str, h: &[String]) -> std::result::Result<TableKind, String> {
    use TableKind::*;
    if has(h, "column_1") && has(h, "column_2") {
        return Ok(Ptp);
    }
    if has(h, "hcpcs_code") && has(h, "mue_units") {
        return Ok(Mue);
    }
    if has_any(
        h,
        &["add_on_code", "addon_code", "add-on code", "add on code"],
    ) && has_any(h, &["primary_code", "primary code"])
    {
        return Ok(Aoc);
    }
    if has(h, "code") && has(h, "start_date") && has(h, "end_date") && has(h, "flags") {
        if name.contains("pcs") {
            return Err(
                "ICD-10-PCS (procedure) master: not used for claims diagnosis edits".into(),
            );
        }
        return Ok(Mce);
    }
    if has(h, "age_group") && has(h, "min_age") && has(h, "max_age") {
        return Ok(MceAges);
    }
    if has(h, "code") && has(h, "billable") {
        return Ok(Icd10);
    }
    if has(h, "code") && has(h, "minutes_per_unit") {
        return Ok(ServiceMinutes);
    }
    if has(h, "pos_code") {
        return Ok(Pos);
    }
    if has(h, "modifier") {
        return Ok(Modifiers);
    }
    if has(h, "npi")
        && (has_any(h, &["excldate", "exclusion_date", "excl_date"])
            || ["leie", "exclu", "oig"].iter().any(|k| name.contains(k)))
    {
        return Ok(Leie);
    }
    let code = has(h, "code");
    if code && (has_any(h, &["seqnum", "recid"]) || name.contains("hcpcs")) {
        return Ok(Hcpcs);
    }
    if (code || has_any(h, &["revenue_code", "rev_code"])) && name.contains("revenue") {
        return Ok(Revenue);
    }
    if code && name.contains("cpt") {
        return Ok(Cpt);
    }
    Err(UNRECOGNISED.into())
}

/// Official layouts: (kind, number of columns the layout defines).
fn classify_official(name: &str, h: &[String]) -> std::result::Result<(TableKind, usize), String> {
    let any = |pred: &dyn Fn(&str) -> bool| h.iter().any(|c| pred(c));
    if has(h, "column 1") && has(h, "column 2") {
        if ["ccioph", "hospital", "outpatient"]
            .iter()
            .any(|k| name.contains(k))
        {
            return Err(
                "hospital outpatient PTP edits: this pack uses the practitioner edits".into(),
            );
        }
        return Ok((TableKind::Ptp, 7));
    }
    if any(&|c| c.starts_with("hcpcs/cpt code")) && any(&|c| c.contains("mue")) {
        if any(&|c| c.contains("mue values") && !c.contains("practitioner")) {
            return Err(
                "MUE table for another service type: this pack uses the practitioner MUEs".into(),
            );
        }
        return Ok((TableKind::Mue, 4));
    }
    if any(&|c| c.starts_with("primary code")) && any(&|c| add_on_code_cell(c)) {
        return Ok((TableKind::Aoc, 3));
    }
    Err(UNRECOGNISED.into())
}

pub(crate) fn add_on_code_cell(c: &str) -> bool {
    let c = c.replace(['-', '_'], " ");
    (c.starts_with("add on code") || c.starts_with("addon code")) && !c.contains("date")
}
