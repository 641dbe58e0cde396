use super::{ElevatedEnabledByDefault, elevated_enabled};
use crate::openclaw::{Context, Rule};

impl Rule for ElevatedEnabledByDefault {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if elevated_enabled(root) {
            let at = cx.at(&["tools", "elevated", "enabled"]);
            cx.report(at, "`tools.elevated.enabled` is not `false`, and OpenClaw treats anything else as enabled: `/elevated` lets exec escape the sandbox")
                .help = Some("set `tools.elevated.enabled: false` unless operators need host exec".into());
        }
    }
}

crate::openclaw::audit_tests! { ElevatedEnabledByDefault;
    fires_when_unset: "{}" => 1;
    quiet_when_false: "{tools: {elevated: {enabled: false}}}" => 0;
}
