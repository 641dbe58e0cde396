use std::path::PathBuf;

use anyhow::Context as _;

use super::args::load_key;
use super::output::{Outcome, emit};
use crate::crypto::envelope::parse_rfc3339;
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
    let issued_at = match &args.issued_at {
        Some(text) => parse_rfc3339(text).with_context(|| format!("--issued-at {text}"))?,
        None => jiff::Timestamp::now(),
    };
    let plan = SignPlan {
        file: args.file,
        artifact: args.artifact,
        out: args.out,
        issued_at,
        config: args.config,
    };
    emit(envelopes::sign(&plan, &key)?)
}
