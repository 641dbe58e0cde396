use super::Network;
use crate::openclaw::{AgentTools, Conformance, Context, Target};
use crate::policy::model::Network as Net;

impl Conformance for Network {
    fn check_agent(&self, cx: &mut Context<'_>, target: &Target, agent: &AgentTools<'_>) {
        if target.policy.wpc.constraints.sandbox.network != Some(Net::None) {
            return;
        }
        let Some(node) = agent.scope.sandbox(&["docker", "network"]) else {
            return;
        };
        if node.as_str() != Some("none") {
            cx.report(
                node,
                format!(
                    "WPC `{}` allows no network but agent `{}` has docker network `{}`",
                    target.policy.name(),
                    agent.scope.id,
                    node.source_text()
                ),
            )
            .help = Some("set `docker.network: \"none\"` (the default)".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::{run_with, target};

    #[test]
    fn fires_on_bridge() {
        let t = target(&crate::policy::testing::CLEAN.replace(
            "elevated_exec = \"deny\"",
            "elevated_exec = \"deny\"\nnetwork = \"none\"",
        ));
        assert_eq!(
            run_with(
                &Network,
                "{agents: {defaults: {sandbox: {docker: {network: 'bridge'}}}}}",
                Some(&t)
            )
            .len(),
            1
        );
    }

    #[test]
    fn quiet_on_none_or_when_the_wpc_allows_egress() {
        let t = target(&crate::policy::testing::CLEAN.replace(
            "elevated_exec = \"deny\"",
            "elevated_exec = \"deny\"\nnetwork = \"none\"",
        ));
        assert!(
            run_with(
                &Network,
                "{agents: {defaults: {sandbox: {docker: {network: 'none'}}}}}",
                Some(&t)
            )
            .is_empty()
        );
        let open = target(crate::policy::testing::CLEAN);
        assert!(
            run_with(
                &Network,
                "{agents: {defaults: {sandbox: {docker: {network: 'bridge'}}}}}",
                Some(&open)
            )
            .is_empty()
        );
    }
}
