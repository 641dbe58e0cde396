use std::path::PathBuf;

use super::args::FindingsArgs;
use super::exit::Outcome;
use super::load::current_config;
use super::output::{color_stdout, emit};
use crate::audit::{self, Plan};

#[derive(Debug, clap::Subcommand)]
pub enum Target {
    /// Audit OpenClaw configs: runtime footguns (OC0xx) and, against a WPC,
    /// conformance of each agent's effective tools and sandbox (OCW0xx).
    Openclaw(OpenclawArgs),
}

#[derive(Debug, clap::Args)]
pub struct OpenclawArgs {
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
    #[command(flatten)]
    findings: FindingsArgs,
}

pub fn run(Target::Openclaw(args): Target) -> anyhow::Result<Outcome> {
    let config = current_config(args.config.as_deref())?;
    let plan = Plan {
        configs: args.configs,
        policy: args.policy,
        agent: args.agent,
        explain_tools: args.explain_tools,
        env: args.env && !args.no_env,
        format: args.findings.format,
        fail_on: args.findings.fail_on,
        color: color_stdout(),
    };
    emit(audit::run(&config, &plan)?)
}
