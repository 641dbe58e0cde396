use super::WorkspaceAccess;
use crate::openclaw::{AgentTools, Conformance, Context, Target};
use crate::policy::model::WorkspaceAccess as Access;

impl Conformance for WorkspaceAccess {
    fn check_agent(&self, cx: &mut Context<'_>, target: &Target, agent: &AgentTools<'_>) {
        let allowed = target.policy.wpc.constraints.sandbox.workspace_access;
        let node = agent.scope.sandbox(&["workspaceAccess"]);
        let access = match node.and_then(|n| n.as_str()).unwrap_or("none") {
            "none" => Access::None,
            "ro" => Access::Ro,
            _ => Access::Rw,
        };
        if access > allowed {
            let at = node.or(agent.scope.node).unwrap_or(cx.root);
            cx.report(
                at,
                format!(
                    "agent `{}` has workspace access `{}`, wider than WPC `{}` allows (`{}`)",
                    agent.scope.id,
                    name(access),
                    target.policy.name(),
                    name(allowed)
                ),
            )
            .help = Some(format!(
                "set `sandbox.workspaceAccess: \"{}\"`",
                name(allowed)
            ));
        }
    }
}

fn name(access: Access) -> &'static str {
    match access {
        Access::None => "none",
        Access::Ro => "ro",
        Access::Rw => "rw",
    }
}

crate::openclaw::audit_tests! { WorkspaceAccess under crate::policy::testing::CLEAN;
    fires_on_rw_against_ro: "{agents: {entries: {a: {sandbox: {workspaceAccess: 'rw'}}}}}" => 1;
    quiet_on_ro_or_default: "{agents: {defaults: {sandbox: {workspaceAccess: 'ro'}}}}" => 0;
}
