use crate::openclaw::{Context, Rule};
use crate::policy::model::ElevatedExec;

crate::rule! {
    Elevated, "OCW005", "ocw-elevated-not-disabled", Error,
    "the WPC denies elevated exec but elevated is not explicitly disabled"
}

impl Rule for Elevated {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(target) = cx.target else { return };
        let root = cx.root;
        if target.policy.wpc.constraints.sandbox.elevated_exec != ElevatedExec::Deny {
            return;
        }
        for agent in cx.target_agents() {
            if agent.scope.elevated_enabled(root) {
                let at = agent
                    .scope
                    .tools()
                    .and_then(|t| t.get("elevated"))
                    .unwrap_or_else(|| root.nearest(&["tools", "elevated", "enabled"]));
                cx.report(at, format!("WPC `{}` denies elevated exec but agent `{}` does not set `elevated.enabled: false` (OpenClaw enables it unless told otherwise)", target.policy.name(), agent.scope.id))
                    .help = Some("set `tools.elevated.enabled: false`".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { Elevated under crate::policy::testing::CLEAN;
    fires_when_unset: "{}" => 1;
    quiet_when_false: "{tools: {elevated: {enabled: false}}}" => 0;
}
