use super::{DangerousNetworkMode, docker_blocks};
use crate::openclaw::{Context, Rule};

impl Rule for DangerousNetworkMode {
    fn check(&self, cx: &mut Context<'_>) {
        for (path, docker) in docker_blocks(cx) {
            let Some(network) = docker.get("network") else {
                continue;
            };
            let Some(mode) = network.as_str() else {
                continue;
            };
            if mode == "host" || mode.starts_with("container:") {
                cx.report(network, format!("{path}.network is `{mode}`: the sandbox joins a network namespace it should not"))
                    .help = Some("use `none` (the default), `bridge` or a custom network".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { DangerousNetworkMode;
    fires_on_host_and_container: "{agents: {defaults: {sandbox: {docker: {network: 'host'}}}, entries: {a: {sandbox: {docker: {network: 'container:db'}}}}}}" => 2;
    quiet_on_none_and_bridge: "{agents: {defaults: {sandbox: {docker: {network: 'bridge'}}}}}" => 0;
}
