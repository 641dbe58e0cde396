use crate::claw::ProblemKind;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

crate::rule! {
    ClawPattern, "WPC025", "claw-pattern", Error,
    "a pattern the Claw protocol's glob would read more widely"
}

impl Rule for ClawPattern {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        super::report_claw_problems(ProblemKind::Pattern, None, policy, cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, every_claw_version, lint};

    fn patterns() -> String {
        CLEAN
            .replace(
                "allow = [\"read\", \"repo.comment\"]",
                "allow = [\"read?\"]",
            )
            .replace(
                "receipts_required = true",
                "receipts_required = true\nallowed_models = [\"gpt-[45]\"]",
            )
    }

    crate::rule_tests! { lint(&ClawPattern, Some(every_claw_version()));
        fires_for_question_marks_and_classes: &[&patterns()] => 2;
        quiet_for_stars_and_literals: &[CLEAN] => 0;
    }
}
