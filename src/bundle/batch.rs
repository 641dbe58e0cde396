//! Many bundles at once: expand files, directories and globs, verify in
//! parallel, then detect replay across the set.
//!
//! Bundles are read and verified one per worker and dropped; what is kept
//! per bundle is its [`BundleReport`] and the identifiers replay detection
//! needs, so memory grows with the number of bundles, not their size.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use globset::Glob;
use rayon::prelude::*;
use walkdir::WalkDir;

use super::policy::{Lookup, PolicyLookup};
use super::read::{self, Contents};
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

/// Reads and verifies one bundle file within the memory budget: a file over
/// the size limit is MALFORMED_ENVELOPE without being read.
fn verify_file(path: &Path, options: &Options) -> Result<BundleReport, BatchError> {
    let (contents, _grant) = read::read_file(path, options.max_bundle_bytes)?;
    Ok(match contents {
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

/// The policy hash a bundle file claims ([`super::policy::claimed_hash`];
/// an export bundle's nested bundle, an aggregate's first member that
/// claims one), with its pointer; `None` for a bundle that names none.
fn claimed_policy(value: &serde_json::Value) -> Option<(String, String)> {
    proof_envelopes(value)
        .into_iter()
        .find_map(|(prefix, envelope)| {
            let payload = envelope.get("payload")?;
            super::policy::claimed_hash(payload)
                .map(|(at, hash)| (prefix.clone() + &at, hash.to_owned()))
        })
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

/// The options to verify the bundles claiming one policy hash with, and,
/// when the hash names no WPC the source knows, why.
struct Claimed {
    options: Options,
    unknown: Option<String>,
}

/// A worker's question to the thread that owns the policy source: the
/// [`Claimed`] for a hash (`None`: the bundle claims none).
type Ask = (
    Option<String>,
    mpsc::Sender<Result<Arc<Claimed>, BatchError>>,
);

/// Each bundle verified under the WPC it claims (its receipts'
/// `binding.policy_hash`, looked up in `source`; `revoked` adds hashes to
/// the source's revocations), with the rest of `base`, then replay across
/// the set. A bundle that claims no WPC, or one `source` does not know, is
/// verified against the protocol and fails `POLICY_UNKNOWN`.
///
/// Each file is read and parsed once, within the memory budget, by the
/// worker that verifies it. `source` is only used from the calling thread
/// (a repository handle need not be shared between threads): workers ask it
/// for a hash they have not seen, and each hash is looked up once. The
/// calling thread waits on them, so it must not be a worker of the global
/// rayon pool (with one thread, nothing would run).
pub fn verify_under_claimed<L: PolicyLookup>(
    paths: &[PathBuf],
    source: &L,
    base: &Options,
    revoked: &[String],
) -> Result<Vec<Entry>, BatchError> {
    let known: Mutex<HashMap<Option<String>, Arc<Claimed>>> = Mutex::new(HashMap::new());
    let (ask, asked) = mpsc::channel::<Ask>();
    let verified = std::thread::scope(|scope| {
        let known = &known;
        let workers = scope.spawn(move || {
            paths
                .par_iter()
                .map_with(ask, |ask, path| verify_claimed_file(path, base, ask, known))
                .collect::<Result<Vec<Entry>, BatchError>>()
        });
        // Answered until every worker is done (the last sender dropped).
        let mut answers: HashMap<Option<String>, Arc<Claimed>> = HashMap::new();
        for (hash, reply) in asked {
            let answer = match answers.get(&hash) {
                Some(claimed) => Ok(Arc::clone(claimed)),
                None => claimed(source, hash.as_deref(), base, revoked).map(|claimed| {
                    let claimed = Arc::new(claimed);
                    answers.insert(hash, Arc::clone(&claimed));
                    claimed
                }),
            };
            // A worker that gave up (another bundle's error) no longer listens.
            let _ = reply.send(answer);
        }
        workers
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    let mut entries = verified?;
    detect_replay(&mut entries);
    Ok(entries)
}

/// What verifying under `hash` means: its WPC from `source`, or none.
fn claimed<L: PolicyLookup>(
    source: &L,
    hash: Option<&str>,
    base: &Options,
    revoked: &[String],
) -> Result<Claimed, BatchError> {
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
    Ok(Claimed { options, unknown })
}

/// Reads, parses and verifies one bundle file under the WPC it claims, as
/// [`verify_file`] does with fixed options.
fn verify_claimed_file(
    path: &Path,
    base: &Options,
    ask: &mpsc::Sender<Ask>,
    known: &Mutex<HashMap<Option<String>, Arc<Claimed>>>,
) -> Result<Entry, BatchError> {
    let limit = base.max_bundle_bytes;
    let (contents, _grant) = read::read_file(path, limit)?;
    let parsed = match contents {
        Contents::Bytes(bytes) => super::parse_bundle(&bytes, limit),
        Contents::TooLarge(len) => Err(super::too_large(len, limit)),
    };
    let claim = parsed.as_ref().ok().and_then(claimed_policy);
    let hash = claim.as_ref().map(|(_, hash)| hash.clone());
    let cached = known
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&hash)
        .cloned();
    let claimed = match cached {
        Some(claimed) => claimed,
        None => {
            let (reply, answer) = mpsc::channel();
            let gone = || BatchError::Policies("the policy lookup stopped".into());
            ask.send((hash.clone(), reply)).map_err(|_| gone())?;
            let claimed = answer.recv().map_err(|_| gone())??;
            known
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(hash, Arc::clone(&claimed));
            claimed
        }
    };
    let mut report = match parsed {
        Ok(value) => super::verify_value(value, &claimed.options),
        Err(report) => report,
    };
    if let Some(why) = &claimed.unknown {
        let pointer = claim.as_ref().map_or("", |(at, _)| at.as_str());
        report.add(Failure::new(Code::PolicyUnknown, pointer, why.clone()));
    }
    Ok(Entry {
        path: path.to_path_buf(),
        report,
    })
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
    // Within a bundle, a payment authorization claimed twice was reported
    // already (x402 PAYMENT_AUTH_REPLAY).
    let mut paid = std::collections::HashSet::new();
    for (pointer, hash) in &ids.payment_auths {
        if paid.insert(hash) {
            keys.push((Code::ReplayedPaymentAuth, pointer.clone(), hash.clone()));
        }
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

#[cfg(test)]
mod claimed_tests {
    use std::cell::RefCell;

    use super::*;
    use crate::bundle::kit::{self, Shape};

    /// A policy store that knows no WPC and counts the lookups; a `RefCell`
    /// makes it usable from one thread only.
    #[derive(Default)]
    struct Counting {
        asked: RefCell<Vec<String>>,
    }

    impl PolicyLookup for Counting {
        type Error = std::io::Error;

        fn lookup(&self, hash: &str) -> Result<Lookup, std::io::Error> {
            self.asked.borrow_mut().push(hash.to_owned());
            Ok(Lookup::Unknown(format!("no `{hash}` here")))
        }
    }

    /// Each claimed hash is looked up once, on the calling thread, whatever
    /// the number of bundles claiming it; every bundle gets its verdict, in
    /// input order, with the hash's pointer.
    #[test]
    fn each_claimed_hash_is_looked_up_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for seq in 1..=12 {
            let shape = Shape {
                seq,
                policy_hash: (seq % 3 != 0).then(|| ["A", "B"][(seq % 2) as usize].repeat(43)),
                ..Shape::default()
            };
            let path = dir.path().join(format!("{seq:02}.json"));
            std::fs::write(&path, kit::bundle_bytes(&shape).unwrap()).unwrap();
            paths.push(path);
        }
        let junk = dir.path().join("junk.json");
        std::fs::write(&junk, b"{not json").unwrap();
        paths.push(junk);

        let source = Counting::default();
        let entries = verify_under_claimed(&paths, &source, &Options::any_gateway(), &[]).unwrap();
        let mut asked = source.asked.into_inner();
        asked.sort();
        assert_eq!(asked, ["A".repeat(43), "B".repeat(43)]);
        let files: Vec<&PathBuf> = entries.iter().map(|e| &e.path).collect();
        assert_eq!(files, paths.iter().collect::<Vec<_>>());
        for (seq, entry) in (1..).zip(&entries) {
            let unknown = entry
                .report
                .failures
                .iter()
                .find(|f| f.code == Code::PolicyUnknown)
                .unwrap();
            if seq <= 12 && seq % 3 != 0 {
                assert!(
                    unknown.pointer.ends_with("/binding/policy_hash"),
                    "{unknown:?}"
                );
            } else {
                assert_eq!(unknown.pointer, "", "{unknown:?}");
            }
            assert!(!entry.report.valid);
        }
        assert_eq!(
            entries[12].report.failures[0].code,
            Code::MalformedEnvelope,
            "{:?}",
            entries[12].report
        );
    }
}
