use super::{OpenChannelsElevated, elevated_enabled, open_channel};
use crate::openclaw::{Context, Rule};

impl Rule for OpenChannelsElevated {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let Some(open_at) = open_channel(root) else {
            return;
        };
        if elevated_enabled(root) {
            let at = cx.at(&["tools", "elevated", "enabled"]);
            cx.report(
                at,
                format!(
                    "elevated exec is not disabled while a channel policy is `open` ({open_at})"
                ),
            )
            .help = Some(
                "set `tools.elevated.enabled: false`, or make the channel `allowlist`/`pairing`"
                    .into(),
            );
        }
    }
}

crate::openclaw::audit_tests! { OpenChannelsElevated;
    fires_when_open_and_elevated_by_default:
        "{channels: {whatsapp: {groupPolicy: 'open'}}}" => 1,
        "{channels: {x: {accounts: {a: {dm: {policy: 'open'}}}}}}" => 1;
    quiet_when_elevated_is_off:
        "{tools: {elevated: {enabled: false}}, channels: {whatsapp: {groupPolicy: 'open'}}}" => 0,
        "{channels: {whatsapp: {groupPolicy: 'allowlist'}}}" => 0;
}
