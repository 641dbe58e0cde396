use super::{ExecSecurityFull, critical_if, open_channel_policies};
use crate::openclaw::{Context, Rule};

impl Rule for ExecSecurityFull {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let open = !open_channel_policies(root).is_empty();
        let agents = cx.agents;
        let mut seen = Vec::new();
        for agent in agents {
            for key in ["mode", "security"] {
                let Some(node) = agent.scope.tool_setting(root, &["exec", key]) else {
                    continue;
                };
                if node.as_str() == Some("full") && !seen.contains(&node.range) {
                    seen.push(node.range.clone());
                    let message = if open {
                        "exec security is `full` (no allowlist, no approvals) while a channel is open to anyone"
                    } else {
                        "exec security is `full`: any command runs without an allowlist or approval"
                    };
                    cx.report_as(node, critical_if(open), message).help =
                        Some("use `mode: \"allowlist\"` or `\"ask\"`".into());
                }
            }
        }
    }
}

crate::openclaw::audit_tests! { ExecSecurityFull;
    fires_critical_with_open_channels:
        "{tools: {exec: {security: 'full'}}, channels: {telegram: {dmPolicy: 'open'}}}" => (1, " error "),
        "{agents: {entries: {a: {tools: {exec: {mode: 'full'}}}}}}" => (1, " warning ");
    quiet_on_allowlist: "{tools: {exec: {mode: 'allowlist'}}}" => 0;
}
