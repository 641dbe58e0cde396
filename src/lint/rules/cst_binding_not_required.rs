use super::CstBindingNotRequired;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for CstBindingNotRequired {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        if !policy.wpc.binding.cst_scope_hash_required {
            cx.report(
                &policy.doc,
                "/binding/cst_scope_hash_required",
                "`cst_scope_hash_required = false`: a token minted for another scope is accepted",
            )
            .help = Some("set `cst_scope_hash_required = true`".to_owned());
        }
    }
}

crate::lint::lint_tests! { CstBindingNotRequired;
    fires_when_not_required: &[&CLEAN.replace("cst_scope_hash_required = true", "cst_scope_hash_required = false")] => 1;
    quiet_when_required: &[CLEAN] => 0;
}
