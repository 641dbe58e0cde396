//! `wpc check`: config, then every policy (parse, schema, rules), then the
//! cross-policy rules, with configured levels applied at the end.

use std::path::PathBuf;

use rayon::prelude::*;

use super::{Context, REGISTRY, find_rule};
use crate::config::{Config, Level};
use crate::policy::Policy;
use crate::policy::document::{SCHEMA, pointer_segment};
use crate::policy::files::{self, CollectError};
use crate::report::{Finding, Report, Severity};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Inputs(#[from] CollectError),
}

/// Check the policies under `inputs` (the repository's policies folder when
/// empty), with `config` and the findings loading it produced.
pub fn check(
    config: &Config,
    config_findings: Vec<Finding>,
    inputs: &[PathBuf],
) -> Result<Report, CheckError> {
    let (paths, mut findings) = if inputs.is_empty() {
        files::collect_dir(&config.policies_dir(), &config.root)?
    } else {
        files::collect(inputs, &config.root)?
    };
    findings.extend(config_findings);

    let loaded: Vec<Result<Policy, Vec<Finding>>> =
        paths.par_iter().map(|path| Policy::load(path)).collect();
    let mut policies = Vec::with_capacity(loaded.len());
    for result in loaded {
        match result {
            Ok(policy) => policies.push(policy),
            Err(errors) => findings.extend(errors),
        }
    }
    let files_checked = paths.len() + usize::from(config.file.is_some());
    Ok(check_policies(config, findings, &policies, files_checked))
}

/// Lint policies that were loaded elsewhere (from a Git revision, say),
/// beside the `findings` loading them and the config produced.
pub fn check_policies(
    config: &Config,
    mut findings: Vec<Finding>,
    policies: &[Policy],
    files_checked: usize,
) -> Report {
    findings.extend(level_findings(config));
    let settings = &config.settings.lint;
    let lint_findings: Vec<Finding> = REGISTRY
        .par_iter()
        .flat_map_iter(|rule| {
            let mut cx = Context::new(settings, rule.meta());
            for policy in policies {
                rule.check_policy(policy, &mut cx);
            }
            rule.check_repo(policies, &mut cx);
            cx.findings
        })
        .collect();
    findings.extend(lint_findings);

    let findings = findings
        .into_iter()
        .filter_map(|f| apply_level(config, f))
        .collect();
    Report::new(findings, files_checked)
}

fn apply_level(config: &Config, finding: Finding) -> Option<Finding> {
    if super::BUILTIN.iter().any(|b| b.code == finding.code) {
        return Some(finding);
    }
    match config.settings.lint.rules.get(finding.code) {
        Some(Level::Off) => None,
        Some(Level::Error) => Some(Finding {
            severity: Severity::Error,
            ..finding
        }),
        Some(Level::Warning) => Some(Finding {
            severity: Severity::Warning,
            ..finding
        }),
        Some(Level::Info) => Some(Finding {
            severity: Severity::Info,
            ..finding
        }),
        None => Some(finding),
    }
}

/// `[lint.rules]` entries that name no rule, or a built-in check (which
/// cannot be relaxed: a document that fails it was not checked further).
fn level_findings(config: &Config) -> Vec<Finding> {
    config
        .settings
        .lint
        .rules
        .keys()
        .filter_map(|code| {
            let pointer = format!("/lint/rules/{}", pointer_segment(code));
            let problem = match find_rule(code) {
                None => format!("unknown rule `{code}`"),
                Some(meta) if super::BUILTIN.iter().any(|b| b.code == meta.code) => {
                    format!("`{code}` is a built-in check; its level cannot be changed")
                }
                Some(_) => return None,
            };
            Some(
                config
                    .finding_at(&pointer, SCHEMA, Severity::Error, problem)
                    .help("`wpc rule --list` lists the rules"),
            )
        })
        .collect()
}
