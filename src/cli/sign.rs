use std::path::PathBuf;

use super::exit::Outcome;
use super::load::{given_time, load_key};
use super::output::emit;
use crate::envelopes::{self, SignPlan};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy to sign. It must have no lint errors. With `--artifact`,
    /// any regular file.
    file: PathBuf,
    /// Sign FILE as an artifact (`artifact_digest`: its file name and
    /// SHA-256, e.g. a release's SHA256SUMS) instead of as a policy.
    #[arg(long, conflicts_with = "config")]
    artifact: bool,
    /// The secret key file (PKCS#8 PEM or base64url seed). Default: the
    /// `WPC_SIGNING_KEY` environment variable.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Write the envelope here (atomically) instead of to stdout.
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Pin `issued_at` (RFC 3339), for reproducible output. Default: now.
    #[arg(long, value_name = "TIME")]
    issued_at: Option<String>,
    /// Use this `wpc.toml` for the lint check instead of discovering one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let key = load_key(args.key.as_deref())?;
    let issued_at = given_time("--issued-at", args.issued_at.as_deref())?;
    let plan = SignPlan {
        file: args.file,
        artifact: args.artifact,
        out: args.out,
        issued_at: issued_at.unwrap_or_else(jiff::Timestamp::now),
        config: args.config,
    };
    emit(envelopes::sign(&plan, &key)?)
}
