//! Reading delimited tables through Polars. Everything arrives as string columns in batches from
//! the streaming engine, so a 195 MB decompressed PTP file never sits in memory whole: each batch
//! is folded into the native index and dropped. Members of zips are decompressed into memory and
//! read in one batch.

use super::detect::{Plan, Reader};
use super::source::SourceFile;
use anyhow::{anyhow, bail, Result};
use polars::prelude::*;
use std::path::Path;

pub(crate) fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| anyhow!("path is not UTF-8: {}", path.display()))
}

/// Column names of a Parquet file.
pub(crate) fn parquet_columns(path: &Path) -> Result<Vec<String>> {
    let mut lf = LazyFrame::scan_parquet(PlRefPath::new(path_str(path)?), parquet_args())?;
    let schema = lf.collect_schema()?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

fn parquet_args() -> ScanArgsParquet {
    ScanArgsParquet { glob: false, ..Default::default() }
}

/// Split one text line into cells: tab-separated when it holds a tab, else CSV with quotes.
pub(crate) fn split_line(line: &str) -> (u8, Vec<String>) {
    if line.contains('\t') {
        return (b'\t', line.split('\t').map(|c| c.trim().trim_matches('"').trim().to_string()).collect());
    }
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => cells.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    cells.push(cur.trim().to_string());
    (b',', cells)
}

/// Lower-case, single-spaced header cell for matching.
pub(crate) fn norm_header(cell: &str) -> String {
    cell.trim_start_matches('\u{feff}').split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase()
}

/// Read the plan's `columns` (by index) as strings and hand every batch to `f`, in file order.
pub(crate) fn for_each_batch(src: &SourceFile, plan: &Plan, wanted: &[usize], mut f: impl FnMut(&[&StringChunked]) -> Result<()>) -> Result<()> {
    let columns: Vec<String> = wanted.iter().map(|&i| plan.columns[i].clone()).collect();
    let exprs: Vec<Expr> = columns.iter().map(|c| col(c.as_str()).cast(DataType::String)).collect();
    let csv_schema = |ncols: usize| {
        // Every column as text: codes such as 0001A or 01 must keep their leading zeros.
        Arc::new(Schema::from_iter((0..ncols).map(|i| Field::new(format!("c{i}").into(), DataType::String))))
    };
    if !src.on_disk() {
        let Reader::Csv { sep, quote, ncols, skip_rows } = plan.reader else {
            bail!("{}: only delimited text is read from inside a zip", src.shown.display());
        };
        let bytes = src.bytes()?;
        let df = CsvReadOptions::default()
            .with_has_header(false)
            .with_skip_rows(skip_rows)
            .with_schema(Some(csv_schema(ncols)))
            .map_parse_options(|p| {
                p.with_separator(sep)
                    .with_quote_char(quote)
                    .with_truncate_ragged_lines(true)
                    .with_missing_is_null(true)
                    .with_encoding(CsvEncoding::LossyUtf8)
            })
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| anyhow!("reading {}: {e}", src.shown.display()))?;
        let df = df.lazy().select(exprs).collect()?;
        let cols: Vec<&StringChunked> = columns.iter().map(|c| Ok(df.column(c.as_str())?.str()?)).collect::<Result<_>>()?;
        return f(&cols);
    }
    let path = &src.path;
    let p = PlRefPath::new(path_str(path)?);
    let lf = match plan.reader {
        Reader::Csv { sep, quote, ncols, skip_rows } => LazyCsvReader::new(p)
            .with_has_header(false)
            .with_skip_rows(skip_rows)
            .with_schema(Some(csv_schema(ncols)))
            .with_separator(sep)
            .with_quote_char(quote)
            .with_truncate_ragged_lines(true)
            .with_missing_is_null(true)
            .with_glob(false)
            .with_encoding(CsvEncoding::LossyUtf8)
            .finish()?,
        Reader::Parquet => LazyFrame::scan_parquet(p, parquet_args())?,
        Reader::Native => bail!("{}: not a delimited table", src.shown.display()),
    };
    let lf = lf.select(exprs);

    // The streaming engine calls back from its own threads; a bounded channel hands the batches
    // to this thread so `f` may borrow local state, and back-pressure keeps memory flat.
    let (tx, rx) = std::sync::mpsc::sync_channel::<DataFrame>(2);
    let lf = lf.sink_batches(PlanCallback::new(move |df: DataFrame| Ok(tx.send(df).is_err())), true, None)?;
    std::thread::scope(|scope| -> Result<()> {
        let runner = scope.spawn(move || lf.collect_with_engine(Engine::Streaming).map(|_| ()));
        let mut result = Ok(());
        for df in rx {
            let cols: Result<Vec<&StringChunked>> = columns.iter().map(|c| Ok(df.column(c.as_str())?.str()?)).collect();
            if let Err(e) = cols.and_then(|cols| f(&cols)) {
                result = Err(e);
                // Dropping the receiver (by leaving the loop) tells the sink to stop.
                break;
            }
        }
        let ran = runner.join().map_err(|_| anyhow!("Polars reader thread panicked"))?;
        result?;
        ran.map_err(|e| anyhow!("reading {}: {e}", path.display()))?;
        Ok(())
    })
}

/// The lines of a text file the loader splits itself (fixed-width records), decompressed.
pub(crate) fn text_lines(src: &SourceFile) -> Result<String> {
    let bytes = src.bytes()?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        // CMS text files are mostly ASCII, with the odd Windows-1252 character in a description.
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    })
}

/// Index of the first header cell satisfying `pred`.
pub(crate) fn find_col(header: &[String], pred: impl Fn(&str) -> bool) -> Option<usize> {
    header.iter().position(|h| pred(h))
}

pub(crate) fn require_col(header: &[String], name: &str, path: &Path) -> Result<usize> {
    match find_col(header, |h| h == name) {
        Some(i) => Ok(i),
        None => bail!("{}: missing column {name:?}", path.display()),
    }
}
