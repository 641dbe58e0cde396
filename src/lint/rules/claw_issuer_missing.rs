use super::ClawIssuerMissing;

claw_rule! { ClawIssuerMissing, IssuerMissing }

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claw::{ClawVersion, ExportSettings};
    use crate::config::LintSettings;
    use crate::lint::testing::{CLEAN, run_default, run_with_claw};

    #[test]
    fn fires_without_an_issuer_when_export_is_on() {
        let on = ExportSettings {
            versions: vec![ClawVersion::V2],
            issuer_did: None,
        };
        let found = run_with_claw(&ClawIssuerMissing, &LintSettings::default(), &on, &[CLEAN]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("issuer_did"), "{found:?}");
    }

    #[test]
    fn quiet_with_an_issuer_or_without_export() {
        let on = ExportSettings {
            versions: ClawVersion::ALL.to_vec(),
            issuer_did: Some("did:web:x.example".into()),
        };
        assert!(
            run_with_claw(&ClawIssuerMissing, &LintSettings::default(), &on, &[CLEAN]).is_empty()
        );
        let own = format!("issuer_did = \"did:web:x.example\"\n{CLEAN}");
        let off = ExportSettings {
            versions: ClawVersion::ALL.to_vec(),
            issuer_did: None,
        };
        assert!(
            run_with_claw(&ClawIssuerMissing, &LintSettings::default(), &off, &[&own]).is_empty()
        );
        assert!(run_default(&ClawIssuerMissing, &[CLEAN]).is_empty());
    }
}
