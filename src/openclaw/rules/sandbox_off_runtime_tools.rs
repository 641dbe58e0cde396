use super::SandboxOffRuntimeTools;
use crate::openclaw::catalog;
use crate::openclaw::{Context, Rule};

impl Rule for SandboxOffRuntimeTools {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let agents = cx.agents;
        for agent in agents {
            let mode = agent.scope.sandbox_mode();
            let runtime: Vec<&str> = catalog::RUNTIME_TOOLS
                .iter()
                .copied()
                .filter(|t| agent.has(t))
                .collect();
            if mode == "all" || runtime.is_empty() {
                continue;
            }
            let at = agent
                .scope
                .sandbox(&["mode"])
                .or(agent.scope.node)
                .unwrap_or_else(|| root.nearest(&["agents", "defaults", "sandbox"]));
            cx.report(at, format!("agent `{}` has {} while its sandbox mode is `{mode}`: commands run on the gateway host", agent.scope.id, runtime.join(", ")))
                .help = Some("set `sandbox.mode: \"all\"`, or deny group:runtime for this agent".into());
        }
    }
}

crate::openclaw::audit_tests! { SandboxOffRuntimeTools;
    fires_on_the_default_config:
        "{}" => ["1:1 warning agent `defaults` has exec, process while its sandbox mode is `off`: commands run on the gateway host"],
        "{agents: {defaults: {sandbox: {mode: 'non-main'}}}}" => 1;
    // Another session of the agent may run on another model.
    a_provider_policy_does_not_hide_exec_from_the_audit: "{tools: {byProvider: {openai: {deny: ['group:runtime']}}}, agents: {entries: {a: {model: 'openai/gpt-5'}}}}" => 2;
    quiet_when_sandboxed_or_without_runtime:
        "{agents: {defaults: {sandbox: {mode: 'all'}}}}" => 0,
        "{tools: {profile: 'messaging'}}" => 0;
}
