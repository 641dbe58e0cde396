//! `wpc.toml`: discovery and loading (docs/configuration.md). Unknown keys are errors, found
//! by the config schema and located like every other finding.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::policy::document::{Document, SCHEMA};
use crate::policy::read_source;
use crate::policy::schema::{self, Schema};
use crate::report::{Finding, Severity, SourceFile};

pub const FILE_NAME: &str = "wpc.toml";

/// A loaded repository configuration. Paths are resolved against `root`.
#[derive(Clone, Debug)]
pub struct Config {
    /// The folder holding `wpc.toml` (or the folder checked, without one).
    pub root: PathBuf,
    /// The config file, when there is one.
    pub file: Option<PathBuf>,
    pub settings: Settings,
    /// The parsed file, for locating findings about settings.
    pub doc: Option<Document>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub policies: PoliciesSettings,
    #[serde(default)]
    pub lint: LintSettings,
    #[serde(default)]
    pub approvals: ApprovalSettings,
    #[serde(default)]
    pub release: ReleaseSettings,
    #[serde(default)]
    pub openclaw: Vec<OpenclawMapping>,
    #[serde(default)]
    pub bundles: BundleSettings,
    #[serde(default)]
    pub openclaw_audit: OpenclawAuditSettings,
    #[serde(default)]
    pub claw: ClawSettings,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoliciesSettings {
    pub dir: Option<String>,
}

/// A rule's level as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Info,
    Off,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSettings {
    #[serde(default)]
    pub rules: BTreeMap<String, Level>,
    pub dangerous_tools: Option<Vec<String>>,
    pub max_ttl_seconds: Option<u64>,
    #[serde(default)]
    pub require_approvers: bool,
}

/// `[approvals]`: who must approve which class of policy change (docs/diff.md).
// serde cannot deny unknown fields beside a flattened struct; the config
// schema, checked before this model is built, rejects them.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ApprovalSettings {
    #[serde(flatten)]
    pub classes: ApprovalClasses,
    /// Per-policy replacements, CODEOWNERS style: the last entry whose globs
    /// match a policy name wins, class by class.
    #[serde(default)]
    pub overrides: Vec<ApprovalOverride>,
}

/// Without an `[approvals]` table (and when `wpc.toml` cannot be read) a
/// widening, and so a critical change, needs one approval from anyone but
/// the pull request's author: a policy repository fails closed, never open.
/// A table that is there is taken as written.
impl Default for ApprovalSettings {
    fn default() -> Self {
        ApprovalSettings {
            classes: ApprovalClasses {
                widening: Some(Approvers {
                    teams: Vec::new(),
                    users: Vec::new(),
                    min: 1,
                }),
                ..ApprovalClasses::default()
            },
            overrides: Vec::new(),
        }
    }
}

/// A requirement per class of change; an unset class needs no approval
/// (see `docs/diff.md` for the fallbacks of `critical` and `new_policy`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ApprovalClasses {
    pub widening: Option<Approvers>,
    pub critical: Option<Approvers>,
    pub narrowing: Option<Approvers>,
    pub new_policy: Option<Approvers>,
    pub removed_policy: Option<Approvers>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ApprovalOverride {
    /// Globs on policy names (`deploy*`).
    pub policies: Vec<String>,
    #[serde(flatten)]
    pub classes: ApprovalClasses,
}

/// `{ teams, users, min }`: at least `min` approvals from members of the
/// teams (`org/slug`) or the users listed; anyone's when both are empty.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Approvers {
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub users: Vec<String>,
    pub min: u32,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSettings {
    pub branch: Option<String>,
    pub signer: Option<String>,
    /// The branch releases come from and are anchored in.
    pub main: Option<String>,
    /// The Claw protocol WPC versions each policy is exported to.
    #[serde(default)]
    pub claw: Vec<crate::claw::ClawVersion>,
}

/// `[claw]`: settings of the Claw protocol export (docs/claw.md).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClawSettings {
    /// `issuer_did` of the exported payloads, for policies without their own.
    pub issuer_did: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenclawMapping {
    pub config: String,
    pub policy: String,
    pub agent: Option<String>,
}

/// `[openclaw_audit]`: levels of the `OC`/`OCW` rules and the WPC → OpenClaw
/// tool name mapping (docs/openclaw.md).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenclawAuditSettings {
    #[serde(default)]
    pub rules: BTreeMap<String, Level>,
    #[serde(default)]
    pub tool_map: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSettings {
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub gateway_signers: Vec<String>,
    /// Proof bundles whose recorded calls `wpc pr` replays under the base
    /// and head policies ("Impact on recorded runs").
    #[serde(default)]
    pub replay: Option<String>,
}

/// Why no configuration could be had at all (as opposed to a config file with
/// findings, which still loads with defaults).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: no such file or directory")]
    Missing { path: PathBuf },
    #[error(transparent)]
    Unreadable(#[from] crate::fsio::ReadError),
    #[error("cannot read the current folder")]
    CurrentDir(#[source] std::io::Error),
    #[error("cannot resolve {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file loaded, but with errors: a command other than `wpc check`
    /// must not go on with defaults in their place.
    #[error("{path} has {} (`wpc check` reports them too)", plural_errors(.findings))]
    Invalid {
        path: PathBuf,
        findings: Vec<Finding>,
    },
}

fn plural_errors(findings: &[Finding]) -> String {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    if errors == 1 {
        "1 error".to_owned()
    } else {
        format!("{errors} errors")
    }
}

/// A configuration a command can act on, and the warnings loading it gave
/// (for the command to show before it goes on).
#[derive(Debug)]
pub struct Usable {
    pub config: Config,
    pub warnings: Vec<Finding>,
}

/// What every command that reads `wpc.toml`, other than `wpc check` and
/// `wpc ci` (which report the findings as their own), makes of loading it:
/// any error stops the command ([`ConfigError::Invalid`], carrying every
/// finding), warnings are handed back to be shown. No command acts on a
/// half-read config, whose defaults could be weaker than what was written.
pub fn usable(loaded: Result<(Config, Vec<Finding>), ConfigError>) -> Result<Usable, ConfigError> {
    let (config, findings) = loaded?;
    if findings.iter().any(|f| f.severity == Severity::Error) {
        return Err(ConfigError::Invalid {
            path: config
                .file
                .clone()
                .unwrap_or_else(|| config.root.join(FILE_NAME)),
            findings,
        });
    }
    Ok(Usable {
        config,
        warnings: findings,
    })
}

/// The config a command runs under and what it was given to act on: see
/// [`Config::select`].
#[derive(Debug)]
pub struct Selection {
    pub config: Config,
    /// What loading `wpc.toml` found (empty without one).
    pub findings: Vec<Finding>,
    /// The files and folders named on the command line; empty for a whole
    /// repository.
    pub inputs: Vec<PathBuf>,
}

impl Config {
    /// What the export to the Claw protocol's payloads is set to: `[release]
    /// claw` (the versions every release carries) and `[claw] issuer_did`.
    pub fn claw_export(&self) -> crate::claw::ExportSettings {
        crate::claw::ExportSettings {
            versions: self.settings.release.claw.clone(),
            issuer_did: self.settings.claw.issuer_did.clone(),
        }
    }

    /// The one loader of `wpc.toml` for a command: `config_file` when
    /// given; else a single folder holding `wpc.toml` is a repository (its
    /// config, its policies folder); else the config found above the first
    /// of `paths` (or the current folder), and `paths` are what to act on.
    pub fn select(config_file: Option<&Path>, paths: &[PathBuf]) -> Result<Selection, ConfigError> {
        let selection =
            |(config, findings): (Config, Vec<Finding>), inputs: Vec<PathBuf>| Selection {
                config,
                findings,
                inputs,
            };
        if let Some(file) = config_file {
            return Ok(selection(Config::load(file)?, paths.to_vec()));
        }
        match paths {
            [] => {
                let cwd = std::env::current_dir().map_err(ConfigError::CurrentDir)?;
                Ok(selection(Config::discover(&cwd)?, Vec::new()))
            }
            [single] if single.join(FILE_NAME).is_file() => Ok(selection(
                Config::load(&single.join(FILE_NAME))?,
                Vec::new(),
            )),
            [first, ..] => Ok(selection(Config::discover(first)?, paths.to_vec())),
        }
    }

    /// Walk up from `start` to the first folder holding `wpc.toml`. Without
    /// one, `start` (or its folder, for a file) is the root and defaults apply.
    pub fn discover(start: &Path) -> Result<(Config, Vec<Finding>), ConfigError> {
        let shown = absolute(start)?;
        let start = std::path::absolute(start).map_err(|source| ConfigError::Io {
            path: start.to_path_buf(),
            source,
        })?;
        let first_dir = if start.is_dir() {
            start.as_path()
        } else {
            start.parent().unwrap_or(&start)
        };
        for dir in first_dir.ancestors() {
            let candidate = dir.join(FILE_NAME);
            // Anything there, even a FIFO, is the config (and refused when
            // it is not a file), rather than one further up being used.
            if candidate.exists() {
                return Config::load(&absolute(&candidate)?);
            }
        }
        let root = if shown.is_dir() {
            shown.clone()
        } else {
            shown.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        Ok((Config::defaults(root), Vec::new()))
    }

    /// Configuration with every default, rooted at `root`.
    pub fn defaults(root: PathBuf) -> Config {
        Config {
            root,
            file: None,
            settings: Settings::default(),
            doc: None,
        }
    }

    /// Load a specific `wpc.toml`. Findings in it are returned beside a config
    /// with defaults for whatever could not be read, so `wpc check` can report
    /// them and go on.
    pub fn load(path: &Path) -> Result<(Config, Vec<Finding>), ConfigError> {
        // A FIFO or device named wpc.toml is an error, not a finding: it is
        // never opened for a blocking read.
        if let Err(err) = crate::fsio::open_regular(path) {
            return Err(if err.is_not_found() {
                ConfigError::Missing {
                    path: path.to_path_buf(),
                }
            } else {
                ConfigError::Unreadable(err)
            });
        }
        let root = absolute(path)?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let source = match read_source(path) {
            Ok(source) => source,
            Err(finding) => {
                let mut config = Config::defaults(root);
                config.file = Some(path.to_path_buf());
                return Ok((config, vec![finding]));
            }
        };
        Ok(Config::from_source(root, source))
    }

    /// A `wpc.toml` read from elsewhere than the disk (a Git revision),
    /// rooted at `root`, with findings as [`Config::load`] gives them.
    pub fn from_source(root: PathBuf, source: SourceFile) -> (Config, Vec<Finding>) {
        let mut config = Config::defaults(root);
        config.file = Some(source.path().to_path_buf());
        let doc = match Document::parse(source) {
            Ok(doc) => doc,
            Err(findings) => return (config, findings),
        };
        let mut findings = schema::check(Schema::Config, &doc);
        if findings.is_empty() {
            match serde_json::from_value::<Settings>(doc.value.clone()) {
                Ok(settings) => config.settings = settings,
                Err(err) => findings.push(doc.finding_at(
                    "",
                    SCHEMA,
                    Severity::Error,
                    format!("internal config model error: {err}"),
                )),
            }
        }
        config.doc = Some(doc);
        (config, findings)
    }

    /// The policies folder.
    pub fn policies_dir(&self) -> PathBuf {
        self.root
            .join(self.settings.policies.dir.as_deref().unwrap_or("policies"))
    }

    /// A finding located at a setting of `wpc.toml` (or on the file as a
    /// whole when there is no parsed file).
    pub fn finding_at(
        &self,
        pointer: &str,
        code: &'static str,
        severity: Severity,
        message: impl Into<String>,
    ) -> Finding {
        match &self.doc {
            Some(doc) => doc.finding_at(pointer, code, severity, message),
            None => {
                let finding = Finding::new(code, severity, message);
                match &self.file {
                    Some(file) => finding.in_file(file),
                    None => finding,
                }
            }
        }
    }
}

/// `path` made absolute for walking up, then shown relative to the current
/// folder when it lies below it, so findings name files as the user does.
fn absolute(path: &Path) -> Result<PathBuf, ConfigError> {
    if !path.exists() {
        return Err(ConfigError::Missing {
            path: path.to_path_buf(),
        });
    }
    let io = |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    };
    let absolute = std::path::absolute(path).map_err(io)?;
    let cwd = std::env::current_dir().map_err(io)?;
    Ok(match absolute.strip_prefix(&cwd) {
        Ok(relative) if relative.as_os_str().is_empty() => PathBuf::from("."),
        Ok(relative) => relative.to_path_buf(),
        Err(_) => absolute,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_walks_up_to_wpc_toml() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "[policies]\ndir = \"p\"\n").unwrap();
        let nested = dir.path().join("p/deeper");
        std::fs::create_dir_all(&nested).unwrap();
        let (config, findings) = Config::discover(&nested).unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(
            std::path::absolute(config.policies_dir()).unwrap(),
            std::path::absolute(dir.path()).unwrap().join("p")
        );
    }

    #[test]
    fn unknown_keys_are_located_findings() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, "[lint]\nmax_tll_seconds = 5\n").unwrap();
        let (_, findings) = Config::load(&file).unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].location.as_ref().unwrap().line, 2);
    }

    #[test]
    fn an_error_makes_the_config_unusable_and_carries_the_findings() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, "[lint]\nmax_tll_seconds = 5\n").unwrap();
        match usable(Config::load(&file)) {
            Err(ConfigError::Invalid { path, findings }) => {
                assert_eq!(path, file);
                assert_eq!(findings.len(), 1);
            }
            other => panic!("not invalid: {other:?}"),
        }
        std::fs::write(&file, "[lint]\nmax_ttl_seconds = 5\n").unwrap();
        let loaded = usable(Config::load(&file)).unwrap();
        assert!(loaded.warnings.is_empty());
        assert_eq!(loaded.config.settings.lint.max_ttl_seconds, Some(5));
    }

    #[test]
    fn missing_start_is_an_error() {
        assert!(matches!(
            Config::discover(Path::new("/definitely/not/here")),
            Err(ConfigError::Missing { .. })
        ));
    }
}
