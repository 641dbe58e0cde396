use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::args::load_key;
use super::output::{Outcome, eprint, print};
use crate::config::Config;
use crate::crypto::artifact;
use crate::crypto::envelope::{SignedEnvelope, WorkPolicyContract, parse_rfc3339};
use crate::fsio::write_atomically;
use crate::lint;
use crate::policy::Policy;
use crate::report::Severity;

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
    if args.artifact {
        let envelope = artifact::sign_file(&args.file, &key, issued_at)?;
        return write_envelope(&envelope, args.out.as_deref());
    }
    // A policy is signed only if it would pass `wpc check` at error level.
    let selection = Config::select(args.config.as_deref(), std::slice::from_ref(&args.file))?;
    let report = lint::check(
        &selection.config,
        selection.findings,
        &selection.inputs,
        lint::Revocations::NotRead,
    )?;
    if report.fails_at(Severity::Error) {
        eprint(&report.text(false, false));
        eprint("error: not signed: the policy has errors\n");
        return Ok(Outcome::Failed);
    }
    let policy = Policy::load(&args.file)
        .map_err(|_| anyhow::anyhow!("{}: cannot load", args.file.display()))?;
    let envelope = SignedEnvelope::sign::<WorkPolicyContract>(policy.doc.value, &key, issued_at)?;
    write_envelope(&envelope, args.out.as_deref())
}

fn write_envelope(envelope: &SignedEnvelope, out: Option<&Path>) -> anyhow::Result<Outcome> {
    let mut json = serde_json::to_string_pretty(envelope)?;
    json.push('\n');
    match out {
        Some(out) => write_atomically(out, &json)?,
        None => print(&json)?,
    }
    Ok(Outcome::Clean)
}
