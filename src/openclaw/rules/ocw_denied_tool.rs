use super::{DeniedTool, Refusal, report_refused_tools};
use crate::openclaw::{AgentTools, Conformance, Context, Target};

impl Conformance for DeniedTool {
    fn check_agent(&self, cx: &mut Context<'_>, target: &Target, agent: &AgentTools<'_>) {
        report_refused_tools(cx, target, agent, Refusal::Denied, |tool| {
            format!("add `{tool}` to this agent's `tools.deny`")
        });
    }
}

crate::openclaw::audit_tests! { DeniedTool under crate::policy::testing::CLEAN;
    fires_on_reachable_exec: "{tools: {allow: ['read', 'bash']}}" => (1, "deny pattern `exec`");
    quiet_when_denied: "{tools: {allow: ['read'], deny: ['exec']}}" => 0;
}
