use super::PluginsNoAllowlist;
use crate::openclaw::json5::Node;
use crate::openclaw::{Context, Rule};

impl Rule for PluginsNoAllowlist {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if root.at(&["plugins", "enabled"]).and_then(Node::as_bool) == Some(false) {
            return;
        }
        let configured = [
            &["plugins", "entries"][..],
            &["plugins", "load", "paths"],
            &["mcp", "servers"],
        ]
        .into_iter()
        .find_map(|path| {
            let node = root.at(path)?;
            (!node.members().is_empty() || node.as_array().is_some_and(|a| !a.is_empty()))
                .then_some(node)
        });
        let allow = root.at(&["plugins", "allow"]).and_then(Node::as_array);
        if let (Some(at), true) = (configured, allow.is_none_or(<[Node]>::is_empty)) {
            cx.report(at, "plugins load without an allowlist: any plugin found on disk runs with the gateway's rights")
                .help = Some("list the plugin ids in `plugins.allow`".into());
        }
    }
}

crate::openclaw::audit_tests! { PluginsNoAllowlist;
    fires_without_allow: "{mcp: {servers: {gh: {command: 'x'}}}}" => 1;
    quiet_with_allow_or_nothing:
        "{plugins: {allow: ['gh'], entries: {gh: {}}}}" => 0,
        "{}" => 0;
}
