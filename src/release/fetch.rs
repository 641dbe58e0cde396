//! `wpc fetch`: one envelope by hash, verified as a runtime would at job
//! start; anything short of a released, unrevoked, validly signed envelope
//! from a trusted signer is an error.

use std::path::Path;

use super::{
    Branch, INDEX_PATH, Index, MAX_ENVELOPE_BYTES, REVOCATIONS_PATH, Revocation, envelope_path,
    verify::trust_at,
};
use crate::config::Config;
use crate::crypto::envelope::WorkPolicyContract;
use crate::crypto::verify::{Trust, verify_envelope};
use crate::git::{Oid, Repo};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("`{0}` is not a policy hash")]
    BadHash(String),
    #[error("{0} was never released on this branch")]
    NotReleased(String),
    #[error("{hash} is revoked: {reason}")]
    Revoked { hash: String, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Release(#[from] super::ReleaseError),
    #[error(transparent)]
    Unreadable(#[from] crate::fsio::ReadError),
}

/// The verified envelope of `hash` on `branch`, trusted per the source
/// repository's signers at the commit it was released from.
pub fn fetch(repo: &Repo, branch: &str, root: &str, hash: &str) -> Result<Vec<u8>, FetchError> {
    let released = resolve(repo, branch, root, hash)?;
    match released.revocation {
        Some(r) => Err(FetchError::Revoked {
            hash: hash.to_owned(),
            reason: r.reason,
        }),
        None => Ok(released.envelope),
    }
}

/// A released WPC and whether it has been revoked since.
#[derive(Clone, Debug)]
pub struct ReleasedWpc {
    /// The envelope at `wpc/<hash>.json`, verified.
    pub envelope: Vec<u8>,
    pub revocation: Option<Revocation>,
}

/// The one lookup of a policy hash on a release branch, for `wpc fetch` and
/// for verifying bundles under the WPC they claim: released, its envelope
/// verified against the signers trusted at its source commit, and its
/// revocation if any (a revoked WPC is still returned, so a bundle under it
/// can be checked and reported `POLICY_REVOKED`).
pub fn resolve(
    repo: &Repo,
    branch: &str,
    root: &str,
    hash: &str,
) -> Result<ReleasedWpc, FetchError> {
    check_hash(hash)?;
    let state = Branch::read(repo, branch)?;
    let tip = state
        .tip
        .ok_or_else(|| FetchError::Invalid(format!("release branch `{branch}` does not exist")))?;
    let (_, entry) = state
        .entries_of(hash)
        .next()
        .ok_or_else(|| FetchError::NotReleased(hash.to_owned()))?;
    let revocation = state.revocations.iter().find(|r| r.hash == hash).cloned();
    let source = Oid::from_str(&entry.commit)
        .map_err(|_| FetchError::Invalid(format!("bad source commit `{}`", entry.commit)))?;
    let trust = trust_at(repo, root, source).map_err(FetchError::Invalid)?;
    let path = envelope_path(hash);
    let bytes = repo
        .read_file(tip, &path, MAX_ENVELOPE_BYTES)
        .map_err(|e| FetchError::Invalid(e.to_string()))?
        .ok_or_else(|| FetchError::Invalid(format!("{path} is missing on `{branch}`")))?;
    Ok(ReleasedWpc {
        envelope: verified(bytes, hash, &trust)?,
        revocation,
    })
}

/// The release branch of `config`'s repository: the repository holding
/// `config.root`, the folder of `wpc.toml` relative to its work tree, and
/// `[release] branch`. `None` when there is no repository, or the branch
/// does not exist in it.
pub fn locate(config: &Config) -> Result<Option<(Repo, String, String)>, super::ReleaseError> {
    // A `wpc.toml` in the current folder has the empty path as its root.
    let start = match config.root.as_os_str().is_empty() {
        true => Path::new("."),
        false => config.root.as_path(),
    };
    let Ok(repo) = Repo::discover(start) else {
        return Ok(None);
    };
    let branch = super::branch_name(config).to_owned();
    if repo.branch_tip(&branch)?.is_none() {
        return Ok(None);
    }
    let root = match (
        repo.workdir().and_then(|w| std::fs::canonicalize(w).ok()),
        std::fs::canonicalize(start).ok(),
    ) {
        (Some(workdir), Some(start)) => start
            .strip_prefix(&workdir)
            .map(|relative| {
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    Ok(Some((repo, root, branch)))
}

/// The same from a checkout or export of the branch in `dir`, trusting the
/// signers in `trust`.
pub fn fetch_from_dir(dir: &Path, hash: &str, trust: &Trust) -> Result<Vec<u8>, FetchError> {
    check_hash(hash)?;
    let read = |name: &str, limit: crate::fsio::Limit| -> Result<Vec<u8>, FetchError> {
        Ok(crate::fsio::read(&dir.join(name), limit)?)
    };
    let parse = |name: &'static str| {
        move |e: serde_json::Error| {
            FetchError::Invalid(format!("{}: {e}", dir.join(name).display()))
        }
    };
    let index: Index = serde_json::from_slice(&read(INDEX_PATH, crate::fsio::RELEASE_INDEX)?)
        .map_err(parse(INDEX_PATH))?;
    if !index.policies.values().flatten().any(|e| e.hash == hash) {
        return Err(FetchError::NotReleased(hash.to_owned()));
    }
    let revocations: Vec<Revocation> =
        serde_json::from_slice(&read(REVOCATIONS_PATH, crate::fsio::RELEASE_INDEX)?)
            .map_err(parse(REVOCATIONS_PATH))?;
    refuse_revoked(&revocations, hash)?;
    verified(
        read(&envelope_path(hash), crate::fsio::RELEASE_ENVELOPE)?,
        hash,
        trust,
    )
}

fn check_hash(hash: &str) -> Result<(), FetchError> {
    // SHA-256 in base64url without padding: 43 characters of that alphabet.
    let ok = hash.len() == 43
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(FetchError::BadHash(hash.chars().take(60).collect()))
    }
}

fn refuse_revoked(revocations: &[Revocation], hash: &str) -> Result<(), FetchError> {
    match revocations.iter().find(|r| r.hash == hash) {
        Some(r) => Err(FetchError::Revoked {
            hash: hash.to_owned(),
            reason: r.reason.clone(),
        }),
        None => Ok(()),
    }
}

fn verified(bytes: Vec<u8>, hash: &str, trust: &Trust) -> Result<Vec<u8>, FetchError> {
    let envelope = verify_envelope::<WorkPolicyContract>(&bytes, trust)
        .map_err(|f| FetchError::Invalid(format!("{}: {f}", envelope_path(hash))))?;
    if envelope.payload_hash_b64u() != hash {
        return Err(FetchError::Invalid(format!(
            "{} holds {}",
            envelope_path(hash),
            envelope.payload_hash_b64u()
        )));
    }
    Ok(bytes)
}
