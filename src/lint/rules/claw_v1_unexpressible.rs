use super::ClawV1Unexpressible;

claw_rule! { ClawV1Unexpressible, V1Vocabulary only V1 }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claw::{ClawVersion, ExportSettings};
    use crate::config::LintSettings;
    use crate::lint::testing::{CLEAN, run_with_claw};

    fn with_providers(list: &str) -> String {
        CLEAN.replace(
            "receipts_required = true",
            &format!("receipts_required = true\nallowed_providers = {list}"),
        )
    }

    #[test]
    fn fires_for_providers_outside_the_v1_enum_and_empty_lists() {
        let v1 = ExportSettings {
            versions: vec![ClawVersion::V1],
            issuer_did: Some("did:web:x.example".into()),
        };
        let found = run_with_claw(
            &ClawV1Unexpressible,
            &LintSettings::default(),
            &v1,
            &[&with_providers("[\"Anthropic\", \"mistral\"]")],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`mistral`"), "{found:?}");
        let found = run_with_claw(
            &ClawV1Unexpressible,
            &LintSettings::default(),
            &v1,
            &[&with_providers("[]")],
        );
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn quiet_for_v2_only() {
        let v2 = ExportSettings {
            versions: vec![ClawVersion::V2],
            issuer_did: Some("did:web:x.example".into()),
        };
        assert!(
            run_with_claw(
                &ClawV1Unexpressible,
                &LintSettings::default(),
                &v2,
                &[&with_providers("[\"mistral\"]")]
            )
            .is_empty()
        );
    }
}
