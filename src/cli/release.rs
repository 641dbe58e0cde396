use std::path::PathBuf;

use super::args::{FreshnessArgs, Place};
use super::exit::Outcome;
use super::load::{load_key, open, parse_now};
use super::output::emit;
use crate::release::run;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Re-verify every envelope, index entry, revocation and checkpoint on
    /// the release branch against main, that its history only ever
    /// appended, and that it did not go back from what this repository
    /// verified before: exit 1 naming the commit and the reason code.
    Verify(VerifyArgs),
    /// Upgrade a `wpc-release-index/1` branch: re-verify all of it against
    /// main, then sign its first checkpoint.
    Migrate(MigrateArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[command(flatten)]
    place: Place,
    /// The secret key file. Default: the `WPC_SIGNING_KEY` environment variable.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Check and sign, print what would be released, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Pin `released_at` and `issued_at` (RFC 3339). Default: now.
    #[arg(long, value_name = "TIME", hide = true)]
    now: Option<String>,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    freshness: FreshnessArgs,
}

#[derive(Debug, clap::Args)]
struct MigrateArgs {
    #[command(flatten)]
    place: Place,
    /// The secret key file. Default: the `WPC_SIGNING_KEY` environment variable.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Pin the checkpoint's `issued_at` (RFC 3339). Default: now.
    #[arg(long, value_name = "TIME", hide = true)]
    now: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    emit(match args.action {
        Some(Action::Verify(verify)) => {
            let (repo, source) = open(&verify.place)?;
            run::verify(&repo, &source, &verify.freshness.freshness())?
        }
        Some(Action::Migrate(migrate)) => {
            let key = load_key(migrate.key.as_deref())?;
            let now = parse_now(migrate.now.as_deref())?;
            let (repo, source) = open(&migrate.place)?;
            run::migrate_branch(&repo, &source, &key, now)?
        }
        None => {
            let key = load_key(args.run.key.as_deref())?;
            let now = parse_now(args.run.now.as_deref())?;
            let (repo, source) = open(&args.run.place)?;
            run::release(&repo, &source, &key, now, args.run.dry_run)?
        }
    })
}
