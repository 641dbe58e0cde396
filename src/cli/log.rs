use super::args::{FreshnessArgs, Place};
use super::exit::Outcome;
use super::load::open;
use super::output::emit;
use crate::release::run;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this policy. Default: every policy.
    policy: Option<String>,
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    freshness: FreshnessArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (repo, source) = open(&args.place)?;
    let freshness = args.freshness.freshness();
    emit(run::log(
        &repo,
        &source,
        &freshness,
        args.policy.as_deref(),
    )?)
}
