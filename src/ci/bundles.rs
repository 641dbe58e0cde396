//! `wpc bundle verify`: the bundles stage of `wpc ci` on the bundles named
//! on the command line (else `[bundles] paths`), with the options only the
//! command has: `--policy`, a scoped token, sharding, `--replay-only`.

use std::path::PathBuf;

use jiff::Timestamp;

use crate::bundle::batch::{self, BatchError};
use crate::bundle::render::{self, Context};
use crate::bundle::{Options, UnverifiedEvidence, causal, reason};
use crate::config::Config;
use crate::cst::{self, IssuerError, Issuers, TokenPolicy};
use crate::error::error_enum;
use crate::fsio::ReadError;
use crate::release::Freshness;
use crate::report::{Format, Output, Unsupported};
use crate::resolve::{self, PolicySource, ResolveError};

/// What the command line asked of `wpc bundle verify`.
#[derive(Debug)]
pub struct Plan {
    /// Files, folders and globs; empty: `[bundles] paths`.
    pub paths: Vec<String>,
    /// The trusted-signers file, instead of the repository's.
    pub trusted: Option<PathBuf>,
    pub gateway_signers: Vec<String>,
    /// `--policy`: a policy file, envelope or hash.
    pub policy: Option<String>,
    pub scope_hash: Option<String>,
    /// `--cst`: a scoped token (or its file) and its issuer's key.
    pub cst: Option<String>,
    pub issuer: Option<String>,
    pub jwks: Option<PathBuf>,
    pub freshness: Freshness,
    pub revoked: Vec<String>,
    pub now: Option<Timestamp>,
    pub causal_mode: Option<causal::Mode>,
    pub causal_profile: causal::Profile,
    pub max_bundle_bytes: u64,
    pub format: Format,
    pub unverified_evidence: UnverifiedEvidence,
    /// Only shard I of N (1-based).
    pub shard: Option<(u64, u64)>,
    pub replay_only: bool,
}

error_enum! {
    pub enum BundleCommandError {
        Resolve(ResolveError),
        Issuer(IssuerError),
        Read(ReadError),
        Batch(BatchError),
        Format(Unsupported),
        #[error("no bundles given, and wpc.toml has no [bundles] paths")]
        NoBundles,
        #[error("{code}: {message}")]
        Causal { code: reason::Code, message: String },
        #[error("--cst: the token is not valid: {0}")]
        InvalidToken(String),
    }
}

/// Verify the bundles `plan` names, in a policy repository under its
/// trusted signers (as `wpc ci` does): under `--policy`, else each under
/// the WPC it claims; failing when any is invalid.
pub fn run(config: &Config, plan: &Plan) -> Result<Output, BundleCommandError> {
    let trust = resolve::bundle_trust(
        config,
        &plan.gateway_signers,
        plan.trusted.as_deref(),
        plan.unverified_evidence,
    )?;
    let release_trust = trust.release_trust();
    let mut options = trust.options;
    if let Some(now) = plan.now {
        options.now = now;
    }
    options.causal = causal::Policy::resolve(plan.causal_profile, plan.causal_mode, None).map_err(
        |failure| BundleCommandError::Causal {
            code: failure.code,
            message: failure.message,
        },
    )?;
    options.max_bundle_bytes = plan.max_bundle_bytes;
    let mut out = Output::default();

    let policy = match &plan.policy {
        Some(spec) => {
            let (mut check, warning) =
                resolve::resolve(spec, &release_trust, config, &plan.freshness)?;
            if let Some(warning) = warning {
                out.note(&format!("note: {warning}\n"));
            }
            check.revoked |= plan.revoked.contains(&check.hash);
            Some(check)
        }
        None => None,
    };
    let scope_hash = match &plan.cst {
        None => plan.scope_hash.clone(),
        Some(token) => {
            let token = cst::read_token(token)?;
            let issuers = Issuers::from_key(plan.issuer.as_deref(), plan.jwks.as_deref())?;
            let report = cst::check(
                &token,
                &issuers,
                options.now.as_second(),
                policy.as_ref().map(|p| TokenPolicy {
                    wpc: &p.wpc,
                    hash: &p.hash,
                }),
            );
            if !report.valid {
                let reasons: Vec<String> =
                    report.failures.iter().map(ToString::to_string).collect();
                return Err(BundleCommandError::InvalidToken(reasons.join("; ")));
            }
            report.scope_hash_b64u
        }
    };

    let specs = if plan.paths.is_empty() {
        &config.settings.bundles.paths
    } else {
        &plan.paths
    };
    if specs.is_empty() {
        return Err(BundleCommandError::NoBundles);
    }
    let mut paths = batch::collect(specs)?;
    if let Some((index, count)) = plan.shard {
        paths = batch::shard(paths, index, count);
    }
    if plan.replay_only {
        // Policy and scope checks are the shards' job.
        let (text, clean) = replay_only(&paths, &options)?;
        out.stdout = text;
        return Ok(out.failing_if(!clean));
    }
    // In a policy repository without --policy, each bundle is checked under
    // the WPC it claims, as `wpc ci` does.
    let claimed_from = match (&policy, &config.file) {
        (None, Some(_)) => {
            let source = PolicySource::for_config(config, &plan.freshness)?;
            if let Some(warning) = source.warning() {
                out.note(&format!("note: {warning}\n"));
            }
            Some(source)
        }
        _ => None,
    };
    let context = Context {
        gateway_signers_checked: options.gateway_signers_checked,
        policy_hash: policy.as_ref().map(|p| p.hash.clone()),
        claimed_from: claimed_from.as_ref().map(PolicySource::describe),
        unverified_evidence: options.unverified_evidence,
    };
    options.policy = policy;
    options.scope_hash = scope_hash;
    let entries = match &claimed_from {
        Some(source) => batch::verify_under_claimed(&paths, source, &options, &plan.revoked)?,
        None => batch::verify_all(&paths, &options)?,
    };
    out.stdout = render::render(plan.format, &entries, &context)?;
    Ok(out.failing_if(!entries.iter().all(|e| e.report.valid)))
}

/// `--replay-only`: one line per replay, per bundle that took no part, a
/// summary; and whether there was neither.
fn replay_only(paths: &[PathBuf], options: &Options) -> Result<(String, bool), BatchError> {
    let report = batch::replay_only(paths, options)?;
    let mut out = String::new();
    for replay in &report.replays {
        out.push_str(&format!(
            "REPLAY  {} {}\n",
            replay.path.display(),
            replay.failure
        ));
    }
    for (path, codes) in &report.skipped {
        let codes: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        out.push_str(&format!(
            "INVALID {} {} (not checked for replay)\n",
            path.display(),
            codes.join(" ")
        ));
    }
    out.push_str(&format!(
        "{} bundles: {} replays, {} invalid\n",
        report.bundles,
        report.replays.len(),
        report.skipped.len()
    ));
    if !options.gateway_signers_checked {
        out.push_str(
            "note: no trusted gateway signers given (--trusted, --gateway-signer or wpc.toml \
             [bundles] gateway_signers): any valid gateway receipt signer was accepted\n",
        );
    }
    Ok((out, report.replays.is_empty() && report.skipped.is_empty()))
}

/// Not `I/N` with 1 ≤ I ≤ N.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("`{0}` is not I/N")]
    NotIOfN(String),
    #[error("shard {0} of {1}: I must lie between 1 and N")]
    OutOfRange(u64, u64),
}

/// `I/N` with 1 ≤ I ≤ N.
pub fn parse_shard(text: &str) -> Result<(u64, u64), ShardError> {
    let not = || ShardError::NotIOfN(text.to_owned());
    let parse = |s: &str| s.trim().parse::<u64>().map_err(|_| not());
    let (index, count) = text.split_once('/').ok_or_else(not)?;
    let (index, count) = (parse(index)?, parse(count)?);
    if index == 0 || index > count {
        return Err(ShardError::OutOfRange(index, count));
    }
    Ok((index, count))
}
