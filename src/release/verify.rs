//! `wpc release verify`: every commit of the release branch, oldest first,
//! is held to what a release run could have written on top of the one
//! before it. What a commit adds is verified there (envelopes, index
//! entries, revocations); anything it changes or removes is a violation. So
//! every violation names the commit that made it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::{
    ENVELOPE_DIR, Entry, INDEX_FORMAT, Index, MAX_ENVELOPE_BYTES, ReleaseError, Revocation,
    envelope_path, read_state, revocation_message,
};
use crate::crypto::did::DidKey;
use crate::crypto::envelope::WorkPolicyContract;
use crate::crypto::trusted::{self, TrustedSigners};
use crate::crypto::verify::{Trust, verify_envelope, verify_signature};
use crate::git::{GitError, Oid, Repo};
use crate::policy::document::MAX_FILE_BYTES;
use crate::policy::{Document, decode_source};

/// One way the branch breaks its rules, and the branch commit that broke it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub commit: String,
    pub message: String,
}

/// What one branch commit holds.
struct State {
    index: Index,
    revocations: Vec<Revocation>,
    /// Envelope path → blob.
    envelopes: HashMap<String, Oid>,
}

/// Verify the whole history of `branch`. `root` is the folder holding
/// `wpc.toml` in the source repository, for the trusted signers at each
/// source commit. An empty list means the branch is valid.
pub fn verify_branch(
    repo: &Repo,
    branch: &str,
    root: &str,
) -> Result<Vec<Violation>, ReleaseError> {
    let tip = repo.branch_tip(branch)?.ok_or_else(|| GitError::Revision {
        rev: branch.to_owned(),
        message: "no such release branch".to_owned(),
    })?;
    let mut checker = Checker {
        repo,
        root: root.trim_matches('/'),
        trust: HashMap::new(),
        violations: Vec::new(),
    };
    let mut before: Option<State> = None;
    for commit in repo.first_parents(tip, None)? {
        let info = repo.commit_info(commit)?;
        if info.parents.len() > 1 {
            checker.violate(
                commit,
                "is a merge: the branch is written one commit at a time",
            );
        }
        let state = match read_state(repo, branch, commit) {
            Ok((index, revocations)) => State {
                index,
                revocations,
                envelopes: repo
                    .entries(commit, ENVELOPE_DIR)?
                    .into_iter()
                    .map(|e| (e.path, e.id))
                    .collect(),
            },
            Err(err) => {
                checker.violate(commit, err.to_string());
                // The next readable commit is compared with the last good one.
                continue;
            }
        };
        checker.step(commit, before.as_ref(), &state);
        before = Some(state);
    }
    Ok(checker.violations)
}

struct Checker<'a> {
    repo: &'a Repo,
    root: &'a str,
    /// Release signers by source commit.
    trust: HashMap<Oid, Result<Trust, String>>,
    violations: Vec<Violation>,
}

impl Checker<'_> {
    fn violate(&mut self, commit: Oid, message: impl Into<String>) {
        self.violations.push(Violation {
            commit: commit.to_string(),
            message: message.into(),
        });
    }

    /// `state` at `commit`, whose parent held `before`.
    fn step(&mut self, commit: Oid, before: Option<&State>, state: &State) {
        let empty = State {
            index: Index {
                format: INDEX_FORMAT.to_owned(),
                ..Index::default()
            },
            revocations: Vec::new(),
            envelopes: HashMap::new(),
        };
        let before = before.unwrap_or(&empty);
        // Append-only: nothing before may change or go.
        for (path, id) in &before.envelopes {
            match state.envelopes.get(path) {
                None => self.violate(commit, format!("deletes {path}")),
                Some(now) if now != id => self.violate(commit, format!("rewrites {path}")),
                Some(_) => {}
            }
        }
        let mut added: Vec<(&str, &Entry)> = Vec::new();
        for (name, old) in &before.index.policies {
            let new = state
                .index
                .policies
                .get(name)
                .map(Vec::as_slice)
                .unwrap_or_default();
            if new.get(..old.len()) != Some(old.as_slice()) {
                self.violate(
                    commit,
                    format!("rewrites or removes index.json entries of `{name}`"),
                );
            }
        }
        for (name, entries) in &state.index.policies {
            let known = before.index.policies.get(name).map_or(0, Vec::len);
            for (i, entry) in entries.iter().enumerate().skip(known) {
                let previous = i
                    .checked_sub(1)
                    .and_then(|p| entries.get(p))
                    .map(|e| e.hash.as_str());
                if entry.previous.as_deref() != previous {
                    self.violate(
                        commit,
                        format!(
                            "index entry {} of `{name}` has previous {:?}, expected {:?}",
                            i + 1,
                            entry.previous,
                            previous
                        ),
                    );
                }
                added.push((name, entry));
            }
        }
        let old = &before.revocations;
        if state.revocations.get(..old.len()) != Some(old.as_slice()) {
            self.violate(commit, "rewrites or removes revocations");
        }
        // What this commit adds must verify.
        let mut referenced: HashSet<String> = HashSet::new();
        for (name, entry) in added {
            let path = envelope_path(&entry.hash);
            referenced.insert(path.clone());
            self.check_entry(commit, name, entry, state, &path);
        }
        for path in state.envelopes.keys() {
            if !before.envelopes.contains_key(path) && !referenced.contains(path) {
                self.violate(
                    commit,
                    format!("adds {path}, which no new index entry releases"),
                );
            }
        }
        for revocation in state.revocations.iter().skip(old.len()) {
            self.check_revocation(commit, state, revocation);
        }
    }

    fn check_entry(&mut self, commit: Oid, name: &str, entry: &Entry, state: &State, path: &str) {
        let Some(id) = state.envelopes.get(path) else {
            self.violate(
                commit,
                format!("releases `{name}` {} without {path}", entry.hash),
            );
            return;
        };
        let bytes = match self.repo.read_blob(commit, path, *id, MAX_ENVELOPE_BYTES) {
            Ok(bytes) => bytes,
            Err(err) => return self.violate(commit, err.to_string()),
        };
        let source = match Oid::from_str(&entry.commit) {
            Ok(source) => source,
            Err(_) => {
                return self.violate(
                    commit,
                    format!("`{name}` entry names source commit `{}`", entry.commit),
                );
            }
        };
        let trust = match self.trust_at(source) {
            Ok(trust) => trust,
            Err(message) => return self.violate(commit, format!("{path}: {message}")),
        };
        match verify_envelope::<WorkPolicyContract>(&bytes, &trust) {
            Err(failure) => self.violate(commit, format!("{path}: {failure}")),
            Ok(verified) => {
                let payload_name = verified
                    .payload()
                    .get("policy_name")
                    .and_then(serde_json::Value::as_str);
                if verified.payload_hash_b64u() != entry.hash {
                    self.violate(
                        commit,
                        format!("{path} holds hash {}", verified.payload_hash_b64u()),
                    );
                } else if verified.signer().as_str() != entry.signer_did {
                    self.violate(
                        commit,
                        format!(
                            "`{name}` entry says signer {}, {path} is signed by {}",
                            entry.signer_did,
                            verified.signer().as_str()
                        ),
                    );
                } else if payload_name != Some(name) {
                    self.violate(
                        commit,
                        format!("{path} is policy {payload_name:?}, indexed as `{name}`"),
                    );
                }
            }
        }
    }

    fn check_revocation(&mut self, commit: Oid, state: &State, revocation: &Revocation) {
        let hash = &revocation.hash;
        let message = match revocation_message(
            hash,
            &revocation.reason,
            &revocation.revoked_at,
            &revocation.signer_did,
        ) {
            Ok(message) => message,
            Err(err) => return self.violate(commit, format!("revocation of {hash}: {err}")),
        };
        let did = match DidKey::parse(&revocation.signer_did) {
            Ok(did) => did,
            Err(err) => return self.violate(commit, format!("revocation of {hash}: {err}")),
        };
        let signature = URL_SAFE_NO_PAD
            .decode(&revocation.signature_b64u)
            .unwrap_or_default();
        if let Err(err) = verify_signature(did.verifying_key().as_bytes(), &message, &signature) {
            return self.violate(commit, format!("revocation of {hash}: {err}"));
        }
        // The revoker must be a release signer where the branch last released from.
        let trusted = match state.index.last_commit.as_deref().map(Oid::from_str) {
            Some(Ok(source)) => self.is_trusted(source, &did),
            _ => Err("the index names no source commit".to_owned()),
        };
        match trusted {
            Ok(true) => {}
            Ok(false) => self.violate(
                commit,
                format!(
                    "revocation of {hash} is signed by {}, not a trusted release signer",
                    revocation.signer_did
                ),
            ),
            Err(message) => self.violate(commit, format!("revocation of {hash}: {message}")),
        }
    }

    fn is_trusted(&mut self, source: Oid, did: &DidKey) -> Result<bool, String> {
        let trust = self.trust_at(source)?;
        Ok(trust.admits_did(did))
    }

    /// The release signers listed in the source repository at `source`.
    fn trust_at(&mut self, source: Oid) -> Result<Trust, String> {
        if let Some(cached) = self.trust.get(&source) {
            return cached.clone();
        }
        let loaded = trust_at(self.repo, self.root, source);
        self.trust.insert(source, loaded.clone());
        loaded
    }
}

/// The release signers of `keys/trusted-signers.toml` (under `root`) in the
/// source repository at commit `source`.
pub(crate) fn trust_at(repo: &Repo, root: &str, source: Oid) -> Result<Trust, String> {
    let root = root.trim_matches('/');
    let path = if root.is_empty() {
        trusted::DEFAULT_PATH.to_owned()
    } else {
        format!("{root}/{}", trusted::DEFAULT_PATH)
    };
    let bytes = repo
        .read_file(source, &path, MAX_FILE_BYTES + 1)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no {path} at source commit {source}"))?;
    let source_file = decode_source(Path::new(&path), bytes).map_err(|f| f.message)?;
    let invalid = |f: Vec<crate::report::Finding>| {
        format!("{path} at {source} is not valid ({} problems)", f.len())
    };
    let doc = Document::parse(source_file).map_err(invalid)?;
    let signers = TrustedSigners::from_document(&doc).map_err(invalid)?;
    Ok(Trust::only(
        signers.release_signers().iter().map(|s| &s.did),
    ))
}
