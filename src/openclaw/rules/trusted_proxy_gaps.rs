use super::{TrustedProxyGaps, str_at};
use crate::openclaw::json5::Node;
use crate::openclaw::{Context, Rule};

impl Rule for TrustedProxyGaps {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if str_at(root, &["gateway", "auth", "mode"]) != Some("trusted-proxy") {
            return;
        }
        let mode = cx.at(&["gateway", "auth", "mode"]);
        let proxies = root
            .at(&["gateway", "trustedProxies"])
            .and_then(Node::as_array);
        if proxies.is_none_or(<[Node]>::is_empty) {
            cx.report(mode, "trusted-proxy auth with no `gateway.trustedProxies`: any client can send the identity header")
                .help = Some("list the proxy addresses in `gateway.trustedProxies`".into());
        }
        if root
            .at(&["gateway", "auth", "trustedProxy", "userHeader"])
            .and_then(Node::as_str)
            .is_none_or(str::is_empty)
        {
            cx.report(mode, "trusted-proxy auth with no `trustedProxy.userHeader`")
                .help = Some("set the header your proxy writes the authenticated user to".into());
        }
        let approve = root.at(&["gateway", "auth", "trustedProxy", "deviceAutoApprove"]);
        let enabled = approve
            .and_then(|a| a.get("enabled"))
            .and_then(Node::as_bool)
            == Some(true);
        let scopes = approve
            .and_then(|a| a.get("scopes"))
            .and_then(Node::as_array)
            .unwrap_or_default();
        if enabled {
            for scope in scopes
                .iter()
                .filter(|s| s.as_str() == Some("operator.admin"))
            {
                cx.report(
                    scope,
                    "devices behind the proxy are auto-approved with `operator.admin`",
                )
                .help = Some("remove the admin scope from `deviceAutoApprove.scopes`".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { TrustedProxyGaps;
    fires_on_each_gap: "{gateway: {auth: {mode: 'trusted-proxy', trustedProxy: {deviceAutoApprove: {enabled: true, scopes: ['operator.admin']}}}}}" => 3;
    quiet_when_complete: "{gateway: {trustedProxies: ['10.0.0.1'], auth: {mode: 'trusted-proxy', trustedProxy: {userHeader: 'x-user'}}}}" => 0;
}
