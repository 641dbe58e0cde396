//! `wpc check`: config, then every policy (parse, schema, rules), then the
//! cross-policy rules, with configured levels applied at the end.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::rules::{SuppressionUnused, SuppressionWithoutReason};
use super::suppress::{self, Target};
use super::{Context, REGISTRY, Repository};
use crate::config::{Config, Level};
use crate::decide::Engine;
use crate::policy::Policy;
use crate::policy::document::{SCHEMA, pointer_segment};
use crate::policy::files::{self, CollectError};
use crate::report::{Described, Finding, Report, Severity, SourceFile};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Inputs(#[from] CollectError),
}

/// What the repository's release branch revokes, as read by the caller
/// (the release module reads and verifies the branch; the linter reads no
/// branch itself).
#[derive(Debug, Default)]
pub enum Revocations {
    /// No release branch, or none asked for (files named on the command
    /// line, the revoked-hash rule turned off).
    #[default]
    NotRead,
    /// The revoked hashes of a branch that verified.
    Verified(HashSet<String>),
    /// The branch does not verify or cannot be read: its revocations are
    /// unknown, so the check fails closed with this message.
    Untrusted { branch: String, error: String },
}

/// Check the policies under `inputs` (the repository's policies folder when
/// empty), with `config` and the findings loading it produced, and the
/// release branch's `revocations` (read only for a whole repository).
pub fn check(
    config: &Config,
    config_findings: Vec<Finding>,
    inputs: &[PathBuf],
    revocations: Revocations,
) -> Result<Report, CheckError> {
    let whole_repository = inputs.is_empty();
    let (paths, mut findings) = if whole_repository {
        files::collect_dir(&config.policies_dir(), &config.root)?
    } else {
        files::collect(inputs, &config.root)?
    };
    findings.extend(config_findings);
    let (policies, load_findings) = Policy::load_all(&paths);
    findings.extend(load_findings);
    let report = if whole_repository {
        check_repository(config, findings, &paths, &policies, revocations)
    } else {
        let files_checked = files_checked(config, &paths);
        lint(
            config,
            findings,
            &policies,
            None,
            &HashSet::new(),
            files_checked,
        )
    };
    // Freeing ten thousand documents takes long enough to show on one thread.
    policies.into_par_iter().for_each(drop);
    Ok(report)
}

/// Check a whole repository whose policies folder the caller collected
/// (`paths`) and loaded (`policies`, with `findings` of collecting and
/// loading them and of `config`): the per-policy rules, the cross-policy
/// rules, the repository-wide rules (secrets, trusted signers) and the
/// release branch's `revocations`.
pub fn check_repository(
    config: &Config,
    mut findings: Vec<Finding>,
    paths: &[PathBuf],
    policies: &[Policy],
    revocations: Revocations,
) -> Report {
    let repository = repository(&config.root, paths);
    let revoked = match revocations {
        Revocations::Verified(hashes) => hashes,
        Revocations::Untrusted { branch, error } => {
            findings.push(
                Finding::new(
                    super::rules::revoked_hash::CODE,
                    Severity::Error,
                    format!("cannot trust the revocations on `{branch}`: {error}"),
                )
                .help(
                    "`wpc release verify` names every violation; see the reason codes in docs/release.md",
                ),
            );
            HashSet::new()
        }
        Revocations::NotRead => HashSet::new(),
    };
    lint(
        config,
        findings,
        policies,
        Some(&repository),
        &revoked,
        files_checked(config, paths),
    )
}

/// The policy files and the config, if there is one.
fn files_checked(config: &Config, paths: &[PathBuf]) -> usize {
    paths.len() + usize::from(config.file.is_some())
}

/// Lint policies that were loaded elsewhere (from a Git revision, say),
/// beside the `findings` loading them and the config produced.
pub fn check_policies(
    config: &Config,
    findings: Vec<Finding>,
    policies: &[Policy],
    files_checked: usize,
) -> Report {
    lint(
        config,
        findings,
        policies,
        None,
        &HashSet::new(),
        files_checked,
    )
}

fn lint(
    config: &Config,
    mut findings: Vec<Finding>,
    policies: &[Policy],
    repository: Option<&Repository>,
    revoked: &HashSet<String>,
    files_checked: usize,
) -> Report {
    findings.extend(level_findings(config));
    let settings = &config.settings.lint;
    let claw = &config.claw_export();
    // Per-policy rules run in parallel over policies, each policy compiled
    // for deciding once and shared by every rule.
    let per_policy: Vec<Finding> = policies
        .par_iter()
        .flat_map_iter(|policy| match Engine::new(&policy.wpc) {
            Ok(engine) => REGISTRY
                .rules
                .iter()
                .flat_map(|rule| {
                    let mut cx = Context::new(settings, rule.meta()).with_claw(claw);
                    rule.check_policy(policy, &engine, &mut cx);
                    cx.findings
                })
                .collect(),
            Err(err) => vec![policy.doc.finding_at(
                "/constraints/tool_policy",
                SCHEMA,
                Severity::Error,
                err.to_string(),
            )],
        })
        .collect();
    findings.extend(per_policy);
    let cross_policy: Vec<Finding> = REGISTRY
        .rules
        .par_iter()
        .flat_map_iter(|rule| {
            let mut cx = Context::new(settings, rule.meta()).with_claw(claw);
            rule.check_repo(policies, &mut cx);
            if let Some(repo) = repository {
                rule.check_repository(repo, &mut cx);
            }
            if !revoked.is_empty() {
                rule.check_released(policies, revoked, &mut cx);
            }
            cx.findings
        })
        .collect();
    findings.extend(cross_policy);
    let findings: Vec<Finding> = findings
        .into_iter()
        .filter_map(|f| apply_level(config, f))
        .collect();
    let sources = suppression_sources(config, policies, &findings);
    let (open, suppressed) = suppress::apply(findings, &sources, suppress_target);
    // Again, for the findings about suppressions.
    let open = open
        .into_iter()
        .filter_map(|f| apply_level(config, f))
        .collect();
    Report::new(open, files_checked).with_suppressed(suppressed)
}

/// The files whose `# wpc:ignore` comments count: every linted policy, the
/// config, and any other file a finding is located in; not a file that
/// failed its syntax or schema check, whose rules did not run (its
/// suppressions would all look stale).
fn suppression_sources(
    config: &Config,
    policies: &[Policy],
    findings: &[Finding],
) -> Vec<SourceFile> {
    let unchecked: HashSet<&Path> = findings
        .iter()
        .filter(|f| super::BUILTIN.iter().any(|b| b.code == f.code))
        .filter_map(Finding::file)
        .collect();
    let mut seen = HashSet::new();
    policies
        .iter()
        .map(|p| &p.doc.source)
        .chain(config.doc.as_ref().map(|d| &d.source))
        .chain(
            findings
                .iter()
                .filter_map(|f| f.location.as_ref().map(|l| &l.source)),
        )
        .filter(|s| !unchecked.contains(s.path()) && seen.insert(s.path().to_path_buf()))
        .cloned()
        .collect()
}

/// What a code in a suppression stands for: built-in checks cannot be
/// suppressed (as they cannot be turned off), nor can the findings about
/// suppressions.
fn suppress_target(code: &str) -> Target {
    match REGISTRY.find(code) {
        None => Target::Unknown,
        Some(meta) if super::BUILTIN.iter().any(|b| b.code == meta.code) => {
            Target::Unsuppressible("a document failing this check is not checked further")
        }
        Some(meta)
            if meta.code == SuppressionUnused.meta().code
                || meta.code == SuppressionWithoutReason.meta().code =>
        {
            Target::Unsuppressible("it reports on suppressions themselves")
        }
        Some(meta) => Target::Rule(meta.code),
    }
}

/// Every file under `root`, skipping Git's own folder, build output and
/// dependencies. Other hidden folders (`.github`, `.config`) and files
/// (`.env`) are where secrets end up, so they are walked. Links are not
/// followed.
fn repository(root: &Path, policies: &[PathBuf]) -> Repository {
    let policies: HashSet<&Path> = policies.iter().map(PathBuf::as_path).collect();
    let skip = |entry: &walkdir::DirEntry| {
        let name = entry.file_name().to_string_lossy();
        entry.depth() > 0
            && entry.file_type().is_dir()
            && (name == ".git" || name == "target" || name == "node_modules")
    };
    // An empty root is the current folder; paths stay relative to it.
    let walk_root = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    let files = walkdir::WalkDir::new(walk_root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| !skip(e))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| match e.path().strip_prefix("./") {
            Ok(relative) if walk_root == Path::new(".") => relative.to_path_buf(),
            _ => e.into_path(),
        })
        .filter(|path| !policies.contains(path.as_path()))
        .collect();
    Repository {
        root: root.to_path_buf(),
        files,
    }
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
            let problem = match REGISTRY.find(code) {
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
