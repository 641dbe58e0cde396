//! The command line: clap definitions and one small module per subcommand.
//! Each parses its arguments into what one library function takes, calls it
//! and writes what it returns ([`output`]); this is the only layer that
//! prints. [`command`] lists the commands and runs the one given; [`args`]
//! and [`load`] are the argument groups and loaders several commands share,
//! [`call`] is `decide`'s argument groups, [`output`] writes a result and
//! [`exit`] maps it to the exit code.

mod args;
mod call;
mod command;
mod exit;
mod load;
mod output;

mod audit;
mod bundle;
mod check;
mod ci;
mod compile;
mod completions;
mod cst;
mod decide;
mod diff;
mod fetch;
mod fmt;
mod hash;
mod init;
mod keygen;
mod log;
mod man;
mod mcp;
mod new;
mod pr;
mod release;
mod replay;
mod revoke;
mod rule;
mod serve;
mod sign;
mod test;
mod verify;

use std::process::ExitCode;

use clap::Parser;

pub use exit::{EXIT_ERROR, Outcome};

/// Git-native policy-as-code for the Work Policy Contracts that govern AI agents.
#[derive(Debug, Parser)]
#[command(
    name = "wpc",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    command: command::Command,
}

/// Run the CLI on the process's arguments.
pub fn main() -> ExitCode {
    // clap prints usage errors itself and exits 2, as documented.
    exit::exit_code(Cli::parse().command.run())
}
