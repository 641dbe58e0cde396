use super::{WildcardAllow, usable_mcp_servers};
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::mcp;
use crate::policy::pattern::is_universal;

impl Rule for WildcardAllow {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        for (i, allow) in policy.wpc.constraints.tool_policy.allow.iter().enumerate() {
            if is_universal(allow) {
                cx.report(
                    &policy.doc,
                    &format!("/constraints/tool_policy/allow/{i}"),
                    format!("allow `{allow}` allows every tool, including ones added later"),
                )
                .help = Some("list the tools or tool families (`repo.*`) the job needs".to_owned());
            }
        }
        // A server's `tools` list allows `mcp:SERVER/PATTERN` whatever
        // `tool_policy.allow` says (docs/wpc-format.md#mcp-servers-and-tools).
        for usable in usable_mcp_servers(policy) {
            let server = usable.server;
            for (pointer, tool) in usable.tools() {
                if is_universal(tool) {
                    cx.report(
                        &policy.doc,
                        &pointer,
                        format!(
                            "tools `{tool}` allows every tool of MCP server `{}` (`{}`), including ones the server adds later",
                            server.name,
                            mcp::name(&server.name, tool)
                        ),
                    )
                    .help = Some(format!(
                        "list the server's tools the job needs (`wpc mcp pin` on its tools/list response shows their names) and pin them under \"{}/TOOL\"",
                        server.name
                    ));
                }
            }
        }
    }
}

/// CLEAN with an MCP server `github` whose `tools` is `tools`.
#[cfg(test)]
fn with_server(tools: &str) -> String {
    format!(
        "{}\n[constraints.mcp]\ndeny_servers = [\"scratch-*\"]\n[[constraints.mcp.servers]]\nname = \"github\"\ntools = [{tools}]\n[[constraints.mcp.servers]]\nname = \"scratch-1\"\ntools = [\"*\"]\n",
        crate::lint::testing::CLEAN
    )
}

crate::lint::lint_tests! { WildcardAllow;
    fires_on_star:
        &[&CLEAN.replace("allow = [\"read\", ", "allow = [\"*\", ")]
            => ["6:10 allow `*` allows every tool, including ones added later"];
    quiet_for_a_family_glob: &[&CLEAN.replace("\"repo.comment\"]", "\"repo.*\"]")] => 0;
    fires_on_an_mcp_server_allowing_every_tool:
        &[&with_server("\"get_issue\", \"*\"")]
            => ["25:23 tools `*` allows every tool of MCP server `github` (`mcp:github/*`), including ones the server adds later"];
    quiet_for_listed_mcp_tools_or_a_denied_server:
        &[&with_server("\"get_issue\", \"list_*\"")] => 0;
}
