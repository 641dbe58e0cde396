//! Argument groups several commands share, and their mapping onto what the
//! library takes. Loading what they name is `cli/load.rs`.

use std::path::PathBuf;

use crate::release::Freshness;
use crate::report::baseline::Choice;
use crate::report::{self, FailOn, Format};

#[derive(Debug, clap::Args)]
pub struct Place {
    /// The release branch. Default: `[release] branch` in `wpc.toml`, else
    /// `wpc-releases`.
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// The repository (any folder in it, or a bare repository).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,
    /// The folder holding `wpc.toml`, relative to the repository root.
    #[arg(long, value_name = "DIR")]
    pub root: Option<String>,
}

/// How fresh the release branch must be, for the commands that read it.
#[derive(Debug, clap::Args)]
pub struct FreshnessArgs {
    /// Refuse a release branch whose checkpoint is older than N
    /// (ROLLBACK_DETECTED), for a verifier that keeps its pin elsewhere.
    #[arg(long, value_name = "N")]
    pub min_checkpoint: Option<u64>,
}

impl FreshnessArgs {
    pub fn freshness(&self) -> Freshness {
        Freshness {
            min_checkpoint: self.min_checkpoint,
        }
    }
}

/// How `check` and `audit openclaw` report findings.
#[derive(Debug, clap::Args)]
pub struct FindingsArgs {
    #[arg(long, default_value_t = Format::Text, value_parser = report::FORMATS)]
    pub format: Format,
    /// The lowest severity that fails the command (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
}

/// The baseline options of `check` and `ci`.
#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// Findings listed in this baseline file (see --write-baseline) are
    /// reported as suppressed and do not fail.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
    /// Write every finding not suppressed in the source to this baseline
    /// file (replacing it), and report them as suppressed.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Also list the suppressed findings and the baseline entries no longer
    /// found (in text; JSON and SARIF always carry them).
    #[arg(short, long)]
    pub verbose: bool,
}

impl BaselineArgs {
    /// Which baseline to apply.
    pub fn choice(&self) -> Choice {
        match (&self.write_baseline, &self.baseline) {
            (Some(path), _) => Choice::Write(path.clone()),
            (None, Some(path)) => Choice::Read(path.clone()),
            (None, None) => Choice::None,
        }
    }
}

/// Where a token issuer's key comes from (`cst check`, `bundle verify --cst`).
#[derive(Debug, Default, clap::Args)]
pub struct IssuerArgs {
    /// The token service's did:key.
    #[arg(long, value_name = "DID", conflicts_with = "jwks")]
    pub issuer: Option<String>,
    /// The token service's JWKS document (Ed25519 `OKP` keys).
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
}
