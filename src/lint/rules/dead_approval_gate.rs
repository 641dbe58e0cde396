use super::DeadApprovalGate;
use crate::decide::{Basis, Call, Engine};
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for DeadApprovalGate {
    fn check_policy(&self, policy: &Policy, engine: &Engine, cx: &mut Context<'_>) {
        for (i, (_, gate)) in engine.gates().enumerate() {
            let Ok(gate) = gate else {
                continue;
            };
            for tool in gate.named_tools() {
                // Only the pattern verdict matters here, so the call is the
                // bare tool name.
                let (why, deny) = match engine.decide_per_call(&Call::tool(&tool)).basis {
                    Basis::DenyPattern { index, pattern } => (
                        format!(
                            "the policy denies it (`{pattern}`, constraints.tool_policy.deny[{index}])"
                        ),
                        Some(index),
                    ),
                    Basis::DefaultDeny => ("no allow pattern matches it".to_owned(), None),
                    _ => continue,
                };
                let finding = cx.report(
                    &policy.doc,
                    &format!("/constraints/approvals/{i}/when"),
                    format!(
                        "this gate names tool `{tool}`, but {why}: the gate can never apply to it"
                    ),
                );
                finding.help =
                    Some("fix the tool name, allow the tool, or remove the gate".to_owned());
                if let Some(index) = deny {
                    finding.related.push(
                        policy
                            .doc
                            .locate(&format!("/constraints/tool_policy/deny/{index}"))
                            .annotated(format!("the deny that matches `{tool}`")),
                    );
                }
            }
        }
    }
}

crate::lint::lint_tests! { DeadApprovalGate;
    fires_for_denied_and_never_allowed_tools:
        &[&gated("tool == 'exec' || tool in ['repo.comentt', 'read']")] => [
            "22:8 this gate names tool `exec`, but the policy denies it (`exec`, constraints.tool_policy.deny[0]): the gate can never apply to it [7:9 the deny that matches `exec`]",
            "22:8 this gate names tool `repo.comentt`, but no allow pattern matches it: the gate can never apply to it",
        ];
    quiet_for_allowed_tools_and_negations: &[&gated("tool == 'repo.comment' && tool != 'exec'")] => 0;
}
