//! Rule files: a `.rhai` script that opens with a YAML metadata block in a comment,
//!
//! ```text
//! /*---
//! id: CORE-UNITS-POSITIVE
//! ...
//! ---*/
//! if units <= 0.0 { flag(`...`) }
//! ```
//!
//! The block stays in the script Rhai compiles (it is a comment), so Rhai's line and column
//! numbers are the file's own.

use std::fmt;
use std::path::{Path, PathBuf};

use super::meta::RuleMeta;

/// A problem in a rule or pack file, located to its line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub is_warning: bool,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_warning { "warning" } else { "error" };
        write!(f, "{}:{}:{}: {kind}: {}", self.path.display(), self.line, self.column, self.message)
    }
}

impl Diagnostic {
    pub fn error(path: &Path, line: usize, column: usize, message: impl Into<String>) -> Self {
        Diagnostic { path: path.to_path_buf(), line, column, message: message.into(), is_warning: false }
    }
    pub fn warning(path: &Path, line: usize, column: usize, message: impl Into<String>) -> Self {
        Diagnostic { is_warning: true, ..Self::error(path, line, column, message) }
    }
}

/// A rule file split into metadata and script.
#[derive(Debug, Clone)]
pub struct RuleSource {
    pub path: PathBuf,
    pub meta: RuleMeta,
    /// The whole file text; compiled as is so positions match the file.
    pub text: String,
}

const OPEN: &str = "/*---";
const CLOSE: &str = "---*/";

/// Converts a serde_yaml error inside the block to a file position.
pub fn yaml_diagnostic(path: &Path, first_yaml_line: usize, err: &serde_yaml::Error) -> Diagnostic {
    let (line, column) = err.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
    // serde_yaml says "at line X column Y" in its message too; the position is ours, so drop it.
    let msg = err.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    Diagnostic::error(path, first_yaml_line + line - 1, column, format!("metadata: {msg}"))
}

pub fn parse_rule_text(path: &Path, text: String) -> Result<RuleSource, Diagnostic> {
    let start = text
        .find(OPEN)
        .filter(|&i| text[..i].trim().is_empty())
        .ok_or_else(|| Diagnostic::error(path, 1, 1, format!("a rule file must open with a `{OPEN}` YAML metadata block closed by `{CLOSE}`")))?;
    let after_open = start + OPEN.len();
    let end = text[after_open..].find(CLOSE).map(|i| after_open + i).ok_or_else(|| {
        let line = text[..start].lines().count() + 1;
        Diagnostic::error(path, line, 1, format!("the metadata block is not closed by `{CLOSE}`"))
    })?;
    let yaml = &text[after_open..end];
    // File line on which the YAML body starts: the line after `/*---`.
    let open_line = text[..after_open].matches('\n').count() + 1;
    let (yaml_body, body_line) = match yaml.strip_prefix('\n') {
        Some(body) => (body, open_line + 1),
        None => (yaml, open_line),
    };
    let meta: RuleMeta = serde_yaml::from_str(yaml_body).map_err(|e| yaml_diagnostic(path, body_line, &e))?;
    validate_meta(path, body_line, yaml_body, &meta)?;
    Ok(RuleSource { path: path.to_path_buf(), meta, text })
}

/// Checks serde cannot express: non-empty ids, ordered effective dates.
fn validate_meta(path: &Path, first_line: usize, yaml: &str, meta: &RuleMeta) -> Result<(), Diagnostic> {
    let key_line =
        |key: &str| yaml.lines().position(|l| l.trim_start().starts_with(&format!("{key}:"))).map(|i| first_line + i).unwrap_or(first_line);
    if meta.id.trim().is_empty() || meta.id.contains(char::is_whitespace) {
        return Err(Diagnostic::error(path, key_line("id"), 1, "metadata: `id` must be a non-empty word such as CORE-UNITS-POSITIVE"));
    }
    if let (Some(from), Some(to)) = (meta.effective_from, meta.effective_to) {
        if to < from {
            return Err(Diagnostic::error(path, key_line("effective_to"), 1, format!("metadata: effective_to {to} is before effective_from {from}")));
        }
    }
    Ok(())
}

pub fn read_rule_file(path: &Path) -> Result<RuleSource, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|e| Diagnostic::error(path, 1, 1, format!("cannot read rule file: {e}")))?;
    parse_rule_text(path, text)
}

/// All `.rhai` files below `dir`, sorted so runs are reproducible.
pub fn find_rule_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "rhai") {
                out.push(path);
            }
        }
        Ok(())
    }
    walk(dir, &mut out)?;
    out.sort();
    Ok(out)
}
