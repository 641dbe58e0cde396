//! Argument groups several commands share, and their resolution into what
//! the library takes.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::crypto::envelope::parse_rfc3339;
use crate::crypto::keys::{SIGNING_KEY_ENV, SigningKey};
use crate::git::Repo;
use crate::release::{Freshness, Source};
use crate::report::baseline::Choice;

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

/// The repository and the release places of `place` (read from `wpc.toml`
/// at HEAD).
pub fn open(place: &Place) -> anyhow::Result<(Repo, Source)> {
    Ok(Source::open(
        &place.repo,
        place.root.as_deref(),
        place.branch.as_deref(),
    )?)
}

/// The signing key from `--key FILE`, else from `WPC_SIGNING_KEY`.
pub fn load_key(file: Option<&Path>) -> anyhow::Result<SigningKey> {
    Ok(match file {
        Some(path) => SigningKey::from_file(path)?,
        None => match std::env::var(SIGNING_KEY_ENV) {
            Ok(value) => SigningKey::from_env_value(&value)?,
            Err(_) => anyhow::bail!("no signing key: pass --key FILE or set {SIGNING_KEY_ENV}"),
        },
    })
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

/// `--now TIME` (RFC 3339), else now.
pub fn parse_now(now: Option<&str>) -> anyhow::Result<jiff::Timestamp> {
    Ok(match now {
        Some(text) => parse_rfc3339(text).with_context(|| format!("--now {text}"))?,
        None => jiff::Timestamp::now(),
    })
}
