//! `wpc revoke`: a signed revocation appended to `revocations.json`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;

use super::{Branch, REVOCATIONS_PATH, ReleaseError, Revocation, rfc3339, to_json};
use crate::crypto::keys::SigningKey;
use crate::git::{Oid, Repo};
use crate::policy::hash::{HashError, canonical_json};

/// Longest revocation reason kept.
pub const MAX_REASON_CHARS: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error(transparent)]
    Release(#[from] ReleaseError),
    #[error("release branch `{0}` does not exist")]
    NoBranch(String),
    #[error("{0} was never released on `{1}`: nothing to revoke")]
    Unknown(String, String),
    #[error("{0} is already revoked")]
    AlreadyRevoked(String),
    #[error("the reason must be 1 to {MAX_REASON_CHARS} characters")]
    Reason,
    #[error("cannot encode the revocation: {0}")]
    Encode(#[from] HashError),
}

/// The bytes a revocation's signature covers: the RFC 8785 form of its
/// other fields, so no field can be changed without breaking it.
pub fn revocation_message(
    hash: &str,
    reason: &str,
    revoked_at: &str,
    signer_did: &str,
) -> Result<Vec<u8>, HashError> {
    canonical_json(&serde_json::json!({
        "hash": hash,
        "reason": reason,
        "revoked_at": revoked_at,
        "signer_did": signer_did,
    }))
}

/// Append a signed revocation of `hash` to `branch` (one commit, one
/// compare-and-swap of the reference). Returns the new tip.
pub fn revoke(
    repo: &Repo,
    branch: &str,
    hash: &str,
    reason: &str,
    key: &SigningKey,
    now: Timestamp,
) -> Result<Oid, RevokeError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(RevokeError::Reason);
    }
    let mut state = Branch::read(repo, branch)?;
    let tip = state
        .tip
        .ok_or_else(|| RevokeError::NoBranch(branch.to_owned()))?;
    if state.entries_of(hash).next().is_none() {
        return Err(RevokeError::Unknown(hash.to_owned(), branch.to_owned()));
    }
    if state.is_revoked(hash) {
        return Err(RevokeError::AlreadyRevoked(hash.to_owned()));
    }
    let revoked_at = rfc3339(now);
    let message = revocation_message(hash, reason, &revoked_at, key.did_str())?;
    state.revocations.push(Revocation {
        hash: hash.to_owned(),
        reason: reason.to_owned(),
        revoked_at,
        signer_did: key.did_str().to_owned(),
        signature_b64u: URL_SAFE_NO_PAD.encode(key.sign(&message).to_bytes()),
    });
    let files = vec![(
        REVOCATIONS_PATH.to_owned(),
        to_json(&state.revocations, "revocations.json")?,
    )];
    let commit = repo
        .write_commit(Some(tip), &files, &format!("wpc revoke: {hash}"))
        .map_err(ReleaseError::from)?;
    repo.update_branch(branch, Some(tip), commit, "wpc revoke")
        .map_err(ReleaseError::from)?;
    Ok(commit)
}
