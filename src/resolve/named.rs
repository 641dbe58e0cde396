//! A policy named by its file on the command line, for the commands that
//! need a valid one (`hash`, `compile`, `decide`, `audit`): loaded by
//! [`policy_file`](super::policy_file), or the reason it is not one, ready
//! for stderr.

use std::path::Path;

use super::{PolicyFileError, policy_file};
use crate::claw::{self, CanonicalPayload, ClawVersion, ExportError};
use crate::config::{Config, ConfigError};
use crate::crypto::verify::Trust;
use crate::error::error_enum;
use crate::fsio::ReadError;
use crate::policy::Policy;
use crate::policy::document::unreadable_in_brief;
use crate::report::{Output, Report, Severity};

error_enum! {
    pub enum NamedPolicyError {
        Read(ReadError),
        Config(ConfigError),
        Export(ExportError),
        #[error("the wpc.toml above the policy has errors (run `wpc check`)")]
        ConfigFindings,
    }
}

impl PolicyFileError {
    /// Why `file` holds no usable policy, in brief, for stderr.
    pub fn brief(&self, file: &Path) -> String {
        match self {
            PolicyFileError::Envelope(failure) => {
                format!("{}: invalid envelope: {failure}\n", file.display())
            }
            PolicyFileError::Invalid(findings) => {
                Report::new(unreadable_in_brief(findings.clone()), 1).render_brief(false)
            }
        }
    }
}

/// A policy for a command that needs a valid one (who signed an envelope is
/// `wpc verify --trusted`'s question). A missing file is the outer error
/// (exit 2); an invalid policy or envelope the failing [`Output`] saying
/// why (exit 1).
pub fn valid_policy(file: &Path) -> Result<Result<Policy, Output>, ReadError> {
    Ok(policy_file(file, &Trust::any_signer_unchecked())?
        .map_err(|err| Output::failure(err.brief(file))))
}

/// The policy's Claw protocol export, with `[claw]` settings from the
/// `wpc.toml` above `file`. A policy that cannot be exported is the failing
/// [`Output`] with its problems, located in the policy.
pub fn claw_payload(
    file: &Path,
    policy: &Policy,
    version: ClawVersion,
) -> Result<Result<CanonicalPayload, Output>, NamedPolicyError> {
    let (config, findings) = Config::discover(file)?;
    if !findings.is_empty() {
        return Err(NamedPolicyError::ConfigFindings);
    }
    match claw::render(policy, version, &config.claw_export()) {
        Ok(rendered) => Ok(Ok(rendered)),
        Err(ExportError::Unexportable { problems, .. }) => {
            let findings = problems
                .into_iter()
                .map(|p| {
                    policy
                        .doc
                        .finding_at(&p.pointer, p.kind.code(), Severity::Error, p.message)
                })
                .collect();
            Ok(Err(Output::failure(
                Report::new(findings, 1).text(false, false),
            )))
        }
        Err(other) => Err(other.into()),
    }
}

/// `wpc hash`: the hash of the policy in `file`, or of its Claw `version`
/// export; `short`, its 12-character display form.
pub fn hash(
    file: &Path,
    version: Option<ClawVersion>,
    short: bool,
) -> Result<Output, NamedPolicyError> {
    let policy = match valid_policy(file)? {
        Ok(policy) => policy,
        Err(invalid) => return Ok(invalid),
    };
    let full = match version {
        None => policy.hash,
        Some(version) => match claw_payload(file, &policy, version)? {
            Ok(rendered) => rendered.hash,
            Err(unexportable) => return Ok(unexportable),
        },
    };
    let hash = if short {
        crate::policy::hash::short(&full)
    } else {
        &full
    };
    Ok(Output::stdout(format!("{hash}\n")))
}

/// What `wpc compile` produces.
#[derive(Debug)]
pub enum CompileTarget {
    /// The canonical payload (RFC 8785 JSON).
    Native,
    /// A Claw protocol WPC payload.
    Claw(ClawVersion),
    /// The OpenClaw config fragment that realises the policy, with the
    /// tool map of this config.
    Openclaw(Box<Config>),
}

error_enum! {
    pub enum CompileCommandError {
        Policy(NamedPolicyError),
        Hash(crate::policy::hash::HashError),
        Openclaw(crate::decide::CompileError),
    }
}

/// `wpc compile`: the policy in `file` as `target`.
pub fn compile(file: &Path, target: &CompileTarget) -> Result<Output, CompileCommandError> {
    let policy = match valid_policy(file).map_err(NamedPolicyError::from)? {
        Ok(policy) => policy,
        Err(invalid) => return Ok(invalid),
    };
    let bytes = match target {
        CompileTarget::Native => crate::policy::hash::canonical_json(&policy.doc.value)?,
        CompileTarget::Claw(version) => match claw_payload(file, &policy, *version)? {
            Ok(rendered) => rendered.bytes,
            Err(unexportable) => return Ok(unexportable),
        },
        CompileTarget::Openclaw(config) => {
            let tool_map =
                crate::openclaw::ToolMap::with_overrides(&config.settings.openclaw_audit.tool_map);
            let target = crate::openclaw::Target::new(policy, tool_map, None)?;
            return Ok(Output::stdout(crate::openclaw::compile::fragment(&target)));
        }
    };
    Ok(Output::stdout(format!(
        "{}\n",
        String::from_utf8_lossy(&bytes)
    )))
}

error_enum! {
    pub enum DecideCommandError {
        Read(ReadError),
        Compile(crate::decide::CompileError),
        Format(crate::report::Unsupported),
    }
}

/// `wpc decide`: the decision of the policy in `file` on `call`, failing
/// unless it allows.
pub fn decide(
    file: &Path,
    call: &crate::decide::Call,
    format: crate::report::Format,
) -> Result<Output, DecideCommandError> {
    let policy = match valid_policy(file)? {
        Ok(policy) => policy,
        Err(invalid) => return Ok(invalid),
    };
    let engine = crate::decide::Engine::new(&policy.wpc)?;
    let decision = engine.decide(call);
    let stdout = decision.render(format, policy.name(), &policy.hash)?;
    Ok(Output::stdout(stdout).failing_if(decision.verdict != crate::decide::Verdict::Allow))
}
