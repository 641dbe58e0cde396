//! What `wpc.toml` says about OpenClaw: rule levels, and the `[[openclaw]]`
//! mappings of configs to the policies they must stay inside.

use std::path::PathBuf;

use super::{AuditOptions, Levels, LoadOptions, Target, ToolMap, audit};
use crate::config::{Config, Level};
use crate::decide::CompileError;
use crate::policy::Policy;
use crate::report::{Finding, Severity};

/// Why the OpenClaw settings of `wpc.toml` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("[openclaw_audit.rules]: unknown rule `{0}` (`wpc rule --list` lists the rules)")]
    UnknownRule(String),
    #[error("[openclaw_audit.rules]: `{0}` is a loading check; its level cannot be changed")]
    LoadingCheck(String),
    #[error("{}: no such file (an [[openclaw]] config in wpc.toml)", .0.display())]
    NoConfig(PathBuf),
    #[error("{}: {error}", policy.display())]
    Policy {
        policy: PathBuf,
        error: CompileError,
    },
}

/// `[openclaw_audit.rules]`, refusing codes that name no rule (a typo would
/// silently keep a rule at its default level) and loading checks.
pub fn levels(config: &Config) -> Result<Levels, MappingError> {
    let mut levels = Levels::new();
    for (code, level) in &config.settings.openclaw_audit.rules {
        let Some(meta) = super::REGISTRY.find(code) else {
            return Err(MappingError::UnknownRule(code.clone()));
        };
        if super::BUILTIN
            .iter()
            .any(|b| b.code == meta.code && b.code != super::codes::ENV_UNSET)
        {
            return Err(MappingError::LoadingCheck(code.clone()));
        }
        let severity = match level {
            Level::Error => Some(Severity::Error),
            Level::Warning => Some(Severity::Warning),
            Level::Info => Some(Severity::Info),
            Level::Off => None,
        };
        levels.insert(meta.code.to_owned(), severity);
    }
    Ok(levels)
}

/// A mapping's `policy` is a policy name (in the policies folder) or a path
/// relative to `wpc.toml`.
pub fn policy_file(config: &Config, policy: &str) -> PathBuf {
    if policy.ends_with(".toml") || policy.contains('/') {
        config.root.join(policy)
    } else {
        config.policies_dir().join(format!("{policy}.toml"))
    }
}

/// Audit every `[[openclaw]]` mapping against its policy, with the levels of
/// `wpc.toml`. A policy that does not load contributes its findings instead.
/// Returns the findings and the number of configs audited.
pub fn audit_mappings(
    config: &Config,
    load: LoadOptions,
) -> Result<(Vec<Finding>, usize), MappingError> {
    let options = AuditOptions {
        load,
        levels: levels(config)?,
    };
    let tool_map = ToolMap::with_overrides(&config.settings.openclaw_audit.tool_map);
    let mut findings = Vec::new();
    let mappings = &config.settings.openclaw;
    for mapping in mappings {
        let path = config.root.join(&mapping.config);
        if !path.is_file() {
            return Err(MappingError::NoConfig(path));
        }
        let policy_path = policy_file(config, &mapping.policy);
        let policy = match Policy::load(&policy_path) {
            Ok(policy) => policy,
            Err(errors) => {
                findings.extend(errors);
                continue;
            }
        };
        let target =
            Target::new(policy, tool_map.clone(), mapping.agent.clone()).map_err(|error| {
                MappingError::Policy {
                    policy: policy_path,
                    error,
                }
            })?;
        findings.extend(audit(&path, Some(&target), &options));
    }
    Ok((findings, mappings.len()))
}
