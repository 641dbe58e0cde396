#![allow(clippy::unwrap_used)]
//! Scoped tokens made by PyJWT (tests/fixtures/cst/generate.py) checked by
//! `wpc::cst` and `wpc cst check`, and bound to bundles with `--cst`.

use std::path::Path;

use crate::support;

use support::run;
use wpc::bundle::kit::{Shape, bundle_bytes};
use wpc::crypto::did::DidKey;
use wpc::cst::{Issuers, TokenPolicy, check};
use wpc::policy::Policy;

const DIR: &str = "tests/fixtures/cst";
/// 2026-02-12T00:10:00Z: inside every fixture token's lifetime.
const NOW: i64 = 1_770_855_000;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(DIR).join(name))
        .unwrap()
        .trim()
        .to_owned()
}

fn issuers() -> Issuers {
    Issuers::did(&DidKey::parse(&fixture("issuer.did")).unwrap())
}

fn codes(token: &str, issuers: &Issuers, now: i64) -> Vec<&'static str> {
    let policy = Policy::load(&Path::new(DIR).join("policy.toml")).unwrap();
    let report = check(
        &fixture(token),
        issuers,
        now,
        Some(TokenPolicy {
            wpc: &policy.wpc,
            hash: &policy.hash,
        }),
    );
    assert_eq!(report.valid, report.failures.is_empty());
    report.failures.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn fixture_tokens_give_their_codes() {
    let issuers = issuers();
    for (token, expected) in [
        ("valid.jwt", vec![]),
        ("ttl_too_long.jwt", vec!["CST_TTL_TOO_LONG"]),
        ("no_jti.jwt", vec!["CST_JTI_MISSING"]),
        ("other_policy.jwt", vec!["CST_POLICY_MISMATCH"]),
        ("unpinned.jwt", vec!["CST_POLICY_MISMATCH"]),
        ("wrong_scope_hash.jwt", vec!["CST_SCOPE_HASH_MISMATCH"]),
        ("other_issuer.jwt", vec!["SIGNATURE_INVALID"]),
        ("hs256.jwt", vec!["TOKEN_UNSUPPORTED_ALG"]),
    ] {
        assert_eq!(codes(token, &issuers, NOW), expected, "{token}");
    }
    assert_eq!(codes("valid.jwt", &issuers, NOW + 86_400), ["CST_EXPIRED"]);
}

#[test]
fn the_scope_hash_matches_the_independent_computation() {
    let report = check(&fixture("valid.jwt"), &issuers(), NOW, None);
    assert!(report.valid, "{:?}", report.failures);
    assert_eq!(report.scope_hash_b64u.unwrap(), fixture("scope_hash.txt"));
}

#[test]
fn jwks_keys_verify_too() {
    let jwks = Issuers::jwks(&fixture("jwks.json")).unwrap();
    assert_eq!(codes("valid.jwt", &jwks, NOW), Vec::<&str>::new());
    assert_eq!(codes("other_issuer.jwt", &jwks, NOW), ["SIGNATURE_INVALID"]);
}

#[test]
fn hostile_tokens_are_malformed_not_panics() {
    let issuers = issuers();
    let valid = fixture("valid.jwt");
    let (head, rest) = valid.split_once('.').unwrap();
    for token in [
        String::new(),
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        "!!.!!.!!".to_owned(),
        format!("{head}.{rest}="),
        format!("{head}.e30.AAAA"),
        format!("W10.{rest}"),
        "x".repeat(70_000),
    ] {
        let report = check(&token, &issuers, NOW, None);
        assert!(!report.valid, "{token:.40}");
    }
}

#[test]
fn cli_cst_check_and_bundle_binding() {
    let root = support::root();
    let fixtures = root.join(DIR);
    let issuer = fixture("issuer.did");
    let now = "2026-02-12T00:10:00Z";
    let cst = |dir: &Path, token: &str| {
        run(
            dir,
            &[
                "cst",
                "check",
                token,
                "--policy",
                "policy.toml",
                "--issuer",
                &issuer,
                "--now",
                now,
            ],
        )
    };
    assert_eq!(cst(&fixtures, "valid.jwt").status.code(), Some(0));
    let out = cst(&fixtures, "ttl_too_long.jwt");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CST_TTL_TOO_LONG"));

    let dir = tempfile::tempdir().unwrap();
    let bound = Shape {
        scope_hash: Some(fixture("scope_hash.txt")),
        ..Shape::default()
    };
    std::fs::write(dir.path().join("bound.json"), bundle_bytes(&bound).unwrap()).unwrap();
    let other = Shape {
        seq: 1,
        scope_hash: Some("T".repeat(43)),
        ..Shape::default()
    };
    std::fs::write(dir.path().join("other.json"), bundle_bytes(&other).unwrap()).unwrap();
    let token = fixtures.join("valid.jwt");
    let verify = |file: &str| {
        run(
            dir.path(),
            &[
                "bundle",
                "verify",
                file,
                "--cst",
                token.to_str().unwrap(),
                "--issuer",
                &issuer,
                "--now",
                now,
            ],
        )
    };
    assert_eq!(verify("bound.json").status.code(), Some(0));
    let out = verify("other.json");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SCOPE_HASH_MISMATCH"));
}
