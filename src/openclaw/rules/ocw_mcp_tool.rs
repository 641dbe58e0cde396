use super::McpTool;
use crate::openclaw::mcp::{self, Standing};
use crate::openclaw::{Context, Rule};

impl Rule for McpTool {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(target) = cx.target else { return };
        let root = cx.root;
        let servers = mcp::servers_with_named_tools(root);
        // A server the WPC does not allow is OCW008's.
        let allowed =
            |_: &mcp::Server<'_>, standing: &Standing<'_>| matches!(standing, Standing::Allowed(_));
        for reached in mcp::agent_reach(cx, target, &servers, allowed) {
            let (agent, server, reach) = (reached.agent, reached.server, reached.reach);
            if reach.unnamed
                && let Some(why) = mcp::restriction(target, server)
            {
                let at = agent.tools_node(root);
                cx.report(at, format!(
                    "agent `{}` can use every tool of MCP server `{}` (`{}__*`), but WPC `{}` does not allow them all: {why}",
                    agent.scope.id, server.name, server.safe, target.policy.name()
                ))
                .help = Some(format!(
                    "allow only the server's tools the WPC allows (`{}__<tool>` in an allow list, without `bundle-mcp`, `group:plugins` or a profile that includes them), or deny the others",
                    server.safe
                ));
            }
            // A glob entry is covered by the check of every tool above.
            let named = reach
                .named
                .iter()
                .filter(|(t, _)| !(reach.unnamed && t.contains('*')));
            for (tool, node) in named {
                let decision = mcp::decide(target, server, &mcp::instance(tool));
                if mcp::allows(&decision) || !mcp::tool_level(&decision) {
                    continue;
                }
                cx.report(node, format!(
                    "agent `{}` can use MCP tool `{}__{tool}` (`mcp:{}/{tool}`), which WPC `{}` does not allow: {decision}",
                    agent.scope.id, server.safe, server.safe, target.policy.name()
                ))
                .help = Some(format!("remove `{}__{tool}` from the allow list, or allow the tool in the WPC", server.safe));
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
tools = ["get_issue", "add_issue_comment"]

[[constraints.mcp.servers]]
name = "docs"
deny_tools = ["delete_*"]

[[constraints.mcp.servers]]
name = "wiki"
tools = ["*"]
"#;

    #[test]
    fn fires_when_every_tool_is_reachable_but_the_wpc_limits_them() {
        let t = target(&with_clean(MCP));
        let config = "{tools: {profile: 'coding'}, mcp: {servers: {github: {command: 'g'}, docs: {command: 'd'}, wiki: {command: 'w'}}}}";
        let found = run_with(&McpTool, config, Some(&t));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("`github`")
                && found[0].contains("only the tools `get_issue`, `add_issue_comment`")
        );
        assert!(found[1].contains("`docs`") && found[1].contains("`delete_*`"));
    }

    #[test]
    fn fires_for_a_named_tool_outside_and_not_for_the_allowed_ones() {
        let t = target(&with_clean(MCP));
        let config = "{tools: {allow: ['read', 'github__get_issue', 'github__delete_repo', 'docs__delete_page']}, mcp: {servers: {github: {command: 'g'}, docs: {command: 'd'}}}}";
        let found = run_with(&McpTool, config, Some(&t));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("`github__delete_repo`") && found[0].contains("MCP_TOOL_NOT_ALLOWED"),
            "{found:?}"
        );
        assert!(found[1].contains("`docs__delete_page`"));
        let ok = "{tools: {allow: ['read', 'github__get_issue', 'github__add_issue_comment']}, mcp: {servers: {github: {command: 'g'}}}}";
        assert!(run_with(&McpTool, ok, Some(&t)).is_empty());
    }
}
