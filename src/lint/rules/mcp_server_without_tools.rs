use super::{McpServerWithoutTools, usable_mcp_servers};
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for McpServerWithoutTools {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        for usable in usable_mcp_servers(policy) {
            let server = usable.server;
            if server.tools.is_some() {
                continue;
            }
            cx.report(
                &policy.doc,
                &usable.pointer,
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
