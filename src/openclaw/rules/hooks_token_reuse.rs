use super::{HooksTokenReuse, active_secret, hooks_enabled};
use crate::openclaw::{Context, Rule};

impl Rule for HooksTokenReuse {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if !hooks_enabled(root) {
            return;
        }
        let (Some(hooks), Some(gateway)) = (root.at(&["hooks", "token"]), active_secret(root))
        else {
            return;
        };
        if hooks.as_str().is_some_and(|t| !t.is_empty()) && hooks.as_str() == gateway.as_str() {
            cx.report(hooks, "`hooks.token` equals the gateway's token or password: anyone holding the webhook token controls the gateway")
                .help = Some("give hooks their own random token".into());
        }
    }
}

crate::openclaw::audit_tests! { HooksTokenReuse;
    fires_on_reuse: "{hooks: {enabled: true, token: 'same'}, gateway: {auth: {token: 'same'}}}" => 1;
    quiet_on_distinct_tokens_or_disabled_hooks:
        "{hooks: {enabled: true, token: 'a'}, gateway: {auth: {token: 'b'}}}" => 0,
        "{hooks: {token: 'same'}, gateway: {auth: {token: 'same'}}}" => 0;
}
