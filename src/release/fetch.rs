//! `wpc fetch`: one envelope by hash, verified as a runtime would at job
//! start; anything short of a released, unrevoked, validly signed envelope
//! from a trusted signer is an error.

use std::path::Path;

use super::{
    Freshness, INDEX_PATH, Index, Memory, REVOCATIONS_PATH, Reason, ReleaseError, Revocation,
    Source, VerifiedRelease, envelope_path, revoked_hashes_of, version_of,
};
use crate::claw::ClawVersion;
use crate::config::Config;
use crate::crypto::envelope::WorkPolicyContract;
use crate::crypto::verify::{ReasonCode, Trust, verify_envelope};
use crate::error::error_enum;
use crate::git::Repo;

error_enum! {
    pub enum FetchError {
        Release(ReleaseError),
        Unreadable(crate::fsio::ReadError),
        #[error("`{0}` is not a policy hash")]
        BadHash(String),
        #[error("{0} was never released on this branch")]
        NotReleased(String),
        #[error("{hash} is revoked: {reason}")]
        Revoked { hash: String, reason: String },
        #[error("{0}")]
        Invalid(String),
    }
}

/// The verified envelope of `hash` on the release branch of `source`,
/// anchored in main; revoked is an error.
pub fn fetch(
    repo: &Repo,
    source: &Source,
    hash: &str,
    freshness: &Freshness,
) -> Result<Vec<u8>, FetchError> {
    check_hash(hash)?;
    let state = VerifiedRelease::load(repo, source, freshness)?;
    let released = state.lookup(repo, hash)?;
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
    /// The envelope at `wpc/<hash>.json` of the hash asked for, verified.
    pub envelope: Vec<u8>,
    /// Which Claw rendering that hash is; `None` for the native policy.
    pub rendering: Option<ClawVersion>,
    /// The version's native hash and envelope (verified): the policy that
    /// decides, whichever of its hashes was asked for.
    pub policy_hash: String,
    pub policy: Vec<u8>,
    /// The version's revocation (revoking any of its hashes revokes all).
    pub revocation: Option<Revocation>,
}

/// The release branch of `config`'s repository: the repository holding
/// `config.root`, and the places of [`Source`] (the folder of `wpc.toml`
/// relative to its work tree, `[release] branch` and `main`). `None` when
/// there is no repository, or the branch does not exist in it and never
/// did as far as its verifier memory knows.
pub fn locate(config: &Config) -> Result<Option<(Repo, Source)>, ReleaseError> {
    // A `wpc.toml` in the current folder has the empty path as its root.
    let start = match config.root.as_os_str().is_empty() {
        true => Path::new("."),
        false => config.root.as_path(),
    };
    let Ok(repo) = Repo::discover(start) else {
        return Ok(None);
    };
    let branch = super::branch_name(config).to_owned();
    // A branch this repository saw before is located even when it is gone,
    // so that loading it reports the deletion rather than "no releases".
    if repo.branch_tip(&branch)?.is_none() && Memory::of(repo.location()).seen(&branch)?.is_none() {
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
    let source = Source::of(config, &root);
    Ok(Some((repo, source)))
}

/// The same from a checkout or export of the branch in `dir`, trusting the
/// signers in `trust`. Without main's history at hand nothing is anchored:
/// the envelope's signature and the revocations are all that is checked.
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
    if version_of(&index, hash).is_none() {
        return Err(FetchError::NotReleased(hash.to_owned()));
    }
    let revocations: Vec<Revocation> =
        serde_json::from_slice(&read(REVOCATIONS_PATH, crate::fsio::RELEASE_INDEX)?)
            .map_err(parse(REVOCATIONS_PATH))?;
    if let Some(at) = revoked_hashes_of(&index, &revocations).get(hash) {
        return Err(FetchError::Revoked {
            hash: hash.to_owned(),
            reason: revocations
                .get(*at)
                .map(|r| r.reason.clone())
                .unwrap_or_default(),
        });
    }
    verified_envelope(
        read(&envelope_path(hash), crate::fsio::RELEASE_ENVELOPE)?,
        hash,
        trust,
    )
    .map_err(|(_, message)| FetchError::Invalid(message))
}

pub(crate) fn check_hash(hash: &str) -> Result<(), FetchError> {
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

/// `bytes` if they are the envelope of `hash` signed by one of `trust`;
/// else why not, as a reason code and a message.
pub(crate) fn verified_envelope(
    bytes: Vec<u8>,
    hash: &str,
    trust: &Trust,
) -> Result<Vec<u8>, (Reason, String)> {
    let path = envelope_path(hash);
    let envelope = verify_envelope::<WorkPolicyContract>(&bytes, trust).map_err(|f| {
        let reason = match f.code() {
            ReasonCode::SignerNotTrusted => Reason::UntrustedSigner,
            _ => Reason::BadEnvelope,
        };
        (reason, format!("{path}: {f}"))
    })?;
    if envelope.payload_hash_b64u() != hash {
        return Err((
            Reason::BadEnvelope,
            format!("{path} holds {}", envelope.payload_hash_b64u()),
        ));
    }
    Ok(bytes)
}
