use super::{UnconfinedProfile, docker_blocks};
use crate::openclaw::{Context, Rule};

impl Rule for UnconfinedProfile {
    fn check(&self, cx: &mut Context<'_>) {
        for (path, docker) in docker_blocks(cx) {
            for key in ["seccompProfile", "apparmorProfile"] {
                let Some(node) = docker.get(key) else {
                    continue;
                };
                if node
                    .as_str()
                    .is_some_and(|p| p.eq_ignore_ascii_case("unconfined"))
                {
                    cx.report(node, format!("{path}.{key} is `unconfined`: the container loses a kernel-level confinement layer"))
                        .help = Some("remove the setting (Docker's default profile applies)".into());
                }
            }
        }
    }
}

crate::openclaw::audit_tests! { UnconfinedProfile;
    fires_on_unconfined: "{agents: {defaults: {sandbox: {docker: {seccompProfile: 'unconfined', apparmorProfile: 'Unconfined'}}}}}" => 2;
    quiet_on_defaults: "{agents: {defaults: {sandbox: {docker: {seccompProfile: '/etc/seccomp.json'}}}}}" => 0;
}
