use std::path::PathBuf;

use super::args::FreshnessArgs;
use super::exit::Outcome;
use super::output::emit;
use crate::envelopes::{self, Plan};
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
    let plan = Plan {
        envelopes: args.envelopes,
        trusted: args.trusted,
        release_branch: args.release_branch,
        freshness: args.freshness.freshness(),
        format: args.format,
    };
    emit(envelopes::verify(&plan)?)
}
