//! The one adapter between the server and the release branch: everything
//! `wpc serve` answers comes from a [`ReleaseState`], built only from a
//! branch whose whole history verified under the release trust rules (every
//! entry anchored in main, every state signed by a checkpoint, no rollback
//! from what this repository has seen), from the envelope bytes that
//! verification read and checked: nothing is read or verified twice. A
//! reload verifies only the commits on top of the served state.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::decide::{CompileError, Engine};
use crate::git::{GitError, Oid, Repo};
use crate::policy::{Document, Policy};
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

/// One released version, shared by the renderings of its hashes: the
/// policy that decides under any of them.
#[derive(Debug)]
struct Released {
    name: Arc<str>,
    /// The native envelope, a slice of the native rendering's body.
    policy: Bytes,
    /// Compiled on first use, and kept while the version is served.
    engine: OnceLock<Result<Engine, EngineError>>,
}

/// One served document: the registry's 200 body for its hash.
#[derive(Debug)]
pub struct Rendering {
    /// `native`, `claw-v1` or `claw-v2`.
    pub kind: &'static str,
    /// `{"ok":true,"policy_hash_b64u":H,"envelope":E}` with the envelope
    /// as stored on the branch, less the whitespace between its tokens.
    pub body: Bytes,
    /// A strong validator of `body`.
    pub etag: HeaderValue,
    hash: Arc<str>,
    version: Arc<Released>,
}

/// Where bodies and ETags are kept: appended to shared chunks rather than
/// allocated one by one. Thousands of small buffers that live as long as
/// the state, made on the verifier's threads between the allocations
/// verification frees, would pin the heap's pages; a chunk this size is
/// mapped apart from the heap.
#[derive(Default)]
struct Slab {
    chunk: BytesMut,
}

const CHUNK: usize = 1 << 20;

impl Slab {
    /// `parts` one after the other, as one `Bytes`.
    fn add(&mut self, parts: &[&[u8]]) -> Bytes {
        let len = parts.iter().map(|p| p.len()).sum();
        if self.chunk.capacity() - self.chunk.len() < len {
            self.chunk = BytesMut::with_capacity(CHUNK.max(len));
        }
        for part in parts {
            self.chunk.extend_from_slice(part);
        }
        self.chunk.split().freeze()
    }
}

impl Rendering {
    /// The registry's body for `hash` with its `envelope` (compacted), its
    /// ETag, and where the envelope is in the body.
    fn body(
        slab: &mut Slab,
        hash: &str,
        envelope: &[u8],
    ) -> (Bytes, HeaderValue, std::ops::Range<usize>) {
        const HEAD: &[u8] = b"{\"ok\":true,\"policy_hash_b64u\":\"";
        const MIDDLE: &[u8] = b"\",\"envelope\":";
        let parts: [&[u8]; 5] = [HEAD, hash.as_bytes(), MIDDLE, envelope, b"}"];
        let mut digest = Sha256::new();
        for part in parts {
            digest.update(part);
        }
        let digest = URL_SAFE_NO_PAD.encode(digest.finalize());
        let body = slab.add(&parts);
        let start = HEAD.len() + hash.len() + MIDDLE.len();
        let etag = slab.add(&[b"\"", digest.as_bytes(), b"\""]);
        // Base64url and quotes are visible ASCII: always a header value.
        let etag = HeaderValue::from_maybe_shared(etag)
            .unwrap_or_else(|_| HeaderValue::from_static("\"\""));
        (body, etag, start..start + envelope.len())
    }

    /// The renderings of the envelopes of one verified index entry, the
    /// native one first.
    fn of_entry(slab: &Mutex<Slab>, verified: VerifiedEntry<'_>) -> Vec<Rendering> {
        let VerifiedEntry {
            name,
            entry,
            envelopes,
        } = verified;
        let name: Arc<str> = Arc::from(name);
        let mut out: Vec<Rendering> = Vec::with_capacity(envelopes.len());
        let mut version: Option<Arc<Released>> = None;
        for (hash, mut envelope) in envelopes {
            compact_json(&mut envelope);
            let (body, etag, range) = {
                let mut slab = slab.lock().unwrap_or_else(PoisonError::into_inner);
                Rendering::body(&mut slab, hash, &envelope)
            };
            let version = version
                .get_or_insert_with(|| {
                    // The native envelope comes first: the policy is kept
                    // once, inside its own body.
                    Arc::new(Released {
                        name: name.clone(),
                        policy: body.slice(range),
                        engine: OnceLock::new(),
                    })
                })
                .clone();
            out.push(Rendering {
                kind: entry
                    .rendering_of(hash)
                    .map_or("native", |claw| claw.rendering()),
                body,
                etag,
                hash: Arc::from(hash),
                version,
            });
        }
        out
    }

    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The policy released under this hash.
    pub fn name(&self) -> &str {
        &self.version.name
    }

    /// The version's policy compiled for deciding, built once.
    pub fn engine(&self) -> Result<&Engine, &EngineError> {
        let version = &self.version;
        version
            .engine
            .get_or_init(|| compile(&self.hash, &version.policy))
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

/// `json` (valid JSON) without the whitespace between its tokens: the
/// same JSON value, byte for byte in every token (no key order, number or
/// string is rewritten), so the signature and the payload hash a client
/// recomputes are the same. Stored envelopes are indented; the server holds
/// thousands of them.
fn compact_json(json: &mut Vec<u8>) {
    let mut in_string = false;
    let mut escaped = false;
    json.retain(|&byte| {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            true
        } else if byte == b'"' {
            in_string = true;
            true
        } else {
            !matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
        }
    });
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
}

impl ReleaseState {
    /// Verify the whole branch, then read it. Anything short of a branch
    /// that verifies is an error: a server keeps its last good state.
    pub fn load(source: &Source) -> Result<ReleaseState, StateError> {
        ReleaseState::verify(source, None)
    }

    /// The branch as it is now: only the commits on top of this state are
    /// verified when the branch (and main) grew from it, the whole history
    /// otherwise; the renderings this state serves are kept.
    pub fn reload(&self, source: &Source) -> Result<ReleaseState, StateError> {
        ReleaseState::verify(source, Some(self))
    }

    fn verify(source: &Source, before: Option<&ReleaseState>) -> Result<ReleaseState, StateError> {
        let repo = Repo::open(&source.repo)?;
        let branch = source.branch().to_owned();
        if repo.branch_tip(&branch)?.is_none() {
            return Err(StateError::NoBranch(branch));
        }
        // Each entry's envelopes become its renderings as they verify, on
        // the verifier's threads; they are kept only if all verifies.
        let slab = Mutex::new(Slab::default());
        let made: Mutex<HashMap<Arc<str>, Arc<Rendering>>> = Mutex::default();
        let keep = |verified: VerifiedEntry<'_>| {
            let renderings = Rendering::of_entry(&slab, verified);
            let mut made = made.lock().unwrap_or_else(PoisonError::into_inner);
            for rendering in renderings {
                made.insert(rendering.hash.clone(), Arc::new(rendering));
            }
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
        let made = made.into_inner().unwrap_or_else(PoisonError::into_inner);
        let state = &verified.release;
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
                    .ok_or_else(|| StateError::MissingEnvelope {
                        branch: branch.clone(),
                        path: envelope_path(hash),
                        commit: state.tip,
                    })?;
                renderings.insert(rendering.hash.clone(), rendering.clone());
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
        Ok(ReleaseState {
            branch,
            release_commit,
            checkpoint_version,
            main_commit,
            verified,
            renderings,
            revoked,
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
            "policies": self.verified.release.index.policies.len(),
            "versions": self.versions(),
            "revoked": self.revoked.len(),
        });
        if let (Some(reason), Some(fields)) = (degraded, health.as_object_mut()) {
            fields.insert("reason".to_owned(), Value::from(reason));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_keeps_the_json_value_and_every_token() {
        let stored = br#"{
  "payload": { "purpose": "a \"quoted\" \\ tab\t and  spaces",
    "n": 1.50, "list": [ 1 , 2 ] },
  "signature_b64u": "ab_-"
}
"#;
        let mut out = stored.to_vec();
        compact_json(&mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"payload":{"purpose":"a \"quoted\" \\ tab\t and  spaces","n":1.50,"list":[1,2]},"signature_b64u":"ab_-"}"#
        );
        let before: Value = serde_json::from_slice(stored).unwrap();
        let after: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(before, after);
    }

    #[test]
    fn a_body_holds_the_compacted_envelope_and_its_etag_is_its_digest() {
        let hash = "_omUfu3k5KkSWLDdK7oemnSY1gKvu5lbEe4RGfTbpWA";
        let mut envelope = b"{ \"a\" : [ 1 ] }\n".to_vec();
        compact_json(&mut envelope);
        let mut slab = Slab::default();
        let (body, etag, range) = Rendering::body(&mut slab, hash, &envelope);
        let (again, _, _) = Rendering::body(&mut slab, hash, &envelope);
        assert_eq!(body, again);
        assert_eq!(
            &body[..],
            format!(r#"{{"ok":true,"policy_hash_b64u":"{hash}","envelope":{{"a":[1]}}}}"#)
                .as_bytes()
        );
        assert_eq!(&body[range], br#"{"a":[1]}"#);
        let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(&body));
        assert_eq!(etag.as_bytes(), format!("\"{digest}\"").as_bytes());
    }
}
