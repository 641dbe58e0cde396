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
    use crate::claw::{ClawVersion, ExportSettings};
    use crate::config::LintSettings;
    use crate::lint::testing::{CLEAN, run_with_claw};

    #[test]
    fn fires_for_question_marks_and_classes() {
        let text = CLEAN
            .replace(
                "allow = [\"read\", \"repo.comment\"]",
                "allow = [\"read?\"]",
            )
            .replace(
                "receipts_required = true",
                "receipts_required = true\nallowed_models = [\"gpt-[45]\"]",
            );
        let both = ExportSettings {
            versions: ClawVersion::ALL.to_vec(),
            issuer_did: Some("did:web:x.example".into()),
        };
        let found = run_with_claw(&ClawPattern, &LintSettings::default(), &both, &[&text]);
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn quiet_for_stars_and_literals() {
        let both = ExportSettings {
            versions: ClawVersion::ALL.to_vec(),
            issuer_did: Some("did:web:x.example".into()),
        };
        assert!(run_with_claw(&ClawPattern, &LintSettings::default(), &both, &[CLEAN]).is_empty());
    }
}
