//! Completeness, fail closed: every output format of `wpc bundle verify`
//! says per bundle which evidence classes were verified, partly verified
//! or present but not verified; evidence wpc does not verify makes a bundle
//! INVALID under `--unverified-evidence fail` (the default of `wpc ci`) and
//! a warning under `warn` (the default of `wpc bundle verify`).

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::Path;

use serde_json::{Value, json};
use support::{copy_dir, root, run, stdout};
use wpc::bundle::kit::{self, Shape};

/// Two bundles in `dir`: the kit's default (gateway receipts verified;
/// tool, side-effect and approval receipts partly verified) and the same
/// run with a URM and metadata added, which wpc does not verify.
fn write_bundles(dir: &Path) {
    let plain = kit::bundle_value(&Shape::default()).unwrap();
    std::fs::write(
        dir.join("a-plain.json"),
        serde_json::to_vec_pretty(&plain).unwrap(),
    )
    .unwrap();
    let mut extra = kit::bundle_value(&Shape {
        seq: 1,
        ..Shape::default()
    })
    .unwrap();
    extra["payload"]["metadata"] = json!({"harness": {"id": "kit", "version": "1"}});
    extra["payload"]["urm"] = json!({
        "urm_version": "1",
        "urm_id": "urm_1",
        "resource_type": "run",
        "resource_hash_b64u": "ibhRTWt5gh47v4X1fAtBRKwEKCHZir1w-de3fNfCEu8"
    });
    let extra = kit::resign(&extra).unwrap();
    std::fs::write(
        dir.join("b-extra.json"),
        serde_json::to_vec_pretty(&extra).unwrap(),
    )
    .unwrap();
}

fn verify(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let gateway = kit::gateway_key().did_str().to_owned();
    let mut args = vec![
        "bundle",
        "verify",
        ".",
        "--gateway-signer",
        &gateway,
        "--now",
        "2026-02-12T00:05:00Z",
    ];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    (out.status.code(), stdout(&out))
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_bundles(dir.path());
    dir
}

#[test]
fn warn_keeps_the_verdict_and_says_so_fail_makes_it_invalid() {
    let dir = setup();
    let (code, text) = verify(dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    insta::assert_snapshot!("text_warn", text);

    let (code, text) = verify(dir.path(), &["--unverified-evidence", "fail"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("VALID   a-plain.json\n"), "{text}");
    assert!(
        text.contains("INVALID b-extra.json EVIDENCE_UNVERIFIED\n"),
        "{text}"
    );
    insta::assert_snapshot!("text_fail", text);
}

#[test]
fn every_format_lists_each_bundles_evidence_classes() {
    let dir = setup();
    for format in ["json", "junit", "markdown", "sarif"] {
        let (code, text) = verify(dir.path(), &["--format", format]);
        assert_eq!(code, Some(0), "{format}: {text}");
        let text = text.replace(env!("CARGO_PKG_VERSION"), "@@VERSION@@");
        insta::assert_snapshot!(format!("format_{format}"), text);
    }
    let (_, text) = verify(dir.path(), &["--format", "json"]);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let evidence = |i: usize, kind: &str| {
        doc["results"][i]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind)
            .map(|e| e["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(evidence(0, "receipts").as_deref(), Some("verified"));
    assert_eq!(
        evidence(0, "tool_receipts").as_deref(),
        Some("partly_verified")
    );
    assert_eq!(evidence(0, "urm"), None);
    assert_eq!(evidence(1, "urm").as_deref(), Some("unverified"));
    assert_eq!(evidence(1, "metadata").as_deref(), Some("unverified"));
    assert_eq!(doc["context"]["unverified_evidence"], "warn");
}

/// `wpc ci` fails closed by default: the example repository with one of its
/// bundles carrying metadata fails, and passes with `warn`, which it notes.
#[test]
fn ci_fails_on_unverified_evidence_by_default() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples/repo"), dir.path());
    let path = dir
        .path()
        .join("proofs/deployer/rollout-staging-v2.4.0.json");
    let mut bundle: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    bundle["payload"]["metadata"] = json!({"harness": {"id": "kit", "version": "1"}});
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&kit::resign(&bundle).unwrap()).unwrap(),
    )
    .unwrap();

    let out = run(dir.path(), &["ci"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("EVIDENCE_UNVERIFIED"), "{text}");
    assert!(
        text.contains("bundles  FAILED   5 passed, 1 failed"),
        "{text}"
    );

    let out = run(dir.path(), &["ci", "--unverified-evidence", "warn"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "WARNING: present, not verified, accepted (--unverified-evidence warn): metadata"
        ),
        "{text}"
    );
}
