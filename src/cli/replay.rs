use std::path::PathBuf;

use super::exit::Outcome;
use super::load::current_config;
use super::output::emit;
use crate::replay::command::{self, Plan};
use crate::replay::{self, render};
use crate::report::Format;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Only bundles that pass the protocol checks count; the others are listed \
    and none of their calls counted.\n\
    Exit status: 0 no recorded call changes decision; 1 some call does; 2 usage or I/O error, or \
    a bundle glob that matches nothing."
)]
pub struct Args {
    /// Proof bundles: files, folders or globs (e.g. `proofs/**/*.json`).
    #[arg(long, value_name = "GLOB", required = true, num_args = 1..)]
    bundles: Vec<String>,
    /// Decide under this policy file (TOML) instead of the working policy
    /// named like the one each bundle claims.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    #[arg(long, default_value_t = Format::Text, value_parser = render::FORMATS)]
    format: Format,
    /// Changed calls shown per policy.
    #[arg(long, value_name = "N", default_value_t = replay::DEFAULT_EXAMPLES)]
    examples: usize,
    /// Use this `wpc.toml` instead of discovering one from the current folder.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let plan = Plan {
        bundles: args.bundles,
        policy: args.policy,
        format: args.format,
        examples: args.examples,
    };
    emit(command::run(
        &current_config(args.config.as_deref())?,
        &plan,
    )?)
}
