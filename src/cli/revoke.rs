use std::path::PathBuf;

use super::args::Place;
use super::exit::Outcome;
use super::load::{load_key, open, parse_now};
use super::output::emit;
use crate::release::run;

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
    let now = parse_now(args.now.as_deref())?;
    let (repo, source) = open(&args.place)?;
    emit(run::revoke_hash(
        &repo,
        &source,
        &args.hash,
        &args.reason,
        &key,
        now,
    )?)
}
