//! The protocol's completeness classification of a proof bundle
//! (docs/bundles.md, "Completeness"): how much of what the bundle declares
//! was verified and bound to its own event chain.
//!
//! The protocol's hosted verifier classifies every bundle as `COMPLETE`,
//! `PARTIAL`, `INCOMPLETE` or `INCONSISTENT`, with a reason code, from a few
//! counts; [`classify`] applies its rules, first match wins. `INCONSISTENT`
//! (receipts that cannot be, or are not, bound to this bundle) makes a bundle
//! INVALID (`EVIDENCE_MISMATCH`) in every [`Profile`]; what a gateway receipt
//! that fails its own checks does to the verdict is the profile's question.

use std::fmt;

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use super::reason::{Code, Failure};
use crate::crypto::did::DidKey;
use crate::crypto::verify::{SIGNATURE_B64U, verify_signature};
use crate::policy::hash::canonical_json;

/// Whose rules decide what a gateway receipt that fails its checks does to
/// the bundle's verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    /// wpc's: such a receipt makes the bundle INVALID
    /// (`RECEIPT_VERIFICATION_FAILED`, `RECEIPT_BINDING_MISMATCH`); the
    /// classification is reported alongside.
    #[default]
    Strict,
    /// The protocol's hosted service: such a receipt only lowers the counts
    /// the classification reads, so a bundle whose receipts all fail their
    /// signature is VALID and `INCOMPLETE` (no more than the agent's own
    /// word), one with an unbound receipt `INCONSISTENT`.
    Service,
}

/// The protocol's completeness verdict (`completeness_verdict`), strongest
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    Complete,
    Partial,
    Incomplete,
    Inconsistent,
}

/// The protocol's completeness reason code (`completeness_reason_code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// A valid event chain and at least one receipt verified and bound to it.
    CompleteEvidenceBound,
    /// A valid event chain, nothing bound to it.
    EventChainOnly,
    /// Neither a valid chain nor verified evidence: the bundle signature only.
    EnvelopeOnly,
    /// Attestations whose signatures verify, none by a trusted attester.
    AttestationClassUnverified,
    /// Receipts declared, none verified.
    ReceiptClassUnverified,
    /// Receipts declared, but no valid event chain to bind them to.
    BindingContextMissing,
    /// Receipts whose signatures verify, none bound to this bundle's chain.
    ReceiptBindingMismatch,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Complete => "COMPLETE",
            Level::Partial => "PARTIAL",
            Level::Incomplete => "INCOMPLETE",
            Level::Inconsistent => "INCONSISTENT",
        }
    }
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::CompleteEvidenceBound => "COMPLETE_EVIDENCE_BOUND",
            Reason::EventChainOnly => "EVENT_CHAIN_ONLY",
            Reason::EnvelopeOnly => "ENVELOPE_ONLY",
            Reason::AttestationClassUnverified => "ATTESTATION_CLASS_UNVERIFIED",
            Reason::ReceiptClassUnverified => "RECEIPT_CLASS_UNVERIFIED",
            Reason::BindingContextMissing => "BINDING_CONTEXT_MISSING",
            Reason::ReceiptBindingMismatch => "RECEIPT_BINDING_MISMATCH",
        }
    }
}

/// One bundle's classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Completeness {
    pub level: Level,
    pub reason_code: Reason,
}

impl fmt::Display for Completeness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.level.as_str(), self.reason_code.as_str())
    }
}

/// What the classification reads from a verified bundle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `event_chain` has events.
    pub chain_declared: bool,
    /// ... and every hash and link of it verified: receipts can be bound.
    pub chain_valid: bool,
    /// Gateway receipts declared.
    pub receipts: usize,
    /// Gateway receipts whose hash and signature verify, by a trusted
    /// gateway signer when there are any.
    pub receipts_signed: usize,
    /// Of those, the ones that also pass every other receipt check and are
    /// bound to this bundle's run and one of its events.
    pub receipts_bound: usize,
    /// Attestation references declared (`attestations`).
    pub attestations: usize,
    /// Attestations whose attester's signature verifies.
    pub attestations_signed: usize,
}

/// The protocol's rules, first match wins. wpc has no list of trusted
/// attesters, so no attestation counts as verified: the hosted service's
/// rule "a valid chain and a verified attestation is COMPLETE" never fires.
pub fn classify(counts: &Counts) -> Completeness {
    let (level, reason_code) = if counts.receipts > 0 && !counts.chain_valid {
        (Level::Inconsistent, Reason::BindingContextMissing)
    } else if counts.receipts > 0 && counts.receipts_signed > 0 && counts.receipts_bound == 0 {
        (Level::Inconsistent, Reason::ReceiptBindingMismatch)
    } else if counts.receipts > 0 && counts.receipts_bound == 0 {
        (Level::Incomplete, Reason::ReceiptClassUnverified)
    } else if counts.attestations > 0 && counts.attestations_signed > 0 {
        (Level::Partial, Reason::AttestationClassUnverified)
    } else if counts.chain_valid && counts.receipts_bound > 0 {
        (Level::Complete, Reason::CompleteEvidenceBound)
    } else if counts.chain_declared && counts.chain_valid {
        (Level::Partial, Reason::EventChainOnly)
    } else {
        (Level::Partial, Reason::EnvelopeOnly)
    };
    Completeness { level, reason_code }
}

impl Completeness {
    /// The failure an `INCONSISTENT` bundle gets: its receipts say it is
    /// evidence of a run they cannot be tied to.
    pub fn failure(&self) -> Option<Failure> {
        let why = match self.reason_code {
            Reason::BindingContextMissing => {
                "the bundle declares gateway receipts but has no valid event chain to bind them to"
            }
            Reason::ReceiptBindingMismatch => {
                "none of the bundle's gateway receipts whose signatures verify is bound to its \
                 event chain"
            }
            _ => return None,
        };
        Some(Failure::new(
            Code::EvidenceMismatch,
            "/payload",
            format!("completeness {self}: {why}"),
        ))
    }
}

/// Whether an attestation reference (`{attestation_id, attestation_type,
/// attester_did, subject_did, expires_at?, signature_b64u}`) carries its
/// attester's Ed25519 signature over the JCS form of the object with
/// `signature_b64u` set to `""`. Who the attester is, and whether anyone
/// trusts it, is not asked here.
pub fn attestation_signed(attestation: &Value) -> bool {
    let Some(object) = attestation.as_object() else {
        return false;
    };
    let text = |key: &str| object.get(key).and_then(Value::as_str);
    let Some(attester) = text("attester_did").and_then(|did| DidKey::parse(did).ok()) else {
        return false;
    };
    let Some(signature) = text("signature_b64u").and_then(|s| SIGNATURE_B64U.decode(s).ok()) else {
        return false;
    };
    let mut unsigned = object.clone();
    unsigned.insert("signature_b64u".to_owned(), Value::String(String::new()));
    canonical_json(&Value::Object(unsigned)).is_ok_and(|signed| {
        verify_signature(attester.verifying_key().as_bytes(), &signed, &signature).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bundle::kit;

    fn counts(receipts: usize, signed: usize, bound: usize) -> Counts {
        Counts {
            chain_declared: true,
            chain_valid: true,
            receipts,
            receipts_signed: signed,
            receipts_bound: bound,
            ..Counts::default()
        }
    }

    fn pair(counts: &Counts) -> (Level, Reason) {
        let c = classify(counts);
        (c.level, c.reason_code)
    }

    #[test]
    fn the_first_matching_rule_wins() {
        let chainless = Counts {
            chain_declared: false,
            chain_valid: false,
            ..counts(1, 1, 0)
        };
        assert_eq!(
            pair(&chainless),
            (Level::Inconsistent, Reason::BindingContextMissing)
        );
        // A chain that fails its hashes is no binding context either.
        let broken = Counts {
            chain_valid: false,
            ..counts(1, 1, 1)
        };
        assert_eq!(
            pair(&broken),
            (Level::Inconsistent, Reason::BindingContextMissing)
        );
        assert_eq!(
            pair(&counts(2, 1, 0)),
            (Level::Inconsistent, Reason::ReceiptBindingMismatch)
        );
        assert_eq!(
            pair(&counts(2, 0, 0)),
            (Level::Incomplete, Reason::ReceiptClassUnverified)
        );
        // One bound receipt of two is enough, as in the protocol.
        assert_eq!(
            pair(&counts(2, 1, 1)),
            (Level::Complete, Reason::CompleteEvidenceBound)
        );
        let attested = Counts {
            attestations: 1,
            attestations_signed: 1,
            ..counts(1, 1, 1)
        };
        assert_eq!(
            pair(&attested),
            (Level::Partial, Reason::AttestationClassUnverified)
        );
        let forged = Counts {
            attestations: 1,
            ..counts(0, 0, 0)
        };
        assert_eq!(pair(&forged), (Level::Partial, Reason::EventChainOnly));
        let bare = Counts {
            attestations: 1,
            ..Counts::default()
        };
        assert_eq!(pair(&bare), (Level::Partial, Reason::EnvelopeOnly));
    }

    #[test]
    fn only_inconsistent_bundles_fail() {
        for (c, fails) in [
            (counts(1, 1, 0), true),
            (counts(1, 0, 0), false),
            (counts(1, 1, 1), false),
            (counts(0, 0, 0), false),
        ] {
            let failure = classify(&c).failure();
            assert_eq!(failure.is_some(), fails, "{c:?}");
            if let Some(failure) = failure {
                assert_eq!(failure.code, Code::EvidenceMismatch);
                assert_eq!(failure.pointer, "/payload");
            }
        }
    }

    #[test]
    fn an_attestation_signature_covers_every_field() {
        let value = kit::attestation(&kit::key(7), kit::agent_key().did_str()).unwrap();
        assert!(attestation_signed(&value));
        for (field, changed) in [
            ("attestation_id", json!("att_2")),
            ("attestation_type", json!("owner")),
            ("attester_did", json!(kit::key(8).did_str())),
            ("subject_did", json!(kit::key(9).did_str())),
            ("expires_at", json!("2030-01-01T00:00:00Z")),
            ("signature_b64u", json!("AAAA")),
            ("signature_b64u", json!(SIGNATURE_B64U.encode([7u8; 64]))),
        ] {
            let mut tampered = value.clone();
            tampered[field] = changed;
            assert!(!attestation_signed(&tampered), "{field}");
        }
        assert!(!attestation_signed(&json!("att")));
    }
}
