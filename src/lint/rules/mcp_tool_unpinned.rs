use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::mcp::{self, ServerStanding};

crate::rule! {
    McpToolUnpinned, "WPC030", "mcp-tool-unpinned", Warning,
    "an allowed MCP tool has no pinned definition"
}

impl Rule for McpToolUnpinned {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let Some(mcp_policy) = &policy.wpc.constraints.mcp else {
            return;
        };
        for (i, server) in mcp_policy.servers.iter().enumerate() {
            if matches!(
                mcp::standing(mcp_policy, &server.name),
                ServerStanding::Denied { .. }
            ) {
                continue;
            }
            for (j, tool) in server.tools.iter().flatten().enumerate() {
                let pointer = format!("/constraints/mcp/servers/{i}/tools/{j}");
                let name = &server.name;
                if tool.contains(['*', '?']) {
                    cx.report(
                        &policy.doc,
                        &pointer,
                        format!(
                            "`{tool}` allows every tool of `{name}` it matches, and no pin can hold a definition for tools not yet named"
                        ),
                    )
                    .help = Some(format!(
                        "list the tools by name and pin each: `wpc mcp pin RESPONSE.json --server {name}`"
                    ));
                } else if mcp_policy.pin(name, tool).is_none() {
                    cx.report(
                        &policy.doc,
                        &pointer,
                        format!(
                            "MCP tool `{}` is allowed with no pin: its server can change its description or input schema after approval",
                            mcp::name(name, tool)
                        ),
                    )
                    .help = Some(format!(
                        "add `\"{name}/{tool}\" = \"<hash>\"` to [constraints.mcp.pinned_tools]; `wpc mcp pin RESPONSE.json --server {name}` prints it"
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, run_default};

    const PIN: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    fn with(tools: &str, pins: &str) -> String {
        format!(
            "{CLEAN}\n[constraints.mcp]\ndeny_servers = [\"scratch-*\"]\n\
             [[constraints.mcp.servers]]\nname = \"github\"\ntools = [{tools}]\n\
             [[constraints.mcp.servers]]\nname = \"scratch-1\"\ntools = [\"x\"]\n\
             [constraints.mcp.pinned_tools]\n{pins}"
        )
    }

    #[test]
    fn fires_for_each_unpinned_or_unpinnable_tool() {
        let policy = with(
            "\"get_issue\", \"add_issue_comment\", \"list_*\"",
            &format!("\"github/get_issue\" = \"{PIN}\"\n"),
        );
        let found = run_default(&McpToolUnpinned, &[&policy]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("MCP tool `mcp:github/add_issue_comment` is allowed with no pin"),
            "{found:?}"
        );
        assert!(
            found[1].contains("`list_*` allows every tool of `github`"),
            "{found:?}"
        );
    }

    #[test]
    fn quiet_when_every_tool_is_pinned() {
        let policy = with(
            "\"get_issue\"",
            &format!("\"github/get_issue\" = \"{PIN}\"\n"),
        );
        assert!(run_default(&McpToolUnpinned, &[&policy]).is_empty());
        assert!(run_default(&McpToolUnpinned, &[CLEAN]).is_empty());
    }
}
