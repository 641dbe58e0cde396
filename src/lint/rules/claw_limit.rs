use crate::claw::ProblemKind;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

crate::rule! {
    ClawLimit, "WPC024", "claw-limit", Error,
    "a value exceeds the Claw protocol's limits for the export"
}

impl Rule for ClawLimit {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        super::report_claw_problems(ProblemKind::Limit, None, policy, cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, every_claw_version, lint};

    fn many_models() -> String {
        let models: Vec<String> = (0..300).map(|i| format!("\"m{i}\"")).collect();
        CLEAN.replace(
            "receipts_required = true",
            &format!(
                "receipts_required = true\nallowed_models = [{}]",
                models.join(", ")
            ),
        )
    }

    crate::rule_tests! { lint(&ClawLimit, Some(every_claw_version()));
        fires_when_v1_lists_or_v2_statements_overflow: &[&many_models()] => 2;
        quiet_within_limits: &[CLEAN] => 0;
    }
}
