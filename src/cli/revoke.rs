use std::path::PathBuf;

use anyhow::Context as _;

use super::args::{Place, load_key, open};
use super::output::{Outcome, eprint, print, rejected_or};
use crate::crypto::envelope::parse_rfc3339;
use crate::git::{self, GitError};
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
    // Another writer that moved the branch first makes the update fail:
    // read it again.
    let (revoked, _) = git::retry_on_conflict(
        || release::revoke(&repo, &source, &args.hash, &args.reason, &key, now),
        |err| {
            matches!(
                err,
                RevokeError::Release(ReleaseError::Git(GitError::Conflict { .. }))
            )
        },
    );
    match revoked {
        Ok(Revoked::Now { commit, version }) if version != args.hash => {
            print(&format!(
                "revoked {} (version {version}, with all its renderings); {branch} is at {commit}\n",
                args.hash
            ))?;
            Ok(Outcome::Clean)
        }
        Ok(Revoked::Now { commit, .. }) => {
            print(&format!("revoked {}; {branch} is at {commit}\n", args.hash))?;
            Ok(Outcome::Clean)
        }
        Ok(Revoked::Already(at)) => {
            print(&format!(
                "nothing to do: {} was already revoked at {at}\n",
                args.hash
            ))?;
            Ok(Outcome::Clean)
        }
        Err(RevokeError::Release(err)) => rejected_or(err),
        Err(err @ (RevokeError::Unknown(..) | RevokeError::UntrustedKey(_))) => {
            eprint(&format!("error: {err}\n"));
            Ok(Outcome::Failed)
        }
        Err(err) => Err(err.into()),
    }
}
