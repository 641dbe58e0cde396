//! `wpc revoke`: a signed revocation appended to `revocations.json`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;

use super::anchor::Main;
use super::{
    Branch, CHECKPOINT_PATH, Checkpoint, Freshness, REVOCATIONS_PATH, ReleaseError, Revocation,
    Source, checkpoint, main_commit_of, rfc3339, state, to_json,
};
use crate::crypto::keys::SigningKey;
use crate::git::{Oid, Repo};
use crate::policy::hash::{HashError, canonical_json};

/// Longest revocation reason kept.
pub const MAX_REASON_CHARS: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error(transparent)]
    Release(#[from] ReleaseError),
    #[error("`{0}` is not a policy hash")]
    BadHash(String),
    #[error("{0} was never released on `{1}`: nothing to revoke")]
    Unknown(String, String),
    #[error("the reason must be 1 to {MAX_REASON_CHARS} characters")]
    Reason,
    #[error(
        "the signing key {0} is not a release signer of main (as of the last released commit or at main's tip): nothing was revoked"
    )]
    UntrustedKey(String),
    #[error("cannot encode the revocation: {0}")]
    Encode(#[from] HashError),
}

/// What [`revoke`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revoked {
    /// A new tip holds the revocation of the version whose native hash is
    /// `version` (and so of all its renderings).
    Now { commit: Oid, version: String },
    /// The hash was revoked before (by this run's twin, say), at this time.
    Already(String),
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

/// Append a signed revocation of `hash` to the release branch of `source`
/// (one commit with the next checkpoint, one compare-and-swap of the
/// reference). The branch's tip is verified first.
pub fn revoke(
    repo: &Repo,
    source: &Source,
    hash: &str,
    reason: &str,
    key: &SigningKey,
    now: Timestamp,
) -> Result<Revoked, RevokeError> {
    if super::fetch::check_hash(hash).is_err() {
        return Err(RevokeError::BadHash(hash.chars().take(60).collect()));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(RevokeError::Reason);
    }
    let branch_name = &source.branch;
    let mut main = Main::read(repo, source)?;
    let mut state = Branch::read(repo, branch_name)?;
    let tip = state
        .tip
        .ok_or_else(|| ReleaseError::NoBranch(branch_name.to_owned()))?;
    let previous = state::verify_tip(repo, &state, tip, &mut main, &Freshness::default())?;
    // Any hash of a version revokes the version; the revocation names its
    // native hash, which every rendering of it leads back to.
    let Some(version) = super::version_of(&state.index, hash).map(str::to_owned) else {
        return Err(RevokeError::Unknown(
            hash.to_owned(),
            branch_name.to_owned(),
        ));
    };
    if let Some(at) = super::revoked_hashes_of(&state.index, &state.revocations).get(&version) {
        let revoked_at = state
            .revocations
            .get(*at)
            .map(|r| r.revoked_at.clone())
            .unwrap_or_default();
        return Ok(Revoked::Already(revoked_at));
    }
    let hash = version.as_str();
    let main_commit = main_commit_of(branch_name, &previous)?;
    if !main.admits_state_signer(&key.did(), main_commit) {
        return Err(RevokeError::UntrustedKey(key.did_str().to_owned()));
    }
    let revoked_at = rfc3339(now);
    let message = revocation_message(hash, reason, &revoked_at, key.did_str())?;
    state.revocations.push(Revocation {
        hash: hash.to_owned(),
        reason: reason.to_owned(),
        revoked_at: revoked_at.clone(),
        signer_did: key.did_str().to_owned(),
        signature_b64u: URL_SAFE_NO_PAD.encode(key.sign(&message).to_bytes()),
    });
    let index = to_json(&state.index, "index.json")?;
    let revocations = to_json(&state.revocations, "revocations.json")?;
    let checkpoint = Checkpoint::sign(
        checkpoint::Statement {
            version: previous.version + 1,
            index: &index,
            revocations: &revocations,
            previous: Some(previous.hash()?),
            main_commit: previous.main_commit.clone(),
            issued_at: revoked_at,
        },
        key,
    )?;
    let files = vec![
        (REVOCATIONS_PATH.to_owned(), revocations),
        (
            CHECKPOINT_PATH.to_owned(),
            to_json(&checkpoint, "checkpoint.json")?,
        ),
    ];
    let commit = repo
        .write_commit(
            Some(tip),
            &files,
            &format!("wpc revoke: {hash} (checkpoint {})", checkpoint.version),
        )
        .map_err(ReleaseError::from)?;
    repo.update_branch(branch_name, Some(tip), commit, "wpc revoke")
        .map_err(ReleaseError::from)?;
    super::remember(repo, branch_name, &checkpoint)?;
    Ok(Revoked::Now { commit, version })
}
