//! Policy lists the generator must agree with, read from the rule and pack files that enforce
//! them, so that a planted error and a clean claim mean what the rules mean.

use std::path::Path;

use anyhow::{Context, Result};

use crate::rules::pack::PackFile;
use crate::rules::source::parse_rule_text;

/// Where the lists live under a rules folder.
const NCCI_RULE: &str = "federal/ncci_ptp.rhai";
const ACME_PACK: &str = "payers/acme-commercial/pack.yaml";

/// The shipped files, for a generator run outside a checkout.
const SHIPPED_NCCI_RULE: &str = include_str!("../../rules/federal/ncci_ptp.rhai");
const SHIPPED_ACME_PACK: &str = include_str!("../../rules/payers/acme-commercial/pack.yaml");

#[derive(Debug, Clone)]
pub struct Policy {
    /// Modifiers that bypass an indicator-1 PTP edit: FED-NCCI-PTP's `ncci_modifiers`.
    pub ncci_modifiers: Vec<String>,
    /// Codes ACME-COMMERCIAL requires prior authorization for: its pack's `prior_auth_codes`.
    pub prior_auth_codes: Vec<String>,
}

/// A file under the rules folder, else the shipped copy.
fn read_or_shipped(rules_dir: Option<&Path>, rel: &str, shipped: &'static str) -> Result<(String, String)> {
    if let Some(path) = rules_dir.map(|d| d.join(rel)).filter(|p| p.is_file()) {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        return Ok((path.display().to_string(), text));
    }
    Ok((format!("rules/{rel} (shipped)"), shipped.to_string()))
}

fn strings(value: Option<&serde_yaml::Value>, what: &str, source: &str) -> Result<Vec<String>> {
    let list = value.and_then(|v| v.as_sequence()).with_context(|| format!("{source}: no `{what}` list under params"))?;
    list.iter().map(|v| v.as_str().map(str::to_string).with_context(|| format!("{source}: `{what}` holds a value that is not a string"))).collect()
}

impl Policy {
    /// Reads the lists from `rules_dir` (the folder the batch will be audited with), falling back
    /// to the shipped files for those it does not have.
    pub fn load(rules_dir: Option<&Path>) -> Result<Policy> {
        let (source, text) = read_or_shipped(rules_dir, NCCI_RULE, SHIPPED_NCCI_RULE)?;
        let rule = parse_rule_text(Path::new(&source), text).map_err(|d| anyhow::anyhow!("{d}"))?;
        let ncci_modifiers = strings(rule.meta.params.get("ncci_modifiers"), "ncci_modifiers", &source)?;
        let (source, text) = read_or_shipped(rules_dir, ACME_PACK, SHIPPED_ACME_PACK)?;
        let pack: PackFile = serde_yaml::from_str(&text).with_context(|| format!("{source}: not a payer pack"))?;
        let prior_auth_codes = strings(pack.params.get("prior_auth_codes"), "prior_auth_codes", &source)?;
        Ok(Policy { ncci_modifiers, prior_auth_codes })
    }
}
