//! Approval gates: a `when` CEL expression compiled once, evaluated against a
//! call, and analysed without running it (which variables it reads, which
//! tools it names, whether it can fire for a given tool).

use std::collections::BTreeSet;
use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};
use cel::{Context, Env, Program, Value};

/// The variables a gate may read (docs/decide.md).
pub const VARIABLES: &[&str] = &[
    "tool", "args", "content", "target", "model", "provider", "env",
];

/// Why a `when` does not compile: the parser's message and, when it gave one,
/// the 1-based line and character column of the problem in the expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub position: Option<(usize, usize)>,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Why a gate gave no verdict at run time.
#[derive(Clone, Debug, thiserror::Error)]
pub enum GateError {
    /// The expression's value is not a boolean (its CEL type).
    #[error("returned {0}, not a boolean")]
    NotBoolean(cel::objects::ValueType),
    /// The interpreter's error, shortened.
    #[error("{0}")]
    Execution(String),
}

/// The CEL environment every gate compiles and runs in: the standard library
/// plus the string extension (`lowerAscii`, `split`, ...), built once.
pub fn environment() -> Arc<Env> {
    static ENV: std::sync::LazyLock<Arc<Env>> = std::sync::LazyLock::new(|| {
        let mut env = Env::stdlib();
        // The extension only adds names the standard library lacks; should a
        // future cel release clash, gates still run on the standard library.
        let _ = env.add_extension(cel::extensions::strings);
        Arc::new(env)
    });
    Arc::clone(&ENV)
}

/// A compiled `when`.
#[derive(Debug)]
pub struct Gate {
    program: Program,
}

impl Gate {
    /// Compile `when`. The parser bounds nesting itself (96 levels), which
    /// keeps hostile input off the end of the stack.
    pub fn compile(env: &Env, when: &str) -> Result<Gate, SyntaxError> {
        env.compile(when)
            .map(|program| Gate { program })
            .map_err(|errors| syntax_error(&errors))
    }

    /// Run the expression. `Ok(b)` only for a boolean result; anything else
    /// (a run-time error, a non-boolean) is an `Err` with the reason, which
    /// the decision turns into a denial.
    pub fn evaluate(&self, context: &Context<'_, '_>) -> Result<bool, GateError> {
        match self.program.execute(context) {
            Ok(Value::Bool(fired)) => Ok(fired),
            Ok(other) => Err(GateError::NotBoolean(other.type_of())),
            Err(err) => Err(GateError::Execution(shorten(err.to_string()))),
        }
    }

    /// Identifiers read that are not context variables, in name order.
    pub fn unknown_variables(&self) -> Vec<String> {
        let mut found = BTreeSet::new();
        free_identifiers(self.program.expression(), &mut Vec::new(), &mut found);
        found
            .into_iter()
            .filter(|name| !VARIABLES.contains(&name.as_str()))
            .collect()
    }

    /// Tool names the expression asks for (`tool == 'x'`, `tool in ['x']`),
    /// outside any negation: the tools the gate is written for.
    pub fn named_tools(&self) -> Vec<String> {
        let mut found = Vec::new();
        named_tools(self.program.expression(), &mut found);
        found.dedup();
        found
    }

    /// The tools the gate can fire for at all, when its top level is a
    /// conjunction with `tool == 'x'` or `tool in [...]` in it: any other tool
    /// makes it false. `None` when the gate is not restricted that way.
    pub fn tool_guard(&self) -> Option<Vec<String>> {
        guard(self.program.expression())
    }

    /// Whether this gate provably fires for every call `other` fires for:
    /// each top-level disjunct of `other` is, node for node, a top-level
    /// disjunct of this one (`a` → `a || b`). CEL's `||` is true when either
    /// side is, whatever the other does, so the rule holds under errors too.
    /// Sound, not complete: `false` only means no proof was found.
    pub fn covers(&self, other: &Gate) -> bool {
        let mut ours = Vec::new();
        disjuncts(self.program.expression(), &mut ours);
        let ours: Vec<IdedExpr> = ours.into_iter().map(without_ids).collect();
        let mut theirs = Vec::new();
        disjuncts(other.program.expression(), &mut theirs);
        theirs.into_iter().all(|d| ours.contains(&without_ids(d)))
    }

    /// What the expression is known to give for `tool` alone, whatever the
    /// other variables hold: `Some(b)` when that is decided, `None` when the
    /// rest of the call matters. Sound: `Some(b)` is what every evaluation
    /// with this tool returns.
    pub fn for_tool(&self, tool: &str) -> Option<bool> {
        match partial(self.program.expression(), tool) {
            Partial::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// Longest run-time error message kept. Some CEL errors quote the values
/// involved, which may be a megabyte of call content.
const MAX_ERROR_CHARS: usize = 200;

fn shorten(mut message: String) -> String {
    if let Some((cut, _)) = message.char_indices().nth(MAX_ERROR_CHARS) {
        message.truncate(cut);
        message.push('…');
    }
    message
}

fn syntax_error(errors: &cel::ParseErrors) -> SyntaxError {
    let first = errors.errors.first();
    let message = first.map_or_else(|| errors.to_string(), |e| e.msg.clone());
    let position = first.and_then(|e| {
        let (line, column) = e.pos;
        // The parser counts columns from 0.
        Some((
            usize::try_from(line).ok()?,
            usize::try_from(column).ok()? + 1,
        ))
    });
    SyntaxError {
        message,
        position: position.filter(|&(line, _)| line > 0),
    }
}

/// Identifiers not bound by an enclosing comprehension (`args.exists(k, ..)`
/// binds `k`). Names starting with `@` are the parser's own accumulators.
fn free_identifiers(e: &IdedExpr, bound: &mut Vec<String>, out: &mut BTreeSet<String>) {
    match &e.expr {
        Expr::Ident(name) => {
            if !name.starts_with('@') && !bound.contains(name) {
                out.insert(name.clone());
            }
        }
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                free_identifiers(target, bound, out);
            }
            for arg in &call.args {
                free_identifiers(arg, bound, out);
            }
        }
        Expr::Select(select) => free_identifiers(&select.operand, bound, out),
        Expr::List(list) => {
            for item in &list.elements {
                free_identifiers(item, bound, out);
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(entry) = &entry.expr {
                    free_identifiers(&entry.key, bound, out);
                    free_identifiers(&entry.value, bound, out);
                }
            }
        }
        Expr::Struct(structure) => {
            for entry in &structure.entries {
                if let EntryExpr::StructField(field) = &entry.expr {
                    free_identifiers(&field.value, bound, out);
                }
            }
        }
        Expr::Comprehension(comp) => {
            free_identifiers(&comp.iter_range, bound, out);
            free_identifiers(&comp.accu_init, bound, out);
            let depth = bound.len();
            bound.push(comp.iter_var.clone());
            bound.extend(comp.iter_var2.clone());
            bound.push(comp.accu_var.clone());
            for part in [&comp.loop_cond, &comp.loop_step, &comp.result] {
                free_identifiers(part, bound, out);
            }
            bound.truncate(depth);
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn disjuncts<'a>(e: &'a IdedExpr, out: &mut Vec<&'a IdedExpr>) {
    match &e.expr {
        Expr::Call(call) if call.func_name == "_||_" && call.target.is_none() => {
            for arg in &call.args {
                disjuncts(arg, out);
            }
        }
        _ => out.push(e),
    }
}

/// A copy with every node id zeroed: ids number nodes in parse order, so two
/// equal subexpressions at different places differ only in them.
fn without_ids(e: &IdedExpr) -> IdedExpr {
    fn zero(e: &mut IdedExpr) {
        e.id = 0;
        match &mut e.expr {
            Expr::Call(call) => {
                if let Some(target) = &mut call.target {
                    zero(target);
                }
                call.args.iter_mut().for_each(zero);
            }
            Expr::Select(select) => zero(&mut select.operand),
            Expr::List(list) => list.elements.iter_mut().for_each(zero),
            Expr::Map(map) => {
                for entry in &mut map.entries {
                    entry.id = 0;
                    if let EntryExpr::MapEntry(entry) = &mut entry.expr {
                        zero(&mut entry.key);
                        zero(&mut entry.value);
                    }
                }
            }
            Expr::Struct(structure) => {
                for entry in &mut structure.entries {
                    entry.id = 0;
                    if let EntryExpr::StructField(field) = &mut entry.expr {
                        zero(&mut field.value);
                    }
                }
            }
            Expr::Comprehension(comp) => {
                for part in [
                    &mut comp.iter_range,
                    &mut comp.accu_init,
                    &mut comp.loop_cond,
                    &mut comp.loop_step,
                    &mut comp.result,
                ] {
                    zero(part);
                }
            }
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
    let mut copy = e.clone();
    zero(&mut copy);
    copy
}

fn named_tools(e: &IdedExpr, out: &mut Vec<String>) {
    let Expr::Call(call) = &e.expr else { return };
    match (call.func_name.as_str(), call.args.as_slice()) {
        // Under a negation or an inequality the name is what the gate is
        // *not* about.
        ("!_" | "_!=_", _) => {}
        ("_==_", [a, b]) => {
            for (x, y) in [(a, b), (b, a)] {
                if is_tool(x)
                    && let Some(name) = string_literal(y)
                {
                    out.push(name.to_owned());
                }
            }
        }
        ("@in", [needle, list]) if is_tool(needle) => {
            if let Expr::List(list) = &list.expr {
                out.extend(
                    list.elements
                        .iter()
                        .filter_map(string_literal)
                        .map(str::to_owned),
                );
            }
        }
        _ => {
            for arg in call.args.iter().chain(call.target.as_deref()) {
                named_tools(arg, out);
            }
        }
    }
}

fn guard(e: &IdedExpr) -> Option<Vec<String>> {
    let Expr::Call(call) = &e.expr else {
        return None;
    };
    match (call.func_name.as_str(), call.args.as_slice()) {
        // Either side restricting the tool restricts the conjunction.
        ("_&&_", [a, b]) => guard(a).or_else(|| guard(b)),
        ("_==_", [a, b]) => [(a, b), (b, a)]
            .into_iter()
            .find_map(|(x, y)| if is_tool(x) { string_literal(y) } else { None })
            .map(|name| vec![name.to_owned()]),
        // Only a list of literals bounds the tool; `tool in [x]` does not.
        ("@in", [needle, list]) if is_tool(needle) => match &list.expr {
            Expr::List(list) => list
                .elements
                .iter()
                .map(|e| string_literal(e).map(str::to_owned))
                .collect(),
            _ => None,
        },
        _ => None,
    }
}

fn is_tool(e: &IdedExpr) -> bool {
    matches!(&e.expr, Expr::Ident(name) if name == "tool")
}

fn string_literal(e: &IdedExpr) -> Option<&str> {
    match &e.expr {
        Expr::Literal(LiteralValue::String(s)) => Some(s.inner()),
        _ => None,
    }
}

/// A value known before the call's other variables are: three-valued logic
/// over the few operations gates use on `tool`.
enum Partial<'a> {
    Bool(bool),
    Str(&'a str),
    List(Vec<Partial<'a>>),
    Unknown,
}

fn partial<'a>(e: &'a IdedExpr, tool: &'a str) -> Partial<'a> {
    use Partial::{Bool, List, Str, Unknown};
    match &e.expr {
        Expr::Ident(name) if name == "tool" => Str(tool),
        Expr::Literal(LiteralValue::String(s)) => Str(s.inner()),
        Expr::Literal(LiteralValue::Boolean(b)) => Bool(**b),
        Expr::List(list) => List(list.elements.iter().map(|x| partial(x, tool)).collect()),
        Expr::Call(call) => {
            let arg = |i: usize| call.args.get(i).map_or(Unknown, |x| partial(x, tool));
            match (call.func_name.as_str(), call.target.as_deref()) {
                // CEL's `&&` and `||` are commutative over errors: a false
                // (true) side decides whatever the other side does.
                ("_&&_", None) => match (arg(0), arg(1)) {
                    (Bool(false), _) | (_, Bool(false)) => Bool(false),
                    (Bool(true), Bool(true)) => Bool(true),
                    _ => Unknown,
                },
                ("_||_", None) => match (arg(0), arg(1)) {
                    (Bool(true), _) | (_, Bool(true)) => Bool(true),
                    (Bool(false), Bool(false)) => Bool(false),
                    _ => Unknown,
                },
                ("!_", None) => match arg(0) {
                    Bool(b) => Bool(!b),
                    _ => Unknown,
                },
                ("_==_" | "_!=_", None) => {
                    let equal = match (arg(0), arg(1)) {
                        (Str(a), Str(b)) => a == b,
                        (Bool(a), Bool(b)) => a == b,
                        _ => return Unknown,
                    };
                    Bool(equal == (call.func_name == "_==_"))
                }
                ("_?_:_", None) => match arg(0) {
                    Bool(true) => arg(1),
                    Bool(false) => arg(2),
                    _ => Unknown,
                },
                ("@in", None) => match (arg(0), arg(1)) {
                    (Str(needle), List(items)) => {
                        let mut all_known = true;
                        for item in &items {
                            match item {
                                Str(s) if *s == needle => return Bool(true),
                                Str(_) => {}
                                _ => all_known = false,
                            }
                        }
                        if all_known { Bool(false) } else { Unknown }
                    }
                    _ => Unknown,
                },
                (method @ ("startsWith" | "endsWith" | "contains"), Some(target)) => {
                    match (partial(target, tool), arg(0)) {
                        (Str(s), Str(x)) => Bool(match method {
                            "startsWith" => s.starts_with(x),
                            "endsWith" => s.ends_with(x),
                            _ => s.contains(x),
                        }),
                        _ => Unknown,
                    }
                }
                _ => Unknown,
            }
        }
        _ => Unknown,
    }
}
