#![allow(clippy::unwrap_used)]
//! Proof bundles built by the test kit: valid ones verify, every single
//! mutation of one is INVALID, verify under policy, and the CLI end to end.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use wpc::bundle::kit::{Shape, bundle_bytes, bundle_value, gateway_key};
use wpc::bundle::policy::PolicyCheck;
use wpc::bundle::{Options, verify_bundle};
use wpc::crypto::verify::Trust;
use wpc::policy::Policy;

const POLICY: &str = r#"wpc_version = "1"
policy_name = "bundle-test"
purpose = "Read files and deploy with a human approval."

[constraints.tool_policy]
allow = ["read_file", "deploy.*"]
deny = ["exec"]

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"

[[constraints.approvals]]
when = "tool.startsWith('deploy.')"
require = "human_approval"
approvers = ["acme/security"]

[constraints.model_calls]
receipts_required = true
allowed_providers = ["anthropic"]
allowed_models = ["claude-*"]

[binding]
cst_scope_hash_required = true
"#;

const SCOPE: &str = "c2NvcGVfaGFzaF9mb3JfdGhlX3Rlc3Rfa2l0X2J1bmRs";

fn gateway_only() -> Options {
    Options {
        gateway_trust: Trust::only([&gateway_key().did()]),
        gateway_signers_checked: true,
        ..Options::any_gateway()
    }
}

fn policy(dir: &Path) -> Policy {
    let path = dir.join("bundle-test.toml");
    std::fs::write(&path, POLICY).unwrap();
    Policy::load(&path).unwrap()
}

fn under(policy: &Policy) -> Options {
    Options {
        policy: Some(PolicyCheck::new(policy.wpc.clone(), policy.hash.clone()).unwrap()),
        ..gateway_only()
    }
}

fn compliant(policy: &Policy) -> Shape {
    Shape {
        policy_hash: Some(policy.hash.clone()),
        scope_hash: Some(SCOPE.to_owned()),
        ..Shape::default()
    }
}

fn codes(bytes: &[u8], options: &Options) -> Vec<&'static str> {
    verify_bundle(bytes, options)
        .codes()
        .iter()
        .map(|c| c.as_str())
        .collect()
}

#[test]
fn kit_bundles_of_every_shape_verify() {
    for receipts in [0, 1, 8] {
        for tools in [0, 3] {
            let shape = Shape {
                receipts,
                tools: vec!["read_file".to_owned(); tools],
                side_effects: tools,
                approvals: tools,
                ..Shape::default()
            };
            let report = verify_bundle(&bundle_bytes(&shape).unwrap(), &gateway_only());
            assert!(report.valid, "{shape:?}: {:?}", report.failures);
        }
    }
}

/// Every leaf, in turn: (pointer, mutated document).
fn mutants(value: &Value) -> Vec<(String, Value)> {
    let mut paths = Vec::new();
    collect(value, String::new(), &mut paths);
    let mut out = Vec::new();
    for pointer in paths {
        // Change the value.
        let mut changed = value.clone();
        let slot = changed.pointer_mut(&pointer).unwrap();
        *slot = match slot.take() {
            Value::String(s) if s.is_empty() => Value::String("x".into()),
            Value::String(s) => {
                let mut chars: Vec<char> = s.chars().collect();
                let last = chars.len() - 1;
                chars[last] = match chars[last] {
                    'a' => 'b',
                    '0'..='8' => char::from(chars[last] as u8 + 1),
                    _ => 'a',
                };
                Value::String(chars.into_iter().collect())
            }
            Value::Number(n) => Value::from(n.as_f64().unwrap() + 1.0),
            Value::Bool(b) => Value::Bool(!b),
            Value::Null => Value::String("x".into()),
            other => other,
        };
        out.push((format!("{pointer} (changed)"), changed));
        // Remove it (object member or array element).
        let (parent, last) = pointer.rsplit_once('/').unwrap();
        let mut removed = value.clone();
        match removed.pointer_mut(parent).unwrap() {
            Value::Object(map) => {
                map.shift_remove(last);
            }
            Value::Array(items) => {
                items.remove(last.parse::<usize>().unwrap());
            }
            _ => unreachable!(),
        }
        out.push((format!("{pointer} (removed)"), removed));
        // Rename the key it sits under.
        let mut renamed = value.clone();
        if let Value::Object(map) = renamed.pointer_mut(parent).unwrap() {
            let v = map.shift_remove(last).unwrap();
            map.insert(format!("{last}_"), v);
            out.push((format!("{pointer} (key renamed)"), renamed));
        }
    }
    out
}

fn collect(value: &Value, pointer: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect(
                    v,
                    format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect(v, format!("{pointer}/{i}"), out);
            }
        }
        _ => out.push(pointer),
    }
}

#[test]
fn every_single_mutation_of_a_bundle_is_invalid() {
    let shape = Shape {
        receipts: 2,
        tools: vec!["read_file".to_owned()],
        side_effects: 1,
        approvals: 1,
        ..Shape::default()
    };
    let value = bundle_value(&shape).unwrap();
    let options = gateway_only();
    let mutants = mutants(&value);
    assert!(mutants.len() > 250, "{}", mutants.len());
    let mut still_valid = Vec::new();
    for (what, mutant) in &mutants {
        let report = verify_bundle(&serde_json::to_vec(mutant).unwrap(), &options);
        if report.valid {
            still_valid.push(what.clone());
        }
    }
    assert_eq!(
        still_valid,
        Vec::<String>::new(),
        "mutants that still verify"
    );

    // The one field no hash covers: the bundle envelope's own `issued_at` (a
    // claim about the envelope, as in every Claw envelope). Nothing inside a
    // payload is uncovered.
    let mut moved = value.clone();
    moved["issued_at"] = Value::from("2030-01-01T00:00:00Z");
    assert!(verify_bundle(&serde_json::to_vec(&moved).unwrap(), &options).valid);
}

#[test]
fn verify_under_policy() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy(dir.path());
    let options = under(&policy);
    let ok = compliant(&policy);
    assert_eq!(
        codes(&bundle_bytes(&ok).unwrap(), &options),
        Vec::<&str>::new()
    );

    let cases: Vec<(Shape, &str)> = vec![
        (
            Shape {
                policy_hash: Some("b3RoZXJfcG9saWN5X2hhc2hfb3RoZXJfcG9saWN5X2g".into()),
                ..ok.clone()
            },
            "POLICY_HASH_MISMATCH",
        ),
        (
            Shape {
                policy_hash: None,
                ..ok.clone()
            },
            "POLICY_HASH_MISMATCH",
        ),
        (
            Shape {
                provider: "google".into(),
                ..ok.clone()
            },
            "PROVIDER_NOT_ALLOWED",
        ),
        (
            Shape {
                model: "gpt-5".into(),
                ..ok.clone()
            },
            "MODEL_NOT_ALLOWED",
        ),
        (
            Shape {
                tools: vec!["exec".into()],
                ..ok.clone()
            },
            "TOOL_NOT_ALLOWED",
        ),
        (
            Shape {
                tools: vec!["unlisted".into()],
                ..ok.clone()
            },
            "TOOL_NOT_ALLOWED",
        ),
        (
            Shape {
                tools: vec!["deploy.prod".into()],
                approvals: 0,
                ..ok.clone()
            },
            "APPROVAL_MISSING",
        ),
        (
            Shape {
                scope_hash: None,
                ..ok.clone()
            },
            "SCOPE_HASH_MISMATCH",
        ),
        (
            Shape {
                receipts: 0,
                ..ok.clone()
            },
            "RECEIPT_MISSING",
        ),
    ];
    for (shape, code) in cases {
        let got = codes(&bundle_bytes(&shape).unwrap(), &options);
        assert!(got.contains(&code), "{code}: got {got:?} for {shape:?}");
    }
    // A gated tool with its approval is fine.
    let approved = Shape {
        tools: vec!["deploy.prod".into()],
        ..ok.clone()
    };
    assert_eq!(
        codes(&bundle_bytes(&approved).unwrap(), &options),
        Vec::<&str>::new()
    );

    let pinned = Options {
        scope_hash: Some("d3Jvbmdfc2NvcGVfaGFzaF93cm9uZ19zY29wZV9oYXM".into()),
        ..under(&policy)
    };
    assert!(codes(&bundle_bytes(&ok).unwrap(), &pinned).contains(&"SCOPE_HASH_MISMATCH"));
    let mut revoked = under(&policy);
    if let Some(check) = revoked.policy.as_mut() {
        check.revoked = true;
    }
    assert!(codes(&bundle_bytes(&ok).unwrap(), &revoked).contains(&"POLICY_REVOKED"));
}

fn wpc(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("wpc").unwrap();
    cmd.current_dir(dir).env_remove("NO_COLOR");
    cmd.args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn cli_batch_replay_formats_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bundles = dir.path().join("proofs");
    std::fs::create_dir_all(bundles.join("nested")).unwrap();
    for seq in 0..3 {
        let shape = Shape {
            seq,
            ..Shape::default()
        };
        std::fs::write(
            bundles.join(format!("nested/b{seq}.json")),
            bundle_bytes(&shape).unwrap(),
        )
        .unwrap();
    }
    let gateway = gateway_key().did().to_string();

    let out = wpc(
        dir.path(),
        &["bundle", "verify", "proofs", "--gateway-signer", &gateway],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("3 bundles: 3 valid, 0 invalid"));

    // Without signers, any gateway is accepted and the output says so.
    let out = wpc(dir.path(), &["bundle", "verify", "proofs/**/*.json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("any valid gateway receipt signer was accepted"));

    // A copy of a bundle is a replay of every identifier.
    std::fs::copy(
        bundles.join("nested/b0.json"),
        bundles.join("nested/z.json"),
    )
    .unwrap();
    let out = wpc(
        dir.path(),
        &["bundle", "verify", "proofs", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["invalid"], 1);
    let last = &doc["results"][3];
    assert_eq!(last["valid"], false);
    for code in [
        "REPLAYED_BUNDLE_ID",
        "REPLAYED_RUN_ID",
        "REPLAYED_RECEIPT_ID",
        "REPLAYED_NONCE",
    ] {
        assert!(
            last["reason_codes"]
                .as_array()
                .unwrap()
                .contains(&Value::from(code)),
            "{code}"
        );
    }

    for format in ["junit", "markdown", "sarif", "text"] {
        let out = wpc(
            dir.path(),
            &["bundle", "verify", "proofs", "--format", format],
        );
        assert_eq!(out.status.code(), Some(1), "{format}");
        let stdout = text(&out.stdout);
        assert!(stdout.contains("REPLAYED_RUN_ID"), "{format}: {stdout}");
    }
    let out = wpc(
        dir.path(),
        &["bundle", "verify", "proofs", "--format", "sarif"],
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    // Usage and I/O errors exit 2.
    assert_eq!(
        wpc(dir.path(), &["bundle", "verify", "missing/*.json"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        wpc(
            dir.path(),
            &[
                "bundle",
                "verify",
                "proofs",
                "--gateway-signer",
                "did:web:x"
            ]
        )
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn cli_verifies_under_a_policy_file_or_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    let policy = policy(&dir.path().join("policies"));
    std::fs::write(
        dir.path().join("b.json"),
        bundle_bytes(&compliant(&policy)).unwrap(),
    )
    .unwrap();
    let other = Shape {
        seq: 1,
        ..Shape::default()
    };
    std::fs::write(dir.path().join("c.json"), bundle_bytes(&other).unwrap()).unwrap();

    let out = wpc(
        dir.path(),
        &[
            "bundle",
            "verify",
            "b.json",
            "--policy",
            "policies/bundle-test.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = wpc(
        dir.path(),
        &["bundle", "verify", "b.json", "--policy", &policy.hash],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = wpc(
        dir.path(),
        &["bundle", "verify", "c.json", "--policy", &policy.hash],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("POLICY_HASH_MISMATCH"));
    let out = wpc(
        dir.path(),
        &[
            "bundle",
            "verify",
            "b.json",
            "--policy",
            &policy.hash,
            "--revoked",
            &policy.hash,
        ],
    );
    assert!(text(&out.stdout).contains("POLICY_REVOKED"));
    let out = wpc(
        dir.path(),
        &[
            "bundle",
            "verify",
            "b.json",
            "--policy",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn hostile_input_is_malformed_not_a_panic() {
    let options = gateway_only();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let huge = vec![b' '; 16 * 1024 * 1024 + 1];
    let valid = bundle_value(&Shape::default()).unwrap();
    let mut wrong_types = valid.clone();
    wrong_types["payload"]["receipts"] = Value::from("not an array");
    let mut receipt_not_object = valid.clone();
    receipt_not_object["payload"]["receipts"][0] = Value::from(7);
    let duplicate = String::from_utf8(serde_json::to_vec(&valid).unwrap())
        .unwrap()
        .replacen("{", r#"{"envelope_version":"1","#, 1);
    for (name, bytes) in [
        ("empty", Vec::new()),
        ("not JSON", b"\xff\xfe{".to_vec()),
        ("array", b"[]".to_vec()),
        ("deep", deep.into_bytes()),
        ("huge", huge),
        ("duplicate key", duplicate.into_bytes()),
        ("lone surrogate", br#"{"a":"\ud800"}"#.to_vec()),
        ("wrong types", serde_json::to_vec(&wrong_types).unwrap()),
        (
            "receipt not an object",
            serde_json::to_vec(&receipt_not_object).unwrap(),
        ),
    ] {
        let report = verify_bundle(&bytes, &options);
        assert!(!report.valid, "{name}");
        assert!(!report.failures.is_empty(), "{name}");
    }
}
