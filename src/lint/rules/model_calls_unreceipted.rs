use super::ModelCallsUnreceipted;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for ModelCallsUnreceipted {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let help =
            "set [constraints.model_calls] route_via = \"clawproxy\" and receipts_required = true";
        let (pointer, message) = match &policy.wpc.constraints.model_calls {
            None => (
                "/constraints",
                "no `[constraints.model_calls]`: model calls leave no signed receipt",
            ),
            Some(calls) if calls.route_via.is_none() => (
                "/constraints/model_calls",
                "`model_calls.route_via` is not set: calls may bypass the receipting gateway",
            ),
            Some(calls) if calls.receipts_required != Some(true) => (
                "/constraints/model_calls/receipts_required",
                "`model_calls.receipts_required` is not true: a call without a receipt is accepted",
            ),
            Some(_) => return,
        };
        cx.report(&policy.doc, pointer, message).help = Some(help.to_owned());
    }
}

crate::lint::lint_tests! { ModelCallsUnreceipted;
    fires_without_route_or_receipts:
        &[&CLEAN.replace("receipts_required = true", "receipts_required = false")]
            => ["16:21 `model_calls.receipts_required` is not true: a call without a receipt is accepted"],
        &[&CLEAN.replace("route_via = \"clawproxy\"\n", "")] => 1;
    quiet_when_routed_with_receipts: &[CLEAN] => 0;
}
