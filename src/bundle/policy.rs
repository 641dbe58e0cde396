//! Verify under policy: a bundle that passed the protocol checks must also
//! be a run the WPC allowed. Tool decisions come from [`crate::decide::Engine`]
//! — the one decision function — never from a copy of it.

use serde_json::Value;

use jiff::Timestamp;

use super::limits::{self, Limits};
use super::reason::{Code, Failure};
use super::{Chain, approval, gateway_binding, items, text};
use crate::crypto::trusted::TrustedApprover;
use crate::decide::reach::Models;
use crate::decide::{Basis, Call, CompileError, Engine, Verdict};
use crate::policy::mcp as wpc_mcp;
use crate::policy::model::{Requirement, Wpc};

/// Event types that record a model call, which a gateway receipt must cover
/// when the WPC requires receipts.
pub const MODEL_CALL_EVENTS: [&str; 2] = ["llm_call", "model_call"];

/// A WPC, ready to check bundles against.
#[derive(Debug)]
pub struct PolicyCheck {
    /// `policy_hash_b64u`.
    pub hash: String,
    pub wpc: Wpc,
    engine: Engine,
    models: Models,
    limits: Limits,
    /// The hash is on a revocation list.
    pub revoked: bool,
}

impl PolicyCheck {
    pub fn new(wpc: Wpc, hash: String) -> Result<PolicyCheck, PolicyCheckError> {
        let engine = Engine::new(&wpc).map_err(PolicyCheckError::Tools)?;
        let models = Models::new(&wpc).map_err(PolicyCheckError::Models)?;
        let limits = Limits::new(
            &wpc.constraints.rate_limits,
            wpc.constraints.budget.as_ref(),
        )
        .map_err(PolicyCheckError::Limits)?;
        Ok(PolicyCheck {
            hash,
            wpc,
            engine,
            models,
            limits,
            revoked: false,
        })
    }
}

/// Why a WPC cannot be made ready to check bundles against: a pattern that
/// does not compile (`wpc check` reports it; this is the fail-closed path
/// for one that was not checked).
#[derive(Debug, thiserror::Error)]
pub enum PolicyCheckError {
    #[error(transparent)]
    Tools(CompileError),
    #[error("allowed_models: {0}")]
    Models(CompileError),
    #[error("rate_limits: {0}")]
    Limits(CompileError),
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup {
    /// The WPC, `revoked` set when the release branch revokes it.
    Found(Box<PolicyCheck>),
    /// Neither released nor a working policy: why.
    Unknown(String),
}

/// Where [`super::batch::verify_under_claimed`] finds the WPC a bundle
/// claims. Implemented where repositories are read (`crate::resolve`):
/// bundle verification itself reads no repository, so a runtime can embed it
/// with a lookup of its own.
pub trait PolicyLookup {
    type Error: std::error::Error + Send + Sync + 'static;

    /// The WPC whose hash is `hash`; an error is a policy store that cannot
    /// be read or does not verify.
    fn lookup(&self, hash: &str) -> Result<Lookup, Self::Error>;
}

/// The policy hash a bundle payload claims, and where: the first gateway
/// receipt's `binding.policy_hash`, else the first tool receipt's.
pub fn claimed_hash(payload: &Value) -> Option<(String, &str)> {
    for (i, receipt) in items(payload, "receipts").iter().enumerate() {
        if let Some(hash) = gateway_binding(receipt)
            .and_then(|b| b.get("policy_hash"))
            .and_then(Value::as_str)
        {
            return Some((
                format!("/payload/receipts/{i}/payload/binding/policy_hash"),
                hash,
            ));
        }
    }
    for (i, receipt) in items(payload, "tool_receipts").iter().enumerate() {
        let (tool, at) = tool_payload(receipt, i);
        if let Some(hash) = tool
            .get("binding")
            .and_then(|b| b.get("policy_hash"))
            .and_then(Value::as_str)
        {
            return Some((format!("{at}/binding/policy_hash"), hash));
        }
    }
    None
}

/// The checks against the policy, appended to `failures`. `approvers`:
/// the keys trusted to sign human approvals; `now`: when they must not have
/// expired.
pub fn check(
    policy: &PolicyCheck,
    payload: &Value,
    chain: Option<&Chain>,
    approvers: &[TrustedApprover],
    now: Timestamp,
    failures: &mut Vec<Failure>,
) {
    let mut fail = |code, pointer: String, message: String| {
        failures.push(Failure::new(code, pointer, message));
    };
    if policy.revoked {
        fail(
            Code::PolicyRevoked,
            String::new(),
            format!("policy {} is revoked", policy.hash),
        );
    }
    let model_calls = policy.wpc.constraints.model_calls.as_ref();
    let receipts = items(payload, "receipts");

    for (i, receipt) in receipts.iter().enumerate() {
        let at = format!("/payload/receipts/{i}/payload");
        let receipt_payload = receipt.get("payload").unwrap_or(&Value::Null);
        let binding = gateway_binding(receipt);
        match binding
            .and_then(|b| b.get("policy_hash"))
            .and_then(Value::as_str)
        {
            Some(hash) if hash == policy.hash => {}
            Some(hash) => fail(
                Code::PolicyHashMismatch,
                format!("{at}/binding/policy_hash"),
                format!("bound to policy `{hash}`, not `{}`", policy.hash),
            ),
            None => fail(
                Code::PolicyHashMismatch,
                format!("{at}/binding"),
                format!("binding.policy_hash is missing; expected `{}`", policy.hash),
            ),
        }
        if let Some(hash) = receipt_payload
            .get("metadata")
            .and_then(|m| m.get("policy_hash"))
            .and_then(Value::as_str)
            && hash != policy.hash
        {
            fail(
                Code::PolicyHashMismatch,
                format!("{at}/metadata/policy_hash"),
                format!("metadata.policy_hash `{hash}` is not `{}`", policy.hash),
            );
        }
        let provider = text(receipt_payload, "provider");
        if let Some(allowed) = model_calls.and_then(|m| m.allowed_providers.as_ref())
            && !policy.models.allows_provider(provider)
        {
            fail(
                Code::ProviderNotAllowed,
                format!("{at}/provider"),
                format!(
                    "provider `{provider}` is not in allowed_providers ({})",
                    allowed
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let model = text(receipt_payload, "model");
        if !policy.models.allows_model(model) {
            fail(
                Code::ModelNotAllowed,
                format!("{at}/model"),
                format!("model `{model}` matches no allowed_models pattern"),
            );
        }
    }

    if model_calls.and_then(|m| m.receipts_required) == Some(true) {
        receipts_required(payload, chain, &mut fail);
    }
    limits::check(&policy.limits, payload, &mut fail);
    limits::check_claims(&policy.limits, payload, &mut fail);

    let approvals = Approvals {
        payload,
        run_id: chain.map(|c| c.run_id.as_str()),
        agent_did: text(payload, "agent_did"),
        policy_hash: &policy.hash,
        now,
        approvers,
    };
    for (i, receipt) in items(payload, "tool_receipts").iter().enumerate() {
        let (tool_payload, at) = tool_payload(receipt, i);
        let tool = text(tool_payload, "tool_name");
        let decision = policy
            .engine
            .decide_per_call(&tool_call(&policy.wpc, tool, tool_payload));
        match decision.verdict {
            Verdict::Allow => {}
            Verdict::Deny if matches!(decision.basis, Basis::McpToolPinMismatch { .. }) => fail(
                Code::McpToolPinMismatch,
                format!("{at}/binding/{DEFINITION_HASH}"),
                format!("not allowed: {decision}"),
            ),
            Verdict::Deny => fail(
                Code::ToolNotAllowed,
                format!("{at}/tool_name"),
                format!("not allowed: {decision}"),
            ),
            Verdict::Approval => {
                for gate in decision
                    .approvals
                    .iter()
                    .filter(|a| a.require == Requirement::HumanApproval)
                {
                    if let Err((code, message)) = approvals.satisfy(tool, &gate.approvers) {
                        fail(code, format!("{at}/tool_name"), message);
                    }
                }
            }
        }
        let binding = tool_payload.get("binding");
        if let Some(hash) = binding
            .and_then(|b| b.get("policy_hash"))
            .and_then(Value::as_str)
            && hash != policy.hash
        {
            fail(
                Code::PolicyHashMismatch,
                format!("{at}/binding/policy_hash"),
                format!("bound to policy `{hash}`, not `{}`", policy.hash),
            );
        }
    }
}

/// The key of a tool receipt's `binding` that records the definition hash
/// of the MCP tool called (docs/bundles.md#mcp-tools-rate-limits-and-budget).
pub const DEFINITION_HASH: &str = "tool_definition_hash";

/// The call a tool receipt records, as the decision function sees it under
/// `wpc` ([`recorded_call`], then [`assume_unrecorded`]).
fn tool_call(wpc: &Wpc, tool: &str, receipt: &Value) -> Call {
    assume_unrecorded(&recorded_call(tool, receipt), wpc)
}

/// The call a tool receipt records: the tool, and for an MCP tool what its
/// signed `binding` records of the call, when it does: `mcp_transport`,
/// `mcp_url` and the definition hash ([`DEFINITION_HASH`]).
pub fn recorded_call(tool: &str, receipt: &Value) -> Call {
    let mut call = Call::tool(tool);
    if !wpc_mcp::is_mcp(tool) {
        return call;
    }
    let binding = |key: &str| {
        receipt
            .get("binding")
            .and_then(|b| b.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_default()
    };
    call.mcp_transport = binding("mcp_transport");
    call.mcp_url = binding("mcp_url");
    call.definition_hash = binding(DEFINITION_HASH);
    call
}

/// A recorded MCP call with what the receipt did not record taken as `wpc`'s
/// own (the server entry's transport and URL, the tool's pin): receipts need
/// not carry them, so only what they record is compared.
pub fn assume_unrecorded(call: &Call, wpc: &Wpc) -> Call {
    let mut call = call.clone();
    let (Some(mcp), Some(name)) = (&wpc.constraints.mcp, wpc_mcp::parse(&call.tool)) else {
        return call;
    };
    let entry = mcp.server(name.server).map(|(_, e)| e);
    if call.mcp_transport.is_empty() {
        call.mcp_transport = entry
            .and_then(|e| e.transport)
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default();
    }
    if call.mcp_url.is_empty() {
        call.mcp_url = entry.and_then(|e| e.url.clone()).unwrap_or_default();
    }
    if call.definition_hash.is_empty() {
        call.definition_hash = mcp
            .pin(name.server, name.tool)
            .unwrap_or_default()
            .to_owned();
    }
    call
}

/// The payload of `tool_receipts[i]` (an envelope's, or the item itself)
/// and its pointer.
fn tool_payload(receipt: &Value, i: usize) -> (&Value, String) {
    match receipt.get("envelope_type") {
        Some(_) => (
            receipt.get("payload").unwrap_or(&Value::Null),
            format!("/payload/tool_receipts/{i}/payload"),
        ),
        None => (receipt, format!("/payload/tool_receipts/{i}")),
    }
}

/// Every model-call event has a gateway receipt bound to it.
fn receipts_required(
    payload: &Value,
    chain: Option<&Chain>,
    fail: &mut impl FnMut(Code, String, String),
) {
    let Some(chain) = chain else {
        return;
    };
    let bound: Vec<&str> = items(payload, "receipts")
        .iter()
        .filter_map(|r| gateway_binding(r)?.get("event_hash_b64u")?.as_str())
        .collect();
    for (i, event) in items(payload, "event_chain").iter().enumerate() {
        if !MODEL_CALL_EVENTS.contains(&text(event, "event_type")) {
            continue;
        }
        let hash = chain.event_hashes.get(i).map_or("", String::as_str);
        if !bound.contains(&hash) {
            fail(
                Code::ReceiptMissing,
                format!("/payload/event_chain/{i}"),
                format!(
                    "model call event `{}` has no gateway receipt bound to it (receipts_required)",
                    text(event, "event_id")
                ),
            );
        }
    }
}

/// The human approval receipts of a bundle, judged against gates.
struct Approvals<'a> {
    payload: &'a Value,
    /// The verified chain's run (none: nothing is bound to a run).
    run_id: Option<&'a str>,
    agent_did: &'a str,
    policy_hash: &'a str,
    now: Timestamp,
    approvers: &'a [TrustedApprover],
}

impl Approvals<'_> {
    /// `Ok` when an `explicit_approve` receipt bound to the run is signed
    /// by a trusted approver of the gate naming `gate_approvers`; else
    /// `APPROVAL_MISSING` (no such receipt at all) or `APPROVAL_UNTRUSTED`
    /// (each one's reason).
    fn satisfy(&self, tool: &str, gate_approvers: &[String]) -> Result<(), (Code, String)> {
        let run_id = self.run_id.unwrap_or_default();
        let gate = approval::Gate {
            approvers: gate_approvers,
            run_id,
            agent_did: self.agent_did,
            policy_hash: self.policy_hash,
            now: self.now,
        };
        let mut reasons = Vec::new();
        for (i, receipt) in items(self.payload, "human_approval_receipts")
            .iter()
            .enumerate()
        {
            if self.run_id.is_none() || !approval::claims_approval(receipt, run_id) {
                continue;
            }
            let at = format!("/payload/human_approval_receipts/{i}");
            match approval::judge(receipt, &at, &gate, self.approvers) {
                Ok(()) => return Ok(()),
                Err(reason) => reasons.push(reason.to_string()),
            }
        }
        if reasons.is_empty() {
            return Err((
                Code::ApprovalMissing,
                format!(
                    "tool `{tool}` needs a human approval, and no explicit_approve \
                     human_approval_receipt is bound to this run"
                ),
            ));
        }
        let whom = if gate_approvers.is_empty() {
            "a trusted approver".to_owned()
        } else {
            format!("an approver of {}", gate_approvers.join(", "))
        };
        Err((
            Code::ApprovalUntrusted,
            format!(
                "tool `{tool}` needs a human approval signed by {whom}: {}",
                reasons.join("; ")
            ),
        ))
    }
}

/// CST scope binding: every gateway receipt, and every tool receipt with a
/// binding, carries `binding.token_scope_hash_b64u`; all agree, and equal
/// `expected` (the token's) when given.
pub fn check_scope(payload: &Value, expected: Option<&str>, failures: &mut Vec<Failure>) {
    let mut found: Vec<(String, Option<&str>)> = Vec::new();
    for (i, receipt) in items(payload, "receipts").iter().enumerate() {
        found.push((
            format!("/payload/receipts/{i}/payload/binding/token_scope_hash_b64u"),
            gateway_binding(receipt)
                .and_then(|b| b.get("token_scope_hash_b64u"))
                .and_then(Value::as_str),
        ));
    }
    for (i, receipt) in items(payload, "tool_receipts").iter().enumerate() {
        let (tool, at) = tool_payload(receipt, i);
        if let Some(binding) = tool.get("binding") {
            found.push((
                format!("{at}/binding/token_scope_hash_b64u"),
                binding.get("token_scope_hash_b64u").and_then(Value::as_str),
            ));
        }
    }
    let mut expected: Option<String> = expected.map(str::to_owned);
    for (pointer, hash) in found {
        match (hash, &expected) {
            (None, _) => failures.push(Failure::new(
                Code::ScopeHashMismatch,
                pointer,
                "token_scope_hash_b64u is missing (CST scope binding is required)",
            )),
            (Some(hash), Some(want)) if hash != want => failures.push(Failure::new(
                Code::ScopeHashMismatch,
                pointer,
                format!("token_scope_hash_b64u `{hash}` is not `{want}`"),
            )),
            (Some(hash), None) => expected = Some(hash.to_owned()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bundle::kit::{self, Shape};

    const A: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    fn payload(shape: &Shape) -> Value {
        kit::bundle_value(shape).unwrap()["payload"].clone()
    }

    #[test]
    fn the_claimed_hash_is_the_first_gateway_binding_else_a_tool_binding() {
        let bound = Shape {
            policy_hash: Some(A.to_owned()),
            ..Shape::default()
        };
        assert_eq!(
            claimed_hash(&payload(&bound)),
            Some((
                "/payload/receipts/0/payload/binding/policy_hash".to_owned(),
                A
            ))
        );
        let tools_only = Shape {
            receipts: 0,
            ..bound
        };
        assert_eq!(
            claimed_hash(&payload(&tools_only)),
            Some(("/payload/tool_receipts/0/binding/policy_hash".to_owned(), A))
        );
        assert_eq!(claimed_hash(&payload(&Shape::default())), None);
        // Hostile shapes name nothing rather than fail.
        for hostile in [
            json!(null),
            json!({"receipts": 7}),
            json!({"receipts": [{"payload": {"binding": {"policy_hash": 1}}}]}),
            json!({"tool_receipts": [{"envelope_type": "x"}]}),
        ] {
            assert_eq!(claimed_hash(&hostile), None, "{hostile}");
        }
    }

    #[test]
    fn a_recorded_mcp_call_is_compared_only_in_what_it_records() {
        let wpc = crate::policy::testing::policy(&format!(
            "{}{}",
            crate::policy::testing::CLEAN,
            r#"
[constraints.mcp]
[[constraints.mcp.servers]]
name = "github"
transport = "stdio"
url = "gh-mcp*"
tools = ["get_issue"]
[constraints.mcp.pinned_tools]
"github/get_issue" = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
"#
        ))
        .wpc;
        let engine = Engine::new(&wpc).unwrap();
        let decide = |binding: Value| {
            let receipt = json!({ "binding": binding });
            let call = tool_call(&wpc, "mcp:github/get_issue", &receipt);
            engine.decide_per_call(&call)
        };
        assert_eq!(decide(json!({})).verdict, Verdict::Allow);
        assert_eq!(
            decide(
                json!({"mcp_transport": "stdio", "mcp_url": "gh-mcp --x", DEFINITION_HASH: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
            )
            .verdict,
            Verdict::Allow
        );
        let pin = decide(json!({ DEFINITION_HASH: "bb" }));
        assert!(
            matches!(pin.basis, Basis::McpToolPinMismatch { .. }),
            "{pin}"
        );
        let transport = decide(json!({"mcp_transport": "sse"}));
        assert!(
            matches!(transport.basis, Basis::McpServerMismatch { .. }),
            "{transport}"
        );
        // Not an MCP tool: nothing is read from the binding.
        assert_eq!(
            recorded_call("read", &json!({"binding": {"mcp_url": "x"}})),
            Call::tool("read")
        );
    }
}
