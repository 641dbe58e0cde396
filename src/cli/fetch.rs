use std::path::PathBuf;

use super::args::{FreshnessArgs, Place, open};
use super::output::rejected_or;
use super::output::{Outcome, print};
use crate::crypto::trusted::TrustedSigners;
use crate::crypto::verify::Trust;
use crate::release;

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
    let fetched = match (&args.from, &args.trusted) {
        (Some(dir), Some(trusted)) => {
            let signers = TrustedSigners::load(trusted)?;
            let trust = Trust::only(signers.release_signers().iter().map(|s| &s.did));
            release::fetch_from_dir(dir, &args.hash, &trust)
        }
        _ => {
            let (repo, source) = open(&args.place)?;
            release::fetch(&repo, &source, &args.hash, &args.freshness.freshness())
        }
    };
    match fetched {
        Ok(bytes) => {
            print(&String::from_utf8_lossy(&bytes))?;
            Ok(Outcome::Clean)
        }
        Err(release::FetchError::Release(err)) => rejected_or(err),
        Err(err @ release::FetchError::BadHash(_)) => Err(err.into()),
        Err(err) => {
            super::output::eprint(&format!("error: {err}\n"));
            Ok(Outcome::Failed)
        }
    }
}
