use std::path::PathBuf;

use super::{Outcome, print};
use crate::crypto::keys::SigningKey;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the secret key (PKCS#8 PEM, mode 0600). Never overwrites.
    #[arg(
        long,
        short,
        value_name = "FILE",
        default_value = "wpc-signing-key.pem"
    )]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let key = SigningKey::generate()?;
    key.write_new(&args.out)?;
    print(&format!("{}\n", key.did()))?;
    Ok(Outcome::Clean)
}
