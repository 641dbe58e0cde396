use std::path::PathBuf;

use anyhow::Context as _;

use super::output::{Outcome, print, usable_config, warn_unchecked_gateways};
use crate::config::Config;
use crate::policy::Policy;
use crate::release::Freshness;
use crate::replay;
use crate::replay::render;
use crate::replay::versions::Working;
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
    let config = match &args.config {
        Some(file) => usable_config(Config::load(file))?,
        None => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            usable_config(Config::discover(&cwd))?
        }
    };
    let head = match &args.policy {
        Some(path) => Some(
            Policy::load(path)
                .map_err(|findings| {
                    let first = findings
                        .first()
                        .map(|f| format!("{}: {}", f.position(), f.message));
                    anyhow::anyhow!(
                        "{} is not a valid policy: {}",
                        path.display(),
                        first.unwrap_or_default()
                    )
                })?
                .wpc,
        ),
        None => None,
    };
    let versions = Working::new(&config, &Freshness::default(), head)?;
    let replayed = replay::replay_globs(&args.bundles, &config, args.examples, |hash| {
        versions.resolve(hash)
    })?;
    warn_unchecked_gateways(replayed.gateway_signers_checked);
    print(&render::render(
        &replayed.impact,
        replayed.counted,
        args.format,
    )?)?;
    Ok(if replayed.impact.changed() == 0 {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}
