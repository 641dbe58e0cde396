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
    use crate::claw::{ClawVersion, ExportSettings};
    use crate::config::LintSettings;
    use crate::lint::testing::{CLEAN, run_with_claw};

    #[test]
    fn fires_when_v1_lists_or_v2_statements_overflow() {
        let models: Vec<String> = (0..300).map(|i| format!("\"m{i}\"")).collect();
        let text = CLEAN.replace(
            "receipts_required = true",
            &format!(
                "receipts_required = true\nallowed_models = [{}]",
                models.join(", ")
            ),
        );
        let both = ExportSettings {
            versions: ClawVersion::ALL.to_vec(),
            issuer_did: Some("did:web:x.example".into()),
        };
        let found = run_with_claw(&ClawLimit, &LintSettings::default(), &both, &[&text]);
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn quiet_within_limits() {
        let both = ExportSettings {
            versions: ClawVersion::ALL.to_vec(),
            issuer_did: Some("did:web:x.example".into()),
        };
        assert!(run_with_claw(&ClawLimit, &LintSettings::default(), &both, &[CLEAN]).is_empty());
    }
}
