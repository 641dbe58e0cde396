//! Reason codes of bundle verification and the failure they label.
//!
//! Protocol codes are the Claw protocol's names (docs/bundles.md lists them,
//! with the reference CLI's `RECEIPT_VERIFICATION_FAILED`); the policy
//! and replay codes are wpc's own. Every failure carries a JSON pointer into
//! the bundle file (`""` is the whole document).

use std::fmt;

use serde::Serialize;

use crate::crypto::verify::{ReasonCode, VerifyFailure};

/// Why a bundle is INVALID (SCREAMING_SNAKE_CASE on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    MalformedEnvelope,
    UnknownEnvelopeVersion,
    UnknownEnvelopeType,
    UnknownAlgorithm,
    UnknownHashAlgorithm,
    HashMismatch,
    InvalidDidFormat,
    SignatureInvalid,
    ExpiredTtl,
    SchemaValidationFailed,
    ProofBundleAgentMismatch,
    ReceiptBindingMismatch,
    /// A gateway receipt envelope failed its own checks (the message names
    /// the inner code) or its signer is not a trusted gateway.
    ReceiptVerificationFailed,
    CoSignatureInvalid,
    DisclosureAlgorithmUnknown,
    DisclosureTypeMismatch,
    DisclosureRootMismatch,
    PolicyHashMismatch,
    PolicyRevoked,
    PolicyUnknown,
    ReceiptMissing,
    ProviderNotAllowed,
    ModelNotAllowed,
    ToolNotAllowed,
    ApprovalMissing,
    ScopeHashMismatch,
    ReplayedBundleId,
    ReplayedRunId,
    ReplayedReceiptId,
    ReplayedNonce,
}

impl Code {
    /// Every code, for rule tables (SARIF) and docs.
    pub const ALL: [Code; 30] = [
        Code::MalformedEnvelope,
        Code::UnknownEnvelopeVersion,
        Code::UnknownEnvelopeType,
        Code::UnknownAlgorithm,
        Code::UnknownHashAlgorithm,
        Code::HashMismatch,
        Code::InvalidDidFormat,
        Code::SignatureInvalid,
        Code::ExpiredTtl,
        Code::SchemaValidationFailed,
        Code::ProofBundleAgentMismatch,
        Code::ReceiptBindingMismatch,
        Code::ReceiptVerificationFailed,
        Code::CoSignatureInvalid,
        Code::DisclosureAlgorithmUnknown,
        Code::DisclosureTypeMismatch,
        Code::DisclosureRootMismatch,
        Code::PolicyHashMismatch,
        Code::PolicyRevoked,
        Code::PolicyUnknown,
        Code::ReceiptMissing,
        Code::ProviderNotAllowed,
        Code::ModelNotAllowed,
        Code::ToolNotAllowed,
        Code::ApprovalMissing,
        Code::ScopeHashMismatch,
        Code::ReplayedBundleId,
        Code::ReplayedRunId,
        Code::ReplayedReceiptId,
        Code::ReplayedNonce,
    ];

    /// The wire form, e.g. `HASH_MISMATCH`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MalformedEnvelope => "MALFORMED_ENVELOPE",
            Code::UnknownEnvelopeVersion => "UNKNOWN_ENVELOPE_VERSION",
            Code::UnknownEnvelopeType => "UNKNOWN_ENVELOPE_TYPE",
            Code::UnknownAlgorithm => "UNKNOWN_ALGORITHM",
            Code::UnknownHashAlgorithm => "UNKNOWN_HASH_ALGORITHM",
            Code::HashMismatch => "HASH_MISMATCH",
            Code::InvalidDidFormat => "INVALID_DID_FORMAT",
            Code::SignatureInvalid => "SIGNATURE_INVALID",
            Code::ExpiredTtl => "EXPIRED_TTL",
            Code::SchemaValidationFailed => "SCHEMA_VALIDATION_FAILED",
            Code::ProofBundleAgentMismatch => "PROOF_BUNDLE_AGENT_MISMATCH",
            Code::ReceiptBindingMismatch => "RECEIPT_BINDING_MISMATCH",
            Code::ReceiptVerificationFailed => "RECEIPT_VERIFICATION_FAILED",
            Code::CoSignatureInvalid => "CO_SIGNATURE_INVALID",
            Code::DisclosureAlgorithmUnknown => "DISCLOSURE_ALGORITHM_UNKNOWN",
            Code::DisclosureTypeMismatch => "DISCLOSURE_TYPE_MISMATCH",
            Code::DisclosureRootMismatch => "DISCLOSURE_ROOT_MISMATCH",
            Code::PolicyHashMismatch => "POLICY_HASH_MISMATCH",
            Code::PolicyRevoked => "POLICY_REVOKED",
            Code::PolicyUnknown => "POLICY_UNKNOWN",
            Code::ReceiptMissing => "RECEIPT_MISSING",
            Code::ProviderNotAllowed => "PROVIDER_NOT_ALLOWED",
            Code::ModelNotAllowed => "MODEL_NOT_ALLOWED",
            Code::ToolNotAllowed => "TOOL_NOT_ALLOWED",
            Code::ApprovalMissing => "APPROVAL_MISSING",
            Code::ScopeHashMismatch => "SCOPE_HASH_MISMATCH",
            Code::ReplayedBundleId => "REPLAYED_BUNDLE_ID",
            Code::ReplayedRunId => "REPLAYED_RUN_ID",
            Code::ReplayedReceiptId => "REPLAYED_RECEIPT_ID",
            Code::ReplayedNonce => "REPLAYED_NONCE",
        }
    }

    /// One line on what the code means.
    pub fn summary(self) -> &'static str {
        match self {
            Code::MalformedEnvelope => {
                "not JSON, too large, or fields missing, unknown or mistyped"
            }
            Code::UnknownEnvelopeVersion => {
                "envelope_version is not \"1\" (\"2\" for a tool receipt v2 envelope)"
            }
            Code::UnknownEnvelopeType => "envelope_type is not the expected type",
            Code::UnknownAlgorithm => "algorithm is not Ed25519",
            Code::UnknownHashAlgorithm => "hash_algorithm is not SHA-256",
            Code::HashMismatch => "a recomputed hash differs from the one written",
            Code::InvalidDidFormat => "a DID is not an Ed25519 did:key",
            Code::SignatureInvalid => "an Ed25519 signature does not verify",
            Code::ExpiredTtl => "the envelope's expires_at has passed",
            Code::SchemaValidationFailed => "the payload fails the Claw protocol JSON Schema",
            Code::ProofBundleAgentMismatch => {
                "a signer or receipt agent_did is not the bundle's agent"
            }
            Code::ReceiptBindingMismatch => "a receipt is not bound to this bundle's event chain",
            Code::ReceiptVerificationFailed => {
                "a gateway receipt fails its envelope checks or its signer is not trusted"
            }
            Code::CoSignatureInvalid => "a tool receipt co-signature does not verify",
            Code::DisclosureAlgorithmUnknown => {
                "a selective disclosure's algorithm is not vir_v2_typed_lexicographical"
            }
            Code::DisclosureTypeMismatch => "a disclosed value is not of its declared JSON type",
            Code::DisclosureRootMismatch => {
                "a selective disclosure's leaves do not hash to the committed hash"
            }
            Code::PolicyHashMismatch => "a receipt is bound to another policy hash",
            Code::PolicyRevoked => "the policy hash is revoked",
            Code::PolicyUnknown => {
                "the bundle names no policy hash, or one neither released nor a working policy"
            }
            Code::ReceiptMissing => "a model call event has no gateway receipt bound to it",
            Code::ProviderNotAllowed => "a receipt's provider is not allowed by the policy",
            Code::ModelNotAllowed => "a receipt's model is not allowed by the policy",
            Code::ToolNotAllowed => "a tool receipt names a tool the policy denies",
            Code::ApprovalMissing => "an approval-gated tool ran without a human approval receipt",
            Code::ScopeHashMismatch => {
                "receipts disagree with each other or with the token's scope hash"
            }
            Code::ReplayedBundleId => "the same bundle_id appears in two bundles",
            Code::ReplayedRunId => "the same run id appears in two bundles",
            Code::ReplayedReceiptId => "the same receipt_id appears twice",
            Code::ReplayedNonce => "the same binding nonce appears twice",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ReasonCode> for Code {
    fn from(code: ReasonCode) -> Code {
        match code {
            ReasonCode::MalformedEnvelope => Code::MalformedEnvelope,
            ReasonCode::UnknownEnvelopeVersion => Code::UnknownEnvelopeVersion,
            ReasonCode::UnknownEnvelopeType => Code::UnknownEnvelopeType,
            ReasonCode::UnknownHashAlgorithm => Code::UnknownHashAlgorithm,
            ReasonCode::UnknownAlgorithm => Code::UnknownAlgorithm,
            ReasonCode::HashMismatch => Code::HashMismatch,
            ReasonCode::InvalidDidFormat => Code::InvalidDidFormat,
            ReasonCode::SignatureInvalid => Code::SignatureInvalid,
            // Only gateway receipts are checked against a signer list.
            ReasonCode::SignerNotTrusted => Code::ReceiptVerificationFailed,
            ReasonCode::SchemaValidationFailed => Code::SchemaValidationFailed,
            ReasonCode::Revoked => Code::PolicyRevoked,
        }
    }
}

/// One failed check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub code: Code,
    /// RFC 6901 pointer into the bundle file.
    pub pointer: String,
    pub message: String,
}

impl Failure {
    pub fn new(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Failure {
        Failure {
            code,
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    /// An envelope failure of the envelope at `base` (a pointer), located at
    /// the field its code is about.
    pub(crate) fn from_envelope(base: &str, failure: &VerifyFailure) -> Failure {
        let pointer = match failure.code().field() {
            Some(field) => format!("{base}/{field}"),
            None => base.to_owned(),
        };
        Failure::new(failure.code().into(), pointer, failure.message())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{} at {at}: {}", self.code, self.message)
    }
}
