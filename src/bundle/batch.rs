//! Many bundles at once: expand files, directories and globs, verify in
//! parallel, then detect replay across the set.
//!
//! Bundles are read and verified one per worker and dropped; what is kept
//! per bundle is its [`BundleReport`] and the identifiers replay detection
//! needs, so memory grows with the number of bundles, not their size.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use globset::Glob;
use rayon::prelude::*;
use walkdir::WalkDir;

use super::policy::{Lookup, PolicyLookup};
use super::read::{self, Budget, Contents};
use super::reason::{Code, Failure};
use super::{BundleReport, Options, verify_bundle};

/// One bundle file and its verdict.
#[derive(Debug)]
pub struct Entry {
    pub path: PathBuf,
    pub report: BundleReport,
}

/// Why a batch could not run at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{0}: no such file or directory, and no file matches it as a glob")]
    NoMatch(String),
    #[error("invalid glob `{pattern}`: {error}")]
    Glob { pattern: String, error: String },
    #[error(transparent)]
    Read(#[from] crate::fsio::ReadError),
    #[error("cannot walk {}: {error}", path.display())]
    Walk { path: PathBuf, error: String },
    /// The release branch or the policies folder could not be read.
    #[error("{0}")]
    Policies(Box<dyn std::error::Error + Send + Sync>),
}

/// Shard `index` of `count` (1-based) of `paths`: each path belongs to the
/// shard its SHA-256 picks, so every runner of a matrix, given the same
/// list, takes a disjoint part and together they take all of it.
pub fn shard(paths: Vec<PathBuf>, index: u64, count: u64) -> Vec<PathBuf> {
    use sha2::{Digest as _, Sha256};
    paths
        .into_iter()
        .filter(|path| {
            let digest = Sha256::digest(path.to_string_lossy().as_bytes());
            let mut head = [0u8; 8];
            head.copy_from_slice(&digest[..8]);
            u64::from_be_bytes(head) % count == index - 1
        })
        .collect()
}

/// Expands the arguments into bundle files: a file as is, a directory's
/// `*.json` files (recursively), or a glob. Sorted, without duplicates.
pub fn collect(args: &[String]) -> Result<Vec<PathBuf>, BatchError> {
    let mut out = Vec::new();
    for arg in args {
        let path = Path::new(arg);
        // Anything named that exists and is no folder is a file to read:
        // reading says why a FIFO or a device is refused.
        let named_file = !path.is_dir() && std::fs::symlink_metadata(path).is_ok();
        if named_file {
            out.push(path.to_path_buf());
        } else if path.is_dir() {
            let before = out.len();
            walk(path, &mut out, |p| {
                p.extension().is_some_and(|e| e == "json")
            })?;
            out[before..].sort();
        } else {
            let glob = Glob::new(arg)
                .map_err(|e| BatchError::Glob {
                    pattern: arg.clone(),
                    error: e.to_string(),
                })?
                .compile_matcher();
            let base = literal_prefix(arg);
            let before = out.len();
            if base.is_dir() {
                walk(&base, &mut out, |p| glob.is_match(p))?;
            }
            if out.len() == before {
                return Err(BatchError::NoMatch(arg.clone()));
            }
            out[before..].sort();
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    keep: impl Fn(&Path) -> bool,
) -> Result<(), BatchError> {
    for entry in WalkDir::new(dir).follow_links(false) {
        let entry = entry.map_err(|e| BatchError::Walk {
            path: dir.to_path_buf(),
            error: e.to_string(),
        })?;
        let path = entry.path();
        // Paths from the walk are `dir/...`; strip a leading `./` so they
        // match globs written without it.
        let path = path.strip_prefix("./").unwrap_or(path);
        if entry.file_type().is_file() && keep(path) {
            out.push(path.to_path_buf());
        }
    }
    Ok(())
}

/// The directory part of a glob before its first wildcard.
fn literal_prefix(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    for part in Path::new(pattern).components() {
        let text = part.as_os_str().to_string_lossy();
        if text.contains(['*', '?', '[', '{']) {
            break;
        }
        base.push(part);
    }
    if base.as_os_str().is_empty() || base == Path::new(pattern) {
        base = base
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        if base.as_os_str().is_empty() {
            base = PathBuf::from(".");
        }
    }
    base
}

/// Verifies every file in parallel, then marks replays, in input order.
pub fn verify_all(paths: &[PathBuf], options: &Options) -> Result<Vec<Entry>, BatchError> {
    let mut entries = paths
        .par_iter()
        .map(|path| {
            Ok(Entry {
                path: path.clone(),
                report: verify_file(path, options)?,
            })
        })
        .collect::<Result<Vec<Entry>, BatchError>>()?;
    detect_replay(&mut entries);
    Ok(entries)
}

/// Bytes being verified at once, across all workers of every batch.
static IN_FLIGHT: LazyLock<Budget> = LazyLock::new(|| Budget::new(read::IN_FLIGHT_BYTES));

/// Reads and verifies one bundle file within the memory budget: a file over
/// the size limit is MALFORMED_ENVELOPE without being read.
fn verify_file(path: &Path, options: &Options) -> Result<BundleReport, BatchError> {
    let _grant = IN_FLIGHT.take(read::size_hint(path).min(options.max_bundle_bytes));
    Ok(match read::read_file(path, options.max_bundle_bytes)? {
        Contents::Bytes(bytes) => verify_bundle(&bytes, options),
        Contents::TooLarge(len) => super::too_large(len, options.max_bundle_bytes),
    })
}

/// The same bundle id, run id, receipt id or nonce in two bundles: the later
/// bundle (in input order) is INVALID and names the earlier one. Only bundles
/// that are otherwise valid take part, so a forged or broken bundle cannot
/// make a genuine one look replayed.
pub fn detect_replay(entries: &mut [Entry]) {
    let mut seen = FirstSeen::default();
    for index in 0..entries.len() {
        if !entries[index].report.valid {
            continue;
        }
        let keys = replay_keys(&entries[index].report.identifiers);
        let found = seen.record(index, keys, |earlier| {
            entries[earlier].path.display().to_string()
        });
        for failure in found {
            entries[index].report.add(failure);
        }
    }
}

/// The policy hash each bundle claims ([`super::policy::claimed_hash`];
/// an export bundle's nested bundle, an aggregate's first member that
/// claims one), with its pointer, in input order; `None` for a bundle that names none or
/// is not JSON (its verification says why). Read in parallel, nothing kept.
pub fn claimed_policies(
    paths: &[PathBuf],
    limit: u64,
) -> Result<Vec<Option<(String, String)>>, BatchError> {
    paths
        .par_iter()
        .map(|path| {
            let _grant = IN_FLIGHT.take(read::size_hint(path).min(limit));
            let bytes = match read::read_file(path, limit)? {
                Contents::Bytes(bytes) if read::values_within(&bytes, read::MAX_JSON_VALUES) => {
                    bytes
                }
                _ => return Ok(None),
            };
            let value: serde_json::Value = match serde_json::from_slice(&bytes) {
                Ok(value) => value,
                Err(_) => return Ok(None),
            };
            Ok(proof_envelopes(&value)
                .into_iter()
                .find_map(|(prefix, envelope)| {
                    let payload = envelope.get("payload")?;
                    super::policy::claimed_hash(payload)
                        .map(|(at, hash)| (prefix.clone() + &at, hash.to_owned()))
                }))
        })
        .collect()
}

/// The proof bundle envelopes of a bundle file, each with its pointer: the
/// file itself, an export bundle's nested one, or an aggregate's members'
/// (theirs, in turn, for export members).
fn proof_envelopes(value: &serde_json::Value) -> Vec<(String, &serde_json::Value)> {
    const NESTED: &str = "/artifacts/proof_bundle_envelope";
    let nested = |prefix: String, value| {
        if super::export::is_export_bundle(value) {
            value
                .pointer(NESTED)
                .map(|proof| (format!("{prefix}{NESTED}"), proof))
        } else {
            Some((prefix, value))
        }
    };
    if super::aggregate::is_aggregate(value) {
        let members = value
            .pointer("/payload/artifacts/member_bundles")
            .and_then(serde_json::Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        return members
            .iter()
            .enumerate()
            .filter_map(|(i, member)| {
                nested(format!("/payload/artifacts/member_bundles/{i}"), member)
            })
            .collect();
    }
    nested(String::new(), value).into_iter().collect()
}

/// Each bundle verified under the WPC it claims (its receipts'
/// `binding.policy_hash`, looked up in `source`; `revoked` adds hashes to
/// the source's revocations), with the rest of `base`, then replay across
/// the set. A bundle that claims no WPC, or one `source` does not know, is
/// verified against the protocol and fails `POLICY_UNKNOWN`.
pub fn verify_under_claimed<L: PolicyLookup>(
    paths: &[PathBuf],
    source: &L,
    base: &Options,
    revoked: &[String],
) -> Result<Vec<Entry>, BatchError> {
    let claims = claimed_policies(paths, base.max_bundle_bytes)?;
    // One verification per claimed WPC, each looked up once; bundles keep
    // their input order for replay detection.
    let mut groups: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (index, claim) in claims.iter().enumerate() {
        groups
            .entry(claim.as_ref().map(|(_, hash)| hash.as_str()))
            .or_default()
            .push(index);
    }
    let mut verified: Vec<Option<Entry>> = paths.iter().map(|_| None).collect();
    for (hash, indexes) in groups {
        let (policy, unknown) = match hash {
            None => (
                None,
                Some("no receipt is bound to a policy (binding.policy_hash)".to_owned()),
            ),
            Some(hash) => match source
                .lookup(hash)
                .map_err(|e| BatchError::Policies(Box::new(e)))?
            {
                Lookup::Found(mut check) => {
                    check.revoked |= revoked.contains(&check.hash);
                    (Some(*check), None)
                }
                Lookup::Unknown(why) => (None, Some(why)),
            },
        };
        let options = Options {
            gateway_trust: base.gateway_trust.clone(),
            gateway_signers_checked: base.gateway_signers_checked,
            now: base.now,
            policy,
            scope_hash: base.scope_hash.clone(),
            causal: base.causal,
            max_bundle_bytes: base.max_bundle_bytes,
            approvers: base.approvers.clone(),
            unverified_evidence: base.unverified_evidence,
            completeness: base.completeness,
        };
        let group: Vec<PathBuf> = indexes.iter().map(|&i| paths[i].clone()).collect();
        let entries = verify_all(&group, &options)?;
        for (index, mut entry) in indexes.into_iter().zip(entries) {
            if let Some(why) = &unknown {
                let pointer = claims[index].as_ref().map_or("", |(at, _)| at.as_str());
                entry
                    .report
                    .add(Failure::new(Code::PolicyUnknown, pointer, why.clone()));
            }
            verified[index] = Some(entry);
        }
    }
    let mut entries: Vec<Entry> = verified.into_iter().flatten().collect();
    detect_replay(&mut entries);
    Ok(entries)
}

/// One replay found by [`replay_only`].
#[derive(Debug)]
pub struct Replay {
    pub path: PathBuf,
    pub failure: Failure,
}

/// What [`replay_only`] saw.
#[derive(Debug, Default)]
pub struct ReplayReport {
    pub bundles: usize,
    /// Bundles that failed the protocol checks and so took no part.
    pub skipped: Vec<(PathBuf, Vec<Code>)>,
    pub replays: Vec<Replay>,
}

/// The final pass after a sharded verification: replay across the whole
/// set, holding only identifiers. Bundles are read and checked in parallel
/// chunks (the protocol checks of `options`: signatures included, so an id
/// only counts when its bundle — and, for receipt ids and nonces, its
/// gateway receipt — is signed; policy and scope checks are the shards'
/// job and are not repeated), then their identifiers are folded in input
/// order, as [`detect_replay`] does for one batch: the same verdicts as one
/// unsharded run, for every bundle that passes the protocol checks.
pub fn replay_only(paths: &[PathBuf], options: &Options) -> Result<ReplayReport, BatchError> {
    // Enough bundles per chunk to keep every core busy, few enough that the
    // reports of one chunk are all that is held besides the identifiers.
    const CHUNK: usize = 4096;
    let mut report = ReplayReport {
        bundles: paths.len(),
        ..ReplayReport::default()
    };
    let mut seen = FirstSeen::default();
    for (chunk_index, chunk) in paths.chunks(CHUNK).enumerate() {
        let verdicts = chunk
            .par_iter()
            .map(|path| {
                let verdict = verify_file(path, options)?;
                Ok(if verdict.valid {
                    Ok(verdict.identifiers)
                } else {
                    Err(verdict.codes())
                })
            })
            .collect::<Result<Vec<_>, BatchError>>()?;
        for (offset, verdict) in verdicts.into_iter().enumerate() {
            let index = chunk_index * CHUNK + offset;
            match verdict {
                Err(codes) => report.skipped.push((paths[index].clone(), codes)),
                Ok(ids) => {
                    let found = seen.record(index, replay_keys(&ids), |earlier| {
                        paths[earlier].display().to_string()
                    });
                    report
                        .replays
                        .extend(found.into_iter().map(|failure| Replay {
                            path: paths[index].clone(),
                            failure,
                        }));
                }
            }
        }
    }
    Ok(report)
}

/// The first bundle (by input index) each identifier appeared in.
#[derive(Default)]
struct FirstSeen(HashMap<(Code, String), usize>);

impl FirstSeen {
    /// Bundle `index`'s keys: a failure for each one an earlier bundle
    /// (`name`d) has, and the others recorded.
    fn record(
        &mut self,
        index: usize,
        keys: Vec<(Code, String, String)>,
        name: impl Fn(usize) -> String,
    ) -> Vec<Failure> {
        let mut found = Vec::new();
        for (code, pointer, id) in keys {
            match self.0.get(&(code, id.clone())) {
                Some(&earlier) if earlier != index => found.push(Failure::new(
                    code,
                    pointer,
                    format!("`{id}` already appears in {}", name(earlier)),
                )),
                Some(_) => {}
                None => {
                    self.0.insert((code, id), index);
                }
            }
        }
        found
    }
}

/// The keys one bundle's identifiers take part in replay detection with;
/// a receipt id repeated within the bundle counts once.
fn replay_keys(ids: &super::Identifiers) -> Vec<(Code, String, String)> {
    let mut keys = Vec::new();
    if let Some(id) = &ids.bundle_id {
        keys.push((
            Code::ReplayedBundleId,
            "/payload/bundle_id".to_owned(),
            id.clone(),
        ));
    }
    if let Some(id) = &ids.run_id {
        keys.push((
            Code::ReplayedRunId,
            "/payload/event_chain/0/run_id".to_owned(),
            id.clone(),
        ));
    }
    // Within a bundle, duplicate receipt ids were reported already.
    let mut own = std::collections::HashSet::new();
    for (pointer, id) in &ids.receipt_ids {
        if own.insert(id) {
            keys.push((Code::ReplayedReceiptId, pointer.clone(), id.clone()));
        }
    }
    for (pointer, id) in &ids.nonces {
        keys.push((Code::ReplayedNonce, pointer.clone(), id.clone()));
    }
    keys
}

#[cfg(test)]
mod shard_tests {
    use super::*;

    #[test]
    fn shards_partition_the_set() {
        let paths: Vec<PathBuf> = (0..200)
            .map(|i| PathBuf::from(format!("b/{i}.json")))
            .collect();
        let mut seen: Vec<PathBuf> = (1..=4).flat_map(|i| shard(paths.clone(), i, 4)).collect();
        seen.sort();
        let mut all = paths.clone();
        all.sort();
        assert_eq!(seen, all);
        assert!((1..=4).all(|i| !shard(paths.clone(), i, 4).is_empty()));
        assert_eq!(shard(paths.clone(), 1, 1).len(), 200);
    }
}

#[cfg(test)]
mod replay_only_tests {
    use super::*;
    use crate::bundle::kit::{self, Shape};

    /// `--replay-only` over a set agrees with one unsharded verification
    /// on every replay, and a forged copy sorted first frames nobody.
    #[test]
    fn replay_only_agrees_with_an_unsharded_run() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let mut paths = Vec::new();
        for seq in 1..=4 {
            let shape = Shape {
                seq,
                ..Shape::default()
            };
            paths.push(write(
                &format!("{seq}.json"),
                &kit::bundle_bytes(&shape).unwrap(),
            ));
        }
        let genuine = std::fs::read(&paths[2]).unwrap();
        let forged = String::from_utf8(genuine.clone())
            .unwrap()
            .replace("\"latency_ms\": 5", "\"latency_ms\": 6");
        paths.insert(0, write("0-forged.json", forged.as_bytes()));
        paths.push(write("5-copy.json", &genuine));

        let options = Options::any_gateway();
        let report = replay_only(&paths, &options).unwrap();
        let full = verify_all(&paths, &options).unwrap();
        let replays_of_full: Vec<(PathBuf, Failure)> = full
            .iter()
            .flat_map(|e| {
                e.report
                    .failures
                    .iter()
                    .filter(|f| f.code.as_str().starts_with("REPLAYED_"))
                    .map(|f| (e.path.clone(), f.clone()))
            })
            .collect();
        let replays: Vec<(PathBuf, Failure)> = report
            .replays
            .into_iter()
            .map(|r| (r.path, r.failure))
            .collect();
        assert_eq!(replays, replays_of_full);
        assert!(!replays.is_empty());
        assert!(
            replays
                .iter()
                .all(|(path, _)| path.ends_with("5-copy.json"))
        );
        assert_eq!(report.skipped.len(), 1);
        assert!(report.skipped[0].0.ends_with("0-forged.json"));
        assert_eq!(report.bundles, 6);
    }
}
