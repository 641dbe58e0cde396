use std::path::PathBuf;

use super::{Outcome, eprint, print};
use crate::claw::{self, CanonicalPayload, ClawVersion, ExportError};
use crate::crypto::verify::Trust;
use crate::policy::Policy;
use crate::policy::document::unreadable_in_brief;
use crate::report::{Report, Severity};
use crate::resolve::{self, PolicyFileError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file (TOML), or its signed envelope (JSON).
    file: PathBuf,
    /// Print only the 12-character display form.
    #[arg(long)]
    short: bool,
    /// Which payload's hash: the native WPC's, or that of its Claw protocol
    /// WPC v1 or v2 export (docs/claw.md).
    #[arg(long, value_enum, default_value_t = Target::Native)]
    target: Target,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Target {
    /// The policy's own hash.
    Native,
    /// The hash of its Claw protocol WPC v1 payload.
    ClawV1,
    /// The hash of its Claw protocol WPC v2 payload.
    ClawV2,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let Some(policy) = load_or_report(&args.file)? else {
        return Ok(Outcome::Failed);
    };
    let version = match args.target {
        Target::Native => None,
        Target::ClawV1 => Some(ClawVersion::V1),
        Target::ClawV2 => Some(ClawVersion::V2),
    };
    let full = match version {
        None => policy.hash.clone(),
        Some(version) => match claw_payload(&args.file, &policy, version)? {
            Some(rendered) => rendered.hash,
            None => return Ok(Outcome::Failed),
        },
    };
    let hash = if args.short {
        crate::policy::hash::short(&full)
    } else {
        &full
    };
    print(&format!("{hash}\n"))?;
    Ok(Outcome::Clean)
}

/// The policy's Claw protocol export, with `[claw]` settings from the
/// `wpc.toml` above `file`. A policy that cannot be exported prints its
/// problems, located in the policy, to stderr and yields `None` (exit 1).
pub(super) fn claw_payload(
    file: &std::path::Path,
    policy: &Policy,
    version: ClawVersion,
) -> anyhow::Result<Option<CanonicalPayload>> {
    let (config, findings) = crate::config::Config::discover(file)?;
    if !findings.is_empty() {
        anyhow::bail!("the wpc.toml above the policy has errors (run `wpc check`)");
    }
    match claw::render(policy, version, &config.claw_export()) {
        Ok(rendered) => Ok(Some(rendered)),
        Err(ExportError::Unexportable { problems, .. }) => {
            let findings = problems
                .into_iter()
                .map(|p| {
                    policy
                        .doc
                        .finding_at(&p.pointer, p.kind.code(), Severity::Error, p.message)
                })
                .collect();
            let report = Report::new(findings, 1);
            eprint(&report.text(false, false));
            Ok(None)
        }
        Err(other) => Err(other.into()),
    }
}

/// Load a policy for a command that needs a valid one ([`resolve::policy_file`];
/// who signed an envelope is `wpc verify --trusted`'s question). A missing
/// file is an error (exit 2); an invalid policy or envelope prints why to
/// stderr and yields `None` (exit 1).
pub(super) fn load_or_report(file: &std::path::Path) -> anyhow::Result<Option<Policy>> {
    report_invalid(
        file,
        resolve::policy_file(file, &Trust::any_signer_unchecked())?,
    )
}

/// The policy, or `None` with why it is not one printed to stderr.
pub(super) fn report_invalid(
    file: &std::path::Path,
    loaded: Result<Policy, PolicyFileError>,
) -> anyhow::Result<Option<Policy>> {
    match loaded {
        Ok(policy) => Ok(Some(policy)),
        Err(PolicyFileError::Envelope(failure)) => {
            eprint(&format!(
                "{}: invalid envelope: {failure}\n",
                file.display()
            ));
            Ok(None)
        }
        Err(PolicyFileError::Invalid(findings)) => {
            let report = Report::new(unreadable_in_brief(findings), 1);
            eprint(&report.render_brief(false));
            Ok(None)
        }
    }
}
