//! wpc against other Ed25519 implementations: Python `cryptography` and
//! OpenSSL (fixtures and notes in tests/fixtures/crypto/).

// Test helpers outside #[test] functions unwrap too: a panic is a failed test.
#![allow(clippy::print_stderr, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ed25519_dalek::pkcs8::EncodePublicKey as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use wpc::crypto::envelope::{SignedEnvelope, WorkPolicyContract, parse_rfc3339};
use wpc::crypto::keys::SigningKey;
use wpc::crypto::verify::{Trust, verify_envelope};
use wpc::policy::hash::policy_hash_b64u;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crypto")
        .join(name)
}

fn test_key() -> SigningKey {
    SigningKey::from_file(&fixture("test-only-openssl-ed25519.pem")).unwrap()
}

#[test]
fn openssl_pem_key_loads() {
    let key = test_key();
    assert!(key.did().as_str().starts_with("did:key:z6Mk"));
}

#[test]
fn verifies_an_envelope_made_by_python_cryptography() {
    let bytes = std::fs::read(fixture("python-envelope.json")).unwrap();
    let signer = test_key().did();
    let verified = verify_envelope::<WorkPolicyContract>(&bytes, &Trust::only([&signer])).unwrap();
    // Python's sorted-keys JSON and wpc's JCS agree on this payload.
    assert_eq!(
        verified.payload_hash_b64u(),
        policy_hash_b64u(verified.payload()).unwrap()
    );
    assert_eq!(verified.payload()["policy_name"], "cross-implementation");
}

#[test]
fn openssl_verifies_what_wpc_signs() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("note: `openssl` is not on PATH; skipping the OpenSSL cross-check");
        return;
    }
    let key = test_key();
    let issued_at = parse_rfc3339("2026-11-24T12:00:00Z").unwrap();
    let payload = serde_json::json!({ "wpc_version": "1", "policy_name": "openssl-check" });
    let envelope = SignedEnvelope::sign::<WorkPolicyContract>(payload, &key, issued_at).unwrap();
    let json = serde_json::to_value(&envelope).unwrap();
    let signature = base64_url_decode(json["signature_b64u"].as_str().unwrap());

    let dir = tempfile::tempdir().unwrap();
    let message = dir.path().join("message");
    let sig = dir.path().join("sig");
    let public = dir.path().join("public.pem");
    std::fs::write(&message, envelope.payload_hash_b64u()).unwrap();
    std::fs::write(&sig, &signature).unwrap();
    std::fs::write(
        &public,
        key.verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
    )
    .unwrap();

    let verify = |message: &Path| {
        Command::new("openssl")
            .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
            .arg(&public)
            .arg("-rawin")
            .arg("-in")
            .arg(message)
            .arg("-sigfile")
            .arg(&sig)
            .output()
            .unwrap()
    };
    let out = verify(&message);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"));

    let tampered = dir.path().join("tampered");
    let mut other = envelope.payload_hash_b64u().as_bytes().to_vec();
    other[0] ^= 1;
    std::fs::write(&tampered, other).unwrap();
    assert!(!verify(&tampered).status.success());

    // Ed25519 is deterministic: OpenSSL signing with the same key gives the
    // same bytes.
    let out = Command::new("openssl")
        .args(["pkeyutl", "-sign", "-inkey"])
        .arg(fixture("test-only-openssl-ed25519.pem"))
        .arg("-rawin")
        .arg("-in")
        .arg(&message)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, signature);
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}
