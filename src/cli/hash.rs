use std::path::PathBuf;

use super::exit::Outcome;
use super::output::emit;
use crate::claw::ClawVersion;
use crate::resolve;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file (TOML), or its signed envelope (JSON).
    file: PathBuf,
    /// Print only the 12-character display form.
    #[arg(long)]
    short: bool,
    /// Which payload's hash: the native WPC's, or that of its Claw protocol
    /// WPC v1 or v2 export (docs/claw.md).
    #[arg(long, value_enum, default_value_t = Target::Native)]
    target: Target,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Target {
    /// The policy's own hash.
    Native,
    /// The hash of its Claw protocol WPC v1 payload.
    ClawV1,
    /// The hash of its Claw protocol WPC v2 payload.
    ClawV2,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let version = match args.target {
        Target::Native => None,
        Target::ClawV1 => Some(ClawVersion::V1),
        Target::ClawV2 => Some(ClawVersion::V2),
    };
    emit(resolve::hash(&args.file, version, args.short)?)
}
