//! Test kit: valid signed proof bundles of any shape, from deterministic
//! keys, for tests, tamper tests, fuzzing and benchmarks. Not used by the
//! verifier itself.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::crypto::envelope::{GatewayReceipt, ProofBundle, SignError, SignedEnvelope};
use crate::crypto::keys::SigningKey;
use crate::crypto::stringify::event_hash_b64u;

/// The key with seed `[n; 32]`.
pub fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(&[n; 32])
}

/// The agent key the kit signs bundles with.
pub fn agent_key() -> SigningKey {
    key(1)
}

/// The gateway key the kit signs receipts with.
pub fn gateway_key() -> SigningKey {
    key(2)
}

/// What to put in a bundle.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Distinguishes bundles: ids, run id and nonces contain it.
    pub seq: u64,
    /// Model-call events, each with a gateway receipt bound to it.
    pub receipts: usize,
    /// Tool receipts (v1 payloads), cycling through `tools`.
    pub tools: Vec<String>,
    pub side_effects: usize,
    /// `explicit_approve` human approvals bound to the run.
    pub approvals: usize,
    pub provider: String,
    pub model: String,
    /// `binding.policy_hash` of every receipt.
    pub policy_hash: Option<String>,
    /// `binding.token_scope_hash_b64u` of every receipt.
    pub scope_hash: Option<String>,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            seq: 0,
            receipts: 2,
            tools: vec!["read_file".to_owned()],
            side_effects: 1,
            approvals: 1,
            provider: "anthropic".to_owned(),
            model: "claude-test".to_owned(),
            policy_hash: None,
            scope_hash: None,
        }
    }
}

const HASH: &str = "ibhRTWt5gh47v4X1fAtBRKwEKCHZir1w-de3fNfCEu8";

fn at(second: u64) -> String {
    format!("2026-02-12T00:00:{:02}.000Z", second % 60)
}

/// The signed bundle envelope as a JSON value.
pub fn bundle_value(shape: &Shape) -> Result<Value, SignError> {
    let agent = agent_key();
    let gateway = gateway_key();
    let agent_did = agent.did().as_str().to_owned();
    let run_id = format!("run_{}", shape.seq);
    let issued_at = Timestamp::from_second(1_770_854_400).unwrap_or(Timestamp::UNIX_EPOCH);

    let mut events = Vec::new();
    let mut prev = Value::Null;
    for i in 0..shape.receipts.max(1) {
        let mut event = json!({
            "event_id": format!("evt_{}_{i}", shape.seq),
            "run_id": run_id,
            "event_type": "llm_call",
            "timestamp": at(i as u64),
            "payload_hash_b64u": HASH,
            "prev_hash_b64u": prev,
        });
        let hash = event.as_object().map(event_hash_b64u).unwrap_or_default();
        if let Some(object) = event.as_object_mut() {
            object.insert("event_hash_b64u".to_owned(), Value::String(hash.clone()));
        }
        prev = Value::String(hash);
        events.push(event);
    }

    // What every receipt's binding says about the run, policy and token.
    let mut run_binding = json!({ "run_id": run_id });
    if let Some(hash) = &shape.policy_hash {
        run_binding["policy_hash"] = json!(hash);
    }
    if let Some(hash) = &shape.scope_hash {
        run_binding["token_scope_hash_b64u"] = json!(hash);
    }
    let mut receipts = Vec::new();
    for (i, event) in events.iter().enumerate().take(shape.receipts) {
        let mut binding = json!({
            "run_id": run_id,
            "event_hash_b64u": event["event_hash_b64u"],
            "nonce": format!("nonce_{}_{i}", shape.seq),
        });
        if let Some(hash) = &shape.policy_hash {
            binding["policy_hash"] = json!(hash);
        }
        if let Some(hash) = &shape.scope_hash {
            binding["token_scope_hash_b64u"] = json!(hash);
        }
        let payload = json!({
            "receipt_version": "1",
            "receipt_id": format!("rcpt_{}_{i}", shape.seq),
            "gateway_id": "gw_kit",
            "provider": shape.provider,
            "model": shape.model,
            "request_hash_b64u": HASH,
            "response_hash_b64u": HASH,
            "tokens_input": 10 + i,
            "tokens_output": 20,
            "latency_ms": 123,
            "timestamp": at(i as u64),
            "binding": binding,
        });
        let envelope = SignedEnvelope::sign::<GatewayReceipt>(payload, &gateway, issued_at)?;
        receipts.push(serde_json::to_value(envelope).unwrap_or_default());
    }

    let mut payload = json!({
        "bundle_version": "1",
        "bundle_id": format!("bundle_{}", shape.seq),
        "agent_did": agent_did,
        "event_chain": events,
    });
    if !receipts.is_empty() {
        payload["receipts"] = Value::Array(receipts);
    }
    if !shape.tools.is_empty() {
        let tools: Vec<Value> = shape
            .tools
            .iter()
            .enumerate()
            .map(|(i, tool)| {
                json!({
                    "receipt_version": "1",
                    "receipt_id": format!("tool_{}_{i}", shape.seq),
                    "tool_name": tool,
                    "args_hash_b64u": HASH,
                    "result_hash_b64u": HASH,
                    "hash_algorithm": "SHA-256",
                    "agent_did": agent_did,
                    "timestamp": at(i as u64),
                    "latency_ms": 5,
                    "binding": run_binding,
                })
            })
            .collect();
        payload["tool_receipts"] = Value::Array(tools);
    }
    if shape.side_effects > 0 {
        payload["side_effect_receipts"] = (0..shape.side_effects)
            .map(|i| {
                json!({
                    "receipt_version": "1",
                    "receipt_id": format!("fx_{}_{i}", shape.seq),
                    "effect_class": "network_egress",
                    "hash_algorithm": "SHA-256",
                    "agent_did": agent_did,
                    "timestamp": at(i as u64),
                    "binding": { "run_id": run_id },
                })
            })
            .collect();
    }
    if shape.approvals > 0 {
        payload["human_approval_receipts"] = (0..shape.approvals)
            .map(|i| {
                json!({
                    "receipt_version": "1",
                    "receipt_id": format!("approval_{}_{i}", shape.seq),
                    "approval_type": "explicit_approve",
                    "agent_did": agent_did,
                    "timestamp": at(i as u64),
                    "binding": { "run_id": run_id },
                })
            })
            .collect();
    }
    let envelope = SignedEnvelope::sign::<ProofBundle>(payload, &agent, issued_at)?;
    Ok(serde_json::to_value(envelope).unwrap_or_default())
}

/// The signed bundle envelope as pretty JSON bytes.
pub fn bundle_bytes(shape: &Shape) -> Result<Vec<u8>, SignError> {
    let value = bundle_value(shape)?;
    Ok(serde_json::to_vec_pretty(&value).unwrap_or_default())
}
