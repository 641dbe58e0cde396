use super::DeniedTool;
use crate::openclaw::catalog::MCP;
use crate::openclaw::conformance::ToolVerdict;
use crate::openclaw::{AgentTools, Conformance, Context, Target};

impl Conformance for DeniedTool {
    fn check_agent(&self, cx: &mut Context<'_>, target: &Target, agent: &AgentTools<'_>) {
        let at = agent.tools_node(cx.root);
        // MCP tools are decided per server and tool (OCW008–OCW011).
        for tool in agent.available().filter(|t| *t != MCP) {
            if let ToolVerdict::Denied(decision) = target.verdict(tool) {
                cx.report(
                    at,
                    format!(
                        "agent `{}` can use `{tool}`, which WPC `{}` denies: {decision}",
                        agent.scope.id,
                        target.policy.name()
                    ),
                )
                .help = Some(format!("add `{tool}` to this agent's `tools.deny`"));
            }
        }
    }
}

crate::openclaw::audit_tests! { DeniedTool under crate::policy::testing::CLEAN;
    fires_on_reachable_exec: "{tools: {allow: ['read', 'bash']}}" => (1, "deny pattern `exec`");
    quiet_when_denied: "{tools: {allow: ['read'], deny: ['exec']}}" => 0;
}
