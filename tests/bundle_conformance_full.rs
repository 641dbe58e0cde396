#![allow(clippy::unwrap_used)]
//! The Claw protocol's full conformance set (tests/vectors/clawsig/
//! conformance-full): every top-level vector of a kind wpc implements gives
//! the manifest's verdict and reason code under the documented fixed clock,
//! and every causal and completeness scenario descriptor, rebuilt as the
//! reference harness builds it, gives its expected status and code (and
//! completeness classification).

use std::path::Path;

use jiff::Timestamp;
use serde_json::{Value, json};
use wpc::bundle::causal::{CoverageMode, Mode, Policy, Profile};
use wpc::bundle::kit::{agent_key, gateway_key};
use wpc::bundle::{Options, UnverifiedEvidence, verify_bundle};
use wpc::crypto::did::DidKey;
use wpc::crypto::envelope::{GatewayReceipt, ProofBundle, SignedEnvelope};
use wpc::crypto::stringify::event_hash_b64u;

const DIR: &str = "tests/vectors/clawsig/conformance-full";
const PATH_PREFIX: &str = "packages/schema/fixtures/protocol-conformance/";
/// The clock the vectors' README documents: inside every vector's window.
const NOW: &str = "2026-02-18T00:00:00Z";

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn conformance_options() -> Options {
    let config = read_json(&Path::new(DIR).join("clawverify.config.conformance.v1.json"));
    let signers: Vec<DidKey> = config["allowlists"]["gateway_receipt_signer_dids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| DidKey::parse(d.as_str().unwrap()).unwrap())
        .collect();
    Options {
        now: NOW.parse().unwrap(),
        // The reference verifier ignores what it does not check.
        unverified_evidence: UnverifiedEvidence::Warn,
        ..Options::for_gateway_signers(&signers)
    }
}

/// The file a manifest path names: the 16 core proof-bundle vectors are
/// the (identical) files of `../conformance`, the rest are in this folder.
fn vector_path(path: &str) -> std::path::PathBuf {
    let relative = path
        .strip_prefix(PATH_PREFIX)
        .or_else(|| path.strip_prefix("packages/schema/fixtures/"))
        .unwrap();
    if relative.starts_with("proof_bundle_") {
        return Path::new(DIR).join("../conformance").join(relative);
    }
    Path::new(DIR).join(relative)
}

/// The manifest's accepted codes (`["OK"]` for a valid vector).
fn accepted(expected: &Value) -> Vec<String> {
    match &expected["reason_code"] {
        Value::String(code) => vec![code.clone()],
        Value::Array(codes) => codes
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("reason_code {other}"),
    }
}

/// wpc's verdict and code are the manifest's.
fn assert_agrees(name: &str, expected: &Value, valid: bool, code: &str) {
    assert_eq!(
        valid,
        expected["valid"].as_bool().unwrap(),
        "{name}: {code}"
    );
    assert!(
        accepted(expected).iter().any(|c| c == code),
        "{name}: {code}"
    );
}

/// The verdict wpc gives: OK, or the code of its first failure.
fn verdict(bytes: &[u8], options: &Options) -> (bool, String) {
    let report = verify_bundle(bytes, options);
    let code = report
        .failures
        .first()
        .map_or("OK".to_owned(), |f| format!("{}", f.code));
    (report.valid, code)
}

/// How many of the manifest's vectors of `kind` (files wpc reads as they
/// are) give their verdict and reason code, and the others.
fn agreement(kind: &str) -> (usize, Vec<String>) {
    let manifest = read_json(&Path::new(DIR).join("manifest.v1.json"));
    let options = conformance_options();
    let mut agreed = 0;
    let mut disagreements = Vec::new();
    for vector in manifest["vectors"].as_array().unwrap() {
        if vector["kind"] != kind {
            continue;
        }
        let name = vector["name"].as_str().unwrap();
        let bytes = std::fs::read(vector_path(vector["path"].as_str().unwrap())).unwrap();
        let (valid, code) = verdict(&bytes, &options);
        let expected = &vector["expected"];
        if valid == expected["valid"].as_bool().unwrap() && accepted(expected).contains(&code) {
            agreed += 1;
        } else {
            disagreements.push(format!("{name}: got {code}, expected {expected}"));
        }
    }
    (agreed, disagreements)
}

#[test]
fn every_proof_bundle_vector_gives_its_verdict_and_reason_code() {
    assert_eq!(agreement("proof_bundle"), (24, Vec::new()));
}

/// The export bundle vectors, unwrapped from their `bundle` key as the
/// reference CLI does.
#[test]
fn every_export_bundle_vector_gives_its_verdict_and_reason_code() {
    let manifest = read_json(&Path::new(DIR).join("manifest.v1.json"));
    let options = conformance_options();
    let mut agreed = 0;
    for vector in manifest["vectors"].as_array().unwrap() {
        if vector["kind"] != "export_bundle" {
            continue;
        }
        let name = vector["name"].as_str().unwrap();
        let wrapped = read_json(&vector_path(vector["path"].as_str().unwrap()));
        let bytes = serde_json::to_vec(&wrapped["bundle"]).unwrap();
        let (valid, code) = verdict(&bytes, &options);
        assert_agrees(name, &vector["expected"], valid, &code);
        agreed += 1;
    }
    assert_eq!(agreed, 2);
}

/// A change to a document.
type Edit = Box<dyn Fn(&mut Value)>;

/// Tampering with the golden export bundle: every change is caught, by the
/// check the reference makes first.
#[test]
fn a_tampered_export_bundle_is_invalid() {
    let golden = read_json(&Path::new(DIR).join("export_bundle_golden.v1.json"))["bundle"].clone();
    let options = conformance_options();
    let check = |bundle: &Value| verdict(&serde_json::to_vec(bundle).unwrap(), &options);
    assert_eq!(check(&golden), (true, "OK".to_owned()));
    let edits: Vec<(&str, Edit)> = vec![
        (
            "HASH_MISMATCH",
            Box::new(|b| b["export_id"] = json!("exp_other")),
        ),
        (
            "HASH_MISMATCH",
            Box::new(|b| {
                b["artifacts"]["proof_bundle_envelope"]["payload"]["bundle_id"] = json!("other")
            }),
        ),
        (
            "MISSING_REQUIRED_FIELD",
            Box::new(|b| {
                let extra = b["manifest"]["entries"][0].clone();
                let mut extra = extra;
                extra["path"] = json!("artifacts/other.json");
                b["manifest"]["entries"].as_array_mut().unwrap().push(extra);
            }),
        ),
        (
            "MALFORMED_ENVELOPE",
            Box::new(|b| {
                let first = b["manifest"]["entries"][0]["path"].clone();
                b["manifest"]["entries"][1]["path"] = first;
            }),
        ),
        (
            "FUTURE_TIMESTAMP_POISONING",
            Box::new(|b| b["issued_at"] = json!("2026-02-18T00:06:00.000Z")),
        ),
        (
            "CAUSAL_CLOCK_CONTRADICTION",
            Box::new(|b| b["created_at"] = json!("2026-02-11T00:00:01.000Z")),
        ),
        (
            "SIGNATURE_INVALID",
            Box::new(|b| {
                let mut signature = b["signature_b64u"].as_str().unwrap().to_owned();
                let first = if signature.starts_with('A') { "B" } else { "A" };
                signature.replace_range(0..1, first);
                b["signature_b64u"] = json!(signature);
            }),
        ),
        (
            "SCHEMA_VALIDATION_FAILED",
            Box::new(|b| b["extra"] = json!(1)),
        ),
    ];
    for (code, edit) in edits {
        let mut bundle = golden.clone();
        edit(&mut bundle);
        assert_eq!(check(&bundle), (false, code.to_owned()), "{code}");
    }
    // Attestations wpc does not verify: INVALID when failing closed.
    let strict = Options {
        unverified_evidence: UnverifiedEvidence::Fail,
        ..conformance_options()
    };
    assert_eq!(
        verdict(&serde_json::to_vec(&golden).unwrap(), &strict),
        (false, "EVIDENCE_UNVERIFIED".to_owned())
    );
}

/// The commit signature vectors through `wpc verify`, as the reference
/// runs them through its CLI: verdict, reason code and exit status.
#[test]
fn every_commit_sig_vector_gives_its_verdict_and_reason_code() {
    let manifest = read_json(&Path::new(DIR).join("manifest.v1.json"));
    let mut agreed = 0;
    for vector in manifest["vectors"].as_array().unwrap() {
        if vector["kind"] != "commit_sig" {
            continue;
        }
        let name = vector["name"].as_str().unwrap();
        let path = vector_path(vector["path"].as_str().unwrap());
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wpc"))
            .args(["verify", "--format", "json"])
            .arg(&path)
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let result = &doc["results"][0];
        let valid = result["valid"].as_bool().unwrap();
        let code = result["failure"]["code"]
            .as_str()
            .unwrap_or("OK")
            .to_owned();
        assert_agrees(name, &vector["expected"], valid, &code);
        assert_eq!(out.status.code(), Some(if valid { 0 } else { 1 }), "{name}");
        agreed += 1;
    }
    assert_eq!(agreed, 5);
}

// ---- scenario descriptors -------------------------------------------------

/// One gateway receipt of a scenario bundle.
struct Receipt {
    causal: Value,
    timestamp: &'static str,
    issued_at: &'static str,
    /// The receipt id's suffix (replay scenarios reuse one).
    id: &'static str,
    response_hash: &'static str,
}

fn receipt(id: &'static str, causal: Value) -> Receipt {
    Receipt {
        causal,
        timestamp: "2026-02-17T00:00:00Z",
        issued_at: "2026-02-17T00:00:00Z",
        id,
        response_hash: "res_gateway_firewall_001",
    }
}

fn timed(
    id: &'static str,
    timestamp: &'static str,
    issued_at: &'static str,
    causal: Value,
) -> Receipt {
    Receipt {
        timestamp,
        issued_at,
        ..receipt(id, causal)
    }
}

/// The one `llm_call` event of a scenario's run, and its hash.
fn llm_call_event(run_id: &str) -> (Value, String) {
    let mut event = json!({
        "event_id": format!("evt_{run_id}"),
        "run_id": run_id,
        "event_type": "llm_call",
        "timestamp": "2026-02-17T00:00:00Z",
        "payload_hash_b64u": "ibhRTWt5gh47v4X1fAtBRKwEKCHZir1w-de3fNfCEu8",
        "prev_hash_b64u": null,
    });
    let event_hash = event_hash_b64u(event.as_object().unwrap());
    event["event_hash_b64u"] = json!(event_hash);
    (event, event_hash)
}

/// A bundle built as the reference harness builds it: one event, the
/// receipts bound to it, `extra` merged into the payload, signed by the
/// agent.
fn scenario_bundle(id: &str, receipts: &[Receipt], extra: Value) -> Vec<u8> {
    let run_id = format!(
        "run_firewall_{}",
        id.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    let agent_did = agent_key().did_str().to_owned();
    let (event, event_hash) = llm_call_event(&run_id);
    let receipts: Vec<Value> = receipts
        .iter()
        .map(|r| {
            let mut binding = json!({ "run_id": run_id, "event_hash_b64u": event_hash });
            for (key, value) in r.causal.as_object().unwrap() {
                binding[key] = value.clone();
            }
            let payload = json!({
                "receipt_version": "1",
                "receipt_id": format!("rcpt_{run_id}_{}", r.id),
                "gateway_id": "gw_firewall_001",
                "provider": "openai",
                "model": "gpt-4",
                "request_hash_b64u": "req_gateway_firewall_001",
                "response_hash_b64u": r.response_hash,
                "tokens_input": 10,
                "tokens_output": 20,
                "latency_ms": 50,
                "timestamp": r.timestamp,
                "binding": binding,
            });
            let mut envelope = serde_json::to_value(
                SignedEnvelope::sign::<GatewayReceipt>(
                    payload,
                    &gateway_key(),
                    Timestamp::UNIX_EPOCH,
                )
                .unwrap(),
            )
            .unwrap();
            // issued_at is outside the signed hash; the scenarios need
            // sub-second values the signer does not write.
            envelope["issued_at"] = json!(r.issued_at);
            envelope
        })
        .collect();
    let mut payload = json!({
        "bundle_version": "1",
        "bundle_id": format!("bundle_{run_id}"),
        "agent_did": agent_did,
        "event_chain": [event],
    });
    if !receipts.is_empty() {
        payload["receipts"] = Value::Array(receipts);
    }
    for (key, value) in extra.as_object().unwrap() {
        payload[key] = value.clone();
    }
    let issued_at: Timestamp = "2026-02-17T00:00:01Z".parse().unwrap();
    let envelope = SignedEnvelope::sign::<ProofBundle>(payload, &agent_key(), issued_at).unwrap();
    serde_json::to_vec(&envelope).unwrap()
}

fn side_effect(binding: Value) -> Value {
    json!({"side_effect_receipts": [{
        "receipt_version": "1", "receipt_id": "fx_orphan", "effect_class": "external_api_write",
        "hash_algorithm": "SHA-256", "agent_did": agent_key().did_str(),
        "timestamp": "2026-02-17T00:00:00Z", "binding": binding,
    }]})
}

fn approval(binding: Value) -> Value {
    json!({"human_approval_receipts": [{
        "receipt_version": "1", "receipt_id": "approval_orphan", "approval_type": "explicit_approve",
        "agent_did": agent_key().did_str(), "timestamp": "2026-02-17T00:00:00Z", "binding": binding,
    }]})
}

/// A coverage attestation envelope measuring `connections`, `spawns` and
/// `escapes` (its signature is the gateway key's; the reference's core does
/// not verify these).
fn coverage_attestation(connections: u64, spawns: u64, escapes: bool) -> Value {
    let payload = json!({
        "attestation_version": "1", "attestation_id": "cov_1", "run_id": "run_cov",
        "agent_did": agent_key().did_str(), "sentinel_did": gateway_key().did_str(),
        "issued_at": "2026-02-17T00:00:00Z",
        "binding": {"event_chain_root_hash_b64u": "ibhRTWt5gh47v4X1fAtBRKwEKCHZir1w-de3fNfCEu8"},
        "metrics": {
            "lineage": {"root_pid": 1, "processes_tracked": 1, "unmonitored_spawns": spawns, "escapes_suspected": escapes},
            "egress": {"connections_total": 1, "unmediated_connections": connections},
            "liveness": {"status": "continuous", "uptime_ms": 1, "heartbeat_interval_ms": 1, "max_gap_ms": 0},
        },
    });
    let mut envelope = serde_json::to_value(
        SignedEnvelope::sign::<GatewayReceipt>(payload, &gateway_key(), Timestamp::UNIX_EPOCH)
            .unwrap(),
    )
    .unwrap();
    envelope["envelope_type"] = json!("coverage_attestation");
    envelope
}

fn cldd(coverage: &str) -> (Vec<Receipt>, Value, Result<Policy, String>) {
    let extra = json!({
        "metadata": {"sentinels": {"interpose_active": true, "interpose_state": {"cldd": {
            "unmediated_connections": 2, "unmonitored_spawns": 1, "escapes_suspected": true}}}},
        "coverage_attestations": [coverage_attestation(0, 0, false)],
    });
    let coverage = match coverage {
        "warn" => CoverageMode::Warn,
        _ => CoverageMode::Enforce,
    };
    (
        vec![receipt("1", json!({}))],
        extra,
        policy(Profile::Compat, None, Some(coverage)),
    )
}

fn policy(
    profile: Profile,
    connectivity: Option<Mode>,
    coverage: Option<CoverageMode>,
) -> Result<Policy, String> {
    Policy::resolve(profile, connectivity, coverage).map_err(|f| f.code.as_str().to_owned())
}

/// The receipts, extra payload fields and causal policy of a scenario
/// (refs: the reference's conformance harnesses).
fn scenario(name: &str) -> (Vec<Receipt>, Value, Result<Policy, String>) {
    let compat = || Ok(Policy::default());
    let linked = || {
        vec![
            receipt(
                "1",
                json!({"span_id": "a", "phase": "execution", "attribution_confidence": 1.0}),
            ),
            receipt(
                "2",
                json!({"span_id": "b", "parent_span_id": "a", "phase": "execution", "attribution_confidence": 1.0}),
            ),
        ]
    };
    let rooted = || {
        vec![receipt(
            "1",
            json!({"span_id": "r", "phase": "execution", "attribution_confidence": 0.5}),
        )]
    };
    let no_extra = json!({});
    match name {
        "valid_causal_linkage" => (
            vec![
                receipt(
                    "1",
                    json!({"span_id": "a", "phase": "execution", "attribution_confidence": 1}),
                ),
                receipt(
                    "2",
                    json!({"span_id": "b", "parent_span_id": "a", "tool_span_id": "a", "phase": "execution", "attribution_confidence": 0.5}),
                ),
            ],
            no_extra,
            compat(),
        ),
        "invalid_causal_dangling" => (
            vec![receipt(
                "1",
                json!({"span_id": "b", "parent_span_id": "m", "tool_span_id": "m", "phase": "execution", "attribution_confidence": 1}),
            )],
            no_extra,
            compat(),
        ),
        "invalid_causal_cycle" => (
            vec![
                receipt(
                    "1",
                    json!({"span_id": "a", "parent_span_id": "b", "phase": "execution", "attribution_confidence": 1}),
                ),
                receipt(
                    "2",
                    json!({"span_id": "b", "parent_span_id": "a", "phase": "execution", "attribution_confidence": 1}),
                ),
            ],
            no_extra,
            compat(),
        ),
        "invalid_causal_phase" => (
            vec![receipt(
                "1",
                json!({"span_id": "s", "phase": "invalid-phase", "attribution_confidence": 0.5}),
            )],
            no_extra,
            compat(),
        ),
        "invalid_causal_confidence" => (
            vec![receipt(
                "1",
                json!({"span_id": "s", "phase": "execution", "attribution_confidence": 1.5}),
            )],
            no_extra,
            compat(),
        ),
        "valid_cldd_discrepancy_warn" => cldd("warn"),
        "invalid_cldd_discrepancy_enforce" => cldd("enforce"),
        "valid_causal_binding_snake_only" => (
            vec![receipt(
                "1",
                json!({"span_id": "s", "phase": "execution", "attribution_confidence": 0.5}),
            )],
            no_extra,
            compat(),
        ),
        "valid_causal_binding_camel_only" => (
            vec![receipt(
                "1",
                json!({"spanId": "s", "phase": "execution", "attributionConfidence": 0.5}),
            )],
            no_extra,
            compat(),
        ),
        "invalid_causal_binding_field_conflict" => (
            vec![receipt(
                "1",
                json!({"span_id": "x", "spanId": "y", "phase": "execution", "attribution_confidence": 0.5}),
            )],
            no_extra,
            compat(),
        ),
        "invalid_causal_binding_normalization_failed" => (
            vec![receipt(
                "1",
                json!({"spanId": "   ", "phase": "execution", "attributionConfidence": 0.5}),
            )],
            no_extra,
            compat(),
        ),
        "valid_causal_confidence_authoritative"
        | "valid_causal_no_replay_no_conflict"
        | "valid_causal_connected" => (linked(), no_extra, compat()),
        "valid_causal_confidence_inferred" => (rooted(), no_extra, compat()),
        "valid_causal_confidence_unattributed" => (
            vec![receipt(
                "1",
                json!({"phase": "execution", "attribution_confidence": 0.0}),
            )],
            no_extra,
            compat(),
        ),
        "invalid_causal_confidence_overclaim" => (
            vec![receipt(
                "1",
                json!({"span_id": "s", "phase": "execution", "attribution_confidence": 1.0}),
            )],
            no_extra,
            compat(),
        ),
        "invalid_causal_receipt_replay_detected" => {
            let causal =
                || json!({"span_id": "x", "phase": "execution", "attribution_confidence": 0.5});
            (
                vec![
                    receipt("same", causal()),
                    Receipt {
                        response_hash: "res_gateway_firewall_002",
                        ..receipt("same", causal())
                    },
                ],
                no_extra,
                compat(),
            )
        }
        "invalid_causal_span_reuse_conflict" => (
            vec![
                receipt(
                    "1",
                    json!({"span_id": "x", "phase": "execution", "attribution_confidence": 0.5}),
                ),
                receipt(
                    "2",
                    json!({"span_id": "x", "parent_span_id": "p", "phase": "planning", "attribution_confidence": 0.5}),
                ),
                receipt(
                    "3",
                    json!({"span_id": "p", "phase": "execution", "attribution_confidence": 0.5}),
                ),
            ],
            no_extra,
            compat(),
        ),
        "invalid_causal_graph_disconnected" => (
            vec![
                receipt(
                    "1",
                    json!({"span_id": "a", "phase": "execution", "attribution_confidence": 0.5}),
                ),
                receipt(
                    "2",
                    json!({"span_id": "b", "phase": "execution", "attribution_confidence": 0.5}),
                ),
            ],
            no_extra,
            compat(),
        ),
        "invalid_causal_side_effect_orphaned" => (
            rooted(),
            side_effect(json!({"tool_span_id": "missing"})),
            compat(),
        ),
        "invalid_causal_human_approval_orphaned" => (
            rooted(),
            approval(json!({"parent_span_id": "missing"})),
            compat(),
        ),
        "valid_causal_clock_monotonic" => (
            vec![
                timed(
                    "1",
                    "2026-02-17T00:00:00.000Z",
                    "2026-02-17T00:00:00.500Z",
                    json!({"span_id": "a", "phase": "setup", "attribution_confidence": 1}),
                ),
                timed(
                    "2",
                    "2026-02-17T00:00:01.000Z",
                    "2026-02-17T00:00:01.500Z",
                    json!({"span_id": "b", "parent_span_id": "a", "phase": "planning", "attribution_confidence": 1}),
                ),
            ],
            no_extra,
            compat(),
        ),
        "invalid_causal_clock_parent_after_child" => (
            vec![
                timed(
                    "1",
                    "2026-02-17T00:00:03.000Z",
                    "2026-02-17T00:00:03.500Z",
                    json!({"span_id": "p", "phase": "setup", "attribution_confidence": 1}),
                ),
                timed(
                    "2",
                    "2026-02-17T00:00:02.000Z",
                    "2026-02-17T00:00:02.500Z",
                    json!({"span_id": "c", "parent_span_id": "p", "phase": "planning", "attribution_confidence": 1}),
                ),
            ],
            no_extra,
            compat(),
        ),
        "invalid_causal_phase_transition" => (
            vec![
                timed(
                    "1",
                    "2026-02-17T00:00:00.000Z",
                    "2026-02-17T00:00:00.500Z",
                    json!({"span_id": "p", "phase": "teardown", "attribution_confidence": 1}),
                ),
                timed(
                    "2",
                    "2026-02-17T00:00:01.000Z",
                    "2026-02-17T00:00:01.500Z",
                    json!({"span_id": "c", "parent_span_id": "p", "phase": "planning", "attribution_confidence": 1}),
                ),
            ],
            no_extra,
            compat(),
        ),
        "invalid_causal_clock_envelope_regression" => (
            vec![timed(
                "1",
                "2026-02-17T00:00:05.000Z",
                "2026-02-17T00:00:04.000Z",
                json!({"span_id": "s", "phase": "execution", "attribution_confidence": 0.5}),
            )],
            no_extra,
            compat(),
        ),
        other => panic!("no builder for scenario {other}"),
    }
}

/// The policy-profile scenarios (base receipts at …00.100Z, issued
/// …00.200Z).
fn profile_scenario(name: &str) -> (Vec<Receipt>, Value, Result<Policy, String>) {
    let at = |id, causal| {
        timed(
            id,
            "2026-02-19T00:00:00.100Z",
            "2026-02-19T00:00:00.200Z",
            causal,
        )
    };
    let two_roots = || {
        vec![
            at(
                "1",
                json!({"span_id": "a", "phase": "execution", "attribution_confidence": 0.5}),
            ),
            at(
                "2",
                json!({"span_id": "b", "phase": "execution", "attribution_confidence": 0.5}),
            ),
        ]
    };
    let linked = || {
        vec![
            at("1", json!({"span_id": "root", "phase": "setup"})),
            at(
                "2",
                json!({"span_id": "child", "parent_span_id": "root", "phase": "planning"}),
            ),
        ]
    };
    match name {
        "valid-policy-profile-compat-override" => (
            two_roots(),
            json!({}),
            policy(
                Profile::Compat,
                Some(Mode::Observe),
                Some(CoverageMode::Warn),
            ),
        ),
        "invalid-policy-profile-strict-downgrade" => (
            two_roots(),
            json!({}),
            policy(
                Profile::Strict,
                Some(Mode::Observe),
                Some(CoverageMode::Warn),
            ),
        ),
        "invalid-policy-profile-invalid" => (
            linked(),
            json!({}),
            Profile::parse("strictish")
                .map_err(|f| f.code.as_str().to_owned())
                .and_then(|p| policy(p, None, None)),
        ),
        "valid-policy-profile-strict-lock" => (
            linked(),
            json!({"coverage_attestations": [coverage_attestation(0, 0, false)]}),
            policy(Profile::Strict, None, None),
        ),
        other => panic!("no builder for {other}"),
    }
}

#[test]
fn every_causal_scenario_gives_its_status_and_code() {
    let mut checked = 0;
    for suite in [
        "clawverify-causal-cldd",
        "clawverify-causal-hardening",
        "clawverify-causal-connectivity",
        "clawverify-causal-clock",
        "clawverify-causal-policy-profile",
    ] {
        let dir = Path::new(DIR).join(suite);
        let manifest = read_json(&dir.join("manifest.v1.json"));
        for case in manifest["cases"].as_array().unwrap() {
            let case = read_json(&dir.join(case.as_str().unwrap()));
            let id = case["id"].as_str().unwrap();
            let (receipts, extra, causal) = if suite == "clawverify-causal-policy-profile" {
                profile_scenario(id)
            } else {
                scenario(case["scenario"].as_str().unwrap())
            };
            let expected = &case["expected"];
            let got = match causal {
                Err(code) => ("INVALID", code),
                Ok(causal) => {
                    let options = Options {
                        causal,
                        now: NOW.parse().unwrap(),
                        unverified_evidence: UnverifiedEvidence::Warn,
                        ..Options::for_gateway_signers(&[gateway_key().did()])
                    };
                    let (valid, code) = verdict(&scenario_bundle(id, &receipts, extra), &options);
                    (if valid { "VALID" } else { "INVALID" }, code)
                }
            };
            assert_eq!(got.0, expected["status"], "{suite}/{id}: {}", got.1);
            if let Some(code) = expected.get("error_code") {
                assert_eq!(got.1, code.as_str().unwrap(), "{suite}/{id}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 30);
}

#[test]
fn the_kit_bundles_pass_the_default_causal_checks_and_fail_without_anchors() {
    let options = Options::for_gateway_signers(&[gateway_key().did()]);
    let shape = wpc::bundle::kit::Shape::default();
    let bytes = wpc::bundle::kit::bundle_bytes(&shape).unwrap();
    assert_eq!(verdict(&bytes, &options), (true, "OK".to_owned()));

    // The same bundle with its side effect's anchor removed, re-signed by
    // the agent: orphaned under the default (enforce), fine under observe.
    let mut bundle: Value = serde_json::from_slice(&bytes).unwrap();
    bundle["payload"]["side_effect_receipts"][0]["binding"] = json!({"run_id": "run_0"});
    let bytes = serde_json::to_vec(&wpc::bundle::kit::resign(&bundle).unwrap()).unwrap();
    assert_eq!(
        verdict(&bytes, &options),
        (false, "CAUSAL_SIDE_EFFECT_ORPHANED".to_owned())
    );
    let observe = Options {
        causal: Policy::resolve(Profile::Compat, Some(Mode::Observe), None).unwrap(),
        ..Options::for_gateway_signers(&[gateway_key().did()])
    };
    assert_eq!(verdict(&bytes, &observe), (true, "OK".to_owned()));
}

// ---- aggregate bundles ----------------------------------------------------

/// The aggregate vectors of the manifest (r49 and cpl-v2 rate limits),
/// under the documented clock.
#[test]
fn every_aggregate_bundle_vector_gives_its_verdict_and_reason_code() {
    assert_eq!(agreement("aggregate_bundle"), (9, Vec::new()));
}

/// What a member of a kit-built aggregate carries.
struct MemberSpec {
    agent: u8,
    bundle_id: &'static str,
    run_id: &'static str,
    receipt_id: &'static str,
    response_hash: &'static str,
    binding: Value,
    extra: Value,
}

impl MemberSpec {
    fn new(agent: u8, name: &'static str, run_id: &'static str, binding: Value) -> MemberSpec {
        MemberSpec {
            agent,
            bundle_id: name,
            run_id,
            receipt_id: name,
            response_hash: name,
            binding,
            extra: json!({}),
        }
    }
}

/// A proof bundle member as the reference's aggregate harness builds one:
/// one event, one gateway receipt bound to it with the spec's causal
/// binding, issued an hour before [`NOW`], signed by the spec's agent key.
fn proof_member(spec: &MemberSpec) -> Value {
    let agent = wpc::bundle::kit::key(spec.agent);
    let mut event = json!({
        "event_id": format!("{}_evt_001", spec.bundle_id),
        "run_id": spec.run_id,
        "event_type": "llm_call",
        "timestamp": "2026-02-17T22:59:58.000Z",
        "payload_hash_b64u": "ibhRTWt5gh47v4X1fAtBRKwEKCHZir1w-de3fNfCEu8",
        "prev_hash_b64u": null,
    });
    let event_hash = event_hash_b64u(event.as_object().unwrap());
    event["event_hash_b64u"] = json!(event_hash);
    let mut binding = json!({ "run_id": spec.run_id, "event_hash_b64u": event_hash });
    for (key, value) in spec.binding.as_object().unwrap() {
        binding[key] = value.clone();
    }
    let receipt = json!({
        "receipt_version": "1",
        "receipt_id": spec.receipt_id,
        "gateway_id": "gw_aggregate_causal_001",
        "provider": "openai",
        "model": "gpt-4",
        "request_hash_b64u": format!("req_{}", spec.bundle_id),
        "response_hash_b64u": spec.response_hash,
        "tokens_input": 25,
        "tokens_output": 40,
        "latency_ms": 45,
        "timestamp": "2026-02-17T22:59:58.500Z",
        "binding": binding,
    });
    let mut receipt = serde_json::to_value(
        SignedEnvelope::sign::<GatewayReceipt>(receipt, &gateway_key(), Timestamp::UNIX_EPOCH)
            .unwrap(),
    )
    .unwrap();
    receipt["issued_at"] = json!("2026-02-17T22:59:59.000Z");
    let mut payload = json!({
        "bundle_version": "1",
        "bundle_id": spec.bundle_id,
        "agent_did": agent.did_str(),
        "event_chain": [event],
        "receipts": [receipt],
    });
    for (key, value) in spec.extra.as_object().unwrap() {
        payload[key] = value.clone();
    }
    sign_member(payload, &agent)
}

fn sign_member(payload: Value, key: &wpc::crypto::keys::SigningKey) -> Value {
    let mut member = serde_json::to_value(
        SignedEnvelope::sign::<ProofBundle>(payload, key, Timestamp::UNIX_EPOCH).unwrap(),
    )
    .unwrap();
    member["issued_at"] = json!("2026-02-17T22:59:59.500Z");
    member
}

/// The aggregate issuer of the kit-built aggregates.
fn issuer() -> wpc::crypto::keys::SigningKey {
    wpc::bundle::kit::key(40)
}

/// `members` in an aggregate signed by [`issuer`] 28 minutes before
/// [`NOW`].
fn aggregate(members: Vec<Value>, tier: &str) -> Value {
    let issued_at: Timestamp = "2026-02-17T23:32:00Z".parse().unwrap();
    wpc::bundle::kit::aggregate_value(members, &issuer(), tier, issued_at).unwrap()
}

fn aggregate_options() -> Options {
    Options {
        now: NOW.parse().unwrap(),
        unverified_evidence: UnverifiedEvidence::Warn,
        ..Options::for_gateway_signers(&[gateway_key().did()])
    }
}

fn aggregate_verdict(aggregate: &Value) -> (bool, String) {
    verdict(
        &serde_json::to_vec(aggregate).unwrap(),
        &aggregate_options(),
    )
}

/// The members of an aggregate-causal scenario (refs: the reference's
/// aggregate causal harness).
fn aggregate_scenario(name: &str) -> Vec<MemberSpec> {
    let causal = |span: &str, phase: &str| json!({"span_id": span, "phase": phase, "attribution_confidence": 0.5});
    match name {
        "valid_aggregate_causal_consistent" => vec![
            MemberSpec::new(
                21,
                "bundle_aggregate_causal_valid_a",
                "run_ns_aggregate_causal::member_a",
                causal("span_shared_aggregate_001", "execution"),
            ),
            MemberSpec::new(
                22,
                "bundle_aggregate_causal_valid_b",
                "run_ns_aggregate_causal::member_b",
                causal("span_shared_aggregate_001", "execution"),
            ),
        ],
        "invalid_aggregate_member_conflict" => vec![
            MemberSpec::new(
                21,
                "bundle_aggregate_causal_conflict_a",
                "run_ns_aggregate_causal::member_conflict_a",
                causal("span_conflict_aggregate_001", "execution"),
            ),
            MemberSpec::new(
                22,
                "bundle_aggregate_causal_conflict_b",
                "run_ns_aggregate_causal::member_conflict_b",
                causal("span_conflict_aggregate_001", "planning"),
            ),
        ],
        "invalid_aggregate_receipt_replay" => vec![
            MemberSpec {
                receipt_id: "rcpt_aggregate_replay_target_001",
                response_hash: "res_aggregate_replay_a",
                ..MemberSpec::new(
                    21,
                    "bundle_aggregate_causal_replay_a",
                    "run_aggregate_replay_a",
                    causal("span_replay_aggregate_001", "execution"),
                )
            },
            MemberSpec {
                receipt_id: "rcpt_aggregate_replay_target_001",
                response_hash: "res_aggregate_replay_b",
                ..MemberSpec::new(
                    22,
                    "bundle_aggregate_causal_replay_b",
                    "run_aggregate_replay_b",
                    causal("span_replay_aggregate_002", "execution"),
                )
            },
        ],
        other => panic!("no builder for scenario {other}"),
    }
}

#[test]
fn every_aggregate_causal_scenario_gives_its_status_and_code() {
    let dir = Path::new(DIR).join("clawverify-aggregate-causal");
    let manifest = read_json(&dir.join("manifest.v1.json"));
    let mut checked = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let case = read_json(&dir.join(case.as_str().unwrap()));
        let id = case["id"].as_str().unwrap();
        let members = aggregate_scenario(case["scenario"].as_str().unwrap())
            .iter()
            .map(proof_member)
            .collect();
        let (valid, code) = aggregate_verdict(&aggregate(members, "gateway"));
        let expected = &case["expected"];
        assert_eq!(
            if valid { "VALID" } else { "INVALID" },
            expected["status"],
            "{id}: {code}"
        );
        if let Some(code_expected) = expected.get("error_code") {
            assert_eq!(code, code_expected.as_str().unwrap(), "{id}");
        }
        checked += 1;
    }
    assert_eq!(checked, 3);
}

/// Two good members of distinct agents and runs.
fn two_members() -> Vec<MemberSpec> {
    aggregate_scenario("valid_aggregate_causal_consistent")
}

fn rate_claim(max: u64, observed: u64) -> Value {
    json!({"rate_limit_claims": [{
        "claim_version": "1", "scope": "tool", "scope_key": "search.docs",
        "window_start": "2026-02-17T22:55:00.000Z", "window_end": "2026-02-17T23:05:00.000Z",
        "max_requests": max, "observed_requests": observed,
    }]})
}

/// Tampering with an aggregate, or building one that contradicts its
/// members: every case is INVALID with the code the reference gives first.
#[test]
fn a_tampered_aggregate_is_invalid() {
    let members = || two_members().iter().map(proof_member).collect::<Vec<_>>();
    let good = aggregate(members(), "gateway");
    assert_eq!(aggregate_verdict(&good), (true, "OK".to_owned()));

    // A member swapped for another validly signed bundle, the aggregate
    // left as it was: its payload hash no longer matches.
    let mut swapped = good.clone();
    swapped["payload"]["artifacts"]["member_bundles"][1] = proof_member(&MemberSpec::new(
        23,
        "bundle_other",
        "run_other",
        json!({"span_id": "s", "phase": "execution", "attribution_confidence": 0.5}),
    ));
    assert_eq!(
        aggregate_verdict(&swapped),
        (false, "HASH_MISMATCH".to_owned())
    );
    // ... and, in hash order again, re-signed by the issuer without a new
    // manifest.
    let jcs_hash = |member: &Value| {
        wpc::policy::hash::sha256_b64u(&wpc::policy::hash::canonical_json(member).unwrap())
    };
    swapped["payload"]["artifacts"]["member_bundles"]
        .as_array_mut()
        .unwrap()
        .sort_by_key(jcs_hash);
    let resigned = |aggregate: &Value| {
        let issued_at: Timestamp = "2026-02-17T23:32:00Z".parse().unwrap();
        serde_json::to_value(
            SignedEnvelope::sign::<wpc::bundle::aggregate::AggregateBundle>(
                aggregate["payload"].clone(),
                &issuer(),
                issued_at,
            )
            .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        aggregate_verdict(&resigned(&swapped)),
        (false, "HASH_MISMATCH".to_owned())
    );

    // The aggregate's signature: another key's, or a broken one.
    let by_other = serde_json::to_value(
        SignedEnvelope::sign::<wpc::bundle::aggregate::AggregateBundle>(
            good["payload"].clone(),
            &wpc::bundle::kit::key(41),
            "2026-02-17T23:32:00Z".parse().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let mut forged = good.clone();
    forged["signature_b64u"] = by_other["signature_b64u"].clone();
    assert_eq!(
        aggregate_verdict(&forged),
        (false, "SIGNATURE_INVALID".to_owned())
    );
    assert_eq!(
        aggregate_verdict(&by_other),
        (false, "AGGREGATE_SIGNER_MISMATCH".to_owned())
    );

    // A member re-signed by another key than its agent's.
    let mut specs = members();
    let payload = specs[0]["payload"].clone();
    specs[0] = sign_member(payload, &wpc::bundle::kit::key(42));
    let report = wpc::bundle::verify_bundle(
        &serde_json::to_vec(&aggregate(specs, "gateway")).unwrap(),
        &aggregate_options(),
    );
    assert_eq!(
        report.codes().first().map(|c| c.as_str()),
        Some("AGGREGATE_MEMBER_INVALID")
    );
    assert!(
        report.failures[0]
            .message
            .contains("PROOF_BUNDLE_AGENT_MISMATCH"),
        "{:?}",
        report.failures
    );
    let aggregate_report = report.aggregate.as_ref().unwrap();
    let member_codes: Vec<bool> = aggregate_report
        .members
        .iter()
        .map(|m| m.report.valid)
        .collect();
    assert_eq!(member_codes.iter().filter(|v| !**v).count(), 1);

    // A member's receipt copied into the other member, which its agent
    // signs again: bound to another run, so that member is INVALID.
    let mut specs = members();
    let receipt = specs[0]["payload"]["receipts"][0].clone();
    let mut payload = specs[1]["payload"].clone();
    payload["receipts"].as_array_mut().unwrap().push(receipt);
    specs[1] = sign_member(payload, &wpc::bundle::kit::key(22));
    let report = wpc::bundle::verify_bundle(
        &serde_json::to_vec(&aggregate(specs, "gateway")).unwrap(),
        &aggregate_options(),
    );
    assert!(!report.valid);
    assert_eq!(report.failures[0].code.as_str(), "AGGREGATE_MEMBER_INVALID");
    assert!(
        report.failures[0]
            .message
            .contains("RECEIPT_BINDING_MISMATCH"),
        "{:?}",
        report.failures
    );

    // The aggregate's own claims against its members.
    let mut summary = good.clone();
    summary["payload"]["metadata"]["fleet_summary"]["total_runs"] = json!(1);
    assert_eq!(
        aggregate_verdict(&resigned(&summary)),
        (false, "FLEET_SUMMARY_MISMATCH".to_owned())
    );
    assert_eq!(
        aggregate_verdict(&aggregate(members(), "self")),
        (false, "FLEET_SUMMARY_MISMATCH".to_owned())
    );
    let self_dealing = aggregate(members(), "gateway");
    let mut issuer_is_agent = self_dealing["payload"].clone();
    issuer_is_agent["issuer_did"] = json!(wpc::bundle::kit::key(21).did_str());
    let issuer_is_agent = serde_json::to_value(
        SignedEnvelope::sign::<wpc::bundle::aggregate::AggregateBundle>(
            issuer_is_agent,
            &wpc::bundle::kit::key(21),
            "2026-02-17T23:32:00Z".parse().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        aggregate_verdict(&issuer_is_agent),
        (false, "IDENTITY_CONFLICT".to_owned())
    );

    // Rate-limit claims of one agent, key and window: limits must agree,
    // and the observations add up.
    let claimed = |claims: [(u64, u64); 2]| {
        let specs: Vec<Value> = claims
            .iter()
            .enumerate()
            .map(|(i, &(max, observed))| {
                let mut spec = MemberSpec::new(
                    21,
                    ["bundle_rate_a", "bundle_rate_b"][i],
                    ["run_rate_a", "run_rate_b"][i],
                    json!({}),
                );
                spec.extra = rate_claim(max, observed);
                proof_member(&spec)
            })
            .collect();
        aggregate_verdict(&aggregate(specs, "gateway"))
    };
    assert_eq!(claimed([(5, 2), (5, 3)]), (true, "OK".to_owned()));
    assert_eq!(
        claimed([(5, 4), (5, 3)]),
        (false, "RATE_LIMIT_EXCEEDED".to_owned())
    );
    assert_eq!(
        claimed([(5, 1), (7, 1)]),
        (false, "RATE_LIMIT_CLAIM_INCONSISTENT".to_owned())
    );

    // The same member twice, and members out of order.
    let member = proof_member(&two_members()[0]);
    assert_eq!(
        aggregate_verdict(&aggregate(vec![member.clone(), member], "gateway")),
        (false, "AGGREGATE_DUPLICATE_MEMBER".to_owned())
    );
    let mut unsorted = good.clone();
    unsorted["payload"]["artifacts"]["member_bundles"]
        .as_array_mut()
        .unwrap()
        .reverse();
    assert_eq!(
        aggregate_verdict(&resigned(&unsorted)),
        (false, "UNSORTED_MEMBER_ARRAY".to_owned())
    );
}

// ---- completeness -----------------------------------------------------------

/// The attester of the completeness scenarios' attestations.
fn attester_key() -> wpc::crypto::keys::SigningKey {
    wpc::bundle::kit::key(31)
}

/// A signature that does not verify, in place of the reference harness's
/// random one.
fn forged_signature() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 64])
}

/// The gateway receipt of a completeness scenario, bound to `run_id`.
fn completeness_receipt(run_id: &str, event_hash: &str, forged: bool) -> Value {
    let payload = json!({
        "receipt_version": "1",
        "receipt_id": format!("gw_{run_id}"),
        "gateway_id": "gw_completeness_001",
        "provider": "openai",
        "model": "gpt-4.1",
        "request_hash_b64u": "req_hash_completeness_001",
        "response_hash_b64u": "res_hash_completeness_001",
        "tokens_input": 100,
        "tokens_output": 200,
        "latency_ms": 220,
        "timestamp": "2026-02-17T00:00:00Z",
        "binding": {"run_id": run_id, "event_hash_b64u": event_hash},
    });
    let mut envelope = serde_json::to_value(
        SignedEnvelope::sign::<GatewayReceipt>(
            payload,
            &gateway_key(),
            "2026-02-17T00:00:00Z".parse().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    if forged {
        envelope["signature_b64u"] = json!(forged_signature());
    }
    envelope
}

/// An attestation reference about the agent by the attester (or carrying
/// a forged signature).
fn attestation(forged: bool) -> Value {
    let mut value = wpc::bundle::kit::attestation(&attester_key(), agent_key().did_str()).unwrap();
    if forged {
        value["signature_b64u"] = json!(forged_signature());
    }
    value
}

/// The payload of a completeness scenario, built as the reference harness
/// builds it (one event; the receipts and attestations the scenario names).
fn completeness_payload(id: &str, scenario: &str) -> Value {
    let run_id = format!(
        "run_{}",
        id.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            .to_lowercase()
    );
    let (event, event_hash) = llm_call_event(&run_id);
    let chain = json!([event]);
    let receipt = |run: &str, forged| json!([completeness_receipt(run, &event_hash, forged)]);
    let mut payload = json!({
        "bundle_version": "1",
        "bundle_id": format!("bundle_{run_id}"),
        "agent_did": agent_key().did_str(),
    });
    let (chain, receipts, attestations) = match scenario {
        "complete_evidence_bound" => (Some(chain), Some(receipt(&run_id, false)), None),
        "partial_event_chain_only" => (Some(chain), None, None),
        "partial_envelope_only" => (None, None, Some(json!([attestation(true)]))),
        // The reference gives the attester an empty allowlist here; wpc has
        // no attester allowlist at all.
        "partial_attestation_class_unverified" => {
            (Some(chain), None, Some(json!([attestation(false)])))
        }
        "incomplete_receipt_class_unverified" => (Some(chain), Some(receipt(&run_id, true)), None),
        "inconsistent_binding_context_missing" => (None, Some(receipt(&run_id, false)), None),
        "inconsistent_receipt_binding_mismatch" => (
            Some(chain),
            Some(receipt(&format!("{run_id}_wrong"), false)),
            None,
        ),
        other => panic!("no builder for scenario {other}"),
    };
    for (key, value) in [
        ("event_chain", chain),
        ("receipts", receipts),
        ("attestations", attestations),
    ] {
        if let Some(value) = value {
            payload[key] = value;
        }
    }
    payload
}

fn sign_bundle(payload: Value) -> Vec<u8> {
    let issued_at: Timestamp = "2026-02-17T00:00:00Z".parse().unwrap();
    serde_json::to_vec(
        &SignedEnvelope::sign::<ProofBundle>(payload, &agent_key(), issued_at).unwrap(),
    )
    .unwrap()
}

fn completeness_options(profile: wpc::bundle::completeness::Profile) -> Options {
    Options {
        now: NOW.parse().unwrap(),
        unverified_evidence: UnverifiedEvidence::Warn,
        completeness: profile,
        ..Options::for_gateway_signers(&[gateway_key().did()])
    }
}

/// Status, first code (`OK` when valid), every code, and the classification
/// (`LEVEL/REASON`).
fn classified(bytes: &[u8], options: &Options) -> (String, String, Vec<String>, String) {
    let report = verify_bundle(bytes, options);
    let status = if report.valid { "VALID" } else { "INVALID" };
    let codes: Vec<String> = report
        .codes()
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let first = codes.first().cloned().unwrap_or_else(|| "OK".to_owned());
    let class = report.completeness.map_or_else(String::new, |c| {
        format!("{}/{}", c.level.as_str(), c.reason_code.as_str())
    });
    (status.to_owned(), first, codes, class)
}

/// The completeness descriptors, each rebuilt as the reference harness
/// builds it and verified under both profiles. The service profile agrees
/// on verdict, error code and classification for all seven; wpc's default
/// agrees on every classification, is INVALID where a receipt fails its own
/// checks (the receipt's code first, `EVIDENCE_MISMATCH` after it), and so
/// differs from the service on one verdict, by design (docs/bundles.md).
#[test]
fn every_completeness_scenario_gives_its_status_and_classification() {
    use wpc::bundle::completeness::Profile;
    let dir = Path::new(DIR).join("clawverify-completeness");
    let manifest = read_json(&dir.join("manifest.v1.json"));
    let (mut service_agrees, mut strict_agrees) = (0, 0);
    for case in manifest["cases"].as_array().unwrap() {
        let case = read_json(&dir.join(case.as_str().unwrap()));
        let id = case["id"].as_str().unwrap();
        let expected = &case["expected"];
        let bytes = sign_bundle(completeness_payload(id, case["scenario"].as_str().unwrap()));
        let class = format!(
            "{}/{}",
            expected["completeness_verdict"].as_str().unwrap(),
            expected["completeness_reason_code"].as_str().unwrap()
        );
        let error = expected["error_code"].as_str();

        let (status, first, _, got) = classified(&bytes, &completeness_options(Profile::Service));
        assert_eq!(
            (status.as_str(), got.as_str()),
            (expected["status"].as_str().unwrap(), class.as_str()),
            "service {id}"
        );
        assert_eq!(first, error.unwrap_or("OK"), "service {id}");
        service_agrees += 1;

        let (status, first, codes, got) =
            classified(&bytes, &completeness_options(Profile::Strict));
        assert_eq!(got, class, "strict {id}");
        if status == expected["status"] && error.is_none_or(|code| codes.iter().any(|c| c == code))
        {
            strict_agrees += 1;
        } else {
            assert_eq!(
                (id, status.as_str(), first.as_str()),
                (
                    "valid-incomplete-receipt-class-unverified",
                    "INVALID",
                    "RECEIPT_VERIFICATION_FAILED"
                )
            );
        }
    }
    assert_eq!((service_agrees, strict_agrees), (7, 6));
}

/// Every leaf of the event chain and of the gateway receipt of a COMPLETE
/// bundle, changed in turn and the bundle signed again by its agent: never
/// VALID and COMPLETE. wpc's default rejects each; the service profile
/// rejects it or classifies it down. The receipt envelope's `issued_at` is
/// the one field no signature covers.
#[test]
fn a_tampered_complete_bundle_is_rejected_or_classified_down() {
    use wpc::bundle::completeness::Profile;
    let payload = completeness_payload("tamper", "complete_evidence_bound");
    let complete = (
        "VALID".to_owned(),
        "COMPLETE/COMPLETE_EVIDENCE_BOUND".to_owned(),
    );
    let verdicts = |payload: &Value| {
        let bytes = sign_bundle(payload.clone());
        [Profile::Strict, Profile::Service].map(|profile| {
            let (status, _, _, class) = classified(&bytes, &completeness_options(profile));
            (status, class)
        })
    };
    assert_eq!(verdicts(&payload), [complete.clone(), complete.clone()]);

    let mut leaves = Vec::new();
    collect_leaves(&payload["event_chain"], "/event_chain", &mut leaves);
    collect_leaves(&payload["receipts"], "/receipts", &mut leaves);
    let mut mutants = 0;
    for (pointer, leaf) in leaves {
        if pointer == "/receipts/0/issued_at" {
            continue;
        }
        let changed = match leaf {
            Value::String(text) => json!(format!("{text}x")),
            Value::Number(n) => json!(n.as_f64().unwrap() + 1.0),
            Value::Null => json!("x"),
            other => panic!("{pointer}: {other}"),
        };
        let mut tampered = payload.clone();
        *tampered.pointer_mut(&pointer).unwrap() = changed;
        let [strict, service] = verdicts(&tampered);
        assert_eq!(strict.0, "INVALID", "{pointer}");
        assert_ne!(service, complete, "{pointer}");
        mutants += 1;
    }
    assert!(mutants > 20, "{mutants}");

    // Evidence taken away, added or forged, then signed again.
    let without = |key: &str| {
        let mut p = payload.clone();
        p.as_object_mut().unwrap().remove(key);
        p
    };
    let cases = [
        // No chain to bind the receipt to: INCONSISTENT everywhere.
        (
            without("event_chain"),
            ["INVALID", "INVALID"],
            "INCONSISTENT/BINDING_CONTEXT_MISSING",
        ),
        // The receipt dropped: the chain alone.
        (
            without("receipts"),
            ["VALID", "VALID"],
            "PARTIAL/EVENT_CHAIN_ONLY",
        ),
        // The agent signs its own "gateway" receipt: no trusted signer.
        (
            {
                let mut p = payload.clone();
                let receipt = p["receipts"][0]["payload"].clone();
                p["receipts"][0] = serde_json::to_value(
                    SignedEnvelope::sign::<GatewayReceipt>(
                        receipt,
                        &agent_key(),
                        Timestamp::UNIX_EPOCH,
                    )
                    .unwrap(),
                )
                .unwrap();
                p
            },
            ["INVALID", "VALID"],
            "INCOMPLETE/RECEIPT_CLASS_UNVERIFIED",
        ),
        // The receipt's binding removed and the chain with it: wpc used to
        // accept an unbound receipt in a chainless bundle.
        (
            {
                let mut p = without("event_chain");
                let receipt = {
                    let mut r = p["receipts"][0]["payload"].clone();
                    r.as_object_mut().unwrap().remove("binding");
                    r
                };
                p["receipts"][0] = serde_json::to_value(
                    SignedEnvelope::sign::<GatewayReceipt>(
                        receipt,
                        &gateway_key(),
                        Timestamp::UNIX_EPOCH,
                    )
                    .unwrap(),
                )
                .unwrap();
                p
            },
            ["INVALID", "INVALID"],
            "INCONSISTENT/BINDING_CONTEXT_MISSING",
        ),
        // An attestation the agent signs about itself: its signature
        // verifies, nobody trusts the attester: PARTIAL, not COMPLETE.
        (
            {
                let mut p = payload.clone();
                let att =
                    wpc::bundle::kit::attestation(&agent_key(), agent_key().did_str()).unwrap();
                p["attestations"] = json!([att]);
                p
            },
            ["VALID", "VALID"],
            "PARTIAL/ATTESTATION_CLASS_UNVERIFIED",
        ),
    ];
    for (i, (tampered, statuses, class)) in cases.into_iter().enumerate() {
        let got = verdicts(&tampered);
        assert_eq!(
            got.clone().map(|(status, _)| status),
            statuses.map(str::to_owned),
            "case {i}"
        );
        assert!(got.iter().all(|(_, c)| c == class), "case {i}: {got:?}");
    }
}

/// Every scalar below `value`, with its pointer.
fn collect_leaves(value: &Value, pointer: &str, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                collect_leaves(child, &format!("{pointer}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_leaves(child, &format!("{pointer}/{i}"), out);
            }
        }
        leaf => out.push((pointer.to_owned(), leaf.clone())),
    }
}
