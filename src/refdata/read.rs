//! Reading tables through Polars. Everything arrives as string columns in batches from the
//! streaming engine, so a 195 MB decompressed PTP file never sits in memory whole: each batch is
//! folded into the native index and dropped.

use anyhow::{anyhow, bail, Result};
use polars::prelude::*;
use std::path::Path;

/// How a file's rows are laid out.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// Delimited text (optionally gzip/zstd-compressed) read by position into `ncols` string
    /// columns `c0..`, skipping `skip_rows` rows first (1 for the normalised layouts' header).
    /// Official CMS files keep `skip_rows` at 0: their preamble and header rows are dropped by the
    /// row parsers because the first cell is not a code, which survives preambles of any length.
    Csv {
        sep: u8,
        quote: Option<u8>,
        ncols: usize,
        skip_rows: usize,
    },
    Parquet,
}

pub(crate) fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| anyhow!("path is not UTF-8: {}", path.display()))
}

/// The first lines of a text table (decompressed when needed), for detecting its kind.
pub(crate) fn peek_lines(path: &Path, n: usize) -> Result<Vec<String>> {
    let schema = Schema::from_iter([Field::new("line".into(), DataType::String)]);
    // One column per line: a separator that never occurs and no quoting.
    let df = CsvReadOptions::default()
        .with_has_header(false)
        .with_n_rows(Some(n))
        .with_schema(Some(Arc::new(schema)))
        .with_ignore_errors(true)
        .map_parse_options(|p| {
            p.with_separator(0x1f)
                .with_quote_char(None)
                .with_truncate_ragged_lines(true)
                .with_encoding(CsvEncoding::LossyUtf8)
        })
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()
        .map_err(|e| anyhow!("reading the first lines of {}: {e}", path.display()))?;
    let col = df.column("line")?.str()?;
    Ok(col
        .iter()
        .map(|l| l.unwrap_or("").trim_end_matches('\r').to_string())
        .collect())
}

/// Column names of a Parquet file.
pub(crate) fn parquet_columns(path: &Path) -> Result<Vec<String>> {
    let mut lf = LazyFrame::scan_parquet(PlRefPath::new(path_str(path)?), parquet_args())?;
    let schema = lf.collect_schema()?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

fn parquet_args() -> ScanArgsParquet {
    ScanArgsParquet {
        glob: false,
        ..Default::default()
    }
}

/// Split one text line into cells: tab-separated when it holds a tab, else CSV with quotes.
pub(crate) fn split_line(line: &str) -> (u8, Vec<String>) {
    if line.contains('\t') {
        return (
            b'\t',
            line.split('\t')
                .map(|c| c.trim().trim_matches('"').trim().to_string())
                .collect(),
        );
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
    cell.trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// Read `columns` of the file as strings and hand every batch to `f`, in file order.
/// For `Csv` sources the names are `c0`, `c1`, ...; for Parquet the file's own names.
pub(crate) fn for_each_batch(
    path: &Path,
    source: &Source,
    columns: &[String],
    mut f: impl FnMut(&[&StringChunked]) -> Result<()>,
) -> Result<()> {
    let p = PlRefPath::new(path_str(path)?);
    let lf = match source {
        Source::Csv {
            sep,
            quote,
            ncols,
            skip_rows,
        } => {
            // Every column as text: codes such as 0001A or 01 must keep their leading zeros.
            let schema = Schema::from_iter(
                (0..*ncols).map(|i| Field::new(format!("c{i}").into(), DataType::String)),
            );
            LazyCsvReader::new(p)
                .with_has_header(false)
                .with_skip_rows(*skip_rows)
                .with_schema(Some(Arc::new(schema)))
                .with_separator(*sep)
                .with_quote_char(*quote)
                .with_truncate_ragged_lines(true)
                .with_missing_is_null(true)
                .with_glob(false)
                .with_encoding(CsvEncoding::LossyUtf8)
                .finish()?
        }
        Source::Parquet => LazyFrame::scan_parquet(p, parquet_args())?,
    };
    let exprs: Vec<Expr> = columns
        .iter()
        .map(|c| col(c.as_str()).cast(DataType::String))
        .collect();
    let lf = lf.select(exprs);

    // The streaming engine calls back from its own threads; a bounded channel hands the batches
    // to this thread so `f` may borrow local state, and back-pressure keeps memory flat.
    let (tx, rx) = std::sync::mpsc::sync_channel::<DataFrame>(2);
    let lf = lf.sink_batches(
        PlanCallback::new(move |df: DataFrame| Ok(tx.send(df).is_err())),
        true,
        None,
    )?;
    std::thread::scope(|scope| -> Result<()> {
        let runner = scope.spawn(move || lf.collect_with_engine(Engine::Streaming).map(|_| ()));
        let mut result = Ok(());
        for df in rx {
            let cols: Result<Vec<&StringChunked>> = columns
                .iter()
                .map(|c| Ok(df.column(c.as_str())?.str()?))
                .collect();
            if let Err(e) = cols.and_then(|cols| f(&cols)) {
                result = Err(e);
                // Dropping the receiver (by leaving the loop) tells the sink to stop.
                break;
            }
        }
        let ran = runner
            .join()
            .map_err(|_| anyhow!("Polars reader thread panicked"))?;
        result?;
        ran.map_err(|e| anyhow!("reading {}: {e}", path.display()))?;
        Ok(())
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
