//! The state of one script evaluation, passed explicitly: each evaluation carries its context in
//! Rhai's per-run tag, so native functions (`flag`, `param`, ...) find the record they report on
//! without thread-locals, and may themselves use rayon.

use std::sync::{Arc, Mutex};

use rhai::{Dynamic, EvalAltResult, NativeCallContext};

/// One finding as a script reported it, before it is joined with rule metadata.
#[derive(Debug, Clone)]
pub struct RawFinding {
    /// The line it names (`flag_line`), or the record's anchor line; None for a provider-level
    /// finding that names no line.
    pub row: Option<u32>,
    /// false for claim-, patient-day- or provider-level findings that name no line.
    pub line_level: bool,
    pub message: String,
    pub amount: f64,
    pub fix: Option<RawFix>,
}

/// A fix as a script attached it; the current value is read from the line when the finding is
/// made.
#[derive(Debug, Clone)]
pub struct RawFix {
    /// Canonical column index; None for advice that names no field.
    pub field: Option<usize>,
    pub proposed: Vec<String>,
    pub kind: crate::vocab::FixKind,
    pub note: String,
}

/// An edit that would have fired on `row` but was bypassed, and why (`bypass(line, reason)`).
#[derive(Debug, Clone)]
pub struct RawBypass {
    pub row: u32,
    pub reason: rhai::ImmutableString,
}

/// What the record being evaluated is, so `flag` knows where a finding belongs.
#[derive(Debug, Default)]
pub struct EvalState {
    /// The record's first line; None for provider records.
    pub anchor: Option<u32>,
    pub line_level: bool,
    pub default_amount: f64,
    pub params: Arc<rhai::Map>,
    pub found: Vec<RawFinding>,
    pub bypasses: Vec<RawBypass>,
}

/// A shared handle on one task's evaluation state, stored in the run's tag.
#[derive(Clone, Default)]
pub struct EvalContext(Arc<Mutex<EvalState>>);

impl EvalContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Resets the state for the next record.
    pub fn begin(&self, anchor: Option<u32>, line_level: bool, default_amount: f64, params: Arc<rhai::Map>) {
        let mut s = self.0.lock().expect("evaluation state");
        s.anchor = anchor;
        s.line_level = line_level;
        s.default_amount = default_amount;
        s.params = params;
        s.found.clear();
        s.bypasses.clear();
    }

    pub fn take_findings(&self) -> Vec<RawFinding> {
        std::mem::take(&mut self.0.lock().expect("evaluation state").found)
    }

    /// Moves this record's bypasses onto `out`.
    pub fn drain_bypasses(&self, out: &mut Vec<RawBypass>) {
        out.append(&mut self.0.lock().expect("evaluation state").bypasses);
    }

    pub fn tag(&self) -> Dynamic {
        Dynamic::from(self.clone())
    }
}

/// Runs `f` on the state of the evaluation that called a native function.
pub fn with_state<R>(ctx: &NativeCallContext, f: impl FnOnce(&mut EvalState) -> R) -> Result<R, Box<EvalAltResult>> {
    let handle = ctx
        .tag()
        .and_then(|t| t.read_lock::<EvalContext>().map(|h| h.clone()))
        .ok_or_else(|| Box::<EvalAltResult>::from("this function reports on a record and can only be called while a rule runs"))?;
    let mut state = handle.0.lock().expect("evaluation state");
    Ok(f(&mut state))
}

/// Records a finding: on `row` when given (a line), else on the record being evaluated.
pub fn push(ctx: &NativeCallContext, row: Option<u32>, message: &str, amount: Option<f64>) -> Result<(), Box<EvalAltResult>> {
    with_state(ctx, |s| {
        let (row, line_level) = match row {
            Some(r) => (Some(r), true),
            None => (s.anchor, s.line_level),
        };
        let amount = amount.unwrap_or(s.default_amount);
        s.found.push(RawFinding { row, line_level, message: message.to_string(), amount, fix: None });
    })
}

/// Attaches a fix to the finding the script reported last.
pub fn attach_fix(ctx: &NativeCallContext, fix: RawFix) -> Result<(), Box<EvalAltResult>> {
    with_state(ctx, |s| match s.found.last_mut() {
        Some(f) => {
            f.fix = Some(fix);
            Ok(())
        }
        None => Err("fix/suggest: call it after flag(...) or flag_line(...); it attaches to the finding just reported".into()),
    })?
}

/// Records a bypass on `row`, else on the record's anchor line.
pub fn push_bypass(ctx: &NativeCallContext, row: Option<u32>, reason: &str) -> Result<(), Box<EvalAltResult>> {
    with_state(ctx, |s| match row.or(s.anchor) {
        Some(row) => {
            s.bypasses.push(RawBypass { row, reason: reason.trim().into() });
            Ok(())
        }
        None => Err("bypass: a provider record has no line to record a bypass on; use bypass(line, reason)".into()),
    })?
}

/// Runs a compiled script with `context` as its tag. Mirrors `Engine::run_ast_with_scope`, with
/// function-resolution caches kept across the records of one task.
#[allow(deprecated)]
pub fn run(
    engine: &rhai::Engine,
    scope: &mut rhai::Scope<'static>,
    ast: &rhai::AST,
    context: &EvalContext,
    caches: &mut rhai::Caches,
) -> Result<(), Box<EvalAltResult>> {
    let mut global = engine.new_global_runtime_state();
    global.source = ast.source().map(Into::into);
    global.lib.push(ast.shared_lib().clone());
    global.tag = context.tag();
    engine.eval_statements_raw(&mut global, caches, scope, ast.statements()).map(|_| ())
}
