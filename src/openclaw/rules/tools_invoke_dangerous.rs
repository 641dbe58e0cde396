use super::{ToolsInvokeDangerous, critical_if, non_loopback, tailscale_funnel};
use crate::openclaw::catalog;
use crate::openclaw::json5::Node;
use crate::openclaw::{Context, Rule};

impl Rule for ToolsInvokeDangerous {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let deny: Vec<String> = root
            .at(&["gateway", "tools", "deny"])
            .and_then(Node::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n.as_str().map(catalog::normalize))
            .collect();
        let severity = critical_if(non_loopback(root) || tailscale_funnel(root));
        for entry in root
            .at(&["gateway", "tools", "allow"])
            .and_then(Node::as_array)
            .unwrap_or_default()
        {
            let Some(name) = entry.as_str().map(catalog::normalize) else {
                continue;
            };
            if catalog::HTTP_DEFAULT_DENY.contains(&name.as_str()) && !deny.contains(&name) {
                cx.report_as(entry, severity, format!("`{name}` is denied over `POST /tools/invoke` by default; this entry lets HTTP callers run it"))
                    .help = Some("remove it from `gateway.tools.allow`".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { ToolsInvokeDangerous;
    fires_on_exec: "{gateway: {bind: 'lan', tools: {allow: ['bash', 'read']}}}" => 1;
    quiet_on_safe_tools: "{gateway: {tools: {allow: ['read'], deny: []}}}" => 0;
}
