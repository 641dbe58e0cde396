//! Human approval receipts, and whether one may satisfy an approval gate
//! (docs/bundles.md, "Trusted approvers").
//!
//! The protocol's proof bundle carries approvals as raw, unsigned payloads:
//! covered by the bundle signature only, they are the agent's own claim, so
//! an agent could approve itself. wpc also reads an item of
//! `human_approval_receipts[]` that is a signed `human_approval_receipt`
//! envelope (`poh/human_approval_receipt_envelope.v1.json`), and only such
//! an envelope, signed by a key the repository trusts as an `[[approver]]`
//! of the gate's teams and not by the agent, satisfies a `human_approval`
//! gate ([`judge`]).

use jiff::Timestamp;
use serde_json::Value;

use super::reason::{Code, Failure};
use crate::claw::schema::{ClawSchema, SchemaError, validate};
use crate::crypto::did::DidKey;
use crate::crypto::envelope::{EnvelopeKind, JsonStringify, parse_rfc3339};
use crate::crypto::trusted::TrustedApprover;
use crate::crypto::verify::{Trust, verify_embedded};

/// A human approval service's signed receipt (`human_approval_receipt`,
/// `JSON.stringify` hash, as every receipt of the protocol).
#[derive(Debug, Clone, Copy)]
pub struct HumanApprovalReceipt;

impl EnvelopeKind for HumanApprovalReceipt {
    const ENVELOPE_TYPE: &'static str = "human_approval_receipt";
    type HashRule = JsonStringify;
}

/// Whether `human_approval_receipts[i]` is an envelope rather than a raw
/// payload.
pub fn is_envelope(receipt: &Value) -> bool {
    receipt.get("envelope_type").is_some()
}

/// Every schema error of a proof bundle payload. An item of
/// `human_approval_receipts` may also be a signed `human_approval_receipt`
/// envelope (wpc reads both forms, as the protocol does for tool
/// receipts): its payload is checked in place of the item, and the
/// envelope against its own schema, each error pointing into the file.
pub fn schema_errors(payload: &Value) -> Vec<SchemaError> {
    const FIELD: &str = "human_approval_receipts";
    let approvals = payload
        .get(FIELD)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let signed: Vec<usize> = (0..approvals.len())
        .filter(|&i| is_envelope(&approvals[i]))
        .collect();
    if signed.is_empty() {
        return validate(ClawSchema::ProofBundle, payload);
    }
    // Only bundles with signed approvals pay for the copy.
    let mut inline = payload.clone();
    for &i in &signed {
        if let Some(item) = inline.pointer_mut(&format!("/{FIELD}/{i}")) {
            let payload = item.get("payload").cloned().unwrap_or(Value::Null);
            *item = payload;
        }
    }
    let mut errors = validate(ClawSchema::ProofBundle, &inline);
    for error in &mut errors {
        let item = signed.iter().find_map(|i| {
            let prefix = format!("/{FIELD}/{i}");
            error
                .pointer
                .strip_prefix(&prefix)
                .filter(|rest| rest.is_empty() || rest.starts_with('/'))
                .map(|rest| format!("{prefix}/payload{rest}"))
        });
        if let Some(pointer) = item {
            error.pointer = pointer;
        }
    }
    for i in signed {
        errors.extend(
            validate(ClawSchema::HumanApprovalReceiptEnvelope, &approvals[i])
                .into_iter()
                .map(|error| SchemaError {
                    pointer: format!("/{FIELD}/{i}{}", error.pointer),
                    message: error.message,
                }),
        );
    }
    errors
}

/// The approval payload of `receipt` (found at `at`) and its pointer.
pub fn payload<'v>(receipt: &'v Value, at: &str) -> (&'v Value, String) {
    if is_envelope(receipt) {
        (
            receipt.get("payload").unwrap_or(&Value::Null),
            format!("{at}/payload"),
        )
    } else {
        (receipt, at.to_owned())
    }
}

/// The envelope checks of a signed approval at `at`: expiry, then hash and
/// signature (any signer: who signed is [`judge`]'s question). `Ok(None)`:
/// a raw payload, unsigned.
pub fn verify(receipt: &Value, at: &str, now: Timestamp) -> Result<Option<DidKey>, Failure> {
    if !is_envelope(receipt) {
        return Ok(None);
    }
    if let Some(expires_at) = receipt.get("expires_at").and_then(Value::as_str)
        && parse_rfc3339(expires_at).is_ok_and(|time| time < now)
    {
        return Err(Failure::new(
            Code::ExpiredTtl,
            format!("{at}/expires_at"),
            format!("the human approval receipt expired at {expires_at}"),
        ));
    }
    verify_embedded::<HumanApprovalReceipt>(receipt, &Trust::any_signer_unchecked())
        .map(Some)
        .map_err(|failure| Failure::from_envelope(at, &failure))
}

/// What a gate is judged against.
pub struct Gate<'a> {
    /// The gate's `approvers` (teams or names; empty: any trusted approver).
    pub approvers: &'a [String],
    /// The bundle's run, agent and policy.
    pub run_id: &'a str,
    pub agent_did: &'a str,
    pub policy_hash: &'a str,
    pub now: Timestamp,
}

/// Whether `receipt` (at `at`) is an `explicit_approve` bound to the run:
/// an approval that claims to count, trusted or not.
pub fn claims_approval(receipt: &Value, run_id: &str) -> bool {
    let (payload, _) = payload(receipt, "");
    payload.get("approval_type").and_then(Value::as_str) == Some("explicit_approve")
        && payload
            .get("binding")
            .and_then(|b| b.get("run_id"))
            .and_then(Value::as_str)
            == Some(run_id)
}

/// Why an approval claim does not satisfy a gate, for the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unaccepted {
    #[error("{at} is unsigned: only the agent's own bundle signature covers it")]
    Unsigned { at: String },
    #[error("{at} does not verify: {reason}")]
    DoesNotVerify { at: String, reason: String },
    #[error("{at} is signed by the agent itself ({signer})")]
    SelfApproved { at: String, signer: String },
    #[error(
        "{at} is signed by {signer}, which is no [[approver]] of the trusted signers{}",
        if *none_trusted {
            " (none is trusted: --trusted FILE, or the repository's keys/trusted-signers.toml)"
        } else {
            ""
        }
    )]
    Untrusted {
        at: String,
        signer: String,
        /// No approver is trusted at all.
        none_trusted: bool,
    },
    #[error(
        "{at} is signed by approver {signer} (teams: {}), who is not one of the gate's \
         approvers ({})",
        teams.join(", "),
        gate.join(", ")
    )]
    OtherTeam {
        at: String,
        signer: String,
        teams: Vec<String>,
        gate: Vec<String>,
    },
    #[error("{at}/policy_hash_b64u approves policy `{hash}`, not `{expected}`")]
    OtherPolicy {
        at: String,
        hash: String,
        expected: String,
    },
}

/// `Ok` when the approval claim `receipt` satisfies `gate`: signed, the
/// signature verifies, not by the agent, by a trusted approver serving the
/// gate, for this policy if it names one. `Err`: why not, for the report.
pub fn judge(
    receipt: &Value,
    at: &str,
    gate: &Gate<'_>,
    approvers: &[TrustedApprover],
) -> Result<(), Unaccepted> {
    let signer = match verify(receipt, at, gate.now) {
        Ok(Some(signer)) => signer,
        Ok(None) => return Err(Unaccepted::Unsigned { at: at.to_owned() }),
        Err(failure) => {
            return Err(Unaccepted::DoesNotVerify {
                at: at.to_owned(),
                reason: failure.message,
            });
        }
    };
    if signer.as_str() == gate.agent_did {
        return Err(Unaccepted::SelfApproved {
            at: at.to_owned(),
            signer: signer.as_str().to_owned(),
        });
    }
    let Some(approver) = approvers.iter().find(|a| a.did == signer) else {
        return Err(Unaccepted::Untrusted {
            at: at.to_owned(),
            signer: signer.as_str().to_owned(),
            none_trusted: approvers.is_empty(),
        });
    };
    if !approver.serves(gate.approvers) {
        return Err(Unaccepted::OtherTeam {
            at: at.to_owned(),
            signer: signer.as_str().to_owned(),
            teams: approver.teams.clone(),
            gate: gate.approvers.to_vec(),
        });
    }
    let (payload, payload_at) = payload(receipt, at);
    if let Some(hash) = payload.get("policy_hash_b64u").and_then(Value::as_str)
        && hash != gate.policy_hash
    {
        return Err(Unaccepted::OtherPolicy {
            at: payload_at,
            hash: hash.to_owned(),
            expected: gate.policy_hash.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bundle::kit;
    use crate::crypto::envelope::SignedEnvelope;

    const HASH: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    fn approval(run_id: &str) -> Value {
        json!({
            "receipt_version": "1",
            "receipt_id": "approval_1",
            "approval_type": "explicit_approve",
            "approver_subject": "ada@acme.example",
            "agent_did": kit::agent_key().did_str(),
            "scope_hash_b64u": HASH,
            "hash_algorithm": "SHA-256",
            "timestamp": "2026-02-12T00:00:00.000Z",
            "binding": {"run_id": run_id},
        })
    }

    fn signed(payload: Value, key: u8) -> Value {
        let envelope =
            SignedEnvelope::sign::<HumanApprovalReceipt>(payload, &kit::key(key), kit::issued_at())
                .unwrap();
        serde_json::to_value(envelope).unwrap()
    }

    fn approver(key: u8, teams: &[&str]) -> TrustedApprover {
        TrustedApprover {
            did: kit::key(key).did(),
            name: None,
            teams: teams.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    fn gate<'a>(approvers: &'a [String], agent_did: &'a str) -> Gate<'a> {
        Gate {
            approvers,
            run_id: "run_1",
            agent_did,
            policy_hash: HASH,
            now: kit::issued_at(),
        }
    }

    #[test]
    fn only_a_trusted_approver_of_the_gate_satisfies_it() {
        let security = ["acme/security".to_owned()];
        let agent = kit::agent_key().did_str().to_owned();
        let trusted = [
            approver(20, &["acme/security"]),
            approver(1, &["acme/security"]),
        ];
        let judge = |receipt: &Value| judge(receipt, "/r", &gate(&security, &agent), &trusted);

        assert_eq!(judge(&signed(approval("run_1"), 20)), Ok(()));
        let cases = [
            (approval("run_1"), "is unsigned"),
            // The agent's key, even when listed as an approver.
            (signed(approval("run_1"), 1), "signed by the agent itself"),
            (signed(approval("run_1"), 21), "no [[approver]]"),
        ];
        for (receipt, why) in cases {
            let err = judge(&receipt).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
        let platform = [approver(20, &["acme/platform"])];
        let err = super::judge(
            &signed(approval("run_1"), 20),
            "/r",
            &gate(&security, &agent),
            &platform,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("not one of the gate's approvers"), "{err}");

        let mut other_policy = approval("run_1");
        other_policy["policy_hash_b64u"] = json!("B".repeat(43));
        let err = judge(&signed(other_policy, 20)).unwrap_err().to_string();
        assert!(err.contains("approves policy"), "{err}");

        let mut tampered = signed(approval("run_1"), 20);
        tampered["payload"]["approval_type"] = json!("auto_approve");
        let err = judge(&tampered).unwrap_err().to_string();
        assert!(err.contains("does not verify"), "{err}");
    }

    #[test]
    fn a_claim_is_an_explicit_approve_bound_to_the_run() {
        assert!(claims_approval(&approval("run_1"), "run_1"));
        assert!(claims_approval(&signed(approval("run_1"), 20), "run_1"));
        assert!(!claims_approval(&approval("run_2"), "run_1"));
        let mut deny = approval("run_1");
        deny["approval_type"] = json!("explicit_deny");
        assert!(!claims_approval(&deny, "run_1"));
        assert!(!claims_approval(&json!("junk"), "run_1"));
    }
}
