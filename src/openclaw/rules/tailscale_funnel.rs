use super::TailscaleFunnel;
use crate::openclaw::{Context, Rule};

impl Rule for TailscaleFunnel {
    fn check(&self, cx: &mut Context<'_>) {
        if let Some(mode) = cx.root.at(&["gateway", "tailscale", "mode"]) {
            if mode.as_str() == Some("funnel") {
                cx.report(
                    mode,
                    "Tailscale Funnel publishes the gateway on the public internet",
                )
                .help = Some("use `serve` (tailnet only) or `off`".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { TailscaleFunnel;
    fires_on_funnel: "{gateway: {tailscale: {mode: 'funnel'}}}" => 1;
    quiet_on_serve: "{gateway: {tailscale: {mode: 'serve'}}}" => 0;
}
