use std::path::{Path, PathBuf};

use super::exit::Outcome;
use super::load::usable_config;
use super::output::emit;
use crate::config::Config;
use crate::policy::fmt::{self, Plan};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders. Default: the repository's policies.
    paths: Vec<PathBuf>,
    /// Change nothing; print a diff and exit 1 if any file is not formatted.
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let config = usable_config(Config::discover(
        args.paths.first().map_or(Path::new("."), PathBuf::as_path),
    ))?;
    let plan = Plan {
        paths: args.paths,
        policies_dir: config.policies_dir(),
        root: config.root,
        check: args.check,
    };
    emit(fmt::run(&plan)?)
}
