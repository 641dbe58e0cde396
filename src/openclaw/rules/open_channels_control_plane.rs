use super::{OpenChannelsControlPlane, open_channel};
use crate::openclaw::catalog;
use crate::openclaw::{Context, Rule};

impl Rule for OpenChannelsControlPlane {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let Some(open_at) = open_channel(root) else {
            return;
        };
        let agents = cx.agents;
        for agent in agents {
            let tools: Vec<&str> = catalog::CONTROL_PLANE_TOOLS
                .iter()
                .copied()
                .filter(|t| agent.has(t))
                .collect();
            if !tools.is_empty() {
                let at = agent.scope.node.unwrap_or(root);
                cx.report(at, format!("agent `{}` has control-plane tools ({}) while a channel is open to anyone ({open_at})", agent.scope.id, tools.join(", ")))
                    .help = Some("deny `automations`, `gateway` and `plugins` (group:automation)".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { OpenChannelsControlPlane;
    fires_when_gateway_is_reachable: "{channels: {telegram: {dmPolicy: 'open'}}, tools: {profile: 'messaging'}}" => 1;
    quiet_when_denied: "{channels: {telegram: {dmPolicy: 'open'}}, tools: {deny: ['group:automation']}}" => 0;
}
