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

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use globset::{Candidate, Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::policy::mcp::{self, ServerStanding};
use crate::policy::model::{Approval, Budget, Mcp, RateLimit, Requirement, Wpc};
use crate::report::{Envelope, Format, Formats, Unsupported};
use gate::{Gate, SyntaxError};

/// The `format` and `version` of `wpc decide --format json`.
pub const DECISION: Envelope = Envelope::new("wpc-decision", 1);

/// The formats of `wpc decide`.
pub const FORMATS: Formats = Formats(&[Format::Text, Format::Json]);

/// Largest `content` a decision reads.
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
    /// The transport of the MCP server an `mcp:` tool is called on
    /// (`stdio`, `sse`, `streamable-http`), as the caller is connected.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mcp_transport: String,
    /// The MCP server's URL, or its stdio command.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mcp_url: String,
    /// The definition hash of the MCP tool the runtime holds (lowercase hex
    /// SHA-256, docs/wpc-format.md#pinned-tool-definitions).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub definition_hash: String,
    /// What the job has done so far, for rate limits and the budget.
    #[serde(default, skip_serializing_if = "Counters::is_empty")]
    pub counters: Counters,
}

/// The counter context of a decision (docs/wpc-format.md#rate-limits-and-budget):
/// the caller counts, wpc keeps no state between decisions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counters {
    /// Calls per tool name in the current window; a tool not named was not
    /// called, but a rate limit that matches the call needs the count of
    /// at least one tool it matches ([`Basis::RateLimitCounterMissing`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub calls_so_far: BTreeMap<String, u64>,
    /// The job's totals so far; one not given, for a budget line that caps
    /// it, denies ([`Basis::BudgetCounterMissing`]) unless the caller opts
    /// out ([`Counting::NotEvaluated`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_calls: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
}

impl Counters {
    pub fn is_empty(&self) -> bool {
        *self == Counters::default()
    }

    /// `calls_so_far` from `TOOL=N` items (`wpc decide --calls-so-far`);
    /// a tool named twice adds up.
    pub fn parse_calls_so_far(items: &[String]) -> Result<BTreeMap<String, u64>, CounterError> {
        let mut out = BTreeMap::new();
        for item in items {
            let bad = || CounterError(item.clone());
            let (tool, count) = item.rsplit_once('=').ok_or_else(bad)?;
            let count: u64 = count.trim().parse().map_err(|_| bad())?;
            if tool.is_empty() {
                return Err(bad());
            }
            let sum: &mut u64 = out.entry(tool.to_owned()).or_default();
            *sum = sum.saturating_add(count);
        }
        Ok(out)
    }
}

/// A `--calls-so-far` item that is not `TOOL=N`.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not TOOL=N (a tool name and a count of calls, e.g. `repo.comment=19`)")]
pub struct CounterError(String);

/// Most tools `calls_so_far` may name.
pub const MAX_COUNTED_TOOLS: usize = 4096;

impl Call {
    pub fn tool(tool: impl Into<String>) -> Call {
        Call {
            tool: tool.into(),
            ..Call::default()
        }
    }

    /// `args` from the text of a JSON object (`wpc decide --args`).
    pub fn args_from_json(json: &str) -> Result<Map<String, Value>, ArgsError> {
        match serde_json::from_str(json).map_err(ArgsError::NotJson)? {
            Value::Object(map) => Ok(map),
            _ => Err(ArgsError::NotAnObject),
        }
    }
}

/// `--args` that is not a JSON object.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error("--args is not valid JSON")]
    NotJson(#[source] serde_json::Error),
    #[error("--args must be a JSON object")]
    NotAnObject,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum Verdict {
    Allow,
    Deny,
    /// Allowed once the listed approvals are given.
    Approval,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        self.into()
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
    /// A name meant as an MCP tool (`mcp:` in any case, spaces around) is
    /// not `mcp:SERVER/TOOL` exactly, or `constraints.mcp` is set and an
    /// `mcp:` name has no server or tool.
    McpNameInvalid,
    /// `constraints.mcp.deny_servers[index]` matches the server.
    McpServerDenied {
        index: usize,
        pattern: String,
        server: String,
    },
    /// No entry of `constraints.mcp.servers` names the server.
    McpServerNotAllowed { server: String },
    /// `constraints.mcp.servers[index].<key>` is not what the call states
    /// (`given` empty: the call did not say).
    McpServerMismatch {
        index: usize,
        key: &'static str,
        expected: String,
        given: String,
    },
    /// `constraints.mcp.servers[index].deny_tools[pattern_index]` matched.
    McpToolDenied {
        index: usize,
        pattern_index: usize,
        pattern: String,
    },
    /// `constraints.mcp.servers[index].tools` matches no tool of that name.
    McpToolNotAllowed { index: usize },
    /// `constraints.mcp.servers[index].tools[pattern_index]` matched (and
    /// no deny did).
    McpToolAllowed {
        index: usize,
        pattern_index: usize,
        pattern: String,
    },
    /// The tool is pinned and the call gave no definition hash.
    McpToolPinMissing { key: String },
    /// The tool is pinned to another definition hash.
    McpToolPinMismatch {
        key: String,
        pinned: String,
        given: String,
    },
    /// `constraints.rate_limits[index]` would be exceeded by this call:
    /// `count` calls so far in the window.
    RateLimitExceeded {
        index: usize,
        pattern: String,
        max: u64,
        per: String,
        count: u64,
    },
    /// `constraints.budget.<key>` is (or with this call would be) exceeded.
    BudgetExceeded {
        key: &'static str,
        max: u64,
        used: u64,
    },
    /// `constraints.rate_limits[index]` matches the call and `calls_so_far`
    /// names no tool it matches (the caller did not count).
    RateLimitCounterMissing {
        index: usize,
        pattern: String,
        max: u64,
        per: String,
    },
    /// `constraints.budget.<key>` is set and the call does not give the
    /// counter it caps.
    BudgetCounterMissing {
        key: &'static str,
        max: u64,
        counter: &'static str,
    },
}

impl Basis {
    /// The stable code of a decision that MCP pins, rate limits or the
    /// budget made (`MCP_TOOL_PIN_MISMATCH`, `RATE_LIMIT_EXCEEDED`,
    /// `BUDGET_EXCEEDED`, ...); `None` for the tool policy's own bases.
    pub fn code(&self) -> Option<&'static str> {
        Some(match self {
            Basis::McpNameInvalid => "MCP_NAME_INVALID",
            Basis::McpServerDenied { .. } => "MCP_SERVER_DENIED",
            Basis::McpServerNotAllowed { .. } => "MCP_SERVER_NOT_ALLOWED",
            Basis::McpServerMismatch { .. } => "MCP_SERVER_MISMATCH",
            Basis::McpToolDenied { .. } => "MCP_TOOL_DENIED",
            Basis::McpToolNotAllowed { .. } => "MCP_TOOL_NOT_ALLOWED",
            Basis::McpToolPinMissing { .. } => "MCP_TOOL_PIN_MISSING",
            Basis::McpToolPinMismatch { .. } => "MCP_TOOL_PIN_MISMATCH",
            Basis::RateLimitExceeded { .. } => "RATE_LIMIT_EXCEEDED",
            Basis::BudgetExceeded { .. } => "BUDGET_EXCEEDED",
            Basis::RateLimitCounterMissing { .. } => "RATE_LIMIT_COUNTER_MISSING",
            Basis::BudgetCounterMissing { .. } => "BUDGET_COUNTER_MISSING",
            Basis::DenyPattern { .. }
            | Basis::AllowPattern { .. }
            | Basis::DefaultDeny
            | Basis::GateFailed { .. }
            | Basis::InputTooLarge { .. }
            | Basis::McpToolAllowed { .. } => return None,
        })
    }
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
    /// Decided with [`Counting::NotEvaluated`], and a rate limit or budget
    /// line that covers the call was skipped for want of its counter.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub limits_not_evaluated: bool,
}

/// What a decision does with a rate limit or budget line whose counter the
/// call does not give (docs/wpc-format.md#rate-limits-and-budget).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Counting {
    /// Deny (`RATE_LIMIT_COUNTER_MISSING`, `BUDGET_COUNTER_MISSING`): what
    /// `wpc decide` and `POST /v1/decide` do, a gateway must count.
    #[default]
    Required,
    /// Skip the line and say so in the explanation: policy tests, replay
    /// and the static checks (lint, audit, bundles, which count receipts
    /// themselves) decide a call's per-call rules.
    NotEvaluated,
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
            Basis::McpToolAllowed {
                index,
                pattern_index,
                pattern,
            } => write!(
                f,
                "tool `{tool}` matches `{pattern}` (constraints.mcp.servers[{index}].tools[{pattern_index}]) and no deny pattern"
            )?,
            basis => {
                let code = basis.code().unwrap_or_default();
                write!(f, "{code}: ")?;
                explain_limit(f, tool, basis)?;
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
        if self.limits_not_evaluated {
            f.write_str("; counters not given: rate limits and budget not evaluated")?;
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
        if let Some(code) = self.basis.code() {
            out.insert("code".to_owned(), Value::from(code));
        }
        // A Decision is plain data: serializing it cannot fail.
        if let Ok(Value::Object(fields)) = serde_json::to_value(self) {
            out.extend(fields);
        }
        Value::Object(out)
    }
}

/// The explanation of a basis that has a code, after the code.
fn explain_limit(f: &mut fmt::Formatter<'_>, tool: &str, basis: &Basis) -> fmt::Result {
    match basis {
        Basis::McpNameInvalid => write!(
            f,
            "`{tool}` is meant as an MCP tool but is not `mcp:SERVER/TOOL` exactly; failing closed"
        ),
        Basis::RateLimitCounterMissing {
            index,
            pattern,
            max,
            per,
        } => write!(
            f,
            "`{pattern}` allows {max} calls per {per} (constraints.rate_limits[{index}]) and the call gives no count of the tools it matches (calls_so_far); failing closed"
        ),
        Basis::BudgetCounterMissing { key, max, counter } => write!(
            f,
            "constraints.budget.{key} = {max} and the call does not give `{counter}`; failing closed"
        ),
        Basis::McpServerDenied {
            index,
            pattern,
            server,
        } => write!(
            f,
            "MCP server `{server}` matches `{pattern}` (constraints.mcp.deny_servers[{index}]): every tool of a denied server is denied"
        ),
        Basis::McpServerNotAllowed { server } => {
            write!(f, "MCP server `{server}` is not in constraints.mcp.servers")
        }
        Basis::McpServerMismatch {
            index,
            key,
            expected,
            given,
        } => {
            if given.is_empty() {
                write!(
                    f,
                    "constraints.mcp.servers[{index}].{key} is `{expected}` and the call does not state the server's {key}; failing closed"
                )
            } else {
                write!(
                    f,
                    "the server's {key} `{given}` is not `{expected}` (constraints.mcp.servers[{index}].{key})"
                )
            }
        }
        Basis::McpToolDenied {
            index,
            pattern_index,
            pattern,
        } => write!(
            f,
            "tool `{tool}` matches `{pattern}` (constraints.mcp.servers[{index}].deny_tools[{pattern_index}])"
        ),
        Basis::McpToolNotAllowed { index } => write!(
            f,
            "tool `{tool}` matches none of constraints.mcp.servers[{index}].tools"
        ),
        Basis::McpToolPinMissing { key } => write!(
            f,
            "tool `{tool}` is pinned (constraints.mcp.pinned_tools.\"{key}\") and the call gives no definition hash; failing closed"
        ),
        Basis::McpToolPinMismatch { key, pinned, given } => write!(
            f,
            "tool `{tool}`'s definition hash `{given}` is not the pinned `{pinned}` (constraints.mcp.pinned_tools.\"{key}\"): the server changed the tool since it was pinned"
        ),
        Basis::RateLimitExceeded {
            index,
            pattern,
            max,
            per,
            count,
        } => write!(
            f,
            "{count} calls of `{pattern}` so far in the window; one more exceeds {max} per {per} (constraints.rate_limits[{index}])"
        ),
        Basis::BudgetExceeded { key, max, used } => {
            let what = key.strip_prefix("max_").unwrap_or(key).replace('_', " ");
            if *key == "max_tool_calls" {
                write!(
                    f,
                    "{used} {what} so far; one more exceeds constraints.budget.{key} = {max}"
                )
            } else {
                write!(
                    f,
                    "{used} {what} so far exceed constraints.budget.{key} = {max}: the job may call no more tools"
                )
            }
        }
        Basis::DenyPattern { .. }
        | Basis::AllowPattern { .. }
        | Basis::DefaultDeny
        | Basis::GateFailed { .. }
        | Basis::InputTooLarge { .. }
        | Basis::McpToolAllowed { .. } => Ok(()),
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
    mcp: Option<CompiledMcp>,
    rate_limits: Vec<CompiledLimit>,
    budget: Option<Budget>,
}

/// `[constraints.mcp]` with every pattern list compiled once.
struct CompiledMcp {
    policy: Mcp,
    deny_servers: mcp::Patterns,
    /// One per `servers` entry, in order.
    servers: Vec<CompiledServer>,
}

struct CompiledServer {
    tools: Option<mcp::Patterns>,
    deny_tools: mcp::Patterns,
    url: Option<mcp::Patterns>,
}

impl CompiledMcp {
    fn new(policy: &Mcp) -> Result<CompiledMcp, CompileError> {
        let compile = |patterns: &[String]| {
            mcp::Patterns::new(patterns).map_err(|source| CompileError {
                pattern: patterns.join(", "),
                source,
            })
        };
        let servers = policy
            .servers
            .iter()
            .map(|server| {
                Ok(CompiledServer {
                    tools: server.tools.as_deref().map(compile).transpose()?,
                    deny_tools: compile(server.deny_tools.as_deref().unwrap_or_default())?,
                    url: server
                        .url
                        .as_ref()
                        .map(|url| compile(std::slice::from_ref(url)))
                        .transpose()?,
                })
            })
            .collect::<Result<_, CompileError>>()?;
        Ok(CompiledMcp {
            policy: policy.clone(),
            deny_servers: compile(policy.deny_servers.as_deref().unwrap_or_default())?,
            servers,
        })
    }

    /// [`mcp::standing`] with the compiled patterns.
    fn standing(&self, server: &str) -> (ServerStanding<'_>, Option<&CompiledServer>) {
        if let Some(index) = self.deny_servers.first_match(server) {
            let deny = self.policy.deny_servers.as_deref().unwrap_or_default();
            let pattern = deny.get(index).map_or("", String::as_str);
            return (ServerStanding::Denied { index, pattern }, None);
        }
        match self.policy.server(server) {
            Some((index, entry)) => (
                ServerStanding::Listed { index, entry },
                self.servers.get(index),
            ),
            None => (ServerStanding::Unlisted, None),
        }
    }
}

/// A tool rate limit with its pattern compiled (model limits are not
/// decided per tool call, docs/wpc-format.md#rate-limits-and-budget).
#[derive(Debug)]
struct CompiledLimit {
    index: usize,
    limit: RateLimit,
    pattern: String,
    matcher: GlobMatcher,
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

/// The matcher of a `[[constraints.rate_limits]]` `tool` or `model`
/// pattern, as decisions match it (bundle verification counts with it too).
pub fn limit_matcher(pattern: &str) -> Result<GlobMatcher, CompileError> {
    Ok(Glob::new(pattern)
        .map_err(|source| CompileError {
            pattern: pattern.to_owned(),
            source,
        })?
        .compile_matcher())
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
        let mut rate_limits = Vec::new();
        for (index, limit) in wpc.constraints.rate_limits.iter().enumerate() {
            let Some(pattern) = &limit.tool else {
                continue;
            };
            let matcher = limit_matcher(pattern)?;
            rate_limits.push(CompiledLimit {
                index,
                limit: limit.clone(),
                pattern: pattern.clone(),
                matcher,
            });
        }
        Ok(Engine {
            allow_set: glob_set(&tools.allow)?,
            deny_set: glob_set(&tools.deny)?,
            allow: tools.allow.clone(),
            deny: tools.deny.clone(),
            gates,
            env,
            mcp: wpc
                .constraints
                .mcp
                .as_ref()
                .map(CompiledMcp::new)
                .transpose()?,
            rate_limits,
            budget: wpc.constraints.budget.clone(),
        })
    }

    /// Each approval gate with its compiled `when` (or why it does not
    /// compile), in policy order: what the gate lint rules inspect, so every
    /// expression is compiled once per policy.
    pub fn gates(&self) -> impl Iterator<Item = (&Approval, Result<&Gate, &SyntaxError>)> {
        self.gates.iter().map(|g| (&g.approval, g.gate.as_ref()))
    }

    /// Decide one call; a rate limit or budget line whose counter the call
    /// does not give denies ([`Counting::Required`]).
    pub fn decide(&self, call: &Call) -> Decision {
        self.decide_counting(call, Counting::Required)
    }

    /// Decide one call's per-call rules: a rate limit or budget line whose
    /// counter the call does not give is not evaluated, and the decision
    /// says so ([`Counting::NotEvaluated`]).
    pub fn decide_per_call(&self, call: &Call) -> Decision {
        self.decide_counting(call, Counting::NotEvaluated)
    }

    /// Decide one call, counters missing treated as `counting` says.
    pub fn decide_counting(&self, call: &Call, counting: Counting) -> Decision {
        let mut skipped = false;
        let decision = |verdict, basis, skipped| Decision {
            verdict,
            tool: call.tool.clone(),
            basis,
            approvals: Vec::new(),
            limits_not_evaluated: skipped,
        };
        if let Some((field, limit)) = oversized(call) {
            return decision(Verdict::Deny, Basis::InputTooLarge { field, limit }, false);
        }
        let allowed = match self.allowed(call) {
            Ok(allowed) => allowed,
            Err(denied) => return decision(Verdict::Deny, denied, false),
        };
        if let Err(denied) = self.within_limits(call, counting, &mut skipped) {
            return decision(Verdict::Deny, denied, false);
        }
        match self.fired_gates(call) {
            Ok(approvals) if approvals.is_empty() => decision(Verdict::Allow, allowed, skipped),
            Ok(approvals) => Decision {
                approvals,
                ..decision(Verdict::Approval, allowed, skipped)
            },
            Err(failed) => decision(Verdict::Deny, failed, false),
        }
    }

    /// Why the tool may be called (an allow pattern, or its MCP server's
    /// tool list), or why not: the MCP server checks, the deny patterns,
    /// the allow patterns, then the pin (docs/wpc-format.md#mcp-servers-and-tools).
    fn allowed(&self, call: &Call) -> Result<Basis, Basis> {
        let candidate = Candidate::new(&call.tool);
        let deny_pattern = || {
            first_match(&self.deny_set, &candidate).map(|index| Basis::DenyPattern {
                index,
                pattern: self.deny[index].clone(),
            })
        };
        let allow_pattern = || match first_match(&self.allow_set, &candidate) {
            Some(index) => Ok(Basis::AllowPattern {
                index,
                pattern: self.allow[index].clone(),
            }),
            None => Err(Basis::DefaultDeny),
        };
        // A name meant as an MCP tool but not written `mcp:SERVER/TOOL`
        // exactly (`MCP:x/y`, ` mcp:x/y`) is denied with or without
        // `[constraints.mcp]`: no tool pattern would see it for what it is.
        let meant_mcp = mcp::is_mcp(&call.tool);
        if meant_mcp && !call.tool.starts_with(mcp::PREFIX) {
            return Err(Basis::McpNameInvalid);
        }
        let Some(compiled) = self.mcp.as_ref().filter(|_| meant_mcp) else {
            if let Some(denied) = deny_pattern() {
                return Err(denied);
            }
            return allow_pattern();
        };
        let mcp_policy = &compiled.policy;
        let name = mcp::parse(&call.tool).ok_or(Basis::McpNameInvalid)?;
        let (index, entry, patterns) = match compiled.standing(name.server) {
            (ServerStanding::Denied { index, pattern }, _) => {
                return Err(Basis::McpServerDenied {
                    index,
                    pattern: pattern.to_owned(),
                    server: name.server.to_owned(),
                });
            }
            (ServerStanding::Listed { index, entry }, Some(patterns)) => (index, entry, patterns),
            (ServerStanding::Unlisted | ServerStanding::Listed { .. }, _) => {
                return Err(Basis::McpServerNotAllowed {
                    server: name.server.to_owned(),
                });
            }
        };
        if let Some(transport) = entry.transport
            && call.mcp_transport != transport.as_str()
        {
            return Err(Basis::McpServerMismatch {
                index,
                key: "transport",
                expected: transport.as_str().to_owned(),
                given: call.mcp_transport.clone(),
            });
        }
        if let (Some(url), Some(url_pattern)) = (&entry.url, &patterns.url)
            && (call.mcp_url.is_empty() || url_pattern.first_match(&call.mcp_url).is_none())
        {
            return Err(Basis::McpServerMismatch {
                index,
                key: "url",
                expected: url.clone(),
                given: call.mcp_url.clone(),
            });
        }
        let deny_tools = entry.deny_tools.as_deref().unwrap_or_default();
        if let Some(pattern_index) = patterns.deny_tools.first_match(name.tool) {
            return Err(Basis::McpToolDenied {
                index,
                pattern_index,
                pattern: deny_tools[pattern_index].clone(),
            });
        }
        if let Some(denied) = deny_pattern() {
            return Err(denied);
        }
        let allowed = match (&entry.tools, &patterns.tools) {
            (Some(tools), Some(tool_patterns)) => match tool_patterns.first_match(name.tool) {
                Some(pattern_index) => Basis::McpToolAllowed {
                    index,
                    pattern_index,
                    pattern: tools[pattern_index].clone(),
                },
                None => return Err(Basis::McpToolNotAllowed { index }),
            },
            _ => allow_pattern()?,
        };
        if let Some(pinned) = mcp_policy.pin(name.server, name.tool) {
            let key = name.pin_key();
            if call.definition_hash.is_empty() {
                return Err(Basis::McpToolPinMissing { key });
            }
            if !mcp::pin_matches(pinned, &call.definition_hash) {
                return Err(Basis::McpToolPinMismatch {
                    key,
                    pinned: pinned.to_owned(),
                    given: call.definition_hash.clone(),
                });
            }
        }
        Ok(allowed)
    }

    /// The first rate limit or budget line this call would exceed, or
    /// whose counter it does not give (`counting` says whether that denies
    /// or sets `skipped`).
    fn within_limits(
        &self,
        call: &Call,
        counting: Counting,
        skipped: &mut bool,
    ) -> Result<(), Basis> {
        let counters = &call.counters;
        for compiled in &self.rate_limits {
            if !compiled.matcher.is_match(&call.tool) {
                continue;
            }
            let mut counted = false;
            let count = counters
                .calls_so_far
                .iter()
                .filter(|(tool, _)| compiled.matcher.is_match(tool.as_str()))
                .inspect(|_| counted = true)
                .fold(0u64, |sum, (_, n)| sum.saturating_add(*n));
            if !counted {
                match counting {
                    Counting::Required => {
                        return Err(Basis::RateLimitCounterMissing {
                            index: compiled.index,
                            pattern: compiled.pattern.clone(),
                            max: compiled.limit.max,
                            per: compiled.limit.per.clone(),
                        });
                    }
                    Counting::NotEvaluated => {
                        *skipped = true;
                        continue;
                    }
                }
            }
            if count >= compiled.limit.max {
                return Err(Basis::RateLimitExceeded {
                    index: compiled.index,
                    pattern: compiled.pattern.clone(),
                    max: compiled.limit.max,
                    per: compiled.limit.per.clone(),
                    count,
                });
            }
        }
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        // This call is one more tool call; the model totals are only over
        // budget once they already exceed it.
        let lines = [
            (
                "max_tool_calls",
                "tool_calls",
                budget.max_tool_calls,
                counters.tool_calls,
                1,
            ),
            (
                "max_model_calls",
                "model_calls",
                budget.max_model_calls,
                counters.model_calls,
                0,
            ),
            (
                "max_input_tokens",
                "input_tokens",
                budget.max_input_tokens,
                counters.input_tokens,
                0,
            ),
            (
                "max_output_tokens",
                "output_tokens",
                budget.max_output_tokens,
                counters.output_tokens,
                0,
            ),
        ];
        for (key, counter, max, used, this_call) in lines {
            let Some(max) = max else { continue };
            match (used, counting) {
                (Some(used), _) if used.saturating_add(this_call) > max => {
                    return Err(Basis::BudgetExceeded { key, max, used });
                }
                (Some(_), _) => {}
                (None, Counting::Required) => {
                    return Err(Basis::BudgetCounterMissing { key, max, counter });
                }
                (None, Counting::NotEvaluated) => *skipped = true,
            }
        }
        Ok(())
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
        ("mcp_transport", &call.mcp_transport),
        ("mcp_url", &call.mcp_url),
        ("definition_hash", &call.definition_hash),
    ];
    if let Some((field, _)) = fields
        .iter()
        .find(|(_, value)| value.len() > MAX_FIELD_BYTES)
    {
        return Some((field, MAX_FIELD_BYTES));
    }
    let counted = &call.counters.calls_so_far;
    if counted.len() > MAX_COUNTED_TOOLS {
        return Some(("calls_so_far", MAX_COUNTED_TOOLS));
    }
    if counted.keys().any(|tool| tool.len() > MAX_FIELD_BYTES) {
        return Some(("calls_so_far", MAX_FIELD_BYTES));
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
