//! Rules: files in, compiled scripts out. Each rule is compiled once; [`run`] evaluates them.

pub mod api;
pub mod check;
pub mod context;
pub mod meta;
pub mod pack;
pub mod run;
pub mod select;
pub mod source;
pub mod testing;
pub mod vars;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use rhai::{Dynamic, Engine, Scope as RhaiScope, AST};

pub use meta::{Category, RuleMeta, Scope, Severity};
pub use source::{Diagnostic, RuleSource};

use crate::refdata::RefData;
use vars::{ScopeVar, VarSource};

/// The reference tables for a rules folder: `--refdata DIR` when given, else the folder's own
/// `data/` (the small hand-made set shipped in rules/data), else none (see
/// [`crate::refdata::load_for`]).
pub fn load_refdata(rules_dir: &Path, explicit: Option<&Path>) -> anyhow::Result<Arc<RefData>> {
    crate::refdata::load_for(rules_dir, explicit, &crate::refdata::LoadOptions::default())
}

/// Limits that keep a rule from hanging or exhausting memory.
#[derive(Debug, Clone, Copy)]
pub struct Sandbox {
    /// Rhai operations per evaluation of one record.
    pub max_operations: u64,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox { max_operations: 2_000_000 }
    }
}

/// Refuses `import`: rules may not read files.
struct NoImports;

impl rhai::ModuleResolver for NoImports {
    fn resolve(
        &self,
        _engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: rhai::Position,
    ) -> Result<rhai::Shared<rhai::Module>, Box<rhai::EvalAltResult>> {
        Err(rhai::EvalAltResult::ErrorInModule(
            path.to_string(),
            format!("rules cannot import `{path}`: rules have no file, process or network access").into(),
            pos,
        )
        .into())
    }
}

/// The rule engine: Rhai with the rule API, sandboxed. No file, process or network functions
/// are registered, `import` is refused and `eval` is disabled.
pub fn new_engine(sandbox: Sandbox, refdata: &Arc<RefData>) -> Engine {
    let mut engine = Engine::new();
    crate::refdata::register_functions(&mut engine, refdata.clone());
    engine.set_max_operations(sandbox.max_operations);
    engine.set_max_call_levels(48);
    engine.set_max_expr_depths(128, 64);
    engine.set_max_string_size(1 << 20);
    engine.set_max_array_size(1 << 20);
    engine.set_max_map_size(1 << 16);
    engine.set_strict_variables(true);
    // Rhai's string interner sits behind one lock shared by every rayon worker; with it on, two
    // threads ran no faster than one.
    engine.set_max_strings_interned(0);
    engine.disable_symbol("eval");
    engine.set_module_resolver(NoImports);
    engine.on_print(|s| tracing::info!(target: "claimlint::rule", "{s}"));
    engine.on_debug(|s, src, pos| tracing::debug!(target: "claimlint::rule", "{}:{pos}: {s}", src.unwrap_or("")));
    api::register(&mut engine);
    api::register_reference_helpers(&mut engine, refdata.clone());
    engine
}

/// A rule ready to run.
#[derive(Clone)]
pub struct CompiledRule {
    pub source: RuleSource,
    pub ast: AST,
    /// The scope variables the script mentions, resolved to their sources; only these are
    /// pushed per record.
    pub vars: Vec<ScopeVar>,
    pub selector: Option<select::Selector>,
    /// Default parameters, merged with pack overrides at run time.
    pub params: Arc<rhai::Map>,
    /// Payer packs' changes to this rule, for their payers and dates.
    pub overrides: Vec<Arc<pack::PayerOverride>>,
}

impl CompiledRule {
    pub fn meta(&self) -> &RuleMeta {
        &self.source.meta
    }
    pub fn uses(&self, var: &str) -> bool {
        self.vars.iter().any(|v| v.name == var)
    }

    pub fn reads(&self, source: VarSource) -> bool {
        self.vars.iter().any(|v| v.source == source)
    }
}

/// Identifiers in a script, to push only the variables it reads.
fn identifiers(text: &str) -> HashSet<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}

pub fn yaml_params_to_map(params: &BTreeMap<String, serde_yaml::Value>) -> Result<rhai::Map, String> {
    let mut map = rhai::Map::new();
    for (k, v) in params {
        let d: Dynamic = rhai::serde::to_dynamic(v).map_err(|e| format!("parameter `{k}`: {e}"))?;
        map.insert(k.as_str().into(), d);
    }
    Ok(map)
}

/// Compiles one rule against its scope's variables, so an unknown variable is a compile error
/// with its line and column.
pub fn compile(engine: &Engine, source: RuleSource) -> Result<CompiledRule, Diagnostic> {
    let scope_vars = vars::scope_vars(source.meta.scope);
    let mut scope = RhaiScope::new();
    // Plain (not constant) placeholders: constants would be folded into the AST.
    for v in &scope_vars {
        scope.push_dynamic(v.name, Dynamic::UNIT);
    }
    let ast = engine.compile_with_scope(&scope, &source.text).map_err(|e| {
        let (line, column) = api::position_of(e.1).unwrap_or((1, 1));
        Diagnostic::error(&source.path, line, column, format!("script: {}", e.0))
    })?;
    let words = identifiers(&source.text);
    let vars = scope_vars.into_iter().filter(|v| words.contains(v.name)).collect();
    let params = yaml_params_to_map(&source.meta.params).map_err(|e| Diagnostic::error(&source.path, 1, 1, e))?;
    let key_line = |key: &str| source.text.lines().position(|l| l.starts_with(&format!("{key}:"))).map(|i| i + 1).unwrap_or(1);
    for table in &source.meta.requires {
        if crate::refdata::TableKind::from_name(table).is_none() {
            return Err(Diagnostic::error(&source.path, key_line("requires"), 1, format!("metadata: requires: `{table}` is not a reference table")));
        }
    }
    let selector = match &source.meta.select {
        None => None,
        Some(v) => {
            if source.meta.scope == Scope::Provider {
                return Err(Diagnostic::error(
                    &source.path,
                    key_line("select"),
                    1,
                    "metadata: select: provider rules take no selector (they run once per provider)",
                ));
            }
            let sel = select::parse(v).map_err(|e| Diagnostic::error(&source.path, key_line("select"), 1, format!("metadata: select: {e}")))?;
            Some(sel)
        }
    };
    Ok(CompiledRule { source, ast, vars, selector, params: Arc::new(params), overrides: Vec::new() })
}

/// Rules found under a folder: compiled ones, and diagnostics for the rest.
pub struct RuleSet {
    pub rules: Vec<CompiledRule>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads and compiles every `.rhai` rule below `dir`.
pub fn load_rules(engine: &Engine, dir: &Path) -> std::io::Result<RuleSet> {
    let files = source::find_rule_files(dir)?;
    let mut rules = Vec::new();
    let mut diagnostics = Vec::new();
    for path in files {
        match source::read_rule_file(&path).and_then(|src| compile(engine, src)) {
            Ok(rule) => rules.push(rule),
            Err(d) => diagnostics.push(d),
        }
    }
    diagnostics.extend(duplicate_ids(&rules));
    let (packs, pack_diags) = pack::find_packs(dir);
    diagnostics.extend(pack_diags);
    diagnostics.extend(pack::apply_packs(&mut rules, &packs));
    Ok(RuleSet { rules, diagnostics })
}

/// Two files with one id are allowed only as versions with disjoint effective windows.
fn duplicate_ids(rules: &[CompiledRule]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, a) in rules.iter().enumerate() {
        for b in &rules[..i] {
            if a.meta().id != b.meta().id {
                continue;
            }
            let (am, bm) = (a.meta(), b.meta());
            let disjoint = matches!((am.effective_to, bm.effective_from), (Some(t), Some(f)) if t < f)
                || matches!((bm.effective_to, am.effective_from), (Some(t), Some(f)) if t < f);
            if !disjoint {
                out.push(Diagnostic::warning(
                    &a.source.path,
                    1,
                    1,
                    format!(
                        "duplicate rule id `{}` (also in {}); versions of a rule need disjoint effective windows",
                        am.id,
                        b.source.path.display()
                    ),
                ));
            }
        }
    }
    out
}
