use super::{McpToolUnpinned, usable_mcp_servers};
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::mcp;

impl Rule for McpToolUnpinned {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        for usable in usable_mcp_servers(policy) {
            let name = &usable.server.name;
            for (pointer, tool) in usable.tools() {
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
                } else if usable.mcp.pin(name, tool).is_none() {
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
