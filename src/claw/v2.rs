//! WPC v2: statements, evaluated with explicit Deny winning and default deny
//! (see [`super::evaluate`]). Resources are the tool name for
//! `tool:execute`; models and hosts are matched through the context keys
//! `Model:Provider`, `Model:Name` and `SideEffect:TargetDomain`, as the
//! protocol's own examples do.
//!
//! The protocol's glob differs from wpc's: its `*` stops at `/` (wpc's does
//! not), its `**` stops at line ends, and only a pattern that is exactly `*`
//! or `**` matches everything. So tool patterns are rewritten to be sound:
//! no Allow matches a name with a `/` (no native pattern can name one), and
//! every Deny matches at least what wpc's deny matches among the names an
//! Allow can reach.

use serde_json::{Value, json};

use super::{Gap, Problem, ProblemKind, providers};
use crate::decide::gate::{self, Gate};
use crate::decide::reach::Egress;
use crate::policy::Wpc;
use crate::policy::model::{Requirement, WorkspaceAccess};
use crate::policy::pattern;

/// v2 holds at most 64 statements of at most 256 resources each.
pub const MAX_STATEMENTS: usize = 64;
pub const MAX_RESOURCES: usize = 256;

/// The context value that carries an approval. A Deny with
/// `StringNotEquals` applies when the key is missing, so a caller that
/// does not say is treated as unapproved.
const APPROVED: (&str, &str) = ("Request:HasHumanApproval", "true");

pub(super) fn problems(wpc: &Wpc, out: &mut Vec<Problem>) {
    for (i, allow) in wpc.constraints.tool_policy.allow.iter().enumerate() {
        if allow.contains('?') && !pattern::is_universal(allow) {
            out.push(Problem {
                kind: ProblemKind::Pattern,
                pointer: format!("/constraints/tool_policy/allow/{i}"),
                message: format!(
                    "tool pattern `{allow}`: `?` matches one byte in wpc and one UTF-16 unit in \
                     v2, so v2 would allow more; use `*` and literal text only"
                ),
            });
        }
    }
    super::model_pattern_problems(wpc, out);
    super::egress_pattern_problems(wpc, out);
    let count = statement_list(wpc).len();
    if count > MAX_STATEMENTS {
        out.push(Problem {
            kind: ProblemKind::Limit,
            pointer: "/constraints".to_owned(),
            message: format!(
                "the v2 export needs {count} statements (one per provider and model pattern \
                 pair, per egress pattern, per {MAX_RESOURCES} tool patterns); v2 holds at most \
                 {MAX_STATEMENTS}"
            ),
        });
    }
}

pub(super) fn statements(wpc: &Wpc) -> Value {
    Value::Array(statement_list(wpc))
}

fn statement_list(wpc: &Wpc) -> Vec<Value> {
    let mut out = Vec::new();
    tools(wpc, &mut out);
    models(wpc, &mut out);
    egress(wpc, &mut out);
    workspace(wpc.constraints.sandbox.workspace_access, &mut out);
    out
}

fn statement(sid: &str, effect: &str, actions: &[&str], resources: &[String]) -> Value {
    json!({ "sid": sid, "effect": effect, "actions": actions, "resources": resources })
}

/// One statement per chunk of at most [`MAX_RESOURCES`] resources, the
/// second and later numbered from 2.
fn chunked(
    sid: &str,
    effect: &str,
    resources: &[String],
    conditions: Option<&Value>,
) -> Vec<Value> {
    resources
        .chunks(MAX_RESOURCES)
        .enumerate()
        .map(|(n, chunk)| {
            let sid = if n == 0 {
                sid.to_owned()
            } else {
                format!("{sid}{}", n + 1)
            };
            let mut s = statement(&sid, effect, &["tool:execute"], chunk);
            if let (Some(conditions), Some(object)) = (conditions, s.as_object_mut()) {
                object.insert("conditions".into(), conditions.clone());
            }
            s
        })
        .collect()
}

fn tools(wpc: &Wpc, out: &mut Vec<Value>) {
    let policy = &wpc.constraints.tool_policy;
    let env = gate::environment();
    let gates: Vec<Option<Gate>> = wpc
        .constraints
        .approvals
        .iter()
        .map(|a| Gate::compile(&env, &a.when).ok())
        .collect();
    // A gate that does not compile denies every allowed call natively.
    if gates.iter().any(Option::is_none) {
        out.push(statement(
            "DenyToolsUnevaluableGate",
            "Deny",
            &["tool:execute"],
            &["*".to_owned()],
        ));
    }
    let deny: Vec<String> = dedup(policy.deny.iter().map(|p| deny_pattern(p)));
    out.extend(chunked("DenyTools", "Deny", &deny, None));
    let allow: Vec<String> = dedup(policy.allow.iter().map(|p| allow_pattern(p)));
    out.extend(chunked("AllowTools", "Allow", &allow, None));
    // A gate decided by the tool name becomes an approval requirement on
    // exactly its tools. Any other gate depends on the call (and wpc denies
    // a call whose `when` fails to evaluate), which v2 cannot test: its
    // tools are denied outright, stricter but never weaker.
    let (exact, undecided): (Vec<&Gate>, Vec<&Gate>) = gates
        .iter()
        .flatten()
        .partition(|gate| decided_by_name(gate, &policy.allow));
    let tools_of = |gates: Vec<&Gate>| {
        dedup(
            gates
                .into_iter()
                .flat_map(|gate| gated_tools(gate, &policy.allow)),
        )
    };
    out.extend(chunked(
        "DenyCallDependentGate",
        "Deny",
        &tools_of(undecided),
        None,
    ));
    let unapproved = json!({ "StringNotEquals": { APPROVED.0: APPROVED.1 } });
    out.extend(chunked(
        "RequireApproval",
        "Deny",
        &tools_of(exact),
        Some(&unapproved),
    ));
}

/// The v2 resources a gate may fire for: its guard's tools, or the allow
/// patterns it is not known to stay quiet for (a wildcard pattern stands
/// for all its tools), as Deny patterns.
fn gated_tools(gate: &Gate, allow: &[String]) -> Vec<String> {
    let candidates: Vec<&String> = match gate.tool_guard() {
        Some(tools) => {
            return tools
                .iter()
                .filter(|tool| gate.for_tool(tool) != Some(false))
                .map(|tool| deny_pattern(tool))
                .collect();
        }
        None => allow.iter().collect(),
    };
    candidates
        .into_iter()
        .filter(|p| is_wildcard(p) || gate.for_tool(p) != Some(false))
        .map(|p| deny_pattern(p))
        .collect()
}

/// Whether the gate is decided by the tool name alone for every tool it
/// may fire for: then v2 says exactly what it says.
fn decided_by_name(gate: &Gate, allow: &[String]) -> bool {
    match gate.tool_guard() {
        Some(tools) => tools.iter().all(|t| gate.for_tool(t).is_some()),
        None => allow
            .iter()
            .all(|p| !is_wildcard(p) && gate.for_tool(p).is_some()),
    }
}

fn is_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// A native deny pattern as a v2 pattern matching at least the same
/// names without `/`: runs of `*` become one `*` (which, unlike `**`,
/// crosses line ends), and `?` (one byte natively, so several `?` can match
/// one character) becomes `*`. A universal pattern stays universal.
fn deny_pattern(native: &str) -> String {
    if pattern::is_universal(native) {
        return "*".to_owned();
    }
    collapse_stars(&native.replace('?', "*"))
}

/// A native allow pattern as a v2 pattern matching at most the same names,
/// and none with a `/`: a universal pattern becomes `?*` (a pattern that is
/// exactly `*` would match every name, and no v2 Deny can follow wpc's
/// deny patterns across a `/`).
fn allow_pattern(native: &str) -> String {
    if pattern::is_universal(native) {
        return "?*".to_owned();
    }
    collapse_stars(native)
}

fn collapse_stars(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if !(c == '*' && out.ends_with('*')) {
            out.push(c);
        }
    }
    out
}

fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn models(wpc: &Wpc, out: &mut Vec<Value>) {
    let calls = wpc.constraints.model_calls.as_ref();
    let providers: Vec<Option<String>> = match calls.and_then(|m| m.allowed_providers.as_ref()) {
        None => vec![None],
        Some(list) => providers(list).into_iter().map(Some).collect(),
    };
    let models: Vec<Option<String>> = match calls.and_then(|m| m.allowed_models.as_ref()) {
        None => vec![None],
        Some(list) => dedup(list.iter().cloned()).into_iter().map(Some).collect(),
    };
    let mut n = 0;
    for provider in &providers {
        for model in &models {
            n += 1;
            let mut s = statement(
                &format!("AllowModel{n}"),
                "Allow",
                &["model:invoke"],
                &["*".to_owned()],
            );
            let mut conditions = serde_json::Map::new();
            if let Some(provider) = provider {
                conditions.insert("StringEquals".into(), json!({ "Model:Provider": provider }));
            }
            if let Some(model) = model {
                conditions.insert("StringLike".into(), json!({ "Model:Name": model }));
            }
            if let (false, Some(object)) = (conditions.is_empty(), s.as_object_mut()) {
                object.insert("conditions".into(), Value::Object(conditions));
            }
            out.push(s);
        }
    }
}

fn egress(wpc: &Wpc, out: &mut Vec<Value>) {
    let all = ["*".to_owned()];
    let action = ["side_effect:network_egress"];
    match Egress::new(wpc) {
        Ok(Egress::Anywhere) => {
            out.push(statement("AllowEgress", "Allow", &action, &all));
        }
        Ok(Egress::Allowlist(_)) => {
            let patterns = wpc
                .constraints
                .egress
                .as_ref()
                .map(|e| dedup(e.allowlist.iter().map(|p| p.to_ascii_lowercase())))
                .unwrap_or_default();
            if patterns.is_empty() {
                out.push(statement("DenyEgress", "Deny", &action, &all));
            }
            for (n, host) in patterns.iter().enumerate() {
                let mut s = statement(&format!("AllowEgress{}", n + 1), "Allow", &action, &all);
                if let Some(object) = s.as_object_mut() {
                    object.insert(
                        "conditions".into(),
                        json!({ "StringLike": { "SideEffect:TargetDomain": host } }),
                    );
                }
                out.push(s);
            }
        }
        // Reaching nowhere, or an allowlist that does not compile (which
        // wpc's own checks refuse): deny.
        Ok(Egress::Nowhere) | Err(_) => {
            out.push(statement("DenyEgress", "Deny", &action, &all));
        }
    }
}

fn workspace(access: WorkspaceAccess, out: &mut Vec<Value>) {
    let all = ["*".to_owned()];
    let read = "side_effect:filesystem_read";
    let write = "side_effect:filesystem_write";
    match access {
        WorkspaceAccess::None => {
            out.push(statement("DenyWorkspace", "Deny", &[read, write], &all));
        }
        WorkspaceAccess::Ro => {
            out.push(statement("AllowWorkspaceRead", "Allow", &[read], &all));
            out.push(statement("DenyWorkspaceWrite", "Deny", &[write], &all));
        }
        WorkspaceAccess::Rw => {
            out.push(statement("AllowWorkspace", "Allow", &[read, write], &all));
        }
    }
}

pub(super) fn gaps(wpc: &Wpc) -> Vec<Gap> {
    let env = gate::environment();
    let allow = &wpc.constraints.tool_policy.allow;
    let mut out = Vec::new();
    for (i, approval) in wpc.constraints.approvals.iter().enumerate() {
        let Ok(gate) = Gate::compile(&env, &approval.when) else {
            continue;
        };
        let pointer = format!("/constraints/approvals/{i}");
        let mut gaps = Vec::new();
        if approval.require == Requirement::TicketId {
            gaps.push(
                "v2 has no ticket vocabulary: it asks for a human approval \
                 (`Request:HasHumanApproval`) instead of a ticket id"
                    .to_owned(),
            );
        }
        if let Some(approvers) = approval.approvers.as_ref().filter(|a| !a.is_empty()) {
            gaps.push(format!(
                "v2 cannot name approvers: anyone's approval satisfies it, not only {}",
                approvers.join(", ")
            ));
        }
        if !decided_by_name(&gate, allow) {
            gaps.push(
                "v2 cannot test the call's content, arguments or target: the export denies \
                 every call of the tools this gate may fire for, approved or not (stricter than \
                 wpc, which lets them through when `when` is false)"
                    .to_owned(),
            );
        }
        for gap in gaps {
            out.push(Gap {
                pointer: pointer.clone(),
                message: gap,
            });
        }
    }
    out
}
