use super::ClawExportInexact;
use crate::claw::{self, ClawVersion};
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for ClawExportInexact {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        for version in ClawVersion::ALL {
            if !cx.claw.enabled(version) {
                continue;
            }
            for gap in claw::gaps(policy, version) {
                let message = format!("the {version} export differs: {}", gap.message);
                let finding = policy
                    .doc
                    .finding_at(
                        &gap.pointer,
                        cx.meta().code,
                        cx.meta().default_severity,
                        message,
                    )
                    .help(format!(
                        "see docs/claw.md#what-a-{version}-gateway-enforces"
                    ));
                cx.push(finding);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claw::ExportSettings;
    use crate::config::LintSettings;
    use crate::lint::testing::{CLEAN, run_default, run_with_claw};

    const GATED: &str = r#"
[[constraints.approvals]]
when = "tool == 'repo.comment' && content.contains('SECURITY:')"
require = "ticket_id"
approvers = ["acme/security"]
"#;

    fn export(versions: &[ClawVersion]) -> ExportSettings {
        ExportSettings {
            versions: versions.to_vec(),
            issuer_did: Some("did:web:x.example".into()),
        }
    }

    #[test]
    fn names_each_gap_of_a_gate_in_v2() {
        let text = format!("{CLEAN}{GATED}");
        let found = run_with_claw(
            &ClawExportInexact,
            &LintSettings::default(),
            &export(&[ClawVersion::V2]),
            &[&text],
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.iter().any(|f| f.contains("ticket")), "{found:?}");
        assert!(
            found.iter().any(|f| f.contains("acme/security")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|f| f.contains("denies every call")),
            "{found:?}"
        );
    }

    #[test]
    fn says_what_a_v1_gateway_enforces() {
        let found = run_with_claw(
            &ClawExportInexact,
            &LintSettings::default(),
            &export(&[ClawVersion::V1]),
            &[CLEAN],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("provider and model"), "{found:?}");
    }

    #[test]
    fn quiet_for_exact_gates_or_without_export() {
        let exact = format!(
            "{CLEAN}\n[[constraints.approvals]]\nwhen = \"tool == 'repo.comment'\"\nrequire = \"human_approval\"\n"
        );
        let found = run_with_claw(
            &ClawExportInexact,
            &LintSettings::default(),
            &export(&[ClawVersion::V2]),
            &[&exact],
        );
        assert!(found.is_empty(), "{found:?}");
        assert!(run_default(&ClawExportInexact, &[&format!("{CLEAN}{GATED}")]).is_empty());
    }
}
