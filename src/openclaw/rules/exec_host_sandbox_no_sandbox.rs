use super::ExecHostSandboxNoSandbox;
use crate::openclaw::{Context, Rule};

impl Rule for ExecHostSandboxNoSandbox {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let agents = cx.agents;
        for agent in agents {
            let Some(host) = agent.scope.tool_setting(root, &["exec", "host"]) else {
                continue;
            };
            if host.as_str() == Some("sandbox") && agent.scope.sandbox_mode() == "off" {
                cx.report(
                    host,
                    format!(
                        "exec host is `sandbox` but agent `{}` has sandbox mode `off`",
                        agent.scope.id
                    ),
                )
                .help = Some("enable the sandbox or choose another exec host".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { ExecHostSandboxNoSandbox;
    fires_when_sandbox_is_off: "{tools: {exec: {host: 'sandbox'}}}" => 1;
    quiet_when_sandboxed: "{tools: {exec: {host: 'sandbox'}}, agents: {defaults: {sandbox: {mode: 'all'}}}}" => 0;
}
