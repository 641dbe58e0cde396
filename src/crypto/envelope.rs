//! The Claw protocol SignedEnvelope v1 (docs/signing.md) and
//! signing.
//!
//! The envelope is shared by every Claw artifact; what differs per
//! `envelope_type` is how the payload is hashed. WPCs use JCS (RFC 8785);
//! receipts and proof bundles hash document-order JSON. An [`EnvelopeKind`]
//! names the type and its [`PayloadHashRule`], so the verifier in
//! [`crate::crypto::verify`] is the same code for all of them.
//!
//! Only `payload_hash_b64u` is signed (its UTF-8 bytes). `signer_did`,
//! `issued_at` and `expires_at` are not covered by the signature: they are
//! claims about the envelope, not part of what the signer vouched for.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::crypto::keys::SigningKey;
use crate::crypto::quote;
use crate::crypto::stringify::stringify_hash_b64u;
use crate::policy::hash::{HashError, policy_hash_b64u};

/// The `envelope_version` of every kind but [`ToolReceiptV2`].
pub const ENVELOPE_VERSION: &str = "1";
/// The only `hash_algorithm` implemented.
pub const HASH_ALGORITHM: &str = "SHA-256";
/// The only signature `algorithm`.
pub const SIGNATURE_ALGORITHM: &str = "Ed25519";

/// How an envelope type turns its payload into `payload_hash_b64u`.
pub trait PayloadHashRule {
    /// Why a payload cannot be hashed under this rule.
    type Error: std::fmt::Display + Into<HashError>;

    /// `base64url_nopad(SHA-256(serialization of payload))`.
    fn payload_hash_b64u(payload: &Value) -> Result<String, Self::Error>;
}

/// SHA-256 over the RFC 8785 (JCS) form: the WPC policy hash.
#[derive(Debug, Clone, Copy)]
pub struct Jcs;

impl PayloadHashRule for Jcs {
    type Error = HashError;

    fn payload_hash_b64u(payload: &Value) -> Result<String, HashError> {
        policy_hash_b64u(payload)
    }
}

/// SHA-256 over ECMAScript `JSON.stringify` of the payload as parsed (keys
/// in document order): receipts and proof bundles
/// ([`crate::crypto::stringify`]).
#[derive(Debug, Clone, Copy)]
pub struct JsonStringify;

impl PayloadHashRule for JsonStringify {
    type Error = std::convert::Infallible;

    fn payload_hash_b64u(payload: &Value) -> Result<String, Self::Error> {
        Ok(stringify_hash_b64u(payload))
    }
}

/// An `envelope_type` and the hash rule of its payloads. A verifier is
/// instantiated for one kind and rejects envelopes of any other type.
pub trait EnvelopeKind {
    /// The `envelope_type` string.
    const ENVELOPE_TYPE: &'static str;
    /// How the payload is hashed.
    type HashRule: PayloadHashRule;
    /// The `envelope_version` string.
    const ENVELOPE_VERSION: &'static str = ENVELOPE_VERSION;
    /// Fields beyond the v1 envelope's that this kind may carry. The
    /// envelope check ignores them: their caller verifies them.
    const EXTRA_FIELDS: &'static [&'static str] = &[];
}

/// Declare an [`EnvelopeKind`]: its type, its `envelope_type` string, its
/// hash rule and, after `;`, the constants it sets beyond those.
macro_rules! envelope_kind {
    ($(#[$doc:meta])* $kind:ident, $envelope_type:literal, $rule:ty $(; $($more:tt)*)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $kind;

        impl EnvelopeKind for $kind {
            const ENVELOPE_TYPE: &'static str = $envelope_type;
            type HashRule = $rule;
            $($($more)*)?
        }
    };
}

envelope_kind! {
    /// A Work Policy Contract envelope (`work_policy_contract`, JCS hash).
    WorkPolicyContract, "work_policy_contract", Jcs
}

envelope_kind! {
    /// A proof bundle envelope (`proof_bundle`, `JSON.stringify` hash).
    ProofBundle, "proof_bundle", JsonStringify
}

envelope_kind! {
    /// A model gateway's receipt (`gateway_receipt`, `JSON.stringify` hash).
    GatewayReceipt, "gateway_receipt", JsonStringify
}

envelope_kind! {
    /// A tool dispatcher's signed receipt, v1 envelope (`tool_receipt`,
    /// `JSON.stringify` hash).
    ToolReceipt, "tool_receipt", JsonStringify
}

envelope_kind! {
    /// A tool dispatcher's signed receipt, v2 envelope (`tool_receipt`,
    /// `envelope_version` "2", `JSON.stringify` hash). Its `co_signatures` sign
    /// the same `payload_hash_b64u` and are verified by
    /// [`crate::bundle::tool_receipt`]; the protocol allows this kind only
    /// inside a proof bundle, so only `verify_embedded` reads it.
    ToolReceiptV2, "tool_receipt", JsonStringify;
    const ENVELOPE_VERSION: &'static str = "2";
    const EXTRA_FIELDS: &'static [&'static str] = &["co_signatures"];
}

/// A signed envelope as written to disk: serialize it with `serde_json`.
///
/// The only way to make one is [`SignedEnvelope::sign`]; to read one, use
/// [`crate::crypto::verify::verify_envelope`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignedEnvelope {
    envelope_version: &'static str,
    envelope_type: &'static str,
    payload: Value,
    payload_hash_b64u: String,
    hash_algorithm: &'static str,
    signature_b64u: String,
    algorithm: &'static str,
    signer_did: String,
    issued_at: String,
}

impl SignedEnvelope {
    /// Signs `payload` (a JSON object) as an envelope of kind `K`.
    ///
    /// `issued_at` is a parameter so that signing is deterministic; it is
    /// written in RFC 3339 UTC with whole seconds (`2026-11-24T12:00:00Z`).
    pub fn sign<K: EnvelopeKind>(
        payload: Value,
        key: &SigningKey,
        issued_at: Timestamp,
    ) -> Result<Self, SignError> {
        if !payload.is_object() {
            return Err(SignError::PayloadNotObject);
        }
        let issued_at = format_issued_at(issued_at)?;
        let payload_hash_b64u =
            K::HashRule::payload_hash_b64u(&payload).map_err(|err| SignError::Hash(err.into()))?;
        let signature = key.sign(payload_hash_b64u.as_bytes());
        Ok(Self {
            envelope_version: K::ENVELOPE_VERSION,
            envelope_type: K::ENVELOPE_TYPE,
            payload,
            payload_hash_b64u,
            hash_algorithm: HASH_ALGORITHM,
            signature_b64u: URL_SAFE_NO_PAD.encode(signature.to_bytes()),
            algorithm: SIGNATURE_ALGORITHM,
            signer_did: key.did_str().to_owned(),
            issued_at,
        })
    }

    /// The signed payload.
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// `payload_hash_b64u` (for a WPC, its policy hash).
    pub fn payload_hash_b64u(&self) -> &str {
        &self.payload_hash_b64u
    }

    /// The signer's `did:key`.
    pub fn signer_did(&self) -> &str {
        &self.signer_did
    }

    /// `issued_at`, RFC 3339.
    pub fn issued_at(&self) -> &str {
        &self.issued_at
    }
}

/// Why a payload could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// Envelope payloads are JSON objects.
    #[error("the payload to sign must be a JSON object")]
    PayloadNotObject,
    /// The hash rule rejected the payload.
    #[error("cannot hash the payload: {0}")]
    Hash(HashError),
    /// The time cannot be written as an RFC 3339 timestamp with a 4-digit year.
    #[error("issued_at {0} cannot be written as an RFC 3339 timestamp")]
    IssuedAt(String),
}

/// Parses an RFC 3339 timestamp (`2026-11-24T12:00:00Z`, offsets and
/// fractions allowed), for `--issued-at` and the envelope's time fields.
pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimestampError> {
    // jiff accepts a superset (ISO 8601 forms, bracketed time zones); the
    // shape check keeps the envelope to what every RFC 3339 parser reads.
    if !is_rfc3339_shape(text) {
        return Err(TimestampError(quote(text)));
    }
    text.parse().map_err(|_| TimestampError(quote(text)))
}

/// A string that is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 date-time such as 2026-11-24T12:00:00Z")]
pub struct TimestampError(String);

fn format_issued_at(time: Timestamp) -> Result<String, SignError> {
    let text = time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    if is_rfc3339_shape(&text) {
        Ok(text)
    } else {
        Err(SignError::IssuedAt(text))
    }
}

/// `YYYY-MM-DD T HH:MM:SS [.fraction] (Z | ±HH:MM)`, `T` and `Z` in either case.
fn is_rfc3339_shape(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |from: usize, to: usize| {
        b.get(from..to)
            .is_some_and(|run| run.iter().all(u8::is_ascii_digit))
    };
    let byte_is = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    let date_time = digits(0, 4)
        && byte_is(4, b"-")
        && digits(5, 7)
        && byte_is(7, b"-")
        && digits(8, 10)
        && byte_is(10, b"Tt")
        && digits(11, 13)
        && byte_is(13, b":")
        && digits(14, 16)
        && byte_is(16, b":")
        && digits(17, 19);
    if !date_time {
        return false;
    }
    let mut rest = b.get(19..).unwrap_or_default();
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return false;
        }
        rest = fraction.get(len..).unwrap_or_default();
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_shapes() {
        for ok in [
            "2026-11-24T12:00:00Z",
            "2026-11-24t12:00:00z",
            "2026-11-24T12:00:00.123Z",
            "2026-11-24T12:00:00+01:00",
            "2026-11-24T12:00:00-00:30",
        ] {
            assert!(parse_rfc3339(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "2026-11-24",
            "2026-11-24 12:00:00Z",
            "2026-11-24T12:00Z",
            "2026-11-24T12:00:00",
            "2026-11-24T12:00:00.Z",
            "2026-11-24T12:00:00+0100",
            "2026-11-24T12:00:00Z[Europe/Paris]",
            "2026-13-24T12:00:00Z",
            "2026-02-30T12:00:00Z",
            "+2026-11-24T12:00:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn issued_at_is_utc_whole_seconds() {
        let time = parse_rfc3339("2026-11-24T13:00:00.987+01:00").unwrap();
        assert_eq!(format_issued_at(time).unwrap(), "2026-11-24T12:00:00Z");
    }

    #[test]
    fn payload_must_be_an_object() {
        let key = SigningKey::generate().unwrap();
        let err = SignedEnvelope::sign::<WorkPolicyContract>(
            Value::Array(vec![]),
            &key,
            Timestamp::UNIX_EPOCH,
        )
        .unwrap_err();
        assert!(matches!(err, SignError::PayloadNotObject));
    }
}
