use std::path::PathBuf;

use anyhow::Context as _;

use super::release::{Place, open};
use super::sign::load_key;
use super::{Outcome, print};
use crate::crypto::envelope::parse_rfc3339;
use crate::release;

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
    let (repo, _, _, branch) = open(&args.place, "HEAD")?;
    let commit = release::revoke(&repo, &branch, &args.hash, &args.reason, &key, now)?;
    print(&format!("revoked {}; {branch} is at {commit}\n", args.hash))?;
    Ok(Outcome::Clean)
}
