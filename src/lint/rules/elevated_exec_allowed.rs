use super::ElevatedExecAllowed;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::model::ElevatedExec;

impl Rule for ElevatedExecAllowed {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        if policy.wpc.constraints.sandbox.elevated_exec == ElevatedExec::Allow {
            cx.report(
                &policy.doc,
                "/constraints/sandbox/elevated_exec",
                "`elevated_exec = \"allow\"` lets commands escape the sandbox onto the host",
            )
            .help = Some("set `elevated_exec = \"deny\"`".to_owned());
        }
    }
}

crate::lint::lint_tests! { ElevatedExecAllowed;
    fires_when_allowed: &[&CLEAN.replace("elevated_exec = \"deny\"", "elevated_exec = \"allow\"")] => 1;
    quiet_when_denied: &[CLEAN] => 0;
}
