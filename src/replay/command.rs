//! `wpc replay` as a command: the recorded calls of proof bundles decided
//! under the policy each claims and the working one (or `--policy`).

use std::path::{Path, PathBuf};

use super::versions::Working;
use super::{ReplayError, render};
use crate::config::Config;
use crate::error::error_enum;
use crate::policy::Policy;
use crate::release::Freshness;
use crate::report::{Format, Output, Unsupported};

/// What the command line asked of `wpc replay`.
#[derive(Debug)]
pub struct Plan {
    /// Files, folders or globs.
    pub bundles: Vec<String>,
    /// Decide under this policy file instead of the working policy.
    pub policy: Option<PathBuf>,
    pub format: Format,
    /// Changed calls shown per policy.
    pub examples: usize,
}

error_enum! {
    pub enum ReplayCommandError {
        Replay(ReplayError),
        Format(Unsupported),
        #[error("{} is not a valid policy: {first}", path.display())]
        InvalidPolicy { path: PathBuf, first: String },
    }
}

/// The policy in `path`, or its first problem (`LINE:COL message`).
pub(super) fn load_policy(path: &Path) -> Result<Policy, (PathBuf, String)> {
    Policy::load(path).map_err(|findings| {
        let first = findings
            .first()
            .map(|f| format!("{}: {}", f.position(), f.message));
        (path.to_path_buf(), first.unwrap_or_default())
    })
}

/// Replay the bundles: failing when any recorded call's decision changes.
pub fn run(config: &Config, plan: &Plan) -> Result<Output, ReplayCommandError> {
    let head = match &plan.policy {
        Some(path) => Some(
            load_policy(path)
                .map_err(|(path, first)| ReplayCommandError::InvalidPolicy { path, first })?
                .wpc,
        ),
        None => None,
    };
    let versions = Working::new(config, &Freshness::default(), head)?;
    let replayed = super::replay_globs(&plan.bundles, config, plan.examples, |hash| {
        versions.resolve(hash)
    })?;
    let mut out = Output::stdout(render::render(
        &replayed.impact,
        replayed.counted,
        plan.format,
    )?);
    if !replayed.gateway_signers_checked {
        out.note(super::UNCHECKED_GATEWAYS);
    }
    Ok(out.failing_if(replayed.impact.changed() > 0))
}
