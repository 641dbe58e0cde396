use clap::CommandFactory as _;

use super::Cli;
use super::exit::Outcome;
use super::output::print;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to write completions for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "wpc", &mut out);
    print(&String::from_utf8_lossy(&out))?;
    Ok(Outcome::Clean)
}
