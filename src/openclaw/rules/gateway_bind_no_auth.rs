use super::{GatewayBindNoAuth, has_auth, non_loopback};
use crate::openclaw::{Context, Rule};

impl Rule for GatewayBindNoAuth {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if non_loopback(root) && !has_auth(root) {
            let bind = cx.at(&["gateway", "bind"]);
            cx.report(bind, "the gateway is bound beyond loopback but has no token, password or trusted-proxy auth; anyone who reaches the port controls the agents")
                .help = Some("set `gateway.auth.mode: \"token\"` with a long random token, or `bind: \"loopback\"`".into());
        }
    }
}

crate::openclaw::audit_tests! { GatewayBindNoAuth;
    fires_on_lan_without_auth: "{gateway: {bind: 'lan', auth: {mode: 'none'}}}" => ["1:18 error the gateway is bound beyond loopback but has no token, password or trusted-proxy auth; anyone who reaches the port controls the agents"];
    quiet_with_a_token_or_on_loopback:
        "{gateway: {bind: 'lan', auth: {token: '${TOKEN}'}}}" => 0,
        "{gateway: {auth: {mode: 'none'}}}" => 0;
}
