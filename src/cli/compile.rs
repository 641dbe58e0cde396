use std::path::PathBuf;

use super::exit::Outcome;
use super::load::usable_config;
use super::output::emit;
use crate::claw::ClawVersion;
use crate::config::Config;
use crate::resolve::{self, CompileTarget};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file (TOML), or its signed envelope (JSON).
    file: PathBuf,
    /// What to produce.
    #[arg(long, value_enum, default_value_t = Target::Native)]
    target: Target,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Target {
    /// The canonical payload (RFC 8785 JSON): exactly the bytes that are hashed.
    #[value(alias = "json")]
    Native,
    /// The Claw protocol's WPC v1 payload (RFC 8785 JSON), see docs/claw.md.
    ClawV1,
    /// The Claw protocol's WPC v2 payload (RFC 8785 JSON), see docs/claw.md.
    ClawV2,
    /// The OpenClaw config fragment (JSON5) that realises the policy, using
    /// the tool map of the `wpc.toml` above the policy.
    Openclaw,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let target = match args.target {
        Target::Native => CompileTarget::Native,
        Target::ClawV1 => CompileTarget::Claw(ClawVersion::V1),
        Target::ClawV2 => CompileTarget::Claw(ClawVersion::V2),
        // The tool map of the `wpc.toml` above the policy.
        Target::Openclaw => {
            CompileTarget::Openclaw(Box::new(usable_config(Config::discover(&args.file))?))
        }
    };
    emit(resolve::compile(&args.file, &target)?)
}
