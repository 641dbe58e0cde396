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
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
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
    /// A tool receipt records a definition hash other than the WPC's pin.
    McpToolPinMismatch,
    /// The receipts exceed a line of the WPC's `[constraints.budget]`.
    BudgetExceeded,
    ApprovalMissing,
    /// Human approval receipts are bound to the run, but none is signed by
    /// a trusted approver of the gate (unsigned, signed by the agent, or by
    /// a key that is not an `[[approver]]` of the gate's teams).
    ApprovalUntrusted,
    ScopeHashMismatch,
    CausalPolicyProfileInvalid,
    CausalPolicyProfileDowngrade,
    CausalBindingNormalizationFailed,
    CausalBindingFieldConflict,
    CausalReceiptReplayDetected,
    CausalClockContradiction,
    CausalPhaseInvalid,
    CausalConfidenceOutOfRange,
    CausalReferenceDangling,
    CausalSpanReuseConflict,
    CausalPhaseTransitionInvalid,
    CausalCycleDetected,
    CausalConfidenceEvidenceInconsistent,
    CausalGraphDisconnected,
    CausalSideEffectOrphaned,
    CausalHumanApprovalOrphaned,
    CoverageClddDiscrepancyEnforced,
    RateLimitClaimInconsistent,
    RateLimitWindowInvalid,
    RateLimitExceeded,
    /// Evidence wpc does not verify, under `--unverified-evidence fail`.
    EvidenceUnverified,
    /// The bundle's completeness is INCONSISTENT: receipts it cannot be, or
    /// is not, bound to.
    EvidenceMismatch,
    /// An export or aggregate bundle issued after the verification time (beyond 5
    /// minutes of clock skew).
    FutureTimestampPoisoning,
    /// An export manifest lists other artifacts than the bundle carries.
    MissingRequiredField,
    AggregateSignerMismatch,
    UnsortedMemberArray,
    AggregateDuplicateMember,
    AggregateBundleInvalid,
    InconsistentRunId,
    AggregateMemberInvalid,
    CausalAggregateMemberConflict,
    CausalAggregateReceiptReplay,
    IdentityConflict,
    AggregateTtlExceedsMember,
    AggregateDuplicateBundleId,
    AggregateDuplicateRunId,
    FleetSummaryMismatch,
    ReplayedBundleId,
    ReplayedRunId,
    ReplayedReceiptId,
    ReplayedNonce,
    ReplayedPaymentAuth,
}

impl Code {
    /// Every code, for rule tables (SARIF) and docs.
    pub const ALL: [Code; 71] = [
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
        Code::McpToolPinMismatch,
        Code::BudgetExceeded,
        Code::ApprovalMissing,
        Code::ApprovalUntrusted,
        Code::ScopeHashMismatch,
        Code::CausalPolicyProfileInvalid,
        Code::CausalPolicyProfileDowngrade,
        Code::CausalBindingNormalizationFailed,
        Code::CausalBindingFieldConflict,
        Code::CausalReceiptReplayDetected,
        Code::CausalClockContradiction,
        Code::CausalPhaseInvalid,
        Code::CausalConfidenceOutOfRange,
        Code::CausalReferenceDangling,
        Code::CausalSpanReuseConflict,
        Code::CausalPhaseTransitionInvalid,
        Code::CausalCycleDetected,
        Code::CausalConfidenceEvidenceInconsistent,
        Code::CausalGraphDisconnected,
        Code::CausalSideEffectOrphaned,
        Code::CausalHumanApprovalOrphaned,
        Code::CoverageClddDiscrepancyEnforced,
        Code::RateLimitClaimInconsistent,
        Code::RateLimitWindowInvalid,
        Code::RateLimitExceeded,
        Code::EvidenceUnverified,
        Code::EvidenceMismatch,
        Code::FutureTimestampPoisoning,
        Code::MissingRequiredField,
        Code::AggregateSignerMismatch,
        Code::UnsortedMemberArray,
        Code::AggregateDuplicateMember,
        Code::AggregateBundleInvalid,
        Code::InconsistentRunId,
        Code::AggregateMemberInvalid,
        Code::CausalAggregateMemberConflict,
        Code::CausalAggregateReceiptReplay,
        Code::IdentityConflict,
        Code::AggregateTtlExceedsMember,
        Code::AggregateDuplicateBundleId,
        Code::AggregateDuplicateRunId,
        Code::FleetSummaryMismatch,
        Code::ReplayedBundleId,
        Code::ReplayedRunId,
        Code::ReplayedReceiptId,
        Code::ReplayedNonce,
        Code::ReplayedPaymentAuth,
    ];

    /// The wire form, e.g. `HASH_MISMATCH`.
    pub fn as_str(self) -> &'static str {
        self.into()
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
            Code::McpToolPinMismatch => {
                "a tool receipt records an MCP tool definition hash other than the policy's pin"
            }
            Code::BudgetExceeded => {
                "the receipts count more model calls, tool calls or tokens than the policy's budget"
            }
            Code::ApprovalMissing => "an approval-gated tool ran without a human approval receipt",
            Code::ApprovalUntrusted => {
                "no human approval receipt of the run is signed by a trusted approver of the gate"
            }
            Code::ScopeHashMismatch => {
                "receipts disagree with each other or with the token's scope hash"
            }
            Code::CausalPolicyProfileInvalid => {
                "the causal policy profile is neither compat nor strict"
            }
            Code::CausalPolicyProfileDowngrade => {
                "the strict causal profile was asked for with a weaker connectivity or coverage mode"
            }
            Code::CausalBindingNormalizationFailed => {
                "a causal span id is not a string, or is empty after trimming"
            }
            Code::CausalBindingFieldConflict => {
                "a causal field's snake_case and camelCase forms differ"
            }
            Code::CausalReceiptReplayDetected => {
                "one gateway receipt_id carries two different payloads"
            }
            Code::CausalClockContradiction => {
                "causal times are unreadable, after issued_at, or earlier than the parent span"
            }
            Code::CausalPhaseInvalid => "a binding's phase is not a protocol phase",
            Code::CausalConfidenceOutOfRange => "attribution_confidence is outside [0, 1]",
            Code::CausalReferenceDangling => {
                "a parent_span_id or tool_span_id names no gateway receipt span"
            }
            Code::CausalSpanReuseConflict => {
                "a span_id is reused with a different parent, tool, phase or confidence"
            }
            Code::CausalPhaseTransitionInvalid => {
                "a span's phase may not follow its parent's or tool's phase"
            }
            Code::CausalCycleDetected => "parent_span_id links form a cycle",
            Code::CausalConfidenceEvidenceInconsistent => {
                "attribution_confidence exceeds what the span's evidence class allows"
            }
            Code::CausalGraphDisconnected => {
                "the span graph has no root, a span reaching no root, or several components"
            }
            Code::CausalSideEffectOrphaned => {
                "a side-effect receipt is not anchored to a gateway receipt span"
            }
            Code::CausalHumanApprovalOrphaned => {
                "a human approval receipt is not anchored to a gateway receipt span"
            }
            Code::CoverageClddDiscrepancyEnforced => {
                "the CLDD coverage claim differs from the coverage attestations (coverage enforce)"
            }
            Code::RateLimitClaimInconsistent => {
                "a rate-limit claim is unreadable, half-given, names another run, or claims a wider limit than the policy's"
            }
            Code::RateLimitWindowInvalid => "a rate-limit claim's window starts after it ends",
            Code::RateLimitExceeded => {
                "a rate-limit claim observes more than its maximum, or the receipts more calls in a window than a policy rate limit"
            }
            Code::FutureTimestampPoisoning => {
                "an export or aggregate bundle is issued after the verification time (5 minutes of skew)"
            }
            Code::MissingRequiredField => {
                "an export manifest does not list exactly the bundle's artifacts"
            }
            Code::AggregateSignerMismatch => {
                "an aggregate's signer_did is not its payload's issuer_did"
            }
            Code::UnsortedMemberArray => {
                "an aggregate's members are not in ascending order of their JCS hashes"
            }
            Code::AggregateDuplicateMember => {
                "the same member bundle appears twice in an aggregate"
            }
            Code::AggregateBundleInvalid => {
                "an aggregate's manifest or member is malformed (duplicate path, content type, member kind, expiry)"
            }
            Code::InconsistentRunId => {
                "an aggregate member's event chain is empty or has more than one run_id"
            }
            Code::AggregateMemberInvalid => {
                "an aggregate member fails its own verification, or has expired"
            }
            Code::CausalAggregateMemberConflict => {
                "two aggregate members of one run namespace give one span different causal fields"
            }
            Code::CausalAggregateReceiptReplay => {
                "one gateway receipt_id carries different payloads in two aggregate members"
            }
            Code::IdentityConflict => "an aggregate's issuer is also one of its members' agents",
            Code::AggregateTtlExceedsMember => "an aggregate expires after one of its members",
            Code::AggregateDuplicateBundleId => "two aggregate members have the same bundle_id",
            Code::AggregateDuplicateRunId => "two aggregate members have the same run_id",
            Code::FleetSummaryMismatch => {
                "an aggregate's fleet_summary differs from what its members show"
            }
            Code::EvidenceUnverified => {
                "the bundle carries evidence wpc does not verify (--unverified-evidence fail)"
            }
            Code::EvidenceMismatch => {
                "the bundle's receipts cannot be bound to its event chain (completeness INCONSISTENT), \
                 or an x402 payment claim does not bind to this execution"
            }
            Code::ReplayedBundleId => "the same bundle_id appears in two bundles",
            Code::ReplayedRunId => "the same run id appears in two bundles",
            Code::ReplayedReceiptId => "the same receipt_id appears twice",
            Code::ReplayedNonce => "the same binding nonce appears twice",
            Code::ReplayedPaymentAuth => "the same x402 payment authorization pays in two bundles",
        }
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
