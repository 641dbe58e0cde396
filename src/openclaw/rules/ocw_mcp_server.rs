use super::McpServer;
use crate::openclaw::mcp::{self, Standing};
use crate::openclaw::{Context, Rule};

impl Rule for McpServer {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(target) = cx.target else { return };
        let root = cx.root;
        let servers = mcp::servers_with_named_tools(root);
        if let Some(all) = root.at(&["mcp", "servers"])
            && all.members().len() > mcp::MAX_SERVERS
        {
            cx.report(
                all,
                format!(
                    "{} MCP servers: the audit checks the first {} against WPC `{}`, not the rest",
                    all.members().len(),
                    mcp::MAX_SERVERS,
                    target.policy.name()
                ),
            )
            .help = Some("split the config, or keep the servers an agent needs".into());
        }
        let not_allowed = |_: &mcp::Server<'_>, standing: &Standing<'_>| {
            !matches!(standing, Standing::Allowed(_))
        };
        for reached in mcp::agent_reach(cx, target, &servers, not_allowed) {
            let (agent, server) = (reached.agent, reached.server);
            let why = match reached.standing {
                Standing::Allowed(_) => continue,
                Standing::Denied(pattern) => {
                    format!("its `deny_servers` pattern `{pattern}` matches it")
                }
                Standing::NotAllowed if target.policy.wpc.constraints.mcp.is_some() => {
                    "`[constraints.mcp]` does not list it".to_owned()
                }
                Standing::NotAllowed => format!(
                    "no allow pattern of its tool policy admits a tool `mcp:{}/...`",
                    server.safe
                ),
            };
            if !reached.reach.any() {
                continue;
            }
            cx.report(server.node, format!(
                "agent `{}` can use the tools of MCP server `{}` (`mcp:{}/*`), which WPC `{}` does not allow: {why}",
                agent.scope.id, server.name, server.safe, target.policy.name()
            ))
            .help = Some(format!(
                "deny `{}__*` for this agent, remove the server, or list `{}` in `[constraints.mcp] servers`",
                server.safe, server.safe
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::{run_with, target, with_clean};

    const MCP: &str = r#"
[constraints.mcp]
deny_servers = ["scratch*"]
[[constraints.mcp.servers]]
name = "github"
"#;

    #[test]
    fn fires_for_unlisted_and_denied_servers_an_agent_reaches() {
        let t = target(&with_clean(MCP));
        let config = "{tools: {profile: 'coding'}, mcp: {servers: {github: {command: 'gh-mcp'}, linear: {url: 'https://l.example/mcp'}, scratch: {command: 'x'}}}}";
        let found = run_with(&McpServer, config, Some(&t));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("`linear`") && found[0].contains("does not list it"));
        assert!(found[1].contains("`scratch*`"));
    }

    #[test]
    fn quiet_when_the_server_is_unreachable_or_there_is_no_wpc() {
        let t = target(&with_clean(MCP));
        let config = "{tools: {profile: 'minimal'}, mcp: {servers: {linear: {url: 'https://l.example/mcp'}}}}";
        assert!(run_with(&McpServer, config, Some(&t)).is_empty());
        let denied = "{tools: {profile: 'coding', deny: ['linear__*']}, mcp: {servers: {linear: {url: 'https://l.example/mcp'}}}}";
        assert!(run_with(&McpServer, denied, Some(&t)).is_empty());
        assert!(
            run_with(
                &McpServer,
                "{tools: {profile: 'coding'}, mcp: {servers: {linear: {command: 'l'}}}}",
                None
            )
            .is_empty()
        );
    }

    #[test]
    fn without_constraints_mcp_the_tool_policy_decides() {
        let t = target(crate::policy::testing::CLEAN);
        let config = "{tools: {profile: 'coding'}, mcp: {servers: {github: {command: 'gh-mcp'}}}}";
        let found = run_with(&McpServer, config, Some(&t));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("no allow pattern"));
    }

    #[test]
    fn more_servers_than_the_audit_checks_fail() {
        let t = target(&with_clean(MCP));
        let servers: Vec<String> = (0..=mcp::MAX_SERVERS)
            .map(|i| format!("s{i}: {{command: 'x'}}"))
            .collect();
        let config = format!("{{mcp: {{servers: {{{}}}}}}}", servers.join(", "));
        let found = run_with(&McpServer, &config, Some(&t));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("257 MCP servers"), "{found:?}");
    }
}
