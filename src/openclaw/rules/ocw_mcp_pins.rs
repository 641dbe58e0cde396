use super::McpPins;
use crate::openclaw::mcp::{self, Standing};
use crate::openclaw::{Context, Rule};

impl Rule for McpPins {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(target) = cx.target else { return };
        let Some(pins) = target
            .policy
            .wpc
            .constraints
            .mcp
            .as_ref()
            .and_then(|m| m.pinned_tools.as_ref())
        else {
            return;
        };
        // The pins of a server's tools: `SERVER/TOOL` keys.
        let pinned = |server: &mcp::Server<'_>| -> Vec<&str> {
            pins.keys()
                .filter(|k| k.split_once('/').is_some_and(|(s, _)| s == server.safe))
                .map(String::as_str)
                .collect()
        };
        let servers = mcp::servers_with_named_tools(cx.root);
        let judged = |server: &mcp::Server<'_>, standing: &Standing<'_>| {
            matches!(standing, Standing::Allowed(_)) && !pinned(server).is_empty()
        };
        for reached in mcp::agent_reach(cx, target, &servers, judged) {
            let (agent, server) = (reached.agent, reached.server);
            if !reached.reach.any() {
                continue;
            }
            cx.report(server.node, format!(
                "agent `{}` can use tools of MCP server `{}` whose definitions WPC `{}` pins (`{}`), and OpenClaw does not check tool definitions against pins: a changed definition is called all the same",
                agent.scope.id, server.name, target.policy.name(), pinned(server).join("`, `")
            ))
            .help = Some("route the server's calls through a gateway that asks `wpc decide` with the definition hash, and verify proof bundles under the WPC (their tool receipts carry the hash)".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::{run_with, target, with_clean};

    const MCP: &str = r#"
[[constraints.mcp.servers]]
name = "github"
tools = ["get_issue"]

[constraints.mcp.pinned_tools]
"github/get_issue" = "0000000000000000000000000000000000000000000000000000000000000000"
"#;

    #[test]
    fn warns_once_per_agent_and_pinned_server_reached() {
        let t = target(&with_clean(MCP));
        let config = "{tools: {allow: ['read', 'github__get_issue']}, mcp: {servers: {github: {command: 'g'}}}}";
        let found = run_with(&McpPins, config, Some(&t));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("warning") && found[0].contains("`github/get_issue`"));
        let unreachable = "{tools: {allow: ['read']}, mcp: {servers: {github: {command: 'g'}}}}";
        assert!(run_with(&McpPins, unreachable, Some(&t)).is_empty());
    }
}
