//! Payer packs: `rules/payers/<payer>/pack.yaml` names the payers and dates it covers, federal
//! rules it disables or re-grades for them, and parameters that rules read with `param(...)`.
//! Rules in the pack folder apply to the pack's payers and window unless they say otherwise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Deserialize;

use super::source::{yaml_diagnostic, Diagnostic};
use super::{yaml_params_to_map, CompiledRule, Severity};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    pub name: String,
    /// Payer ids or names (case-insensitive) the pack applies to.
    pub payers: Vec<String>,
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    /// Rule ids not applied to these payers' claims.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Rule id -> severity for these payers' claims.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Named parameters every rule reads with `param(name)` on these payers' claims.
    #[serde(default)]
    pub params: BTreeMap<String, serde_yaml::Value>,
}

#[derive(Debug, Clone)]
pub struct Pack {
    pub path: PathBuf,
    pub file: PackFile,
    text: String,
}

/// How one pack changes one rule for its payers and dates.
#[derive(Debug, Clone)]
pub struct PayerOverride {
    pub pack: String,
    pub payers: Vec<String>,
    pub effective_from: Option<NaiveDate>,
    pub effective_to: Option<NaiveDate>,
    pub disabled: bool,
    pub severity: Option<Severity>,
    /// The rule's defaults with the pack's parameters laid over them.
    pub params: Arc<rhai::Map>,
}

impl PayerOverride {
    pub fn matches(&self, payer: &str, day: Option<i32>) -> bool {
        if !self.payers.iter().any(|p| p.eq_ignore_ascii_case(payer)) {
            return false;
        }
        day.is_none_or(|d| crate::dates::in_window(d, self.effective_from, self.effective_to))
    }
}

fn key_line(text: &str, key: &str) -> usize {
    text.lines().position(|l| l.trim_start().trim_start_matches("- ").trim_start_matches('"').starts_with(key)).map(|i| i + 1).unwrap_or(1)
}

/// Every `pack.yaml` below the rules folder.
pub fn find_packs(rules_dir: &Path) -> (Vec<Pack>, Vec<Diagnostic>) {
    let mut packs = Vec::new();
    let mut diags = Vec::new();
    let mut files = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.file_name().is_some_and(|n| n == "pack.yaml") {
                out.push(p);
            }
        }
    }
    if rules_dir.is_dir() {
        walk(rules_dir, &mut files);
    }
    files.sort();
    for path in files {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::error(&path, 1, 1, format!("cannot read pack: {e}")));
                continue;
            }
        };
        match serde_yaml::from_str::<PackFile>(&text) {
            Ok(file) => {
                if let (Some(f), Some(t)) = (file.effective_from, file.effective_to) {
                    if t < f {
                        diags.push(Diagnostic::error(
                            &path,
                            key_line(&text, "effective_to"),
                            1,
                            format!("pack: effective_to {t} is before effective_from {f}"),
                        ));
                        continue;
                    }
                }
                if let Err(e) = yaml_params_to_map(&file.params) {
                    diags.push(Diagnostic::error(&path, key_line(&text, "params"), 1, format!("pack: {e}")));
                    continue;
                }
                packs.push(Pack { path, file, text })
            }
            Err(e) => {
                let mut d = yaml_diagnostic(&path, 1, &e);
                d.message = d.message.replacen("metadata:", "pack:", 1);
                diags.push(d);
            }
        }
    }
    (packs, diags)
}

/// Applies packs to compiled rules: pack rules inherit the pack's payers and window, and every
/// rule gets the pack's overrides and parameters for the pack's payers. Warns when a pack names
/// a rule that does not exist.
pub fn apply_packs(rules: &mut [CompiledRule], packs: &[Pack]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for pack in packs {
        let f = &pack.file;
        for id in f.disable.iter().chain(f.severity.keys()) {
            if !rules.iter().any(|r| &r.meta().id == id) {
                diags.push(Diagnostic::warning(
                    &pack.path,
                    key_line(&pack.text, id),
                    1,
                    format!("pack `{}` names rule `{id}`, which does not exist", f.name),
                ));
            }
        }
        let pack_dir = pack.path.parent().unwrap_or(Path::new(""));
        let pack_params = yaml_params_to_map(&f.params).unwrap_or_default();
        for rule in rules.iter_mut() {
            if rule.source.path.starts_with(pack_dir) {
                let meta = &mut rule.source.meta;
                if meta.payers.is_empty() {
                    meta.payers = f.payers.clone();
                }
                if meta.effective_from.is_none() && meta.effective_to.is_none() {
                    meta.effective_from = f.effective_from;
                    meta.effective_to = f.effective_to;
                }
            }
            let mut params = (*rule.params).clone();
            params.extend(pack_params.clone());
            rule.overrides.push(Arc::new(PayerOverride {
                pack: f.name.clone(),
                payers: f.payers.clone(),
                effective_from: f.effective_from,
                effective_to: f.effective_to,
                disabled: f.disable.contains(&rule.meta().id),
                severity: f.severity.get(&rule.meta().id).copied(),
                params: Arc::new(params),
            }));
        }
    }
    diags
}
