//! Static checks for `claimlint rules check`: calls to functions that do not exist, or exist with
//! another number of arguments, found without running the rule.

use std::collections::{BTreeMap, BTreeSet};

use rhai::{ASTNode, Engine, Expr};

use super::{CompiledRule, Diagnostic};

/// Functions the Rhai language itself provides without registering them.
const LANGUAGE_FUNCTIONS: &[&str] = &["print", "debug", "type_of", "Fn", "call", "curry", "is_def_var", "is_def_fn", "is_shared", "eval"];

/// Function name -> the argument counts it accepts (registered, standard library, or language).
pub struct KnownFunctions(BTreeMap<String, BTreeSet<usize>>);

impl KnownFunctions {
    pub fn of(engine: &Engine) -> Self {
        let mut map: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        let list = engine.collect_fn_metadata(None, |info| Some((info.metadata.name.to_string(), info.metadata.num_params)), true);
        for (name, n) in list {
            map.entry(name).or_default().insert(n);
        }
        KnownFunctions(map)
    }

    fn check(&self, name: &str, args: usize, script: &BTreeMap<String, BTreeSet<usize>>) -> Option<String> {
        if LANGUAGE_FUNCTIONS.contains(&name) {
            return None;
        }
        let accepted: BTreeSet<usize> = self.0.get(name).into_iter().chain(script.get(name)).flat_map(|s| s.iter().copied()).collect();
        if accepted.is_empty() {
            return Some(format!("unknown function `{name}` (see docs/rules.md for the functions rules can call)"));
        }
        if !accepted.contains(&args) {
            let counts: Vec<String> = accepted.iter().map(|n| n.to_string()).collect();
            return Some(format!("wrong number of arguments: `{name}` takes {} argument(s), this call passes {args}", counts.join(" or ")));
        }
        None
    }
}

/// Every call in the rule's script whose function is unknown or called with the wrong arity.
pub fn check_calls(known: &KnownFunctions, rule: &CompiledRule) -> Vec<Diagnostic> {
    let mut script_fns: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for f in rule.ast.iter_functions() {
        script_fns.entry(f.name.to_string()).or_default().insert(f.params.len());
    }
    let mut out = Vec::new();
    rule.ast.walk(&mut |path: &[ASTNode]| {
        let (call, pos, method) = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(x, pos))) => (x, *pos, false),
            Some(ASTNode::Expr(Expr::MethodCall(x, pos))) => (x, *pos, true),
            _ => return true,
        };
        if call.op_token.is_some() || !call.namespace.is_empty() {
            return true;
        }
        let args = call.args.len() + usize::from(method);
        if let Some(msg) = known.check(call.name.as_str(), args, &script_fns) {
            let (line, column) = super::api::position_of(pos).unwrap_or((1, 1));
            out.push(Diagnostic::error(&rule.source.path, line, column, format!("script: {msg}")));
        }
        true
    });
    out
}

/// The rule's `denial:` block: missing is a warning (its findings name no CARC in the report or
/// the remittance loop); codes that cannot be CARCs, RARCs or group codes are errors.
pub fn check_denial(rule: &CompiledRule) -> Vec<Diagnostic> {
    let path = &rule.source.path;
    let line = rule.source.text.lines().position(|l| l.starts_with("denial:")).map_or(1, |i| i + 1);
    let Some(d) = &rule.meta().denial else {
        let citation = rule.source.text.lines().position(|l| l.starts_with("citation:")).map_or(1, |i| i + 1);
        return vec![Diagnostic::warning(
            path,
            citation,
            1,
            "metadata: no `denial:` block (group, carc, rarc, label, source): the report's \"what would come back\" table and `claimlint remit` cannot name this rule's CARC",
        )];
    };
    let mut out = Vec::new();
    if !matches!(d.group.as_str(), "CO" | "PR" | "OA" | "PI") {
        out.push(Diagnostic::error(path, line, 1, format!("metadata: denial: group `{}` is not CO, PR, OA or PI", d.group)));
    }
    if !crate::x12::adjustment_codes::valid_carc(&d.carc) {
        out.push(Diagnostic::error(
            path,
            line,
            1,
            format!("metadata: denial: carc `{}` is not a claim adjustment reason code (1-3 digits, or a letter and digits)", d.carc),
        ));
    }
    for r in d.rarc.iter().filter(|r| !crate::x12::adjustment_codes::valid_rarc(r)) {
        out.push(Diagnostic::error(path, line, 1, format!("metadata: denial: rarc `{r}` is not a remark code (M, MA or N and digits)")));
    }
    if d.label.trim().is_empty() {
        out.push(Diagnostic::warning(path, line, 1, "metadata: denial: no label (a one-line description of the denial in your own words)"));
    }
    out
}
