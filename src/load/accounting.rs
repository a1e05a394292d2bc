//! What the inputs gave, per file and in total: lines and claims read, audited and rejected,
//! and the encoding used. Shown by the summary, the report and `accounting.csv`.

use serde::Serialize;

use crate::vocab::FileAccounting;

/// The files' accounting added up; read = audited + rejected, for lines and for claims.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountingTotals {
    pub files: usize,
    pub lines_read: u64,
    pub lines_audited: u64,
    pub lines_rejected: u64,
    pub claims_read: u64,
    pub claims_audited: u64,
    pub claims_rejected: u64,
}

pub fn totals(files: &[FileAccounting]) -> AccountingTotals {
    let mut t = AccountingTotals { files: files.len(), ..AccountingTotals::default() };
    for f in files {
        t.lines_read += f.lines_read;
        t.lines_audited += f.lines_audited();
        t.lines_rejected += f.lines_rejected.min(f.lines_read);
        t.claims_read += f.claims_read;
        t.claims_audited += f.claims_read - f.claims_rejected.min(f.claims_read);
        t.claims_rejected += f.claims_rejected.min(f.claims_read);
    }
    t
}

/// Files listed one by one in the summary; beyond this, only files that lost lines or claims.
const LISTED_FILES: usize = 5;

/// Lines for the run summary: the totals, then the files (or those that lost something).
pub fn summary_lines(files: &[FileAccounting]) -> Vec<String> {
    let t = totals(files);
    let mut out = vec![format!(
        "input: {} lines read, {} audited, {} rejected; {} claims read, {} audited, {} rejected",
        t.lines_read, t.lines_audited, t.lines_rejected, t.claims_read, t.claims_audited, t.claims_rejected
    )];
    let all = files.len() <= LISTED_FILES;
    for f in files.iter().filter(|f| all || f.lines_rejected > 0 || f.claims_rejected > 0) {
        let encoding = f.encoding.as_deref().map(|e| format!(", {e}")).unwrap_or_default();
        out.push(format!(
            "  {} ({}{encoding}): {} lines read, {} audited, {} rejected; {} claims read, {} rejected",
            f.source,
            f.format,
            f.lines_read,
            f.lines_audited(),
            f.lines_rejected,
            f.claims_read,
            f.claims_rejected
        ));
    }
    out
}

/// `accounting.csv`: one row per file, then a TOTAL row.
pub fn to_csv(files: &[FileAccounting]) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("source,format,encoding,lines_read,lines_audited,lines_rejected,claims_read,claims_audited,claims_rejected\n");
    for f in files {
        out += &format!(
            "{},{},{},{},{},{},{},{},{}\n",
            quote(&f.source),
            f.format,
            quote(f.encoding.as_deref().unwrap_or("")),
            f.lines_read,
            f.lines_audited(),
            f.lines_rejected,
            f.claims_read,
            f.claims_read - f.claims_rejected.min(f.claims_read),
            f.claims_rejected
        );
    }
    let t = totals(files);
    out +=
        &format!("TOTAL,,,{},{},{},{},{},{}\n", t.lines_read, t.lines_audited, t.lines_rejected, t.claims_read, t.claims_audited, t.claims_rejected);
    out
}
