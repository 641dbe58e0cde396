use super::ApprovalWithoutApprovers;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for ApprovalWithoutApprovers {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        if !cx.settings.require_approvers {
            return;
        }
        for (i, approval) in policy.wpc.constraints.approvals.iter().enumerate() {
            if approval.approvers.as_ref().is_some_and(|a| !a.is_empty()) {
                continue;
            }
            let pointer = match approval.approvers {
                Some(_) => format!("/constraints/approvals/{i}/approvers"),
                None => format!("/constraints/approvals/{i}"),
            };
            cx.report(&policy.doc, &pointer, "this approval gate names no approvers")
                .help = Some("add `approvers = [\"org/team\"]`; `[lint] require_approvers = true` in wpc.toml asks for them".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LintSettings;
    use crate::lint::testing::{CLEAN, run, run_default};

    fn gated(approvers: &str) -> String {
        format!(
            "{CLEAN}\n[[constraints.approvals]]\nwhen = \"tool == 'read'\"\nrequire = \"human_approval\"\n{approvers}"
        )
    }

    #[test]
    fn fires_only_when_required() {
        let settings = LintSettings {
            require_approvers: true,
            ..Default::default()
        };
        assert_eq!(
            run(&ApprovalWithoutApprovers, &settings, &[&gated("")]).len(),
            1
        );
        assert_eq!(
            run(
                &ApprovalWithoutApprovers,
                &settings,
                &[&gated("approvers = []\n")]
            )
            .len(),
            1
        );
        assert!(
            run(
                &ApprovalWithoutApprovers,
                &settings,
                &[&gated("approvers = [\"a/b\"]\n")]
            )
            .is_empty()
        );
        assert!(run_default(&ApprovalWithoutApprovers, &[&gated("")]).is_empty());
    }
}
