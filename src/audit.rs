//! `wpc audit openclaw`: which OpenClaw configs to audit, each with the WPC
//! it must conform to (`--policy`, or the `[[openclaw]]` mappings of
//! `wpc.toml`), audited or explained (`--explain-tools`) and rendered.

use std::path::{Path, PathBuf};

use crate::config::{Config, OpenclawMapping};
use crate::crypto::did::{DidError, DidKey};
use crate::crypto::verify::Trust;
use crate::decide::CompileError;
use crate::error::error_enum;
use crate::fsio::ReadError;
use crate::openclaw::{self, AuditOptions, Env, LoadOptions, Target, ToolMap, mappings};
use crate::policy::Policy;
use crate::report::{FailOn, Finding, Format, Output, Report, Unsupported};
use crate::resolve;

/// What the command line asked of `wpc audit openclaw`.
#[derive(Debug)]
pub struct Plan {
    /// Config files; empty: every `[[openclaw]]` mapping.
    pub configs: Vec<PathBuf>,
    /// Conform to this policy file or envelope instead of the mappings.
    pub policy: Option<PathBuf>,
    /// Only this agent (explanations, and conformance with `policy`).
    pub agent: Option<String>,
    pub explain_tools: bool,
    /// Substitute `${VAR}` from the process environment.
    pub env: bool,
    pub format: Format,
    pub fail_on: FailOn,
    pub color: bool,
}

error_enum! {
    pub enum AuditError {
        Mapping(mappings::MappingError),
        Read(ReadError),
        Signer(DidError),
        Compile(CompileError),
        Format(Unsupported),
        #[error("--policy needs at least one CONFIG")]
        PolicyWithoutConfig,
        #[error("no CONFIG given and no [[openclaw]] mapping in wpc.toml")]
        NothingToAudit,
        #[error("no agent `{0}` in the config")]
        NoSuchAgent(String),
    }
}

/// A config to audit, with the WPC it must conform to.
type Job = (PathBuf, Option<Target>);

/// Audit (or explain) what `plan` names under `config`.
pub fn run(config: &Config, plan: &Plan) -> Result<Output, AuditError> {
    let options = AuditOptions {
        load: load_options(plan.env),
        levels: mappings::levels(config)?,
    };
    let tool_map = ToolMap::with_overrides(&config.settings.openclaw_audit.tool_map);
    let mut out = Output::default();
    let jobs = match jobs(plan, config, &tool_map, &mut out)? {
        Ok(jobs) => jobs,
        Err(invalid) => return Ok(invalid),
    };
    for (path, _) in &jobs {
        // Missing, a FIFO, a device: refused before anything is audited.
        crate::fsio::open_regular(path)?;
    }
    if plan.explain_tools {
        return explain(&jobs, plan, &options, out);
    }
    let mut findings = Vec::new();
    for (path, target) in &jobs {
        findings.extend(openclaw::audit(path, target.as_ref(), &options));
    }
    let report = Report::new(findings, jobs.len()).found_by("audit-openclaw");
    out.stdout = report.render(plan.format, &openclaw::REGISTRY.infos(), plan.color)?;
    Ok(out.failing_if(report.fails_at(plan.fail_on.threshold())))
}

fn load_options(env: bool) -> LoadOptions {
    if !env {
        return LoadOptions::default();
    }
    let include_roots = std::env::var_os("OPENCLAW_INCLUDE_ROOTS")
        .map(|roots| std::env::split_paths(&roots).collect())
        .unwrap_or_default();
    LoadOptions {
        env: Env::Vars(std::env::vars().collect()),
        include_roots,
    }
}

/// What to audit, each config with the WPC it must conform to; the failing
/// output when a policy is invalid. Notes go to `out`.
fn jobs(
    plan: &Plan,
    config: &Config,
    tool_map: &ToolMap,
    out: &mut Output,
) -> Result<Result<Vec<Job>, Output>, AuditError> {
    if let Some(file) = &plan.policy {
        if plan.configs.is_empty() {
            return Err(AuditError::PolicyWithoutConfig);
        }
        let policy = match load_policy(file, config, out)? {
            Ok(policy) => policy,
            Err(invalid) => return Ok(Err(invalid)),
        };
        let mut jobs = Vec::new();
        for path in &plan.configs {
            let target = Target::new(policy.clone(), tool_map.clone(), plan.agent.clone())?;
            jobs.push((path.clone(), Some(target)));
        }
        return Ok(Ok(jobs));
    }
    let mappings = &config.settings.openclaw;
    let mapped = |m: &OpenclawMapping| config.root.join(&m.config);
    let selected: Vec<(PathBuf, Option<&OpenclawMapping>)> = if plan.configs.is_empty() {
        if mappings.is_empty() {
            return Err(AuditError::NothingToAudit);
        }
        mappings.iter().map(|m| (mapped(m), Some(m))).collect()
    } else {
        plan.configs
            .iter()
            .map(|path| {
                let mapping = mappings.iter().find(|m| same_file(&mapped(m), path));
                (path.clone(), mapping)
            })
            .collect()
    };
    let mut jobs = Vec::new();
    for (path, mapping) in selected {
        let target = match mapping {
            None => None,
            Some(m) => {
                let file = mappings::policy_file(config, &m.policy);
                let policy = match resolve::valid_policy(&file)? {
                    Ok(policy) => policy,
                    Err(invalid) => return Ok(Err(invalid)),
                };
                Some(Target::new(policy, tool_map.clone(), m.agent.clone())?)
            }
        };
        jobs.push((path, target));
    }
    Ok(Ok(jobs))
}

/// A policy file, or a signed WPC envelope whose signature must verify, by
/// the `[release] signer` of `wpc.toml` when one is configured.
fn load_policy(
    file: &Path,
    config: &Config,
    out: &mut Output,
) -> Result<Result<Policy, Output>, AuditError> {
    let trust = match &config.settings.release.signer {
        Some(did) => Trust::only([&DidKey::parse(did)?]),
        None => Trust::any_signer_unchecked(),
    };
    let loaded = resolve::policy_file(file, &trust)?;
    let envelope = file.extension().is_some_and(|ext| ext == "json");
    if loaded.is_ok() && envelope && config.settings.release.signer.is_none() {
        out.note(&format!(
            "note: {}: signature verified, but no [release] signer in wpc.toml says whose it must be\n",
            file.display()
        ));
    }
    Ok(loaded.map_err(|err| Output::failure(err.brief(file))))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `--explain-tools`: each agent's effective tools, or the findings of the
/// configs that do not load.
fn explain(
    jobs: &[Job],
    plan: &Plan,
    options: &AuditOptions,
    mut out: Output,
) -> Result<Output, AuditError> {
    let mut explanations = Vec::new();
    let mut failures: Vec<Finding> = Vec::new();
    for (path, _) in jobs {
        match openclaw::explain(path, plan.agent.as_deref(), options) {
            Ok(found) => explanations.extend(found),
            Err(findings) => failures.extend(findings),
        }
    }
    if !failures.is_empty() {
        out.stdout = Report::new(failures, jobs.len()).render(
            plan.format,
            &openclaw::REGISTRY.infos(),
            plan.color,
        )?;
        return Ok(out.failing_if(true));
    }
    if let Some(id) = &plan.agent
        && explanations.is_empty()
    {
        return Err(AuditError::NoSuchAgent(id.clone()));
    }
    out.stdout = if matches!(plan.format, Format::Json) {
        // Plain data: pretty-printing a JSON value cannot fail.
        let json = openclaw::explanations_json(&explanations);
        format!(
            "{}\n",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        )
    } else {
        explanations
            .iter()
            .map(openclaw::Explanation::text)
            .collect()
    };
    Ok(out)
}
