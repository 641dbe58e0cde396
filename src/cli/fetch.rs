use std::path::PathBuf;

use super::args::{FreshnessArgs, Place};
use super::exit::Outcome;
use super::load::open;
use super::output::emit;
use crate::release::run;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy hash (policy_hash_b64u); one starting with `-` is a hash too.
    #[arg(allow_hyphen_values = true)]
    hash: String,
    #[command(flatten)]
    place: Place,
    /// Read a checkout or export of the release branch in DIR instead of
    /// the Git branch (needs --trusted).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "branch",
        requires = "trusted"
    )]
    from: Option<PathBuf>,
    /// The trusted signers file for --from (`[[release_signer]]`).
    #[arg(long, value_name = "FILE")]
    trusted: Option<PathBuf>,
    #[command(flatten)]
    freshness: FreshnessArgs,
}

/// Exit 0 with the envelope on stdout, 1 when it does not verify (revoked,
/// unknown, tampered, untrusted, a branch that breaks a trust rule), 2 when
/// the branch cannot be read or the hash is not a hash.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    emit(match (&args.from, &args.trusted) {
        (Some(dir), Some(trusted)) => run::fetch_exported(dir, trusted, &args.hash)?,
        _ => {
            let (repo, source) = open(&args.place)?;
            run::fetch_released(&repo, &source, &args.hash, &args.freshness.freshness())?
        }
    })
}
