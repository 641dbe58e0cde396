//! Signed envelopes: sign, verify, and every way of tampering with one.

// Test helpers outside #[test] functions unwrap too: a panic is a failed test.
#![allow(clippy::unwrap_used)]

use serde_json::{Map, Value, json};
use wpc::crypto::did::DidKey;
use wpc::crypto::envelope::{EnvelopeKind, Jcs, SignedEnvelope, WorkPolicyContract, parse_rfc3339};
use wpc::crypto::keys::SigningKey;
use wpc::crypto::verify::{MAX_ENVELOPE_BYTES, ReasonCode, Trust, VerifyFailure, verify_envelope};
use wpc::policy::hash::policy_hash_b64u;

/// Seeds 1 and 2 of the W3C did:key vectors; test keys only.
const SEED_1: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE";
const SEED_2: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAI";

fn key(seed: &str) -> SigningKey {
    SigningKey::from_env_value(seed).unwrap()
}

fn payload() -> Value {
    json!({
        "wpc_version": "1",
        "policy_name": "read-only-researcher",
        "purpose": "Answer questions from the docs",
        "constraints": {
            "tool_policy": { "allow": ["docs.read", "search.*"], "deny": ["exec"] },
            "sandbox": { "required": true, "workspaceAccess": "ro", "elevated_exec": "deny" }
        },
        "binding": { "cst_scope_hash_required": true }
    })
}

fn signed() -> Map<String, Value> {
    let issued_at = parse_rfc3339("2026-11-24T12:00:00Z").unwrap();
    let envelope =
        SignedEnvelope::sign::<WorkPolicyContract>(payload(), &key(SEED_1), issued_at).unwrap();
    match serde_json::to_value(&envelope).unwrap() {
        Value::Object(map) => map,
        other => panic!("{other}"),
    }
}

fn verify(envelope: &Map<String, Value>) -> Result<(), VerifyFailure> {
    let bytes = serde_json::to_vec(envelope).unwrap();
    verify_envelope::<WorkPolicyContract>(&bytes, &Trust::any_signer_unchecked()).map(|_| ())
}

fn code(result: Result<(), VerifyFailure>) -> Option<ReasonCode> {
    result.err().map(|failure| failure.code())
}

#[test]
fn signs_and_verifies() {
    let envelope = signed();
    let keys: Vec<&str> = envelope.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "envelope_version",
            "envelope_type",
            "payload",
            "payload_hash_b64u",
            "hash_algorithm",
            "signature_b64u",
            "algorithm",
            "signer_did",
            "issued_at"
        ]
    );
    assert_eq!(envelope["issued_at"], "2026-11-24T12:00:00Z");
    assert_eq!(envelope["envelope_type"], "work_policy_contract");
    assert_eq!(
        envelope["payload_hash_b64u"],
        policy_hash_b64u(&payload()).unwrap()
    );
    assert_eq!(envelope["signature_b64u"].as_str().unwrap().len(), 86);

    let signer = key(SEED_1).did();
    let bytes = serde_json::to_vec_pretty(&envelope).unwrap();
    let verified = verify_envelope::<WorkPolicyContract>(&bytes, &Trust::only([&signer])).unwrap();
    assert_eq!(verified.payload(), &payload());
    assert_eq!(verified.payload_hash_b64u(), envelope["payload_hash_b64u"]);
    assert_eq!(verified.signer(), &signer);
    assert_eq!(verified.issued_at(), "2026-11-24T12:00:00Z");
    assert_eq!(verified.expires_at(), None);
}

#[test]
fn signing_is_deterministic() {
    assert_eq!(signed(), signed());
}

type Tamper = fn(&mut Map<String, Value>);

fn set(envelope: &mut Map<String, Value>, field: &str, value: Value) {
    envelope.insert(field.to_owned(), value);
}

fn flip_char(text: &str, at: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[test]
fn every_tampering_is_rejected_with_its_reason() {
    use ReasonCode::*;
    let cases: Vec<(&str, Tamper, Option<ReasonCode>)> = vec![
        ("untouched", |_| {}, None),
        // envelope_version
        (
            "version changed",
            |e| set(e, "envelope_version", json!("2")),
            Some(UnknownEnvelopeVersion),
        ),
        (
            "version a number",
            |e| set(e, "envelope_version", json!(1)),
            Some(MalformedEnvelope),
        ),
        (
            "version removed",
            |e| {
                e.remove("envelope_version");
            },
            Some(MalformedEnvelope),
        ),
        // envelope_type
        (
            "type changed",
            |e| set(e, "envelope_type", json!("gateway_receipt")),
            Some(UnknownEnvelopeType),
        ),
        (
            "type null",
            |e| set(e, "envelope_type", Value::Null),
            Some(MalformedEnvelope),
        ),
        (
            "type removed",
            |e| {
                e.remove("envelope_type");
            },
            Some(MalformedEnvelope),
        ),
        // payload
        (
            "payload value flipped",
            |e| e["payload"]["constraints"]["sandbox"]["required"] = json!(false),
            Some(HashMismatch),
        ),
        (
            "payload key added",
            |e| e["payload"]["metadata"] = json!({}),
            Some(HashMismatch),
        ),
        (
            "payload key removed",
            |e| {
                e["payload"].as_object_mut().unwrap().remove("purpose");
            },
            Some(HashMismatch),
        ),
        (
            "payload an array",
            |e| set(e, "payload", json!([])),
            Some(MalformedEnvelope),
        ),
        (
            "payload a string",
            |e| set(e, "payload", json!("{}")),
            Some(MalformedEnvelope),
        ),
        (
            "payload removed",
            |e| {
                e.remove("payload");
            },
            Some(MalformedEnvelope),
        ),
        // payload and hash changed together: only the signature notices
        (
            "payload re-hashed",
            |e| {
                e["payload"]["purpose"] = json!("Exfiltrate");
                let hash = policy_hash_b64u(&e["payload"]).unwrap();
                set(e, "payload_hash_b64u", json!(hash));
            },
            Some(SignatureInvalid),
        ),
        // payload_hash_b64u
        (
            "hash changed",
            |e| {
                let hash = e["payload_hash_b64u"].as_str().unwrap();
                let flipped = flip_char(hash, 5);
                set(e, "payload_hash_b64u", json!(flipped));
            },
            Some(HashMismatch),
        ),
        (
            "hash padded",
            |e| {
                let hash = format!("{}=", e["payload_hash_b64u"].as_str().unwrap());
                set(e, "payload_hash_b64u", json!(hash));
            },
            Some(MalformedEnvelope),
        ),
        (
            "hash empty",
            |e| set(e, "payload_hash_b64u", json!("")),
            Some(MalformedEnvelope),
        ),
        (
            "hash removed",
            |e| {
                e.remove("payload_hash_b64u");
            },
            Some(MalformedEnvelope),
        ),
        // hash_algorithm
        (
            "hash algorithm BLAKE3",
            |e| set(e, "hash_algorithm", json!("BLAKE3")),
            Some(UnknownHashAlgorithm),
        ),
        (
            "hash algorithm lower case",
            |e| set(e, "hash_algorithm", json!("sha-256")),
            Some(UnknownHashAlgorithm),
        ),
        (
            "hash algorithm removed",
            |e| {
                e.remove("hash_algorithm");
            },
            Some(MalformedEnvelope),
        ),
        // signature_b64u
        (
            "signature flipped",
            |e| {
                let sig = flip_char(e["signature_b64u"].as_str().unwrap(), 10);
                set(e, "signature_b64u", json!(sig));
            },
            Some(SignatureInvalid),
        ),
        (
            "signature truncated",
            |e| {
                let sig = e["signature_b64u"].as_str().unwrap()[..80].to_owned();
                set(e, "signature_b64u", json!(sig));
            },
            Some(SignatureInvalid),
        ),
        (
            "signature length 1 mod 4",
            |e| {
                let sig = e["signature_b64u"].as_str().unwrap()[..85].to_owned();
                set(e, "signature_b64u", json!(sig));
            },
            Some(SignatureInvalid),
        ),
        (
            "signature standard base64",
            |e| {
                let sig = format!("{}+", &e["signature_b64u"].as_str().unwrap()[..85]);
                set(e, "signature_b64u", json!(sig));
            },
            Some(MalformedEnvelope),
        ),
        (
            "signature removed",
            |e| {
                e.remove("signature_b64u");
            },
            Some(MalformedEnvelope),
        ),
        // algorithm
        (
            "algorithm EdDSA",
            |e| set(e, "algorithm", json!("EdDSA")),
            Some(UnknownAlgorithm),
        ),
        (
            "algorithm removed",
            |e| {
                e.remove("algorithm");
            },
            Some(MalformedEnvelope),
        ),
        // signer_did
        (
            "signer another key",
            |e| set(e, "signer_did", json!(key(SEED_2).did().as_str())),
            Some(SignatureInvalid),
        ),
        (
            "signer did:web",
            |e| set(e, "signer_did", json!("did:web:example.com")),
            Some(InvalidDidFormat),
        ),
        (
            "signer bad base58",
            |e| set(e, "signer_did", json!("did:key:z6Mk0000")),
            Some(InvalidDidFormat),
        ),
        (
            "signer removed",
            |e| {
                e.remove("signer_did");
            },
            Some(MalformedEnvelope),
        ),
        // issued_at: validated, but not covered by the signature
        (
            "issued_at changed",
            |e| set(e, "issued_at", json!("2030-01-01T00:00:00Z")),
            None,
        ),
        (
            "issued_at not RFC 3339",
            |e| set(e, "issued_at", json!("24 Nov 2026")),
            Some(MalformedEnvelope),
        ),
        (
            "issued_at removed",
            |e| {
                e.remove("issued_at");
            },
            Some(MalformedEnvelope),
        ),
        // expires_at: optional, same rules
        (
            "expires_at added",
            |e| set(e, "expires_at", json!("2027-11-24T12:00:00Z")),
            None,
        ),
        (
            "expires_at not RFC 3339",
            |e| set(e, "expires_at", json!("soon")),
            Some(MalformedEnvelope),
        ),
        (
            "expires_at a number",
            |e| set(e, "expires_at", json!(1_800_000_000)),
            Some(MalformedEnvelope),
        ),
        // anything else
        (
            "unknown field added",
            |e| set(e, "note", json!("hi")),
            Some(MalformedEnvelope),
        ),
        (
            "signature field misspelt",
            |e| {
                let sig = e.remove("signature_b64u").unwrap();
                set(e, "signature", sig);
            },
            Some(MalformedEnvelope),
        ),
    ];
    let mut wrong = Vec::new();
    for (name, tamper, expected) in cases {
        let mut envelope = signed();
        tamper(&mut envelope);
        let result = verify(&envelope);
        if code(result.clone()) != expected {
            wrong.push(format!("{name}: expected {expected:?}, got {result:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn messages_name_the_field() {
    let mut envelope = signed();
    envelope.remove("algorithm");
    assert_eq!(
        verify(&envelope).unwrap_err().message(),
        "missing field `algorithm`"
    );

    let mut envelope = signed();
    set(&mut envelope, "extra", json!(1));
    assert_eq!(
        verify(&envelope).unwrap_err().message(),
        "unknown field `extra`"
    );

    let mut envelope = signed();
    set(&mut envelope, "signer_did", json!(5));
    assert_eq!(
        verify(&envelope).unwrap_err().message(),
        "field `signer_did` must be a string, not a number"
    );

    let mut envelope = signed();
    set(&mut envelope, "envelope_type", json!("proof_bundle"));
    let failure = verify(&envelope).unwrap_err();
    assert_eq!(
        failure.to_string(),
        "UNKNOWN_ENVELOPE_TYPE: field `envelope_type` is `proof_bundle`; expected `work_policy_contract`"
    );
    assert_eq!(
        serde_json::to_value(&failure).unwrap(),
        json!({"code": "UNKNOWN_ENVELOPE_TYPE", "message": failure.message()})
    );
}

#[test]
fn signer_must_be_trusted() {
    let bytes = serde_json::to_vec(&signed()).unwrap();
    let other = key(SEED_2).did();
    let signer = key(SEED_1).did();
    for (trust, ok) in [
        (Trust::only([&signer]), true),
        (Trust::only([&other, &signer]), true),
        (Trust::only([&other]), false),
        (Trust::only(std::iter::empty::<&DidKey>()), false),
    ] {
        let result = verify_envelope::<WorkPolicyContract>(&bytes, &trust);
        match result {
            Ok(_) => assert!(ok),
            Err(failure) => {
                assert!(!ok, "{failure}");
                assert_eq!(failure.code(), ReasonCode::SignerNotTrusted);
                assert!(failure.message().contains(signer.as_str()), "{failure}");
            }
        }
    }
}

#[test]
fn hostile_json_is_malformed_not_a_crash() {
    let envelope = serde_json::to_string(&signed()).unwrap();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_payload =
        envelope.replacen("\"payload\":{", &format!("\"payload\":{{\"x\":{deep},"), 1);
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("not JSON", b"hello".to_vec()),
        ("not UTF-8", vec![0xff, 0xfe, b'{', b'}']),
        ("array", b"[]".to_vec()),
        ("trailing data", format!("{envelope} {{}}").into_bytes()),
        (
            "duplicate top-level key",
            envelope
                .replacen('{', "{\"algorithm\":\"Ed25519\",", 1)
                .into_bytes(),
        ),
        (
            "duplicate payload key",
            envelope
                .replacen("\"payload\":{", "\"payload\":{\"purpose\":\"x\",", 1)
                .into_bytes(),
        ),
        ("deep nesting", deep.into_bytes()),
        ("deep nesting in payload", deep_payload.into_bytes()),
        ("over the size limit", vec![b' '; MAX_ENVELOPE_BYTES + 1]),
    ];
    for (name, bytes) in inputs {
        let failure = verify_envelope::<WorkPolicyContract>(&bytes, &Trust::any_signer_unchecked())
            .unwrap_err();
        assert_eq!(
            failure.code(),
            ReasonCode::MalformedEnvelope,
            "{name}: {failure}"
        );
    }
    // Whitespace around a valid envelope is fine.
    let padded = format!("\n  {envelope}\n");
    verify_envelope::<WorkPolicyContract>(padded.as_bytes(), &Trust::any_signer_unchecked())
        .unwrap();
}

/// A second kind, as the proof-bundle verifier will define them: the same
/// checks apply, and a WPC envelope is the wrong type for it.
struct OtherKind;

impl EnvelopeKind for OtherKind {
    const ENVELOPE_TYPE: &'static str = "policy_bundle";
    type HashRule = Jcs;
}

#[test]
fn kinds_do_not_cross() {
    let issued_at = parse_rfc3339("2026-11-24T12:00:00Z").unwrap();
    let other = SignedEnvelope::sign::<OtherKind>(payload(), &key(SEED_1), issued_at).unwrap();
    let bytes = serde_json::to_vec(&other).unwrap();
    let trust = Trust::any_signer_unchecked();
    verify_envelope::<OtherKind>(&bytes, &trust).unwrap();
    assert_eq!(
        verify_envelope::<WorkPolicyContract>(&bytes, &trust)
            .unwrap_err()
            .code(),
        ReasonCode::UnknownEnvelopeType
    );
}

#[test]
fn reason_codes_serialize_screaming_snake_case() {
    for code in [
        ReasonCode::MalformedEnvelope,
        ReasonCode::UnknownEnvelopeVersion,
        ReasonCode::UnknownEnvelopeType,
        ReasonCode::UnknownHashAlgorithm,
        ReasonCode::UnknownAlgorithm,
        ReasonCode::HashMismatch,
        ReasonCode::InvalidDidFormat,
        ReasonCode::SignatureInvalid,
        ReasonCode::SignerNotTrusted,
        ReasonCode::SchemaValidationFailed,
    ] {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
    }
}
