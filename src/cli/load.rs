//! What a command's flags name, loaded: the `wpc.toml` it acts on, the
//! release branch, the signing key and the time. A config's warnings are
//! printed and the command goes on; its errors are printed and stop it
//! (exit 2), like any other configuration error.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use jiff::Timestamp;

use super::args::Place;
use super::output::eprint;
use crate::config::{Config, ConfigError, Selection};
use crate::crypto::envelope::parse_rfc3339;
use crate::crypto::keys::{SIGNING_KEY_ENV, SigningKey};
use crate::git::Repo;
use crate::release::Source;
use crate::report::{Finding, Report};

/// The config for a command that acts on it (every one but `check` and
/// `ci`).
pub fn usable_config(
    loaded: Result<(Config, Vec<Finding>), ConfigError>,
) -> anyhow::Result<Config> {
    match crate::config::usable(loaded) {
        Ok(usable) => {
            if !usable.warnings.is_empty() {
                eprint(&Report::new(usable.warnings, 1).text(false, false));
            }
            Ok(usable.config)
        }
        Err(err) => {
            if let ConfigError::Invalid { findings, .. } = &err {
                eprint(&Report::new(findings.clone(), 1).text(false, false));
            }
            Err(err.into())
        }
    }
}

/// [`usable_config`] of a [`Selection`], and the inputs it selected.
pub fn usable_selection(
    selection: Result<Selection, ConfigError>,
) -> anyhow::Result<(Config, Vec<PathBuf>)> {
    let (loaded, inputs) = match selection {
        Ok(s) => (Ok((s.config, s.findings)), s.inputs),
        Err(err) => (Err(err), Vec::new()),
    };
    Ok((usable_config(loaded)?, inputs))
}

/// The usable config of `--config FILE`, else the one above the current
/// folder, for a command that names no policy files.
pub fn current_config(file: Option<&Path>) -> anyhow::Result<Config> {
    Ok(usable_selection(Config::select(file, &[]))?.0)
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

/// The time (RFC 3339) `flag` gives, if it is given.
pub fn given_time(flag: &str, text: Option<&str>) -> anyhow::Result<Option<Timestamp>> {
    text.map(|text| parse_rfc3339(text).with_context(|| format!("{flag} {text}")))
        .transpose()
}

/// `--now TIME`, else now.
pub fn parse_now(now: Option<&str>) -> anyhow::Result<Timestamp> {
    Ok(given_time("--now", now)?.unwrap_or_else(Timestamp::now))
}
