use super::{ControlUiOrigins, control_ui_enabled, critical_if, non_loopback};
use crate::openclaw::json5::Node;
use crate::openclaw::{Context, Rule};

impl Rule for ControlUiOrigins {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if !control_ui_enabled(root) {
            return;
        }
        let exposed = non_loopback(root);
        let origins = root.at(&["gateway", "controlUi", "allowedOrigins"]);
        let fallback = root.at(&[
            "gateway",
            "controlUi",
            "dangerouslyAllowHostHeaderOriginFallback",
        ]);
        let fallback_on = fallback.and_then(Node::as_bool) == Some(true);
        let empty = origins
            .and_then(Node::as_array)
            .is_none_or(<[Node]>::is_empty);
        if exposed && empty && !fallback_on {
            let at = cx.at(&["gateway", "controlUi", "allowedOrigins"]);
            cx.report(at, "the gateway is reachable beyond loopback and `gateway.controlUi.allowedOrigins` is empty")
                .help = Some("list the exact origins that may open the Control UI".into());
        }
        for origin in origins.and_then(Node::as_array).unwrap_or_default() {
            if origin.as_str() == Some("*") {
                cx.report_as(
                    origin,
                    critical_if(exposed),
                    "`*` in `allowedOrigins` lets any web page drive the Control UI",
                )
                .help = Some("list explicit origins".into());
            }
        }
        if let Some(fallback) = fallback.filter(|_| fallback_on) {
            cx.report_as(
                fallback,
                critical_if(exposed),
                "the Host header decides the allowed origin, which an attacker controls",
            )
            .help = Some("remove the flag and set `allowedOrigins`".into());
        }
    }
}

crate::openclaw::audit_tests! { ControlUiOrigins;
    fires_on_missing_and_wildcard_origins:
        "{gateway: {bind: 'lan'}}" => 1,
        "{gateway: {controlUi: {allowedOrigins: ['*'], dangerouslyAllowHostHeaderOriginFallback: true}}}" => (2, "warning");
    quiet_with_explicit_origins:
        "{gateway: {bind: 'lan', controlUi: {allowedOrigins: ['https://ui.example']}}}" => 0,
        "{gateway: {bind: 'lan', controlUi: {enabled: false}}}" => 0;
}
