//! Envelopes signed and verified per second for a small policy, next to raw
//! Ed25519 sign/verify of the same 43-byte message (the payload hash), so the
//! cost of JSON, JCS and SHA-256 around the signature is visible.
//!
//! `cargo bench --bench crypto -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signer as _, SigningKey as RawKey};
use serde_json::json;
use wpc::crypto::envelope::{SignedEnvelope, WorkPolicyContract, parse_rfc3339};
use wpc::crypto::keys::SigningKey;
use wpc::crypto::verify::{Trust, verify_envelope};

/// Seed of the W3C did:key vector z6MkiTBz…; a test key.
const SEED_B64U: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

fn bench(c: &mut Criterion) {
    let Ok(key) = SigningKey::from_env_value(SEED_B64U) else {
        return;
    };
    let Ok(issued_at) = parse_rfc3339("2026-11-24T12:00:00Z") else {
        return;
    };
    let payload = json!({
        "wpc_version": "1",
        "policy_name": "read-only-researcher",
        "purpose": "Answer questions from the product documentation",
        "constraints": {
            "tool_policy": { "allow": ["docs.read", "search.*"], "deny": ["exec", "shell"] },
            "sandbox": { "required": true, "workspaceAccess": "ro", "elevated_exec": "deny" },
            "model_calls": { "route_via": "clawproxy", "receipts_required": true },
            "token": { "max_ttl_seconds": 900 }
        },
        "binding": { "cst_scope_hash_required": true }
    });
    let Ok(envelope) = SignedEnvelope::sign::<WorkPolicyContract>(payload.clone(), &key, issued_at)
    else {
        return;
    };
    let Ok(bytes) = serde_json::to_vec(&envelope) else {
        return;
    };
    let trust = Trust::only([&key.did()]);
    let message = envelope.payload_hash_b64u().as_bytes().to_vec();
    let raw = RawKey::from_bytes(&[0; 32]);
    let raw_public = raw.verifying_key();
    let raw_signature = raw.sign(&message);

    let mut group = c.benchmark_group("crypto");
    group.throughput(Throughput::Elements(1));
    group.bench_function("envelope_sign", |b| {
        b.iter(|| {
            SignedEnvelope::sign::<WorkPolicyContract>(black_box(payload.clone()), &key, issued_at)
        })
    });
    group.bench_function("envelope_verify", |b| {
        b.iter(|| verify_envelope::<WorkPolicyContract>(black_box(&bytes), &trust))
    });
    group.bench_function("raw_sign_43_bytes", |b| {
        b.iter(|| raw.sign(black_box(&message)))
    });
    group.bench_function("raw_verify_strict_43_bytes", |b| {
        b.iter(|| raw_public.verify_strict(black_box(&message), &raw_signature))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
