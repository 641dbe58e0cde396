//! The Claw protocol JSON Schemas (`schema/clawsig/`, MIT), embedded and
//! registered under their `$id`s so every `$ref` resolves locally: the
//! validators are built offline and never fetch anything.

use std::sync::LazyLock;

use jsonschema::{Registry, Validator};
use serde_json::Value;

use crate::error::error_enum;

/// Every schema, by path under `schema/clawsig/`.
const SOURCES: &[(&str, &str)] = &[
    (
        "auth/scoped_token_claims.v1.json",
        include_str!("../../schema/clawsig/auth/scoped_token_claims.v1.json"),
    ),
    (
        "poh/aggregate_bundle.v1.json",
        include_str!("../../schema/clawsig/poh/aggregate_bundle.v1.json"),
    ),
    (
        "poh/aggregate_bundle_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/aggregate_bundle_envelope.v1.json"),
    ),
    (
        "poh/audit_result_attestation.v1.json",
        include_str!("../../schema/clawsig/poh/audit_result_attestation.v1.json"),
    ),
    (
        "poh/audit_result_attestation_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/audit_result_attestation_envelope.v1.json"),
    ),
    (
        "poh/binary_semantic_evidence.v1.json",
        include_str!("../../schema/clawsig/poh/binary_semantic_evidence.v1.json"),
    ),
    (
        "poh/binary_semantic_evidence_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/binary_semantic_evidence_envelope.v1.json"),
    ),
    (
        "poh/capability_request.v1.json",
        include_str!("../../schema/clawsig/poh/capability_request.v1.json"),
    ),
    (
        "poh/capability_response.v1.json",
        include_str!("../../schema/clawsig/poh/capability_response.v1.json"),
    ),
    (
        "poh/co_signature.v1.json",
        include_str!("../../schema/clawsig/poh/co_signature.v1.json"),
    ),
    (
        "poh/commit_proof.v1.json",
        include_str!("../../schema/clawsig/poh/commit_proof.v1.json"),
    ),
    (
        "poh/coverage_attestation.v1.json",
        include_str!("../../schema/clawsig/poh/coverage_attestation.v1.json"),
    ),
    (
        "poh/coverage_attestation_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/coverage_attestation_envelope.v1.json"),
    ),
    (
        "poh/delegation_receipt.v1.json",
        include_str!("../../schema/clawsig/poh/delegation_receipt.v1.json"),
    ),
    (
        "poh/delegation_receipt_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/delegation_receipt_envelope.v1.json"),
    ),
    (
        "poh/derivation_attestation.v1.json",
        include_str!("../../schema/clawsig/poh/derivation_attestation.v1.json"),
    ),
    (
        "poh/derivation_attestation_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/derivation_attestation_envelope.v1.json"),
    ),
    (
        "poh/encrypted_proof_payload.v1.json",
        include_str!("../../schema/clawsig/poh/encrypted_proof_payload.v1.json"),
    ),
    (
        "poh/event_chain.v1.json",
        include_str!("../../schema/clawsig/poh/event_chain.v1.json"),
    ),
    (
        "poh/execution_attestation.v1.json",
        include_str!("../../schema/clawsig/poh/execution_attestation.v1.json"),
    ),
    (
        "poh/execution_attestation_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/execution_attestation_envelope.v1.json"),
    ),
    (
        "poh/export_bundle.v1.json",
        include_str!("../../schema/clawsig/poh/export_bundle.v1.json"),
    ),
    (
        "poh/export_bundle_manifest.v1.json",
        include_str!("../../schema/clawsig/poh/export_bundle_manifest.v1.json"),
    ),
    (
        "poh/gateway_receipt.v1.json",
        include_str!("../../schema/clawsig/poh/gateway_receipt.v1.json"),
    ),
    (
        "poh/gateway_receipt_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/gateway_receipt_envelope.v1.json"),
    ),
    (
        "poh/human_approval_receipt.v1.json",
        include_str!("../../schema/clawsig/poh/human_approval_receipt.v1.json"),
    ),
    (
        "poh/human_approval_receipt_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/human_approval_receipt_envelope.v1.json"),
    ),
    (
        "poh/kinematic_fingerprint.v1.json",
        include_str!("../../schema/clawsig/poh/kinematic_fingerprint.v1.json"),
    ),
    (
        "poh/log_inclusion_proof.v1.json",
        include_str!("../../schema/clawsig/poh/log_inclusion_proof.v1.json"),
    ),
    (
        "poh/model_identity.v1.json",
        include_str!("../../schema/clawsig/poh/model_identity.v1.json"),
    ),
    (
        "poh/prompt_pack.v1.json",
        include_str!("../../schema/clawsig/poh/prompt_pack.v1.json"),
    ),
    (
        "poh/proof_bundle.v1.json",
        include_str!("../../schema/clawsig/poh/proof_bundle.v1.json"),
    ),
    (
        "poh/proof_bundle.v2.json",
        include_str!("../../schema/clawsig/poh/proof_bundle.v2.json"),
    ),
    (
        "poh/proof_bundle_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/proof_bundle_envelope.v1.json"),
    ),
    (
        "poh/receipt_binding.v1.json",
        include_str!("../../schema/clawsig/poh/receipt_binding.v1.json"),
    ),
    (
        "poh/selective_disclosure.v1.json",
        include_str!("../../schema/clawsig/poh/selective_disclosure.v1.json"),
    ),
    (
        "poh/sentinel_anomaly_report.v1.json",
        include_str!("../../schema/clawsig/poh/sentinel_anomaly_report.v1.json"),
    ),
    (
        "poh/side_effect_receipt.v1.json",
        include_str!("../../schema/clawsig/poh/side_effect_receipt.v1.json"),
    ),
    (
        "poh/side_effect_receipt_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/side_effect_receipt_envelope.v1.json"),
    ),
    (
        "poh/system_prompt_report.v1.json",
        include_str!("../../schema/clawsig/poh/system_prompt_report.v1.json"),
    ),
    (
        "poh/tool_receipt.v1.json",
        include_str!("../../schema/clawsig/poh/tool_receipt.v1.json"),
    ),
    (
        "poh/tool_receipt.v2.json",
        include_str!("../../schema/clawsig/poh/tool_receipt.v2.json"),
    ),
    (
        "poh/tool_receipt_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/tool_receipt_envelope.v1.json"),
    ),
    (
        "poh/tool_receipt_envelope.v2.json",
        include_str!("../../schema/clawsig/poh/tool_receipt_envelope.v2.json"),
    ),
    (
        "poh/trust_pulse.v1.json",
        include_str!("../../schema/clawsig/poh/trust_pulse.v1.json"),
    ),
    (
        "poh/urm.v1.json",
        include_str!("../../schema/clawsig/poh/urm.v1.json"),
    ),
    (
        "poh/vir.v1.json",
        include_str!("../../schema/clawsig/poh/vir.v1.json"),
    ),
    (
        "poh/vir.v2.json",
        include_str!("../../schema/clawsig/poh/vir.v2.json"),
    ),
    (
        "poh/vir_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/vir_envelope.v1.json"),
    ),
    (
        "poh/vir_envelope.v2.json",
        include_str!("../../schema/clawsig/poh/vir_envelope.v2.json"),
    ),
    (
        "poh/web_receipt.v1.json",
        include_str!("../../schema/clawsig/poh/web_receipt.v1.json"),
    ),
    (
        "poh/web_receipt_envelope.v1.json",
        include_str!("../../schema/clawsig/poh/web_receipt_envelope.v1.json"),
    ),
    (
        "policy/confidential_work_contract.v1.json",
        include_str!("../../schema/clawsig/policy/confidential_work_contract.v1.json"),
    ),
    (
        "policy/confidential_work_contract_envelope.v1.json",
        include_str!("../../schema/clawsig/policy/confidential_work_contract_envelope.v1.json"),
    ),
    (
        "policy/signed_policy_bundle.v1.json",
        include_str!("../../schema/clawsig/policy/signed_policy_bundle.v1.json"),
    ),
    (
        "policy/signed_policy_bundle_envelope.v1.json",
        include_str!("../../schema/clawsig/policy/signed_policy_bundle_envelope.v1.json"),
    ),
    (
        "policy/work_policy_contract.v1.json",
        include_str!("../../schema/clawsig/policy/work_policy_contract.v1.json"),
    ),
    (
        "policy/work_policy_contract.v2.json",
        include_str!("../../schema/clawsig/policy/work_policy_contract.v2.json"),
    ),
    (
        "policy/work_policy_contract_envelope.v1.json",
        include_str!("../../schema/clawsig/policy/work_policy_contract_envelope.v1.json"),
    ),
];

/// Schema messages can quote a whole instance; keep them readable.
const MESSAGE_LIMIT: usize = 240;
/// At most this many schema errors are reported per document.
const MAX_ERRORS: usize = 100;
/// Documents of up to this many JSON values get every schema error (up to
/// [`MAX_ERRORS`]); larger ones only the first.
const ALL_ERRORS_NODES: usize = 20_000;

/// Whether `value` has at most `max` values (stops counting past it).
fn within_nodes(value: &Value, max: usize) -> bool {
    let mut stack = vec![value];
    let mut count = 0;
    while let Some(value) = stack.pop() {
        count += 1;
        if count > max {
            return false;
        }
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    true
}

/// The documents wpc validates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClawSchema {
    /// A proof bundle payload (`poh/proof_bundle.v1.json`).
    ProofBundle,
    /// Scoped token claims (`auth/scoped_token_claims.v1.json`).
    ScopedTokenClaims,
    /// A WPC v1 payload (`policy/work_policy_contract.v1.json`).
    WpcV1,
    /// A WPC v2 payload (`policy/work_policy_contract.v2.json`).
    WpcV2,
    /// A signed human approval receipt
    /// (`poh/human_approval_receipt_envelope.v1.json`).
    HumanApprovalReceiptEnvelope,
    /// An export bundle (`poh/export_bundle.v1.json`).
    ExportBundle,
    /// An aggregate bundle envelope, members included
    /// (`poh/aggregate_bundle_envelope.v1.json`).
    AggregateBundleEnvelope,
}

impl ClawSchema {
    fn id(self) -> &'static str {
        match self {
            ClawSchema::ProofBundle => {
                "https://schemas.clawbureau.org/claw.poh.proof_bundle.v1.json"
            }
            ClawSchema::ScopedTokenClaims => {
                "https://schemas.clawbureau.org/claw.auth.scoped_token_claims.v1.json"
            }
            ClawSchema::WpcV1 => {
                "https://schemas.clawbureau.org/claw.policy.work_policy_contract.v1.json"
            }
            ClawSchema::WpcV2 => {
                "https://schemas.clawbureau.org/claw.policy.work_policy_contract.v2.json"
            }
            ClawSchema::HumanApprovalReceiptEnvelope => {
                "https://schemas.clawbureau.com/poh/human_approval_receipt_envelope.v1.json"
            }
            ClawSchema::ExportBundle => {
                "https://schemas.clawbureau.org/claw.poh.export_bundle.v1.json"
            }
            ClawSchema::AggregateBundleEnvelope => {
                "https://schemas.clawbureau.org/claw.poh.aggregate_bundle_envelope.v1.json"
            }
        }
    }

    fn validator(self) -> &'static Result<Validator, ClawSchemaBuildError> {
        static PROOF_BUNDLE: LazyLock<Result<Validator, ClawSchemaBuildError>> =
            LazyLock::new(|| build(ClawSchema::ProofBundle));
        static CLAIMS: LazyLock<Result<Validator, ClawSchemaBuildError>> =
            LazyLock::new(|| build(ClawSchema::ScopedTokenClaims));
        static WPC_V1: LazyLock<Result<Validator, ClawSchemaBuildError>> =
            LazyLock::new(|| build(ClawSchema::WpcV1));
        static WPC_V2: LazyLock<Result<Validator, ClawSchemaBuildError>> =
            LazyLock::new(|| build(ClawSchema::WpcV2));
        static APPROVAL_ENVELOPE: LazyLock<Result<Validator, ClawSchemaBuildError>> =
            LazyLock::new(|| build(ClawSchema::HumanApprovalReceiptEnvelope));
        static EXPORT_BUNDLE: LazyLock<Result<Validator, ClawSchemaBuildError>> =
            LazyLock::new(|| build(ClawSchema::ExportBundle));
        static AGGREGATE_BUNDLE: LazyLock<Result<Validator, ClawSchemaBuildError>> =
            LazyLock::new(|| build(ClawSchema::AggregateBundleEnvelope));
        match self {
            ClawSchema::ProofBundle => &PROOF_BUNDLE,
            ClawSchema::ScopedTokenClaims => &CLAIMS,
            ClawSchema::WpcV1 => &WPC_V1,
            ClawSchema::WpcV2 => &WPC_V2,
            ClawSchema::HumanApprovalReceiptEnvelope => &APPROVAL_ENVELOPE,
            ClawSchema::ExportBundle => &EXPORT_BUNDLE,
            ClawSchema::AggregateBundleEnvelope => &AGGREGATE_BUNDLE,
        }
    }
}

/// One schema error: where in the instance (a JSON pointer) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    pub pointer: String,
    pub message: String,
}

/// Every schema error of `value` (empty if valid). A schema that does not
/// build (only possible if a shipped file is broken, which a test rules out)
/// is one error at the root: fail closed.
pub fn validate(schema: ClawSchema, value: &Value) -> Vec<SchemaError> {
    match schema.validator() {
        Ok(validator) => {
            if validator.is_valid(value) {
                return Vec::new();
            }
            let error = |err: jsonschema::ValidationError<'_>| SchemaError {
                pointer: err.instance_path().as_str().to_owned(),
                message: crate::crypto::clip(&err.to_string(), MESSAGE_LIMIT),
            };
            // jsonschema collects every error before the first is returned:
            // in a large document that can be one per item of a junk array,
            // so only the first error is asked for there.
            if within_nodes(value, ALL_ERRORS_NODES) {
                validator
                    .iter_errors(value)
                    .take(MAX_ERRORS)
                    .map(error)
                    .collect()
            } else {
                validator
                    .validate(value)
                    .err()
                    .map(error)
                    .into_iter()
                    .collect()
            }
        }
        Err(err) => vec![SchemaError {
            pointer: String::new(),
            message: format!("internal error: the Claw protocol schemas do not build: {err}"),
        }],
    }
}

error_enum! {
    /// Why the shipped Claw protocol schemas do not build (a test rules it out).
    pub enum ClawSchemaBuildError {
        Registry(jsonschema::ReferencingError),
        Schema(jsonschema::ValidationError<'static>),
        #[error("{path}: {error}")]
        Json {
            path: &'static str,
            error: serde_json::Error,
        },
        #[error("{0}: no $id")]
        NoId(&'static str),
    }
}

fn build(schema: ClawSchema) -> Result<Validator, ClawSchemaBuildError> {
    let mut resources = Vec::with_capacity(SOURCES.len());
    for (path, text) in SOURCES {
        let value: Value = serde_json::from_str(text)
            .map_err(|error| ClawSchemaBuildError::Json { path, error })?;
        let id = value
            .get("$id")
            .and_then(Value::as_str)
            .ok_or(ClawSchemaBuildError::NoId(path))?
            .to_owned();
        resources.push((id, value));
    }
    let registry = Registry::new()
        .extend(resources)
        .and_then(|builder| builder.prepare())?;
    let root = serde_json::json!({ "$ref": schema.id() });
    jsonschema::draft202012::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&root)
        .map_err(ClawSchemaBuildError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_builds_offline() {
        for schema in [
            ClawSchema::ProofBundle,
            ClawSchema::ScopedTokenClaims,
            ClawSchema::WpcV1,
            ClawSchema::WpcV2,
            ClawSchema::HumanApprovalReceiptEnvelope,
            ClawSchema::ExportBundle,
            ClawSchema::AggregateBundleEnvelope,
        ] {
            assert!(
                schema.validator().is_ok(),
                "{schema:?}: {:?}",
                schema.validator().as_ref().err()
            );
        }
    }

    #[test]
    fn errors_carry_pointers() {
        let errors = validate(
            ClawSchema::ProofBundle,
            &serde_json::json!({"bundle_version": "1", "bundle_id": "b", "agent_did": "did:key:z", "event_chain": []}),
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].pointer, "/event_chain");
    }
}
