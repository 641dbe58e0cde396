use super::{DangerousNodeCommands, critical_if, exposed};
use crate::openclaw::catalog;
use crate::openclaw::json5::Node;
use crate::openclaw::{Context, Rule};

impl Rule for DangerousNodeCommands {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let deny: Vec<&str> = root
            .at(&["gateway", "nodes", "commands", "deny"])
            .and_then(Node::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        let severity = critical_if(exposed(root));
        for entry in root
            .at(&["gateway", "nodes", "commands", "allow"])
            .and_then(Node::as_array)
            .unwrap_or_default()
        {
            let Some(command) = entry.as_str() else {
                continue;
            };
            if catalog::DANGEROUS_NODE_COMMANDS.contains(&command) && !deny.contains(&command) {
                cx.report_as(entry, severity, format!("node command `{command}` is dangerous (it reaches the device's sensors or messages)"))
                    .help = Some("remove it from `gateway.nodes.commands.allow`".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { DangerousNodeCommands;
    fires_on_sms_send: "{gateway: {nodes: {commands: {allow: ['sms.send', 'ping']}}}}" => 1;
    quiet_when_also_denied: "{gateway: {nodes: {commands: {allow: ['sms.send'], deny: ['sms.send']}}}}" => 0;
}
