//! `wpc release verify`: every commit of the release branch, oldest first,
//! is held to what a release run could have written on top of the one
//! before it, judged by main. What a commit adds is verified there
//! (envelopes, index entries anchored in main, revocations, the signed
//! checkpoint chained to the one before); anything it changes or removes
//! is a violation. So every violation names the commit that made it, and
//! carries a reason code (`docs/release.md` lists them).

use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::anchor::{Main, content_hash_of};
use super::fetch::verified_envelope;
use super::state::{VerifiedRelease, check_freshness, missing_branch};
use super::{
    CHECKPOINT_PATH, Checkpoint, ENVELOPE_DIR, Entry, Freshness, INDEX_FORMAT, Index,
    MAX_ENVELOPE_BYTES, ReleaseError, Revocation, Source, envelope_path, join, read_state,
    remember, revocation_message,
};
use crate::crypto::did::DidKey;
use crate::crypto::trusted::DEFAULT_PATH as SIGNERS_PATH;
use crate::crypto::verify::{Trust, verify_signature};
use crate::git::{Oid, Repo};

/// Why a release branch (or one of its states) is rejected. Stable codes:
/// scripts and docs rely on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// A release (or a checkpoint) names a commit that is not on main's
    /// first-parent history.
    NotOnMain,
    /// A release's hash is not the hash of its policy file at its commit.
    ContentMismatch,
    /// An envelope is signed by a key that is not a release signer as of
    /// its commit's first parent.
    UntrustedSigner,
    /// A revocation is signed by a key main does not trust.
    UntrustedRevoker,
    /// A revocation's signature does not verify.
    BadRevocation,
    /// An envelope is missing, does not verify, or is not what the index says.
    BadEnvelope,
    /// A state of the branch has no valid checkpoint, or its files differ
    /// from what its checkpoint signed.
    UnsignedState,
    /// A checkpoint is signed by a key main does not trust.
    UntrustedCheckpoint,
    /// A checkpoint does not follow the one before it (version, previous
    /// hash, or a main commit that went back).
    BrokenChain,
    /// A release names a main commit that an earlier state had already
    /// released past.
    StaleRelease,
    /// A commit changes or removes what an earlier one wrote.
    HistoryRewritten,
    /// The branch is older than a checkpoint this repository verified (or
    /// than `--min-checkpoint`), or does not contain it.
    RollbackDetected,
    /// The branch is in the format before checkpoints.
    LegacyFormat,
    /// A file of the branch cannot be read or parsed.
    Unreadable,
}

impl Reason {
    /// The wire form, e.g. `NOT_ON_MAIN`.
    pub fn code(self) -> &'static str {
        match self {
            Reason::NotOnMain => "NOT_ON_MAIN",
            Reason::ContentMismatch => "CONTENT_MISMATCH",
            Reason::UntrustedSigner => "UNTRUSTED_SIGNER",
            Reason::UntrustedRevoker => "UNTRUSTED_REVOKER",
            Reason::BadRevocation => "BAD_REVOCATION",
            Reason::BadEnvelope => "BAD_ENVELOPE",
            Reason::UnsignedState => "UNSIGNED_STATE",
            Reason::UntrustedCheckpoint => "UNTRUSTED_CHECKPOINT",
            Reason::BrokenChain => "BROKEN_CHAIN",
            Reason::StaleRelease => "STALE_RELEASE",
            Reason::HistoryRewritten => "HISTORY_REWRITTEN",
            Reason::RollbackDetected => "ROLLBACK_DETECTED",
            Reason::LegacyFormat => "LEGACY_FORMAT",
            Reason::Unreadable => "UNREADABLE",
        }
    }
}

/// One way the branch breaks its rules, and the branch commit that broke it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub commit: String,
    pub reason: Reason,
    pub message: String,
}

/// What one branch commit holds.
struct State {
    index: Index,
    revocations: Vec<Revocation>,
    checkpoint: Option<Checkpoint>,
    /// Envelope path → blob.
    envelopes: HashMap<String, Oid>,
}

impl State {
    fn view(&self) -> StateView<'_> {
        StateView {
            index: &self.index,
            revocations: &self.revocations,
            checkpoint: self.checkpoint.as_ref(),
            envelopes: &self.envelopes,
        }
    }
}

/// A state of the branch as the next commit is judged against it: one read
/// from Git, or the tip of an earlier verification.
#[derive(Clone, Copy)]
struct StateView<'s> {
    index: &'s Index,
    revocations: &'s [Revocation],
    checkpoint: Option<&'s Checkpoint>,
    envelopes: &'s HashMap<String, Oid>,
}

/// A release branch whose whole history verified: its tip as a consumer
/// reads it, and what a later verification of the same branch starts from
/// so that only the commits after this tip are verified.
#[derive(Clone, Debug)]
pub struct VerifiedBranch {
    pub release: VerifiedRelease,
    /// Envelope path → blob at the tip.
    envelopes: HashMap<String, Oid>,
    /// Main's tip when it verified, and the blob of its trusted signers
    /// file: the only things outside the branch's own commits an earlier
    /// judgment depended on (a state signer may be one trusted at main's
    /// tip).
    main_tip: Oid,
    signers: Option<Oid>,
}

impl VerifiedBranch {
    /// The blob of the envelope of `hash` at the tip: the one verified
    /// (envelopes are append-only, never rewritten).
    pub fn envelope_blob(&self, hash: &str) -> Option<Oid> {
        self.envelopes.get(&envelope_path(hash)).copied()
    }
}

/// The envelopes of one index entry, verified against main: the native one
/// first, then each rendering's, with their bytes as stored.
pub struct VerifiedEntry<'a> {
    pub name: &'a str,
    pub entry: &'a Entry,
    pub envelopes: Vec<(&'a str, Vec<u8>)>,
}

/// What a verification found: the violations, or the verified branch.
#[derive(Debug)]
pub enum Verification {
    Verified(Box<VerifiedBranch>),
    Violated(Vec<Violation>),
}

/// Verify the whole history of the release branch of `source` against
/// main, then the tip against `freshness` and this repository's memory
/// (remembering the tip when all is valid). An empty list means the branch
/// is valid.
pub fn verify_branch(
    repo: &Repo,
    source: &Source,
    freshness: &Freshness,
) -> Result<Vec<Violation>, ReleaseError> {
    Ok(
        match verify_branch_from(repo, source, freshness, None, &|_| {})? {
            Verification::Verified(_) => Vec::new(),
            Verification::Violated(violations) => violations,
        },
    )
}

/// [`verify_branch`], handing back the verified branch, and each entry's
/// envelopes to `envelopes` as they verify (on any thread, in no
/// particular order; a caller keeps them only if the whole branch
/// verifies). With `after`, an earlier verification of this branch, only
/// the commits after its tip are verified, on top of its state, when that
/// gives the same verdict as verifying the whole history: the branch grew
/// from that tip, main grew from the main tip it was judged by, and main's
/// trusted signers at its tip are the same file. Otherwise the whole
/// history is verified.
pub fn verify_branch_from(
    repo: &Repo,
    source: &Source,
    freshness: &Freshness,
    after: Option<&VerifiedBranch>,
    envelopes: &(dyn Fn(VerifiedEntry<'_>) + Sync),
) -> Result<Verification, ReleaseError> {
    let branch = source.branch.as_str();
    let main = Main::read(repo, source)?;
    let tip = match repo.branch_tip(branch)? {
        Some(tip) => tip,
        None => {
            return match missing_branch(repo, branch, main.tip) {
                ReleaseError::Rejected { violation, .. } => {
                    Ok(Verification::Violated(vec![violation]))
                }
                err => Err(err),
            };
        }
    };
    let signers = repo.file_id(main.tip, &join(&source.root, SIGNERS_PATH))?;
    let on_top = after
        .filter(|after| {
            after.release.source == *source
                && main.position(after.main_tip).is_some()
                && after.signers == signers
        })
        .and_then(|after| {
            // Not on the branch's history any more: it was rewritten.
            let commits = repo.first_parents(tip, Some(after.release.tip)).ok()?;
            Some((after, commits))
        });
    let (after, commits) = match on_top {
        Some((after, commits)) => (Some(after), commits),
        None => (None, repo.first_parents(tip, None)?),
    };
    let main_tip = main.tip;
    let main_reference = main.reference.clone();
    let mut checker = Checker {
        repo,
        main,
        violations: Vec::new(),
        envelopes,
    };
    let mut before: Option<State> = None;
    let start = after.map(|after| StateView {
        index: &after.release.index,
        revocations: &after.release.revocations,
        checkpoint: Some(&after.release.checkpoint),
        envelopes: &after.envelopes,
    });
    for commit in commits {
        let info = repo.commit_info(commit)?;
        if info.parents.len() > 1 {
            checker.violate(
                commit,
                Reason::HistoryRewritten,
                "is a merge: the branch is written one commit at a time",
            );
        }
        let previous = before.as_ref().map(State::view).or(start);
        let state = match read_state(repo, branch, commit) {
            Ok(files) => {
                let checkpoint = checker.check_checkpoint(commit, previous, &files);
                State {
                    index: files.index,
                    revocations: files.revocations,
                    checkpoint,
                    envelopes: repo
                        .entries(commit, ENVELOPE_DIR)?
                        .into_iter()
                        .map(|e| (e.path, e.id))
                        .collect(),
                }
            }
            Err(ReleaseError::Rejected { violation, .. }) => {
                checker.violations.push(violation);
                continue;
            }
            Err(err) => {
                checker.violate(commit, Reason::Unreadable, err.to_string());
                // The next readable commit is compared with the last good one.
                continue;
            }
        };
        checker.step(commit, previous, &state);
        before = Some(state);
    }
    let mut violations = checker.violations;
    if !violations.is_empty() {
        return Ok(Verification::Violated(violations));
    }
    let (index, revocations, checkpoint, envelopes) = match (before, after) {
        (Some(state), _) => (
            state.index,
            state.revocations,
            state.checkpoint,
            state.envelopes,
        ),
        // Nothing new on top of the earlier verification.
        (None, Some(after)) => (
            after.release.index.clone(),
            after.release.revocations.clone(),
            Some(after.release.checkpoint.clone()),
            after.envelopes.clone(),
        ),
        (None, None) => (Index::default(), Vec::new(), None, HashMap::new()),
    };
    let Some(checkpoint) = checkpoint else {
        // A state without a valid checkpoint was reported above; this
        // keeps a tip with none from ever counting as verified.
        return Ok(Verification::Violated(vec![Violation {
            commit: tip.to_string(),
            reason: Reason::UnsignedState,
            message: format!("no valid {CHECKPOINT_PATH}"),
        }]));
    };
    match check_freshness(repo, branch, tip, &checkpoint, freshness) {
        Ok(()) => remember(repo, branch, &checkpoint)?,
        Err(ReleaseError::Rejected { violation, .. }) => violations.push(violation),
        Err(err) => return Err(err),
    }
    if !violations.is_empty() {
        return Ok(Verification::Violated(violations));
    }
    Ok(Verification::Verified(Box::new(VerifiedBranch {
        release: VerifiedRelease::verified(
            source,
            tip,
            checkpoint,
            index,
            revocations,
            main_reference,
        ),
        envelopes,
        main_tip,
        signers,
    })))
}

struct Checker<'a> {
    repo: &'a Repo,
    main: Main<'a>,
    violations: Vec<Violation>,
    /// Where each entry's envelopes go once they verified.
    envelopes: &'a (dyn Fn(VerifiedEntry<'_>) + Sync),
}

impl Checker<'_> {
    fn violate(&mut self, commit: Oid, reason: Reason, message: impl Into<String>) {
        self.violations.push(Violation {
            commit: commit.to_string(),
            reason,
            message: message.into(),
        });
    }

    /// `names` (what names which commit) names a commit that is not on main.
    fn not_on_main(&mut self, commit: Oid, names: String) {
        let message = format!(
            "{names}, not on the first-parent history of {}",
            self.main.reference
        );
        self.violate(commit, Reason::NotOnMain, message);
    }

    /// The checkpoint of `files` if it is signed by a signer of main,
    /// covers the files, names the index's main commit on main, and follows
    /// the checkpoint of `before`.
    fn check_checkpoint(
        &mut self,
        commit: Oid,
        before: Option<StateView<'_>>,
        files: &super::StateFiles,
    ) -> Option<Checkpoint> {
        let checkpoint = &files.checkpoint;
        let version = checkpoint.version;
        let signer = match checkpoint.verify_signature() {
            Ok(signer) => signer,
            Err(err) => {
                self.violate(
                    commit,
                    Reason::UnsignedState,
                    format!("{CHECKPOINT_PATH}: {err}"),
                );
                return None;
            }
        };
        if !checkpoint.covers(&files.index_bytes, &files.revocations_bytes) {
            self.violate(
                commit,
                Reason::UnsignedState,
                format!(
                    "index.json or revocations.json differ from what checkpoint {version} signed"
                ),
            );
        }
        if files.index.last_commit.as_deref() != Some(checkpoint.main_commit.as_str()) {
            self.violate(
                commit,
                Reason::UnsignedState,
                format!("index.json's last_commit is not checkpoint {version}'s main commit"),
            );
        }
        let Some((main_commit, position)) = Oid::from_str(&checkpoint.main_commit)
            .ok()
            .and_then(|c| Some((c, self.main.position(c)?)))
        else {
            self.not_on_main(
                commit,
                format!(
                    "checkpoint {version} names main commit `{}`",
                    checkpoint.main_commit
                ),
            );
            return None;
        };
        if !self.main.admits_state_signer(&signer, main_commit) {
            self.violate(
                commit,
                Reason::UntrustedCheckpoint,
                format!(
                    "checkpoint {version} is signed by {}, not a release signer of main",
                    checkpoint.signer_did
                ),
            );
        }
        let previous = before.and_then(|b| b.checkpoint);
        let expected_version = previous.map_or(1, |p| p.version + 1);
        let expected_previous = previous.and_then(|p| p.hash().ok());
        if version != expected_version || checkpoint.previous != expected_previous {
            self.violate(
                commit,
                Reason::BrokenChain,
                format!(
                    "checkpoint {version} does not follow the one before it (expected version {expected_version} naming its hash)"
                ),
            );
        }
        let went_back = previous
            .and_then(|p| Oid::from_str(&p.main_commit).ok())
            .and_then(|p| self.main.position(p))
            .is_some_and(|p| p > position);
        if went_back {
            self.violate(
                commit,
                Reason::BrokenChain,
                format!("checkpoint {version} names a main commit older than the one before it"),
            );
        }
        Some(checkpoint.clone())
    }

    /// `state` at `commit`, whose parent held `before`.
    fn step(&mut self, commit: Oid, before: Option<StateView<'_>>, state: &State) {
        let empty = State {
            index: Index {
                format: INDEX_FORMAT.to_owned(),
                ..Index::default()
            },
            revocations: Vec::new(),
            checkpoint: None,
            envelopes: HashMap::new(),
        };
        let before = before.unwrap_or_else(|| empty.view());
        // Append-only: nothing before may change or go.
        for (path, id) in before.envelopes {
            match state.envelopes.get(path) {
                None => self.violate(commit, Reason::HistoryRewritten, format!("deletes {path}")),
                Some(now) if now != id => {
                    self.violate(commit, Reason::HistoryRewritten, format!("rewrites {path}"));
                }
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
                    Reason::HistoryRewritten,
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
                        Reason::HistoryRewritten,
                        format!(
                            "index entry {} of `{name}` has previous {}, expected {}",
                            i + 1,
                            entry.previous.as_deref().unwrap_or("none"),
                            previous.unwrap_or("none")
                        ),
                    );
                }
                added.push((name, entry));
            }
        }
        let old = before.revocations;
        if state.revocations.get(..old.len()) != Some(old) {
            self.violate(
                commit,
                Reason::HistoryRewritten,
                "rewrites or removes revocations",
            );
        }
        // What this commit adds must verify. Its releases come from main
        // after what the state before had released, up to its own.
        let position_of = |checkpoint: Option<&Checkpoint>, main: &Main<'_>| {
            checkpoint
                .and_then(|c| Oid::from_str(&c.main_commit).ok())
                .and_then(|c| main.position(c))
        };
        let window = (
            position_of(before.checkpoint, &self.main),
            position_of(state.checkpoint.as_ref(), &self.main),
        );
        let mut referenced: HashSet<String> = HashSet::new();
        // Git reads are serial (a repository handle is not `Sync`); what
        // they load is hashed and verified on the other threads meanwhile,
        // each violation put back where a serial pass would have reported
        // it (the number of violations found before its entry, then the
        // entry's place).
        // An entry's envelopes that verified go to the caller from there.
        let (judged, found) = std::sync::mpsc::channel();
        let envelopes = self.envelopes;
        let pending = Pending::default();
        rayon::in_place_scope(|scope| {
            for (place, (name, entry)) in added.into_iter().enumerate() {
                referenced.extend(entry.hashes().map(envelope_path));
                if let Some(check) = self.check_entry(commit, name, entry, state, window) {
                    let slot = (self.violations.len(), place);
                    let judged = judged.clone();
                    let ticket = pending.enter();
                    scope.spawn(move |_| {
                        match check.run() {
                            Ok(verified) => envelopes(VerifiedEntry {
                                name,
                                entry,
                                envelopes: verified,
                            }),
                            // The receiver outlives the scope: sending cannot fail.
                            Err(violation) => {
                                let _ = judged.send((slot, violation));
                            }
                        }
                        drop(ticket);
                    });
                }
            }
        });
        drop(judged);
        let mut found: Vec<((usize, usize), (Reason, String))> = found.into_iter().collect();
        found.sort_by_key(|(slot, _)| *slot);
        for ((slot, _), (reason, message)) in found.into_iter().rev() {
            self.violations.insert(
                slot,
                Violation {
                    commit: commit.to_string(),
                    reason,
                    message,
                },
            );
        }
        for path in state.envelopes.keys() {
            if !before.envelopes.contains_key(path) && !referenced.contains(path) {
                self.violate(
                    commit,
                    Reason::BadEnvelope,
                    format!("adds {path}, which no new index entry releases"),
                );
            }
        }
        for revocation in state.revocations.iter().skip(old.len()) {
            self.check_revocation(commit, state, revocation);
        }
    }

    /// What the anchoring of `entry` needs from Git (its source commit on
    /// main, the policy file there, its envelope and the signers that
    /// authorize it), to be judged by [`EntryCheck::run`]; `None` when a
    /// violation is already certain.
    fn check_entry<'e>(
        &mut self,
        commit: Oid,
        name: &'e str,
        entry: &'e Entry,
        state: &State,
        (after, upto): (Option<usize>, Option<usize>),
    ) -> Option<EntryCheck<'e>> {
        let hash = &entry.hash;
        let path = &envelope_path(hash);
        let Some(source) = self.main.named(&entry.commit) else {
            self.not_on_main(
                commit,
                format!("`{name}` {hash} names commit `{}`", entry.commit),
            );
            return None;
        };
        let position = self.main.position(source);
        if after.is_some_and(|a| position <= Some(a)) || upto.is_some_and(|u| position > Some(u)) {
            self.violate(
                commit,
                Reason::StaleRelease,
                format!(
                    "`{name}` {hash} names commit {source}, outside the main commits this state released"
                ),
            );
        }
        let Some(file) = entry.path.as_deref() else {
            self.violate(
                commit,
                Reason::ContentMismatch,
                format!("`{name}` {hash} names no policy file"),
            );
            return None;
        };
        let policy = match self
            .main
            .policy_blob(source, file)
            .and_then(|id| self.main.read_policy(source, file, id))
        {
            Ok(policy) => policy,
            Err(message) => {
                self.violate(
                    commit,
                    Reason::ContentMismatch,
                    format!("`{name}` {hash}: {message}"),
                );
                return None;
            }
        };
        // Each envelope is judged only if the content matches, as the
        // checks run in order; a rendering must be the one main's policy
        // and settings make at that commit, signed by a signer that commit
        // trusts: the branch cannot publish a Claw payload that says more
        // than the policy.
        let trust = self
            .main
            .authorizing(source)
            .map_err(|message| (Reason::UntrustedSigner, format!("{path}: {message}")));
        let envelope = self.envelope_bytes(commit, state, name, hash);
        let renderings = entry
            .renderings
            .iter()
            .map(|(version, rendering)| {
                self.main
                    .check_rendering(source, file, *version, rendering)
                    .map_err(|message| {
                        (
                            Reason::ContentMismatch,
                            format!("`{name}` {hash}: {message}"),
                        )
                    })
                    .and_then(|()| self.envelope_bytes(commit, state, name, rendering))
                    .map(|bytes| (rendering.as_str(), bytes))
            })
            .collect();
        Some(EntryCheck {
            name,
            entry,
            source,
            file,
            policy,
            trust,
            envelope,
            renderings,
        })
    }

    /// The bytes of the envelope of `hash` in `state`, or why they are
    /// missing.
    fn envelope_bytes(
        &self,
        commit: Oid,
        state: &State,
        name: &str,
        hash: &str,
    ) -> Result<Vec<u8>, (Reason, String)> {
        let path = envelope_path(hash);
        let id = state.envelopes.get(&path).ok_or_else(|| {
            (
                Reason::BadEnvelope,
                format!("releases `{name}` {hash} without {path}"),
            )
        })?;
        self.repo
            .read_blob(commit, &path, *id, MAX_ENVELOPE_BYTES)
            .map_err(|err| (Reason::BadEnvelope, err.to_string()))
    }

    fn check_revocation(&mut self, commit: Oid, state: &State, revocation: &Revocation) {
        let hash = &revocation.hash;
        let bad = Reason::BadRevocation;
        let message = match revocation_message(
            hash,
            &revocation.reason,
            &revocation.revoked_at,
            &revocation.signer_did,
        ) {
            Ok(message) => message,
            Err(err) => return self.violate(commit, bad, format!("revocation of {hash}: {err}")),
        };
        let did = match DidKey::parse(&revocation.signer_did) {
            Ok(did) => did,
            Err(err) => return self.violate(commit, bad, format!("revocation of {hash}: {err}")),
        };
        let signature = URL_SAFE_NO_PAD
            .decode(&revocation.signature_b64u)
            .unwrap_or_default();
        if let Err(err) = verify_signature(did.verifying_key().as_bytes(), &message, &signature) {
            return self.violate(commit, bad, format!("revocation of {hash}: {err}"));
        }
        // The revoker must be a release signer of main as of the main
        // commit this state names, or at main's tip.
        let main_commit = state
            .checkpoint
            .as_ref()
            .and_then(|c| Oid::from_str(&c.main_commit).ok());
        let trusted =
            main_commit.is_some_and(|main_commit| self.main.admits_state_signer(&did, main_commit));
        if !trusted {
            self.violate(
                commit,
                Reason::UntrustedRevoker,
                format!(
                    "revocation of {hash} is signed by {}, not a release signer of main",
                    revocation.signer_did
                ),
            );
        }
    }
}

/// Entries read but not yet judged, at most: the Git reads run ahead of
/// the checks, and each entry waiting holds its envelopes' bytes, so a
/// commit of thousands of releases would otherwise hold them all at once.
const MAX_PENDING: usize = 64;

/// How many entries wait to be judged; the reader waits at
/// [`MAX_PENDING`].
#[derive(Default)]
struct Pending {
    count: Mutex<usize>,
    done: Condvar,
}

/// One entry waiting; dropping it (when judged, or if judging panics)
/// lets the reader go on.
struct Ticket<'p>(&'p Pending);

impl Pending {
    fn enter(&self) -> Ticket<'_> {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        // A reader that is itself one of rayon's threads does not wait: it
        // could be the one the checks need.
        if rayon::current_thread_index().is_none() {
            while *count >= MAX_PENDING {
                count = self
                    .done
                    .wait(count)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        *count += 1;
        Ticket(self)
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut count = self.0.count.lock().unwrap_or_else(PoisonError::into_inner);
        *count = count.saturating_sub(1);
        self.0.done.notify_one();
    }
}

/// An index entry with what Git holds for it, judged apart from the Git
/// reads (and so in parallel).
struct EntryCheck<'e> {
    name: &'e str,
    entry: &'e Entry,
    /// The main commit it names, its policy file there and that file's bytes.
    source: Oid,
    file: &'e str,
    policy: Vec<u8>,
    /// The signers that authorize its releases, or why there are none.
    trust: Judged<Trust>,
    /// Its envelope's bytes, or why they are missing.
    envelope: Judged<Vec<u8>>,
    /// Each rendering's hash and envelope bytes, or why the rendering is
    /// not main's or its envelope is missing.
    renderings: Vec<Judged<(&'e str, Vec<u8>)>>,
}

/// What an entry check read, or the violation already certain.
type Judged<T> = Result<T, (Reason, String)>;

impl<'e> EntryCheck<'e> {
    /// The policy file's hash is the entry's, its envelope is signed by a
    /// trusted signer over that hash and says what the entry says, and so
    /// is each rendering's: the envelopes (native first, by hash); else the
    /// first violation.
    fn run(self) -> Judged<Vec<(&'e str, Vec<u8>)>> {
        let EntryCheck {
            name,
            entry,
            source,
            file,
            policy,
            trust,
            envelope,
            renderings,
        } = self;
        let hash = &entry.hash;
        let path = envelope_path(hash);
        match content_hash_of(source, file, policy) {
            Ok(found) if found == *hash => {}
            Ok(found) => {
                return Err((
                    Reason::ContentMismatch,
                    format!("`{name}` {hash}: {file} at {source} has hash {found}"),
                ));
            }
            Err(message) => {
                return Err((
                    Reason::ContentMismatch,
                    format!("`{name}` {hash}: {message}"),
                ));
            }
        }
        let trust = trust?;
        let bytes = envelope.and_then(|bytes| verified_envelope(bytes, hash, &trust))?;
        {
            let Ok(envelope) = crate::crypto::verify::Envelope::parse(&bytes) else {
                return Err((Reason::BadEnvelope, format!("{path} does not parse")));
            };
            let payload_name = envelope
                .payload()
                .get("policy_name")
                .and_then(serde_json::Value::as_str);
            if envelope.signer_did() != entry.signer_did {
                return Err((
                    Reason::BadEnvelope,
                    format!(
                        "`{name}` entry says signer {}, {path} is signed by {}",
                        entry.signer_did,
                        envelope.signer_did()
                    ),
                ));
            }
            if payload_name != Some(name) {
                return Err((
                    Reason::BadEnvelope,
                    format!(
                        "{path} is policy `{}`, indexed as `{name}`",
                        payload_name.unwrap_or("(none)")
                    ),
                ));
            }
        }
        let mut verified = Vec::with_capacity(1 + renderings.len());
        verified.push((hash.as_str(), bytes));
        for rendering in renderings {
            let (hash, bytes) = rendering?;
            verified.push((hash, verified_envelope(bytes, hash, &trust)?));
        }
        Ok(verified)
    }
}
