//! Test kit: valid signed proof bundles of any shape, and aggregates of
//! them, from deterministic keys, for tests, tamper tests, fuzzing and
//! benchmarks. Not used by the verifier itself.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::bundle::aggregate::AggregateBundle;
use crate::bundle::approval::HumanApprovalReceipt;
use crate::bundle::tool_receipt::{
    DISCLOSURE_ALGORITHM, disclosure_type, leaf_hash_b64u, root_b64u,
};
use crate::crypto::envelope::{
    GatewayReceipt, ProofBundle, SignError, SignedEnvelope, ToolReceiptV2,
};
use crate::crypto::keys::SigningKey;
use crate::crypto::stringify::event_hash_b64u;
use crate::policy::hash::{HashError, canonical_json, sha256_b64u};

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

/// The tool key the kit signs v2 tool receipt envelopes with.
pub fn tool_key() -> SigningKey {
    key(3)
}

/// The human approver key the kit signs approvals with, when
/// [`Shape::signed_approvals`] asks for it.
pub fn approver_key() -> SigningKey {
    key(4)
}

/// The key of the `i`-th co-signature of a tool receipt.
pub fn co_signer_key(i: usize) -> SigningKey {
    key(10 + (i % 200) as u8)
}

/// The roles co-signatures cycle through.
pub const CO_SIGNER_ROLES: [&str; 4] = ["auditor", "approver", "proxy", "supervisor"];

/// One leaf of a selectively disclosed tool argument or result.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// e.g. `args.query`.
    pub path: String,
    pub value: Value,
    /// Disclosed (type, value and salt shown) or redacted (only its hash).
    pub disclosed: bool,
    /// The `type` written and hashed, when it is not the value's own: a
    /// lying producer.
    pub declared_type: Option<String>,
}

impl Leaf {
    pub fn new(path: &str, value: Value, disclosed: bool) -> Leaf {
        Leaf {
            path: path.to_owned(),
            value,
            disclosed,
            declared_type: None,
        }
    }
}

/// Tool receipts in their v2 form.
#[derive(Clone, Debug)]
pub struct ToolV2 {
    /// In a v2 envelope signed by [`tool_key`]; otherwise bare v2 payloads.
    pub envelope: bool,
    /// Co-signatures of each envelope, by [`co_signer_key`]`(i)`.
    pub co_signers: usize,
    /// The leaves `args_hash_b64u` commits to (none: a plain hash and no
    /// `args_disclosure`).
    pub args: Vec<Leaf>,
    /// The same for `result_hash_b64u` and `result_disclosure`.
    pub result: Vec<Leaf>,
}

impl Default for ToolV2 {
    /// An envelope with an auditor co-signature, and args and result each
    /// with a disclosed and a redacted leaf.
    fn default() -> ToolV2 {
        ToolV2 {
            envelope: true,
            co_signers: 1,
            args: vec![
                Leaf::new("args.query", json!("select name from users"), true),
                Leaf::new("args.token", json!("s3cr3t"), false),
            ],
            result: vec![
                Leaf::new("result.rows", json!(3), true),
                Leaf::new("result.body", json!({"names": ["ada", "bob"]}), false),
            ],
        }
    }
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
    /// Approvals as `human_approval_receipt` envelopes signed by the key
    /// with this seed (e.g. [`approver_key`]'s 4); `None`: raw payloads.
    pub approval_signer: Option<u8>,
    pub provider: String,
    pub model: String,
    /// `binding.policy_hash` of every receipt.
    pub policy_hash: Option<String>,
    /// `binding.token_scope_hash_b64u` of every receipt.
    pub scope_hash: Option<String>,
    /// Tool receipts in the v2 form instead (`None`: v1 payloads).
    pub tool_v2: Option<ToolV2>,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            seq: 0,
            receipts: 2,
            tools: vec!["read_file".to_owned()],
            side_effects: 1,
            approvals: 1,
            approval_signer: None,
            provider: "anthropic".to_owned(),
            model: "claude-test".to_owned(),
            policy_hash: None,
            scope_hash: None,
            tool_v2: None,
        }
    }
}

/// The `issued_at` of the bundles and tool receipts the kit signs: after
/// every event and receipt time ([`at`] stays within the minute before).
/// Gateway receipts are each issued at their own timestamp.
pub fn issued_at() -> Timestamp {
    Timestamp::from_second(1_770_854_460).unwrap_or(Timestamp::UNIX_EPOCH)
}

const HASH: &str = "ibhRTWt5gh47v4X1fAtBRKwEKCHZir1w-de3fNfCEu8";

fn at(second: u64) -> String {
    format!("2026-02-12T00:00:{:02}.000Z", second % 60)
}

/// The instant [`at`] names.
fn instant(second: u64) -> Timestamp {
    Timestamp::from_second(1_770_854_400 + (second % 60) as i64).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The causal span of the `i`-th gateway receipt of bundle `seq`.
fn span(seq: u64, i: usize) -> String {
    format!("span_{seq}_{i}")
}

/// The signed bundle envelope as a JSON value.
pub fn bundle_value(shape: &Shape) -> Result<Value, SignError> {
    let agent = agent_key();
    let gateway = gateway_key();
    let agent_did = agent.did().as_str().to_owned();
    let run_id = format!("run_{}", shape.seq);
    let issued_at = issued_at();

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
        // One causal tree: the first call is the root, every later call
        // its child, so the graph is connected and every time and phase
        // transition is consistent.
        let mut binding = json!({
            "run_id": run_id,
            "event_hash_b64u": event["event_hash_b64u"],
            "nonce": format!("nonce_{}_{i}", shape.seq),
            "span_id": span(shape.seq, i),
            "phase": "execution",
        });
        if i > 0 {
            binding["parent_span_id"] = json!(span(shape.seq, 0));
        }
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
        // Issued when the call completed: never before its own timestamp.
        let envelope =
            SignedEnvelope::sign::<GatewayReceipt>(payload, &gateway, instant(i as u64))?;
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
        let mut tools = Vec::with_capacity(shape.tools.len());
        for (i, tool) in shape.tools.iter().enumerate() {
            let mut receipt = json!({
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
            });
            if let Some(v2) = &shape.tool_v2 {
                receipt = tool_receipt_v2(receipt, v2, &format!("{}_{i}", shape.seq))?;
            }
            tools.push(receipt);
        }
        payload["tool_receipts"] = Value::Array(tools);
    }
    // Side effects and approvals hang under a model call's span (the
    // protocol anchors them to gateway receipt spans only).
    let anchored = |i: usize| {
        let mut binding = json!({ "run_id": run_id });
        if shape.receipts > 0 {
            binding["parent_span_id"] = json!(span(shape.seq, i % shape.receipts));
        }
        binding
    };
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
                    "binding": anchored(i),
                })
            })
            .collect();
    }
    if shape.approvals > 0 {
        let mut approvals = Vec::with_capacity(shape.approvals);
        for i in 0..shape.approvals {
            let approval = json!({
                "receipt_version": "1",
                "receipt_id": format!("approval_{}_{i}", shape.seq),
                "approval_type": "explicit_approve",
                "approver_subject": "release-manager@acme.example",
                "agent_did": agent_did,
                "scope_hash_b64u": HASH,
                "hash_algorithm": "SHA-256",
                "timestamp": at(i as u64),
                "binding": anchored(i),
            });
            approvals.push(match shape.approval_signer {
                Some(seed) => serde_json::to_value(SignedEnvelope::sign::<HumanApprovalReceipt>(
                    approval,
                    &key(seed),
                    issued_at,
                )?)
                .unwrap_or_default(),
                None => approval,
            });
        }
        payload["human_approval_receipts"] = Value::Array(approvals);
    }
    let envelope = SignedEnvelope::sign::<ProofBundle>(payload, &agent, issued_at)?;
    Ok(serde_json::to_value(envelope).unwrap_or_default())
}

/// A v1 tool receipt payload turned into the v2 form of `v2`; `id` makes
/// its salts unique.
fn tool_receipt_v2(mut receipt: Value, v2: &ToolV2, id: &str) -> Result<Value, SignError> {
    let hash_error = SignError::Hash;
    receipt["receipt_version"] = json!("2");
    receipt["args_salt_b64u"] = json!(sha256_b64u(format!("args-salt:{id}").as_bytes()));
    receipt["result_salt_b64u"] = json!(sha256_b64u(format!("result-salt:{id}").as_bytes()));
    for (side, leaves) in [("args", &v2.args), ("result", &v2.result)] {
        if leaves.is_empty() {
            continue;
        }
        let (root, disclosure) = disclosure(leaves, id).map_err(hash_error)?;
        receipt[format!("{side}_hash_b64u")] = json!(root);
        receipt[format!("{side}_disclosure")] = disclosure;
    }
    if v2.envelope {
        sign_tool_receipt_v2(receipt, v2.co_signers)
    } else {
        Ok(receipt)
    }
}

/// A tool receipt v2 payload signed into a v2 envelope by [`tool_key`], with
/// `co_signers` co-signatures by [`co_signer_key`]`(i)`.
pub fn sign_tool_receipt_v2(payload: Value, co_signers: usize) -> Result<Value, SignError> {
    let envelope = SignedEnvelope::sign::<ToolReceiptV2>(payload, &tool_key(), issued_at())?;
    let co_signatures: Vec<Value> = (0..co_signers)
        .map(|i| {
            let key = co_signer_key(i);
            let signature = key.sign(envelope.payload_hash_b64u().as_bytes());
            json!({
                "signature_b64u": URL_SAFE_NO_PAD.encode(signature.to_bytes()),
                "algorithm": "Ed25519",
                "signer_did": key.did_str(),
                "issued_at": envelope.issued_at(),
                "role": CO_SIGNER_ROLES[i % CO_SIGNER_ROLES.len()],
            })
        })
        .collect();
    let mut value = serde_json::to_value(&envelope).unwrap_or_default();
    if !co_signatures.is_empty() {
        value["co_signatures"] = Value::Array(co_signatures);
    }
    Ok(value)
}

/// An attestation reference by `attester` about `subject_did`, signed as
/// the protocol signs one: over JCS of the object with `signature_b64u`
/// set to `""`.
pub fn attestation(attester: &SigningKey, subject_did: &str) -> Result<Value, SignError> {
    let mut value = json!({
        "attestation_id": "att_1",
        "attestation_type": "third_party",
        "attester_did": attester.did_str(),
        "subject_did": subject_did,
        "signature_b64u": "",
    });
    let signed = canonical_json(&value).map_err(SignError::Hash)?;
    value["signature_b64u"] = json!(URL_SAFE_NO_PAD.encode(attester.sign(&signed).to_bytes()));
    Ok(value)
}

/// The bundle envelope `bundle` with its (edited) payload signed again by
/// the agent key: for tests of what a receipt proves on its own.
pub fn resign(bundle: &Value) -> Result<Value, SignError> {
    let payload = bundle.get("payload").cloned().unwrap_or_default();
    let envelope = SignedEnvelope::sign::<ProofBundle>(payload, &agent_key(), issued_at())?;
    Ok(serde_json::to_value(envelope).unwrap_or_default())
}

/// The root of `leaves` and the disclosure that reveals the disclosed ones.
fn disclosure(leaves: &[Leaf], id: &str) -> Result<(String, Value), HashError> {
    let mut hashes = Vec::with_capacity(leaves.len());
    let mut redacted = Vec::new();
    let mut disclosed = Map::new();
    for leaf in leaves {
        let salt = sha256_b64u(format!("leaf-salt:{id}:{}", leaf.path).as_bytes());
        let body = json!({
            "type": leaf
                .declared_type
                .as_deref()
                .unwrap_or(disclosure_type(&leaf.value)),
            "value": leaf.value,
            "salt_b64u": salt,
        });
        let hash = leaf_hash_b64u(&leaf.path, &body)?;
        hashes.push(hash.clone());
        if leaf.disclosed {
            disclosed.insert(leaf.path.clone(), body);
        } else {
            redacted.push(Value::String(hash));
        }
    }
    let root = root_b64u(hashes)?;
    let disclosure = json!({
        "disclosure_algorithm": DISCLOSURE_ALGORITHM,
        "merkle_root_b64u": root,
        "redacted_leaf_hashes_b64u": redacted,
        "disclosed_leaves": disclosed,
    });
    Ok((root, disclosure))
}

/// The signed bundle envelope as pretty JSON bytes.
pub fn bundle_bytes(shape: &Shape) -> Result<Vec<u8>, SignError> {
    let value = bundle_value(shape)?;
    Ok(serde_json::to_vec_pretty(&value).unwrap_or_default())
}

/// An aggregate bundle of `members` (proof bundle envelopes or export
/// bundles), signed by `issuer` at `issued_at`, as the protocol's producer
/// makes one: members in ascending order of the SHA-256 of their JCS form,
/// the manifest listing each as `artifacts/member_bundles/<i>.json`,
/// created and expiring (30 days later) around `issued_at`, and a fleet
/// summary counting members, agents and runs, with `tier` as
/// `fleet_proof_tier`.
pub fn aggregate_value(
    members: Vec<Value>,
    issuer: &SigningKey,
    tier: &str,
    issued_at: Timestamp,
) -> Result<Value, SignError> {
    let hash = SignError::Hash;
    let mut hashed = Vec::with_capacity(members.len());
    for member in members {
        let bytes = canonical_json(&member).map_err(hash)?;
        hashed.push((sha256_b64u(&bytes), bytes.len(), member));
    }
    hashed.sort_by(|a, b| a.0.cmp(&b.0));
    let proof = |m: &Value| -> Value {
        m.pointer("/artifacts/proof_bundle_envelope")
            .unwrap_or(m)
            .get("payload")
            .cloned()
            .unwrap_or_default()
    };
    let distinct = |field: &dyn Fn(&Value) -> Value| {
        let set: std::collections::BTreeSet<String> = hashed
            .iter()
            .map(|(_, _, m)| field(&proof(m)).to_string())
            .collect();
        set.len()
    };
    let agents = distinct(&|p: &Value| p["agent_did"].clone());
    let runs = distinct(&|p: &Value| p["event_chain"][0]["run_id"].clone());
    let time = |t: Timestamp| t.to_string();
    let id = format!(
        "aggregate_{}",
        hashed
            .first()
            .map_or("", |h| h.0.get(..8).unwrap_or_default())
    );
    let entries: Vec<Value> = hashed
        .iter()
        .enumerate()
        .map(|(i, (sha, size, _))| {
            json!({
                "path": format!("artifacts/member_bundles/{i}.json"),
                "sha256_b64u": sha,
                "content_type": "application/json",
                "size_bytes": size,
            })
        })
        .collect();
    let expires_at = issued_at
        .checked_add(jiff::SignedDuration::from_hours(30 * 24))
        .map_err(|e| SignError::IssuedAt(e.to_string()))?;
    let count = hashed.len();
    let payload = json!({
        "aggregate_version": "1",
        "aggregate_id": id,
        "created_at": time(issued_at),
        "expires_at": time(expires_at),
        "issuer_did": issuer.did_str(),
        "manifest": {
            "manifest_version": "1",
            "generated_at": time(issued_at),
            "entries": entries,
        },
        "artifacts": {
            "member_bundles": hashed.into_iter().map(|(_, _, m)| m).collect::<Vec<_>>(),
        },
        "metadata": {
            "fleet_summary": {
                "total_members": count,
                "unique_agents": agents,
                "total_runs": runs,
                "fleet_proof_tier": tier,
            },
        },
    });
    let envelope = SignedEnvelope::sign::<AggregateBundle>(payload, issuer, issued_at)?;
    Ok(serde_json::to_value(envelope).unwrap_or_default())
}
