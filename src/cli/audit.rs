use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::hash::{load_or_report, report_invalid};
use super::{Outcome, color_stdout, eprint, print, usable_config};
use crate::config::Config;
use crate::crypto::did::DidKey;
use crate::crypto::verify::Trust;
use crate::openclaw::{self, AuditOptions, Env, LoadOptions, Target, ToolMap, mappings};
use crate::policy::Policy;
use crate::report::{self, FailOn, Finding, Format, Report};
use crate::resolve;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    target: AuditTarget,
}

#[derive(Debug, clap::Subcommand)]
enum AuditTarget {
    /// Audit OpenClaw configs: runtime footguns (OC0xx) and, against a WPC,
    /// conformance of each agent's effective tools and sandbox (OCW0xx).
    Openclaw(OpenclawArgs),
}

#[derive(Debug, clap::Args)]
struct OpenclawArgs {
    /// OpenClaw config files (JSON5). Default: every `[[openclaw]]` mapping
    /// of `wpc.toml`.
    configs: Vec<PathBuf>,
    /// Check conformance to this WPC, a policy file or a signed envelope
    /// (`.json`), instead of the `[[openclaw]]` mapping.
    #[arg(long, value_name = "FILE|ENVELOPE")]
    policy: Option<PathBuf>,
    /// Only this agent: for `--explain-tools`, and for conformance with `--policy`.
    #[arg(long, value_name = "ID")]
    agent: Option<String>,
    /// Print each agent's effective tools and which policy removed the others.
    #[arg(long)]
    explain_tools: bool,
    /// Substitute `${VAR}` from the process environment (and read
    /// `OPENCLAW_INCLUDE_ROOTS`).
    #[arg(long, overrides_with = "no_env")]
    env: bool,
    /// Leave `${VAR}` unresolved (the default).
    #[arg(long, overrides_with = "env")]
    no_env: bool,
    /// Use this `wpc.toml` instead of discovering one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[arg(long, default_value_t = Format::Text, value_parser = report::FORMATS)]
    format: Format,
    /// The lowest severity that fails the audit.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.target {
        AuditTarget::Openclaw(args) => run_openclaw(args),
    }
}

fn run_openclaw(args: OpenclawArgs) -> anyhow::Result<Outcome> {
    let config = load_config(args.config.as_deref())?;
    let options = AuditOptions {
        load: load_options(args.env && !args.no_env),
        levels: mappings::levels(&config)?,
    };
    let tool_map = ToolMap::with_overrides(&config.settings.openclaw_audit.tool_map);
    let Some(jobs) = jobs(&args, &config, &tool_map)? else {
        return Ok(Outcome::Failed);
    };
    for (path, _) in &jobs {
        // Missing, a FIFO, a device: refused before anything is audited.
        crate::fsio::open_regular(path)?;
    }
    if args.explain_tools {
        return explain(&jobs, args.agent.as_deref(), &options, args.format);
    }
    let mut findings = Vec::new();
    for (path, target) in &jobs {
        findings.extend(openclaw::audit(path, target.as_ref(), &options));
    }
    let report = Report::new(findings, jobs.len()).found_by("audit-openclaw");
    print(&report.render(args.format, &openclaw::REGISTRY.infos(), color_stdout())?)?;
    Ok(if report.fails_at(args.fail_on.threshold()) {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}

fn load_config(file: Option<&Path>) -> anyhow::Result<Config> {
    usable_config(match file {
        Some(file) => Config::load(file),
        None => {
            Config::discover(&std::env::current_dir().context("cannot read the current folder")?)
        }
    })
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

/// A config to audit, with the WPC it must conform to.
type Job = (PathBuf, Option<Target>);

/// What to audit, each config with the WPC it must conform to. `None` when a
/// policy is invalid (its findings are printed).
fn jobs(
    args: &OpenclawArgs,
    config: &Config,
    tool_map: &ToolMap,
) -> anyhow::Result<Option<Vec<Job>>> {
    if let Some(file) = &args.policy {
        if args.configs.is_empty() {
            anyhow::bail!("--policy needs at least one CONFIG");
        }
        let Some(policy) = load_policy(file, config)? else {
            return Ok(None);
        };
        let mut jobs = Vec::new();
        for path in &args.configs {
            jobs.push((
                path.clone(),
                Some(target(policy.clone(), tool_map, args.agent.clone())?),
            ));
        }
        return Ok(Some(jobs));
    }
    let mappings = &config.settings.openclaw;
    let mapped = |m: &crate::config::OpenclawMapping| config.root.join(&m.config);
    let selected: Vec<(PathBuf, Option<&crate::config::OpenclawMapping>)> =
        if args.configs.is_empty() {
            if mappings.is_empty() {
                anyhow::bail!("no CONFIG given and no [[openclaw]] mapping in wpc.toml");
            }
            mappings.iter().map(|m| (mapped(m), Some(m))).collect()
        } else {
            args.configs
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
                let Some(policy) = load_or_report(&file)? else {
                    return Ok(None);
                };
                Some(target(policy, tool_map, m.agent.clone())?)
            }
        };
        jobs.push((path, target));
    }
    Ok(Some(jobs))
}

/// A policy file, or a signed WPC envelope whose signature must verify, by
/// the `[release] signer` of `wpc.toml` when one is configured.
fn load_policy(file: &Path, config: &Config) -> anyhow::Result<Option<Policy>> {
    let trust = match &config.settings.release.signer {
        Some(did) => Trust::only([&DidKey::parse(did)?]),
        None => Trust::any_signer_unchecked(),
    };
    let loaded = resolve::policy_file(file, &trust)?;
    let envelope = file.extension().is_some_and(|ext| ext == "json");
    if loaded.is_ok() && envelope && config.settings.release.signer.is_none() {
        eprint(&format!(
            "note: {}: signature verified, but no [release] signer in wpc.toml says whose it must be\n",
            file.display()
        ));
    }
    report_invalid(file, loaded)
}

fn target(policy: Policy, tool_map: &ToolMap, agent: Option<String>) -> anyhow::Result<Target> {
    Ok(Target::new(policy, tool_map.clone(), agent)?)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn explain(
    jobs: &[Job],
    agent: Option<&str>,
    options: &AuditOptions,
    format: Format,
) -> anyhow::Result<Outcome> {
    let mut explanations = Vec::new();
    let mut failures: Vec<Finding> = Vec::new();
    for (path, _) in jobs {
        match openclaw::explain(path, agent, options) {
            Ok(found) => explanations.extend(found),
            Err(findings) => failures.extend(findings),
        }
    }
    if !failures.is_empty() {
        print(&Report::new(failures, jobs.len()).render(
            format,
            &openclaw::REGISTRY.infos(),
            color_stdout(),
        )?)?;
        return Ok(Outcome::Failed);
    }
    if let Some(id) = agent {
        if explanations.is_empty() {
            anyhow::bail!("no agent `{id}` in the config");
        }
    }
    if matches!(format, Format::Json) {
        print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&openclaw::explanations_json(&explanations))?
        ))?;
        return Ok(Outcome::Clean);
    }
    let text: String = explanations
        .iter()
        .map(openclaw::Explanation::text)
        .collect();
    print(&text)?;
    Ok(Outcome::Clean)
}
