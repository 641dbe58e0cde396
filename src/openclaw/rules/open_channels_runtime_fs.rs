use super::{OpenChannelsRuntimeFs, open_channel};
use crate::openclaw::catalog;
use crate::openclaw::{Context, Rule};
use crate::report::Severity;

impl Rule for OpenChannelsRuntimeFs {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let Some(open_at) = open_channel(root) else {
            return;
        };
        let workspace_only = root
            .at(&["tools", "fs", "workspaceOnly"])
            .and_then(crate::openclaw::json5::Node::as_bool)
            == Some(true);
        let agents = cx.agents;
        for agent in agents {
            if agent.scope.sandbox_mode() == "all" {
                continue;
            }
            let runtime: Vec<&str> = catalog::RUNTIME_TOOLS
                .iter()
                .copied()
                .filter(|t| agent.has(t))
                .collect();
            let fs: Vec<&str> = catalog::FS_TOOLS
                .iter()
                .copied()
                .filter(|t| agent.has(t))
                .collect();
            let at = agent.scope.node.unwrap_or(root);
            if !runtime.is_empty() {
                cx.report_as(at, Severity::Error, format!("agent `{}` can run {} outside a sandbox while a channel is open to anyone ({open_at})", agent.scope.id, runtime.join(", ")))
                    .help = Some("sandbox `mode: \"all\"`, deny group:runtime, or close the channel".into());
            } else if !fs.is_empty() && !workspace_only {
                cx.report_as(at, Severity::Warning, format!("agent `{}` has file tools ({}) outside a sandbox and without `tools.fs.workspaceOnly` while a channel is open to anyone ({open_at})", agent.scope.id, fs.join(", ")))
                    .help = Some("set `tools.fs.workspaceOnly: true` or sandbox `mode: \"all\"`".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { OpenChannelsRuntimeFs;
    fires_for_each_unsandboxed_agent:
        "{channels: {telegram: {dmPolicy: 'open'}}, agents: {entries: {a: {}, b: {sandbox: {mode: 'all'}}}}}" => 2,
        "{channels: {telegram: {dmPolicy: 'open'}}, tools: {deny: ['group:runtime']}}" => (1, " warning ");
    quiet_when_sandboxed_or_closed:
        "{agents: {defaults: {sandbox: {mode: 'all'}}}, channels: {telegram: {dmPolicy: 'open'}}}" => 0,
        "{channels: {telegram: {dmPolicy: 'pairing'}}}" => 0;
}
