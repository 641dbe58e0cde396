//! Checkpoints: the signed statement of one whole state of the release
//! branch. Each release or revocation writes `checkpoint.json`, signed by
//! the release key, over a monotonic version, the SHA-256 of `index.json`
//! and of `revocations.json` as stored, the hash of the checkpoint before it
//! and the main commit the state was released up to. So no byte of the
//! index (its `last_commit` included) or of the revocations changes without
//! a signature, and checkpoints chain: a verifier that remembers one can
//! tell a later state of the same history from a rollback or a fork.
//!
//! The checkpoint commits to `index.json` as a whole, so index entries can
//! gain fields (further renderings of a release, say) without a new
//! checkpoint format.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::crypto::did::DidKey;
use crate::crypto::keys::SigningKey;
use crate::crypto::verify::verify_signature;
use crate::policy::hash::{HashError, canonical_json, sha256_b64u};

/// `checkpoint.json` on the release branch.
pub const CHECKPOINT_PATH: &str = "checkpoint.json";
/// A checkpoint's `format`.
pub const CHECKPOINT_FORMAT: &str = "wpc-release-checkpoint/1";

/// `checkpoint.json`: its fields but `signature_b64u` are signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format: String,
    /// 1 for the first state of the branch, one more for each after it.
    pub version: u64,
    /// `base64url(SHA-256)` of `index.json`'s bytes.
    pub index_sha256: String,
    /// `base64url(SHA-256)` of `revocations.json`'s bytes.
    pub revocations_sha256: String,
    /// [`Checkpoint::hash`] of the checkpoint before this one.
    pub previous: Option<String>,
    /// The main commit this state was released up to.
    pub main_commit: String,
    pub issued_at: String,
    pub signer_did: String,
    /// Ed25519 over the RFC 8785 form of the other fields.
    pub signature_b64u: String,
}

/// What a checkpoint states, before it is signed.
#[derive(Clone, Debug)]
pub struct Statement<'a> {
    pub version: u64,
    pub index: &'a [u8],
    pub revocations: &'a [u8],
    pub previous: Option<String>,
    pub main_commit: String,
    pub issued_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("format is `{0}`, expected `{CHECKPOINT_FORMAT}`")]
    Format(String),
    #[error("signer: {0}")]
    Signer(String),
    #[error("the signature does not verify")]
    Signature,
    #[error(transparent)]
    Encode(#[from] HashError),
}

impl Checkpoint {
    /// Sign `statement` with `key`.
    pub fn sign(statement: Statement<'_>, key: &SigningKey) -> Result<Checkpoint, HashError> {
        let mut checkpoint = Checkpoint {
            format: CHECKPOINT_FORMAT.to_owned(),
            version: statement.version,
            index_sha256: sha256_b64u(statement.index),
            revocations_sha256: sha256_b64u(statement.revocations),
            previous: statement.previous,
            main_commit: statement.main_commit,
            issued_at: statement.issued_at,
            signer_did: key.did_str().to_owned(),
            signature_b64u: String::new(),
        };
        let signature = key.sign(&checkpoint.signed_bytes()?);
        checkpoint.signature_b64u = URL_SAFE_NO_PAD.encode(signature.to_bytes());
        Ok(checkpoint)
    }

    /// The signer, once the format and the signature are right. Whether the
    /// signer is trusted is the caller's question.
    pub fn verify_signature(&self) -> Result<DidKey, CheckpointError> {
        if self.format != CHECKPOINT_FORMAT {
            return Err(CheckpointError::Format(self.format.clone()));
        }
        let did =
            DidKey::parse(&self.signer_did).map_err(|e| CheckpointError::Signer(e.to_string()))?;
        let signature = URL_SAFE_NO_PAD
            .decode(&self.signature_b64u)
            .map_err(|_| CheckpointError::Signature)?;
        verify_signature(
            did.verifying_key().as_bytes(),
            &self.signed_bytes()?,
            &signature,
        )
        .map_err(|_| CheckpointError::Signature)?;
        Ok(did)
    }

    /// Whether this checkpoint states exactly these `index.json` and
    /// `revocations.json` bytes.
    pub fn covers(&self, index: &[u8], revocations: &[u8]) -> bool {
        self.index_sha256 == sha256_b64u(index)
            && self.revocations_sha256 == sha256_b64u(revocations)
    }

    /// The checkpoint's identity, which the next one names as `previous`:
    /// `base64url(SHA-256)` of the RFC 8785 form of all its fields.
    pub fn hash(&self) -> Result<String, HashError> {
        Ok(sha256_b64u(&canonical_json(&self.to_value())?))
    }

    fn signed_bytes(&self) -> Result<Vec<u8>, HashError> {
        let mut value = self.to_value();
        if let Some(fields) = value.as_object_mut() {
            fields.remove("signature_b64u");
        }
        canonical_json(&value)
    }

    fn to_value(&self) -> serde_json::Value {
        serde_json::json!({
            "format": self.format,
            "version": self.version,
            "index_sha256": self.index_sha256,
            "revocations_sha256": self.revocations_sha256,
            "previous": self.previous,
            "main_commit": self.main_commit,
            "issued_at": self.issued_at,
            "signer_did": self.signer_did,
            "signature_b64u": self.signature_b64u,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(version: u64) -> Statement<'static> {
        Statement {
            version,
            index: b"{}",
            revocations: b"[]",
            previous: None,
            main_commit: "a".repeat(40),
            issued_at: "2026-11-24T12:00:00Z".to_owned(),
        }
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_seed(&[7; 32]);
        let checkpoint = Checkpoint::sign(statement(3), &key).unwrap();
        assert_eq!(
            checkpoint.verify_signature().unwrap().as_str(),
            key.did_str()
        );
        assert!(checkpoint.covers(b"{}", b"[]"));
        assert!(!checkpoint.covers(b"{ }", b"[]"));
        let mut changed = checkpoint.clone();
        changed.version = 4;
        assert!(matches!(
            changed.verify_signature(),
            Err(CheckpointError::Signature)
        ));
        let mut changed = checkpoint.clone();
        changed.main_commit = "b".repeat(40);
        assert!(changed.verify_signature().is_err());
        let mut changed = checkpoint.clone();
        changed.format = "other".to_owned();
        assert!(matches!(
            changed.verify_signature(),
            Err(CheckpointError::Format(_))
        ));
        // The hash covers the signature too: two signings of one statement
        // are one checkpoint only if their bytes agree.
        assert_ne!(checkpoint.hash().unwrap(), changed.hash().unwrap());
    }
}
