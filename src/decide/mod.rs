//! The one decision function (docs/decide.md): deny patterns win, then allow
//! patterns, else default deny; an allowed call that makes an approval
//! gate's `when` true is allowed with approval.
//!
//! `wpc decide`, `wpc test`, the linter, the OpenClaw audit and the proof
//! bundle checks all decide through [`Engine::decide`]; nothing else matches
//! tool patterns or runs gates.

pub mod coverage;
pub mod gate;
pub mod reach;
pub mod suite;
pub mod test_report;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use globset::{Candidate, Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::policy::model::{Approval, Requirement, Wpc};
use crate::report::{Envelope, Format, Formats, Unsupported};
use gate::{Gate, SyntaxError};

/// Largest `content` a decision reads.
/// The `format` and `version` of `wpc decide --format json`.
pub const DECISION: Envelope = Envelope::new("wpc-decision", 1);

/// The formats of `wpc decide`.
pub const FORMATS: Formats = Formats(&[Format::Text, Format::Json]);

pub const MAX_CONTENT_BYTES: usize = 1024 * 1024;
/// Largest `args`, measured as compact JSON.
pub const MAX_ARGS_BYTES: usize = 64 * 1024;
/// Largest `tool`, `target`, `model`, `provider` or `env`.
pub const MAX_FIELD_BYTES: usize = 4096;

/// One tool call to decide. Variables the caller does not know stay empty,
/// which is also what a gate sees for them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub tool: String,
    #[serde(default)]
    pub args: Map<String, Value>,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub env: String,
}

impl Call {
    pub fn tool(tool: impl Into<String>) -> Call {
        Call {
            tool: tool.into(),
            ..Call::default()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Deny,
    /// Allowed once the listed approvals are given.
    Approval,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::Approval => "approval",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What decided: a pattern, the default, or a reason to fail closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Basis {
    /// `constraints.tool_policy.deny[index]` matched.
    DenyPattern { index: usize, pattern: String },
    /// `constraints.tool_policy.allow[index]` matched (and no deny did).
    AllowPattern { index: usize, pattern: String },
    /// No pattern matched.
    DefaultDeny,
    /// `constraints.approvals[index].when` did not parse, failed at run time
    /// or gave a non-boolean: the call is denied rather than let through.
    GateFailed {
        index: usize,
        when: String,
        error: String,
    },
    /// A call variable exceeds its bound: denied without evaluating gates.
    InputTooLarge { field: &'static str, limit: usize },
}

/// An approval a gated call needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Required {
    /// Position in `constraints.approvals`.
    pub index: usize,
    pub require: Requirement,
    pub approvers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub when: String,
}

/// The decision and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub tool: String,
    pub basis: Basis,
    /// Every gate that fired, in policy order (empty unless `Approval`).
    pub approvals: Vec<Required>,
}

impl fmt::Display for Decision {
    /// One line explaining the verdict, naming the deciding rule by its path
    /// in the policy.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tool = &self.tool;
        match &self.basis {
            Basis::DenyPattern { index, pattern } => write!(
                f,
                "tool `{tool}` matches deny pattern `{pattern}` (constraints.tool_policy.deny[{index}])"
            )?,
            Basis::AllowPattern { index, pattern } => write!(
                f,
                "tool `{tool}` matches allow pattern `{pattern}` (constraints.tool_policy.allow[{index}]) and no deny pattern"
            )?,
            Basis::DefaultDeny => {
                write!(
                    f,
                    "tool `{tool}` matches no allow or deny pattern (default deny)"
                )?;
            }
            Basis::GateFailed { index, error, .. } => write!(
                f,
                "approval gate constraints.approvals[{index}] could not be evaluated ({error}); failing closed"
            )?,
            Basis::InputTooLarge { field, limit } => {
                write!(f, "`{field}` is larger than {limit} bytes; failing closed")?;
            }
        }
        for required in &self.approvals {
            write!(
                f,
                "; constraints.approvals[{}] requires {}",
                required.index,
                requirement_name(required.require)
            )?;
            if !required.approvers.is_empty() {
                write!(f, " by {}", required.approvers.join(", "))?;
            }
        }
        Ok(())
    }
}

impl Decision {
    /// `wpc decide`'s output in `format`, one of [`FORMATS`]: `VERDICT:
    /// explanation`, or the [`Decision::report`] object.
    pub fn render(
        &self,
        format: Format,
        policy: &str,
        policy_hash: &str,
    ) -> Result<String, Unsupported> {
        Ok(match format {
            Format::Text => format!("{}: {self}\n", self.verdict),
            // A Value always serializes.
            Format::Json => format!(
                "{}\n",
                serde_json::to_string_pretty(&self.report(policy, policy_hash)).unwrap_or_default()
            ),
            Format::Sarif | Format::Github | Format::Junit | Format::Markdown => {
                return Err(Unsupported {
                    format,
                    output: "a decision",
                });
            }
        })
    }

    /// The `wpc-decision` object: what `wpc decide --format json` prints
    /// and `wpc serve` answers to `POST /v1/decide`.
    pub fn report(&self, policy: &str, policy_hash: &str) -> Value {
        let mut out = Map::new();
        out.insert("format".to_owned(), Value::from(DECISION.format));
        out.insert("version".to_owned(), Value::from(DECISION.version));
        out.insert("policy".to_owned(), Value::from(policy));
        out.insert("policy_hash".to_owned(), Value::from(policy_hash));
        out.insert("explanation".to_owned(), Value::from(self.to_string()));
        // A Decision is plain data: serializing it cannot fail.
        if let Ok(Value::Object(fields)) = serde_json::to_value(self) {
            out.extend(fields);
        }
        Value::Object(out)
    }
}

pub fn requirement_name(requirement: Requirement) -> &'static str {
    match requirement {
        Requirement::HumanApproval => "human_approval",
        Requirement::TicketId => "ticket_id",
    }
}

/// Why a policy could not be compiled. Schema-valid policies always compile;
/// this is the fail-closed path for one that was not checked.
#[derive(Debug, thiserror::Error)]
#[error("tool pattern `{pattern}` does not compile: {source}")]
pub struct CompileError {
    pattern: String,
    source: globset::Error,
}

/// A policy compiled for deciding: pattern sets and gates built once.
pub struct Engine {
    allow: Vec<String>,
    deny: Vec<String>,
    allow_set: GlobSet,
    deny_set: GlobSet,
    gates: Vec<CompiledGate>,
    env: Arc<cel::Env>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("allow", &self.allow)
            .field("deny", &self.deny)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct CompiledGate {
    approval: Approval,
    gate: Result<Gate, SyntaxError>,
    /// The only tools the gate can fire for, when it says so up front:
    /// checked before anything else, so most calls skip most gates cheaply.
    guard: Option<Vec<String>>,
}

impl Engine {
    pub fn new(wpc: &Wpc) -> Result<Engine, CompileError> {
        let tools = &wpc.constraints.tool_policy;
        let env = gate::environment();
        let gates = wpc
            .constraints
            .approvals
            .iter()
            .map(|approval| {
                let gate = Gate::compile(&env, &approval.when);
                let guard = gate.as_ref().ok().and_then(Gate::tool_guard);
                CompiledGate {
                    approval: approval.clone(),
                    gate,
                    guard,
                }
            })
            .collect();
        Ok(Engine {
            allow_set: glob_set(&tools.allow)?,
            deny_set: glob_set(&tools.deny)?,
            allow: tools.allow.clone(),
            deny: tools.deny.clone(),
            gates,
            env,
        })
    }

    /// Each approval gate with its compiled `when` (or why it does not
    /// compile), in policy order: what the gate lint rules inspect, so every
    /// expression is compiled once per policy.
    pub fn gates(&self) -> impl Iterator<Item = (&Approval, Result<&Gate, &SyntaxError>)> {
        self.gates.iter().map(|g| (&g.approval, g.gate.as_ref()))
    }

    /// Decide one call.
    pub fn decide(&self, call: &Call) -> Decision {
        let decision = |verdict, basis| Decision {
            verdict,
            tool: call.tool.clone(),
            basis,
            approvals: Vec::new(),
        };
        if let Some((field, limit)) = oversized(call) {
            return decision(Verdict::Deny, Basis::InputTooLarge { field, limit });
        }
        let candidate = Candidate::new(&call.tool);
        if let Some(index) = first_match(&self.deny_set, &candidate) {
            let pattern = self.deny[index].clone();
            return decision(Verdict::Deny, Basis::DenyPattern { index, pattern });
        }
        let Some(index) = first_match(&self.allow_set, &candidate) else {
            return decision(Verdict::Deny, Basis::DefaultDeny);
        };
        let allowed = Basis::AllowPattern {
            index,
            pattern: self.allow[index].clone(),
        };
        match self.fired_gates(call) {
            Ok(approvals) if approvals.is_empty() => decision(Verdict::Allow, allowed),
            Ok(approvals) => Decision {
                approvals,
                ..decision(Verdict::Approval, allowed)
            },
            Err(failed) => decision(Verdict::Deny, failed),
        }
    }

    /// The gates whose `when` is true for `call`, or the first that fails.
    /// Gates decided by the tool name alone are not run, and the CEL context
    /// is only built when some gate needs it.
    fn fired_gates(&self, call: &Call) -> Result<Vec<Required>, Basis> {
        let mut context = None;
        let mut fired = Vec::new();
        for (index, compiled) in self.gates.iter().enumerate() {
            if compiled
                .guard
                .as_ref()
                .is_some_and(|tools| !tools.contains(&call.tool))
            {
                continue;
            }
            let failed = |error: String| Basis::GateFailed {
                index,
                when: compiled.approval.when.clone(),
                error,
            };
            let gate = compiled
                .gate
                .as_ref()
                .map_err(|e| failed(format!("does not parse: {e}")))?;
            let fires = match gate.for_tool(&call.tool) {
                Some(known) => known,
                None => {
                    let cx = match context.take() {
                        Some(cx) => cx,
                        None => cel_context(&self.env, call).map_err(&failed)?,
                    };
                    let result = gate.evaluate(&cx);
                    context = Some(cx);
                    result.map_err(|err| failed(err.to_string()))?
                }
            };
            if fires {
                let approval = &compiled.approval;
                fired.push(Required {
                    index,
                    require: approval.require,
                    approvers: approval.approvers.clone().unwrap_or_default(),
                    reason: approval.reason.clone(),
                    when: approval.when.clone(),
                });
            }
        }
        Ok(fired)
    }
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, CompileError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        // Tool names have no path separators: `*` must run across dots,
        // which is globset's default (`literal_separator(false)`).
        let glob = Glob::new(pattern).map_err(|source| CompileError {
            pattern: pattern.clone(),
            source,
        })?;
        builder.add(glob);
    }
    builder.build().map_err(|source| CompileError {
        pattern: patterns.join(", "),
        source,
    })
}

/// The lowest-numbered pattern that matches: the one the explanation names.
fn first_match(set: &GlobSet, candidate: &Candidate<'_>) -> Option<usize> {
    if set.is_empty() || !set.is_match_candidate(candidate) {
        return None;
    }
    set.matches_candidate(candidate).into_iter().min()
}

fn oversized(call: &Call) -> Option<(&'static str, usize)> {
    let fields = [
        ("tool", &call.tool),
        ("target", &call.target),
        ("model", &call.model),
        ("provider", &call.provider),
        ("env", &call.env),
    ];
    if let Some((field, _)) = fields
        .iter()
        .find(|(_, value)| value.len() > MAX_FIELD_BYTES)
    {
        return Some((field, MAX_FIELD_BYTES));
    }
    if call.content.len() > MAX_CONTENT_BYTES {
        return Some(("content", MAX_CONTENT_BYTES));
    }
    if !call.args.is_empty() && json_len(&call.args) > MAX_ARGS_BYTES {
        return Some(("args", MAX_ARGS_BYTES));
    }
    None
}

/// Compact JSON length, counted without building the text.
fn json_len(args: &Map<String, Value>) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a JSON map to a counter cannot fail; if it did, report it as
    // too large so the call fails closed.
    match serde_json::to_writer(&mut counter, args) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

fn cel_context(env: &Arc<cel::Env>, call: &Call) -> Result<cel::Context<'static, 'static>, String> {
    let mut cx = cel::Context::with_env(Arc::clone(env));
    for (name, value) in [
        ("tool", &call.tool),
        ("content", &call.content),
        ("target", &call.target),
        ("model", &call.model),
        ("provider", &call.provider),
        ("env", &call.env),
    ] {
        cx.add_variable_from_value(name, value.clone());
    }
    let args = cel::to_value(&call.args).map_err(|e| format!("`args` cannot be read: {e}"))?;
    cx.add_variable_from_value("args", args);
    Ok(cx)
}
