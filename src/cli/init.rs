use std::path::PathBuf;

use super::exit::Outcome;
use super::output::emit;
use crate::scaffold;

/// Creates wpc.toml, policies/ with one policy and its tests,
/// keys/trusted-signers.toml, a GitHub workflow, a pre-commit config and a
/// README. Writes nothing if any of these exists, unless --force.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository folder (created if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Overwrite files that exist.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    emit(scaffold::init(&args.dir, args.force)?)
}
