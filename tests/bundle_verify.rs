#![allow(clippy::unwrap_used)]
//! Proof bundles built by the test kit: valid ones verify, every single
//! mutation of one is INVALID, verify under policy, and the CLI end to end.

use std::path::Path;

use crate::support;

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;
use support::{run, stderr, stdout};
use wpc::bundle::kit::{
    Leaf, Shape, ToolV2, approver_key, bundle_bytes, bundle_value, gateway_key, resign,
    sign_tool_receipt_v2,
};
use wpc::bundle::policy::PolicyCheck;
use wpc::bundle::{EvidenceStatus, Options, verify_bundle};
use wpc::crypto::trusted::TrustedApprover;
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

/// The kit's agent and approver keys' seeds.
const AGENT_SEED: u8 = 1;
const APPROVER_SEED: u8 = 4;

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
        approvers: vec![TrustedApprover {
            did: approver_key().did(),
            name: None,
            teams: vec!["acme/security".to_owned()],
        }],
        ..gateway_only()
    }
}

fn compliant(policy: &Policy) -> Shape {
    Shape {
        policy_hash: Some(policy.hash.clone()),
        scope_hash: Some(SCOPE.to_owned()),
        approval_signer: Some(APPROVER_SEED),
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

/// The agent controls its bundle but not the gateway's key. The gateway
/// receipts' signatures are checked in one batch with the bundle's own: a
/// receipt whose signature is broken, copied from another receipt or swapped
/// with another's fails on its own, whatever valid signatures sit beside it
/// in the batch, although the agent signs the bundle again.
#[test]
fn forged_gateway_receipt_signatures_fail_among_valid_ones() {
    let value = bundle_value(&Shape {
        receipts: 8,
        ..Shape::default()
    })
    .unwrap();
    let signature = |i: usize| value["payload"]["receipts"][i]["signature_b64u"].clone();
    let with = |changes: &[(usize, Value)]| {
        let mut mutant = value.clone();
        for (i, signature) in changes {
            mutant["payload"]["receipts"][*i]["signature_b64u"] = signature.clone();
        }
        mutant
    };
    let mut broken: Vec<char> = signature(3).as_str().unwrap().chars().collect();
    broken[10] = if broken[10] == 'A' { 'B' } else { 'A' };
    let broken = Value::String(broken.into_iter().collect());
    let forgeries = [
        ("broken", with(&[(3, broken)]), vec![3]),
        ("copied", with(&[(5, signature(4))]), vec![5]),
        (
            "swapped",
            with(&[(1, signature(6)), (6, signature(1))]),
            vec![1, 6],
        ),
    ];
    for (what, mutant, forged) in forgeries {
        let bytes = serde_json::to_vec(&resign(&mutant).unwrap()).unwrap();
        let report = verify_bundle(&bytes, &gateway_only());
        assert!(!report.valid, "{what}");
        let failed: Vec<usize> = (0..8)
            .filter(|i| {
                let at = format!("/payload/receipts/{i}/");
                report.failures.iter().any(|f| {
                    f.code.as_str() == "RECEIPT_VERIFICATION_FAILED" && f.pointer.starts_with(&at)
                })
            })
            .collect();
        assert_eq!(failed, forged, "{what}: {:?}", report.failures);
    }
    // The same bundle untouched, signed again, verifies.
    let bytes = serde_json::to_vec(&resign(&value).unwrap()).unwrap();
    assert!(verify_bundle(&bytes, &gateway_only()).valid);
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
            if receipts == 0 && tools > 0 {
                // No gateway receipt, no span a side effect can hang under.
                assert_eq!(
                    report.codes().first().map(|c| c.as_str()),
                    Some("CAUSAL_SIDE_EFFECT_ORPHANED")
                );
                continue;
            }
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

/// Shapes the tamper tests cover: the default (v1 tool receipts), v2
/// envelopes with co-signatures and disclosures, and bare v2 payloads with
/// disclosures.
fn tamper_shapes() -> Vec<Shape> {
    let v2 = |envelope: bool, co_signers: usize| Shape {
        tool_v2: Some(ToolV2 {
            envelope,
            co_signers,
            ..ToolV2::default()
        }),
        ..Shape::default()
    };
    vec![Shape::default(), v2(true, 2), v2(false, 0)]
}

#[test]
fn every_single_mutation_of_a_bundle_is_invalid() {
    let options = gateway_only();
    for shape in tamper_shapes() {
        let value = bundle_value(&shape).unwrap();
        let mutants = mutants(&value);
        assert!(mutants.len() > 250, "{}", mutants.len());
        let mut still_valid = Vec::new();
        for (what, mutant) in &mutants {
            let report = verify_bundle(&serde_json::to_vec(mutant).unwrap(), &options);
            if report.valid && !same_signature_bytes(&value, what) {
                still_valid.push(what.clone());
            }
        }
        assert_eq!(
            still_valid,
            Vec::<String>::new(),
            "mutants that still verify: {:?}",
            shape.tool_v2
        );

        // The one field no hash covers: the bundle envelope's own `issued_at` (a
        // claim about the envelope, as in every Claw envelope). Nothing inside a
        // payload is uncovered.
        let mut moved = value.clone();
        moved["issued_at"] = Value::from("2030-01-01T00:00:00Z");
        assert!(verify_bundle(&serde_json::to_vec(&moved).unwrap(), &options).valid);
    }
}

/// Whether mutant `what` changed the last character of a signature so that
/// it decodes to the same 64 bytes: base64url trailing bits, which the
/// reference's `atob` ignores and so does wpc (`crypto::verify`). The
/// signature is the same; only its text differs.
fn same_signature_bytes(value: &Value, what: &str) -> bool {
    let Some(pointer) = what.strip_suffix(" (changed)") else {
        return false;
    };
    if !pointer.ends_with("/signature_b64u") {
        return false;
    }
    let lenient = GeneralPurpose::new(
        &URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let original = value.pointer(pointer).unwrap().as_str().unwrap();
    let mut changed: Vec<char> = original.chars().collect();
    let last = changed.len() - 1;
    changed[last] = match changed[last] {
        'a' => 'b',
        '0'..='8' => char::from(changed[last] as u8 + 1),
        _ => 'a',
    };
    let changed: String = changed.into_iter().collect();
    lenient.decode(original).ok() == lenient.decode(&changed).ok()
}

/// What a v2 tool receipt proves on its own: every leaf and key of the tool
/// receipts changed, removed or renamed, and the bundle then signed again by
/// its agent (so only the receipt's own hash, signatures, disclosures and
/// binding stand). Returns the mutants that still verify.
fn tool_receipt_mutants_that_verify(shape: &Shape) -> Vec<String> {
    let value = bundle_value(shape).unwrap();
    let options = gateway_only();
    let mut still_valid = Vec::new();
    let mut count = 0;
    for (what, mutant) in mutants(&value) {
        if !what.starts_with("/payload/tool_receipts/") {
            continue;
        }
        count += 1;
        let resigned = resign(&mutant).unwrap();
        if verify_bundle(&serde_json::to_vec(&resigned).unwrap(), &options).valid {
            still_valid.push(what);
        }
    }
    assert!(count > 50, "{count}");
    still_valid
}

#[test]
fn v2_tool_receipt_mutations_are_invalid_even_when_the_bundle_is_resigned() {
    let shape = Shape {
        tools: vec!["read_file".to_owned(), "query_db".to_owned()],
        tool_v2: Some(ToolV2 {
            co_signers: 2,
            ..ToolV2::default()
        }),
        ..Shape::default()
    };
    let value = bundle_value(&shape).unwrap();
    let still_valid = tool_receipt_mutants_that_verify(&shape);
    // The only mutants that still verify re-encode a signature's trailing
    // bits. Removing, renaming or retyping any field, including a
    // co-signature's `issued_at` and `role` (which no signature covers),
    // fails the schema.
    assert!(!still_valid.is_empty());
    for what in &still_valid {
        assert!(same_signature_bytes(&value, what), "{what}");
    }

    // Dropping co-signatures is not detectable from the receipt: they sign
    // only payload_hash_b64u and are optional. The bundle signature covers
    // them.
    let mut dropped = value.clone();
    dropped["payload"]["tool_receipts"][0]
        .as_object_mut()
        .unwrap()
        .shift_remove("co_signatures");
    let resigned = resign(&dropped).unwrap();
    assert!(verify_bundle(&serde_json::to_vec(&resigned).unwrap(), &gateway_only()).valid);
}

#[test]
fn bare_v2_disclosure_mutations_are_invalid_even_when_the_bundle_is_resigned() {
    let shape = Shape {
        tool_v2: Some(ToolV2 {
            envelope: false,
            co_signers: 0,
            ..ToolV2::default()
        }),
        ..Shape::default()
    };
    let still_valid = tool_receipt_mutants_that_verify(&shape);
    // An unsigned receipt is the agent's claim: its fields are covered by the
    // bundle signature only. Its disclosures must still add up.
    // These (and nothing under a disclosure or a hash it commits to) are
    // what an agent can restate in its own re-signed bundle.
    let at = "/payload/tool_receipts/0";
    let expected: Vec<String> = [
        "receipt_id (changed)",
        "tool_name (changed)",
        "latency_ms (changed)",
        "binding/run_id (removed)",
        "args_salt_b64u (changed)",
        "result_salt_b64u (changed)",
    ]
    .iter()
    .map(|what| format!("{at}/{what}"))
    .collect();
    assert_eq!(still_valid, expected);
}

/// The first tool receipt of a v2 kit bundle (an envelope with one auditor
/// co-signature), edited by `edit` and signed again as its producer would,
/// in a bundle the agent signed again.
fn v2_bundle(v2: ToolV2, edit: impl Fn(&mut Value)) -> Vec<u8> {
    let mut value = bundle_value(&Shape {
        tool_v2: Some(v2),
        ..Shape::default()
    })
    .unwrap();
    let receipt = &mut value["payload"]["tool_receipts"][0];
    let mut payload = receipt["payload"].take();
    let co_signers = receipt["co_signatures"].as_array().map_or(0, Vec::len);
    edit(&mut payload);
    *receipt = sign_tool_receipt_v2(payload, co_signers).unwrap();
    serde_json::to_vec(&resign(&value).unwrap()).unwrap()
}

fn failures(bytes: &[u8]) -> Vec<(&'static str, String)> {
    verify_bundle(bytes, &gateway_only())
        .failures
        .into_iter()
        .map(|f| (f.code.as_str(), f.pointer))
        .collect()
}

const TOOL: &str = "/payload/tool_receipts/0";

#[test]
fn r48_v2_tool_receipt_cosig_valid() {
    let bytes = v2_bundle(ToolV2::default(), |_| {});
    let report = verify_bundle(&bytes, &gateway_only());
    assert!(report.valid, "{:?}", report.failures);
    let tools = report
        .evidence
        .iter()
        .find(|e| e.kind == "tool_receipts")
        .unwrap();
    assert_eq!(tools.status, EvidenceStatus::Verified);

    // Unsigned v2 payloads with valid disclosures stay the agent's claim.
    let bare = bundle_bytes(&Shape {
        tool_v2: Some(ToolV2 {
            envelope: false,
            ..ToolV2::default()
        }),
        ..Shape::default()
    })
    .unwrap();
    let report = verify_bundle(&bare, &gateway_only());
    assert!(report.valid, "{:?}", report.failures);
    let tools = report
        .evidence
        .iter()
        .find(|e| e.kind == "tool_receipts")
        .unwrap();
    assert_eq!(tools.status, EvidenceStatus::PartlyVerified);
}

#[test]
fn r48_v2_tool_receipt_cosig_secondary_invalid() {
    let mut value = bundle_value(&Shape {
        tool_v2: Some(ToolV2::default()),
        ..Shape::default()
    })
    .unwrap();
    let signature = &mut value["payload"]["tool_receipts"][0]["co_signatures"][0]["signature_b64u"];
    let text = signature.as_str().unwrap().to_owned();
    let first = if text.starts_with('A') { "B" } else { "A" };
    *signature = Value::from(format!("{first}{}", &text[1..]));
    let bytes = serde_json::to_vec(&resign(&value).unwrap()).unwrap();
    assert_eq!(
        failures(&bytes),
        [(
            "CO_SIGNATURE_INVALID",
            format!("{TOOL}/co_signatures/0/signature_b64u")
        )]
    );
}

#[test]
fn r48_v2_tool_receipt_sd_type_confusion() {
    let v2 = ToolV2 {
        args: vec![
            Leaf {
                declared_type: Some("string".to_owned()),
                ..Leaf::new("args.query", Value::from(1337), true)
            },
            Leaf::new("args.token", Value::from("s3cr3t"), false),
        ],
        ..ToolV2::default()
    };
    assert_eq!(
        failures(&v2_bundle(v2, |_| {})),
        [(
            "DISCLOSURE_TYPE_MISMATCH",
            format!("{TOOL}/payload/args_disclosure/disclosed_leaves/args.query/type")
        )]
    );
}

#[test]
fn r48_v2_tool_receipt_sd_merkle_mismatch() {
    let bytes = v2_bundle(ToolV2::default(), |payload| {
        payload["args_disclosure"]["merkle_root_b64u"] = payload["result_hash_b64u"].clone();
    });
    let pointer = format!("{TOOL}/payload/args_disclosure/merkle_root_b64u");
    // Not the committed hash, and not the root of its leaves.
    assert_eq!(
        failures(&bytes),
        [
            ("DISCLOSURE_ROOT_MISMATCH", pointer.clone()),
            ("DISCLOSURE_ROOT_MISMATCH", pointer)
        ]
    );
    // The commitment changed instead of the root: the same verdict.
    let bytes = v2_bundle(ToolV2::default(), |payload| {
        payload["result_hash_b64u"] = payload["args_hash_b64u"].clone();
    });
    assert_eq!(
        failures(&bytes),
        [(
            "DISCLOSURE_ROOT_MISMATCH",
            format!("{TOOL}/payload/result_disclosure/merkle_root_b64u")
        )]
    );
}

#[test]
fn v2_tool_receipt_sd_tampered_leaves() {
    for (edit, side) in [
        ("/args_disclosure/disclosed_leaves/args.query/value", "args"),
        (
            "/args_disclosure/disclosed_leaves/args.query/salt_b64u",
            "args",
        ),
        ("/args_disclosure/redacted_leaf_hashes_b64u/0", "args"),
        (
            "/result_disclosure/disclosed_leaves/result.rows/value",
            "result",
        ),
    ] {
        let bytes = v2_bundle(ToolV2::default(), |payload| {
            let slot = payload.pointer_mut(edit).unwrap();
            *slot = match slot.take() {
                Value::String(s) => Value::from(format!("{}A", &s[..s.len() - 1])),
                Value::Number(n) => Value::from(n.as_u64().unwrap() + 1),
                other => other,
            };
        });
        assert_eq!(
            failures(&bytes),
            [(
                "DISCLOSURE_ROOT_MISMATCH",
                format!("{TOOL}/payload/{side}_disclosure/merkle_root_b64u")
            )],
            "{edit}"
        );
    }
}

#[test]
fn v2_tool_receipt_sd_unknown_algorithm_fails_the_schema_first() {
    // As in the reference, the schema (which allows only
    // `vir_v2_typed_lexicographical`) runs before any receipt check, so an
    // unknown algorithm in a bundle is SCHEMA_VALIDATION_FAILED;
    // DISCLOSURE_ALGORITHM_UNKNOWN is the receipt check's own verdict
    // (`bundle::tool_receipt` unit tests).
    let bytes = v2_bundle(ToolV2::default(), |payload| {
        payload["args_disclosure"]["disclosure_algorithm"] = Value::from("sha256_flat");
    });
    let found = failures(&bytes);
    assert!(!found.is_empty());
    for (code, pointer) in found {
        assert_eq!(code, "SCHEMA_VALIDATION_FAILED");
        assert!(pointer.starts_with(TOOL), "{pointer}");
    }
}

#[test]
fn r48_v2_tool_receipt_binding_mismatch() {
    let bytes = v2_bundle(ToolV2::default(), |payload| {
        payload["binding"]["run_id"] = Value::from("run_r48_different");
    });
    assert_eq!(
        failures(&bytes),
        [(
            "RECEIPT_BINDING_MISMATCH",
            format!("{TOOL}/payload/binding/run_id")
        )]
    );
}

#[test]
fn cli_reports_v2_tool_receipts_as_verified() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("v2.json"),
        v2_bundle(ToolV2::default(), |_| {}),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["bundle", "verify", "v2.json", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let evidence = doc["results"][0]["evidence"].as_array().unwrap();
    let tools = evidence
        .iter()
        .find(|e| e["kind"] == "tool_receipts")
        .unwrap();
    assert_eq!(tools["status"], "verified", "{doc}");
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
                tools: vec!["deploy.prod".into()],
                approval_signer: None,
                ..ok.clone()
            },
            "APPROVAL_UNTRUSTED",
        ),
        (
            Shape {
                tools: vec!["deploy.prod".into()],
                approval_signer: Some(AGENT_SEED),
                ..ok.clone()
            },
            "APPROVAL_UNTRUSTED",
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

    let out = run(
        dir.path(),
        &["bundle", "verify", "proofs", "--gateway-signer", &gateway],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("3 bundles: 3 valid, 0 invalid"));

    // Without signers, any gateway is accepted and the output says so.
    let out = run(dir.path(), &["bundle", "verify", "proofs/**/*.json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("any valid gateway receipt signer was accepted"));

    // A copy of a bundle is a replay of every identifier.
    std::fs::copy(
        bundles.join("nested/b0.json"),
        bundles.join("nested/z.json"),
    )
    .unwrap();
    let out = run(
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
        let out = run(
            dir.path(),
            &["bundle", "verify", "proofs", "--format", format],
        );
        assert_eq!(out.status.code(), Some(1), "{format}");
        let stdout = stdout(&out);
        assert!(stdout.contains("REPLAYED_RUN_ID"), "{format}: {stdout}");
    }
    let out = run(
        dir.path(),
        &["bundle", "verify", "proofs", "--format", "sarif"],
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    // Usage and I/O errors exit 2.
    assert_eq!(
        run(dir.path(), &["bundle", "verify", "missing/*.json"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(
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

    let out = run(
        dir.path(),
        &[
            "bundle",
            "verify",
            "b.json",
            "--policy",
            "policies/bundle-test.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = run(
        dir.path(),
        &["bundle", "verify", "b.json", "--policy", &policy.hash],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let out = run(
        dir.path(),
        &["bundle", "verify", "c.json", "--policy", &policy.hash],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("POLICY_HASH_MISMATCH"));
    let out = run(
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
    assert!(stdout(&out).contains("POLICY_REVOKED"));
    let out = run(
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

#[test]
fn cli_causal_mode_profile_and_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    // A kit bundle whose side effect names no span, re-signed by the agent.
    let mut bundle = bundle_value(&Shape::default()).unwrap();
    bundle["payload"]["side_effect_receipts"][0]["binding"] =
        serde_json::json!({"run_id": "run_0"});
    let bytes = serde_json::to_vec(&resign(&bundle).unwrap()).unwrap();
    std::fs::write(dir.path().join("orphan.json"), &bytes).unwrap();
    let gateway = format!("--gateway-signer={}", gateway_key().did_str());

    let out = run(dir.path(), &["bundle", "verify", &gateway, "orphan.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("CAUSAL_SIDE_EFFECT_ORPHANED"));
    let out = run(
        dir.path(),
        &[
            "bundle",
            "verify",
            &gateway,
            "--causal-mode",
            "observe",
            "orphan.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // strict refuses a weaker mode: a usage error, not a verdict.
    let out = run(
        dir.path(),
        &[
            "bundle",
            "verify",
            &gateway,
            "--causal-profile",
            "strict",
            "--causal-mode",
            "observe",
            "orphan.json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("CAUSAL_POLICY_PROFILE_DOWNGRADE"));
    assert!(stdout(&out).is_empty());

    // Over --max-bundle-bytes: INVALID, unread.
    let out = run(
        dir.path(),
        &[
            "bundle",
            "verify",
            &gateway,
            "--max-bundle-bytes",
            "100",
            "orphan.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("MALFORMED_ENVELOPE"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("at most 100 bytes"),
        "{}",
        stdout(&out)
    );

    // A link to a regular file is read like the file (as by every wpc
    // reader); a link to a device is not: exit 2, naming the file.
    std::os::unix::fs::symlink(dir.path().join("orphan.json"), dir.path().join("link.json"))
        .unwrap();
    let out = run(dir.path(), &["bundle", "verify", &gateway, "link.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("INVALID link.json"),
        "{}",
        stdout(&out)
    );
    std::os::unix::fs::symlink("/dev/null", dir.path().join("null.json")).unwrap();
    let out = run(dir.path(), &["bundle", "verify", &gateway, "null.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("null.json"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a character device"),
        "{}",
        stderr(&out)
    );
}

/// The protocol's aggregate vectors through the CLI: every format lists
/// the members, and SARIF carries the command's run category.
#[test]
fn aggregates_list_their_members_in_every_format() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = "tests/vectors/clawsig/conformance-full/r48-r49-v02/aggregate_bundle";
    let golden = format!("{dir}/aggregate_pass_golden.v1.json");
    let broken = format!("{dir}/aggregate_fail_member_invalid.v1.json");
    let verify = |format: &str| {
        let out = run(
            root,
            &[
                "bundle",
                "verify",
                &golden,
                &broken,
                "--now",
                "2026-02-18T00:00:00Z",
                "--format",
                format,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        stdout(&out)
    };

    let text = verify("text");
    assert!(text.contains(&format!("VALID   {golden}")), "{text}");
    assert!(
        text.contains(&format!("INVALID {broken} AGGREGATE_MEMBER_INVALID")),
        "{text}"
    );
    assert!(
        text.contains(
            "member /payload/artifacts/member_bundles/0 INVALID SIGNATURE_INVALID\n    \
             SIGNATURE_INVALID at /payload/artifacts/member_bundles/0/signature_b64u"
        ),
        "{text}"
    );
    assert!(
        text.contains("2 of 2 members valid, lowest proof tier self"),
        "{text}"
    );

    let json: Value = serde_json::from_str(&verify("json")).unwrap();
    let members = &json["results"][1]["aggregate"]["members"];
    assert_eq!(members.as_array().unwrap().len(), 2);
    assert_eq!(members[0]["valid"], false);
    assert_eq!(members[0]["failures"][0]["code"], "SIGNATURE_INVALID");
    assert_eq!(
        members[0]["failures"][0]["pointer"],
        "/payload/artifacts/member_bundles/0/signature_b64u"
    );
    assert_eq!(members[1]["valid"], true);
    assert_eq!(json["results"][0]["aggregate"]["proof_tier"], "self");

    let junit = verify("junit");
    assert!(
        junit.contains(&format!(
            "name=\"{broken}#/payload/artifacts/member_bundles/0\""
        )),
        "{junit}"
    );
    assert!(junit.contains("classname=\"aggregate_member\""), "{junit}");

    let markdown = verify("markdown");
    assert!(
        markdown.contains("`member /payload/artifacts/member_bundles/0 INVALID"),
        "{markdown}"
    );

    let sarif: Value = serde_json::from_str(&verify("sarif")).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "wpc/bundle-verify/");
    let rules: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"AGGREGATE_MEMBER_INVALID"), "{rules:?}");
    assert!(rules.contains(&"SIGNATURE_INVALID"), "{rules:?}");
}

/// docs/bundles.md, which the SARIF rules link to, lists every reason code
/// with its summary.
#[test]
fn the_docs_list_every_reason_code() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/bundles.md"))
            .unwrap();
    for code in wpc::bundle::Code::ALL {
        let row = format!(
            "| `{}` | {} |",
            code.as_str(),
            code.summary().replace('|', "\\|")
        );
        assert!(docs.contains(&row), "docs/bundles.md lacks {row}");
    }
}
