use super::{DangerousFlags, find_keys};
use crate::openclaw::{Context, Rule};

impl Rule for DangerousFlags {
    fn check(&self, cx: &mut Context<'_>) {
        let mut flags = Vec::new();
        find_keys(
            cx.root,
            &|k| k.starts_with("dangerously") && k != "dangerouslyAllowHostHeaderOriginFallback",
            &mut flags,
        );
        for (key, node) in flags {
            if node.as_bool() == Some(true) {
                cx.report(
                    node,
                    format!("`{key}` is on: a safety check of the runtime is switched off"),
                )
                .help = Some("remove the flag unless you are debugging".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { DangerousFlags;
    fires_on_each_flag: "{agents: {defaults: {sandbox: {docker: {dangerouslyAllowExternalBindSources: true, dangerouslyAllowContainerNamespaceJoin: false}}}}, browser: {ssrfPolicy: {dangerouslyAllowPrivateNetwork: true}}}" => 2;
    quiet_without_flags: "{gateway: {bind: 'loopback'}}" => 0;
}
