//! The one way a policy named on the command line or claimed by a bundle is
//! found: a TOML policy file, a signed WPC envelope, or a policy hash looked
//! up on the repository's release branch (verified: anchored in main, signed
//! checkpoint, this repository's verifier memory), else among the working
//! policies. `wpc bundle verify --policy`, `wpc cst check --policy`, the
//! bundles stage of `wpc ci` and `wpc replay` all resolve through here, so a
//! hash means the same WPC to each of them.

mod named;
mod token;
mod workspace;

pub use named::{
    CompileCommandError, CompileTarget, DecideCommandError, NamedPolicyError, claw_payload,
    compile, decide, hash, valid_policy,
};
pub use token::{TokenCheckError, TokenPlan, check_token};
pub use workspace::Workspace;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::bundle::policy::{Lookup, PolicyCheck, PolicyLookup};
use crate::bundle::{self, UnverifiedEvidence};
use crate::config::Config;
use crate::crypto::did::{DidError, DidKey};
use crate::crypto::envelope::WorkPolicyContract;
use crate::crypto::trusted::{self, TrustedSigners, TrustedSignersError};
use crate::crypto::verify::{Trust, VerifyFailure, verify_envelope};
use crate::error::error_enum;
use crate::fsio;
use crate::git::Repo;
use crate::policy::files::{self, CollectError};
use crate::policy::model::Wpc;
use crate::policy::{Document, Policy};
use crate::release::{self, Freshness, VerifiedRelease};
use crate::report::Finding;

error_enum! {
    pub enum ResolveError {
        Read(fsio::ReadError),
        Release(release::ReleaseError),
        TrustedSigners(TrustedSignersError),
        #[error("--policy {0}: no such file, and not a 43-character policy hash")]
        NotFound(String),
        #[error("{what}: {failure}")]
        Envelope {
            what: String,
            failure: VerifyFailure,
        },
        #[error("{what}: the payload is not a valid WPC: {problem}")]
        NotAPolicy { what: String, problem: String },
        #[error("{} is not a valid policy: {first}", path.display())]
        InvalidPolicy { path: PathBuf, first: String },
        #[error("{what}: {source}")]
        Unusable {
            what: String,
            source: crate::bundle::policy::PolicyCheckError,
        },
        #[error("--policy: {0}")]
        Unknown(String),
        #[error("cannot list the policies in {}: {error}", dir.display())]
        Policies { dir: PathBuf, error: CollectError },
        #[error("release branch `{branch}`: {error}")]
        ReleasedEntry {
            branch: String,
            error: release::FetchError,
        },
        #[error("gateway signer {did}: {error}")]
        GatewaySigner { did: String, error: DidError },
    }
}

/// The keys proof bundles are checked against, and the trusted-signers
/// file they came from.
#[derive(Debug)]
pub struct BundleTrust {
    /// Gateway receipt signers and human approvers set; the rest default.
    pub options: bundle::Options,
    pub trusted: Option<TrustedSigners>,
}

impl BundleTrust {
    /// Whose signatures a policy envelope named by `--policy` must carry:
    /// the release signers of the trusted-signers file, else anyone's (and
    /// the output says so).
    pub fn release_trust(&self) -> Trust {
        match &self.trusted {
            Some(t) if !t.release_signers().is_empty() => {
                Trust::only(t.release_signers().iter().map(|s| &s.did))
            }
            _ => Trust::any_signer_unchecked(),
        }
    }
}

/// What `wpc bundle verify` and `wpc ci` trust for bundles: the gateway
/// signers of `[bundles] gateway_signers` and `extra_gateway_signers`, and
/// the gateway signers and approvers of `trusted_file`, else of the policy
/// repository's own `keys/trusted-signers.toml` (in a repository only: a
/// file that happens to lie under the current folder is not a trust root).
pub fn bundle_trust(
    config: &Config,
    extra_gateway_signers: &[String],
    trusted_file: Option<&Path>,
    unverified_evidence: UnverifiedEvidence,
) -> Result<BundleTrust, ResolveError> {
    let repository_file = config
        .file
        .as_ref()
        .map(|_| config.root.join(trusted::DEFAULT_PATH))
        .filter(|path| path.is_file());
    let trusted = match trusted_file.or(repository_file.as_deref()) {
        Some(path) => Some(TrustedSigners::load(path)?),
        None => None,
    };
    let mut gateway = extra_gateway_signers
        .iter()
        .chain(&config.settings.bundles.gateway_signers)
        .map(|did| {
            DidKey::parse(did).map_err(|error| ResolveError::GatewaySigner {
                did: did.clone(),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(trusted) = &trusted {
        gateway.extend(trusted.gateway_signers().iter().map(|s| s.did.clone()));
    }
    let mut options = bundle::Options::for_gateway_signers(&gateway);
    if let Some(trusted) = &trusted {
        options.approvers = trusted.approvers().to_vec();
    }
    options.unverified_evidence = unverified_evidence;
    Ok(BundleTrust { options, trusted })
}

/// Why a policy file holds no usable policy.
#[derive(Debug)]
pub enum PolicyFileError {
    /// A signed envelope whose hash or signature does not verify.
    Envelope(VerifyFailure),
    /// A policy (from TOML or an envelope's payload) that is not valid.
    Invalid(Vec<Finding>),
}

/// The one loader of a policy named by its file: TOML, or a signed WPC
/// envelope (JSON, told apart by content: it starts with `{`) whose hash
/// and signature are verified against `trust`. An unreadable file is the
/// outer error (exit 2); a file that holds no valid policy the inner one
/// (exit 1, with what to report).
pub fn policy_file(
    file: &Path,
    trust: &Trust,
) -> Result<Result<Policy, PolicyFileError>, fsio::ReadError> {
    let bytes = fsio::read(file, fsio::ENVELOPE)?;
    if bytes.trim_ascii_start().starts_with(b"{") {
        return Ok(envelope_policy(&bytes, trust));
    }
    Ok(crate::policy::decode_source(file, bytes)
        .map_err(|finding| vec![finding])
        .and_then(Document::parse)
        .and_then(Policy::from_document)
        .map_err(PolicyFileError::Invalid))
}

/// Resolves `--policy`: a TOML policy file, a signed WPC envelope (JSON,
/// verified against `release_trust`), or a policy hash looked up by
/// [`PolicySource`] (the release branch when there is one). With the
/// check, the source's warning when a hash was looked up among the working
/// policies. `freshness` is what the release branch's checkpoint must be.
pub fn resolve(
    spec: &str,
    release_trust: &Trust,
    config: &Config,
    freshness: &Freshness,
) -> Result<(PolicyCheck, Option<String>), ResolveError> {
    let path = Path::new(spec);
    // Whatever exists there is read as a file, so a FIFO or a device is
    // refused by name (crate::fsio) rather than taken for a hash.
    if !path.is_dir() && std::fs::symlink_metadata(path).is_ok() {
        let policy = policy_file(path, release_trust)?.map_err(|error| match error {
            PolicyFileError::Envelope(failure) => ResolveError::Envelope {
                what: spec.to_owned(),
                failure,
            },
            PolicyFileError::Invalid(findings) => ResolveError::InvalidPolicy {
                path: path.to_owned(),
                first: first_problem(&findings),
            },
        })?;
        return Ok((checked(policy.wpc, policy.hash, spec)?, None));
    }
    if !is_hash(spec) {
        return Err(ResolveError::NotFound(spec.to_owned()));
    }
    let source = PolicySource::for_config(config, freshness)?;
    match source.find(spec)? {
        Lookup::Found(check) => Ok((*check, source.warning())),
        Lookup::Unknown(why) => Err(ResolveError::Unknown(why)),
    }
}

/// The first of the findings that make a file not a policy, located.
fn first_problem(findings: &[Finding]) -> String {
    findings
        .first()
        .map_or_else(String::new, |f| format!("{}: {}", f.position(), f.message))
}

/// SHA-256 in base64url without padding.
fn is_hash(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The policy a signed WPC envelope carries, its hash and signature
/// verified against `trust`.
fn envelope_policy(bytes: &[u8], trust: &Trust) -> Result<Policy, PolicyFileError> {
    match verify_envelope::<WorkPolicyContract>(bytes, trust) {
        Ok(verified) => Policy::from_document(Document::detached(verified.into_payload()))
            .map_err(PolicyFileError::Invalid),
        Err(failure) => Err(PolicyFileError::Envelope(failure)),
    }
}

/// A signed WPC envelope, verified against `trust`, as a check.
fn from_envelope(bytes: &[u8], trust: &Trust, what: &str) -> Result<PolicyCheck, ResolveError> {
    let policy = envelope_policy(bytes, trust).map_err(|error| match error {
        PolicyFileError::Envelope(failure) => ResolveError::Envelope {
            what: what.to_owned(),
            failure,
        },
        PolicyFileError::Invalid(findings) => ResolveError::NotAPolicy {
            what: what.to_owned(),
            problem: first_problem(&findings),
        },
    })?;
    checked(policy.wpc, policy.hash, what)
}

fn checked(wpc: Wpc, hash: String, what: &str) -> Result<PolicyCheck, ResolveError> {
    PolicyCheck::new(wpc, hash).map_err(|source| ResolveError::Unusable {
        what: what.to_owned(),
        source,
    })
}

/// Where the WPC a policy hash names is looked up: the released WPCs of
/// the repository's release branch (`[release] branch`) when the branch
/// exists, with its revocations; else the working policies (`[policies]
/// dir`), which nothing revokes. Read once, so looking up many hashes (one
/// per bundle, some of them made up) costs one map lookup each.
pub enum PolicySource {
    Released {
        repo: Repo,
        /// The branch's tip, verified against main and the verifier memory.
        state: Box<VerifiedRelease>,
    },
    Working {
        dir: PathBuf,
        /// Every policy of `dir` that loads, by hash.
        policies: HashMap<String, Wpc>,
        /// The release branch that was looked for.
        branch: String,
    },
}

impl PolicySource {
    /// An error is a release branch or policies folder that cannot be read,
    /// or a release branch that does not verify or is not `freshness` fresh.
    pub fn for_config(
        config: &Config,
        freshness: &Freshness,
    ) -> Result<PolicySource, ResolveError> {
        if let Some((repo, state)) = release::read_verified(config, freshness)? {
            return Ok(PolicySource::released(repo, state));
        }
        let dir = config.policies_dir();
        let (paths, _) =
            files::collect_dir(&dir, &config.root).map_err(|error| ResolveError::Policies {
                dir: dir.clone(),
                error,
            })?;
        let (policies, _) = Policy::load_all(&paths);
        Ok(PolicySource::working(config, &policies))
    }

    /// The release branch, as verified by [`release::read_verified`].
    pub fn released(repo: Repo, state: VerifiedRelease) -> PolicySource {
        PolicySource::Released {
            repo,
            state: Box::new(state),
        }
    }

    /// The working `policies` of `config`'s policies folder, for a
    /// repository without a release branch. A policy that does not load is
    /// `wpc check`'s finding; it has no hash to be found by.
    pub fn working(config: &Config, policies: &[Policy]) -> PolicySource {
        PolicySource::Working {
            dir: config.policies_dir(),
            policies: policies
                .iter()
                .map(|policy| (policy.hash.clone(), policy.wpc.clone()))
                .collect(),
            branch: release::branch_name(config).to_owned(),
        }
    }

    /// Where lookups go, for reports: "released on `B`" or "among the
    /// working policies in DIR".
    pub fn describe(&self) -> String {
        match self {
            PolicySource::Released { state, .. } => {
                format!("released on `{}`", state.source.branch)
            }
            PolicySource::Working { dir, .. } => {
                format!("among the working policies in {}", dir.display())
            }
        }
    }

    /// The warning to show when bundles are not checked against releases.
    pub fn warning(&self) -> Option<String> {
        match self {
            PolicySource::Released { .. } => None,
            PolicySource::Working { branch, .. } => Some(format!(
                "no release branch `{branch}`: bundles checked against the working policies"
            )),
        }
    }

    /// The WPC whose hash is `hash`. An error is a released envelope that
    /// cannot be read or does not verify: the release branch is broken.
    pub fn find(&self, hash: &str) -> Result<Lookup, ResolveError> {
        if !is_hash(hash) {
            return Ok(Lookup::Unknown(format!(
                "`{}` is not a policy hash",
                hash.chars().take(60).collect::<String>()
            )));
        }
        match self {
            PolicySource::Released { repo, state } => {
                let branch = &state.source.branch;
                if state.entries_of(hash).next().is_none() {
                    return Ok(Lookup::Unknown(format!(
                        "policy `{hash}` was never released on `{branch}`"
                    )));
                }
                let released =
                    state
                        .lookup(repo, hash)
                        .map_err(|error| ResolveError::ReleasedEntry {
                            branch: branch.clone(),
                            error,
                        })?;
                // Any hash of a version (a Claw rendering's) is decided by
                // its native policy, and is the hash receipts must bind.
                let what = format!(
                    "{} on `{branch}`",
                    release::envelope_path(&released.policy_hash)
                );
                let mut check =
                    from_envelope(&released.policy, &Trust::any_signer_unchecked(), &what)?;
                hash.clone_into(&mut check.hash);
                check.revoked = released.revocation.is_some();
                Ok(Lookup::Found(Box::new(check)))
            }
            PolicySource::Working { dir, policies, .. } => match policies.get(hash) {
                Some(wpc) => checked(wpc.clone(), hash.to_owned(), &dir.display().to_string())
                    .map(|c| Lookup::Found(Box::new(c))),
                None => Ok(Lookup::Unknown(format!(
                    "no policy in {} has the hash `{hash}`",
                    dir.display()
                ))),
            },
        }
    }
}

impl PolicyLookup for PolicySource {
    type Error = ResolveError;

    fn lookup(&self, hash: &str) -> Result<Lookup, ResolveError> {
        self.find(hash)
    }
}

impl std::fmt::Debug for PolicySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicySource::Released { state, .. } => {
                write!(f, "Released({})", state.source.branch)
            }
            PolicySource::Working { dir, .. } => write!(f, "Working({})", dir.display()),
        }
    }
}
