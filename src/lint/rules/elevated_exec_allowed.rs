use crate::decide::Engine;
use crate::lint::{Context, Rule, RuleMeta};
use crate::policy::Policy;
use crate::policy::model::ElevatedExec;
use crate::report::Severity;

static META: RuleMeta = RuleMeta {
    code: "WPC010",
    name: "elevated-exec-allowed",
    summary: "the agent may execute commands with elevated privileges",
    default_severity: Severity::Error,
    doc: include_str!("../../../docs/rules/WPC010.md"),
};

pub struct ElevatedExecAllowed;

impl Rule for ElevatedExecAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, run_default};

    #[test]
    fn fires_when_allowed() {
        let text = CLEAN.replace("elevated_exec = \"deny\"", "elevated_exec = \"allow\"");
        assert_eq!(run_default(&ElevatedExecAllowed, &[&text]).len(), 1);
    }

    #[test]
    fn quiet_when_denied() {
        assert!(run_default(&ElevatedExecAllowed, &[CLEAN]).is_empty());
    }
}
