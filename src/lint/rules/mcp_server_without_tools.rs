use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::mcp::{self, ServerStanding};

crate::rule! {
    McpServerWithoutTools, "WPC029", "mcp-server-without-tools", Warning,
    "an MCP server is allowed with no list of its tools"
}

impl Rule for McpServerWithoutTools {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let Some(mcp_policy) = &policy.wpc.constraints.mcp else {
            return;
        };
        for (i, server) in mcp_policy.servers.iter().enumerate() {
            // A denied server is never used: its missing list is moot.
            if server.tools.is_some()
                || matches!(
                    mcp::standing(mcp_policy, &server.name),
                    ServerStanding::Denied { .. }
                )
            {
                continue;
            }
            cx.report(
                &policy.doc,
                &format!("/constraints/mcp/servers/{i}"),
                format!(
                    "MCP server `{}` is allowed with no `tools` list: whatever tools it lists, now or after an update, only the tool policy stands between them and the agent",
                    server.name
                ),
            )
            .help = Some(format!(
                "list the tools the job needs: `tools = [\"...\"]` (`wpc mcp pin` on the server's tools/list response shows their names), or `tools = []` for none; pin each one in `[constraints.mcp.pinned_tools]` under \"{}/TOOL\"",
                server.name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, run_default};

    fn with(servers: &str) -> String {
        format!("{CLEAN}\n[constraints.mcp]\ndeny_servers = [\"scratch-*\"]\n{servers}")
    }

    #[test]
    fn fires_for_a_server_without_tools() {
        let policy = with("[[constraints.mcp.servers]]\nname = \"github\"\n");
        let found = run_default(&McpServerWithoutTools, &[&policy]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("23:1 MCP server `github` is allowed with no `tools` list"),
            "{found:?}"
        );
    }

    #[test]
    fn quiet_with_a_list_even_empty_or_for_a_denied_server() {
        for servers in [
            "[[constraints.mcp.servers]]\nname = \"github\"\ntools = [\"get_issue\"]\n",
            "[[constraints.mcp.servers]]\nname = \"github\"\ntools = []\n",
            "[[constraints.mcp.servers]]\nname = \"scratch-1\"\n",
        ] {
            assert!(
                run_default(&McpServerWithoutTools, &[&with(servers)]).is_empty(),
                "{servers}"
            );
        }
        assert!(run_default(&McpServerWithoutTools, &[CLEAN]).is_empty());
    }
}
