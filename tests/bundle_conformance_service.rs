#![allow(clippy::unwrap_used)]
//! The hosted verifier's conformance suites beyond the causal and
//! completeness ones (tests/vectors/clawsig/conformance-full): x402 payment
//! binding, which wpc implements, and the suites whose evidence wpc does not
//! verify (witnessed web, VIR, coverage chain, TEE, binary semantic, compiled
//! evidence), where a bundle carrying that evidence is never silently VALID
//! (docs/bundles.md, "Conformance").

use std::path::Path;

use jiff::Timestamp;
use serde_json::{Value, json};
use wpc::bundle::kit::{agent_key, gateway_key};
use wpc::bundle::{BundleReport, EvidenceStatus, Options, UnverifiedEvidence, verify_bundle};
use wpc::crypto::envelope::{GatewayReceipt, ProofBundle, SignedEnvelope};
use wpc::crypto::stringify::event_hash_b64u;

const DIR: &str = "tests/vectors/clawsig/conformance-full";
const NOW: &str = "2026-02-18T00:00:00Z";

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Each case of a descriptor suite: `(id, scenario, expected)`.
fn cases(suite: &str) -> Vec<(String, String, Value)> {
    let dir = Path::new(DIR).join(suite);
    let manifest = read_json(&dir.join("manifest.v1.json"));
    assert_eq!(manifest["suite"], suite);
    manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| {
            let case = read_json(&dir.join(file.as_str().unwrap()));
            (
                case["id"].as_str().unwrap().to_owned(),
                case["scenario"].as_str().unwrap().to_owned(),
                case["expected"].clone(),
            )
        })
        .collect()
}

fn options(unverified: UnverifiedEvidence) -> Options {
    Options {
        now: NOW.parse().unwrap(),
        unverified_evidence: unverified,
        ..Options::for_gateway_signers(&[gateway_key().did()])
    }
}

fn at() -> Timestamp {
    "2026-02-17T00:00:00Z".parse().unwrap()
}

/// An envelope of `envelope_type` over `payload`, signed by the gateway key
/// (wpc reads none of these signatures).
fn envelope(envelope_type: &str, payload: Value) -> Value {
    let mut envelope = serde_json::to_value(
        SignedEnvelope::sign::<GatewayReceipt>(payload, &gateway_key(), at()).unwrap(),
    )
    .unwrap();
    envelope["envelope_type"] = json!(envelope_type);
    envelope
}

/// The run id and one-event chain the reference harnesses build for a case.
fn run_and_chain(id: &str) -> (String, Value, String) {
    let run_id = format!(
        "run_{}",
        id.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            .to_lowercase()
    );
    let mut event = json!({
        "event_id": format!("evt_{run_id}"),
        "run_id": run_id,
        "event_type": "llm_call",
        "timestamp": "2026-02-17T00:00:00Z",
        "payload_hash_b64u": "ibhRTWt5gh47v4X1fAtBRKwEKCHZir1w-de3fNfCEu8",
        "prev_hash_b64u": null,
    });
    let hash = event_hash_b64u(event.as_object().unwrap());
    event["event_hash_b64u"] = json!(hash);
    (run_id, json!([event]), hash)
}

/// A gateway receipt bound to `run_id` and `event_hash` (no binding when
/// `run_id` is `None`), with `metadata`.
fn gateway_receipt(
    receipt_id: &str,
    binding: Option<(&str, &str)>,
    metadata: Option<Value>,
) -> Value {
    let mut payload = json!({
        "receipt_version": "1",
        "receipt_id": receipt_id,
        "gateway_id": "gw_conformance_001",
        "provider": "openai",
        "model": "gpt-4.1",
        "request_hash_b64u": "req_hash_conformance_001",
        "response_hash_b64u": "res_hash_conformance_001",
        "tokens_input": 120,
        "tokens_output": 220,
        "latency_ms": 240,
        "timestamp": "2026-02-17T00:00:00Z",
    });
    if let Some((run_id, event_hash)) = binding {
        payload["binding"] = json!({"run_id": run_id, "event_hash_b64u": event_hash});
    }
    if let Some(metadata) = metadata {
        payload["metadata"] = metadata;
    }
    serde_json::to_value(
        SignedEnvelope::sign::<GatewayReceipt>(payload, &gateway_key(), at()).unwrap(),
    )
    .unwrap()
}

fn sign_bundle(payload: Value) -> Vec<u8> {
    serde_json::to_vec(&SignedEnvelope::sign::<ProofBundle>(payload, &agent_key(), at()).unwrap())
        .unwrap()
}

fn bundle_payload(run_id: &str, chain: Value) -> Value {
    json!({
        "bundle_version": "1",
        "bundle_id": format!("bundle_{run_id}"),
        "agent_did": agent_key().did_str(),
        "event_chain": chain,
    })
}

fn codes(report: &BundleReport) -> Vec<&'static str> {
    report.codes().iter().map(|c| c.as_str()).collect()
}

/// The x402 scenarios, built as the reference harness builds them: one
/// gateway receipt with a complete payment claim, then the one change the
/// scenario names.
fn x402_bundle(id: &str, scenario: &str) -> Vec<u8> {
    let (run_id, chain, event_hash) = run_and_chain(id);
    let metadata = |auth: &str, network: Option<&str>| {
        let mut metadata = json!({
            "x402_payment_ref": "0xpaymentrefx402",
            "x402_amount_minor": 1000,
            "x402_currency": "USDC",
            "x402_payment_auth_hash_b64u": auth,
        });
        if let Some(network) = network {
            metadata["x402_network"] = json!(network);
        }
        Some(metadata)
    };
    let full = || metadata("x402_payment_auth_hash_001", Some("base-sepolia"));
    let receipt_id = format!("gw_{run_id}");
    let bound = Some((run_id.as_str(), event_hash.as_str()));
    let wrong_run = format!("{run_id}_wrong");
    let receipts = match scenario {
        "x402_bound" => vec![gateway_receipt(&receipt_id, bound, full())],
        "x402_metadata_partial" => vec![gateway_receipt(
            &receipt_id,
            bound,
            metadata("x402_payment_auth_hash_001", None),
        )],
        "x402_missing_binding" => vec![gateway_receipt(&receipt_id, None, full())],
        "x402_binding_mismatch" => vec![gateway_receipt(
            &receipt_id,
            Some((&wrong_run, &event_hash)),
            full(),
        )],
        "x402_payment_auth_hash_invalid" => vec![gateway_receipt(
            &receipt_id,
            bound,
            metadata("***", Some("base-sepolia")),
        )],
        "x402_payment_auth_replay" => ["a", "b"]
            .iter()
            .map(|suffix| {
                gateway_receipt(
                    &format!("{run_id}_{suffix}"),
                    bound,
                    metadata("x402_replay_hash_001", Some("base-sepolia")),
                )
            })
            .collect(),
        other => panic!("no builder for scenario {other}"),
    };
    let mut payload = bundle_payload(&run_id, chain);
    payload["receipts"] = json!(receipts);
    sign_bundle(payload)
}

/// Every x402 scenario gives its status, error code and x402 reason code
/// under the service's completeness profile (where a receipt's own failure
/// does not decide the verdict), and the same status under wpc's default,
/// with the x402 reason code in the report.
#[test]
fn every_x402_scenario_gives_its_status_and_reason_code() {
    use wpc::bundle::completeness::Profile;
    let cases = cases("clawverify-x402-binding");
    assert_eq!(cases.len(), 6);
    for (id, scenario, expected) in cases {
        let bytes = x402_bundle(&id, &scenario);
        let reason = expected["x402_reason_code"].as_str().unwrap();
        for profile in [Profile::Service, Profile::Strict] {
            let options = Options {
                completeness: profile,
                ..options(UnverifiedEvidence::Fail)
            };
            let report = verify_bundle(&bytes, &options);
            let status = if report.valid { "VALID" } else { "INVALID" };
            assert_eq!(status, expected["status"], "{id} {profile:?}: {report:?}");
            let x402 = report.evidence.iter().find(|e| e.kind == "x402_payments");
            let x402 = x402.unwrap_or_else(|| panic!("{id}: {report:?}"));
            if report.valid {
                assert_eq!(reason, "X402_BOUND");
                assert_eq!(x402.status, EvidenceStatus::Verified, "{id}");
                continue;
            }
            assert_eq!(x402.status, EvidenceStatus::Unverified, "{id}");
            let failure = report
                .failures
                .iter()
                .find(|f| f.message.contains(reason))
                .unwrap_or_else(|| panic!("{id} {profile:?}: no {reason} in {report:?}"));
            assert_eq!(failure.code.as_str(), "EVIDENCE_MISMATCH", "{id}");
            if profile == Profile::Service {
                assert_eq!(
                    codes(&report)[0],
                    expected["error_code"].as_str().unwrap(),
                    "{id}: {report:?}"
                );
            }
        }
    }
}

/// One x402 payment authorization claimed in two bundles of a batch pays
/// twice: the later bundle is INVALID (`REPLAYED_PAYMENT_AUTH`, naming the
/// earlier one), as a replay within one bundle is.
#[test]
fn an_x402_payment_authorization_replayed_across_bundles_is_invalid() {
    use wpc::bundle::batch::{Entry, detect_replay};
    let options = options(UnverifiedEvidence::Fail);
    // Two runs, each valid alone, claiming the same authorization hash.
    let mut entries: Vec<Entry> = ["x402-first", "x402-second"]
        .iter()
        .map(|id| Entry {
            path: format!("{id}.json").into(),
            report: verify_bundle(&x402_bundle(id, "x402_bound"), &options),
        })
        .collect();
    assert!(entries.iter().all(|e| e.report.valid), "{entries:?}");
    detect_replay(&mut entries);
    assert!(entries[0].report.valid, "{:?}", entries[0].report);
    let second = &entries[1].report;
    assert!(!second.valid);
    assert_eq!(codes(second), ["REPLAYED_PAYMENT_AUTH"], "{second:?}");
    let failure = &second.failures[0];
    assert_eq!(
        failure.pointer,
        "/payload/receipts/0/payload/metadata/x402_payment_auth_hash_b64u"
    );
    assert!(failure.message.contains("x402-first.json"), "{failure:?}");
}

/// A bundle carrying one item of `class`, as the scenario's harness puts
/// its evidence in the bundle (schema-valid; wpc reads none of it).
fn with_evidence(id: &str, class: &str) -> Vec<u8> {
    let (run_id, chain, event_hash) = run_and_chain(id);
    let mut payload = bundle_payload(&run_id, chain);
    payload["receipts"] = json!([gateway_receipt(
        &format!("gw_{run_id}"),
        Some((&run_id, &event_hash)),
        None
    )]);
    let item = match class {
        "web_receipts" => envelope(
            "web_receipt",
            json!({
                "receipt_version": "1", "receipt_id": format!("web_{run_id}"),
                "witness_id": "witness_001", "source": "chatgpt_web",
                "request_hash_b64u": "req_hash_web_001", "response_hash_b64u": "res_hash_web_001",
                "timestamp": "2026-02-17T00:00:00Z",
            }),
        ),
        "vir_receipts" => json!({
            "receipt_version": "1", "receipt_id": format!("vir_{run_id}"), "source": "gateway",
            "provider": "openai", "model": "gpt-4.1",
            "request_hash_b64u": "req_hash_vir_001", "response_hash_b64u": "res_hash_vir_001",
            "tokens_input": 1, "tokens_output": 1, "latency_ms": 1,
            "agent_did": agent_key().did_str(), "timestamp": "2026-02-17T00:00:00Z",
        }),
        "coverage_attestations" => envelope(
            "coverage_attestation",
            json!({
                "attestation_version": "1", "attestation_id": format!("cov_{run_id}"),
                "run_id": run_id, "agent_did": agent_key().did_str(),
                "sentinel_did": gateway_key().did_str(), "issued_at": "2026-02-17T00:00:00Z",
                "binding": {"event_chain_root_hash_b64u": "chain_root_mismatch_001"},
                "metrics": {
                    "lineage": {"root_pid": 1, "processes_tracked": 1, "unmonitored_spawns": 0, "escapes_suspected": false},
                    "egress": {"connections_total": 1, "unmediated_connections": 0},
                    "liveness": {"status": "continuous", "uptime_ms": 1, "heartbeat_interval_ms": 1, "max_gap_ms": 0},
                },
            }),
        ),
        "binary_semantic_evidence_attestations" => envelope(
            "binary_semantic_evidence",
            json!({
                "evidence_version": "1", "binary_hash_b64u": "binary_hash_001",
                "binary_profile": {"target_architecture": "arm64", "linkage": "DYNAMIC", "symbols": "INTACT", "is_sip_protected": false},
                "extracted_claims": {"network_egress": "ABSENT", "dynamic_code_generation": "ABSENT"},
                "causality_metrics": {"merkle_chain_intact": false, "unattested_children_spawned": false},
                "forensic_metrics": {"static_analysis_budget_exhausted": false, "parser_timeout": false, "normalized_regions_scanned": 1},
            }),
        ),
        other => panic!("no item for class {other}"),
    };
    payload[class] = json!([item]);
    sign_bundle(payload)
}

/// A bundle carrying `class` is INVALID under `--unverified-evidence fail`
/// (`EVIDENCE_UNVERIFIED` at the class) and, under `warn`, keeps the
/// verdict of what wpc verifies while reporting the class unverified.
fn assert_fails_closed(id: &str, class: &str) {
    let bytes = with_evidence(id, class);
    let report = verify_bundle(&bytes, &options(UnverifiedEvidence::Fail));
    assert!(!report.valid, "{id}: {report:?}");
    assert_eq!(codes(&report), ["EVIDENCE_UNVERIFIED"], "{id}: {report:?}");
    assert_eq!(report.failures[0].pointer, format!("/payload/{class}"));
    let report = verify_bundle(&bytes, &options(UnverifiedEvidence::Warn));
    assert!(report.valid, "{id}: {report:?}");
    let evidence = report.evidence.iter().find(|e| e.kind == class).unwrap();
    assert_eq!(evidence.status, EvidenceStatus::Unverified, "{id}");
}

/// The firewall suite: its seven causal cases are the
/// clawverify-causal-cldd cases (same scenarios, same expectations, run in
/// bundle_conformance_full); witnessed-web, VIR and coverage-chain evidence
/// fail closed; the TEE cases hand the execution attestation to the
/// verifier beside the bundle, which wpc has no input for, so it verifies
/// the bundle alone (and never reports a TEE tier); the plain self and
/// gateway bundles are VALID, as expected.
#[test]
fn the_firewall_suite_agrees_or_fails_closed() {
    let causal: Vec<(String, Value)> = cases("clawverify-causal-cldd")
        .into_iter()
        .map(|(_, scenario, expected)| (scenario, expected))
        .collect();
    let mut tally = std::collections::BTreeMap::new();
    for (id, scenario, expected) in cases("clawverify-firewall") {
        let kind = if causal.contains(&(scenario.clone(), expected.clone())) {
            "causal (as clawverify-causal-cldd)"
        } else if scenario.contains("witnessed_web") {
            assert_fails_closed(&id, "web_receipts");
            "fails closed"
        } else if scenario.contains("_vir_") {
            assert_fails_closed(&id, "vir_receipts");
            "fails closed"
        } else if scenario.contains("coverage") {
            assert_fails_closed(&id, "coverage_attestations");
            "fails closed"
        } else if scenario.contains("tee") {
            "evidence outside the bundle"
        } else {
            assert!(["valid_self", "valid_gateway"].contains(&scenario.as_str()));
            let (run_id, chain, event_hash) = run_and_chain(&id);
            let mut payload = bundle_payload(&run_id, chain);
            if scenario == "valid_gateway" {
                payload["receipts"] = json!([gateway_receipt(
                    &format!("gw_{run_id}"),
                    Some((&run_id, &event_hash)),
                    None
                )]);
            }
            let report = verify_bundle(&sign_bundle(payload), &options(UnverifiedEvidence::Fail));
            assert!(report.valid, "{id}: {report:?}");
            assert_eq!(expected["status"], "VALID");
            "agrees"
        };
        *tally.entry(kind).or_insert(0) += 1;
    }
    let tally: Vec<(&str, i32)> = tally.into_iter().collect();
    assert_eq!(
        tally,
        [
            ("agrees", 2),
            ("causal (as clawverify-causal-cldd)", 7),
            ("evidence outside the bundle", 3),
            ("fails closed", 15),
        ]
    );
}

/// Every binary-semantic case puts its evidence in
/// `binary_semantic_evidence_attestations`, which wpc does not verify.
#[test]
fn the_binary_semantic_suite_fails_closed() {
    let cases = cases("clawverify-binary-semantic");
    assert_eq!(cases.len(), 10);
    for (id, _, _) in cases {
        assert_fails_closed(&id, "binary_semantic_evidence_attestations");
    }
}

/// The compiled-evidence fixtures are compliance reports, envelopes and
/// narratives, not bundles: wpc has no verifier for them, and none of them
/// passes as a bundle.
#[test]
fn compiled_evidence_documents_are_never_valid_bundles() {
    let dir = Path::new(DIR).join("clawcompiler-compiled-evidence");
    let manifest = read_json(&dir.join("manifest.v1.json"));
    let cases = manifest["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let bytes = std::fs::read(dir.join(case["fixture"].as_str().unwrap())).unwrap();
        let report = verify_bundle(&bytes, &options(UnverifiedEvidence::Warn));
        assert!(!report.valid, "{case}: {report:?}");
    }
}
