use super::{HooksSessionKeyOverride, critical_if, exposed, hooks_enabled};
use crate::openclaw::json5::Node;
use crate::openclaw::{Context, Rule};

impl Rule for HooksSessionKeyOverride {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if !hooks_enabled(root) {
            return;
        }
        let Some(flag) = root.at(&["hooks", "allowRequestSessionKey"]) else {
            return;
        };
        if flag.as_bool() != Some(true) {
            return;
        }
        let prefixes = root
            .at(&["hooks", "allowedSessionKeyPrefixes"])
            .and_then(Node::as_array);
        let message = if prefixes.is_none_or(<[Node]>::is_empty) {
            "webhook callers may pick any session key (no `allowedSessionKeyPrefixes`), so they can write into other sessions"
        } else {
            "webhook callers may pick the session key they write into"
        };
        cx.report_as(flag, critical_if(exposed(root)), message).help = Some(
            "disable `allowRequestSessionKey`, or restrict `allowedSessionKeyPrefixes`".into(),
        );
    }
}

crate::openclaw::audit_tests! { HooksSessionKeyOverride;
    fires_when_enabled: "{hooks: {enabled: true, allowRequestSessionKey: true}}" => (1, "no `allowedSessionKeyPrefixes`");
    quiet_when_off: "{hooks: {enabled: true, allowRequestSessionKey: false}}" => 0;
}
