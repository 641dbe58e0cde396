use super::{GatewayLoopbackNoAuth, control_ui_enabled, has_auth, non_loopback, str_at};
use crate::openclaw::{Context, Rule};

impl Rule for GatewayLoopbackNoAuth {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let serve = str_at(root, &["gateway", "tailscale", "mode"]) == Some("serve");
        if !non_loopback(root) && control_ui_enabled(root) && !has_auth(root) && !serve {
            let at = cx.at(&["gateway", "auth"]);
            cx.report(at, "the gateway has no auth: any local process or browser page that reaches 127.0.0.1 can use the Control UI and the agents")
                .help = Some("set `gateway.auth.mode: \"token\"` with a long random token".into());
        }
    }
}

crate::openclaw::audit_tests! { GatewayLoopbackNoAuth;
    fires_on_an_empty_config: "{}" => 1;
    quiet_with_auth_or_without_ui:
        "{gateway: {auth: {mode: 'token', token: 'x'}}}" => 0,
        "{gateway: {controlUi: {enabled: false}}}" => 0;
}
