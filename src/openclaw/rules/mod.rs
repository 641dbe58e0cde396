//! The audit's rules: footguns (`OC010`–`OC059`) and WPC conformance
//! (`OCW001`–), each with its code, name, severity and summary in
//! [`REGISTRY`] and what it checks in its own file. Shared readings of the
//! config (exposure, auth, open channels) live here so every rule agrees on
//! them.

use super::catalog::MCP;
use super::conformance::ToolVerdict;
use super::json5::{Kind, Node};
use super::{AgentTools, Context, Rule, Target};

mod auto_allow_skills;
mod bind_non_absolute;
mod bind_rw;
mod control_ui_origins;
mod dangerous_bind_mount;
mod dangerous_flags;
mod dangerous_network_mode;
mod dangerous_node_commands;
mod elevated_allow_from_wildcard;
mod elevated_enabled_by_default;
mod exec_host_sandbox_no_sandbox;
mod exec_security_full;
mod gateway_bind_no_auth;
mod gateway_loopback_no_auth;
mod hooks_agent_ids_unrestricted;
mod hooks_path_root;
mod hooks_session_key_override;
mod hooks_token_reuse;
mod http_no_auth;
mod literal_secret;
mod mdns_full;
mod ocw_denied_tool;
mod ocw_elevated;
mod ocw_mcp_pins;
mod ocw_mcp_server;
mod ocw_mcp_server_mismatch;
mod ocw_mcp_tool;
mod ocw_network;
mod ocw_sandbox_mode;
mod ocw_tool_outside;
mod ocw_workspace_access;
mod open_channels_control_plane;
mod open_channels_elevated;
mod open_channels_runtime_fs;
mod placeholder_secret;
mod plugins_no_allowlist;
mod profile_full;
mod real_ip_fallback;
mod sandbox_off_runtime_tools;
mod short_secret;
mod tailscale_funnel;
mod tools_invoke_dangerous;
mod trusted_proxy_gaps;
mod unconfined_profile;

crate::rules! {
    /// Every rule, in code order, after the checks of loading a config.
    pub static REGISTRY: Registry<dyn Rule> = after super::BUILTIN;
    GatewayBindNoAuth, "OC010", "gateway-bind-no-auth", Error,
        "the gateway listens beyond loopback without auth";
    GatewayLoopbackNoAuth, "OC011", "gateway-loopback-no-auth", Error,
        "the loopback gateway with its Control UI has no auth";
    ControlUiOrigins, "OC012", "control-ui-origins", Error,
        "the Control UI accepts browser origins it should not";
    RealIpFallback, "OC013", "real-ip-fallback", Error,
        "client IPs are taken from spoofable headers";
    TailscaleFunnel, "OC014", "tailscale-funnel", Error,
        "the gateway is published to the internet through Tailscale Funnel";
    TrustedProxyGaps, "OC015", "trusted-proxy-gaps", Error,
        "trusted-proxy auth without the settings that make it safe";
    HttpNoAuth, "OC016", "http-no-auth", Error,
        "`/tools/invoke` and the HTTP APIs are callable without a shared secret";
    ToolsInvokeDangerous, "OC017", "tools-invoke-dangerous", Error,
        "`gateway.tools.allow` re-enables a dangerous tool over HTTP";
    DangerousNodeCommands, "OC018", "dangerous-node-commands", Error,
        "paired nodes may run dangerous commands (camera, screen, SMS, contacts)";
    MdnsFull, "OC019", "mdns-full", Error,
        "mDNS broadcasts full gateway details";
    HooksTokenReuse, "OC020", "hooks-token-reuse", Error,
        "the hooks token is the gateway's own secret";
    HooksPathRoot, "OC021", "hooks-path-root", Error,
        "webhooks are mounted at the gateway root";
    HooksAgentIdsUnrestricted, "OC022", "hooks-agent-ids-unrestricted", Error,
        "webhooks may route to any agent";
    HooksSessionKeyOverride, "OC023", "hooks-session-key-override", Error,
        "webhook callers may choose the session key";
    ElevatedAllowFromWildcard, "OC024", "elevated-allow-from-wildcard", Error,
        "anyone on a channel may use elevated (host) exec";
    ExecSecurityFull, "OC025", "exec-security-full", Error,
        "exec runs any command without approval";
    OpenChannelsElevated, "OC026", "open-channels-elevated", Error,
        "a channel is open to anyone while elevated exec is enabled";
    OpenChannelsRuntimeFs, "OC027", "open-channels-runtime-fs", Error,
        "a channel is open to anyone while an agent has unsandboxed runtime or fs tools";
    OpenChannelsControlPlane, "OC028", "open-channels-control-plane", Error,
        "a channel is open to anyone while an agent can change the gateway itself";
    DangerousBindMount, "OC029", "dangerous-bind-mount", Error,
        "a sandbox bind mount exposes host system paths, the Docker socket or home secrets";
    DangerousNetworkMode, "OC030", "dangerous-network-mode", Error,
        "the sandbox container shares the host's or another container's network";
    UnconfinedProfile, "OC031", "unconfined-profile", Error,
        "the sandbox container runs without seccomp or AppArmor confinement";
    DangerousFlags, "OC032", "dangerous-flags", Error,
        "a `dangerously*` break-glass flag is on";
    PlaceholderSecret, "OC033", "placeholder-secret", Error,
        "a gateway or hooks secret is blank or a placeholder";
    SandboxOffRuntimeTools, "OC040", "sandbox-off-runtime-tools", Warning,
        "an agent can run commands while its sandbox is off or non-main";
    ElevatedEnabledByDefault, "OC041", "elevated-enabled-by-default", Warning,
        "elevated (host) exec is not explicitly disabled";
    BindNonAbsolute, "OC042", "bind-non-absolute", Warning,
        "a sandbox bind source is not an absolute path";
    BindRw, "OC043", "bind-rw", Warning,
        "a sandbox bind mount is writable";
    ProfileFull, "OC044", "profile-full", Warning,
        "a tool profile is `full`";
    ExecHostSandboxNoSandbox, "OC045", "exec-host-sandbox-no-sandbox", Warning,
        "exec targets the sandbox but the sandbox is off";
    AutoAllowSkills, "OC046", "auto-allow-skills", Warning,
        "skills' commands are approved for exec automatically";
    PluginsNoAllowlist, "OC047", "plugins-no-allowlist", Warning,
        "plugins or MCP servers are configured without `plugins.allow`";
    ShortSecret, "OC048", "short-secret", Warning,
        "a gateway or hooks secret is shorter than 24 characters";
    LiteralSecret, "OC049", "literal-secret", Warning,
        "a secret is written literally in the config";
    ToolOutside, "OCW001", "ocw-tool-outside-policy", Error,
        "an agent can use a tool the WPC does not allow";
    DeniedTool, "OCW002", "ocw-denied-tool-reachable", Error,
        "an agent can use a tool the WPC explicitly denies";
    SandboxMode, "OCW003", "ocw-sandbox-mode", Error,
        "the WPC requires a sandbox but the agent's sandbox mode is not `all`";
    WorkspaceAccess, "OCW004", "ocw-workspace-access", Error,
        "the agent's sandbox workspace access is wider than the WPC's";
    Elevated, "OCW005", "ocw-elevated-not-disabled", Error,
        "the WPC denies elevated exec but elevated is not explicitly disabled";
    Network, "OCW006", "ocw-network", Error,
        "the WPC allows no network but the sandbox container has one";
    McpServer, "OCW008", "ocw-mcp-server", Error,
        "an agent can use the tools of an MCP server the WPC does not allow";
    McpServerMismatch, "OCW009", "ocw-mcp-server-mismatch", Error,
        "an MCP server's transport or URL is not the one the WPC allows";
    McpTool, "OCW010", "ocw-mcp-tool", Error,
        "an agent can use an MCP tool the WPC does not allow";
    McpPins, "OCW011", "ocw-mcp-pins-unchecked", Warning,
        "the WPC pins MCP tool definitions that OpenClaw does not check";
}

fn str_at<'a>(root: &'a Node, path: &[&str]) -> Option<&'a str> {
    root.at(path).and_then(Node::as_str)
}

/// `gateway.bind` is anything but `loopback` (the default).
fn non_loopback(root: &Node) -> bool {
    str_at(root, &["gateway", "bind"]).is_some_and(|b| b != "loopback")
}

/// Reachable beyond this host: non-loopback bind or Tailscale serve/funnel.
fn exposed(root: &Node) -> bool {
    non_loopback(root)
        || matches!(
            str_at(root, &["gateway", "tailscale", "mode"]),
            Some("serve" | "funnel")
        )
}

fn tailscale_funnel(root: &Node) -> bool {
    str_at(root, &["gateway", "tailscale", "mode"]) == Some("funnel")
}

/// A configured secret: a non-empty string or a SecretRef object.
fn secret<'a>(root: &'a Node, key: &str) -> Option<&'a Node> {
    let node = root.at(&["gateway", "auth", key])?;
    match &node.kind {
        Kind::String(s) if !s.trim().is_empty() => Some(node),
        Kind::Object(_) => Some(node),
        _ => None,
    }
}

/// The secret of the active auth mode, as written (even if blank).
fn active_secret(root: &Node) -> Option<&Node> {
    match str_at(root, &["gateway", "auth", "mode"]) {
        Some("token") => root.at(&["gateway", "auth", "token"]),
        Some("password") => root.at(&["gateway", "auth", "password"]),
        Some(_) => None,
        None => root
            .at(&["gateway", "auth", "token"])
            .or_else(|| root.at(&["gateway", "auth", "password"])),
    }
}

/// The secrets callers present, where the config writes them as strings
/// (a SecretRef object is not a value to judge): the active gateway secret
/// and, when hooks are served, the hooks token.
fn shared_secrets(root: &Node) -> Vec<(&Node, &str)> {
    let hooks = hooks_enabled(root)
        .then(|| root.at(&["hooks", "token"]))
        .flatten();
    [active_secret(root), hooks]
        .into_iter()
        .flatten()
        .filter_map(|node| Some((node, node.as_str()?)))
        .collect()
}

/// Whether the gateway has auth that counts for bind checks: a usable shared
/// secret for its mode, or trusted-proxy. (Env fallbacks such as
/// `OPENCLAW_GATEWAY_TOKEN` are not part of the config and are not assumed.)
fn has_auth(root: &Node) -> bool {
    match str_at(root, &["gateway", "auth", "mode"]) {
        Some("token") => secret(root, "token").is_some(),
        Some("password") => secret(root, "password").is_some(),
        Some("trusted-proxy") => true,
        Some(_) => false,
        None => secret(root, "token").is_some() || secret(root, "password").is_some(),
    }
}

/// Whether HTTP endpoints have a usable shared secret (trusted-proxy has none).
fn has_shared_secret(root: &Node) -> bool {
    has_auth(root) && str_at(root, &["gateway", "auth", "mode"]) != Some("trusted-proxy")
}

/// Elevated exec is on unless `tools.elevated.enabled` is explicitly false.
fn elevated_enabled(root: &Node) -> bool {
    root.at(&["tools", "elevated", "enabled"])
        .and_then(Node::as_bool)
        != Some(false)
}

/// Hooks are only served when `hooks.enabled` is `true`.
fn hooks_enabled(root: &Node) -> bool {
    root.at(&["hooks", "enabled"]).and_then(Node::as_bool) == Some(true)
}

fn control_ui_enabled(root: &Node) -> bool {
    root.at(&["gateway", "controlUi", "enabled"])
        .and_then(Node::as_bool)
        != Some(false)
}

/// Every `dmPolicy`, `groupPolicy` or legacy `dm.policy` set to `open` under
/// `channels`, at any depth.
fn open_channel_policies(root: &Node) -> Vec<&Node> {
    fn walk<'a>(node: &'a Node, parent: Option<&str>, out: &mut Vec<&'a Node>) {
        for member in node.members() {
            let policy_key = matches!(member.key.as_str(), "dmPolicy" | "groupPolicy")
                || (member.key == "policy" && parent == Some("dm"));
            if policy_key && member.value.as_str() == Some("open") {
                out.push(&member.value);
            }
            walk(&member.value, Some(&member.key), out);
        }
    }
    let mut out = Vec::new();
    if let Some(channels) = root.get("channels") {
        walk(channels, None, &mut out);
    }
    out
}

/// `file:line:col` of the first channel policy that is `open`.
fn open_channel(root: &Node) -> Option<String> {
    open_channel_policies(root).first().map(|n| n.position())
}

/// Every value under `node` (at any depth) whose key satisfies `key`.
fn find_keys<'a>(node: &'a Node, key: &dyn Fn(&str) -> bool, out: &mut Vec<(String, &'a Node)>) {
    match &node.kind {
        Kind::Object(members) => {
            for member in members {
                if key(&member.key) {
                    out.push((member.key.clone(), &member.value));
                }
                find_keys(&member.value, key, out);
            }
        }
        Kind::Array(items) => items.iter().for_each(|item| find_keys(item, key, out)),
        _ => {}
    }
}

/// Each sandbox `docker` object: the defaults' and each agent's, with its
/// config path.
fn docker_blocks<'a>(cx: &super::Context<'a>) -> Vec<(String, &'a Node)> {
    let mut out = Vec::new();
    if let Some(d) = cx.root.at(&["agents", "defaults", "sandbox", "docker"]) {
        out.push(("agents.defaults.sandbox.docker".to_owned(), d));
    }
    for agent in cx.agents {
        if let Some(d) = agent.scope.node.and_then(|n| n.at(&["sandbox", "docker"])) {
            out.push((format!("{}.sandbox.docker", agent.scope.path), d));
        }
    }
    out
}

/// Each bind of every docker block: (block path, bind node, source, mode).
fn binds<'a>(cx: &super::Context<'a>) -> Vec<(String, &'a Node, String, Option<String>)> {
    let mut out = Vec::new();
    for (path, docker) in docker_blocks(cx) {
        for bind in docker
            .get("binds")
            .and_then(Node::as_array)
            .unwrap_or_default()
        {
            let Some(spec) = bind.as_str() else { continue };
            let parts: Vec<&str> = spec.split(':').collect();
            let (source, mode) = match parts.as_slice() {
                [source] | [source, _] => ((*source).to_owned(), None),
                [source, .., mode] => ((*source).to_owned(), Some((*mode).to_owned())),
                [] => continue,
            };
            out.push((path.clone(), bind, source, mode));
        }
    }
    out
}

/// The severity of a critical-if-`cond` check.
fn critical_if(cond: bool) -> crate::report::Severity {
    if cond {
        crate::report::Severity::Error
    } else {
        crate::report::Severity::Warning
    }
}

/// A verdict of the target that refuses a tool an agent can use.
#[derive(Clone, Copy)]
enum Refusal {
    /// A WPC deny pattern matches the tool.
    Denied,
    /// No WPC allow pattern admits the tool.
    Outside,
}

/// Report each tool `agent` can use that the target refuses as `refusal`,
/// with `fix` for it. MCP tools are left to OCW008–OCW011, which decide
/// them per server and tool.
fn report_refused_tools(
    cx: &mut Context<'_>,
    target: &Target,
    agent: &AgentTools<'_>,
    refusal: Refusal,
    fix: impl Fn(&str) -> String,
) {
    let at = agent.tools_node(cx.root);
    for tool in agent.available().filter(|t| *t != MCP) {
        let (decision, refuses) = match (refusal, target.verdict(tool)) {
            (Refusal::Denied, ToolVerdict::Denied(decision)) => (decision, "denies"),
            (Refusal::Outside, ToolVerdict::Outside(decision)) => (decision, "does not allow"),
            _ => continue,
        };
        cx.report(
            at,
            format!(
                "agent `{}` can use `{tool}`, which WPC `{}` {refuses}: {decision}",
                agent.scope.id,
                target.policy.name()
            ),
        )
        .help = Some(fix(tool));
    }
}
