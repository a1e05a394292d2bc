//! Options that `audit`, `map`, `reduce` and `fix` have in common, declared once and flattened
//! into each command so their names, defaults and help cannot drift apart.

use std::path::PathBuf;

use crate::findings::OutputFormat;
use crate::rules::Sandbox;
use crate::vocab::Severity;

/// The rules and the reference tables they read (every command that runs rules).
#[derive(clap::Args)]
pub struct RuleArgs {
    /// Folder of rule files (searched recursively).
    #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES")]
    pub rules: PathBuf,
    /// Reference tables (CMS NCCI, ICD-10-CM, MCE, HCPCS, POS, ...); default: RULES/data.
    #[arg(long, env = "CLAIMLINT_REFDATA")]
    pub refdata: Option<PathBuf>,
}

/// Column names of the claim files (every command that reads claim files).
#[derive(clap::Args)]
pub struct AliasArgs {
    /// YAML file mapping your column names onto the canonical schema.
    #[arg(long)]
    pub aliases: Option<PathBuf>,
}

/// How rule errors and runaway scripts are handled (`audit`, `map`, `reduce`).
#[derive(clap::Args)]
pub struct EngineArgs {
    /// Fail (exit 2) when any rule has an error, instead of reporting it and running the others.
    #[arg(long)]
    pub strict: bool,
    /// Rhai operations one rule may spend on one record before it is stopped.
    #[arg(long, default_value_t = Sandbox::default().max_operations)]
    pub max_operations: u64,
}

impl EngineArgs {
    pub fn sandbox(&self) -> Sandbox {
        Sandbox { max_operations: self.max_operations }
    }
}

/// The findings file, the reports and the exit code (`audit`, `reduce`).
#[derive(clap::Args)]
pub struct ReportArgs {
    /// Findings file format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: OutputFormat,
    /// Exit 1 when any finding is at or above this severity.
    #[arg(long, default_value = "error", value_parser = super::parse_severity)]
    pub fail_on: Severity,
    /// Folder with templates that replace the built-in ones (same file names as reports/).
    #[arg(long)]
    pub templates: Option<PathBuf>,
}
