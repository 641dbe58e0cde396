use super::SandboxMode;
use crate::openclaw::{AgentTools, Conformance, Context, Target};

impl Conformance for SandboxMode {
    fn check_agent(&self, cx: &mut Context<'_>, target: &Target, agent: &AgentTools<'_>) {
        if !target.policy.wpc.constraints.sandbox.required {
            return;
        }
        let mode = agent.scope.sandbox_mode();
        if mode != "all" {
            let at = agent
                .scope
                .sandbox(&["mode"])
                .or(agent.scope.node)
                .unwrap_or_else(|| cx.root.nearest(&["agents", "defaults", "sandbox", "mode"]));
            cx.report(
                at,
                format!(
                    "WPC `{}` requires a sandbox but agent `{}` has sandbox mode `{mode}`",
                    target.policy.name(),
                    agent.scope.id
                ),
            )
            .help = Some("set `sandbox.mode: \"all\"`".into());
        }
    }
}

crate::openclaw::audit_tests! { SandboxMode under crate::policy::testing::CLEAN;
    fires_on_non_main: "{agents: {defaults: {sandbox: {mode: 'non-main'}}}}" => 1;
    quiet_on_all: "{agents: {defaults: {sandbox: {mode: 'all'}}}}" => 0;
}
