use clap::CommandFactory as _;

use super::Cli;
use super::exit::Outcome;
use super::output::print;

#[derive(Debug, clap::Args)]
pub struct Args {}

/// `wpc man`: the roff man page, generated from the same definitions as
/// `--help` so the two never disagree. `wpc man | man -l -` shows it.
pub fn run(_args: Args) -> anyhow::Result<Outcome> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    print(&String::from_utf8_lossy(&out))?;
    Ok(Outcome::Clean)
}
