//! Signed artifacts: an envelope that vouches for a file by name and SHA-256
//! (`artifact_digest`), such as a release's `SHA256SUMS`.
//!
//! The payload is `{"artifact": NAME, "sha256": HEX}`, hashed as JCS like a
//! WPC. Names are limited to `[A-Za-z0-9._+-]` so that the payload's JCS
//! form is exactly `{"artifact":"NAME","sha256":"HEX"}`: a verifier with no
//! JSON library (the Action's install script, with only `openssl`) rebuilds
//! it from the file it downloaded and the name it expects, and never has to
//! trust the payload the envelope carries.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::crypto::envelope::{EnvelopeKind, Jcs, SignError, SignedEnvelope};
use crate::crypto::keys::SigningKey;
use crate::crypto::quote;
use crate::crypto::verify::{Trust, Verified, VerifyFailure, verify_envelope};

/// The `artifact_digest` envelope kind (JCS hash).
#[derive(Debug, Clone, Copy)]
pub struct ArtifactDigest;

impl EnvelopeKind for ArtifactDigest {
    const ENVELOPE_TYPE: &'static str = "artifact_digest";
    type HashRule = Jcs;
}

/// The longest artifact name accepted.
pub const MAX_NAME_LEN: usize = 255;

/// Why a file cannot be read as an artifact.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("no file name")]
    NoFileName,
    #[error("a symbolic link; sign the file it points to")]
    Symlink,
    #[error("{0}")]
    Refused(crate::fsio::Problem),
    #[error("{0}")]
    Io(std::io::Error),
}

/// Why an artifact could not be signed or did not verify.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error(
        "`{0}` is not an artifact name (1 to {MAX_NAME_LEN} of A-Z a-z 0-9 . _ + -, not starting with `.`)"
    )]
    BadName(String),
    #[error("{}: {why}", path.display())]
    Read { path: PathBuf, why: Unreadable },
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("the envelope does not verify: {0}")]
    Envelope(VerifyFailure),
    #[error("the envelope vouches for {expected}, not for {actual}")]
    OtherArtifact { expected: String, actual: String },
    #[error("{name} does not match the signed SHA-256 (signed {signed}, file {actual})")]
    DigestMismatch {
        name: String,
        signed: String,
        actual: String,
    },
}

/// The payload that vouches for `bytes` under `name`.
pub fn payload(name: &str, bytes: &[u8]) -> Result<Value, ArtifactError> {
    if !is_artifact_name(name) {
        return Err(ArtifactError::BadName(quote(name)));
    }
    Ok(digest_payload(name, sha256_hex(bytes)))
}

fn digest_payload(name: &str, sha256_hex: String) -> Value {
    json!({ "artifact": name, "sha256": sha256_hex })
}

/// Signs the file at `path` as the artifact named by its file name. The
/// file is hashed as a stream; it must be a regular file (not a FIFO, a
/// device or a symlink), so signing cannot block or sign a moving target.
pub fn sign_file(
    path: &Path,
    key: &SigningKey,
    issued_at: Timestamp,
) -> Result<SignedEnvelope, ArtifactError> {
    let read = |why: Unreadable| ArtifactError::Read {
        path: path.to_owned(),
        why,
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| read(Unreadable::NoFileName))?;
    if !is_artifact_name(name) {
        return Err(ArtifactError::BadName(quote(name)));
    }
    // A link could be pointed elsewhere while it is signed.
    let meta = std::fs::symlink_metadata(path).map_err(|e| read(Unreadable::Io(e)))?;
    if meta.file_type().is_symlink() {
        return Err(read(Unreadable::Symlink));
    }
    // Streamed, so no size limit: release archives are large, and only
    // their digest is kept. Never a FIFO or device (fsio checks the handle).
    let mut file =
        crate::fsio::open_regular(path).map_err(|e| read(Unreadable::Refused(e.problem)))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| read(Unreadable::Io(e)))?;
        if n == 0 {
            break;
        }
        hasher.update(buffer.get(..n).unwrap_or_default());
    }
    let payload = digest_payload(name, hex(&hasher.finalize()));
    Ok(SignedEnvelope::sign::<ArtifactDigest>(
        payload, key, issued_at,
    )?)
}

/// Verifies that `envelope` is a valid `artifact_digest` envelope by a
/// signer `trust` admits, for the artifact `name` with exactly `bytes`.
pub fn verify(
    envelope: &[u8],
    name: &str,
    bytes: &[u8],
    trust: &Trust,
) -> Result<Verified<ArtifactDigest>, ArtifactError> {
    let verified =
        verify_envelope::<ArtifactDigest>(envelope, trust).map_err(ArtifactError::Envelope)?;
    let expected = payload(name, bytes)?;
    let signed = verified.payload();
    if signed["artifact"] != expected["artifact"] {
        return Err(ArtifactError::OtherArtifact {
            expected: name.to_owned(),
            actual: quote(&signed["artifact"].to_string()),
        });
    }
    if signed != &expected {
        return Err(ArtifactError::DigestMismatch {
            name: name.to_owned(),
            signed: quote(&signed["sha256"].to_string()),
            actual: sha256_hex(bytes),
        });
    }
    Ok(verified)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_artifact_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::crypto::envelope::parse_rfc3339;

    fn key() -> SigningKey {
        SigningKey::from_seed(&[7; 32])
    }

    fn signed(name: &str, bytes: &[u8]) -> Vec<u8> {
        let at = parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let envelope =
            SignedEnvelope::sign::<ArtifactDigest>(payload(name, bytes).unwrap(), &key(), at);
        serde_json::to_vec(&envelope.unwrap()).unwrap()
    }

    #[test]
    fn the_payload_hash_is_that_of_the_fixed_jcs_form() {
        // The Action's script rebuilds exactly this string.
        let sums = b"abc  wpc.tar.gz\n";
        let envelope: Value = serde_json::from_slice(&signed("SHA256SUMS", sums)).unwrap();
        let jcs = format!(
            "{{\"artifact\":\"SHA256SUMS\",\"sha256\":\"{}\"}}",
            sha256_hex(sums)
        );
        use base64::Engine as _;
        let hash =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(jcs.as_bytes()));
        assert_eq!(envelope["payload_hash_b64u"], hash.as_str());
        assert_eq!(envelope["envelope_type"], "artifact_digest");
    }

    #[test]
    fn a_good_envelope_verifies_under_its_signer_only() {
        let envelope = signed("SHA256SUMS", b"sums");
        let did = key().did();
        let verified = verify(&envelope, "SHA256SUMS", b"sums", &Trust::only([&did])).unwrap();
        assert_eq!(verified.signer().as_str(), did.as_str());
        let other = SigningKey::from_seed(&[8; 32]).did();
        assert!(matches!(
            verify(&envelope, "SHA256SUMS", b"sums", &Trust::only([&other])),
            Err(ArtifactError::Envelope(_))
        ));
    }

    #[test]
    fn tampered_file_name_or_envelope_is_rejected() {
        let envelope = signed("SHA256SUMS", b"sums");
        let trust = Trust::any_signer_unchecked();
        assert!(matches!(
            verify(&envelope, "SHA256SUMS", b"sumz", &trust),
            Err(ArtifactError::DigestMismatch { .. })
        ));
        assert!(matches!(
            verify(&envelope, "SHA512SUMS", b"sums", &trust),
            Err(ArtifactError::OtherArtifact { .. })
        ));
        // A payload edited to match another file breaks the signature.
        let mut value: Value = serde_json::from_slice(&envelope).unwrap();
        value["payload"]["sha256"] = sha256_hex(b"evil").into();
        let edited = serde_json::to_vec(&value).unwrap();
        assert!(matches!(
            verify(&edited, "SHA256SUMS", b"evil", &trust),
            Err(ArtifactError::Envelope(_))
        ));
        // A policy envelope is not an artifact envelope.
        value["envelope_type"] = "work_policy_contract".into();
        let retyped = serde_json::to_vec(&value).unwrap();
        assert!(verify(&retyped, "SHA256SUMS", b"sums", &trust).is_err());
    }

    #[test]
    fn names_that_need_json_escaping_are_refused() {
        for name in ["", ".hidden", "a\"b", "a/b", "a\\b", "é", &"a".repeat(256)] {
            assert!(
                matches!(payload(name, b""), Err(ArtifactError::BadName(_))),
                "{name}"
            );
        }
        assert!(payload("wpc-0.1.0-x86_64-unknown-linux-musl.tar.gz", b"").is_ok());
    }

    #[test]
    fn a_signed_file_verifies_and_a_fifo_or_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("SHA256SUMS");
        let text = vec![b'x'; 200_000];
        std::fs::write(&file, &text).unwrap();
        let at = parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let envelope = serde_json::to_vec(&sign_file(&file, &key(), at).unwrap()).unwrap();
        verify(&envelope, "SHA256SUMS", &text, &Trust::only([&key().did()])).unwrap();
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert!(matches!(
                sign_file(&link, &key(), at),
                Err(ArtifactError::Read { .. })
            ));
        }
        assert!(matches!(
            sign_file(dir.path(), &key(), at),
            Err(ArtifactError::Read { .. }) | Err(ArtifactError::BadName(_))
        ));
    }
}
