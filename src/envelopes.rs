//! `wpc verify`: signed WPC envelopes (native or a Claw rendering, each
//! against its own schema) and commit signatures, judged one by one, and
//! optionally held to the revocations of a verified release branch.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::bundle::commit_sig;
use crate::claw::ClawVersion;
use crate::crypto::envelope::WorkPolicyContract;
use crate::crypto::verify::{ReasonCode, Trust, VerifyFailure, verify_envelope};
use crate::error::error_enum;
use crate::policy::schema::{self, Schema};
use crate::release::VerifiedRelease;
use crate::report::{Envelope, Format, Formats, Unsupported};

/// What one document is.
#[derive(Serialize)]
pub struct Verdict {
    pub file: String,
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_hash_b64u: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_did: Option<String>,
    /// The commit a valid commit signature names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// A reason code and its message, from either kind of document.
#[derive(Serialize)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
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

/// Judge one document: a commit signature whole, an envelope by its
/// signature (against `trust`) and its payload's schema.
pub fn judge(path: &Path, bytes: &[u8], trust: &Trust) -> Verdict {
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

/// Mark every verdict whose hash `release` revokes as invalid (`REVOKED`).
pub fn hold_to_revocations(verdicts: &mut [Verdict], release: &VerifiedRelease) {
    let branch = &release.source.branch;
    for v in verdicts {
        if let Some(hash) = v
            .policy_hash_b64u
            .as_deref()
            .filter(|h| release.revocation(h).is_some())
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

/// The `format` and `version` of the `--format json` document.
pub const ENVELOPE: Envelope = Envelope::new("wpc-verify", 1);

/// The `--format json` document.
pub fn json(verdicts: &[Verdict], trusted_signers_checked: bool) -> serde_json::Value {
    serde_json::json!({
        "format": ENVELOPE.format,
        "version": ENVELOPE.version,
        "trusted_signers_checked": trusted_signers_checked,
        "results": verdicts,
    })
}

/// The formats of `wpc verify`.
pub const FORMATS: Formats = Formats(&[Format::Text, Format::Json]);

/// The verdicts in `format`, one of [`FORMATS`].
pub fn render(
    verdicts: &[Verdict],
    trusted_signers_checked: bool,
    format: Format,
) -> Result<String, Unsupported> {
    Ok(match format {
        Format::Text => text(verdicts, trusted_signers_checked),
        // A Value always serializes.
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&json(verdicts, trusted_signers_checked))
                .unwrap_or_default()
        ),
        Format::Sarif | Format::Github | Format::Junit | Format::Markdown => {
            return Err(Unsupported {
                format,
                output: "envelope verification",
            });
        }
    })
}

/// A line per document, and a note when any signer was accepted.
pub fn text(verdicts: &[Verdict], trusted_signers_checked: bool) -> String {
    let mut out = String::new();
    for v in verdicts {
        match (&v.failure, &v.policy_hash_b64u, &v.signer_did) {
            (Some(failure), _, _) => {
                let _ = writeln!(out, "INVALID {} {failure}", v.file);
            }
            (None, None, Some(signer)) => {
                let sha = v.commit_sha.as_deref().unwrap_or_default();
                let _ = writeln!(out, "VALID   {} commit {sha} signed by {signer}", v.file);
            }
            (None, Some(hash), Some(signer)) => {
                let _ = writeln!(out, "VALID   {} {hash} signed by {signer}", v.file);
            }
            _ => {}
        }
    }
    if !trusted_signers_checked {
        out.push_str("note: no --trusted file: any valid signer was accepted\n");
    }
    out
}

/// What the command line asked of `wpc verify`.
#[derive(Debug)]
pub struct Plan {
    /// Envelope or commit-signature files.
    pub envelopes: Vec<std::path::PathBuf>,
    /// Only the `[[release_signer]]`s of this trusted-signers file.
    pub trusted: Option<std::path::PathBuf>,
    /// Hold the envelopes to this release branch's revocations.
    pub release_branch: Option<String>,
    pub freshness: crate::release::Freshness,
    pub format: Format,
}

error_enum! {
    pub enum VerifyCommandError {
        Trusted(crate::crypto::trusted::TrustedSignersError),
        Open(crate::release::OpenError),
        Release(crate::release::ReleaseError),
        Read(crate::fsio::ReadError),
        Format(Unsupported),
        #[error("--min-checkpoint needs --release-branch")]
        FreshnessWithoutBranch,
    }
}

/// `wpc verify`: judge each envelope; with a release branch (of the
/// repository holding the current folder, verified against main and the
/// verifier memory first), hold them to its revocations. A branch that
/// does not verify fails with nothing on stdout, as its revocations are
/// unknown; an unreadable file is an error, not an invalid envelope.
pub fn verify(plan: &Plan) -> Result<crate::report::Output, VerifyCommandError> {
    let trust = match &plan.trusted {
        Some(path) => {
            let signers = crate::crypto::trusted::TrustedSigners::load(path)?;
            Trust::only(signers.release_signers().iter().map(|s| &s.did))
        }
        None => Trust::any_signer_unchecked(),
    };
    let release = match &plan.release_branch {
        Some(branch) => {
            let (repo, source) =
                crate::release::Source::open(Path::new("."), None, Some(branch.as_str()))?;
            match VerifiedRelease::load(&repo, &source, &plan.freshness) {
                Ok(state) => Some(state),
                Err(err) if err.is_rejection() => {
                    return Ok(crate::report::Output::failure(format!("error: {err}\n")));
                }
                Err(err) => return Err(err.into()),
            }
        }
        None if plan.freshness.min_checkpoint.is_some() => {
            return Err(VerifyCommandError::FreshnessWithoutBranch);
        }
        None => None,
    };
    let mut verdicts = Vec::new();
    for path in &plan.envelopes {
        let bytes = crate::fsio::read(path, crate::fsio::ENVELOPE)?;
        verdicts.push(judge(path, &bytes, &trust));
    }
    if let Some(state) = &release {
        hold_to_revocations(&mut verdicts, state);
    }
    let stdout = render(&verdicts, plan.trusted.is_some(), plan.format)?;
    Ok(crate::report::Output::stdout(stdout).failing_if(!verdicts.iter().all(|v| v.valid)))
}

/// What the command line asked of `wpc sign`.
#[derive(Debug)]
pub struct SignPlan {
    /// The policy, or with `artifact` any regular file.
    pub file: std::path::PathBuf,
    /// Sign `file` as an artifact (`artifact_digest`), not as a policy.
    pub artifact: bool,
    /// Write the envelope here (atomically) instead of to stdout.
    pub out: Option<std::path::PathBuf>,
    pub issued_at: jiff::Timestamp,
    /// The `wpc.toml` for the lint check; default: discovered.
    pub config: Option<std::path::PathBuf>,
}

error_enum! {
    pub enum SignCommandError {
        Config(crate::config::ConfigError),
        Check(crate::lint::CheckError),
        Artifact(crate::crypto::artifact::ArtifactError),
        Sign(crate::crypto::envelope::SignError),
        Write(crate::fsio::WriteError),
        #[error("{0}: cannot load")]
        Unloadable(std::path::PathBuf),
    }
}

/// `wpc sign`: a policy is signed only if it would pass `wpc check` at
/// error level (its findings and a failing output otherwise); an artifact
/// is signed as it is.
pub fn sign(
    plan: &SignPlan,
    key: &crate::crypto::keys::SigningKey,
) -> Result<crate::report::Output, SignCommandError> {
    use crate::crypto::envelope::{SignedEnvelope, WorkPolicyContract};
    let envelope = if plan.artifact {
        crate::crypto::artifact::sign_file(&plan.file, key, plan.issued_at)?
    } else {
        let selection = crate::config::Config::select(
            plan.config.as_deref(),
            std::slice::from_ref(&plan.file),
        )?;
        let report = crate::lint::check(
            &selection.config,
            selection.findings,
            &selection.inputs,
            crate::lint::Revocations::NotRead,
        )?;
        if report.fails_at(crate::report::Severity::Error) {
            let mut failed = crate::report::Output::failure(report.text(false, false));
            failed.note("error: not signed: the policy has errors\n");
            return Ok(failed);
        }
        let policy = crate::policy::Policy::load(&plan.file)
            .map_err(|_| SignCommandError::Unloadable(plan.file.clone()))?;
        SignedEnvelope::sign::<WorkPolicyContract>(policy.doc.value, key, plan.issued_at)?
    };
    // Plain data: serializing an envelope cannot fail.
    let mut json = serde_json::to_string_pretty(&envelope).unwrap_or_default();
    json.push('\n');
    match &plan.out {
        Some(out) => {
            crate::fsio::write_atomically(out, &json)?;
            Ok(crate::report::Output::default())
        }
        None => Ok(crate::report::Output::stdout(json)),
    }
}
