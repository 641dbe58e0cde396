use std::path::PathBuf;

use super::output::{Outcome, color_stdout, emit, usable_selection};
use crate::audit::{self, Plan};
use crate::config::Config;
use crate::report::{self, FailOn, Format};

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
    let AuditTarget::Openclaw(args) = args.target;
    let (config, _) = usable_selection(Config::select(args.config.as_deref(), &[]))?;
    let plan = Plan {
        configs: args.configs,
        policy: args.policy,
        agent: args.agent,
        explain_tools: args.explain_tools,
        env: args.env && !args.no_env,
        format: args.format,
        fail_on: args.fail_on,
        color: color_stdout(),
    };
    emit(audit::run(&config, &plan)?)
}
