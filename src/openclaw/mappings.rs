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
    #[error("[openclaw_audit.rules]: rule `{code}` was retired: {replaced_by}")]
    Retired {
        code: String,
        replaced_by: &'static str,
    },
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

/// Codes of rules that no longer exist, and what checks their ground now: a
/// level set for one is refused with that, not as a typo.
const RETIRED: &[(&str, &str)] = &[(
    "OCW007",
    "its one check of MCP tools as `bundle-mcp` is now OCW008-OCW011, per server and tool \
     against [constraints.mcp]; set their levels instead",
)];

/// `[openclaw_audit.rules]`, refusing codes that name no rule (a typo would
/// silently keep a rule at its default level) and loading checks.
pub fn levels(config: &Config) -> Result<Levels, MappingError> {
    let mut levels = Levels::new();
    for (code, level) in &config.settings.openclaw_audit.rules {
        let Some(meta) = super::REGISTRY.find(code) else {
            if let Some((_, replaced_by)) = RETIRED.iter().find(|(retired, _)| retired == code) {
                return Err(MappingError::Retired {
                    code: code.clone(),
                    replaced_by,
                });
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn levels_of(rules: &str) -> Result<Levels, MappingError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("wpc.toml"),
            format!("[openclaw_audit.rules]\n{rules}\n"),
        )
        .unwrap();
        let (config, _) = Config::load(&dir.path().join("wpc.toml")).unwrap();
        levels(&config)
    }

    #[test]
    fn a_retired_code_says_what_replaced_it_and_a_typo_is_unknown() {
        let retired = levels_of("OCW007 = \"off\"").unwrap_err().to_string();
        assert!(retired.contains("rule `OCW007` was retired"), "{retired}");
        assert!(retired.contains("OCW008-OCW011"), "{retired}");
        let typo = levels_of("OCW077 = \"off\"").unwrap_err().to_string();
        assert!(typo.contains("unknown rule `OCW077`"), "{typo}");
        assert!(levels_of("OCW008 = \"warning\"").is_ok());
    }
}
