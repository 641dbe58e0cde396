use std::path::PathBuf;

use anyhow::Context as _;

use super::{Outcome, eprint, print, usable_config};
use crate::bundle::Options;
use crate::bundle::batch;
use crate::config::Config;
use crate::crypto::did::DidKey;
use crate::policy::Policy;
use crate::release::Freshness;
use crate::replay::render::{self, ReplayFormat};
use crate::replay::versions::Working;
use crate::replay::{self, Impact};

/// Changed calls shown per policy unless --examples says otherwise.
pub const DEFAULT_EXAMPLES: usize = 5;

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
    #[arg(long, value_enum, default_value_t = ReplayFormat::Text)]
    format: ReplayFormat,
    /// Changed calls shown per policy.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_EXAMPLES)]
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
    let (impact, counted) = replay_bundles(&args.bundles, &config, args.examples, |hash| {
        versions.resolve(hash)
    })?;
    print(&render::render(&impact, counted, args.format))?;
    Ok(if impact.changed() == 0 {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

/// Verify the bundles `globs` names against the gateway signers of
/// `config` and replay the counted ones; also the number counted.
pub(super) fn replay_bundles(
    globs: &[String],
    config: &Config,
    examples: usize,
    resolve: impl FnMut(&str) -> Result<replay::Pair, replay::Unresolved>,
) -> anyhow::Result<(Impact, usize)> {
    let (recordings, rejected) = read_verified(globs, config)?;
    let counted = recordings.len();
    Ok((
        replay::replay(&recordings, rejected, resolve, examples),
        counted,
    ))
}

/// The bundles `globs` names, verified against the gateway signers of
/// `config`: those that count, and those rejected.
pub(super) fn read_verified(
    globs: &[String],
    config: &Config,
) -> anyhow::Result<(Vec<replay::Recording>, Vec<replay::Rejected>)> {
    let paths = batch::collect(globs)?;
    let mut gateway = Vec::new();
    for did in &config.settings.bundles.gateway_signers {
        gateway.push(DidKey::parse(did).with_context(|| format!("gateway signer {did}"))?);
    }
    let options = Options::for_gateway_signers(&gateway);
    if !options.gateway_signers_checked {
        eprint(
            "warning: no gateway signers configured ([bundles] gateway_signers): any valid \
             gateway receipt signer was accepted\n",
        );
    }
    Ok(replay::read_bundles(&paths, &options)?)
}
