use std::path::PathBuf;

use anyhow::Context as _;

use super::release::{PUBLISH_ATTEMPTS, Place, backoff, open, rejected_or};
use super::sign::load_key;
use super::{Outcome, eprint, print};
use crate::crypto::envelope::parse_rfc3339;
use crate::git::GitError;
use crate::release::{self, ReleaseError, RevokeError, Revoked};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy hash (policy_hash_b64u) to revoke; one starting with `-`
    /// is a hash too.
    #[arg(allow_hyphen_values = true)]
    hash: String,
    /// Why: kept on the release branch and shown by `wpc log`.
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// The secret key file. Default: the `WPC_SIGNING_KEY` environment variable.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    #[command(flatten)]
    place: Place,
    /// Pin `revoked_at` (RFC 3339). Default: now.
    #[arg(long, value_name = "TIME", hide = true)]
    now: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let key = load_key(args.key.as_deref())?;
    let now = match &args.now {
        Some(text) => parse_rfc3339(text).with_context(|| format!("--now {text}"))?,
        None => jiff::Timestamp::now(),
    };
    let (repo, source) = open(&args.place)?;
    let branch = &source.branch;
    let mut attempt = 1;
    loop {
        match release::revoke(&repo, &source, &args.hash, &args.reason, &key, now) {
            Ok(Revoked::Now { commit, version }) if version != args.hash => {
                print(&format!(
                    "revoked {} (version {version}, with all its renderings); {branch} is at {commit}\n",
                    args.hash
                ))?;
                return Ok(Outcome::Clean);
            }
            Ok(Revoked::Now { commit, .. }) => {
                print(&format!("revoked {}; {branch} is at {commit}\n", args.hash))?;
                return Ok(Outcome::Clean);
            }
            Ok(Revoked::Already(at)) => {
                print(&format!(
                    "nothing to do: {} was already revoked at {at}\n",
                    args.hash
                ))?;
                return Ok(Outcome::Clean);
            }
            // Another writer moved the branch first: read it again.
            Err(RevokeError::Release(ReleaseError::Git(GitError::Conflict { .. })))
                if attempt < PUBLISH_ATTEMPTS =>
            {
                attempt += 1;
                backoff(attempt);
            }
            Err(RevokeError::Release(err)) => return rejected_or(err),
            Err(err @ (RevokeError::Unknown(..) | RevokeError::UntrustedKey(_))) => {
                eprint(&format!("error: {err}\n"));
                return Ok(Outcome::Failed);
            }
            Err(err) => return Err(err.into()),
        }
    }
}
