use super::SandboxNotRequired;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for SandboxNotRequired {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        if !policy.wpc.constraints.sandbox.required {
            cx.report(
                &policy.doc,
                "/constraints/sandbox/required",
                "`sandbox.required = false` lets the agent's tools run on the host",
            )
            .help = Some(
                "set `required = true`; grant access with `workspaceAccess` instead".to_owned(),
            );
        }
    }
}

crate::lint::lint_tests! { SandboxNotRequired;
    fires_when_not_required:
        &[&CLEAN.replace("required = true", "required = false")]
            => ["10:12 `sandbox.required = false` lets the agent's tools run on the host"];
    quiet_when_required: &[CLEAN] => 0;
}
