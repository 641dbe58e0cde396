use super::{RealIpFallback, critical_if, non_loopback, str_at};
use crate::openclaw::json5::Node;
use crate::openclaw::{Context, Rule};

impl Rule for RealIpFallback {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let Some(flag) = root.at(&["gateway", "allowRealIpFallback"]) else {
            return;
        };
        if flag.as_bool() != Some(true) {
            return;
        }
        let remote_proxy = str_at(root, &["gateway", "auth", "mode"]) == Some("trusted-proxy")
            && root
                .at(&["gateway", "trustedProxies"])
                .and_then(Node::as_array)
                .unwrap_or_default()
                .iter()
                .any(|p| !matches!(p.as_str(), Some("127.0.0.1" | "::1")));
        cx.report_as(flag, critical_if(non_loopback(root) || remote_proxy), "`allowRealIpFallback` trusts X-Real-IP from any client, so rate limits and local-only checks can be spoofed")
            .help = Some("keep `gateway.allowRealIpFallback: false`".into());
    }
}

crate::openclaw::audit_tests! { RealIpFallback;
    fires_when_enabled: "{gateway: {bind: 'lan', allowRealIpFallback: true}}" => 1;
    quiet_when_off: "{gateway: {allowRealIpFallback: false}}" => 0;
}
