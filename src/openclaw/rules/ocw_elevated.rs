use super::Elevated;
use crate::openclaw::{AgentTools, Conformance, Context, Target};
use crate::policy::model::ElevatedExec;

impl Conformance for Elevated {
    fn check_agent(&self, cx: &mut Context<'_>, target: &Target, agent: &AgentTools<'_>) {
        if target.policy.wpc.constraints.sandbox.elevated_exec != ElevatedExec::Deny {
            return;
        }
        if agent.scope.elevated_enabled(cx.root) {
            let at = agent
                .scope
                .tools()
                .and_then(|t| t.get("elevated"))
                .unwrap_or_else(|| cx.root.nearest(&["tools", "elevated", "enabled"]));
            cx.report(at, format!("WPC `{}` denies elevated exec but agent `{}` does not set `elevated.enabled: false` (OpenClaw enables it unless told otherwise)", target.policy.name(), agent.scope.id))
                .help = Some("set `tools.elevated.enabled: false`".into());
        }
    }
}

crate::openclaw::audit_tests! { Elevated under crate::policy::testing::CLEAN;
    fires_when_unset: "{}" => 1;
    quiet_when_false: "{tools: {elevated: {enabled: false}}}" => 0;
}
