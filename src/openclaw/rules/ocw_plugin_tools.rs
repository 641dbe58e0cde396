use crate::openclaw::catalog::MCP;
use crate::openclaw::conformance::ToolVerdict;
use crate::openclaw::{Context, Rule};

crate::rule! {
    PluginTools, "OCW007", "ocw-plugin-tools", Error,
    "plugin or MCP tools are reachable while the WPC does not allow them"
}

impl Rule for PluginTools {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(target) = cx.target else { return };
        let root = cx.root;
        for agent in cx.target_agents() {
            if !agent.has(MCP) {
                continue;
            }
            if let ToolVerdict::Denied(decision) | ToolVerdict::Outside(decision) =
                target.verdict(MCP)
            {
                let at = agent.tools_node(root);
                cx.report(at, format!("agent `{}` can use plugin and MCP tools (`{MCP}`), which WPC `{}` does not allow: {decision}", agent.scope.id, target.policy.name()))
                    .help = Some("deny `group:plugins` for this agent, or allow `mcp` in the WPC".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { PluginTools under crate::policy::testing::CLEAN;
    fires_with_the_coding_profile: "{tools: {profile: 'coding'}}" => 1;
    quiet_when_plugins_are_denied: "{tools: {profile: 'coding', deny: ['group:plugins']}}" => 0;
}
