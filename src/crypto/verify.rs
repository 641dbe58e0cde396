//! Envelope verification: untrusted bytes in, [`Verified`] out.
//!
//! Checks run in a fixed order and the first failure is reported, with a
//! [`ReasonCode`] (the Claw protocol's codes) and a message naming the field:
//!
//! 1. size, JSON syntax, duplicate keys, shape: exactly the envelope fields,
//!    each of the right JSON type, `payload` an object, `payload_hash_b64u`
//!    and `signature_b64u` in the base64url alphabet, `issued_at` and
//!    `expires_at` RFC 3339 — [`ReasonCode::MalformedEnvelope`];
//! 2. `envelope_version` — [`ReasonCode::UnknownEnvelopeVersion`];
//! 3. `envelope_type` is the caller's kind — [`ReasonCode::UnknownEnvelopeType`];
//! 4. `hash_algorithm` — [`ReasonCode::UnknownHashAlgorithm`];
//! 5. `algorithm` — [`ReasonCode::UnknownAlgorithm`];
//! 6. recomputed payload hash — [`ReasonCode::HashMismatch`];
//! 7. `signer_did` — [`ReasonCode::InvalidDidFormat`];
//! 8. Ed25519 `verify_strict` over UTF-8(`payload_hash_b64u`); a signature
//!    that does not decode to 64 bytes is also [`ReasonCode::SignatureInvalid`];
//! 9. signer admitted by the caller's [`Trust`] — [`ReasonCode::SignerNotTrusted`].
//!
//! The payload's own schema is the caller's last step: validate
//! [`Verified::payload`] and report a failure as
//! [`ReasonCode::SchemaValidationFailed`] with [`VerifyFailure::new`].

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, Signature, VerifyingKey};
use serde::Serialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::crypto::did::DidKey;
use crate::crypto::envelope::{
    EnvelopeKind, HASH_ALGORITHM, PayloadHashRule, SIGNATURE_ALGORITHM, parse_rfc3339,
};
use crate::crypto::quote;
use crate::crypto::strict;

/// Envelopes larger than this are rejected before parsing
/// ([`ReasonCode::MalformedEnvelope`]).
pub const MAX_ENVELOPE_BYTES: usize = crate::fsio::ENVELOPE.bytes;

/// Required envelope fields, in the order they are checked and written.
const REQUIRED: [&str; 9] = [
    "envelope_version",
    "envelope_type",
    "payload",
    "payload_hash_b64u",
    "hash_algorithm",
    "signature_b64u",
    "algorithm",
    "signer_did",
    "issued_at",
];
const OPTIONAL: [&str; 1] = ["expires_at"];

/// The reference verifier decodes signatures with `atob`, which ignores
/// non-zero trailing bits; so do we, so that every signature it accepts
/// decodes here to the same 64 bytes.
pub(crate) const SIGNATURE_B64U: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// Why verification failed (SCREAMING_SNAKE_CASE on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    /// Not JSON, too large, duplicate keys, missing/unknown/mistyped fields.
    MalformedEnvelope,
    /// `envelope_version` is not `"1"`.
    UnknownEnvelopeVersion,
    /// `envelope_type` is not the type the caller verifies.
    UnknownEnvelopeType,
    /// `hash_algorithm` is not `"SHA-256"`.
    UnknownHashAlgorithm,
    /// `algorithm` is not `"Ed25519"`.
    UnknownAlgorithm,
    /// `payload_hash_b64u` differs from the recomputed hash.
    HashMismatch,
    /// `signer_did` is not an Ed25519 `did:key`.
    InvalidDidFormat,
    /// The signature does not verify.
    SignatureInvalid,
    /// The signer is not in the trusted set.
    SignerNotTrusted,
    /// The payload fails its schema; reported by the caller, never by
    /// [`verify_envelope`].
    SchemaValidationFailed,
    /// The payload hash is revoked on a release branch; reported by the
    /// caller, never by [`verify_envelope`].
    Revoked,
}

impl ReasonCode {
    /// The wire form, e.g. `HASH_MISMATCH`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The envelope field a failure with this code is about, if it is one
    /// field (for JSON pointers in reports).
    pub fn field(self) -> Option<&'static str> {
        match self {
            Self::MalformedEnvelope | Self::SchemaValidationFailed => None,
            Self::UnknownEnvelopeVersion => Some("envelope_version"),
            Self::UnknownEnvelopeType => Some("envelope_type"),
            Self::UnknownHashAlgorithm => Some("hash_algorithm"),
            Self::UnknownAlgorithm => Some("algorithm"),
            Self::HashMismatch | Self::Revoked => Some("payload_hash_b64u"),
            Self::InvalidDidFormat | Self::SignerNotTrusted => Some("signer_did"),
            Self::SignatureInvalid => Some("signature_b64u"),
        }
    }
}

/// A failed verification: a reason code and a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct VerifyFailure {
    code: ReasonCode,
    message: String,
}

impl VerifyFailure {
    /// A failure found by the caller, e.g. [`ReasonCode::SchemaValidationFailed`].
    pub fn new(code: ReasonCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The reason code.
    pub fn code(&self) -> ReasonCode {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Which signers a verification accepts.
#[derive(Debug, Clone)]
pub struct Trust(TrustedKeys);

#[derive(Debug, Clone)]
enum TrustedKeys {
    Any,
    /// By DID string, holding the already decoded key: decoding a did:key
    /// decompresses a curve point, a fifth of the cost of a verification.
    Only(HashMap<String, DidKey>),
}

impl Trust {
    /// Accepts any signer whose signature verifies. This proves only that the
    /// envelope is intact, not who made it; the name is long so that every use
    /// stands out in review.
    pub fn any_signer_unchecked() -> Self {
        Self(TrustedKeys::Any)
    }

    /// Accepts only these signers (none, if the iterator is empty).
    pub fn only<'a>(signers: impl IntoIterator<Item = &'a DidKey>) -> Self {
        Self(TrustedKeys::Only(
            signers
                .into_iter()
                .map(|did| (did.as_str().to_owned(), did.clone()))
                .collect(),
        ))
    }

    /// The decoded key of a trusted signer named by exactly this string.
    fn known(&self, did: &str) -> Option<&DidKey> {
        match &self.0 {
            TrustedKeys::Any => None,
            TrustedKeys::Only(keys) => keys.get(did),
        }
    }

    /// Whether `signer` is accepted (always, for [`Trust::any_signer_unchecked`]).
    pub fn admits_did(&self, signer: &DidKey) -> bool {
        self.admits(signer)
    }

    fn admits(&self, signer: &DidKey) -> bool {
        match &self.0 {
            TrustedKeys::Any => true,
            TrustedKeys::Only(keys) => keys
                .values()
                .any(|k| k.verifying_key() == signer.verifying_key()),
        }
    }
}

/// An envelope of kind `K` whose hash and signature verified and whose
/// signer was trusted. Only [`verify_envelope`] makes one.
#[derive(Debug, Clone)]
pub struct Verified<K> {
    payload: Value,
    payload_hash_b64u: String,
    signer: DidKey,
    issued_at: String,
    expires_at: Option<String>,
    kind: PhantomData<K>,
}

impl<K> Verified<K> {
    /// The payload (not yet checked against its schema).
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// The payload, by value.
    pub fn into_payload(self) -> Value {
        self.payload
    }

    /// `payload_hash_b64u` (for a WPC, its policy hash).
    pub fn payload_hash_b64u(&self) -> &str {
        &self.payload_hash_b64u
    }

    /// The signer.
    pub fn signer(&self) -> &DidKey {
        &self.signer
    }

    /// `issued_at` as written (valid RFC 3339; not covered by the signature).
    pub fn issued_at(&self) -> &str {
        &self.issued_at
    }

    /// `expires_at` as written, if present (valid RFC 3339; not covered by
    /// the signature).
    pub fn expires_at(&self) -> Option<&str> {
        self.expires_at.as_deref()
    }
}

/// Why [`verify_signature`] rejected a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureRejected {
    /// The public key is not 32 bytes.
    #[error("the public key is not {PUBLIC_KEY_LENGTH} bytes")]
    KeyLength,
    /// The public key is not a curve point.
    #[error("the public key is not a valid Ed25519 point")]
    KeyNotAPoint,
    /// The signature is not 64 bytes.
    #[error("the signature is not {SIGNATURE_LENGTH} bytes")]
    SignatureLength,
    /// `verify_strict` failed.
    #[error("the Ed25519 signature does not verify")]
    DoesNotVerify,
}

/// Ed25519 `verify_strict` of `signature` over `message` by `public_key`:
/// the check envelopes use, exposed for test vectors.
pub fn verify_signature(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureRejected> {
    let bytes: &[u8; PUBLIC_KEY_LENGTH] = public_key
        .try_into()
        .map_err(|_| SignatureRejected::KeyLength)?;
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| SignatureRejected::KeyNotAPoint)?;
    verify_with_key(&key, message, signature)
}

fn verify_with_key(
    key: &VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureRejected> {
    let signature =
        Signature::from_slice(signature).map_err(|_| SignatureRejected::SignatureLength)?;
    // Strict: rejects small-order keys and R, and non-canonical S, so one
    // message has one valid signature per key (RFC 8032 §5.1.7 and more).
    // Not batched (`ed25519_dalek::verify_batch`): its cofactorless random
    // combination Σ z_i·(s_i·B − R_i − k_i·A_i) = 0 cancels a torsion
    // component a signer puts in R whenever z_i ≡ 0 mod its order, and z_i
    // comes from a transcript the signer can grind, so it accepts signatures
    // that this call and the reference reject. Ruling that out costs an
    // [ℓ]R check per signature, as much as batching saves (docs/bundles.md,
    // "Performance").
    key.verify_strict(message, &signature)
        .map_err(|_| SignatureRejected::DoesNotVerify)
}

/// Verifies an envelope of kind `K` from raw JSON bytes.
pub fn verify_envelope<K: EnvelopeKind>(
    bytes: &[u8],
    trust: &Trust,
) -> Result<Verified<K>, VerifyFailure> {
    Envelope::parse(bytes)?.verify::<K>(trust)
}

/// Parses untrusted JSON bytes: size limit, syntax, nesting limit and
/// duplicate keys ([`ReasonCode::MalformedEnvelope`]).
pub fn parse_json(bytes: &[u8]) -> Result<Value, VerifyFailure> {
    parse_json_within(bytes, usize::MAX)
}

/// [`parse_json`], refusing a document of more than `max_values` JSON
/// values (scalars, arrays and objects): each is counted before it is
/// built, so the tree never grows past the bound whatever the bytes hold.
pub fn parse_json_within(bytes: &[u8], max_values: usize) -> Result<Value, VerifyFailure> {
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(malformed(format!(
            "the envelope is {} bytes; the limit is {MAX_ENVELOPE_BYTES}",
            bytes.len()
        )));
    }
    let budget = ValueBudget {
        left: Cell::new(max_values),
        exceeded: Cell::new(false),
        entries: RefCell::new(Vec::new()),
    };
    // Checked once for the whole text, which is several times faster than
    // serde_json checking each string as it meets it (`from_slice`).
    let text = std::str::from_utf8(bytes).map_err(|err| {
        malformed(format!(
            "not valid JSON: the text is not UTF-8 (byte {})",
            err.valid_up_to()
        ))
    })?;
    // serde_json's default recursion limit (128) stays on, so deep nesting
    // is an error rather than a stack overflow.
    let mut deserializer = serde_json::Deserializer::from_str(text);
    UniqueKeys(&budget)
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|err| {
            if budget.exceeded.get() {
                malformed(format!(
                    "more than {max_values} JSON values; no valid envelope has that many"
                ))
            } else {
                malformed(format!("not valid JSON: {err}"))
            }
        })
}

/// An envelope whose shape is right (step 1) but which is not verified yet.
///
/// Verification is split so that a caller can put its own checks between
/// the header and the hash, as the proof bundle verifier does with the
/// payload schema (the reference verifier's order).
#[derive(Debug, Clone)]
pub struct Envelope(Fields);

impl Envelope {
    /// Step 1 on raw bytes.
    pub fn parse(bytes: &[u8]) -> Result<Envelope, VerifyFailure> {
        Envelope::from_value(parse_json(bytes)?)
    }

    /// Step 1 on an already parsed value, e.g. a receipt inside a bundle.
    pub fn from_value(value: Value) -> Result<Envelope, VerifyFailure> {
        parse_shape(value).map(Envelope)
    }

    /// The payload (a JSON object), not yet verified.
    pub fn payload(&self) -> &Value {
        &self.0.payload
    }

    /// `signer_did` as written.
    pub fn signer_did(&self) -> &str {
        &self.0.signer_did
    }

    /// The fields its signature check reads.
    pub(crate) fn signed_fields(&self) -> SignedFields<'_> {
        SignedFields {
            signer_did: &self.0.signer_did,
            payload_hash_b64u: &self.0.payload_hash_b64u,
            signature_b64u: &self.0.signature_b64u,
        }
    }

    /// Steps 2 to 5: version, type and algorithms.
    pub fn check_header<K: EnvelopeKind>(&self) -> Result<(), VerifyFailure> {
        self.0.borrow().check_header::<K>()
    }

    /// Steps 2 to 9.
    pub fn verify<K: EnvelopeKind>(self, trust: &Trust) -> Result<Verified<K>, VerifyFailure> {
        self.verify_precomputed::<K>(Precomputed::default(), trust)
    }

    /// Steps 2 to 9, with what was `precomputed` for this envelope.
    pub(crate) fn verify_precomputed<K: EnvelopeKind>(
        self,
        precomputed: Precomputed,
        trust: &Trust,
    ) -> Result<Verified<K>, VerifyFailure> {
        self.check_header::<K>()?;
        let (payload_hash_b64u, signer) = verify_crypto::<K>(&self.0.borrow(), precomputed, trust)?;
        let signer = signer.into_owned();
        let fields = self.0;
        Ok(Verified {
            payload: fields.payload,
            payload_hash_b64u,
            signer,
            issued_at: fields.issued_at,
            expires_at: fields.expires_at,
            kind: PhantomData,
        })
    }
}

/// Steps 1 to 9 on an envelope inside another document (a receipt in a
/// bundle), reading it in place; returns the signer.
pub fn verify_embedded<K: EnvelopeKind>(
    envelope: &Value,
    trust: &Trust,
) -> Result<DidKey, VerifyFailure> {
    verify_embedded_precomputed::<K>(envelope, Precomputed::default(), trust).map(Cow::into_owned)
}

/// [`verify_embedded`], with what was `precomputed` for this envelope.
pub(crate) fn verify_embedded_precomputed<'t, K: EnvelopeKind>(
    envelope: &Value,
    precomputed: Precomputed,
    trust: &'t Trust,
) -> Result<Cow<'t, DidKey>, VerifyFailure> {
    let Value::Object(map) = envelope else {
        return Err(malformed(format!(
            "the envelope must be a JSON object, not {}",
            json_type(envelope)
        )));
    };
    let fields = check_shape(map, K::EXTRA_FIELDS)?;
    fields.check_header::<K>()?;
    verify_crypto::<K>(&fields, precomputed, trust).map(|(_, signer)| signer)
}

/// What was computed for an envelope ahead of its checks, together with the
/// other envelopes of the document that holds them all (a bundle and its
/// receipts): its payload hash by its kind's rule, from one serialization
/// of the document ([`crate::crypto::stringify::stringify_hashes_b64u`]),
/// and its signature's verdict, from one batch ([`check_signatures`]).
/// Neither decides more than it would alone: the hash is still compared
/// with `payload_hash_b64u`, and a verdict is used only for the key,
/// message and signature it was reached on.
#[derive(Debug, Default)]
pub(crate) struct Precomputed {
    pub(crate) payload_hash: Option<String>,
    pub(crate) signature: Option<SignatureVerdict>,
}

/// `verify_strict`'s verdict on one key, message and signature.
#[derive(Debug)]
pub(crate) struct SignatureVerdict {
    key: [u8; PUBLIC_KEY_LENGTH],
    message: String,
    signature: [u8; SIGNATURE_LENGTH],
    valid: bool,
}

impl SignatureVerdict {
    /// The verdict, if it was reached on exactly these.
    fn on(&self, key: &VerifyingKey, message: &str, signature: &Signature) -> Option<bool> {
        (self.key == *key.as_bytes()
            && self.message == message
            && self.signature == signature.to_bytes())
        .then_some(self.valid)
    }
}

/// The fields of an envelope that its signature check reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedFields<'a> {
    signer_did: &'a str,
    payload_hash_b64u: &'a str,
    signature_b64u: &'a str,
}

impl<'a> SignedFields<'a> {
    /// Those of an envelope inside another document, if they are strings.
    pub(crate) fn of(envelope: &'a Value) -> Option<Self> {
        let field = |name| envelope.get(name).and_then(Value::as_str);
        Some(Self {
            signer_did: field("signer_did")?,
            payload_hash_b64u: field("payload_hash_b64u")?,
            signature_b64u: field("signature_b64u")?,
        })
    }
}

/// The signatures of several envelopes, checked together so that they share
/// the costliest step after the curve arithmetic
/// ([`strict::verify_strict_all`]). Each envelope's verdict, in order, or
/// `None` where its fields do not decode to a key and a signature: its own
/// checks then say why.
pub(crate) fn check_signatures<'a>(
    envelopes: impl IntoIterator<Item = Option<SignedFields<'a>>>,
) -> Vec<Option<SignatureVerdict>> {
    let decoded: Vec<Option<(DidKey, &str, Signature)>> = envelopes
        .into_iter()
        .map(|fields| {
            let fields = fields?;
            let key = DidKey::parse(fields.signer_did).ok()?;
            let signature = SIGNATURE_B64U.decode(fields.signature_b64u).ok()?;
            let signature = Signature::from_slice(&signature).ok()?;
            Some((key, fields.payload_hash_b64u, signature))
        })
        .collect();
    let checks: Vec<_> = decoded
        .iter()
        .flatten()
        .map(|(key, message, signature)| key.signature_check(message.as_bytes(), signature))
        .collect();
    let mut verdicts = strict::verify_strict_all(&checks).into_iter();
    decoded
        .into_iter()
        .map(|decoded| {
            let (key, message, signature) = decoded?;
            Some(SignatureVerdict {
                key: key.verifying_key().to_bytes(),
                message: message.to_owned(),
                signature: signature.to_bytes(),
                valid: verdicts.next()?,
            })
        })
        .collect()
}

/// Steps 6 to 9: hash, signer, signature, trust. Returns the hash and the
/// signer.
fn verify_crypto<'t, K: EnvelopeKind>(
    fields: &FieldsRef<'_>,
    precomputed: Precomputed,
    trust: &'t Trust,
) -> Result<(String, Cow<'t, DidKey>), VerifyFailure> {
    let recomputed = match precomputed.payload_hash {
        Some(hash) => hash,
        None => K::HashRule::payload_hash_b64u(fields.payload).map_err(|err| {
            VerifyFailure::new(
                ReasonCode::HashMismatch,
                format!("field `payload` cannot be hashed: {err}"),
            )
        })?,
    };
    if recomputed != fields.payload_hash_b64u {
        return Err(VerifyFailure::new(
            ReasonCode::HashMismatch,
            format!(
                "field `payload_hash_b64u` is `{}` but the payload hashes to `{recomputed}`",
                quote(fields.payload_hash_b64u)
            ),
        ));
    }

    let signer = match trust.known(fields.signer_did) {
        Some(signer) => Cow::Borrowed(signer),
        None => Cow::Owned(DidKey::parse(fields.signer_did).map_err(|err| {
            VerifyFailure::new(
                ReasonCode::InvalidDidFormat,
                format!("field `signer_did`: {err}"),
            )
        })?),
    };

    let signature = SIGNATURE_B64U.decode(fields.signature_b64u).map_err(|_| {
        VerifyFailure::new(
            ReasonCode::SignatureInvalid,
            "field `signature_b64u` is not valid base64url",
        )
    })?;
    let rejected = |err: SignatureRejected| {
        VerifyFailure::new(
            ReasonCode::SignatureInvalid,
            format!("field `signature_b64u`: {err} for `signer_did` {signer}"),
        )
    };
    let signature = Signature::from_slice(&signature)
        .map_err(|_| rejected(SignatureRejected::SignatureLength))?;
    let valid = precomputed
        .signature
        .and_then(|verdict| {
            verdict.on(signer.verifying_key(), fields.payload_hash_b64u, &signature)
        })
        .unwrap_or_else(|| signer.verifies(fields.payload_hash_b64u.as_bytes(), &signature));
    if !valid {
        return Err(rejected(SignatureRejected::DoesNotVerify));
    }

    if !trust.admits(&signer) {
        return Err(VerifyFailure::new(
            ReasonCode::SignerNotTrusted,
            format!("field `signer_did`: {signer} is not a trusted signer"),
        ));
    }
    Ok((recomputed, signer))
}

/// The envelope's fields once the shape is known to be right.
#[derive(Debug, Clone)]
struct Fields {
    envelope_version: String,
    envelope_type: String,
    /// Always an object.
    payload: Value,
    payload_hash_b64u: String,
    hash_algorithm: String,
    signature_b64u: String,
    algorithm: String,
    signer_did: String,
    issued_at: String,
    expires_at: Option<String>,
}

impl Fields {
    fn borrow(&self) -> FieldsRef<'_> {
        FieldsRef {
            envelope_version: &self.envelope_version,
            envelope_type: &self.envelope_type,
            payload: &self.payload,
            payload_hash_b64u: &self.payload_hash_b64u,
            hash_algorithm: &self.hash_algorithm,
            signature_b64u: &self.signature_b64u,
            algorithm: &self.algorithm,
            signer_did: &self.signer_did,
            issued_at: &self.issued_at,
            expires_at: self.expires_at.as_deref(),
        }
    }
}

/// [`Fields`] read in place from a parsed object, so that an envelope
/// embedded in another document is checked without copying it.
#[derive(Debug, Clone, Copy)]
struct FieldsRef<'a> {
    envelope_version: &'a str,
    envelope_type: &'a str,
    /// Always an object.
    payload: &'a Value,
    payload_hash_b64u: &'a str,
    hash_algorithm: &'a str,
    signature_b64u: &'a str,
    algorithm: &'a str,
    signer_did: &'a str,
    issued_at: &'a str,
    expires_at: Option<&'a str>,
}

impl FieldsRef<'_> {
    /// Steps 2 to 5.
    fn check_header<K: EnvelopeKind>(&self) -> Result<(), VerifyFailure> {
        if self.envelope_version != K::ENVELOPE_VERSION {
            return Err(field_failure(
                ReasonCode::UnknownEnvelopeVersion,
                "envelope_version",
                self.envelope_version,
                K::ENVELOPE_VERSION,
            ));
        }
        if self.envelope_type != K::ENVELOPE_TYPE {
            return Err(field_failure(
                ReasonCode::UnknownEnvelopeType,
                "envelope_type",
                self.envelope_type,
                K::ENVELOPE_TYPE,
            ));
        }
        if self.hash_algorithm != HASH_ALGORITHM {
            return Err(field_failure(
                ReasonCode::UnknownHashAlgorithm,
                "hash_algorithm",
                self.hash_algorithm,
                HASH_ALGORITHM,
            ));
        }
        if self.algorithm != SIGNATURE_ALGORITHM {
            return Err(field_failure(
                ReasonCode::UnknownAlgorithm,
                "algorithm",
                self.algorithm,
                SIGNATURE_ALGORITHM,
            ));
        }
        Ok(())
    }
}

fn malformed(message: impl Into<String>) -> VerifyFailure {
    VerifyFailure::new(ReasonCode::MalformedEnvelope, message)
}

fn field_failure(code: ReasonCode, field: &str, found: &str, expected: &str) -> VerifyFailure {
    VerifyFailure::new(
        code,
        format!(
            "field `{field}` is `{}`; expected `{expected}`",
            quote(found)
        ),
    )
}

/// A field's position in REQUIRED, then OPTIONAL (a `match` rather than a
/// scan of both lists: it runs for every key of every envelope).
fn slot_index(key: &str) -> Option<usize> {
    Some(match key {
        "envelope_version" => 0,
        "envelope_type" => 1,
        "payload" => 2,
        "payload_hash_b64u" => 3,
        "hash_algorithm" => 4,
        "signature_b64u" => 5,
        "algorithm" => 6,
        "signer_did" => 7,
        "issued_at" => 8,
        "expires_at" => 9,
        _ => return None,
    })
}

/// Step 1 on an envelope value, taking its payload out of it.
fn parse_shape(value: Value) -> Result<Fields, VerifyFailure> {
    let Value::Object(mut object) = value else {
        return Err(malformed(format!(
            "the envelope must be a JSON object, not {}",
            json_type(&value)
        )));
    };
    let fields = check_shape(&object, &[])?;
    let owned = Fields {
        envelope_version: fields.envelope_version.to_owned(),
        envelope_type: fields.envelope_type.to_owned(),
        payload: Value::Null,
        payload_hash_b64u: fields.payload_hash_b64u.to_owned(),
        hash_algorithm: fields.hash_algorithm.to_owned(),
        signature_b64u: fields.signature_b64u.to_owned(),
        algorithm: fields.algorithm.to_owned(),
        signer_did: fields.signer_did.to_owned(),
        issued_at: fields.issued_at.to_owned(),
        expires_at: fields.expires_at.map(str::to_owned),
    };
    // check_shape found an object payload.
    let payload = object.remove("payload").unwrap_or_default();
    Ok(Fields { payload, ..owned })
}

/// Step 1: everything that makes the envelope [`ReasonCode::MalformedEnvelope`].
/// The envelope fields of `object`; `extra` names fields of the kind's own
/// (e.g. a v2 tool receipt's `co_signatures`) that its checker reads.
fn check_shape<'a>(
    object: &'a Map<String, Value>,
    extra: &[&str],
) -> Result<FieldsRef<'a>, VerifyFailure> {
    // One pass over the entries instead of a hashed lookup per field: every
    // receipt in a bundle goes through here. Slots are in REQUIRED, then
    // OPTIONAL order.
    let mut slots: [Option<&Value>; REQUIRED.len() + OPTIONAL.len()] = Default::default();
    for (key, value) in object {
        match slot_index(key).and_then(|i| slots.get_mut(i)) {
            Some(slot) => *slot = Some(value),
            None if extra.contains(&key.as_str()) => {}
            None => return Err(malformed(format!("unknown field `{}`", quote(key)))),
        }
    }
    if let Some((missing, _)) = REQUIRED.iter().zip(&slots).find(|(_, slot)| slot.is_none()) {
        return Err(malformed(format!("missing field `{missing}`")));
    }
    let [
        envelope_version,
        envelope_type,
        payload,
        payload_hash_b64u,
        hash_algorithm,
        signature_b64u,
        algorithm,
        signer_did,
        issued_at,
        expires_at,
    ] = slots;
    let string = |field: &str, slot: Option<&'a Value>| match slot {
        Some(Value::String(text)) => Ok(Some(text.as_str())),
        None => Ok(None),
        Some(other) => Err(malformed(format!(
            "field `{field}` must be a string, not {}",
            json_type(other)
        ))),
    };
    // Presence of the required fields was checked above.
    let required = |field: &str, slot| string(field, slot).map(Option::unwrap_or_default);
    let envelope_version = required("envelope_version", envelope_version)?;
    let envelope_type = required("envelope_type", envelope_type)?;
    let payload_hash_b64u = required("payload_hash_b64u", payload_hash_b64u)?;
    let hash_algorithm = required("hash_algorithm", hash_algorithm)?;
    let signature_b64u = required("signature_b64u", signature_b64u)?;
    let algorithm = required("algorithm", algorithm)?;
    let signer_did = required("signer_did", signer_did)?;
    let issued_at = required("issued_at", issued_at)?;
    let expires_at = string("expires_at", expires_at)?;
    let payload = match payload {
        Some(payload @ Value::Object(_)) => payload,
        other => {
            return Err(malformed(format!(
                "field `payload` must be a JSON object, not {}",
                other.map_or("nothing", json_type)
            )));
        }
    };
    for (field, text) in [
        ("payload_hash_b64u", payload_hash_b64u),
        ("signature_b64u", signature_b64u),
    ] {
        if text.is_empty()
            || !text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(malformed(format!(
                "field `{field}` must be non-empty base64url without padding (A-Z a-z 0-9 - _)"
            )));
        }
    }
    for (field, text) in [("issued_at", Some(issued_at)), ("expires_at", expires_at)] {
        if let Some(Err(err)) = text.map(parse_rfc3339) {
            return Err(malformed(format!("field `{field}`: {err}")));
        }
    }
    Ok(FieldsRef {
        envelope_version,
        envelope_type,
        payload,
        payload_hash_b64u,
        hash_algorithm,
        signature_b64u,
        algorithm,
        signer_did,
        issued_at,
        expires_at,
    })
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The JSON values a parse may still build; `exceeded` once one more was
/// asked for.
struct ValueBudget {
    left: Cell<usize>,
    exceeded: Cell<bool>,
    /// The entries of the objects being parsed, innermost last: an object's
    /// map is built once all its entries are known, at its final size,
    /// instead of growing (and rehashing) as they come.
    entries: RefCell<Vec<(String, Value)>>,
}

/// Parses one JSON value with duplicate object keys rejected, counting it
/// and every value inside it against the budget. serde_json keeps the last
/// of two equal keys; another implementation may keep the first, so two
/// verifiers could see two different payloads behind one signature.
#[derive(Clone, Copy)]
struct UniqueKeys<'b>(&'b ValueBudget);

impl<'de> DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        let Some(left) = self.0.left.get().checked_sub(1) else {
            self.0.exceeded.set(true);
            return Err(de::Error::custom("too many JSON values"));
        };
        self.0.left.set(left);
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // Nested objects push and drain above `start` before this one goes
        // on; no borrow is held across the recursion.
        let start = self.0.entries.borrow().len();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self)?;
            self.0.entries.borrow_mut().push((key, value));
        }
        let mut entries = self.0.entries.borrow_mut();
        let mut object = Map::with_capacity(entries.len().saturating_sub(start));
        for (key, value) in entries.drain(start..) {
            // One hash lookup per key.
            match object.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                serde_json::map::Entry::Occupied(slot) => {
                    return Err(de::Error::custom(format!(
                        "duplicate key `{}`",
                        quote(slot.key())
                    )));
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_field_lists() {
        for (i, field) in REQUIRED.iter().chain(&OPTIONAL).enumerate() {
            assert_eq!(slot_index(field), Some(i), "{field}");
        }
        assert_eq!(slot_index("Payload"), None);
        assert_eq!(REQUIRED.len() + OPTIONAL.len(), 10);
    }

    #[test]
    fn values_are_counted_as_they_are_parsed() {
        let text = br#"{"a":[1,2],"b":"x,\":[y","c":{}}"#;
        // The object, `a` and its two items, `b`, `c`: separators inside a
        // string are no values.
        assert!(parse_json_within(text, 6).is_ok());
        let refused = parse_json_within(text, 5).unwrap_err();
        assert_eq!(refused.code(), ReasonCode::MalformedEnvelope);
        assert!(refused.message().starts_with("more than 5 JSON values"));
        // A syntax error within the bound is reported as one.
        let broken = parse_json_within(br#"[1,2"#, 5).unwrap_err();
        assert!(broken.message().starts_with("not valid JSON"), "{broken:?}");
        let not_utf8 = parse_json_within(b"[\"a\",\"\xff\"]", 5).unwrap_err();
        assert_eq!(not_utf8.code(), ReasonCode::MalformedEnvelope);
        assert_eq!(
            not_utf8.message(),
            "not valid JSON: the text is not UTF-8 (byte 6)"
        );
    }
}
