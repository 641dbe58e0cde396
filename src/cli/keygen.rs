use std::path::{Path, PathBuf};

use super::output::{Outcome, print};
use crate::crypto::keys::SigningKey;

/// Where the key goes without `--out`: the current folder.
const DEFAULT_OUT: &str = "wpc-signing-key.pem";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the secret key (PKCS#8 PEM, mode 0600). Never
    /// overwrites. Default: `wpc-signing-key.pem` in the current folder,
    /// unless that is inside a Git work tree.
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let out = match args.out {
        Some(out) => out,
        None => {
            // The current folder is usually the policy repository, where a
            // key is one `git add .` away from being published.
            if let Some(tree) = crate::git::work_tree_containing(Path::new(".")) {
                anyhow::bail!(
                    "not writing a secret key into the Git work tree at {}, where it could be committed: pass --out FILE to say where it goes (outside the repository, or an ignored path)",
                    tree.display()
                );
            }
            PathBuf::from(DEFAULT_OUT)
        }
    };
    let key = SigningKey::generate()?;
    key.write_new(&out)?;
    print(&format!("{}\n", key.did()))?;
    Ok(Outcome::Clean)
}
