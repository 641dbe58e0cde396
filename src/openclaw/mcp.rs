//! MCP servers of an OpenClaw config (`mcp.servers.<name>`) and how an agent
//! reaches their tools, held against a WPC's `[constraints.mcp]` under the
//! names `mcp:<safe-server-name>/<tool>` (docs/openclaw.md#mcp-servers).
//!
//! The tools themselves are discovered by the runtime (`tools/list`), so the
//! config cannot list them: an agent reaches either the tools its allow lists
//! name (`<safe>__<tool>`, globs included) or, through the plugin id
//! `bundle-mcp`, `group:plugins`, a profile or `<safe>__*`, every tool of the
//! server, which wpc checks with a tool name no entry names ([`UNNAMED`]).

use crate::decide::{Basis, Call, Decision, Verdict};
use crate::policy::mcp::{self as wpc_mcp, ServerStanding};
use crate::policy::model::{McpServer, McpTransport};

use super::conformance::Target;
use super::json5::{Kind, Node};
use super::tools::{PluginPolicies, Removal};
use super::{AgentTools, Context};

/// The tool name standing for "a tool of the server that no entry of the
/// config names": valid as an MCP tool name, and only a glob as wide as
/// `<server>__*` or `*` matches it.
pub const UNNAMED: &str = "wpc.unnamed.tool";

/// One entry of `mcp.servers`.
pub struct Server<'a> {
    /// The key under `mcp.servers`.
    pub name: &'a str,
    /// The name its tools carry: `<safe>__<tool>`, and `mcp:<safe>/<tool>`
    /// in a WPC ([`safe_name`]).
    pub safe: String,
    /// The server's object (where findings about it point).
    pub node: &'a Node,
    /// Its transport, when the config says or implies it.
    pub transport: Option<McpTransport>,
    /// What the config writes for the transport (`transport` or `type`).
    pub transport_written: Option<&'a str>,
    /// Its URL, or its stdio command and arguments joined by spaces.
    pub endpoint: Option<String>,
}

/// The safe name of a server as wpc reads it: every character other than an
/// ASCII letter, digit, `_` or `-` becomes `_` (tool names sent to model
/// providers allow only those). The refs do not give OpenClaw's exact
/// transformation; docs/openclaw.md says so.
pub fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Most servers of one config the audit checks (OCW008 reports a config
/// with more: the rest are not checked, so the audit fails).
pub const MAX_SERVERS: usize = 256;

/// Every server of `mcp.servers`, in file order, at most [`MAX_SERVERS`]. A non-object value is a
/// server too (the runtime would refuse it; the audit fails closed and keeps
/// it, with nothing known of its transport).
pub fn servers(root: &Node) -> Vec<Server<'_>> {
    let Some(servers) = root.at(&["mcp", "servers"]) else {
        return Vec::new();
    };
    servers
        .members()
        .iter()
        .take(MAX_SERVERS)
        .map(|m| {
            let node = &m.value;
            let transport_written = node
                .get("transport")
                .or_else(|| node.get("type"))
                .and_then(Node::as_str);
            let command = node.get("command").and_then(Node::as_str);
            let url = node.get("url").and_then(Node::as_str);
            let transport = match transport_written {
                Some(written) => parse_transport(written),
                None if command.is_some() => Some(McpTransport::Stdio),
                None => None,
            };
            let endpoint = match (url, command) {
                (Some(url), _) => Some(url.to_owned()),
                (None, Some(command)) => {
                    let args = node.get("args").and_then(Node::as_array).unwrap_or(&[]);
                    let mut parts = vec![command.to_owned()];
                    parts.extend(args.iter().filter_map(Node::as_str).map(str::to_owned));
                    Some(parts.join(" "))
                }
                (None, None) => None,
            };
            Server {
                name: &m.key,
                safe: safe_name(&m.key),
                node,
                transport,
                transport_written,
                endpoint,
            }
        })
        .collect()
}

fn parse_transport(written: &str) -> Option<McpTransport> {
    match written.trim().to_ascii_lowercase().as_str() {
        "stdio" => Some(McpTransport::Stdio),
        "sse" => Some(McpTransport::Sse),
        "http" | "streamable-http" | "streamable_http" | "streamablehttp" => {
            Some(McpTransport::StreamableHttp)
        }
        _ => None,
    }
}

/// How one agent reaches one server's tools.
#[derive(Default)]
pub struct Reach<'a> {
    /// Tools no entry of the config names are reachable (every tool of the
    /// server, as far as the config can say).
    pub unnamed: bool,
    /// Tools an entry names (`<safe>__<tool>`, a `*` kept as written) that
    /// are reachable, with the entry.
    pub named: Vec<(String, &'a Node)>,
}

impl Reach<'_> {
    pub fn any(&self) -> bool {
        self.unnamed || !self.named.is_empty()
    }
}

/// Whether a removal leaves the tool reachable in some session (a provider
/// policy of the primary model only does not count, as for core tools).
fn reachable(removed: Option<Removal<'_>>) -> bool {
    removed.is_none_or(|r| r.model_only)
}

/// How an agent (its policies) reaches the tools of `server`; `named`: the
/// server's [`named_tools`].
pub fn reach<'a>(
    policies: &PluginPolicies<'a>,
    named: &[(String, &'a Node)],
    server: &Server<'_>,
) -> Reach<'a> {
    let prefix = format!("{}__", server.safe.to_ascii_lowercase());
    let unnamed = reachable(policies.removal(&format!("{prefix}{UNNAMED}")));
    let named = named
        .iter()
        .filter(|(tool, _)| reachable(policies.removal(&instance(&format!("{prefix}{tool}")))))
        .cloned()
        .collect();
    Reach { unnamed, named }
}

/// The tools of `server` that entries of the config name (`<safe>__<tool>`,
/// lowercase, each once, with its first entry); `entries`: the config's
/// [`string_entries`].
pub fn named_tools<'a>(
    entries: &[(String, &'a Node)],
    server: &Server<'_>,
) -> Vec<(String, &'a Node)> {
    let prefix = format!("{}__", server.safe.to_ascii_lowercase());
    let mut named: Vec<(String, &'a Node)> = Vec::new();
    for (lower, node) in entries {
        let Some(tool) = lower.strip_prefix(&prefix) else {
            continue;
        };
        if !tool.is_empty() && !named.iter().any(|(t, _)| t == tool) {
            named.push((tool.to_owned(), node));
        }
    }
    named
}

/// Every server of the config ([`servers`]) with the tools its entries name
/// ([`named_tools`]): what the rules that walk agents × servers start from.
pub fn servers_with_named_tools(root: &Node) -> Vec<(Server<'_>, Vec<(String, &Node)>)> {
    let entries = string_entries(root);
    servers(root)
        .into_iter()
        .map(|server| {
            let named = named_tools(&entries, &server);
            (server, named)
        })
        .collect()
}

/// One MCP server of the config as one agent the target checks reaches it.
pub struct AgentReach<'s, 'a> {
    pub agent: &'a AgentTools<'a>,
    pub server: &'s Server<'a>,
    pub standing: Standing<'a>,
    pub reach: Reach<'a>,
}

/// For each agent the target checks, agent by agent, each MCP server of the
/// config that `judged` keeps (given its standing under the target), with
/// how the agent reaches its tools: worked out only for the servers kept, as
/// agents × servers can be large. `servers`: [`servers_with_named_tools`].
pub fn agent_reach<'s, 'a>(
    cx: &Context<'a>,
    target: &'a Target,
    servers: &'s [(Server<'a>, Vec<(String, &'a Node)>)],
    judged: impl Fn(&Server<'a>, &Standing<'a>) -> bool,
) -> Vec<AgentReach<'s, 'a>> {
    let mut out = Vec::new();
    for agent in cx.target_agents() {
        let policies = PluginPolicies::new(cx.root, &agent.scope);
        for (server, named) in servers {
            let standing = standing(target, &server.safe);
            if judged(server, &standing) {
                let reach = reach(&policies, named, server);
                out.push(AgentReach {
                    agent,
                    server,
                    standing,
                    reach,
                });
            }
        }
    }
    out
}

/// Every string inside an array of the config that could name an MCP tool
/// (contains `__`), trimmed and lowercase: allow and deny lists are arrays
/// of strings, wherever they are.
pub fn string_entries(root: &Node) -> Vec<(String, &Node)> {
    let mut out = Vec::new();
    string_items(root, &mut out);
    out.into_iter()
        .filter_map(|n| {
            let text = n.as_str()?;
            text.contains("__")
                .then(|| (text.trim().to_ascii_lowercase(), n))
        })
        .collect()
}

/// A tool name a glob entry matches: each `*` stands for [`UNNAMED`]'s text.
pub fn instance(tool: &str) -> String {
    tool.replace('*', "wpc")
}

/// Every string inside an array of the config (allow and deny lists are
/// arrays of strings, wherever they are).
fn string_items<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    match &node.kind {
        Kind::Array(items) => {
            for item in items {
                if item.as_str().is_some() {
                    out.push(item);
                } else {
                    string_items(item, out);
                }
            }
        }
        Kind::Object(members) => {
            for m in members {
                string_items(&m.value, out);
            }
        }
        _ => {}
    }
}

/// Where the server stands in the WPC.
pub enum Standing<'p> {
    /// `[constraints.mcp]` lists it (or the WPC has none and its tool policy
    /// can allow some `mcp:<safe>/...` tool).
    Allowed(Option<(usize, &'p McpServer)>),
    /// `deny_servers[index]` matches it.
    Denied(&'p str),
    /// `[constraints.mcp]` does not list it, or (without one) no allow
    /// pattern of the tool policy can match a tool of it.
    NotAllowed,
}

pub fn standing<'p>(target: &'p Target, safe: &str) -> Standing<'p> {
    let constraints = &target.policy.wpc.constraints;
    match &constraints.mcp {
        Some(mcp) => match wpc_mcp::standing(mcp, safe) {
            ServerStanding::Denied { pattern, .. } => Standing::Denied(pattern),
            ServerStanding::Unlisted => Standing::NotAllowed,
            ServerStanding::Listed { index, entry } => Standing::Allowed(Some((index, entry))),
        },
        None => {
            let prefix = format!("{}{safe}/", wpc_mcp::PREFIX);
            if constraints
                .tool_policy
                .allow
                .iter()
                .any(|p| could_match_prefix(p, &prefix))
            {
                Standing::Allowed(None)
            } else {
                Standing::NotAllowed
            }
        }
    }
}

/// The WPC's decision for `tool` of the server, with the server's
/// transport and URL taken as the WPC states them (OCW009 checks those) and
/// the pin as the hash (OCW011 says that OpenClaw checks none).
pub fn decide(target: &Target, server: &Server<'_>, tool: &str) -> Decision {
    let mut call = Call::tool(wpc_mcp::name(&server.safe, tool));
    if let Some(mcp) = &target.policy.wpc.constraints.mcp {
        if let Some((_, entry)) = mcp.server(&server.safe) {
            call.mcp_transport = entry
                .transport
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default();
            call.mcp_url = entry.url.clone().unwrap_or_default();
        }
        call.definition_hash = mcp.pin(&server.safe, tool).unwrap_or_default().to_owned();
    }
    target.engine.decide_per_call(&call)
}

/// Whether the decision lets the tool be called (an approval gate is
/// enforced where the WPC is).
pub fn allows(decision: &Decision) -> bool {
    matches!(decision.verdict, Verdict::Allow | Verdict::Approval)
}

/// Why the WPC allows only some tools of a server it allows, or `None` when
/// it allows every tool (so reaching every tool conforms).
pub fn restriction(target: &Target, server: &Server<'_>) -> Option<String> {
    let constraints = &target.policy.wpc.constraints;
    let prefix = format!("{}{}/", wpc_mcp::PREFIX, server.safe);
    if let Some(p) = constraints
        .tool_policy
        .deny
        .iter()
        .find(|p| could_match_prefix(p, &prefix))
    {
        return Some(format!("the tool policy denies some of its tools (`{p}`)"));
    }
    let entry = constraints
        .mcp
        .as_ref()
        .and_then(|m| m.server(&server.safe))
        .map(|(_, e)| e);
    if let Some(entry) = entry {
        if let Some(p) = entry.deny_tools.as_deref().unwrap_or_default().first() {
            return Some(format!("it denies some of its tools (`deny_tools`: `{p}`)"));
        }
        if let Some(tools) = &entry.tools
            && !tools.iter().any(|t| t == "*")
        {
            return Some(format!("it allows only the tools `{}`", tools.join("`, `")));
        }
    }
    let decision = decide(target, server, UNNAMED);
    if !allows(&decision) {
        return Some(format!("its tools are limited: {decision}"));
    }
    if entry.is_none_or(|e| e.tools.is_none())
        && !constraints
            .tool_policy
            .allow
            .iter()
            .any(|p| p.ends_with('*') && wpc_mcp::matches(p, &prefix))
    {
        return Some(format!(
            "no allow pattern of its tool policy covers every tool (`{prefix}*`)"
        ));
    }
    None
}

/// Whether some text starting with `prefix` matches the `*`/`?` pattern.
pub fn could_match_prefix(pattern: &str, prefix: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let closure = |states: &mut Vec<usize>| {
        let mut i = 0;
        while i < states.len() {
            let p = states[i];
            if pattern.get(p) == Some(&'*') && !states.contains(&(p + 1)) {
                states.push(p + 1);
            }
            i += 1;
        }
    };
    let mut states = vec![0];
    closure(&mut states);
    for c in prefix.chars() {
        let mut next = Vec::new();
        for &p in &states {
            match pattern.get(p) {
                Some('*') => next.push(p),
                Some(&q) if q == '?' || q == c => next.push(p + 1),
                _ => {}
            }
        }
        next.sort_unstable();
        next.dedup();
        closure(&mut next);
        if next.is_empty() {
            return false;
        }
        states = next;
    }
    true
}

/// Whether a denial is about the tool (not the server, which OCW008 and
/// OCW009 report).
pub fn tool_level(decision: &Decision) -> bool {
    !matches!(
        decision.basis,
        Basis::McpServerDenied { .. }
            | Basis::McpServerNotAllowed { .. }
            | Basis::McpServerMismatch { .. }
            | Basis::McpNameInvalid
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SourceFile;

    #[test]
    fn safe_names_keep_letters_digits_underscore_and_dash() {
        assert_eq!(safe_name("github"), "github");
        assert_eq!(safe_name("acme.docs v2"), "acme_docs_v2");
        assert_eq!(safe_name("my-server_1"), "my-server_1");
    }

    #[test]
    fn servers_read_transport_and_endpoint() {
        let text = "{mcp: {servers: {
            github: {command: 'npx', args: ['-y', '@acme/github-mcp']},
            'docs.acme': {url: 'https://mcp.acme.example/sse', transport: 'sse'},
            remote: {url: 'https://r.example/mcp'},
            typed: {type: 'http', url: 'https://t.example/mcp'},
        }}}";
        let root = crate::openclaw::json5::parse(&SourceFile::new("c", text.to_owned()))
            .unwrap()
            .0;
        let servers = servers(&root);
        let got: Vec<_> = servers
            .iter()
            .map(|s| (s.safe.as_str(), s.transport, s.endpoint.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "github",
                    Some(McpTransport::Stdio),
                    Some("npx -y @acme/github-mcp")
                ),
                (
                    "docs_acme",
                    Some(McpTransport::Sse),
                    Some("https://mcp.acme.example/sse")
                ),
                ("remote", None, Some("https://r.example/mcp")),
                (
                    "typed",
                    Some(McpTransport::StreamableHttp),
                    Some("https://t.example/mcp")
                ),
            ]
        );
    }

    #[test]
    fn prefixes_that_a_pattern_can_continue() {
        for (p, prefix) in [
            ("mcp:*", "mcp:github/"),
            ("*delete*", "mcp:github/"),
            ("mcp:github/get_*", "mcp:github/"),
            ("mcp:git?ub/x", "mcp:github/"),
            ("*", ""),
        ] {
            assert!(could_match_prefix(p, prefix), "{p} ~ {prefix}");
        }
        for (p, prefix) in [
            ("mcp:linear/*", "mcp:github/"),
            ("repo.comment", "mcp:github/"),
            ("mcp:github", "mcp:github/"),
        ] {
            assert!(!could_match_prefix(p, prefix), "{p} !~ {prefix}");
        }
    }
}
