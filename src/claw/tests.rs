use super::*;
use crate::policy::testing::{CLEAN, policy};

fn settings() -> ExportSettings {
    ExportSettings {
        versions: ClawVersion::ALL.to_vec(),
        issuer_did: Some("did:web:example.com".into()),
    }
}

#[test]
fn renders_both_versions_of_a_clean_policy() {
    let p = policy(CLEAN);
    for version in ClawVersion::ALL {
        let out = render(&p, version, &settings()).unwrap();
        assert_eq!(out.hash, sha256_b64u(&out.bytes));
        assert_eq!(out.payload["policy_id"], "p");
        assert_eq!(out.payload["metadata"]["wpc"]["policy_hash_b64u"], p.hash);
    }
}

#[test]
fn issuer_is_required() {
    let p = policy(CLEAN);
    let err = render(&p, ClawVersion::V2, &ExportSettings::default()).unwrap_err();
    assert!(err.to_string().contains("issuer_did"), "{err}");
}
