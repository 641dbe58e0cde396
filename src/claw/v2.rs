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
use crate::policy::mcp::{self, ServerStanding};
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

/// The tool patterns the export allows and denies: the tool policy's, and
/// with `[constraints.mcp]` the MCP servers' (docs/claw.md#mcp-tools).
struct ToolSets {
    allow: Vec<String>,
    deny: Vec<String>,
    /// v2 deny patterns for the `mcp:` names wpc refuses as malformed.
    malformed: Vec<String>,
    /// `constraints.tool_policy.allow` items left out: they could reach MCP
    /// tools `[constraints.mcp]` decides, which v2 cannot follow.
    dropped: Vec<usize>,
}

fn tool_sets(wpc: &Wpc) -> ToolSets {
    let policy = &wpc.constraints.tool_policy;
    let Some(mcp_policy) = &wpc.constraints.mcp else {
        return ToolSets {
            allow: policy.allow.clone(),
            deny: policy.deny.clone(),
            malformed: Vec::new(),
            dropped: Vec::new(),
        };
    };
    let listed_without_tools = |server: &str| {
        matches!(
            mcp::standing(mcp_policy, server),
            ServerStanding::Listed { entry, .. } if entry.tools.is_none()
        )
    };
    let (mut allow, mut dropped) = (Vec::new(), Vec::new());
    for (i, pattern) in policy.allow.iter().enumerate() {
        // A v2 allow pattern reaches a name with a `/` only through a
        // literal `/` of its own (its `*` and `?` stop at `/`), and an MCP
        // name is `mcp:SERVER/TOOL`: a pattern without `/`, or one that
        // matches no `mcp:` name, cannot reach an MCP tool.
        let keep = match pattern.split_once('/') {
            None => true,
            Some((head, _)) => {
                !pattern::overlaps(pattern, "mcp:*")
                    || head.strip_prefix(mcp::PREFIX).is_some_and(|server| {
                        mcp::is_server_name(server) && listed_without_tools(server)
                    })
            }
        };
        if keep {
            allow.push(pattern.clone());
        } else {
            dropped.push(i);
        }
    }
    let mut deny = policy.deny.clone();
    for server in &mcp_policy.servers {
        if !matches!(
            mcp::standing(mcp_policy, &server.name),
            ServerStanding::Listed { .. }
        ) {
            continue;
        }
        for tool in server.tools.iter().flatten() {
            allow.push(mcp::name(&server.name, tool));
        }
        for tool in server.deny_tools.iter().flatten() {
            deny.push(mcp::name(&server.name, tool));
        }
    }
    for server in mcp_policy.deny_servers.iter().flatten() {
        deny.push(format!("{}{server}/*", mcp::PREFIX));
    }
    // Names wpc refuses as not `mcp:SERVER/TOOL` that an allow pattern can
    // still reach in v2: no `/` (`mcp:*` or `*` reach them), or an empty
    // tool (`mcp:github/*` reaches `mcp:github/`). The server part of a
    // kept allow is always literal, and no allow reaches a second `/`.
    // These are v2 patterns already: spreading `/`s over their stars
    // would deny every MCP tool.
    let malformed = vec![format!("{}*", mcp::PREFIX), format!("{}*/", mcp::PREFIX)];
    ToolSets {
        allow,
        deny,
        malformed,
        dropped,
    }
}

/// What a caller must state for a listed server's tools, and the pins:
/// each a Deny that applies unless the context carries the expected value
/// (`StringNotEquals` and `StringNotLike` pass when the key is missing, so
/// a caller that does not say is denied, as wpc denies it).
fn mcp_statements(wpc: &Wpc, depth: usize, out: &mut Vec<Value>) {
    let Some(mcp_policy) = &wpc.constraints.mcp else {
        return;
    };
    let mut n = 0;
    let mut deny_unless = |resources: Vec<String>, operator: &str, key: &str, value: &str| {
        n += 1;
        let mut s = statement(
            &format!("DenyMcp{n}"),
            "Deny",
            &["tool:execute"],
            &resources,
        );
        if let Some(object) = s.as_object_mut() {
            object.insert("conditions".into(), json!({ operator: { key: value } }));
        }
        out.push(s);
    };
    for server in &mcp_policy.servers {
        if !matches!(
            mcp::standing(mcp_policy, &server.name),
            ServerStanding::Listed { .. }
        ) {
            continue;
        }
        let all = deny_resources(&mcp::name(&server.name, "*"), depth);
        if let Some(transport) = server.transport {
            deny_unless(
                all.clone(),
                "StringNotEquals",
                MCP_TRANSPORT,
                transport.as_str(),
            );
        }
        if let Some(url) = &server.url {
            deny_unless(all, "StringNotLike", MCP_URL, url);
        }
    }
    for (key, hash) in mcp_policy.pinned_tools.iter().flatten() {
        deny_unless(
            vec![format!("{}{key}", mcp::PREFIX)],
            "StringNotEquals",
            DEFINITION_HASH,
            hash,
        );
    }
}

/// The context keys the export's MCP statements read.
pub const MCP_TRANSPORT: &str = "Mcp:Transport";
pub const MCP_URL: &str = "Mcp:Url";
pub const DEFINITION_HASH: &str = "Tool:DefinitionHash";

/// How many `/` the export's allow patterns can reach: every v2 `*` and
/// `?` stops at `/`, so an allowed name has exactly as many as its pattern.
fn slash_depth(allow: &[String]) -> usize {
    allow
        .iter()
        .map(|p| allow_pattern(p).matches('/').count())
        .max()
        .unwrap_or(0)
}

fn tools(wpc: &Wpc, out: &mut Vec<Value>) {
    let sets = tool_sets(wpc);
    let depth = slash_depth(&sets.allow);
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
    let deny: Vec<String> = dedup(
        sets.deny
            .iter()
            .flat_map(|p| deny_resources(p, depth))
            .chain(sets.malformed.iter().cloned()),
    );
    out.extend(chunked("DenyTools", "Deny", &deny, None));
    let allow: Vec<String> = dedup(sets.allow.iter().map(|p| allow_pattern(p)));
    out.extend(chunked("AllowTools", "Allow", &allow, None));
    mcp_statements(wpc, depth, out);
    // A gate decided by the tool name becomes an approval requirement on
    // exactly its tools. Any other gate depends on the call (and wpc denies
    // a call whose `when` fails to evaluate), which v2 cannot test: its
    // tools are denied outright, stricter but never weaker.
    let (exact, undecided): (Vec<&Gate>, Vec<&Gate>) = gates
        .iter()
        .flatten()
        .partition(|gate| decided_by_name(gate, &sets.allow));
    let tools_of = |gates: Vec<&Gate>| {
        dedup(
            gates
                .into_iter()
                .flat_map(|gate| gated_tools(gate, &sets.allow))
                .flat_map(|p| deny_resources(&p, depth)),
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
                .cloned()
                .collect();
        }
        None => allow.iter().collect(),
    };
    candidates
        .into_iter()
        .filter(|p| is_wildcard(p) || gate.for_tool(p) != Some(false))
        .cloned()
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

/// A native deny pattern as v2 patterns that together match at least what
/// it matches among names with at most `depth` `/`s: a native `*` runs
/// across `/`, a v2 `*` does not, so each way of spreading the missing `/`s
/// over the pattern's stars is one more pattern (`*.merge` at depth 1 is
/// also `*/*.merge`). At depth 0 (no allow pattern names a `/`) it is the
/// one pattern [`deny_pattern`] gives.
fn deny_resources(native: &str, depth: usize) -> Vec<String> {
    let base = deny_pattern(native);
    let slashes = base.matches('/').count();
    if base == "*" || !base.contains('*') || depth <= slashes {
        return vec![base];
    }
    let parts: Vec<&str> = base.split('*').collect();
    let mut out = Vec::new();
    for extra in 0..=depth - slashes {
        spread(&parts, 1, extra, parts[0].to_owned(), &mut out);
    }
    out
}

/// Every pattern made of `parts` joined by stars, `extra` more `/*` spread
/// over the stars from `at` on.
fn spread(parts: &[&str], at: usize, extra: usize, prefix: String, out: &mut Vec<String>) {
    if at == parts.len() {
        if extra == 0 {
            out.push(prefix);
        }
        return;
    }
    for here in 0..=extra {
        let star = format!("*{}", "/*".repeat(here));
        spread(
            parts,
            at + 1,
            extra - here,
            format!("{prefix}{star}{}", parts[at]),
            out,
        );
    }
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
    let sets = tool_sets(wpc);
    let allow = &sets.allow;
    let mut out = Vec::new();
    for i in &sets.dropped {
        out.push(Gap {
            pointer: format!("/constraints/tool_policy/allow/{i}"),
            message: format!(
                "v2 cannot follow `[constraints.mcp]` for `{}`: the export leaves it out, so \
                 the MCP tools it reaches are denied unless a server's `tools` names them \
                 (stricter than wpc)",
                wpc.constraints.tool_policy.allow[*i]
            ),
        });
    }
    let conditioned = wpc.constraints.mcp.as_ref().is_some_and(|m| {
        m.pinned_tools.as_ref().is_some_and(|p| !p.is_empty())
            || m.servers
                .iter()
                .any(|s| s.transport.is_some() || s.url.is_some())
    });
    if conditioned {
        out.push(Gap {
            pointer: "/constraints/mcp".to_owned(),
            message: format!(
                "v2 checks a pinned tool's definition, and a server's transport and URL, only \
                 through the context keys `{DEFINITION_HASH}`, `{MCP_TRANSPORT}` and \
                 `{MCP_URL}`: an evaluator that does not pass them denies those tools"
            ),
        });
    }
    if !wpc.constraints.rate_limits.is_empty() {
        out.push(Gap {
            pointer: "/constraints/rate_limits".to_owned(),
            message: "v2 has no rate limits: a gateway enforcing the export does not count \
                      calls, so it allows what exceeds them (they travel in `metadata`)"
                .to_owned(),
        });
    }
    if wpc.constraints.budget.is_some() {
        out.push(Gap {
            pointer: "/constraints/budget".to_owned(),
            message: "v2 has no budget: a gateway enforcing the export does not count calls or \
                      tokens, so it allows a job past its budget (it travels in `metadata`)"
                .to_owned(),
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_patterns_spread_the_slashes_an_allow_can_reach() {
        assert_eq!(deny_resources("*.merge", 0), ["*.merge"]);
        assert_eq!(deny_resources("*.merge", 1), ["*.merge", "*/*.merge"]);
        assert_eq!(deny_resources("a*b*c", 1), ["a*b*c", "a*b*/*c", "a*/*b*c"]);
        // A pattern that already has the `/`s, a literal, or everything.
        assert_eq!(deny_resources("mcp:*/delete_*", 1), ["mcp:*/delete_*"]);
        assert_eq!(deny_resources("exec", 2), ["exec"]);
        assert_eq!(deny_resources("**", 3), ["*"]);
        assert_eq!(slash_depth(&["read".into(), "mcp:github/*".into()]), 1);
    }

    #[test]
    fn mcp_gaps_name_what_the_export_drops_and_cannot_count() {
        let policy = crate::policy::testing::policy(&format!(
            "{}\n[constraints.mcp]\n[[constraints.mcp.servers]]\nname = \"github\"\ntools = [\"get_issue\"]\n\
             [[constraints.rate_limits]]\ntool = \"read\"\nmax = 1\nper = \"1h\"\n\
             [constraints.budget]\nmax_tool_calls = 5\n",
            crate::policy::testing::CLEAN.replace(
                "allow = [\"read\", \"repo.comment\"]",
                "allow = [\"read\", \"mcp:*/*\"]"
            )
        ));
        let gaps: Vec<String> = gaps(&policy.wpc).into_iter().map(|g| g.pointer).collect();
        assert_eq!(
            gaps,
            [
                "/constraints/tool_policy/allow/1",
                "/constraints/rate_limits",
                "/constraints/budget"
            ]
        );
        let statements = statements(&policy.wpc);
        let allow = statements
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["sid"] == "AllowTools")
            .unwrap();
        assert_eq!(allow["resources"], json!(["read", "mcp:github/get_issue"]));
    }
}
