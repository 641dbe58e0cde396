use crate::decide::Engine;
use crate::lint::{Context, Rule, RuleMeta};
use crate::policy::Policy;
use crate::report::Severity;

static META: RuleMeta = RuleMeta {
    code: "WPC008",
    name: "sandbox-not-required",
    summary: "the agent may run outside a sandbox",
    default_severity: Severity::Error,
    doc: include_str!("../../../docs/rules/WPC008.md"),
};

pub struct SandboxNotRequired;

impl Rule for SandboxNotRequired {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, run_default};

    #[test]
    fn fires_when_not_required() {
        let text = CLEAN.replace("required = true", "required = false");
        assert_eq!(
            run_default(&SandboxNotRequired, &[&text]),
            ["10:12 `sandbox.required = false` lets the agent's tools run on the host"]
        );
    }

    #[test]
    fn quiet_when_required() {
        assert!(run_default(&SandboxNotRequired, &[CLEAN]).is_empty());
    }
}
