use crate::openclaw::mcp::{self, Standing};
use crate::openclaw::tools::PluginPolicies;
use crate::openclaw::{Context, Rule};

crate::rule! {
    McpPins, "OCW011", "ocw-mcp-pins-unchecked", Warning,
    "the WPC pins MCP tool definitions that OpenClaw does not check"
}

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
        let root = cx.root;
        let servers = mcp::servers_with_named_tools(root);
        for agent in cx.target_agents() {
            let policies = PluginPolicies::new(root, &agent.scope);
            for (server, named) in &servers {
                if !matches!(mcp::standing(target, &server.safe), Standing::Allowed(_)) {
                    continue;
                }
                let pinned: Vec<&str> = pins
                    .keys()
                    .filter(|k| k.split_once('/').is_some_and(|(s, _)| s == server.safe))
                    .map(String::as_str)
                    .collect();
                if pinned.is_empty() || !mcp::reach(&policies, named, server).any() {
                    continue;
                }
                cx.report(server.node, format!(
                    "agent `{}` can use tools of MCP server `{}` whose definitions WPC `{}` pins (`{}`), and OpenClaw does not check tool definitions against pins: a changed definition is called all the same",
                    agent.scope.id, server.name, target.policy.name(), pinned.join("`, `")
                ))
                .help = Some("route the server's calls through a gateway that asks `wpc decide` with the definition hash, and verify proof bundles under the WPC (their tool receipts carry the hash)".into());
            }
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
