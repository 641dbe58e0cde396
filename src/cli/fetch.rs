use std::path::PathBuf;

use super::release::{Place, open};
use super::{Outcome, print};
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
}

/// Exit 0 with the envelope on stdout, 1 when it does not verify (revoked,
/// unknown, tampered, untrusted), 2 when the hash is malformed or the branch
/// is missing or cannot be read.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let fetched = match (&args.from, &args.trusted) {
        (Some(dir), Some(trusted)) => {
            let signers = TrustedSigners::load(trusted)?;
            let trust = Trust::only(signers.release_signers().iter().map(|s| &s.did));
            release::fetch_from_dir(dir, &args.hash, &trust)
        }
        _ => {
            let (repo, _, root, branch) = open(&args.place, "HEAD")?;
            // No branch to read is an I/O-class error (exit 2), as for `wpc
            // log` and `wpc release verify`, not a hash that failed to verify.
            if repo.branch_tip(&branch)?.is_none() {
                anyhow::bail!("release branch `{branch}` does not exist");
            }
            release::fetch(&repo, &branch, &root, &args.hash)
        }
    };
    match fetched {
        Ok(bytes) => {
            print(&String::from_utf8_lossy(&bytes))?;
            Ok(Outcome::Clean)
        }
        // Unreadable: exit 2. A malformed hash is a usage error, like a bad
        // argument: exit 2 as well.
        Err(release::FetchError::Release(err)) => Err(err.into()),
        Err(err @ release::FetchError::BadHash(_)) => Err(err.into()),
        Err(err) => {
            super::eprint(&format!("error: {err}\n"));
            Ok(Outcome::Failed)
        }
    }
}
