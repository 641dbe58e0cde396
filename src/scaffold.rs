//! Policy templates and the files of a new policy repository, embedded so an
//! installed `wpc` can scaffold anywhere.

use std::path::{Path, PathBuf};

/// A policy template and its tests.
#[derive(Debug)]
pub struct Template {
    pub name: &'static str,
    pub summary: &'static str,
    policy: &'static str,
    tests: &'static str,
}

macro_rules! template {
    ($name:literal, $summary:literal) => {
        Template {
            name: $name,
            summary: $summary,
            policy: include_str!(concat!("../templates/", $name, ".toml")),
            tests: include_str!(concat!("../templates/", $name, ".test.toml")),
        }
    };
}

pub static TEMPLATES: &[Template] = &[
    template!(
        "agent-change-reviewer",
        "reviews and comments on pull requests; security findings need a human"
    ),
    template!(
        "read-only-researcher",
        "reads docs and the web; changes nothing"
    ),
    template!(
        "ci-fixer",
        "fixes CI in a writable sandbox; every write names a ticket"
    ),
    template!(
        "deployer",
        "rolls out releases, each approved by a named release manager"
    ),
    template!(
        "data-analyst",
        "read-only SQL behind an egress allowlist; no shell"
    ),
];

/// The template `wpc init` starts a repository with.
pub const INIT_TEMPLATE: &str = "agent-change-reviewer";

pub fn find(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("unknown template `{0}`; templates: {list}", list = names())]
    UnknownTemplate(String),
    #[error("`{0}` is not a policy name (lowercase letters, digits, `.`, `_`, `-`; at most 128)")]
    BadName(String),
    #[error("{} already exists{}; nothing was written", .0[0].display(), if .0.len() > 1 { format!(" (and {} more)", .0.len() - 1) } else { String::new() })]
    Exists(Vec<PathBuf>),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn names() -> String {
    TEMPLATES
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Files to write: path and contents.
pub type Files = Vec<(PathBuf, String)>;

/// A policy named `name` from `template`, and its test file, in `dir`.
pub fn policy_files(name: &str, template: &str, dir: &Path) -> Result<Files, ScaffoldError> {
    let template =
        find(template).ok_or_else(|| ScaffoldError::UnknownTemplate(template.to_owned()))?;
    if !is_policy_name(name) {
        return Err(ScaffoldError::BadName(name.to_owned()));
    }
    let policy = template.policy.replacen(
        &format!("policy_name = \"{}\"", template.name),
        &format!("policy_name = \"{name}\""),
        1,
    );
    Ok(vec![
        (dir.join(format!("{name}.toml")), policy),
        (
            dir.join(format!("{name}.test.toml")),
            template.tests.to_owned(),
        ),
    ])
}

/// Everything `wpc init` writes into `root`.
pub fn repo_files(root: &Path) -> Result<Files, ScaffoldError> {
    let mut files = vec![
        (
            root.join("wpc.toml"),
            include_str!("../templates/repo/wpc.toml").to_owned(),
        ),
        (
            root.join("README.md"),
            include_str!("../templates/repo/README.md").to_owned(),
        ),
        (
            root.join("keys/trusted-signers.toml"),
            include_str!("../templates/repo/trusted-signers.toml").to_owned(),
        ),
        (
            root.join(".github/workflows/wpc.yml"),
            pinned(include_str!("../templates/repo/wpc.yml")),
        ),
        (
            root.join(".pre-commit-config.yaml"),
            pinned(include_str!("../templates/repo/pre-commit-config.yaml")),
        ),
        (
            root.join(".gitignore"),
            include_str!("../templates/repo/gitignore").to_owned(),
        ),
    ];
    files.extend(policy_files(
        INIT_TEMPLATE,
        INIT_TEMPLATE,
        &root.join("policies"),
    )?);
    Ok(files)
}

/// `template` with `{wpc_version}` replaced by this binary's version, so a
/// new repository's Action and hooks are the wpc that made it.
fn pinned(template: &str) -> String {
    template.replace("{wpc_version}", env!("CARGO_PKG_VERSION"))
}

/// Write `files`, creating folders. Unless `force`, nothing is written when
/// any of them exists already.
pub fn write(files: &Files, force: bool) -> Result<(), ScaffoldError> {
    if !force {
        let existing: Vec<PathBuf> = files
            .iter()
            .filter(|(path, _)| path.symlink_metadata().is_ok())
            .map(|(p, _)| p.clone())
            .collect();
        if !existing.is_empty() {
            return Err(ScaffoldError::Exists(existing));
        }
    }
    for (path, text) in files {
        let io = |source| ScaffoldError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(path, text).map_err(io)?;
    }
    Ok(())
}

/// The `policy_name` pattern of the WPC schema.
fn is_policy_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    first_ok
        && name.len() <= 128
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::{Engine, suite};
    use crate::policy::Policy;

    #[test]
    fn every_template_is_valid_and_passes_its_tests() {
        let dir = tempfile::tempdir().unwrap();
        for template in TEMPLATES {
            let files =
                policy_files(&format!("my-{}", template.name), template.name, dir.path()).unwrap();
            write(&files, false).unwrap();
            let policy = Policy::load(&files[0].0).unwrap();
            assert_eq!(policy.name(), format!("my-{}", template.name));
            Engine::new(&policy.wpc).unwrap();
            let result = suite::run(&files[1].0).unwrap();
            for case in &result.cases {
                assert!(
                    case.passed(),
                    "{}: {} gave {}",
                    template.name,
                    case.name,
                    case.decision
                );
            }
        }
    }

    #[test]
    fn the_workflow_and_hooks_pin_this_version() {
        let files = repo_files(Path::new("r")).unwrap();
        let text = |name: &str| {
            files
                .iter()
                .find(|(p, _)| p.ends_with(name))
                .map(|(_, t)| t.clone())
                .unwrap()
        };
        let version = env!("CARGO_PKG_VERSION");
        let workflow = text("wpc.yml");
        assert!(workflow.contains(&format!("uses: wpc-dev/wpc@v{version}\n")));
        assert!(!workflow.contains("cargo install"), "{workflow}");
        assert!(text(".pre-commit-config.yaml").contains(&format!("rev: v{version}\n")));
        assert!(files.iter().all(|(_, t)| !t.contains("{wpc_version}")));
    }

    #[test]
    fn refuses_to_overwrite_and_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        let files = policy_files("a", "deployer", dir.path()).unwrap();
        std::fs::write(&files[1].0, "keep").unwrap();
        assert!(matches!(
            write(&files, false),
            Err(ScaffoldError::Exists(_))
        ));
        assert!(
            !files[0].0.exists(),
            "nothing is written when one file exists"
        );
        assert!(matches!(
            policy_files("Bad Name", "deployer", dir.path()),
            Err(ScaffoldError::BadName(_))
        ));
        assert!(matches!(
            policy_files("a", "nope", dir.path()),
            Err(ScaffoldError::UnknownTemplate(_))
        ));
    }
}

/// `wpc new`: the policy `name` from `template` and its test file in
/// `dir`, never overwriting; the files written.
pub fn new_policy(
    name: &str,
    template: &str,
    dir: &Path,
) -> Result<crate::report::Output, ScaffoldError> {
    let files = policy_files(name, template, dir)?;
    write(&files, false)?;
    Ok(crate::report::Output::stdout(written(&files)))
}

/// `wpc init`: a policy repository in `root` (overwriting only with
/// `force`); the files written and what to run next.
pub fn init(root: &Path, force: bool) -> Result<crate::report::Output, ScaffoldError> {
    let files = repo_files(root)?;
    write(&files, force)?;
    let mut out = written(&files);
    out.push_str("next: `wpc check` and `wpc test` in that folder\n");
    Ok(crate::report::Output::stdout(out))
}

fn written(files: &Files) -> String {
    files
        .iter()
        .map(|(path, _)| format!("wrote {}\n", path.display()))
        .collect()
}

/// Where `wpc keygen` writes without `--out`: the current folder.
const DEFAULT_KEY_FILE: &str = "wpc-signing-key.pem";

#[derive(Debug, thiserror::Error)]
pub enum KeygenError {
    #[error(
        "not writing a secret key into the Git work tree at {}, where it could be committed: pass --out FILE to say where it goes (outside the repository, or an ignored path)",
        .0.display()
    )]
    InWorkTree(PathBuf),
    #[error(transparent)]
    Key(#[from] crate::crypto::keys::KeyError),
}

/// `wpc keygen`: a new signing key written to `out` (mode 0600, never
/// overwriting), its did:key on stdout. Without `out`, the current folder,
/// unless that is inside a Git work tree, where a key is one `git add .`
/// away from being published.
pub fn keygen(out: Option<&Path>) -> Result<crate::report::Output, KeygenError> {
    let out = match out {
        Some(out) => out.to_path_buf(),
        None => {
            if let Some(tree) = crate::git::work_tree_containing(Path::new(".")) {
                return Err(KeygenError::InWorkTree(tree));
            }
            PathBuf::from(DEFAULT_KEY_FILE)
        }
    };
    let key = crate::crypto::keys::SigningKey::generate()?;
    key.write_new(&out)?;
    Ok(crate::report::Output::stdout(format!("{}\n", key.did())))
}
