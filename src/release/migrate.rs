//! `wpc release migrate`: the upgrade of a `wpc-release-index/1` branch,
//! which has no checkpoints. Nothing on such a branch is taken on trust:
//! every entry is re-verified against main (on main's first-parent history,
//! the policy at that commit, a signer main trusted as of its first parent)
//! and every revocation against main's signers, and only then is the whole
//! state written as one new commit with the branch's first checkpoint. The
//! old history is not a parent of it (it held unsigned states); its tip
//! stays in the reflog and is named in the commit message.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;

use super::anchor::Main;
use super::fetch::verified_envelope;
use super::{
    CHECKPOINT_PATH, Checkpoint, INDEX_FORMAT, INDEX_PATH, Index, LEGACY_INDEX_FORMAT,
    MAX_ENVELOPE_BYTES, MAX_INDEX_BYTES, REVOCATIONS_PATH, Reason, ReleaseError, Revocation,
    Source, Violation, checkpoint, envelope_path, remember, revocation_message, rfc3339, to_json,
};
use crate::crypto::did::DidKey;
use crate::crypto::keys::SigningKey;
use crate::crypto::verify::verify_signature;
use crate::git::{Oid, Repo};
use crate::revision::{ConfigCache, changed_policies};

/// Re-verify the legacy branch of `source` and, when all of it holds,
/// publish its first checkpoint. `Ok(Err(violations))` when it does not
/// hold: nothing was written.
pub fn migrate(
    repo: &Repo,
    source: &Source,
    key: &SigningKey,
    now: Timestamp,
) -> Result<Result<Checkpoint, Vec<Violation>>, ReleaseError> {
    let branch = source.branch.as_str();
    let tip = repo
        .branch_tip(branch)?
        .ok_or_else(|| ReleaseError::NoBranch(branch.to_owned()))?;
    let corrupt = |path: &str, message: String| ReleaseError::Corrupt {
        branch: branch.to_owned(),
        path: path.to_owned(),
        commit: tip,
        message,
    };
    let read = |path: &str| -> Result<Vec<u8>, ReleaseError> {
        repo.read_file(tip, path, MAX_INDEX_BYTES)?
            .ok_or_else(|| corrupt(path, "missing".to_owned()))
    };
    let mut index: Index = serde_json::from_slice(&read(INDEX_PATH)?)
        .map_err(|e| corrupt(INDEX_PATH, e.to_string()))?;
    if index.format != LEGACY_INDEX_FORMAT {
        return Err(corrupt(
            INDEX_PATH,
            format!(
                "format is `{}`: only `{LEGACY_INDEX_FORMAT}` branches are migrated",
                index.format
            ),
        ));
    }
    let revocations: Vec<Revocation> = serde_json::from_slice(&read(REVOCATIONS_PATH)?)
        .map_err(|e| corrupt(REVOCATIONS_PATH, e.to_string()))?;
    let mut main = Main::read(repo, source)?;
    let mut violations = Vec::new();
    let mut violate = |reason: Reason, message: String| {
        violations.push(Violation {
            commit: tip.to_string(),
            reason,
            message,
        });
    };
    let last = index.last_commit.as_deref().and_then(|c| main.named(c));
    let Some(last) = last else {
        violate(
            Reason::NotOnMain,
            format!(
                "last_commit is not on the first-parent history of {}",
                main.reference
            ),
        );
        return Ok(Err(violations));
    };
    // Policy hash → file, per main commit, read once.
    let mut files_at: HashMap<Oid, HashMap<String, String>> = HashMap::new();
    let mut configs = ConfigCache::default();
    let mut envelopes = Vec::new();
    for (name, entries) in &mut index.policies {
        for entry in entries {
            let hash = entry.hash.clone();
            let Some(commit) = main
                .named(&entry.commit)
                .filter(|c| main.position(*c) <= main.position(last))
            else {
                violate(
                    Reason::NotOnMain,
                    format!(
                        "`{name}` {hash} names commit `{}`, not on main up to last_commit",
                        entry.commit
                    ),
                );
                continue;
            };
            let files = match files_at.entry(commit) {
                std::collections::hash_map::Entry::Occupied(found) => found.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let (_, policies, _) =
                        changed_policies(repo, None, commit, &source.root, &mut configs)?;
                    slot.insert(
                        policies
                            .into_iter()
                            .map(|p| (p.hash, p.doc.source.path().to_string_lossy().into_owned()))
                            .collect(),
                    )
                }
            };
            match files.get(&hash) {
                Some(path) => entry.path = Some(path.clone()),
                None => {
                    violate(
                        Reason::ContentMismatch,
                        format!("`{name}` {hash}: no policy at {commit} has that hash"),
                    );
                    continue;
                }
            }
            let path = envelope_path(&hash);
            let bytes = repo
                .read_file(tip, &path, MAX_ENVELOPE_BYTES)?
                .unwrap_or_default();
            let trust = match main.authorizing(commit) {
                Ok(trust) => trust,
                Err(message) => {
                    violate(Reason::UntrustedSigner, message.to_string());
                    continue;
                }
            };
            match verified_envelope(bytes, &hash, &trust) {
                Ok(bytes) => envelopes.push((path, bytes)),
                Err((reason, message)) => violate(reason, message),
            }
            // Renderings are held to what `wpc release verify` holds them to.
            let file = entry.path.clone().unwrap_or_default();
            for (version, rendering) in &entry.renderings {
                if let Err(message) = main.check_rendering(commit, &file, *version, rendering) {
                    violate(
                        Reason::ContentMismatch,
                        format!("`{name}` {hash}: {message}"),
                    );
                    continue;
                }
                let path = envelope_path(rendering);
                let bytes = repo
                    .read_file(tip, &path, MAX_ENVELOPE_BYTES)?
                    .unwrap_or_default();
                match verified_envelope(bytes, rendering, &trust) {
                    Ok(bytes) => envelopes.push((path, bytes)),
                    Err((reason, message)) => violate(reason, message),
                }
            }
        }
    }
    for revocation in &revocations {
        let signed = revocation_message(
            &revocation.hash,
            &revocation.reason,
            &revocation.revoked_at,
            &revocation.signer_did,
        )?;
        let valid = DidKey::parse(&revocation.signer_did).ok().filter(|did| {
            let signature = URL_SAFE_NO_PAD
                .decode(&revocation.signature_b64u)
                .unwrap_or_default();
            verify_signature(did.verifying_key().as_bytes(), &signed, &signature).is_ok()
        });
        match valid {
            None => violate(
                Reason::BadRevocation,
                format!("revocation of {} does not verify", revocation.hash),
            ),
            Some(did) if !main.admits_state_signer(&did, last) => violate(
                Reason::UntrustedRevoker,
                format!(
                    "revocation of {} is signed by {}, not a release signer of main",
                    revocation.hash, revocation.signer_did
                ),
            ),
            Some(_) => {}
        }
    }
    if !violations.is_empty() {
        return Ok(Err(violations));
    }
    index.format = INDEX_FORMAT.to_owned();
    let index_bytes = to_json(&index, "index.json")?;
    let revocation_bytes = to_json(&revocations, "revocations.json")?;
    let checkpoint = Checkpoint::sign(
        checkpoint::Statement {
            version: 1,
            index: &index_bytes,
            revocations: &revocation_bytes,
            previous: None,
            main_commit: last.to_string(),
            issued_at: rfc3339(now),
        },
        key,
    )?;
    if !main.admits_state_signer(&key.did(), last) {
        return Err(ReleaseError::UntrustedKey {
            did: key.did_str().to_owned(),
            path: crate::crypto::trusted::DEFAULT_PATH.to_owned(),
            commit: last,
        });
    }
    let mut files = envelopes;
    files.push((INDEX_PATH.to_owned(), index_bytes));
    files.push((REVOCATIONS_PATH.to_owned(), revocation_bytes));
    files.push((
        CHECKPOINT_PATH.to_owned(),
        to_json(&checkpoint, "checkpoint.json")?,
    ));
    let commit = repo.write_commit(
        None,
        &files,
        &format!("wpc release migrate: checkpoint 1 over {tip} (re-verified against main)"),
    )?;
    repo.update_branch(branch, Some(tip), commit, "wpc release migrate")?;
    remember(repo, branch, &checkpoint)?;
    Ok(Ok(checkpoint))
}
