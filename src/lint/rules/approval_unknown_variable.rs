use super::ApprovalUnknownVariable;
use crate::decide::Engine;
use crate::decide::gate::VARIABLES;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for ApprovalUnknownVariable {
    fn check_policy(&self, policy: &Policy, engine: &Engine, cx: &mut Context<'_>) {
        for (i, (_, gate)) in engine.gates().enumerate() {
            // A gate that does not parse is WPC014's.
            let Ok(gate) = gate else {
                continue;
            };
            let unknown = gate.unknown_variables();
            if unknown.is_empty() {
                continue;
            }
            let names = unknown
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            cx.report(
                &policy.doc,
                &format!("/constraints/approvals/{i}/when"),
                format!(
                    "`when` reads unknown variable {names}; evaluating it fails and denies the call"
                ),
            )
            .help = Some(format!("the variables are {}", VARIABLES.join(", ")));
        }
    }
}

crate::lint::lint_tests! { ApprovalUnknownVariable;
    fires_for_unknown_names:
        &[&gated("user == 'bob' && tool == 'read'")]
            => ["22:8 `when` reads unknown variable `user`; evaluating it fails and denies the call"];
    quiet_for_context_and_bound_variables:
        &[&gated("args.exists(k, k == 'path') && env == 'prod' && model.startsWith(provider)")] => 0;
}
