//! The one adapter between the server and the release branch: everything
//! `wpc serve` answers comes from a [`ReleaseState`], loaded only after the
//! whole branch verified under the release trust rules (every entry anchored
//! in main, every state signed by a checkpoint, no rollback from what this
//! repository has seen) and its tip loaded as a [`VerifiedRelease`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::decide::{CompileError, Engine};
use crate::git::{GitError, Oid, Repo};
use crate::policy::{Document, Policy};
use crate::release::{
    self, Freshness, MAX_ENVELOPE_BYTES, ReleaseError, Revocation, VerifiedRelease, envelope_path,
};

/// Where the release branch is: the repository (its Git folder or a bare
/// repository), the release places in it (the branch, the folder of
/// `wpc.toml`, the main branch releases are anchored in), and how fresh the
/// served state must be.
#[derive(Clone, Debug)]
pub struct Source {
    pub repo: PathBuf,
    pub release: release::Source,
    pub freshness: Freshness,
}

impl Source {
    pub fn branch(&self) -> &str {
        &self.release.branch
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Release(#[from] ReleaseError),
    #[error("release branch `{0}` does not exist")]
    NoBranch(String),
    #[error(
        "release branch `{branch}` does not verify ({count} violations); the first: commit {commit}: {message}"
    )]
    Unverified {
        branch: String,
        count: usize,
        commit: String,
        message: String,
    },
    #[error("release branch `{0}` moved while it was being verified")]
    Moved(String),
    #[error("release branch `{branch}`: {path} is missing at {commit}")]
    MissingEnvelope {
        branch: String,
        path: String,
        commit: Oid,
    },
    #[error("release branch `{branch}`: `{hash}` is not a policy hash")]
    BadHash { branch: String, hash: String },
}

/// Why a released envelope cannot be decided on (never expected for an
/// envelope that verified, but a server does not panic on it).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the envelope of {0} is not JSON with a payload")]
    Envelope(String),
    #[error("the payload of {hash} is not a valid policy ({count} problems)")]
    Invalid { hash: String, count: usize },
    #[error(transparent)]
    Compile(#[from] CompileError),
}

/// One served document: the registry's 200 body for its hash.
#[derive(Debug)]
pub struct Rendering {
    /// `native`, `claw-v1` or `claw-v2`.
    pub kind: &'static str,
    /// `{"ok":true,"policy_hash_b64u":H,"envelope":E}` with the envelope
    /// exactly as stored on the branch.
    pub body: Bytes,
    /// A strong validator of `body`.
    pub etag: String,
    /// The policy released under this hash.
    pub name: String,
    /// The version's native envelope, verified when the state loaded: the
    /// policy that decides under any of the version's hashes.
    policy: Bytes,
    hash: String,
    /// Compiled on first use and kept for the life of this state.
    engine: OnceLock<Result<Engine, EngineError>>,
}

impl Rendering {
    /// The rendering `kind` of `hash` with its stored `envelope`; `policy`
    /// is the version's native envelope, `None` when this is it.
    fn new(
        kind: &'static str,
        name: &str,
        hash: &str,
        envelope: &[u8],
        policy: Option<Bytes>,
    ) -> Rendering {
        let envelope = envelope.trim_ascii();
        let mut body = Vec::with_capacity(envelope.len() + 80);
        body.extend_from_slice(b"{\"ok\":true,\"policy_hash_b64u\":\"");
        body.extend_from_slice(hash.as_bytes());
        body.extend_from_slice(b"\",\"envelope\":");
        let start = body.len();
        body.extend_from_slice(envelope);
        let end = body.len();
        body.push(b'}');
        let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(Sha256::digest(&body)));
        let body = Bytes::from(body);
        Rendering {
            kind,
            name: name.to_owned(),
            // The native envelope is kept once, inside its own body.
            policy: policy.unwrap_or_else(|| body.slice(start..end)),
            body,
            etag,
            hash: hash.to_owned(),
            engine: OnceLock::new(),
        }
    }

    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The policy compiled for deciding, built once per state.
    pub fn engine(&self) -> Result<&Engine, &EngineError> {
        self.engine
            .get_or_init(|| compile(&self.hash, &self.policy))
            .as_ref()
    }
}

fn compile(hash: &str, envelope: &[u8]) -> Result<Engine, EngineError> {
    let payload = serde_json::from_slice::<Value>(envelope)
        .ok()
        .and_then(|mut v| v.get_mut("payload").map(Value::take))
        .ok_or_else(|| EngineError::Envelope(hash.to_owned()))?;
    let policy =
        Policy::from_document(Document::detached(payload)).map_err(|f| EngineError::Invalid {
            hash: hash.to_owned(),
            count: f.len(),
        })?;
    Ok(Engine::new(&policy.wpc)?)
}

/// What a hash is in a state.
#[derive(Debug)]
pub enum Lookup<'a> {
    Served(&'a Rendering),
    Revoked { reason: &'a str },
    Unknown,
}

/// A verified release branch at one commit.
#[derive(Debug)]
pub struct ReleaseState {
    pub branch: String,
    /// The release branch commit this state was read from.
    pub release_commit: Oid,
    /// The signed checkpoint's version.
    pub checkpoint_version: u64,
    /// The main commit the checkpoint was released up to.
    pub main_commit: String,
    /// Hash → the rendering served under it (released, not revoked).
    renderings: HashMap<String, Rendering>,
    /// Hash → the revocation's reason.
    revoked: HashMap<String, String>,
    /// Policy name → its released hashes, oldest first.
    pub policies: BTreeMap<String, Vec<String>>,
    /// `GET /v1/releases`, rendered once.
    pub releases: Bytes,
}

impl ReleaseState {
    /// Verify the whole branch, then read it. Anything short of a branch
    /// that verifies is an error: a server keeps its last good state.
    pub fn load(source: &Source) -> Result<ReleaseState, StateError> {
        let repo = Repo::open(&source.repo)?;
        let branch = source.branch().to_owned();
        let tip = repo
            .branch_tip(&branch)?
            .ok_or_else(|| StateError::NoBranch(branch.clone()))?;
        let violations = release::verify_branch(&repo, &source.release, &source.freshness)?;
        if let Some(first) = violations.first() {
            return Err(StateError::Unverified {
                branch,
                count: violations.len(),
                commit: first.commit.clone(),
                message: format!("{}: {}", first.reason.code(), first.message),
            });
        }
        // The tip's checkpoint, verified again as the consumer API does; the
        // history verified above must be the history of this very tip.
        let verified = VerifiedRelease::load(&repo, &source.release, &source.freshness)?;
        if verified.tip != tip {
            return Err(StateError::Moved(branch));
        }
        let mut revoked: HashMap<String, String> = HashMap::new();
        let mut renderings: HashMap<String, Rendering> = HashMap::new();
        let mut policies = BTreeMap::new();
        let read = |hash: &str| -> Result<Vec<u8>, StateError> {
            if !is_policy_hash(hash) {
                return Err(StateError::BadHash {
                    branch: branch.clone(),
                    hash: hash.to_owned(),
                });
            }
            let path = envelope_path(hash);
            repo.read_file(tip, &path, MAX_ENVELOPE_BYTES)?
                .ok_or(StateError::MissingEnvelope {
                    branch: branch.clone(),
                    path,
                    commit: tip,
                })
        };
        for (name, entries) in &verified.index.policies {
            let mut hashes = Vec::with_capacity(entries.len());
            for entry in entries {
                hashes.push(entry.hash.clone());
                // Revoking a version revokes every hash it is served under.
                if let Some(revocation) = verified.revocation(&entry.hash) {
                    for hash in entry.hashes() {
                        revoked.insert(hash.to_owned(), revocation.reason.clone());
                    }
                    continue;
                }
                // A version released again (a revert) may carry renderings
                // made with other settings: those are served too.
                let policy = match renderings.get(&entry.hash) {
                    Some(native) => native.policy.clone(),
                    None => {
                        let envelope = read(&entry.hash)?;
                        let native = Rendering::new("native", name, &entry.hash, &envelope, None);
                        let policy = native.policy.clone();
                        renderings.insert(entry.hash.clone(), native);
                        policy
                    }
                };
                for (version, hash) in &entry.renderings {
                    if !renderings.contains_key(hash) {
                        let envelope = read(hash)?;
                        let rendering = Rendering::new(
                            version.rendering(),
                            name,
                            hash,
                            &envelope,
                            Some(policy.clone()),
                        );
                        renderings.insert(hash.clone(), rendering);
                    }
                }
            }
            policies.insert(name.clone(), hashes);
        }
        for revocation in &verified.revocations {
            revoked
                .entry(revocation.hash.clone())
                .or_insert_with(|| revocation.reason.clone());
        }
        let releases = releases_json(&verified);
        Ok(ReleaseState {
            branch,
            release_commit: tip,
            checkpoint_version: verified.checkpoint.version,
            main_commit: verified.checkpoint.main_commit.clone(),
            renderings,
            revoked,
            policies,
            releases,
        })
    }

    pub fn lookup(&self, hash: &str) -> Lookup<'_> {
        if let Some(reason) = self.revoked.get(hash) {
            return Lookup::Revoked { reason };
        }
        match self.renderings.get(hash) {
            Some(rendering) => Lookup::Served(rendering),
            None => Lookup::Unknown,
        }
    }

    /// Every served rendering, in no particular order.
    pub fn renderings(&self) -> impl Iterator<Item = &Rendering> {
        self.renderings.values()
    }

    pub fn versions(&self) -> usize {
        self.policies.values().map(Vec::len).sum()
    }

    pub fn revoked_count(&self) -> usize {
        self.revoked.len()
    }

    /// `GET /health` (the registry's `status`, `version` and
    /// `signingEnabled`, then what is served); `degraded` names why the
    /// branch's newest state is not the one served.
    pub fn health(&self, degraded: Option<&str>) -> Bytes {
        let mut health = json!({
            "status": if degraded.is_some() { "degraded" } else { "ok" },
            "version": env!("CARGO_PKG_VERSION"),
            "signingEnabled": false,
            "branch": self.branch,
            "release_commit": self.release_commit.to_string(),
            "checkpoint_version": self.checkpoint_version,
            "main_commit": self.main_commit,
            "policies": self.policies.len(),
            "versions": self.versions(),
            "revoked": self.revoked.len(),
        });
        if let (Some(reason), Some(fields)) = (degraded, health.as_object_mut()) {
            fields.insert("reason".to_owned(), Value::from(reason));
        }
        Bytes::from(health.to_string())
    }
}

#[derive(Serialize)]
struct Version<'a> {
    hash: &'a str,
    previous: Option<&'a str>,
    commit: &'a str,
    released_at: &'a str,
    signer_did: &'a str,
    pr: Option<u64>,
    approved_by: &'a [String],
    /// Every hash the version is served under, by kind (`native`,
    /// `claw-v1`, `claw-v2`).
    renderings: BTreeMap<&'static str, &'a str>,
    revoked: bool,
}

fn releases_json(verified: &VerifiedRelease) -> Bytes {
    let revoked = |hash: &str| verified.revocation(hash).is_some();
    let policies: BTreeMap<&str, Vec<Version<'_>>> = verified
        .index
        .policies
        .iter()
        .map(|(name, entries)| {
            let versions = entries
                .iter()
                .map(|e| Version {
                    hash: &e.hash,
                    previous: e.previous.as_deref(),
                    commit: &e.commit,
                    released_at: &e.released_at,
                    signer_did: &e.signer_did,
                    pr: e.pr,
                    approved_by: &e.approved_by,
                    renderings: std::iter::once(("native", e.hash.as_str()))
                        .chain(
                            e.renderings
                                .iter()
                                .map(|(v, hash)| (v.rendering(), hash.as_str())),
                        )
                        .collect(),
                    revoked: revoked(&e.hash),
                })
                .collect();
            (name.as_str(), versions)
        })
        .collect();
    let revocations: Vec<Value> = verified
        .revocations
        .iter()
        .map(|r: &Revocation| {
            json!({
                "hash": r.hash,
                "reason": r.reason,
                "revoked_at": r.revoked_at,
                "signer_did": r.signer_did,
            })
        })
        .collect();
    let body = json!({
        "ok": true,
        "branch": verified.source.branch,
        "release_commit": verified.tip.to_string(),
        "checkpoint_version": verified.checkpoint.version,
        "main_commit": verified.checkpoint.main_commit,
        "policies": policies,
        "revocations": revocations,
    });
    Bytes::from(body.to_string())
}

/// SHA-256 in base64url without padding: 43 characters of that alphabet.
pub fn is_policy_hash(hash: &str) -> bool {
    hash.len() == 43
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
