use std::path::PathBuf;

use super::args::{FreshnessArgs, Place, open};
use super::output::rejected_or;
use super::output::{Outcome, print};
use crate::crypto::trusted::TrustedSigners;
use crate::crypto::verify::Trust;
use crate::envelopes;
use crate::release::{ReleaseError, VerifiedRelease};
use crate::report::Format;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Signed WPC envelopes (JSON), or commit signatures (`commit_sig`).
    #[arg(required = true)]
    envelopes: Vec<PathBuf>,
    /// Only accept signers listed as `[[release_signer]]` in this file.
    /// Without it, any valid signature is accepted and the output says so.
    #[arg(long, value_name = "FILE")]
    trusted: Option<PathBuf>,
    #[arg(long, default_value_t = Format::Text, value_parser = envelopes::FORMATS)]
    format: Format,
    /// Also reject envelopes whose hash is revoked on this release branch
    /// (of the repository holding the current folder), after verifying the
    /// branch's tip against main and this repository's verifier memory.
    #[arg(long, value_name = "BRANCH")]
    release_branch: Option<String>,
    #[command(flatten)]
    freshness: FreshnessArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let trust = match &args.trusted {
        Some(path) => {
            let signers = TrustedSigners::load(path)?;
            Trust::only(signers.release_signers().iter().map(|s| &s.did))
        }
        None => Trust::any_signer_unchecked(),
    };
    // The branch is verified before any envelope is judged: a branch that
    // does not verify (rolled back, edited, forged) is exit 1 with nothing
    // on stdout, as its revocations are unknown.
    let release = match &args.release_branch {
        Some(branch) => match verified_release(branch, &args.freshness)? {
            Ok(state) => Some(state),
            Err(err) => return rejected_or(err),
        },
        None => {
            anyhow::ensure!(
                args.freshness.min_checkpoint.is_none(),
                "--min-checkpoint needs --release-branch"
            );
            None
        }
    };
    let mut verdicts = Vec::new();
    for path in &args.envelopes {
        // An unreadable file is an I/O error (exit 2), not an invalid envelope.
        let bytes = crate::fsio::read(path, crate::fsio::ENVELOPE)?;
        verdicts.push(envelopes::judge(path, &bytes, &trust));
    }
    if let Some(state) = &release {
        envelopes::hold_to_revocations(&mut verdicts, state);
    }
    let all_valid = verdicts.iter().all(|v| v.valid);
    let checked = args.trusted.is_some();
    print(&envelopes::render(&verdicts, checked, args.format)?)?;
    Ok(if all_valid {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

/// The release branch `branch` of the repository holding the current
/// folder (its main and `wpc.toml` folder read at HEAD), its tip verified
/// against main and the verifier memory: an error is a branch that cannot
/// be read (exit 2), the inner one a branch that does not verify (exit 1).
fn verified_release(
    branch: &str,
    freshness: &FreshnessArgs,
) -> anyhow::Result<Result<VerifiedRelease, ReleaseError>> {
    let place = Place {
        branch: Some(branch.to_owned()),
        repo: PathBuf::from("."),
        root: None,
    };
    let (repo, source) = open(&place)?;
    Ok(VerifiedRelease::load(
        &repo,
        &source,
        &freshness.freshness(),
    ))
}
