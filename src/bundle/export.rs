//! Export bundles (`export_version` `"1"`, `poh/export_bundle.v1.json`): a
//! proof bundle envelope and its attestations, content-addressed by a
//! manifest and signed by an issuer (docs/bundles.md, "Export bundles").
//!
//! In the reference verifier's order: the schema; the issuer's DID and the
//! dates (`created_at` not after `issued_at`, `issued_at` not in the future
//! beyond 5 minutes, not expired); the manifest lists exactly the artifacts,
//! each with the SHA-256 and size of its JCS form; `bundle_hash_b64u` is
//! the SHA-256 of JCS of the signed fields; the issuer's Ed25519 signature
//! over it; then the nested proof bundle, whose failures keep their codes.
//! Attestation envelopes are reported as evidence wpc does not verify.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};

use super::reason::{Code, Failure};
use super::{BundleReport, Evidence, EvidenceStatus, Options, UnverifiedEvidence, verify_bundle};
use crate::claw::schema::{self, ClawSchema};
use crate::crypto::did::DidKey;
use crate::crypto::envelope::parse_rfc3339;
use crate::crypto::verify::{SIGNATURE_B64U, verify_signature};
use crate::policy::hash::{canonical_json, sha256_b64u};

use base64::Engine as _;

/// The clock skew the reference allows export bundles.
const SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Where the proof bundle sits, and the attestation lists beside it.
const PROOF: &str = "proof_bundle_envelope";
const ATTESTATIONS: [&str; 3] = [
    "execution_attestation_envelopes",
    "derivation_attestation_envelopes",
    "audit_result_attestation_envelopes",
];

/// The fields `bundle_hash_b64u` covers, in the reference's list.
const SIGNED_FIELDS: [&str; 9] = [
    "export_version",
    "export_id",
    "created_at",
    "issuer_did",
    "manifest",
    "artifacts",
    "issued_at",
    "expires_at",
    "metadata",
];

/// Whether `value` is an export bundle rather than an envelope.
pub fn is_export_bundle(value: &Value) -> bool {
    value.get("export_version").is_some() && value.get("envelope_version").is_none()
}

/// Verifies the export bundle `value`: its own checks stop at the first
/// failure; then the nested proof bundle's report, under `options`.
pub fn verify(value: &Value, options: &Options) -> BundleReport {
    if let Err(failure) = check_export(value, options.now) {
        return BundleReport::failed(failure);
    }
    let proof = value
        .pointer(&format!("/artifacts/{PROOF}"))
        .unwrap_or(&Value::Null);
    let bytes = serde_json::to_vec(proof).unwrap_or_default();
    let mut report = verify_bundle(&bytes, options);
    let prefix = format!("/artifacts/{PROOF}");
    for failure in &mut report.failures {
        failure.pointer = format!("{prefix}{}", failure.pointer);
    }
    report.evidence.insert(
        0,
        Evidence {
            kind: "export_manifest",
            count: 1,
            status: EvidenceStatus::Verified,
        },
    );
    for kind in ATTESTATIONS {
        let count = value
            .pointer(&format!("/artifacts/{kind}"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if count == 0 {
            continue;
        }
        report.evidence.push(Evidence {
            kind,
            count,
            status: EvidenceStatus::Unverified,
        });
        if options.unverified_evidence == UnverifiedEvidence::Fail {
            report.add(Failure::new(
                Code::EvidenceUnverified,
                format!("/artifacts/{kind}"),
                format!(
                    "`{kind}` is present and wpc does not verify it; it could make the export \
                     INVALID (--unverified-evidence warn accepts it with a warning)"
                ),
            ));
        }
    }
    report
}

/// The first error of `value` against the protocol's `schema`, as the
/// failure the reference verifier reports for it.
pub(super) fn first_schema_error(schema: ClawSchema, value: &Value) -> Result<(), Failure> {
    match schema::validate(schema, value).into_iter().next() {
        Some(error) => Err(Failure::new(
            Code::SchemaValidationFailed,
            error.pointer,
            error.message,
        )),
        None => Ok(()),
    }
}

/// The export bundle's own checks, first failure only.
fn check_export(value: &Value, now: Timestamp) -> Result<(), Failure> {
    first_schema_error(ClawSchema::ExportBundle, value)?;
    let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default();
    let time = |key: &str| {
        parse_rfc3339(text(key)).map_err(|err| {
            Failure::new(
                Code::MalformedEnvelope,
                format!("/{key}"),
                format!("`{key}`: {err}"),
            )
        })
    };
    check_issue_times(
        (time("created_at")?, "/created_at"),
        time("issued_at")?,
        now,
    )?;
    if value.get("expires_at").is_some() && time("expires_at")? + SKEW < now {
        return Err(Failure::new(
            Code::ExpiredTtl,
            "/expires_at",
            format!("the export bundle expired at {}", text("expires_at")),
        ));
    }
    manifest(value)?;
    let mut signed = Map::new();
    for key in SIGNED_FIELDS {
        if let Some(field) = value.get(key) {
            signed.insert(key.to_owned(), field.clone());
        }
    }
    let hash = jcs_hash(&Value::Object(signed), "")?.0;
    if hash != text("bundle_hash_b64u") {
        return Err(Failure::new(
            Code::HashMismatch,
            "/bundle_hash_b64u",
            format!("bundle_hash_b64u is not the hash of the signed fields, `{hash}`"),
        ));
    }
    let issuer = DidKey::parse(text("issuer_did")).map_err(|err| {
        Failure::new(
            Code::InvalidDidFormat,
            "/issuer_did",
            format!("issuer_did: {err}"),
        )
    })?;
    let signature = SIGNATURE_B64U.decode(text("signature_b64u")).map_err(|_| {
        Failure::new(
            Code::MalformedEnvelope,
            "/signature_b64u",
            "signature_b64u is not base64url",
        )
    })?;
    verify_signature(
        issuer.verifying_key().as_bytes(),
        hash.as_bytes(),
        &signature,
    )
    .map_err(|_| {
        Failure::new(
            Code::SignatureInvalid,
            "/signature_b64u",
            format!("the signature does not verify for the issuer {issuer}"),
        )
    })
}

/// The manifest lists exactly the artifacts, each by its JCS hash and size.
fn manifest(value: &Value) -> Result<(), Failure> {
    let mut expected: Vec<(String, &Value)> = Vec::new();
    if let Some(proof) = value.pointer(&format!("/artifacts/{PROOF}")) {
        expected.push((format!("artifacts/{PROOF}.json"), proof));
    }
    for kind in ATTESTATIONS {
        for (i, item) in value
            .pointer(&format!("/artifacts/{kind}"))
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .enumerate()
        {
            expected.push((format!("artifacts/{kind}/{i}.json"), item));
        }
    }
    let entries = value
        .pointer("/manifest/entries")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    check_manifest(
        entries,
        "/manifest/entries",
        expected,
        ManifestCodes {
            malformed: Code::MalformedEnvelope,
            unlisted: Code::MissingRequiredField,
        },
    )
}

/// An export or aggregate bundle's `created_at` (at its pointer) not after
/// its `issued_at`, and that not after `now` beyond the clock skew.
pub(super) fn check_issue_times(
    (created_at, created_pointer): (Timestamp, &str),
    issued_at: Timestamp,
    now: Timestamp,
) -> Result<(), Failure> {
    if created_at > issued_at {
        return Err(Failure::new(
            Code::CausalClockContradiction,
            created_pointer,
            "created_at is after issued_at",
        ));
    }
    if issued_at > now + SKEW {
        return Err(Failure::new(
            Code::FutureTimestampPoisoning,
            "/issued_at",
            format!("issued_at {issued_at} is in the future"),
        ));
    }
    Ok(())
}

/// The codes a manifest check gives: the protocol picks them per kind of
/// bundle (export, aggregate).
pub(super) struct ManifestCodes {
    /// A path listed twice, or a content type other than JSON.
    pub malformed: Code,
    /// Entries and artifacts that do not pair up.
    pub unlisted: Code,
}

/// The manifest `entries` (at `at`) list exactly the `expected` artifacts
/// (path and value), in that order of checking, each by the SHA-256
/// (`HASH_MISMATCH`) and size (`HASH_MISMATCH`) of its JCS form, with
/// content type `application/json`. First failure only.
pub(super) fn check_manifest(
    entries: &[Value],
    at: &str,
    expected: Vec<(String, &Value)>,
    codes: ManifestCodes,
) -> Result<(), Failure> {
    let mut listed: HashMap<&str, (usize, &Value)> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let path = entry
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if listed.insert(path, (i, entry)).is_some() {
            return Err(Failure::new(
                codes.malformed,
                format!("{at}/{i}/path"),
                format!("`{path}` is listed twice"),
            ));
        }
    }
    if entries.len() != expected.len() {
        return Err(Failure::new(
            codes.unlisted,
            at,
            format!("{} entries for {} artifacts", entries.len(), expected.len()),
        ));
    }
    for (path, artifact) in expected {
        let Some(&(i, entry)) = listed.get(path.as_str()) else {
            return Err(Failure::new(
                codes.unlisted,
                at,
                format!("no entry for {path}"),
            ));
        };
        let at = format!("{at}/{i}");
        let (hash, size) = jcs_hash(artifact, &at)?;
        if entry.get("sha256_b64u").and_then(Value::as_str) != Some(hash.as_str()) {
            return Err(Failure::new(
                Code::HashMismatch,
                format!("{at}/sha256_b64u"),
                format!("manifest hash mismatch for {path}: the artifact hashes to `{hash}`"),
            ));
        }
        if entry.get("content_type").and_then(Value::as_str) != Some("application/json") {
            return Err(Failure::new(
                codes.malformed,
                format!("{at}/content_type"),
                "content_type must be application/json",
            ));
        }
        if entry.get("size_bytes").and_then(Value::as_u64) != Some(size as u64) {
            return Err(Failure::new(
                Code::HashMismatch,
                format!("{at}/size_bytes"),
                format!("manifest size mismatch for {path}: the artifact is {size} bytes"),
            ));
        }
    }
    Ok(())
}

/// SHA-256 (base64url) and length of the JCS form of `value`.
pub(super) fn jcs_hash(value: &Value, at: &str) -> Result<(String, usize), Failure> {
    let bytes = canonical_json(value)
        .map_err(|err| Failure::new(Code::HashMismatch, at, format!("cannot hash: {err}")))?;
    Ok((sha256_b64u(&bytes), bytes.len()))
}
