use std::path::PathBuf;

use super::exit::Outcome;
use super::output::emit;
use crate::scaffold;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the secret key (PKCS#8 PEM, mode 0600). Never
    /// overwrites. Default: `wpc-signing-key.pem` in the current folder,
    /// unless that is inside a Git work tree.
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    emit(scaffold::keygen(args.out.as_deref())?)
}
