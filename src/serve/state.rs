//! The one adapter between the server and the release branch: everything
//! `wpc serve` answers comes from a [`ReleaseState`], built only from a
//! branch whose whole history verified under the release trust rules (every
//! entry anchored in main, every state signed by a checkpoint, no rollback
//! from what this repository has seen). Of each envelope it keeps what
//! finds and checks the body verification built from it (the blob, the
//! body's digest); the bodies themselves come from the [`Store`] when
//! asked. Nothing is verified twice: a reload verifies only the commits on
//! top of the served state.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::HeaderValue;
use serde::Serialize;
use serde_json::{Value, json};

use super::store::{self, BodyError, CacheLimits, Digest, Doc, EngineError, Store, compact_json};
use crate::decide::Engine;
use crate::error::error_enum;
use crate::git::{GitError, Oid, Repo};
use crate::release::{
    self, Freshness, ReleaseError, Revocation, Verification, VerifiedBranch, VerifiedEntry,
    VerifiedRelease, Violation, envelope_path,
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

error_enum! {
    pub enum StateError {
        Git(GitError),
        Release(ReleaseError),
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
        #[error("release branch `{branch}`: {path} is missing at {commit}")]
        MissingEnvelope {
            branch: String,
            path: String,
            commit: Oid,
        },
        #[error("release branch `{branch}`: `{hash}` is not a policy hash")]
        BadHash { branch: String, hash: String },
    }
}

/// One released version, shared by the renderings of its hashes: the
/// policy that decides under any of them is its native envelope's.
#[derive(Debug)]
struct Released {
    name: Arc<str>,
    native: Doc,
}

/// One served document: where the registry's 200 body for its hash is
/// and what it must hash to (see [`Store`]).
#[derive(Debug)]
pub struct Rendering {
    /// `native`, `claw-v1` or `claw-v2`.
    pub kind: &'static str,
    doc: Doc,
    version: Arc<Released>,
}

impl Rendering {
    pub fn hash(&self) -> &str {
        &self.doc.hash
    }

    /// The policy released under this hash.
    pub fn name(&self) -> &str {
        &self.version.name
    }

    /// A strong validator of the body (its SHA-256), known without
    /// reading it.
    pub fn etag(&self) -> HeaderValue {
        self.doc.etag()
    }
}

/// What verification recorded of one index entry's envelopes, made on the
/// verifier's threads: the policy's name, then each envelope's kind, hash
/// and body digest, the native one first.
struct Recorded {
    name: Arc<str>,
    docs: Vec<(&'static str, Arc<str>, Digest)>,
}

impl Recorded {
    fn of_entry(verified: VerifiedEntry<'_>) -> Recorded {
        let VerifiedEntry {
            name,
            entry,
            envelopes,
        } = verified;
        let docs = envelopes
            .into_iter()
            .map(|(hash, mut envelope)| {
                compact_json(&mut envelope);
                let kind = entry
                    .rendering_of(hash)
                    .map_or("native", |claw| claw.rendering());
                (kind, Arc::from(hash), store::digest(hash, &envelope))
            })
            .collect();
        Recorded {
            name: Arc::from(name),
            docs,
        }
    }
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
    /// The verification it came from, which the next one starts from.
    verified: VerifiedBranch,
    /// Hash → the rendering served under it (released, not revoked);
    /// shared with the states loaded after it.
    renderings: HashMap<Arc<str>, Arc<Rendering>>,
    /// Hash → the revocation's reason.
    revoked: HashMap<String, String>,
    /// `GET /v1/releases`, rendered once.
    pub releases: Bytes,
    /// Where bodies and engines come from; shared with the states loaded
    /// after it.
    store: Arc<Store>,
}

impl ReleaseState {
    /// Verify the whole branch, then read it. Anything short of a branch
    /// that verifies is an error: a server keeps its last good state.
    pub fn load(source: &Source) -> Result<ReleaseState, StateError> {
        ReleaseState::load_with(source, CacheLimits::default())
    }

    /// [`ReleaseState::load`] with caches of these sizes (kept by every
    /// state reloaded from this one).
    pub fn load_with(source: &Source, limits: CacheLimits) -> Result<ReleaseState, StateError> {
        ReleaseState::verify(source, None, limits)
    }

    /// The branch as it is now: only the commits on top of this state are
    /// verified when the branch (and main) grew from it, the whole history
    /// otherwise; the renderings this state serves are kept.
    pub fn reload(&self, source: &Source) -> Result<ReleaseState, StateError> {
        ReleaseState::verify(source, Some(self), self.store.limits())
    }

    fn verify(
        source: &Source,
        before: Option<&ReleaseState>,
        limits: CacheLimits,
    ) -> Result<ReleaseState, StateError> {
        let repo = Repo::open(&source.repo)?;
        let branch = source.branch().to_owned();
        if repo.branch_tip(&branch)?.is_none() {
            return Err(StateError::NoBranch(branch));
        }
        // Each entry's envelopes are recorded as they verify, on the
        // verifier's threads; the bytes are not kept.
        let recorded: Mutex<Vec<Recorded>> = Mutex::default();
        let keep = |verified: VerifiedEntry<'_>| {
            let entry = Recorded::of_entry(verified);
            recorded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(entry);
        };
        let verified = match release::verify_branch_from(
            &repo,
            &source.release,
            &source.freshness,
            before.map(|b| &b.verified),
            &keep,
        )? {
            Verification::Verified(verified) => *verified,
            Verification::Violated(violations) => return Err(unverified(branch, &violations)),
        };
        let state = &verified.release;
        let missing = |hash: &str| StateError::MissingEnvelope {
            branch: branch.clone(),
            path: envelope_path(hash),
            commit: state.tip,
        };
        let mut made: HashMap<Arc<str>, Arc<Rendering>> = HashMap::new();
        for Recorded { name, docs } in recorded
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
        {
            let mut version: Option<Arc<Released>> = None;
            for (kind, hash, digest) in docs {
                let blob = verified
                    .envelope_blob(&hash)
                    .ok_or_else(|| missing(&hash))?;
                let doc = Doc { hash, blob, digest };
                let version = version
                    .get_or_insert_with(|| {
                        Arc::new(Released {
                            name: name.clone(),
                            native: doc.clone(),
                        })
                    })
                    .clone();
                made.insert(doc.hash.clone(), Arc::new(Rendering { kind, doc, version }));
            }
        }
        let mut revoked: HashMap<String, String> = HashMap::new();
        let mut renderings: HashMap<Arc<str>, Arc<Rendering>> = HashMap::new();
        for entry in state.index.policies.values().flatten() {
            // Revoking a version revokes every hash it is served under.
            if let Some(revocation) = state.revocation(&entry.hash) {
                for hash in entry.hashes() {
                    revoked.insert(hash.to_owned(), revocation.reason.clone());
                }
                continue;
            }
            // A version released again (a revert) may carry renderings
            // made with other settings: those are served too.
            for hash in entry.hashes() {
                if !is_policy_hash(hash) {
                    return Err(StateError::BadHash {
                        branch,
                        hash: hash.to_owned(),
                    });
                }
                if renderings.contains_key(hash) {
                    continue;
                }
                let rendering = made
                    .get(hash)
                    .or_else(|| before.and_then(|b| b.renderings.get(hash)))
                    .ok_or_else(|| missing(hash))?;
                renderings.insert(rendering.doc.hash.clone(), rendering.clone());
            }
        }
        for revocation in &state.revocations {
            revoked
                .entry(revocation.hash.clone())
                .or_insert_with(|| revocation.reason.clone());
        }
        let releases = releases_json(state);
        let release_commit = state.tip;
        let checkpoint_version = state.checkpoint.version;
        let main_commit = state.checkpoint.main_commit.clone();
        let store = match before {
            Some(before) => before.store.clone(),
            None => Arc::new(Store::new(source.repo.clone(), limits)),
        };
        Ok(ReleaseState {
            branch,
            release_commit,
            checkpoint_version,
            main_commit,
            verified,
            renderings,
            revoked,
            releases,
            store,
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

    /// The registry's 200 body of `rendering`, as verified: from the cache,
    /// else read from the object database and checked.
    pub fn body(&self, rendering: &Rendering) -> Result<Bytes, BodyError> {
        self.store.body(&rendering.doc, self.release_commit)
    }

    /// [`ReleaseState::body`] read and checked, not cached (an export
    /// reads every body once).
    pub fn read_body(&self, rendering: &Rendering) -> Result<Bytes, BodyError> {
        self.store.read(&rendering.doc, self.release_commit)
    }

    /// The compiled policy that decides under `rendering`'s hash: its
    /// version's native envelope, compiled on first use and cached.
    pub fn engine(&self, rendering: &Rendering) -> Result<Arc<Engine>, EngineError> {
        self.store
            .engine(&rendering.version.native, self.release_commit)
    }

    /// Every served rendering, in no particular order.
    pub fn renderings(&self) -> impl Iterator<Item = &Rendering> {
        self.renderings.values().map(|r| &**r)
    }

    /// Released versions, revoked ones included.
    pub fn versions(&self) -> usize {
        self.verified
            .release
            .index
            .policies
            .values()
            .map(Vec::len)
            .sum()
    }

    pub fn revoked_count(&self) -> usize {
        self.revoked.len()
    }

    /// `GET /health` (the registry's `status`, `version` and
    /// `signingEnabled`, then what is served); `degraded` names why the
    /// branch's newest state is not the one served. A body refused since
    /// the server started (read back unlike what verified) degrades it too:
    /// `refused` counts them, and `reason` names the last unless the branch
    /// is the reason.
    pub fn health(&self, degraded: Option<&str>) -> Bytes {
        let (refused, refusal) = self.store.refusals();
        let reason = degraded.map(str::to_owned).or(refusal);
        let mut health = json!({
            "status": if reason.is_some() { "degraded" } else { "ok" },
            "version": env!("CARGO_PKG_VERSION"),
            "signingEnabled": false,
            "branch": self.branch,
            "release_commit": self.release_commit.to_string(),
            "checkpoint_version": self.checkpoint_version,
            "main_commit": self.main_commit,
            "policies": self.verified.release.index.policies.len(),
            "versions": self.versions(),
            "revoked": self.revoked.len(),
        });
        if let Some(fields) = health.as_object_mut() {
            if refused > 0 {
                fields.insert("refused".to_owned(), Value::from(refused));
            }
            if let Some(reason) = reason {
                fields.insert("reason".to_owned(), Value::from(reason));
            }
        }
        Bytes::from(health.to_string())
    }
}

fn unverified(branch: String, violations: &[Violation]) -> StateError {
    let (commit, message) = violations.first().map_or_else(
        || (String::new(), "no violation named".to_owned()),
        |first| {
            (
                first.commit.clone(),
                format!("{}: {}", first.reason.code(), first.message),
            )
        },
    );
    StateError::Unverified {
        branch,
        count: violations.len(),
        commit,
        message,
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

#[derive(Serialize)]
struct Revoked<'a> {
    hash: &'a str,
    reason: &'a str,
    revoked_at: &'a str,
    signer_did: &'a str,
}

/// `GET /v1/releases`, its keys in this order.
#[derive(Serialize)]
struct Releases<'a> {
    ok: bool,
    branch: &'a str,
    release_commit: String,
    checkpoint_version: u64,
    main_commit: &'a str,
    policies: BTreeMap<&'a str, Vec<Version<'a>>>,
    revocations: Vec<Revoked<'a>>,
}

/// Serialized straight from the verified index: a `serde_json::Value` of
/// 10,000 versions would be a tree of some 20 MB, built at start-up while
/// the renderings are held, that the process keeps as its peak.
fn releases_json(verified: &VerifiedRelease) -> Bytes {
    let revoked = |hash: &str| verified.revocation(hash).is_some();
    let policies = verified
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
    let revocations = verified
        .revocations
        .iter()
        .map(|r: &Revocation| Revoked {
            hash: &r.hash,
            reason: &r.reason,
            revoked_at: &r.revoked_at,
            signer_did: &r.signer_did,
        })
        .collect();
    let releases = Releases {
        ok: true,
        branch: &verified.source.branch,
        release_commit: verified.tip.to_string(),
        checkpoint_version: verified.checkpoint.version,
        main_commit: &verified.checkpoint.main_commit,
        policies,
        revocations,
    };
    // Strings, numbers and maps with string keys: serializing cannot fail.
    Bytes::from(serde_json::to_vec(&releases).unwrap_or_default())
}

/// SHA-256 in base64url without padding: 43 characters of that alphabet.
pub fn is_policy_hash(hash: &str) -> bool {
    hash.len() == 43
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
