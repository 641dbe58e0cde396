//! Trust anchored in main. Who can write what: people (through review)
//! write main; CI, or whoever holds the release branch, writes the branch.
//! So everything on the branch is judged by main: a release names a commit
//! on main's first-parent history, its hash is the hash of that policy file
//! at that commit, and its signer is a release signer as of that commit's
//! first parent (a commit that adds a signer cannot authorize its own
//! releases; the repository's root commit, having no parent, is trusted on
//! first use).

use std::collections::HashMap;

use super::{ReleaseError, Source};
use crate::claw::{self, ClawVersion, ExportError, ExportSettings};
use crate::crypto::did::DidKey;
use crate::crypto::verify::Trust;
use crate::git::{GitError, Oid, Repo};
use crate::policy::document::MAX_FILE_BYTES;
use crate::policy::hash::{HashError, policy_hash_b64u};
use crate::policy::{Document, Policy, decode_source};
use crate::report::{Finding, Severity};
use crate::revision::{SignersError, config_at, trusted_signers_at};

/// Main's first-parent history, and the trust and content read from it.
pub(crate) struct Main<'a> {
    repo: &'a Repo,
    root: String,
    pub(crate) reference: String,
    pub(crate) tip: Oid,
    /// Oldest first.
    chain: Vec<Oid>,
    position: HashMap<Oid, usize>,
    trust: HashMap<Oid, Result<Trust, AnchorError>>,
    hashes: HashMap<Oid, Result<String, AnchorError>>,
    /// (policy blob, `wpc.toml` blob, version) → the rendering's hash.
    renderings: HashMap<(Oid, Option<Oid>, ClawVersion), Result<String, AnchorError>>,
    /// `wpc.toml` blob → its export settings.
    exports: HashMap<Option<Oid>, Result<ExportSettings, AnchorError>>,
    /// (main commit, path) → the file's blob there. An entry's policy file
    /// is looked up for its content and again for each of its renderings,
    /// and each lookup reads the policies folder's tree (10,000 entries
    /// for 10,000 policies): verifying a branch of 10,000 releases spent a
    /// third of its time there.
    files: HashMap<(Oid, String), Result<Option<Oid>, AnchorError>>,
}

impl<'a> Main<'a> {
    pub(crate) fn read(repo: &'a Repo, source: &Source) -> Result<Main<'a>, ReleaseError> {
        let (reference, tip) = repo
            .source_tip(&source.main)?
            .ok_or_else(|| ReleaseError::NoMain(source.main.clone()))?;
        let chain = repo.first_parents(tip, None)?;
        let position = chain.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        Ok(Main {
            repo,
            root: source.root.trim_matches('/').to_owned(),
            reference,
            tip,
            chain,
            position,
            trust: HashMap::new(),
            hashes: HashMap::new(),
            renderings: HashMap::new(),
            exports: HashMap::new(),
            files: HashMap::new(),
        })
    }

    /// Where `commit` is on main's first-parent history (0 is the root).
    pub(crate) fn position(&self, commit: Oid) -> Option<usize> {
        self.position.get(&commit).copied()
    }

    /// The main commit `text` names, if it names one on main's history.
    pub(crate) fn named(&self, text: &str) -> Option<Oid> {
        Oid::from_str(text)
            .ok()
            .filter(|c| self.position(*c).is_some())
    }

    /// The commits after `after` (from the root without it) up to the tip.
    pub(crate) fn after(&self, after: Option<Oid>) -> Option<&[Oid]> {
        let start = match after {
            Some(id) => self.position(id)? + 1,
            None => 0,
        };
        self.chain.get(start..)
    }

    /// The signers that authorize the releases of main commit `commit`:
    /// those of its first parent, or its own for the root commit.
    pub(crate) fn authorizing(&mut self, commit: Oid) -> Result<Trust, AnchorError> {
        let at = match self.position(commit) {
            Some(0) => commit,
            Some(i) => self.chain[i - 1],
            None => {
                return Err(AnchorError::NotOnMain {
                    commit,
                    reference: self.reference.clone(),
                });
            }
        };
        self.signers_at(at)
    }

    /// Whether `did` may sign a state of the branch (a checkpoint, a
    /// revocation) released up to `main_commit`: a release signer that
    /// authorizes that commit, or one at main's tip (after a rotation the
    /// new key speaks for states released before it).
    pub(crate) fn admits_state_signer(&mut self, did: &DidKey, main_commit: Oid) -> bool {
        let tip = self.tip;
        self.authorizing(main_commit)
            .is_ok_and(|trust| trust.admits_did(did))
            || self
                .signers_at(tip)
                .is_ok_and(|trust| trust.admits_did(did))
    }

    /// The release signers listed at `commit`.
    fn signers_at(&mut self, commit: Oid) -> Result<Trust, AnchorError> {
        if let Some(cached) = self.trust.get(&commit) {
            return cached.clone();
        }
        let loaded = trusted_signers_at(self.repo, &self.root, commit)
            .map(|signers| Trust::only(signers.release_signers().iter().map(|s| &s.did)))
            .map_err(AnchorError::from);
        self.trust.insert(commit, loaded.clone());
        loaded
    }

    /// The policy hash of the file `path` at main commit `commit`.
    pub(crate) fn content_hash(&mut self, commit: Oid, path: &str) -> Result<String, AnchorError> {
        let id = self.policy_blob(commit, path)?;
        if let Some(cached) = self.hashes.get(&id) {
            return cached.clone();
        }
        let hashed = self
            .read_policy(commit, path, id)
            .and_then(|bytes| content_hash_of(commit, path, bytes));
        self.hashes.insert(id, hashed.clone());
        hashed
    }

    /// The hash of the Claw `version` rendering of the policy file `path`
    /// at main commit `commit`, rendered with that commit's `wpc.toml`
    /// (its `issuer_did`), which must enable `version`: the branch can
    /// publish only the rendering main's content and settings make.
    pub(crate) fn rendering_hash(
        &mut self,
        commit: Oid,
        path: &str,
        version: ClawVersion,
    ) -> Result<String, AnchorError> {
        let id = self.policy_blob(commit, path)?;
        let config_file = super::join(&self.root, crate::config::FILE_NAME);
        let config_id = self.file_id(commit, &config_file)?;
        let key = (id, config_id, version);
        if let Some(cached) = self.renderings.get(&key) {
            return cached.clone();
        }
        let rendered = self
            .export_settings(commit, config_id, &config_file)
            .and_then(|settings| self.render(commit, path, id, &settings, version));
        self.renderings.insert(key, rendered.clone());
        rendered
    }

    /// The export settings of `wpc.toml` (blob `config_id`) at `commit`;
    /// a `wpc.toml` with errors has none (its settings are unknown).
    fn export_settings(
        &mut self,
        commit: Oid,
        config_id: Option<Oid>,
        config_file: &str,
    ) -> Result<ExportSettings, AnchorError> {
        if let Some(cached) = self.exports.get(&config_id) {
            return cached.clone();
        }
        let mut findings = Vec::new();
        let loaded = config_at(self.repo, commit, &self.root, &mut findings)
            .map_err(AnchorError::from)
            .and_then(|config| {
                if findings.iter().any(|f| f.severity == Severity::Error) {
                    Err(AnchorError::ConfigErrors {
                        config: config_file.to_owned(),
                        commit,
                    })
                } else {
                    Ok(config.claw_export())
                }
            });
        self.exports.insert(config_id, loaded.clone());
        loaded
    }

    /// `Ok` if `hash` is the Claw `version` rendering of `path` at
    /// `commit` ([`Main::rendering_hash`]); else why not.
    pub(crate) fn check_rendering(
        &mut self,
        commit: Oid,
        path: &str,
        version: ClawVersion,
        hash: &str,
    ) -> Result<(), AnchorError> {
        let expected = self.rendering_hash(commit, path, version)?;
        if expected == hash {
            Ok(())
        } else {
            Err(AnchorError::RenderingMismatch {
                version,
                hash: hash.to_owned(),
                path: path.to_owned(),
                commit,
                expected,
            })
        }
    }

    fn render(
        &self,
        commit: Oid,
        path: &str,
        id: Oid,
        settings: &ExportSettings,
        version: ClawVersion,
    ) -> Result<String, AnchorError> {
        if !settings.enabled(version) {
            return Err(AnchorError::ExportDisabled { commit, version });
        }
        let policy = Policy::from_document(parse_policy(
            commit,
            path,
            self.read_policy(commit, path, id)?,
        )?)
        .map_err(|findings| AnchorError::Invalid {
            path: path.to_owned(),
            commit,
            problems: findings.len(),
        })?;
        claw::render(&policy, version, settings)
            .map(|rendered| rendered.hash)
            .map_err(|error| AnchorError::Unexportable {
                path: path.to_owned(),
                commit,
                error,
            })
    }

    /// The blob of the file `path` at main commit `commit`.
    pub(crate) fn policy_blob(&mut self, commit: Oid, path: &str) -> Result<Oid, AnchorError> {
        self.file_id(commit, path)?
            .ok_or_else(|| AnchorError::NoFile {
                path: path.to_owned(),
                commit,
            })
    }

    /// The blob of `path` at main commit `commit`, if there is a file.
    fn file_id(&mut self, commit: Oid, path: &str) -> Result<Option<Oid>, AnchorError> {
        let key = (commit, path.to_owned());
        if let Some(cached) = self.files.get(&key) {
            return cached.clone();
        }
        let found = self.repo.file_id(commit, path).map_err(AnchorError::from);
        self.files.insert(key, found.clone());
        found
    }

    /// The bytes of blob `id`, the file `path` at main commit `commit`,
    /// refused beyond the size of a policy.
    pub(crate) fn read_policy(
        &self,
        commit: Oid,
        path: &str,
        id: Oid,
    ) -> Result<Vec<u8>, AnchorError> {
        Ok(self.repo.read_blob(commit, path, id, MAX_FILE_BYTES + 1)?)
    }
}

/// `bytes`, the file `path` at main commit `commit`, parsed.
fn parse_policy(commit: Oid, path: &str, bytes: Vec<u8>) -> Result<Document, AnchorError> {
    let source =
        decode_source(std::path::Path::new(path), bytes).map_err(AnchorError::Unreadable)?;
    Document::parse(source).map_err(|findings| AnchorError::Unparsable {
        path: path.to_owned(),
        commit,
        problems: findings.len(),
    })
}

/// The policy hash of `bytes`, the file `path` at main commit `commit`.
pub(crate) fn content_hash_of(
    commit: Oid,
    path: &str,
    bytes: Vec<u8>,
) -> Result<String, AnchorError> {
    let doc = parse_policy(commit, path, bytes)?;
    Ok(policy_hash_b64u(&doc.value)?)
}

/// Why main cannot confirm what a release claims of one of its commits.
/// `Clone`, as what is read from main is cached per commit and blob.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum AnchorError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{commit} is not on the history of {reference}")]
    NotOnMain { commit: Oid, reference: String },
    #[error(transparent)]
    Signers(#[from] SignersError),
    #[error("no file {path} at {commit}")]
    NoFile { path: String, commit: Oid },
    /// Too large, or not UTF-8: the finding says which.
    #[error("{}", .0.message)]
    Unreadable(Finding),
    #[error("{path} at {commit} does not parse ({problems} problems)")]
    Unparsable {
        path: String,
        commit: Oid,
        problems: usize,
    },
    #[error("{path} at {commit} is not a valid policy ({problems} problems)")]
    Invalid {
        path: String,
        commit: Oid,
        problems: usize,
    },
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("{config} at {commit} has errors")]
    ConfigErrors { config: String, commit: Oid },
    #[error("{} at {commit} does not enable the {} export", crate::config::FILE_NAME, .version.rendering())]
    ExportDisabled { commit: Oid, version: ClawVersion },
    #[error("{path} at {commit}: {error}")]
    Unexportable {
        path: String,
        commit: Oid,
        error: ExportError,
    },
    #[error("its {} rendering is {hash}, but {path} at {commit} renders as {expected}", .version.rendering())]
    RenderingMismatch {
        version: ClawVersion,
        hash: String,
        path: String,
        commit: Oid,
        expected: String,
    },
}
