//! Where a served document's body and a version's decision engine come
//! from: read from the Git object database when asked, checked against
//! what verification recorded, and kept in two bounded caches.
//!
//! A state keeps per hash only what finds and checks its body: the
//! envelope's blob and the SHA-256 of the registry's 200 body that
//! verification built from the bytes it verified (also the ETag). A body
//! read again is built the same way and must hash to that digest; one that
//! does not (the object database changed after verification: Git does not
//! hash objects again on read, see `git::skip_rehashing_on_read`) is never
//! served: the request fails closed, the refusal is counted for `/health`
//! and logged. Both caches are keyed by digest, so what they hold is
//! immutable and shared by every state loaded after the first.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::HeaderValue;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::decide::{CompileError, Engine};
use crate::git::{Oid, Repo};
use crate::policy::{Document, Policy};
use crate::release::{MAX_ENVELOPE_BYTES, envelope_path};

/// SHA-256 of a registry body.
pub type Digest = [u8; 32];

/// How much the caches keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheLimits {
    /// Bytes of rendered bodies (about 1.2 KB each for a small policy;
    /// each counted with 64 bytes of bookkeeping). 0 keeps none: every
    /// `GET` reads its envelope.
    pub body_bytes: u64,
    /// Compiled decision engines, one a version (about 3.5 KB each for a
    /// small policy). 0 keeps none: every decision compiles its policy.
    pub engines: usize,
}

impl CacheLimits {
    /// 4 MiB of bodies: some 3,300 of small policies. A body read again
    /// costs little (docs/serve.md, "Memory and caches"), so the cache is
    /// for the hot set, not for all of a large branch.
    pub const DEFAULT_BODY_BYTES: u64 = 4 << 20;
    /// The engines of 1,024 versions: some 4 MB for small policies.
    pub const DEFAULT_ENGINES: usize = 1024;
}

impl Default for CacheLimits {
    fn default() -> CacheLimits {
        CacheLimits {
            body_bytes: CacheLimits::DEFAULT_BODY_BYTES,
            engines: CacheLimits::DEFAULT_ENGINES,
        }
    }
}

/// A body that cannot be served as it verified.
#[derive(Clone, Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the envelope of {hash} (blob {blob}) cannot be read back: {message}")]
    Unreadable {
        hash: String,
        blob: Oid,
        message: String,
    },
    #[error(
        "the envelope of {hash} read back from blob {blob} is not the one verified (its body hashes to {found}, verification recorded {expected}): the object database changed after verification"
    )]
    Mismatch {
        hash: String,
        blob: Oid,
        expected: String,
        found: String,
    },
}

/// Why a released version cannot be decided on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the envelope of {0} is not JSON with a payload")]
    Envelope(String),
    #[error("the payload of {hash} is not a valid policy ({count} problems)")]
    Invalid { hash: String, count: usize },
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// Its envelope could not be read back as it verified.
    #[error(transparent)]
    Body(#[from] BodyError),
}

/// One served document as verification saw it: enough to find its body
/// and check it.
#[derive(Clone, Debug)]
pub struct Doc {
    pub hash: Arc<str>,
    /// The envelope's blob on the release branch.
    pub blob: Oid,
    /// SHA-256 of the registry's 200 body.
    pub digest: Digest,
}

impl Doc {
    /// A strong validator of the body: its digest, quoted.
    pub fn etag(&self) -> HeaderValue {
        let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(self.digest));
        // Base64url and quotes are visible ASCII: always a header value.
        HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
    }
}

const HEAD: &[u8] = b"{\"ok\":true,\"policy_hash_b64u\":\"";
const MIDDLE: &[u8] = b"\",\"envelope\":";

/// `{"ok":true,"policy_hash_b64u":H,"envelope":E}`, in parts.
fn parts<'a>(hash: &'a str, envelope: &'a [u8]) -> [&'a [u8]; 5] {
    [HEAD, hash.as_bytes(), MIDDLE, envelope, b"}"]
}

/// The digest of the body of `hash` with its `envelope` (compacted).
pub fn digest(hash: &str, envelope: &[u8]) -> Digest {
    let mut digest = Sha256::new();
    for part in parts(hash, envelope) {
        digest.update(part);
    }
    digest.finalize().into()
}

/// The body of `hash` with its `envelope` (compacted).
pub fn body(hash: &str, envelope: &[u8]) -> Bytes {
    let parts = parts(hash, envelope);
    let mut body = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        body.extend_from_slice(part);
    }
    Bytes::from(body)
}

/// The envelope inside the body of `hash`.
fn envelope_of<'b>(hash: &str, body: &'b [u8]) -> &'b [u8] {
    let start = HEAD.len() + hash.len() + MIDDLE.len();
    body.get(start..body.len().saturating_sub(1))
        .unwrap_or_default()
}

/// `json` (valid JSON) without the whitespace between its tokens: the
/// same JSON value, byte for byte in every token (no key order, number or
/// string is rewritten), so the signature and the payload hash a client
/// recomputes are the same. Stored envelopes are indented.
pub fn compact_json(json: &mut Vec<u8>) {
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

/// A body's weight in the cache: its bytes and the entry's bookkeeping.
#[derive(Clone, Copy)]
struct BodyWeight;

impl Weighter<Digest, Bytes> for BodyWeight {
    fn weight(&self, _: &Digest, body: &Bytes) -> u64 {
        body.len() as u64 + 64
    }
}

/// The bodies and engines of one repository, shared by its states.
pub struct Store {
    repo: PathBuf,
    /// Repository handles not in use (a handle is `Send`, not `Sync`).
    handles: Mutex<Vec<Repo>>,
    bodies: Option<Cache<Digest, Bytes, BodyWeight>>,
    engines: Option<Cache<Digest, Arc<Engine>>>,
    limits: CacheLimits,
    refused: AtomicU64,
    last_refusal: Mutex<Option<String>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("repo", &self.repo)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub fn new(repo: PathBuf, limits: CacheLimits) -> Store {
        let bodies = (limits.body_bytes > 0).then(|| {
            let items = usize::try_from(limits.body_bytes / 1024).unwrap_or(usize::MAX);
            Cache::with_weighter(items.max(1), limits.body_bytes, BodyWeight)
        });
        let engines = (limits.engines > 0).then(|| Cache::new(limits.engines));
        Store {
            repo,
            handles: Mutex::default(),
            bodies,
            engines,
            limits,
            refused: AtomicU64::new(0),
            last_refusal: Mutex::default(),
        }
    }

    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    /// The body of `doc` (released at `commit`), from the cache, else read
    /// and checked, then kept. Reads run on the caller's thread (a server
    /// runtime's worker): one object of a few KB from a loose file or a
    /// mapped pack, microseconds, less than handing it to another thread.
    pub fn body(&self, doc: &Doc, commit: Oid) -> Result<Bytes, BodyError> {
        match &self.bodies {
            Some(cache) => cache.get_or_insert_with(&doc.digest, || self.read(doc, commit)),
            None => self.read(doc, commit),
        }
    }

    /// The body of `doc` read from the object database and checked, not
    /// kept; a refusal is counted and remembered.
    pub fn read(&self, doc: &Doc, commit: Oid) -> Result<Bytes, BodyError> {
        let read = self.read_checked(doc, commit);
        if let Err(err) = &read {
            self.refused.fetch_add(1, Ordering::Relaxed);
            *self
                .last_refusal
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(err.to_string());
        }
        read
    }

    fn read_checked(&self, doc: &Doc, commit: Oid) -> Result<Bytes, BodyError> {
        let hash = &*doc.hash;
        let unreadable = |message: String| BodyError::Unreadable {
            hash: hash.to_owned(),
            blob: doc.blob,
            message,
        };
        let taken = self
            .handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let repo = match taken {
            Some(repo) => repo,
            None => Repo::open(&self.repo).map_err(|err| unreadable(err.to_string()))?,
        };
        let read = repo.read_blob(commit, &envelope_path(hash), doc.blob, MAX_ENVELOPE_BYTES);
        self.handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(repo);
        let mut envelope = read.map_err(|err| unreadable(err.to_string()))?;
        compact_json(&mut envelope);
        let found = digest(hash, &envelope);
        if found != doc.digest {
            return Err(BodyError::Mismatch {
                hash: hash.to_owned(),
                blob: doc.blob,
                expected: URL_SAFE_NO_PAD.encode(doc.digest),
                found: URL_SAFE_NO_PAD.encode(found),
            });
        }
        Ok(body(hash, &envelope))
    }

    /// The decision engine of the version whose native document is
    /// `native`, from the cache, else compiled from its body and kept.
    pub fn engine(&self, native: &Doc, commit: Oid) -> Result<Arc<Engine>, EngineError> {
        let compile = || {
            let body = self.body(native, commit)?;
            compile(&native.hash, envelope_of(&native.hash, &body)).map(Arc::new)
        };
        match &self.engines {
            Some(cache) => cache.get_or_insert_with(&native.digest, compile),
            None => compile(),
        }
    }

    /// Bodies refused since the server started, and why the last one was.
    pub fn refusals(&self) -> (u64, Option<String>) {
        let last = self
            .last_refusal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        (self.refused.load(Ordering::Relaxed), last)
    }

    /// Bodies and engines held now.
    #[cfg(test)]
    pub fn cached(&self) -> (usize, usize) {
        (
            self.bodies.as_ref().map_or(0, Cache::len),
            self.engines.as_ref().map_or(0, Cache::len),
        )
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
        let body = body(hash, &envelope);
        assert_eq!(
            &body[..],
            format!(r#"{{"ok":true,"policy_hash_b64u":"{hash}","envelope":{{"a":[1]}}}}"#)
                .as_bytes()
        );
        assert_eq!(envelope_of(hash, &body), br#"{"a":[1]}"#);
        let doc = Doc {
            hash: Arc::from(hash),
            blob: Oid::ZERO_SHA1,
            digest: digest(hash, &envelope),
        };
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(&body));
        assert_eq!(doc.etag().as_bytes(), format!("\"{expected}\"").as_bytes());
    }

    /// A repository holding `count` envelopes as blobs, and their docs as
    /// verification records them.
    fn envelopes(count: usize) -> (tempfile::TempDir, Vec<(Doc, Vec<u8>)>) {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let docs = (0..count)
            .map(|i| {
                let hash = URL_SAFE_NO_PAD.encode(Sha256::digest(i.to_string()));
                let stored = format!(
                    "{{\n  \"payload\": {{ \"n\": {i}, \"pad\": \"{}\" }},\n  \"payload_hash_b64u\": \"{hash}\"\n}}\n",
                    "x".repeat(900)
                );
                let blob = repo.blob(stored.as_bytes()).unwrap();
                let mut envelope = stored.into_bytes();
                compact_json(&mut envelope);
                let doc = Doc {
                    hash: Arc::from(hash.as_str()),
                    blob,
                    digest: digest(&hash, &envelope),
                };
                (doc, body(&hash, &envelope).to_vec())
            })
            .collect();
        (dir, docs)
    }

    #[test]
    fn bodies_evicted_from_a_small_cache_are_read_again_and_still_right() {
        let (dir, docs) = envelopes(64);
        // Room for about eight of the 64 bodies (1 KB each).
        let limits = CacheLimits {
            body_bytes: 8 * 1024,
            engines: 1,
        };
        let store = Store::new(dir.path().join(".git"), limits);
        for round in 0..3 {
            for (doc, expected) in docs.iter().skip(round) {
                let body = store.body(doc, Oid::ZERO_SHA1).unwrap();
                assert_eq!(&body[..], &expected[..], "round {round}");
                assert_eq!(Sha256::digest(&body).as_slice(), doc.digest);
            }
        }
        let (cached, _) = store.cached();
        assert!(cached > 0 && cached < 16, "{cached} bodies cached");
        assert_eq!(store.refusals(), (0, None));
    }

    #[test]
    fn a_blob_that_is_not_the_one_verified_is_refused_and_reported() {
        let (dir, docs) = envelopes(2);
        let store = Store::new(dir.path().join(".git"), CacheLimits::default());
        // The hash's blob id now names another envelope's bytes, as when
        // the object database is rewritten after verification.
        let (first, _) = &docs[0];
        let swapped = Doc {
            blob: docs[1].0.blob,
            ..first.clone()
        };
        for _ in 0..2 {
            match store.body(&swapped, Oid::ZERO_SHA1) {
                Err(BodyError::Mismatch { hash, .. }) => assert_eq!(hash, &*first.hash),
                other => panic!("served: {other:?}"),
            }
        }
        assert_eq!(store.cached().0, 0, "a refused body is not cached");
        let (refused, reason) = store.refusals();
        assert_eq!(refused, 2);
        assert!(reason.unwrap().contains(&*first.hash));
        // A blob that is not there at all is refused too.
        let missing = Doc {
            blob: Oid::from_str("0123456789012345678901234567890123456789").unwrap(),
            ..first.clone()
        };
        assert!(matches!(
            store.engine(&missing, Oid::ZERO_SHA1),
            Err(EngineError::Body(BodyError::Unreadable { .. }))
        ));
        // The right one still serves.
        assert_eq!(
            &store.body(first, Oid::ZERO_SHA1).unwrap()[..],
            &docs[0].1[..]
        );
    }
}
