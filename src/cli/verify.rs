use std::path::PathBuf;

use serde::Serialize;

use super::args::{FreshnessArgs, Place, open};
use super::rejected_or;
use super::{Outcome, print};
use crate::bundle::commit_sig;
use crate::claw::ClawVersion;
use crate::crypto::envelope::WorkPolicyContract;
use crate::crypto::trusted::TrustedSigners;
use crate::crypto::verify::{ReasonCode, Trust, VerifyFailure, verify_envelope};
use crate::policy::schema::{self, Schema};
use crate::release::{ReleaseError, VerifiedRelease};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Signed WPC envelopes (JSON), or commit signatures (`commit_sig`).
    #[arg(required = true)]
    envelopes: Vec<PathBuf>,
    /// Only accept signers listed as `[[release_signer]]` in this file.
    /// Without it, any valid signature is accepted and the output says so.
    #[arg(long, value_name = "FILE")]
    trusted: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    format: VerifyFormat,
    /// Also reject envelopes whose hash is revoked on this release branch
    /// (of the repository holding the current folder), after verifying the
    /// branch's tip against main and this repository's verifier memory.
    #[arg(long, value_name = "BRANCH")]
    release_branch: Option<String>,
    #[command(flatten)]
    freshness: FreshnessArgs,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum VerifyFormat {
    Text,
    Json,
}

#[derive(Serialize)]
struct Verdict {
    file: String,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_hash_b64u: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signer_did: Option<String>,
    /// The commit a valid commit signature names.
    #[serde(skip_serializing_if = "Option::is_none")]
    commit_sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<Failure>,
}

/// A reason code and its message, from either kind of document.
#[derive(Serialize)]
struct Failure {
    code: &'static str,
    message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<VerifyFailure> for Failure {
    fn from(failure: VerifyFailure) -> Failure {
        Failure {
            code: failure.code().as_str(),
            message: failure.message().to_owned(),
        }
    }
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
        verdicts.push(verdict(path, &bytes, &trust));
    }
    if let Some(state) = &release {
        let branch = &state.source.branch;
        for v in &mut verdicts {
            if let Some(hash) = v
                .policy_hash_b64u
                .as_deref()
                .filter(|h| state.revocation(h).is_some())
            {
                v.failure = Some(
                    VerifyFailure::new(
                        ReasonCode::Revoked,
                        format!("{hash} is revoked on `{branch}`"),
                    )
                    .into(),
                );
                v.valid = false;
            }
        }
    }
    let all_valid = verdicts.iter().all(|v| v.valid);
    match args.format {
        VerifyFormat::Json => {
            let doc = serde_json::json!({
                "format": "wpc-verify/1",
                "trusted_signers_checked": args.trusted.is_some(),
                "results": verdicts,
            });
            print(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
        }
        VerifyFormat::Text => {
            let mut out = String::new();
            for v in &verdicts {
                match (&v.failure, &v.policy_hash_b64u, &v.signer_did) {
                    (Some(failure), _, _) => {
                        out.push_str(&format!("INVALID {} {failure}\n", v.file))
                    }
                    (None, None, Some(signer)) => {
                        let sha = v.commit_sha.as_deref().unwrap_or_default();
                        out.push_str(&format!(
                            "VALID   {} commit {sha} signed by {signer}\n",
                            v.file
                        ));
                    }
                    (None, Some(hash), Some(signer)) => {
                        out.push_str(&format!("VALID   {} {hash} signed by {signer}\n", v.file));
                    }
                    _ => {}
                }
            }
            if args.trusted.is_none() {
                out.push_str("note: no --trusted file: any valid signer was accepted\n");
            }
            print(&out)?;
        }
    }
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

fn verdict(path: &std::path::Path, bytes: &[u8], trust: &Trust) -> Verdict {
    let file = path.display().to_string();
    let failed = |failure: VerifyFailure| Verdict {
        file: file.clone(),
        valid: false,
        policy_hash_b64u: None,
        signer_did: None,
        commit_sha: None,
        failure: Some(failure.into()),
    };
    // A commit signature is not an envelope: the library checks it whole.
    if let Ok(value) = crate::crypto::verify::parse_json(bytes)
        && commit_sig::is_commit_sig(&value)
    {
        let verified = commit_sig::verify(&value);
        return Verdict {
            file,
            valid: verified.is_ok(),
            policy_hash_b64u: None,
            signer_did: verified.as_ref().ok().map(|c| c.signer.to_string()),
            commit_sha: verified.as_ref().ok().map(|c| c.commit_sha.clone()),
            failure: verified.err().map(|f| Failure {
                code: f.code.as_str(),
                message: f.message,
            }),
        };
    }
    let verified = match verify_envelope::<WorkPolicyContract>(bytes, trust) {
        Ok(verified) => verified,
        Err(failure) => return failed(failure),
    };
    // A Claw rendering fetched from the release branch is checked against
    // the protocol's schema of its version, a native payload against wpc's.
    let errors = match ClawVersion::of_payload(verified.payload()) {
        Some(version) => version.schema_errors(verified.payload()),
        None => schema::errors(Schema::Policy, verified.payload()),
    };
    if let Some(first) = errors.first() {
        return failed(VerifyFailure::new(
            ReasonCode::SchemaValidationFailed,
            format!("payload is not a valid WPC: {first}"),
        ));
    }
    Verdict {
        file,
        valid: true,
        policy_hash_b64u: Some(verified.payload_hash_b64u().to_owned()),
        signer_did: Some(verified.signer().to_string()),
        commit_sha: None,
        failure: None,
    }
}
